#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: two guests (two QEMU processes, stock virtio_net) on one pviod
# with two net devices joined by backend=switch:sw0, each on its own socket.
# Each guest pings the other (ARP broadcast is flooded, the replies are
# switched by the learned addresses; no kernel bridge or tap in the path),
# then stays up long enough to answer the other's pings.
#
# On QEMU 7.2 the harness gives the NICs INTx (scripts/vm/run.sh's
# --net-vhost-user: 7.2 crashes with MSI-X on vhost-user net).
#
# timeout=300
set -euo pipefail

# shellcheck source=../lib/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/lib.sh"
pvt_init pviod_net_switch
# shellcheck source=../../scripts/vm/lib.sh
. "$PVT_TOP/scripts/vm/lib.sh"

if ! why=$(vm_can_run); then
	echo "1..0 # SKIP $why"
	exit 4
fi
pvt_pviod_start "$PVT_TMP/pviod.log" \
	--device "net,socket=$PVT_TMP/a.sock,backend=switch:sw0" \
	--device "net,socket=$PVT_TMP/b.sock,backend=switch:sw0" --workers 2 ||
	{ tap_fail "pviod started"; tap_end; }
tap_ok "pviod started: two ports on switch sw0"

"$PVT_TOP/scripts/vm/mkinitramfs.sh" -o "$PVT_TMP/initrd" \
	-a "$PVT_TOP/tests/vm/guest/tap.sh:/lib/pvio/tap.sh" -m virtio_pci -m virtio_net \
	-t "$PVT_TOP/tests/vm/guest/pviod_net.sh"

rc_a=0
rc_b=0
"$PVT_TOP/scripts/vm/run.sh" -i "$PVT_TMP/initrd" --timeout 200 --smp 1 --tap "$PVT_TMP/tap.a" \
	--net-vhost-user "$PVT_TMP/a.sock,mac=52:54:00:99:01:01" \
	--append "PVIO_NET_IP=10.99.1.1 PVIO_NET_PEER=10.99.1.2 PVIO_NET_WAIT=15" \
	>/dev/null 2>"$PVT_TMP/run.a" &
pid_a=$!
pvt_at_exit "kill $pid_a"
"$PVT_TOP/scripts/vm/run.sh" -i "$PVT_TMP/initrd" --timeout 200 --smp 1 --tap "$PVT_TMP/tap.b" \
	--net-vhost-user "$PVT_TMP/b.sock,mac=52:54:00:99:01:02" \
	--append "PVIO_NET_IP=10.99.1.2 PVIO_NET_PEER=10.99.1.1 PVIO_NET_WAIT=15" \
	>/dev/null 2>"$PVT_TMP/run.b" || rc_b=$?
wait "$pid_a" || rc_a=$?

tap_merge "$PVT_TMP/tap.a" "guest A: "
tap_merge "$PVT_TMP/tap.b" "guest B: "
for g in a b; do
	grep -E 'vm-run: (exit|QEMU|TIMEOUT)' "$PVT_TMP/run.$g" | sed "s/^/# $g: /" || true
done
tap_check "guest A ran to the end, kernel log clean (run.sh exit $rc_a)" [ "$rc_a" = 0 ]
tap_check "guest B ran to the end, kernel log clean (run.sh exit $rc_b)" [ "$rc_b" = 0 ]

prc=0
pvt_pviod_stop || prc=$?
grep -E 'pair|error|warn|switch' "$PVT_TMP/pviod.log" | sed 's/^/# pviod: /' || true
tap_check "host: pviod exited 0 on SIGTERM (exit $prc)" [ "$prc" = 0 ]
tap_check "host: pviod logged no error" bash -c "! grep -q 'error:' '$PVT_TMP/pviod.log'"
tap_end
