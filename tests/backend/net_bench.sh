#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bench: 64-byte frames, dpdk-testpmd's virtio_user PMD in txonly mode on one
# forwarding core, against (1) pviod's net device with backend=loop (one
# busy-polling worker pinned to the other core) and (2) DPDK's own vhost PMD
# (a second testpmd, io forwarding, --port-topology=loop, on that core), in
# the same run.  The figure is the packets per second the back-end took off
# the front-end's transmit ring (testpmd TX-packets / seconds); the ratio
# pviod / vhost PMD is printed last.  PVIO_NET_BENCH_SECS (default 5).
#
# PVIO_NET_BENCH_MODE=txonly (default) or io.  In txonly mode the front-end
# posts no receive buffers, so a back-end that reflects drops each frame
# after taking it: pviod drops it after reading its header, the vhost PMD
# after copying it into an mbuf.  In io mode (--tx-first) the front-end
# posts receive buffers and sends back what it receives, so frames circulate
# and both back-ends copy every frame into the front-end's receive ring.
#
# On a loaded machine the figures move a lot; run it alone.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/net_lib.sh"
net_init net_bench
secs=${PVIO_NET_BENCH_SECS:-5}
mode=${PVIO_NET_BENCH_MODE:-txonly}
case $mode in
txonly) front_args=(--forward-mode=txonly) ;;
io) front_args=(--forward-mode=io --tx-first --burst=64 --rxd=1024 --txd=1024) ;;
*) echo "net_bench.sh: PVIO_NET_BENCH_MODE is txonly or io, not '$mode'" >&2; exit 2 ;;
esac
echo "# mode $mode, ${secs}s per back-end"
if ! why=$(net_testpmd_can); then
	echo "1..0 # SKIP $why"
	exit 4
fi

# front SOCK OUT: $mode for $secs seconds; prints TX-packets.
front()
{
	(sleep "$secs"; echo) | timeout $((secs + 30)) dpdk-testpmd -l 0-1 --no-pci \
		--single-file-segments --file-prefix "pvio-nb-f$$" -m 256 \
		--vdev "net_virtio_user0,path=$1,queues=1" -- "${front_args[@]}" \
		--nb-cores=1 --port-topology=loop --total-num-mbufs=8192 --txpkts=64 \
		>"$2" 2>&1 || return 1
	grep -m1 -E '^ +TX-packets:' "$2" | awk '{print $2}'
}

# pviod loop, its worker on core 0 (testpmd's forwarding core is 1).
net_pviod_start "$NET_TMP/pviod.log" taskset -c 0 "$(net_bin pviod)" \
	--device "net,socket=$NET_TMP/p.sock,backend=loop" --poll on --poll-budget 1000000 ||
	{ tap_fail "pviod started"; tap_end; }
p_tx=$(front "$NET_TMP/p.sock" "$NET_TMP/front.p") || p_tx=0
net_pviod_stop || true
p_pps=$((p_tx / secs))
echo "# pviod loop:     $p_pps packets/s ($p_tx in ${secs}s)"
tap_check "pviod loop: front-end transmitted (${p_pps} pps)" [ "$p_tx" -gt 0 ]

# DPDK vhost PMD: its forwarding core is 0 (--main-lcore 1).
(sleep $((secs + 8)); echo) | timeout $((secs + 40)) dpdk-testpmd --main-lcore 1 -l 0-1 \
	--no-pci --single-file-segments --file-prefix "pvio-nb-v$$" -m 256 \
	--vdev "net_vhost0,iface=$NET_TMP/v.sock,queues=1" -- --forward-mode=io --nb-cores=1 \
	--port-topology=loop --total-num-mbufs=16384 >"$NET_TMP/vhost.log" 2>&1 &
vpid=$!
net_at_exit "kill $vpid"
for ((i = 0; i < 100; i++)); do
	[ -S "$NET_TMP/v.sock" ] && break
	sleep 0.1
done
v_tx=$(front "$NET_TMP/v.sock" "$NET_TMP/front.v") || v_tx=0
wait "$vpid" || true
v_pps=$((v_tx / secs))
echo "# DPDK vhost PMD: $v_pps packets/s ($v_tx in ${secs}s)"
tap_check "vhost PMD: front-end transmitted (${v_pps} pps)" [ "$v_tx" -gt 0 ]
if [ "$v_pps" -gt 0 ]; then
	echo "# ratio pviod / vhost PMD: $(awk -v a="$p_pps" -v b="$v_pps" 'BEGIN { printf "%.2f", a / b }')"
fi
tap_end
