# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# The shell tests' library (source it; bash): TAP output (tap.sh), the
# checks that decide whether a test can run here, and pviod and the other
# peers a test starts, stopped at its exit.
#
#   PVT_TOP, PVT_O           the repository; the build directory ($O, else build)
#   PVT_PVIOD                the pviod the tests run: $PVIO_PVIOD, else
#                            $PVT_O/pviod
#   pvt_need_built PATH...   SKIP (exit 4) unless each PATH is an executable
#   pvt_wait_sockets SECS PID SOCK...
#                            0 once every SOCK is a socket, within SECS seconds
#                            in all; 1 when one did not appear or PID exited
#   pvt_init NAME            TAP header, $PVT_TMP, EXIT trap
#   pvt_at_exit CMD          run CMD (a string) at exit, before the temp dir goes
#   pvt_bin NAME             $PVT_O/NAME, built with make when missing
#   pvt_pviod_start LOG ARGS...   start pviod (sets $PVT_PVIOD_PID) with the
#                            options ARGS, or the command ARGS; waits for
#                            every socket=... named in ARGS (10 s each)
#   pvt_pviod_stop           SIGTERM, wait; returns pviod's exit status
#   pvt_testpmd_can          0 when dpdk-testpmd and hugepages are usable,
#                            else prints why

PVT_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=tap.sh
. "$PVT_TOP/tests/lib/tap.sh"

PVT_O=${O:-build}
# shellcheck disable=SC2034 # read by the tests that source this file
PVT_PVIOD=${PVIO_PVIOD:-$PVT_TOP/$PVT_O/pviod}
PVT_TMP=
PVT_PVIOD_PID=
PVT_EXIT_CMDS=()

pvt_need_built()
{
	local p
	for p in "$@"; do
		[ -x "$p" ] || tap_skip_all "$p not built (make)"
	done
}

pvt_wait_sockets()
{
	local secs=$1 pid=$2 s i missing
	shift 2
	for ((i = 0; i <= secs * 10; i++)); do
		missing=0
		for s in "$@"; do
			[ -S "$s" ] || missing=1
		done
		[ "$missing" = 1 ] || return 0
		kill -0 "$pid" 2>/dev/null || return 1
		[ "$i" = $((secs * 10)) ] || sleep 0.1
	done
	return 1
}

pvt_cleanup()
{
	local c
	for c in "${PVT_EXIT_CMDS[@]}"; do
		eval "$c" >/dev/null 2>&1 || true
	done
	if [ -n "$PVT_PVIOD_PID" ]; then
		kill -TERM "$PVT_PVIOD_PID" 2>/dev/null || true
		wait "$PVT_PVIOD_PID" 2>/dev/null || true
	fi
	[ -z "$PVT_TMP" ] || rm -rf "$PVT_TMP"
}

pvt_at_exit()
{
	PVT_EXIT_CMDS+=("$1")
}

pvt_init()
{
	tap_begin
	PVT_TMP=$(mktemp -d "${TMPDIR:-/tmp}/pvio-$1.XXXXXX")
	trap pvt_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

pvt_bin()
{
	local p=$PVT_TOP/$PVT_O/$1
	if [ ! -x "$p" ]; then
		make -C "$PVT_TOP" --no-print-directory -s "O=$PVT_O" "$PVT_O/$1" >&2 || return 1
	fi
	echo "$p"
}

pvt_pviod_start()
{
	local log=$1 a s
	local cmd=()
	shift
	# Options only: the pviod binary is prepended; else a full command (ip netns exec ...).
	if [ "${1#--}" != "$1" ]; then
		cmd=("$(pvt_bin pviod)" "$@")
	else
		cmd=("$@")
	fi
	"${cmd[@]}" >"$log" 2>&1 &
	PVT_PVIOD_PID=$!
	for a in "$@"; do
		case $a in
		*socket=*)
			s=${a#*socket=}
			s=${s%%,*}
			pvt_wait_sockets 10 "$PVT_PVIOD_PID" "$s" || {
				sed 's/^/# pviod: /' "$log"
				return 1
			}
			;;
		esac
	done
}

pvt_pviod_stop()
{
	local rc=0
	[ -n "$PVT_PVIOD_PID" ] || return 0
	kill -TERM "$PVT_PVIOD_PID" 2>/dev/null || true
	wait "$PVT_PVIOD_PID" || rc=$?
	PVT_PVIOD_PID=
	return "$rc"
}

# pvt_pviod_term TENTHS: SIGTERM the pviod of pvt_pviod_start(), SIGKILL it
# if it still runs TENTHS tenths of a second later, and reap it.  Sets
# PVT_PVIOD_LINGERED (1: SIGTERM did not end it in time) and
# PVT_PVIOD_STATUS (its exit status).
# shellcheck disable=SC2034 # the two are the caller's to read
pvt_pviod_term()
{
	local pid=$PVT_PVIOD_PID i

	PVT_PVIOD_LINGERED=0
	PVT_PVIOD_STATUS=0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < $1; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		PVT_PVIOD_LINGERED=1
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" || PVT_PVIOD_STATUS=$?
	PVT_PVIOD_PID=
}

pvt_testpmd_can()
{
	command -v dpdk-testpmd >/dev/null 2>&1 || {
		echo "dpdk-testpmd not installed (apt-get install dpdk)"
		return 1
	}
	"$PVT_TOP/scripts/hugepages.sh" 512 >/dev/null 2>&1 || {
		echo "no hugepages for testpmd (scripts/hugepages.sh failed)"
		return 1
	}
}
