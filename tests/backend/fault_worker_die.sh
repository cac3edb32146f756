#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# A worker whose io_uring fails (pviod --fault worker-die, test only) must not
# take the daemon with it: pviod serves two disks with two workers; the worker
# of disk a "dies" after 200 completions.  Then:
#   - the client of disk a gets an error within its timeout (no hang);
#   - disk b, on the other worker, keeps serving verified I/O;
#   - a new session on disk a is moved to the live worker and works;
#   - SIGTERM still stops pviod promptly (nothing waits on the dead worker).
#
# timeout=120
set -euo pipefail

# shellcheck source=../lib/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/lib.sh"
pviod=$PVT_PVIOD
bench=$PVT_TOP/$PVT_O/pvio-bench
tap_begin
pvt_need_built "$pviod" "$bench"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pvio-worker-die.XXXXXX")
pid=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup()
{
	[ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

truncate -s 64M "$tmp/a.img" "$tmp/b.img"
"$pviod" --workers 2 --fault worker-die:200 \
	--device "blk,socket=$tmp/a.sock,file=$tmp/a.img,direct=off" \
	--device "blk,socket=$tmp/b.sock,file=$tmp/b.img,direct=off" >"$tmp/pviod.log" 2>&1 &
pid=$!
pvt_wait_sockets 10 "$pid" "$tmp/a.sock" "$tmp/b.sock" || true
tap_check "pviod serves two disks with two workers" [ -S "$tmp/a.sock" ]

# Disk a: its worker fails after 200 completions; the client must notice.
t0=$(date +%s)
a_rc=0
timeout 30 "$bench" blk --socket "$tmp/a.sock" --rw randread --bs 4k --iodepth 4 \
	--runtime 3 --size 16M --timeout-ms 2000 >"$tmp/a.out" 2>&1 || a_rc=$?
t1=$(date +%s)
# shellcheck disable=SC2317 # called through tap_check
failed_in_time() { [ "$a_rc" != 0 ] && [ "$a_rc" != 124 ]; }
tap_check "disk a: the client gets an error once its worker is gone (exit $a_rc)" failed_in_time
tap_check "disk a: within the client's timeout, not a hang ($((t1 - t0)) s)" [ $((t1 - t0)) -lt 15 ]
tap_check "pviod logged the worker failure" grep -q "worker .*: io_uring_submit_and_wait" "$tmp/pviod.log"
tap_check "pviod is still running" kill -0 "$pid"

# verify DISK OUT: 2 s of verified random writes and reads (the output goes to
# OUT inside the function: a redirect on "tap_check" would swallow its "ok").
# shellcheck disable=SC2317 # called through tap_check
verify()
{
	timeout 30 "$bench" blk --socket "$tmp/$1.sock" --rw randrw --bs 4k --iodepth 8 \
		--runtime 2 --size 16M --verify --timeout-ms 5000 >"$tmp/$2" 2>&1
}

# Disk b, on the other worker, serves verified I/O.
tap_check "disk b: verified random writes and reads on the live worker" verify b b.out

# A new session on disk a moves its queue to the live worker.
tap_check "disk a: a new session is served by the live worker" verify a a2.out

# SIGTERM: nothing may wait on the dead worker.
kill -TERM "$pid"
stopped=0
for _ in $(seq 100); do
	if ! kill -0 "$pid" 2>/dev/null; then
		stopped=1
		break
	fi
	sleep 0.1
done
tap_check "pviod stops within 10 s of SIGTERM" [ "$stopped" = 1 ]
wait "$pid" 2>/dev/null || true
pid=

if [ "$TAP_FAILED" != 0 ]; then
	for f in pviod.log a.out b.out a2.out; do
		[ -f "$tmp/$f" ] && sed "s/^/# $f: /" "$tmp/$f" | tail -n 15
	done
fi
tap_end
