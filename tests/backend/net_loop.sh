#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Integration: the userspace virtio-net driver (pvio-bench net --mode reflect
# --verify, frontend/virtio-user/net.c) against pviod's net device with the loop
# back-end.  Every frame carries a checksum and a sequence number and must
# come back intact: 64-byte frames, full-size 1514-byte frames, and 9000-byte
# frames that span several 2 KiB receive buffers (MRG_RXBUF, num_buffers),
# and a mix of those sizes; then the same over packed rings (--packed, which
# requires VIRTIO_F_RING_PACKED), the mix taking the receive path that gives
# chains popped ahead back to the ring (unput, unpop).
# The driver then reconnects (a new session on the same socket), and pviod
# must exit 0 on SIGTERM with no error logged.
#
# timeout=120
set -euo pipefail

# shellcheck source=../lib/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/lib.sh"
pvt_init net_loop

bench=$(pvt_bin pvio-bench) || {
	echo "1..0 # SKIP pvio-bench cannot be built"
	exit 4
}
sock=$PVT_TMP/net.sock
pvt_pviod_start "$PVT_TMP/pviod.log" --device "net,socket=$sock,backend=loop,mtu=9000" ||
	{ tap_fail "pviod started"; tap_end; }
tap_ok "pviod started with a loop net device"

# shellcheck disable=SC2317 # called through tap_check below
reflect()
{
	local size=$1 out=$PVT_TMP/reflect.$1
	shift
	timeout 30 "$bench" net --socket "$sock" --mode reflect --verify --runtime 1 \
		--frame-size "$size" "$@" >"$out" 2>&1 || {
		sed 's/^/# /' "$out"
		return 1
	}
	sed 's/^/# /' "$out"
	# "N packets/s ... (F frames, S sent, 0 bad)"
	grep -Eq '\(([1-9][0-9]*) frames, [0-9]+ sent, 0 bad\)' "$out"
}

for size in 64 1514 9000; do
	tap_check "reflect ${size}-byte frames, all verified, none bad" reflect "$size"
done
# Sizes in turn: a transmit burst whose receive chains were popped ahead
# (one buffer each) meets a frame that needs several, hands the rest back
# and takes the general path; every frame must still come back intact.
tap_check "reflect 64/1514/9000/2000-byte frames in turn, all verified" \
	reflect 64,64,1514,64,9000,64,2000
tap_check "a second session on the same socket reflects too" reflect 64
for size in 64 9000 64,64,1514,64,9000,64,2000; do
	tap_check "packed rings: reflect ${size}-byte frames, all verified" reflect "$size" --packed
done
tap_check "split rings again after packed ones" reflect 1514

prc=0
pvt_pviod_stop || prc=$?
tap_check "pviod exited 0 on SIGTERM (exit $prc)" [ "$prc" = 0 ]
tap_check "pviod logged no error" bash -c "! grep -q 'error:' '$PVT_TMP/pviod.log'"
grep 'pair 0' "$PVT_TMP/pviod.log" | sed 's/^/# /' || true
tap_end
