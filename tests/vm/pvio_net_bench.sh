#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Benchmark (make bench): in-guest TCP throughput of pvio_net and of the
# stock virtio_net on the same QEMU virtio-net-pci device (tap netdev in a
# network namespace), in the same guest boot: an untimed warm-up with each
# driver, then PVG_ROUNDS rounds whose order alternates (pvio, stock, then
# stock, pvio, ...).  A bounded HTTP transfer each way (busybox wget
# against tests/vm/pvio_net_peer.py), timed in the guest.  Prints Mbit/s
# per driver and direction (medians over the rounds) and the median of the
# rounds' pvio/stock ratios; under TCG only the ratio means anything.  A transfer is timed in
# centiseconds, so it should last a second or more (the default 256 MiB).
#
#   PVG_BENCH_MB=N   MiB per transfer (default 256)
#   PVG_ROUNDS=N     measured rounds of both drivers (default 2)
#
# timeout=600
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
vmt_init pvio_net_bench
pvg_modules
# shellcheck source-path=SCRIPTDIR source=pvio_net_lib.sh
. "$VMT_DIR/pvio_net_lib.sh"
pvn_need

pvn_netns_up 1
pvn_peer_start
pvn_initrd bench

rc=0
pvn_in_ns "$VM_TOP/scripts/vm/run.sh" -i "$VMT_TMP/initrd" --timeout 580 --mem 1024 \
	--tap "$VMT_TMP/tap" --console "$VMT_TMP/console" \
	--append "PVG_MODE=bench PVG_SHA=$PVN_SHA PVG_BENCH_MB=${PVG_BENCH_MB:-256} PVG_ROUNDS=${PVG_ROUNDS:-2}" -- \
	-netdev "tap,id=n0,ifname=$PVN_TAP,script=no,downscript=no,vhost=off" \
	-device "virtio-net-pci,netdev=n0" >/dev/null || rc=$?

tap_merge "$VMT_TMP/tap" "guest: "
tap_check "guest ran to the end, kernel log clean (run.sh exit $rc)" [ "$rc" = 0 ]
# figures DRIVER DIR: that driver's figures in that direction, round by round.
figures()
{
	awk -v drv="$1" -v d="$2" '$2 == "bench:" && $3 == drv && $4 == d { print $5 }' \
		"$VMT_TMP/tap"
}

median()
{
	sort -n | awk '{ v[NR] = $1 }
		END { if (NR) printf "%.3f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# The machine's speed drifts over a run (other work on the host), so each
# round's two figures, taken a few seconds apart, are compared with each
# other, and the median of those ratios is the result.
for dir in rx tx; do
	pv=$(figures pvio "$dir" | median)
	st=$(figures stock "$dir" | median)
	ratio=$(paste <(figures pvio "$dir") <(figures stock "$dir") |
		awk 'NF == 2 && $2 > 0 { printf "%.3f\n", $1 / $2 }' | median)
	if [ -n "$ratio" ]; then
		echo "# bench: TCP $dir (guest view): medians pvio_net $pv Mbit/s, virtio_net $st Mbit/s; median of the per-round ratios $ratio"
		tap_ok "TCP $dir ratio pvio_net/virtio_net = $ratio (TCG: only the ratio counts)"
	else
		tap_fail "TCP $dir: no figures for both drivers"
	fi
done
tap_end
