# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Shared by the tests/backend/net_*.sh tests and frontend/bench/net_bench.sh
# (source it): TAP helpers, a temp dir, pviod start/stop, and a cleanup trap
# for everything the test started.
#
#   net_init NAME            TAP header, $NET_TMP, EXIT trap
#   net_pviod_start LOG ARGS...   start pviod (sets $NET_PVIOD_PID) with the
#                            options ARGS, or the command ARGS; waits for
#                            every socket=... named in ARGS
#   net_pviod_stop           SIGTERM, wait; returns pviod's exit status
#   net_at_exit CMD          run CMD (a string) at exit, before the temp dir goes
#   net_testpmd_can          0 when dpdk-testpmd and hugepages are usable,
#                            else prints why

NET_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../lib/tap.sh
. "$NET_TOP/tests/lib/tap.sh"

NET_O=${O:-build}
NET_TMP=
NET_PVIOD_PID=
NET_EXIT_CMDS=()

net_cleanup()
{
	local c
	for c in "${NET_EXIT_CMDS[@]}"; do
		eval "$c" >/dev/null 2>&1 || true
	done
	if [ -n "$NET_PVIOD_PID" ]; then
		kill -TERM "$NET_PVIOD_PID" 2>/dev/null || true
		wait "$NET_PVIOD_PID" 2>/dev/null || true
	fi
	[ -z "$NET_TMP" ] || rm -rf "$NET_TMP"
}

net_at_exit()
{
	NET_EXIT_CMDS+=("$1")
}

net_init()
{
	tap_begin
	NET_TMP=$(mktemp -d "${TMPDIR:-/tmp}/pvio-$1.XXXXXX")
	trap net_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

net_bin()
{
	local p=$NET_TOP/$NET_O/$1
	if [ ! -x "$p" ]; then
		make -C "$NET_TOP" --no-print-directory -s "O=$NET_O" "$NET_O/$1" >&2 || return 1
	fi
	echo "$p"
}

net_pviod_start()
{
	local log=$1 a s i cmd
	shift
	# Options only: the pviod binary is prepended; else a full command (ip netns exec ...).
	if [ "${1#--}" != "$1" ]; then
		cmd=("$(net_bin pviod)" "$@")
	else
		cmd=("$@")
	fi
	"${cmd[@]}" >"$log" 2>&1 &
	NET_PVIOD_PID=$!
	for a in "$@"; do
		case $a in
		*socket=*)
			s=${a#*socket=}
			s=${s%%,*}
			for ((i = 0; i < 100; i++)); do
				[ -S "$s" ] && break
				kill -0 "$NET_PVIOD_PID" 2>/dev/null || break
				sleep 0.1
			done
			[ -S "$s" ] || {
				sed 's/^/# pviod: /' "$log"
				return 1
			}
			;;
		esac
	done
}

net_pviod_stop()
{
	local rc=0
	[ -n "$NET_PVIOD_PID" ] || return 0
	kill -TERM "$NET_PVIOD_PID" 2>/dev/null || true
	wait "$NET_PVIOD_PID" || rc=$?
	NET_PVIOD_PID=
	return "$rc"
}

net_testpmd_can()
{
	command -v dpdk-testpmd >/dev/null 2>&1 || {
		echo "dpdk-testpmd not installed (apt-get install dpdk)"
		return 1
	}
	"$NET_TOP/scripts/hugepages.sh" 512 >/dev/null 2>&1 || {
		echo "no hugepages for testpmd (scripts/hugepages.sh failed)"
		return 1
	}
}
