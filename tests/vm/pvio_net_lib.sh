# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Shared by the tests/vm/pvio_net_*.sh VM tests (source it after lib.sh
# and vmt_init):
#
#   pvn_need             SKIP (exit 4) without ip, python3 or root
#   pvn_need_pviod       SKIP (exit 4) without a built pviod
#   pvn_netns_up QUEUES  a network namespace with a multi-queue TAP device
#                        $PVN_TAP, 10.98.0.1/24, mtu 9000; removed on exit
#   pvn_in_ns CMD...     run CMD in the namespace
#   pvn_peer_start       the host peer (pvio_net_peer.py) on 10.98.0.1:8000
#                        serving a random 4 MiB text blob ($PVN_SHA its sha256);
#                        its log is $VMT_TMP/peer.log.  It also answers ARP
#                        and ping as 10.98.5.1 on VLAN 5 of the TAP (a raw
#                        socket: the host kernel needs no 8021q)
#   pvn_pviod_start SOCK ARGS...  pviod ARGS in the namespace (a net
#                        device on SOCK; log $VMT_TMP/pviod.log), and a test
#                        point that it listens on SOCK; killed on exit
#   pvn_pviod_stop [RC]  SIGTERM, a test point that pviod exited 0, and
#                        its log's tail when not or when RC (the guest's) != 0
#   pvn_in_order         with PVG_IN_ORDER=on: the device option of an
#                        in-order variant (PVN_IN_ORDER_DEV, ",in_order=on"),
#                        the guest's PVG_IN_ORDER=1 (PVN_IN_ORDER_ENV) and,
#                        on a QEMU whose own virtio-net stalls in order with
#                        mergeable receive buffers, PVN_IN_ORDER_MRG=off (its
#                        mrg_rxbuf; empty when any will do); SKIP (exit 4)
#                        on a QEMU without the property (before 9.1)
#   pvn_initrd MODE      $VMT_TMP/initrd: pvio modules (not loaded), stock
#                        virtio_pci/virtio_net/8021q (with garp, mrp, stp,
#                        llc)/macvlan (not loaded), ethtool and
#                        iproute2's ip (/usr/local/bin, for ip maddr) when
#                        installed, the blob and guest/pvio_net.sh as /test

PVN_NS=
PVN_TAP=pvtap0
PVN_SHA=
PVN_PEER_PID=
PVN_PVIOD_PID=
PVN_IN_ORDER_DEV=
PVN_IN_ORDER_ENV=PVG_IN_ORDER=0
PVN_IN_ORDER_MRG=

pvn_need()
{
	local t
	for t in ip python3; do
		command -v "$t" >/dev/null || {
			echo "1..0 # SKIP $t not installed"
			exit 4
		}
	done
	[ "$(id -u)" = 0 ] || {
		echo "1..0 # SKIP network namespaces need root"
		exit 4
	}
}

pvn_need_pviod()
{
	vm_pviod >/dev/null || {
		echo "1..0 # SKIP pviod not built (make)"
		exit 4
	}
}

pvn_in_order()
{
	local v
	[ "${PVG_IN_ORDER:-off}" = on ] || return 0
	vm_qemu_at_least 9.1 || {
		echo "1..0 # SKIP QEMU $(vm_qemu_version) has no in_order property (9.1 or newer)"
		exit 4
	}
	# shellcheck disable=SC2034 # read by the tests that source this file
	PVN_IN_ORDER_DEV=,in_order=on
	# shellcheck disable=SC2034
	PVN_IN_ORDER_ENV=PVG_IN_ORDER=1
	# QEMU 9.1 to 10.0.3 lose an element when a frame's receive buffers
	# cross the end of the ring: virtqueue_ordered_fill() reads
	# used_elems[num] and gives up, the ring's in-order flush waits for
	# that element forever and the queue stalls (QEMU commit 6fcf5ebafad6,
	# in 10.0.4 and 10.1).  Only mergeable buffers make a frame span
	# several; pviod's device (vhost-user) is not concerned.
	v=$(qemu-system-x86_64 --version | sed -n '1s/^QEMU emulator version \([0-9.]*\).*/\1/p')
	if [ "$(printf '%s\n10.0.4\n' "$v" | sort -V | head -n 1)" != 10.0.4 ]; then
		echo "# QEMU $v: its own virtio-net in order gets mrg_rxbuf=off (it stalls with mergeable buffers)"
		# shellcheck disable=SC2034
		PVN_IN_ORDER_MRG=off
	fi
}

