#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# A worker whose submission queue stays full must neither crash nor lose a
# wake-up (pviod --fault sq-full, test only: every other SQE a worker takes
# finds no room, as when a submit cannot empty the queue).  One worker
# serves a disk and a net loop.  Then:
#   - pvioctl stats, which runs a command on the worker and needs its
#     command read armed again after each, answers 20 times in a row;
#   - verified random I/O on the disk (reads and writes waiting for room
#     and retried, none failed) while stats keep being asked for;
#   - verified frames reflected by the net loop;
#   - a second session on the disk (its queue stopped: the kick read's
#     cancel; and started again: the kick read) serves verified I/O;
#   - DISCARD and WRITE_ZEROES (with and without unmap) succeed and read
#     back as zeroes, on a file system with FALLOC_FL_ZERO_RANGE (one SQE a
#     range) and on tmpfs, which has none (a linked punch + allocate pair,
#     whose two SQEs must find room together);
#   - SIGTERM stops pviod, exit 0.
#
# timeout=120
set -uo pipefail

# shellcheck source=../lib/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/lib.sh"
pvt_init sq-full
ctl=$(pvt_bin pvioctl) || tap_skip_all "pvioctl not built"
op=$(pvt_bin tests/user/blk_op) || tap_skip_all "blk_op does not build"
bench=$(pvt_bin pvio-bench) || tap_skip_all "pvio-bench not built"
T=$PVT_TMP
S=$T/control.sock
truncate -s 16M "$T/d.img"
shm=$(mktemp -d /dev/shm/pvio-sq-full.XXXXXX)
pvt_at_exit "rm -rf '$shm'"
truncate -s 16M "$shm/z.img"

pvt_pviod_start "$T/pviod.log" --workers 1 --fault sq-full --rpc "$S" \
	--device "blk,id=d,socket=$T/d.sock,file=$T/d.img,direct=off" \
	--device "blk,id=z,socket=$T/z.sock,file=$shm/z.img,direct=off" \
	--device "net,id=n,socket=$T/n.sock,backend=loop" ||
	{ tap_fail "pviod did not start"; tap_end; }
pvt_wait_sockets 10 "$PVT_PVIOD_PID" "$S" || { tap_fail "no control socket"; tap_end; }

# shellcheck disable=SC2317 # called through tap_check
stats_n()
{
	local i
	for i in $(seq "$1"); do
		timeout 10 "$ctl" -s "$S" stats d >"$T/stats.out" 2>&1 || return 1
	done
}
tap_check "pvioctl stats answers 20 times (the command read is armed again each time)" \
	stats_n 20
tap_check "pviod is still running" kill -0 "$PVT_PVIOD_PID"

# shellcheck disable=SC2317 # called through tap_check
verify_blk()
{
	timeout 30 "$bench" blk --socket "$T/d.sock" --rw randrw --bs 4k --iodepth 16 \
		--runtime 2 --size 16M --verify --timeout-ms 5000 >"$T/$1" 2>&1
}
stats_n 1000 &
stats_pid=$!
tap_check "disk: verified random I/O, depth 16, with stats asked meanwhile" verify_blk blk1.out
kill "$stats_pid" 2>/dev/null
wait "$stats_pid" 2>/dev/null

# shellcheck disable=SC2317 # called through tap_check
verify_net()
{
	timeout 30 "$bench" net --socket "$T/n.sock" --mode reflect --runtime 2 --verify \
		--timeout-ms 5000 >"$T/net.out" 2>&1
}
tap_check "net loop: verified frames reflected" verify_net
tap_check "disk: a second session (queue stopped and started again) is served" \
	verify_blk blk2.out

# Each operation 4 times, so that some find the queue full whatever the
# fault's phase: 1 MiB of 0xa5, then the operation, then zeroes read back.
# shellcheck disable=SC2317 # called through tap_check
range_ops()
{
	local sock=$1 kind=$2 i
	for i in 1 2 3 4; do
		timeout 10 "$op" "$sock" write 0 1048576 165 &&
			timeout 10 "$op" "$sock" "$kind" 0 1048576 &&
			timeout 10 "$op" "$sock" read 0 1048576 0 || return 1
	done >>"$T/range.out" 2>&1
}
for disk in d z; do
	for kind in discard zeroes zeroes-unmap; do
		tap_check "disk $disk: $kind succeeds and reads back zeroes" \
			range_ops "$T/$disk.sock" "$kind"
	done
done
tap_check "pviod is still running" kill -0 "$PVT_PVIOD_PID"
# shellcheck disable=SC2317 # called through tap_check
no_break() { ! grep -q "queue stopped until" "$T/pviod.log"; }
tap_check "pviod broke no queue" no_break
tap_check "pviod exits 0 on SIGTERM" pvt_pviod_stop
# Each session's last words count its requests: none failed (none got -EBUSY).
# shellcheck disable=SC2317 # called through tap_check
no_errors()
{
	grep -q "$1: queue 0: .* errors" "$T/pviod.log" &&
		! grep -Eq "$1: queue 0: .* [1-9][0-9]* errors" "$T/pviod.log"
}
tap_check "disk: no request failed" no_errors d
tap_check "tmpfs disk: no request failed" no_errors z

if [ "$TAP_FAILED" != 0 ]; then
	for f in pviod.log blk1.out net.out blk2.out stats.out range.out; do
		[ -f "$T/$f" ] && sed "s/^/# $f: /" "$T/$f" | tail -n 15
	done
fi
tap_end
