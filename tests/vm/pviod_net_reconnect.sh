#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: the stock virtio_net driver survives pviod being killed mid
# traffic (QEMU's vhost-user netdev with reconnect=1; issue 14).  pviod's
# net device (backend=tap:pvtap0) runs in a network namespace made for the
# test (host 10.98.1.1/24, guest 10.98.1.2).  Once the guest answers, the
# host floods it with pings and NET_KILLS times (default 4) SIGKILLs pviod
# at a random moment, starts a new one (which makes a new tap, configured
# again) and waits until the guest answers again: QEMU reconnects, restarts
# the rings and the guest's traffic resumes.  Then it serves /go; the
# guest downloads 4 MiB over TCP and uploads 4 MiB, md5 checked at both
# ends, and pviod must exit 0 on SIGTERM.
#
# On QEMU 7.2 the harness gives the NIC INTx (vectors=0: 7.2's MSI-X crash
# with vhost-user net, scripts/vm/run.sh); QEMU 10 runs it with MSI-X.
#
# timeout=300
set -euo pipefail

# shellcheck source=../lib/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/lib.sh"
pvt_init pviod_net_reconnect
# shellcheck source=../../scripts/vm/lib.sh
. "$PVT_TOP/scripts/vm/lib.sh"
# shellcheck source=../lib/netns.sh
. "$PVT_TOP/tests/lib/netns.sh"

if ! why=$(vm_can_run); then
	echo "1..0 # SKIP $why"
	exit 4
fi
netns_need ip ping python3

kills=${NET_KILLS:-4}
ns=pvio-netrc-$$
size=$((4 << 20))
sock=$PVT_TMP/net.sock
pviod=$(pvt_bin pviod)
netns_add "$ns"
pvt_at_exit "ip netns del $ns"

mkdir -p "$PVT_TMP/www"
head -c "$size" /dev/urandom >"$PVT_TMP/www/tx.bin"
tx_md5=$(md5sum <"$PVT_TMP/www/tx.bin" | cut -d' ' -f1)

# pviod_up: a pviod in the namespace, its tap up and addressed.
pviod_pid=
pviod_up()
{
	local i
	# The killed pviod's tap goes once io_uring lets go of its fd (async).
	for ((i = 0; i < 100; i++)); do
		ip -n "$ns" link show pvtap0 >/dev/null 2>&1 || break
		sleep 0.1
	done
	rm -f "$sock"
	ip netns exec "$ns" "$pviod" --device "net,socket=$sock,backend=tap:pvtap0" \
		>>"$PVT_TMP/pviod.log" 2>&1 &
	pviod_pid=$!
	pvt_wait_sockets 10 "$pviod_pid" "$sock" || return 1
	ip -n "$ns" link set pvtap0 up && ip -n "$ns" addr replace 10.98.1.1/24 dev pvtap0
}
# shellcheck disable=SC2016 # the pid at exit, not now
pvt_at_exit 'kill -KILL $pviod_pid'

# answers SECS: the guest answers a ping within SECS seconds.
answers()
{
	local end=$((SECONDS + $1))
	until ip netns exec "$ns" ping -c 1 -W 1 10.98.1.2 >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$end" ] || return 1
	done
}

pviod_up || { tap_fail "pviod started in netns $ns"; tap_end; }

# The host's TCP ends, on every address of the namespace: each new pviod
# makes a new tap, and a socket bound to 10.98.1.1 would lose its address.
ip netns exec "$ns" timeout 280 python3 -m http.server 5001 \
	--directory "$PVT_TMP/www" >"$PVT_TMP/http.log" 2>&1 &
pvt_at_exit "kill $!"
ip netns exec "$ns" timeout 280 python3 "$PVT_TOP/tests/lib/tcp_sink.py" \
	0.0.0.0 5000 270 "$PVT_TMP/rx.bin" "$size" >"$PVT_TMP/sink.log" 2>&1 &
sink_pid=$!
pvt_at_exit "kill $sink_pid"

"$PVT_TOP/scripts/vm/mkinitramfs.sh" -o "$PVT_TMP/initrd" \
	-a "$PVT_TOP/tests/vm/guest/tap.sh:/lib/pvio/tap.sh" -m virtio_pci -m virtio_net \
	-t "$PVT_TOP/tests/vm/guest/pviod_net.sh"

"$PVT_TOP/scripts/vm/run.sh" -i "$PVT_TMP/initrd" --timeout 270 --tap "$PVT_TMP/tap" \
	--net-vhost-user "$sock,mac=52:54:00:98:01:02" \
	--append "PVIO_NET_IP=10.98.1.2 PVIO_NET_PEER=10.98.1.1 PVIO_NET_HOLD=200" \
	--append "PVIO_NET_TCP=1 PVIO_NET_SIZE=$size PVIO_NET_RX_MD5=$tx_md5" \
	>"$PVT_TMP/run.log" 2>&1 &
vm_pid=$!
pvt_at_exit "kill $vm_pid"

tap_check "the guest answers pings through pviod" answers 120
for ((k = 1; k <= kills; k++)); do
	ip netns exec "$ns" ping -q -i 0.01 -w 30 10.98.1.2 >/dev/null 2>&1 &
	flood=$!
	sleep "0.$((RANDOM % 9 + 1))"
	kill -KILL "$pviod_pid"
	wait "$pviod_pid" 2>/dev/null || true
	t0=$SECONDS
	if pviod_up && answers 60; then
		tap_ok "SIGKILL $k of $kills mid-traffic: a new pviod serves, the guest answers ($((SECONDS - t0)) s)"
	else
		tap_fail "SIGKILL $k of $kills mid-traffic: the guest answers again"
	fi
	kill "$flood" 2>/dev/null || true
	wait "$flood" 2>/dev/null || true
done
: >"$PVT_TMP/www/go"

rc=0
wait "$vm_pid" || rc=$?
tap_merge "$PVT_TMP/tap" "guest: "
tap_check "guest ran to the end, kernel log clean (run.sh exit $rc)" [ "$rc" = 0 ]
[ "$rc" = 0 ] || sed 's/^/# run: /' "$PVT_TMP/run.log" | tail -20
kill "$sink_pid" 2>/dev/null || true
wait "$sink_pid" 2>/dev/null || true
guest_md5=$(sed -n 's/^# guest-tx-md5 //p' "$PVT_TMP/tap" | head -1)
host_md5=$(md5sum <"$PVT_TMP/rx.bin" 2>/dev/null | cut -d' ' -f1)
tap_check "host: the $size bytes the guest sent after the kills arrived intact" \
	[ -n "$guest_md5" ] && [ "$guest_md5" = "$host_md5" ]

prc=0
kill -TERM "$pviod_pid"
wait "$pviod_pid" || prc=$?
tap_check "host: the last pviod exited 0 on SIGTERM (exit $prc)" [ "$prc" = 0 ]
grep -E 'error|warn' "$PVT_TMP/pviod.log" | sed 's/^/# pviod: /' || true
tap_end
