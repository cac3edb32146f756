#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Integration: DPDK's virtio-user PMD (dpdk-testpmd --vdev net_virtio_user0)
# against pviod's net device with the loop back-end.  testpmd forwards in io
# mode after one --tx-first burst, so the same frames go round
# testpmd -> pviod -> testpmd for the whole run: its port statistics must
# show RX-packets > 0 and TX-packets > 0, and RX within one ring of TX
# (frames flow both ways, none lost).  Then txonly, which floods pviod while
# never posting receive buffers: pviod must drop and count, keep serving,
# and exit 0.  The io run is repeated with packed_vq=1: packed rings
# (VIRTIO_F_RING_PACKED, which pviod's debug log shows each queue started
# with), frames flowing both ways with none lost.
#
# timeout=120
set -euo pipefail

# shellcheck source=../lib/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/lib.sh"
pvt_init net_dpdk

if ! why=$(pvt_testpmd_can); then
	echo "1..0 # SKIP $why"
	exit 4
fi
sock=$PVT_TMP/net.sock
VDEV_EXTRA=
pvt_pviod_start "$PVT_TMP/pviod.log" --log-level debug --device "net,socket=$sock,backend=loop" ||
	{ tap_fail "pviod started"; tap_end; }
tap_ok "pviod started with a loop net device"

# testpmd MODE SECONDS [extra testpmd args]: stats in $PVT_TMP/testpmd.MODE
testpmd()
{
	local mode=$1 secs=$2 out=$PVT_TMP/testpmd.$1$VDEV_EXTRA
	shift 2
	# testpmd runs until its stdin has a line.
	(sleep "$secs"; echo) | timeout $((secs + 30)) dpdk-testpmd -l 0-1 --no-pci \
		--single-file-segments --file-prefix "pvio-net-$$" -m 256 \
		--vdev "net_virtio_user0,path=$sock,queues=1$VDEV_EXTRA" -- --forward-mode="$mode" \
		--nb-cores=1 --port-topology=loop --total-num-mbufs=8192 "$@" >"$out" 2>&1
}

stat_of()
{
	# The "Forward statistics for port 0" block's RX-packets / TX-packets.
	grep -m1 -E "^ +$2-packets:" "$PVT_TMP/testpmd.$1" | awk '{print $2}'
}

rc=0
testpmd io 3 --tx-first || rc=$?
rx=$(stat_of io RX)
tx=$(stat_of io TX)
echo "# io: testpmd exit $rc, RX-packets ${rx:-?}, TX-packets ${tx:-?}"
[ "$rc" = 0 ] || sed 's/^/# testpmd: /' "$PVT_TMP/testpmd.io" | tail -20
tap_check "io --tx-first: testpmd ran and exited 0" [ "$rc" = 0 ]
tap_check "io: RX-packets > 0 and TX-packets > 0 (frames flow both ways)" \
	[ "${rx:-0}" -gt 0 ] && [ "${tx:-0}" -gt 0 ]
tap_check "io: every frame sent came back (TX - RX <= one burst in flight)" \
	[ $((${tx:-0} - ${rx:-0})) -le 512 ]

# The same over packed rings.
VDEV_EXTRA=,packed_vq=1
rc=0
testpmd io 3 --tx-first || rc=$?
rx=$(stat_of io$VDEV_EXTRA RX)
tx=$(stat_of io$VDEV_EXTRA TX)
echo "# io, packed_vq=1: testpmd exit $rc, RX-packets ${rx:-?}, TX-packets ${tx:-?}"
[ "$rc" = 0 ] || sed 's/^/# testpmd: /' "$PVT_TMP/testpmd.io$VDEV_EXTRA" | tail -20
tap_check "io packed_vq=1: testpmd ran and exited 0" [ "$rc" = 0 ]
tap_check "io packed_vq=1: pviod started the queues packed (RING_PACKED negotiated)" \
	grep -q 'queue 1 started at .* (packed' "$PVT_TMP/pviod.log"
tap_check "io packed_vq=1: IN_ORDER negotiated, the tx ring publishes used batches" \
	grep -q 'queue 1 started at .* (packed, used in order batches)' "$PVT_TMP/pviod.log"
tap_check "io packed_vq=1: the rx ring writes a used descriptor per chain" \
	grep -q 'queue 0 started at .* (packed)' "$PVT_TMP/pviod.log"
tap_check "io packed_vq=1: frames flow both ways, every frame sent came back" \
	[ "${rx:-0}" -gt 0 ] && [ "${tx:-0}" -gt 0 ] && [ $((${tx:-0} - ${rx:-0})) -le 512 ]
VDEV_EXTRA=

rc=0
testpmd txonly 2 || rc=$?
tx=$(stat_of txonly TX)
echo "# txonly: testpmd exit $rc, TX-packets ${tx:-?}"
tap_check "txonly: testpmd sent frames to pviod (TX-packets ${tx:-0} > 0)" \
	[ "$rc" = 0 ] && [ "${tx:-0}" -gt 0 ]
prc=0
pvt_pviod_stop || prc=$?
tap_check "pviod exited 0 on SIGTERM (exit $prc)" [ "$prc" = 0 ]
tap_check "txonly: pviod dropped and counted the frames it could not deliver" \
	grep -qE 'rx [0-9]+ frames [0-9]+ bytes, [1-9][0-9]* no buffer' "$PVT_TMP/pviod.log"
tap_check "pviod logged no error" bash -c "! grep -q 'error:' '$PVT_TMP/pviod.log'"
grep 'pair 0' "$PVT_TMP/pviod.log" | sed 's/^/# /' || true
tap_end