pvn_cleanup()
{
	if [ -n "$PVN_PVIOD_PID" ]; then
		kill "$PVN_PVIOD_PID" 2>/dev/null || true
		wait "$PVN_PVIOD_PID" 2>/dev/null || true
	fi
	if [ -n "$PVN_PEER_PID" ]; then
		kill "$PVN_PEER_PID" 2>/dev/null || true
		wait "$PVN_PEER_PID" 2>/dev/null || true
	fi
	[ -z "$PVN_NS" ] || ip netns del "$PVN_NS" 2>/dev/null || true
	vmt_cleanup
}

pvn_in_ns()
{
	ip netns exec "$PVN_NS" "$@"
}

pvn_netns_up()
{
	local queues=$1 mq=
	PVN_NS=pvnet$$
	trap pvn_cleanup EXIT
	[ "$queues" -gt 1 ] && mq=multi_queue
	ip netns add "$PVN_NS"
	pvn_in_ns ip link set lo up
	# shellcheck disable=SC2086 # $mq is one word or none
	pvn_in_ns ip tuntap add dev "$PVN_TAP" mode tap $mq
	pvn_in_ns ip link set "$PVN_TAP" mtu 9000
	pvn_in_ns ip addr add 10.98.0.1/24 dev "$PVN_TAP"
	pvn_in_ns ip link set "$PVN_TAP" up
}

pvn_peer_start()
{
	# Text: busybox wget --post-file sends a file only up to its first NUL.
	head -c $((2 << 20)) /dev/urandom | od -An -v -tx1 | tr -d ' \n' >"$VMT_TMP/blob"
	# shellcheck disable=SC2034 # read by the tests that source this file
	PVN_SHA=$(sha256sum "$VMT_TMP/blob" | cut -d' ' -f1)
	# The TAP has no carrier until QEMU opens it: bind to the address anyway.
	pvn_in_ns sysctl -q -w net.ipv4.ip_nonlocal_bind=1
	# Not through pvn_in_ns: $! must be the peer itself, for the EXIT trap.
	ip netns exec "$PVN_NS" python3 "$VMT_DIR/pvio_net_peer.py" --blob "$VMT_TMP/blob" \
		--dev "$PVN_TAP" --vlan 5 \
		</dev/null >/dev/null 2>"$VMT_TMP/peer.log" &
	PVN_PEER_PID=$!
}

pvn_pviod_start()
{
	local sock=$1 pviod
	shift
	pviod=$(vm_pviod) || vm_die "pviod not built (make)"
	# Not through pvn_in_ns: $! must be pviod itself, for pvn_cleanup.
	ip netns exec "$PVN_NS" "$pviod" "$@" </dev/null >"$VMT_TMP/pviod.log" 2>&1 &
	PVN_PVIOD_PID=$!
	vm_wait_socket "$sock" 10 "$PVN_PVIOD_PID" || true
	tap_check "pviod listens on $sock" [ -S "$sock" ]
}

pvn_pviod_stop()
{
	local prc=0
	kill "$PVN_PVIOD_PID" 2>/dev/null || true
	wait "$PVN_PVIOD_PID" || prc=$?
	PVN_PVIOD_PID=
	tap_check "pviod exits cleanly on SIGTERM (exit $prc)" [ "$prc" = 0 ]
	if [ "${1:-0}" != 0 ] || [ "$prc" != 0 ]; then
		sed 's/^/# pviod: /' "$VMT_TMP/pviod.log" | tail -n 20
	fi
}

pvn_initrd()
{
	local bins=() ip
	if command -v ethtool >/dev/null; then
		bins=(--bin "$(command -v ethtool)")
	fi
	# iproute2 (busybox ip has no maddr); busybox's own ip stays first in PATH.
	ip=$(command -v ip || true)
	if [ -n "$ip" ] && ! readlink -f "$ip" | grep -q busybox; then
		bins+=(--bin "$ip")
	fi
	vmt_initramfs -o "$VMT_TMP/initrd" "${bins[@]}" \
		-M virtio_pci -M virtio_net -M 8021q -M macvlan --ko-noload "$PVG_CORE_KO" \
		--ko-noload "$PVG_NET_KO" -a "$VMT_TMP/blob:/blob" \
		-t "$VMT_GUEST/pvio_net.sh"
}
