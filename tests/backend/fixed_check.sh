#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The file engine's io_uring fixed resources (backend/blk/file.c), with the
# data checked end to end by pvio-bench --verify on an O_DIRECT image:
#   - fixed=auto: reads and writes go out as READ_FIXED / WRITE_FIXED on
#     fixed files (the SIGUSR1 counters say so), 4 KiB and 64 KiB, and
#     every read matches what was written;
#   - a second session brings a new memory table (a new memfd at other
#     addresses): it is registered anew, and the data written before reads
#     back through it;
#   - fixed=off registers nothing (no fixed files either), same data;
#   - without CAP_IPC_LOCK and with a tiny RLIMIT_MEMLOCK the registration
#     fails: pviod says so once and serves every request without.
#
# timeout=120
set -euo pipefail

# shellcheck source=../lib/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/lib.sh"
pvt_init fixed
bench=$(pvt_bin pvio-bench)
pvt_bin pviod >/dev/null
# O_DIRECT needs a real file system: not tmpfs, which /tmp may be.
dir=$PVT_TOP/$PVT_O/tests/fixed.$$
mkdir -p "$dir"
pvt_at_exit "rm -rf '$dir'"
img=$dir/disk.img
truncate -s 32M "$img"
sock=$PVT_TMP/b.sock

# verify LOG ARGS...: one pvio-bench session against $sock; ok when every read matched.
verify()
{
	local what=$1
	shift
	if nice "$bench" blk --socket "$sock" --runtime 0.5 --size 8M "$@" >"$PVT_TMP/bench.out" 2>&1 &&
		grep -q "verify: all reads matched" "$PVT_TMP/bench.out"; then
		tap_ok "$what: every read matched"
	else
		tap_fail "$what"
		sed 's/^/# /' "$PVT_TMP/bench.out"
	fi
}

# more A B: is the number A greater than B (A may be "none")?
more()
{
	[ "$1" != none ] && [ "$1" -gt "$2" ]
}

# files_in_session LOG N: "yes" or "no", whether the Nth SIGUSR1 dump, taken
# while a session runs (a stopped queue has nothing registered), shows the
# image's fd as a fixed file of queue 0's ring.
files_in_session()
{
	local tries=50 pid
	nice "$bench" blk --socket "$sock" --runtime 1.5 --size 8M --rw randread --bs 4k \
		--iodepth 8 >/dev/null 2>&1 &
	pid=$!
	sleep 0.7
	kill -USR1 "$PVT_PVIOD_PID"
	while [ $((tries -= 1)) -ge 0 ] && [ "$(grep -c 'file engine:' "$1")" -lt "$2" ]; do
		sleep 0.1
	done
	wait "$pid" || true
	grep 'file engine:' "$1" | sed -n "$2p" | sed -n 's/.*fixed files \([a-z]*\),.*/\1/p'
}

# no_failure LOG: the log reports no failed registration.
no_failure()
{
	! grep -q "not registered as fixed" "$1"
}

# counter LOG N: the fixed-buffer reads/writes of queue 0 in the Nth SIGUSR1 dump.
counter()
{
	local tries=50
	kill -USR1 "$PVT_PVIOD_PID"
	while [ $((tries -= 1)) -ge 0 ]; do
		if [ "$(grep -c 'file engine:' "$1")" -ge "$2" ]; then
			grep 'file engine:' "$1" | sed -n "$2p" |
				sed 's/.*file engine: \([0-9]*\) fixed-buffer.*/\1/'
			return 0
		fi
		sleep 0.1
	done
	echo none
}

log=$PVT_TMP/auto.log
pvt_pviod_start "$log" --device "blk,socket=$sock,file=$img"
if ! grep -q "O_DIRECT, guest memory as fixed buffers" "$log"; then
	sed 's/^/# /' "$log"
	tap_skip_all "no O_DIRECT on $dir"
fi
verify "4 KiB randrw, fixed=auto" --rw randrw --bs 4k --iodepth 8 --verify
n1=$(counter "$log" 1)
tap_check "4 KiB: fixed-buffer reads and writes ($n1)" more "$n1" 0
verify "64 KiB randrw on the data of the first session, a new memory table" \
	--rw randrw --bs 64k --iodepth 8 --verify-existing
n2=$(counter "$log" 2)
tap_check "64 KiB, second session: more fixed-buffer reads and writes ($n1 -> $n2)" \
	more "$n2" "$n1"
tap_check "no registration failure reported" no_failure "$log"
f=$(files_in_session "$log" 3)
tap_check "fixed=auto: the image's fd is a fixed file ($f)" [ "$f" = yes ]
pvt_pviod_stop
tap_ok "pviod exits 0"

log=$PVT_TMP/off.log
pvt_pviod_start "$log" --device "blk,socket=$sock,file=$img,fixed=off"
verify "fixed=off" --rw randrw --bs 4k --iodepth 8 --verify-existing
tap_check "fixed=off: no fixed-buffer reads or writes" [ "$(counter "$log" 1)" = 0 ]
f=$(files_in_session "$log" 2)
tap_check "fixed=off: no fixed files ($f)" [ "$f" = no ]
pvt_pviod_stop

if setpriv --inh-caps=-ipc_lock --bounding-set=-ipc_lock true 2>/dev/null; then
	log=$PVT_TMP/memlock.log
	pvt_pviod_start "$log" setpriv --inh-caps=-ipc_lock --bounding-set=-ipc_lock \
		prlimit --memlock=262144 "$(pvt_bin pviod)" --device "blk,socket=$sock,file=$img"
	verify "RLIMIT_MEMLOCK 256 KiB, no CAP_IPC_LOCK" --rw randrw --bs 4k --iodepth 8 \
		--verify-existing
	verify "the same, a second session" --rw randrw --bs 4k --iodepth 8 --verify-existing
	tap_check "the failure is reported once" \
		[ "$(grep -c 'not registered as fixed buffers.*RLIMIT_MEMLOCK' "$log")" = 1 ]
	tap_check "every request served without fixed buffers" [ "$(counter "$log" 1)" = 0 ]
	pvt_pviod_stop
else
	tap_skip "RLIMIT_MEMLOCK fallback" "setpriv cannot drop CAP_IPC_LOCK here"
fi
tap_end
