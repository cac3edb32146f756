#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# pviod --cpus: each worker thread (named pviod-wN) runs on the CPUs of its
# entry, the list taken again from the first entry for workers beyond it;
# other threads keep the process's CPUs.  A bad list exits 2, a CPU the
# process may not use exits 1, each with a message.
#
# timeout=60
set -euo pipefail

# shellcheck source=../lib/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/lib.sh"
pvt_init cpus
pviod=$(pvt_bin pviod)
truncate -s 1M "$PVT_TMP/disk.img"
dev="blk,socket=$PVT_TMP/b.sock,file=$PVT_TMP/disk.img"

# The CPUs this test may use: the first and the last of them.
allowed=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)
first=$(echo "$allowed" | tr ',-' '\n' | head -1)
last=$(echo "$allowed" | tr ',-' '\n' | tail -1)

# worker_cpus N: the Cpus_allowed_list of worker N of the running pviod.
worker_cpus()
{
	local t
	for t in /proc/"$PVT_PVIOD_PID"/task/*; do
		if [ "$(cat "$t/comm")" = "pviod-w$1" ]; then
			sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "$t/status"
			return 0
		fi
	done
	echo none
}

pvt_pviod_start "$PVT_TMP/a.log" --workers 3 --cpus "$last,$first" --device "$dev"
tap_check "worker 0 on CPU $last" [ "$(worker_cpus 0)" = "$last" ]
tap_check "worker 1 on CPU $first" [ "$(worker_cpus 1)" = "$first" ]
tap_check "worker 2 takes the first entry again" [ "$(worker_cpus 2)" = "$last" ]
tap_check "the control thread keeps the process's CPUs" \
	[ "$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/"$PVT_PVIOD_PID"/status)" = "$allowed" ]
tap_check "the placement is logged" grep -q "worker 1 on CPUs $first\$" "$PVT_TMP/a.log"
pvt_pviod_stop
tap_ok "pviod with --cpus exits 0"

if [ "$first" != "$last" ]; then
	pvt_pviod_start "$PVT_TMP/b.log" --workers 1 --cpus "$first-$last" --device "$dev"
	tap_check "a range: worker 0 on CPUs $first-$last" [ "$(worker_cpus 0)" = "$first-$last" ]
	pvt_pviod_stop
else
	tap_skip "a range of CPUs" "one CPU only"
fi

# expect RC PATTERN ARGS...
expect()
{
	local rc=$1 pattern=$2 got=0
	shift 2
	timeout 10 "$pviod" "$@" --device "$dev" >"$PVT_TMP/out" 2>&1 || got=$?
	if [ "$got" = "$rc" ] && grep -qE -- "$pattern" "$PVT_TMP/out"; then
		tap_ok "pviod $* -> exit $rc, says '$pattern'"
	else
		tap_fail "pviod $* -> exit $got (expected $rc), output:"
		sed 's/^/#   /' "$PVT_TMP/out"
	fi
}

expect 2 "--cpus 0,x: expected a CPU list" --cpus 0,x
expect 2 "--cpus 0,: expected a CPU list" --cpus 0,
expect 2 "--cpus 3-1: expected a CPU list" --cpus 3-1
expect 2 "--cpus 99999: expected a CPU list" --cpus 99999
# The last CPU a cpu_set_t holds: not one this machine lets us use.
expect 1 "worker 0: cannot run on CPUs 1023" --cpus 1023
tap_end
