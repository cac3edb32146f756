#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# SIGTERM must end pviod even when a queue cannot drain (TAP 13).
#
# A front-end that goes away makes pviod stop its queues, and a stop waits
# until every request in flight completed; SIGTERM is read by the same
# control thread.  Here the one request in flight never completes in time:
# an nbdkit memory export behind the delay filter answers reads after
# 120 s.  pvio-bench gives up on it after 2 s and disconnects, so the
# control thread waits in the stop; a SIGTERM then must end pviod within
# its grace (5 s) plus slack, with exit status 1 and a message naming the
# queue, instead of hanging until the read comes back.  The drain that has
# taken 10 s is reported meanwhile.
#
# timeout=60
set -uo pipefail

# shellcheck source=../lib/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/lib.sh"
# shellcheck source=../lib/nbd.sh
. "$PVT_TOP/tests/lib/nbd.sh"
pvt_init stop_stuck
T=$PVT_TMP

if ! command -v nbdkit >/dev/null 2>&1; then
	if [ "${CI:-}" = true ]; then
		echo "Bail out! nbdkit not installed (scripts/deps.sh installs it)"
		exit 1
	fi
	tap_skip_all "nbdkit not installed (scripts/deps.sh)"
fi
pvt_bin pviod >/dev/null || tap_skip_all "pviod does not build"
bench=$(pvt_bin pvio-bench) || tap_skip_all "pvio-bench does not build"

pvt_at_exit nbd_stop
nbd_start "$T/nbd.sock" --filter=delay memory 16M rdelay=120 ||
	{ echo "Bail out! nbdkit did not start"; exit 1; }
pvt_pviod_start "$T/pviod.log" \
	--device "blk,socket=$T/vu.sock,nbd=nbd+unix:///?socket=$T/nbd.sock" ||
	{ echo "Bail out! pviod did not start"; exit 1; }

rc=0
"$bench" blk --socket "$T/vu.sock" --rw randread --bs 4k --iodepth 1 --runtime 1 \
	--timeout-ms 2000 >"$T/bench.out" 2>&1 || rc=$?
tap_check "pvio-bench gives up on the read the server holds (rc $rc)" [ "$rc" != 0 ]

# The control thread is in the stop now; the warning comes at 10 s.
for _ in $(seq 1 150); do
	grep -q "has not drained" "$T/pviod.log" && break
	sleep 0.1
done
tap_check "the stuck drain is reported" grep -q "queue 0 has not drained" "$T/pviod.log"

t0=$(date +%s%N)
pvt_pviod_term 150
ms=$((($(date +%s%N) - t0) / 1000000))
tap_check "SIGTERM ends pviod with a request stuck in flight (${ms} ms)" [ "$PVT_PVIOD_LINGERED" = 0 ]
tap_check "the exit is a failure (status $PVT_PVIOD_STATUS)" [ "$PVT_PVIOD_STATUS" = 1 ]
tap_check "pviod says which queue it gave up on" \
	grep -q "queue 0 still has requests in flight .* after SIGTERM" "$T/pviod.log"
[ "$TAP_FAILED" = 0 ] || sed 's/^/# pviod: /' "$T/pviod.log"
tap_end
