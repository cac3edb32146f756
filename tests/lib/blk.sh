# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# The storage engine tests' steps (tests/backend/blk_*.sh; source it after
# lib.sh; bash): one blk device of pviod on $PVT_TMP/blk.sock, driven by
# pvio-bench, each verdict a test point.
#
#   blkt_served OPTS         pviod (log $PVT_TMP/pviod.log) with one blk
#                            device on $PVT_TMP/blk.sock and OPTS (file=,
#                            nbd=, rbd=... and the device's options)
#   blkt_verify DESC ARGS... pvio-bench blk --verify --bs 4k ARGS on it reads
#                            back all it wrote; BLKT_VERIFY_MS (30000) is its
#                            per-request timeout
#   blkt_stop DESC           pviod stopped: it exits 0 and logged no error
#   blkt_refused DESC PATTERN ARGS...
#                            pviod ARGS exits 1 within BLKT_REFUSE_SECS (20)
#                            seconds and says PATTERN (grep)

BLKT_VERIFY_MS=${BLKT_VERIFY_MS:-30000}
BLKT_REFUSE_SECS=${BLKT_REFUSE_SECS:-20}

blkt_served()
{
	pvt_pviod_start "$PVT_TMP/pviod.log" --device "blk,socket=$PVT_TMP/blk.sock,$1"
}

blkt_verify()
{
	local desc=$1 bench
	shift
	bench=$(pvt_bin pvio-bench) || {
		tap_fail "$desc (pvio-bench does not build)"
		return
	}
	if "$bench" blk --socket "$PVT_TMP/blk.sock" --bs 4k --verify \
		--timeout-ms "$BLKT_VERIFY_MS" "$@" >"$PVT_TMP/bench.out" 2>&1 &&
		grep -q "all reads matched" "$PVT_TMP/bench.out"; then
		tap_ok "$desc"
	else
		sed 's/^/# /' "$PVT_TMP/bench.out" "$PVT_TMP/pviod.log"
		tap_fail "$desc"
	fi
}

blkt_stop()
{
	local desc=$1 rc=0
	pvt_pviod_stop || rc=$?
	if [ "$rc" = 0 ] && ! grep -q "error:" "$PVT_TMP/pviod.log"; then
		tap_ok "$desc: pviod exited 0, logged no error"
	else
		sed 's/^/# pviod: /' "$PVT_TMP/pviod.log"
		tap_fail "$desc: pviod exited $rc or logged an error"
	fi
}

blkt_refused()
{
	local desc=$1 pat=$2 rc=0
	shift 2
	timeout "$BLKT_REFUSE_SECS" "$(pvt_bin pviod)" "$@" >"$PVT_TMP/out" 2>&1 || rc=$?
	sed 's/^/# /' "$PVT_TMP/out"
	if [ "$rc" = 1 ] && grep -q -- "$pat" "$PVT_TMP/out"; then
		tap_ok "$desc"
	else
		tap_fail "$desc (exit $rc)"
	fi
}
