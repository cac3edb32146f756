#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bench: 64-byte frames, dpdk-testpmd's virtio_user PMD on one forwarding
# core, against (1) pviod's net device with backend=loop (one busy-polling
# worker pinned to the other core) and (2) DPDK's own vhost PMD (a second
# testpmd, io forwarding, --port-topology=loop, on that core), in the same
# run.  The figure is the packets per second the back-end took off the
# front-end's transmit ring (testpmd TX-packets / seconds).
#
# PVIO_NET_BENCH_MODE: io (default), txonly, or "io txonly" for both.  In
# txonly mode the front-end posts no receive buffers, so a back-end that
# reflects drops each frame after taking it: pviod drops it after reading
# its header, the vhost PMD after copying it into an mbuf.  In io mode the
# front-end posts receive buffers and sends back what it receives, so
# frames circulate and both back-ends copy every frame into the front-end's
# receive ring: the fair comparison.  It starts with `start tx_first N`
# (PVIO_NET_BENCH_BURSTS, default 8) bursts of 64, so 512 frames circulate
# and neither side waits for the other: a throughput figure.  With 1 burst
# (testpmd's --tx-first) the 64 frames move in convoys and the figure swings
# by 3x from run to run with how the two sides happen to take turns.
#
# PVIO_NET_BENCH_PVIOD: pviod's polling options (default "--poll on
# --poll-budget 1000000"; "" for pviod's default, adaptive);
# PVIO_NET_BENCH_BURST: testpmd's --burst in io mode (default 64).  testpmd's
# own defaults, 32 frames in flight, are PVIO_NET_BENCH_BURST=32
# PVIO_NET_BENCH_BURSTS=1.
#
# PVIO_NET_BENCH_RINGS: the ring formats, "split packed" by default (the
# front-end's packed_vq=1; the run checks that pviod started its queues
# packed and that the vhost PMD negotiated VIRTIO_F_RING_PACKED, bit 34).
#
# This machine's two cores are noisy (one run can be 30% off the next), so
# the two back-ends take turns, PVIO_NET_BENCH_ROUNDS times (default 3) of
# PVIO_NET_BENCH_SECS each (default 5), and the medians are compared.
set -euo pipefail

case "${1:-}" in
-h | --help) sed -n '3,34p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
"") ;;
*) echo "net_bench.sh: takes no arguments, only the PVIO_NET_BENCH_* variables (see --help)" >&2; exit 2 ;;
esac

# shellcheck source=../../tests/lib/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../tests/lib/lib.sh"
pvt_init net_bench
secs=${PVIO_NET_BENCH_SECS:-5}
rounds=${PVIO_NET_BENCH_ROUNDS:-3}
modes=${PVIO_NET_BENCH_MODE:-io}
rings=${PVIO_NET_BENCH_RINGS:-split packed}
for mode in $modes; do
	case $mode in
	txonly | io) ;;
	*) echo "net_bench.sh: PVIO_NET_BENCH_MODE is io, txonly or both, not '$mode'" >&2; exit 2 ;;
	esac
done
for ring in $rings; do
	case $ring in
	split | packed) ;;
	*) echo "net_bench.sh: PVIO_NET_BENCH_RINGS holds split or packed, not '$ring'" >&2; exit 2 ;;
	esac
done
if ! why=$(pvt_testpmd_can); then
	echo "1..0 # SKIP $why"
	exit 4
fi

bursts=${PVIO_NET_BENCH_BURSTS:-8}
burst=${PVIO_NET_BENCH_BURST:-64}
read -r -a pviod_poll <<<"${PVIO_NET_BENCH_PVIOD---poll on --poll-budget 1000000}"

# front MODE SOCK OUT: MODE for $secs seconds, over $ring rings (testpmd's interactive
# prompt: start, wait, stop); prints TX-packets.
front()
{
	local args start vdev="net_virtio_user0,path=$2,queues=1"
	[ "$ring" = split ] || vdev+=,packed_vq=1
	case $1 in
	txonly) args=(--forward-mode=txonly) start=start ;;
	io) args=(--forward-mode=io "--burst=$burst" --rxd=1024 --txd=1024) start="start tx_first $bursts" ;;
	esac
	(sleep 2; echo "$start"; sleep "$secs"; echo stop; sleep 1; echo quit) |
		timeout $((secs + 30)) dpdk-testpmd -l 0-1 --no-pci \
		--single-file-segments --file-prefix "pvio-nb-f$$" -m 256 \
		--vdev "$vdev" -- -i "${args[@]}" \
		--nb-cores=1 --port-topology=loop --total-num-mbufs=8192 --txpkts=64 \
		>"$3" 2>&1 || return 1
	grep -m1 -E '^ +TX-packets:' "$3" | awk '{print $2}'
}

