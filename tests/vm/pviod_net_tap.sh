#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: the stock virtio_net driver (QEMU -netdev vhost-user +
# virtio-net-pci) on pviod's net device with backend=tap:pvtap0.  pviod runs
# inside a network namespace made for the test, so it creates the tap there
# (host side 10.99.0.1/24, guest 10.99.0.2, MTU 9000 on both).  The guest
# pings, pings with 8972-byte payloads (9000-byte packets: MRG_RXBUF and
# jumbo frames both ways), downloads 4 MiB of random data from the host (TCP,
# tap TSO/checksum offloads into the guest) and uploads 4 MiB (guest TSO out
# through writev to the tap); md5 is compared at both ends.  The namespace,
# tap, servers and pviod are removed on exit.
#
# On QEMU 7.2 the harness gives the NIC INTx (vectors=0): 7.2 segfaults in
# msix_set_vector_notifiers when a vhost-user virtio-net-pci starts with
# MSI-X (with DPDK's vhost PMD as the back-end too); QEMU 10 runs it with
# MSI-X (scripts/vm/run.sh's --net-vhost-user).
#
# PVG_PACKED=on (pviod_net_tap_packed.sh): the device with packed=on; the
# guest also checks RING_PACKED (bit 34) was negotiated.
#
# timeout=300
set -euo pipefail

# shellcheck source=../lib/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/lib.sh"
if [ "${PVG_PACKED:-off}" = on ]; then pvt_init pviod_net_tap_packed; else pvt_init pviod_net_tap; fi
nopt=
packed_env=PVIO_NET_PACKED=0
if [ "${PVG_PACKED:-off}" = on ]; then
	nopt=,packed=on
	packed_env=PVIO_NET_PACKED=1
fi
# shellcheck source=../../scripts/vm/lib.sh
. "$PVT_TOP/scripts/vm/lib.sh"
# shellcheck source=../lib/netns.sh
. "$PVT_TOP/tests/lib/netns.sh"

if ! why=$(vm_can_run); then
	echo "1..0 # SKIP $why"
	exit 4
fi
netns_need ip python3

ns=pvio-net-$$
size=$((4 << 20))
sock=$PVT_TMP/net.sock
netns_add "$ns"
pvt_at_exit "ip netns del $ns"

mkdir -p "$PVT_TMP/www"
head -c "$size" /dev/urandom >"$PVT_TMP/www/tx.bin"
tx_md5=$(md5sum <"$PVT_TMP/www/tx.bin" | cut -d' ' -f1)

pvt_pviod_start "$PVT_TMP/pviod.log" ip netns exec "$ns" "$(pvt_bin pviod)" \
	--device "net,socket=$sock,backend=tap:pvtap0,mtu=9000" ||
	{ tap_fail "pviod started in netns $ns"; tap_end; }
# The redirect must be inside the checked command, not on tap_check (which
# would swallow the "ok" line with it).
# shellcheck disable=SC2016 # $1 is expanded by the inner sh, not here
tap_check "pviod created pvtap0 in netns $ns" sh -c 'ip -n "$1" link show pvtap0 >/dev/null' _ "$ns"
ip -n "$ns" link set pvtap0 mtu 9000 up
ip -n "$ns" addr add 10.99.0.1/24 dev pvtap0

# The host's TCP ends, in the namespace, bounded in time.
ip netns exec "$ns" timeout 240 python3 -m http.server 5001 --bind 10.99.0.1 \
	--directory "$PVT_TMP/www" >"$PVT_TMP/http.log" 2>&1 &
pvt_at_exit "kill $!"
ip netns exec "$ns" timeout 240 python3 "$PVT_TOP/tests/lib/tcp_sink.py" \
	10.99.0.1 5000 230 "$PVT_TMP/rx.bin" "$size" >"$PVT_TMP/sink.log" 2>&1 &
sink_pid=$!
pvt_at_exit "kill $sink_pid"

"$PVT_TOP/scripts/vm/mkinitramfs.sh" -o "$PVT_TMP/initrd" \
	-a "$PVT_TOP/tests/vm/guest/tap.sh:/lib/pvio/tap.sh" -m virtio_pci -m virtio_net \
	-t "$PVT_TOP/tests/vm/guest/pviod_net.sh"

rc=0
"$PVT_TOP/scripts/vm/run.sh" -i "$PVT_TMP/initrd" --timeout 240 --tap "$PVT_TMP/tap" \
	--net-vhost-user "$sock,mac=52:54:00:99:00:02,host_mtu=9000$nopt" \
	--append "PVIO_NET_IP=10.99.0.2 PVIO_NET_PEER=10.99.0.1 PVIO_NET_MTU=9000 $packed_env" \
	--append "PVIO_NET_TCP=1 PVIO_NET_SIZE=$size PVIO_NET_RX_MD5=$tx_md5" >/dev/null || rc=$?

tap_merge "$PVT_TMP/tap" "guest: "
tap_check "guest ran to the end, kernel log clean (run.sh exit $rc)" [ "$rc" = 0 ]
kill "$sink_pid" 2>/dev/null || true
wait "$sink_pid" 2>/dev/null || true
guest_md5=$(sed -n 's/^# guest-tx-md5 //p' "$PVT_TMP/tap" | head -1)
host_md5=$(md5sum <"$PVT_TMP/rx.bin" 2>/dev/null | cut -d' ' -f1)
echo "# upload: guest md5 ${guest_md5:-none}, host md5 ${host_md5:-none} ($(cat "$PVT_TMP/sink.log" 2>/dev/null))"
tap_check "host: the $size bytes the guest sent arrived intact (md5 at both ends)" \
	[ -n "$guest_md5" ] && [ "$guest_md5" = "$host_md5" ]
ip -n "$ns" -s link show pvtap0 | sed 's/^/# /'

prc=0
pvt_pviod_stop || prc=$?
grep -E 'pair|error|warn' "$PVT_TMP/pviod.log" | sed 's/^/# pviod: /' || true
tap_check "host: pviod exited 0 on SIGTERM (exit $prc)" [ "$prc" = 0 ]
tap_check "host: pviod logged no error and no bad header" \
	bash -c "! grep -qE 'error:|bad header \\(' '$PVT_TMP/pviod.log'"
tap_end
