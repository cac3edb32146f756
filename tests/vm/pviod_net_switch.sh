#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: two guests (two QEMU processes, stock virtio_net) on one pviod
# with two net devices joined by backend=switch:sw0, each on its own socket.
# Each guest pings the other (ARP broadcast is flooded, the replies are
# switched by the learned addresses; no kernel bridge or tap in the path),
# then stays up long enough to answer the other's pings.
#
# vectors=0: see pviod_net_tap.sh (QEMU 7.2 with MSI-X on vhost-user net).
#
# timeout=300
set -euo pipefail

# shellcheck source=../backend/net_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../backend/net_lib.sh"
net_init pviod_net_switch
# shellcheck source=../../scripts/vm/lib.sh
. "$NET_TOP/scripts/vm/lib.sh"

if ! why=$(vm_can_run); then
	echo "1..0 # SKIP $why"
	exit 4
fi
net_pviod_start "$NET_TMP/pviod.log" \
	--device "net,socket=$NET_TMP/a.sock,backend=switch:sw0" \
	--device "net,socket=$NET_TMP/b.sock,backend=switch:sw0" --workers 2 ||
	{ tap_fail "pviod started"; tap_end; }
tap_ok "pviod started: two ports on switch sw0"

"$NET_TOP/scripts/vm/mkinitramfs.sh" -o "$NET_TMP/initrd" -m virtio_pci -m virtio_net \
	-t "$NET_TOP/tests/vm/guest/pviod_net.sh"

rc_a=0
rc_b=0
"$NET_TOP/scripts/vm/run.sh" -i "$NET_TMP/initrd" --timeout 200 --smp 1 --tap "$NET_TMP/tap.a" \
	--net-vhost-user "$NET_TMP/a.sock,mac=52:54:00:99:01:01,vectors=0" \
	--append "PVIO_NET_IP=10.99.1.1 PVIO_NET_PEER=10.99.1.2 PVIO_NET_WAIT=15" \
	>/dev/null 2>"$NET_TMP/run.a" &
pid_a=$!
net_at_exit "kill $pid_a"
"$NET_TOP/scripts/vm/run.sh" -i "$NET_TMP/initrd" --timeout 200 --smp 1 --tap "$NET_TMP/tap.b" \
	--net-vhost-user "$NET_TMP/b.sock,mac=52:54:00:99:01:02,vectors=0" \
	--append "PVIO_NET_IP=10.99.1.2 PVIO_NET_PEER=10.99.1.1 PVIO_NET_WAIT=15" \
	>/dev/null 2>"$NET_TMP/run.b" || rc_b=$?
wait "$pid_a" || rc_a=$?

tap_merge "$NET_TMP/tap.a" "guest A: "
tap_merge "$NET_TMP/tap.b" "guest B: "
for g in a b; do
	grep -E 'vm-run: (exit|QEMU|TIMEOUT)' "$NET_TMP/run.$g" | sed "s/^/# $g: /" || true
done
tap_check "guest A ran to the end, kernel log clean (run.sh exit $rc_a)" [ "$rc_a" = 0 ]
tap_check "guest B ran to the end, kernel log clean (run.sh exit $rc_b)" [ "$rc_b" = 0 ]

prc=0
net_pviod_stop || prc=$?
grep -E 'pair|error|warn|switch' "$NET_TMP/pviod.log" | sed 's/^/# pviod: /' || true
tap_check "host: pviod exited 0 on SIGTERM (exit $prc)" [ "$prc" = 0 ]
tap_check "host: pviod logged no error" bash -c "! grep -q 'error:' '$NET_TMP/pviod.log'"
tap_end