# pviod_round MODE: pviod loop, its worker on core 0 (testpmd's forwarding core is 1); prints pps.
pviod_round()
{
	local tx
	rm -f "$PVT_TMP/p.sock"
	pvt_pviod_start "$PVT_TMP/pviod.log" taskset -c 0 "$(pvt_bin pviod)" --log-level debug \
		--device "net,socket=$PVT_TMP/p.sock,backend=loop" "${pviod_poll[@]}" || return 1
	tx=$(front "$1" "$PVT_TMP/p.sock" "$PVT_TMP/front.p") || tx=0
	# The queues' start lines (debug level) say which format they run.
	if [ "$ring" = packed ] && ! grep -q 'queue 1 started at .* (packed' "$PVT_TMP/pviod.log"; then
		echo "# pviod did not start its queues packed" >&2
		tx=0
	fi
	pvt_pviod_stop >/dev/null 2>&1 || true
	PVT_PVIOD_PID=
	echo $((tx / secs))
}

# vhost_round MODE: DPDK's vhost PMD, forwarding core 0 (--main-lcore 1); prints pps.
vhost_round()
{
	local tx vpid i
	rm -f "$PVT_TMP/v.sock"
	(sleep $((secs + 12)); echo) | timeout $((secs + 40)) dpdk-testpmd --main-lcore 1 -l 0-1 \
		--no-pci --single-file-segments --file-prefix "pvio-nb-v$$" -m 256 \
		--vdev "net_vhost0,iface=$PVT_TMP/v.sock,queues=1" -- --forward-mode=io \
		--nb-cores=1 --port-topology=loop --total-num-mbufs=16384 \
		>"$PVT_TMP/vhost.log" 2>&1 &
	vpid=$!
	for ((i = 0; i < 100; i++)); do
		[ -S "$PVT_TMP/v.sock" ] && break
		sleep 0.1
	done
	tx=$(front "$1" "$PVT_TMP/v.sock" "$PVT_TMP/front.v") || tx=0
	kill "$vpid" 2>/dev/null || true
	wait "$vpid" 2>/dev/null || true
	if [ "$ring" = packed ] && ! vhost_packed "$PVT_TMP/vhost.log"; then
		echo "# the vhost PMD did not negotiate VIRTIO_F_RING_PACKED" >&2
		tx=0
	fi
	echo $((tx / secs))
}

# vhost_packed LOG: the vhost library logged features with bit 34 set.
vhost_packed()
{
	local f
	f=$(grep -oE 'negotiated Virtio features: 0x[0-9a-f]+' "$1" | tail -1 | awk '{print $NF}')
	[ -n "$f" ] && (((f >> 34) & 1))
}

median()
{
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

for ring in $rings; do
	for mode in $modes; do
		# Split keeps the labels of before ("io median"), which other scripts read.
		lab=$mode
		[ "$ring" = split ] || lab="$ring $mode"
		echo "# $ring rings, mode $mode: $rounds rounds of ${secs}s per back-end, taking turns"
		ps=() vs=()
		for ((r = 1; r <= rounds; r++)); do
			p=$(pviod_round "$mode") || p=0
			v=$(vhost_round "$mode") || v=0
			echo "# round $r: pviod loop $p pps, DPDK vhost PMD $v pps"
			ps+=("$p") vs+=("$v")
		done
		pm=$(median "${ps[@]}")
		vm=$(median "${vs[@]}")
		echo "# $lab median: pviod loop $pm pps, DPDK vhost PMD $vm pps"
		tap_check "$lab: pviod loop moved frames ($pm pps)" [ "$pm" -gt 0 ]
		tap_check "$lab: vhost PMD moved frames ($vm pps)" [ "$vm" -gt 0 ]
		if [ "$vm" -gt 0 ]; then
			echo "# $lab ratio pviod / vhost PMD: $(awk -v a="$pm" -v b="$vm" 'BEGIN { printf "%.2f", a / b }')"
		fi
	done
done
tap_end
