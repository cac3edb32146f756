#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Self-test of scripts/tap-run: small fake TAP programs that pass, fail,
# skip, time out, crash, print no plan, print too few points, fail a nested
# subtest, leak a kernel splat, leave a daemon behind; checks the counts, the
# closing line, the exit status, CI=true skip handling and --results-dir /
# --summary aggregation.  The inner runs' output is kept in files and shown
# only as "# " diagnostics, so it cannot be mistaken for this test's TAP.
#
# tap-run: timeout=120

# The fake programs' bodies are single-quoted on purpose.
# shellcheck disable=SC2016
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
TAP_RUN=$root/scripts/tap-run
work=$(mktemp -d "${TMPDIR:-/tmp}/tap-run-test.XXXXXX")
trap 'rm -rf "$work"' EXIT

n=0
failed=0

# fake NAME BODY: a /bin/sh test program (BODY is single-quoted on purpose:
# it expands when the fake runs).
fake() {
	printf '#!/bin/sh\n%s\n' "$2" >"$work/$1"
	chmod +x "$work/$1"
}

fake pass 'echo "TAP version 13"; echo 1..3; echo "ok 1 - a"; echo "ok 2 - b # SKIP no kvm"; echo "ok 3 - c # XFAIL known"'
fake allskip 'echo 1..2; echo "ok 1 # SKIP no kvm"; echo "ok 2 # SKIP no kvm"'
fake allpass 'echo 1..2; echo "ok 1 a"; echo "ok 2 b"'
fake fail 'echo 1..2; echo "ok 1 - a"; echo "not ok 2 - b"; exit 1'
fake planskip 'echo "1..0 # SKIP no hugepages"; exit 4'
fake exit4 'exit 4'
fake slow '# timeout=1
echo 1..1; sleep 20; echo "ok 1"'
fake slow2 'echo 1..1; sleep 20; echo "ok 1"'
fake crash 'echo 1..2; echo "ok 1"; kill -SEGV $$'
fake noplan 'echo "ok 1"'
fake short 'echo 1..5; echo "ok 1"; echo "ok 2"'
fake nested 'echo 1..2; echo "    1..1"; echo "    ok 1 sub"; echo "ok 1 parent"; echo "    1..1"; echo "    not ok 1 inner"; echo "ok 2 parent2"'
fake splat 'echo 1..1; echo "[    1.234] WARNING: CPU: 0 PID: 1 at drivers/foo.c:1"; echo "ok 1"'
fake debugword 'echo 1..1; echo "# DEBUG: not a kernel BUG line"; echo "ok 1"'
fake badexit 'echo 1..1; echo "ok 1"; exit 3'
fake args 'echo "1..$#"; i=1; for a; do echo "ok $i arg $a"; i=$((i + 1)); done'
fake todo 'echo 1..2; echo "ok 1"; echo "not ok 2 later # TODO not yet"'
fake daemon 'sleep 60 & echo 1..1; echo "ok 1 left a sleeper"'
fake allowed '# tap-run: allow-skip
exit 4'

# expect NAME WANT_RC WANT_LAST_LINE [env...] -- tap-run args...
expect() {
	local name=$1 want_rc=$2 want_line=$3 out rc last
	shift 3
	local envs=()
	while [ "$1" != -- ]; do
		envs+=("$1")
		shift
	done
	shift
	n=$((n + 1))
	out=$work/out.$n
	rc=0
	(cd "$work" && env "${envs[@]}" "$TAP_RUN" "$@") >"$out" 2>&1 || rc=$?
	last=$(tail -n 1 "$out")
	if [ "$rc" = "$want_rc" ] && [ "$last" = "$want_line" ]; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		echo "# want rc=$want_rc, last line '$want_line'; got rc=$rc, '$last'"
		sed 's/^/#   | /' "$out"
		failed=$((failed + 1))
	fi
}

echo "TAP version 13"
echo "1..25"
expect "all pass" 0 "2 passed, 0 failed" CI= -- ./allpass
expect "pass with a skipped and an xfail point" 0 "2 passed, 0 failed, 1 skipped" CI= -- ./pass
expect "not ok fails" 1 "1 passed, 1 failed" CI= -- ./fail
expect "plan 1..0 with SKIP directive skips" 0 "0 passed, 0 failed, 1 skipped" CI= -- ./planskip
expect "exit 4 skips" 0 "0 passed, 0 failed, 1 skipped" CI= -- ./exit4
expect "CI=true: a skip fails" 1 "0 passed, 1 failed" CI=true -- ./exit4
expect "CI=true: a skipped point next to passes stays a skip" 0 "2 passed, 0 failed, 1 skipped" CI=true -- ./pass
expect "CI=true, TAP_RUN_STRICT_SKIP=1: a skipped point fails" 1 "2 passed, 1 failed" CI=true TAP_RUN_STRICT_SKIP=1 -- ./pass
expect "CI=true: every point skipped fails" 1 "0 passed, 2 failed" CI=true -- ./allskip
expect "every point skipped is a skip without CI" 0 "0 passed, 0 failed, 2 skipped" CI= -- ./allskip
expect "CI=true: allow-skip marker" 0 "0 passed, 0 failed, 1 skipped" CI=true -- ./allowed
expect "CI=true: TAP_RUN_ALLOW_SKIP" 0 "0 passed, 0 failed, 1 skipped" CI=true TAP_RUN_ALLOW_SKIP=exit4 -- ./exit4
expect "CI=true: --allow-skip" 0 "0 passed, 0 failed, 1 skipped" CI=true -- --allow-skip ./planskip
expect "timeout marker fails a slow test" 1 "0 passed, 2 failed" CI= -- ./slow
expect "TAP_RUN_TIMEOUT_<name> override" 1 "0 passed, 2 failed" CI= TAP_RUN_TIMEOUT_slow2=1 -- ./slow2
expect "crash by signal fails" 1 "1 passed, 2 failed" CI= -- ./crash
expect "no plan fails" 1 "1 passed, 1 failed" CI= -- ./noplan
expect "missing points fail" 1 "2 passed, 3 failed" CI= -- ./short
expect "nested not ok fails" 1 "2 passed, 1 failed" CI= -- ./nested
expect "kernel splat fails" 1 "1 passed, 1 failed" CI= -- ./splat
expect "DEBUG: is not a splat" 0 "1 passed, 0 failed" CI= -- ./debugword
expect "non-zero exit fails" 1 "1 passed, 1 failed" CI= -- ./badexit
expect "arguments and TODO" 0 "4 passed, 0 failed, 1 skipped" CI= -- "./args x y z" ./todo
expect "leftover daemon is killed, test passes" 0 "1 passed, 0 failed" CI= -- ./daemon

# Aggregation: two invocations and a recorded build failure, one summary.
n=$((n + 1))
agg=$work/results
rc=0
(
	cd "$work"
	CI='' "$TAP_RUN" --results-dir "$agg" --phase one ./allpass ./pass
	CI='' "$TAP_RUN" --results-dir "$agg" --phase two ./fail || true
	"$TAP_RUN" --results-dir "$agg" --phase three --record "build (make)" fail "make failed"
	"$TAP_RUN" --summary "$agg"
) >"$work/agg.out" 2>&1 || rc=$?
last=$(tail -n 1 "$work/agg.out")
closing=$(grep -Ec '^[0-9]+ passed, [0-9]+ failed' "$work/agg.out" || true)
if [ "$rc" = 1 ] && [ "$last" = "5 passed, 2 failed, 1 skipped" ] && [ "$closing" = 1 ]; then
	echo "ok $n - --results-dir and --summary aggregate into one closing line"
else
	echo "not ok $n - --results-dir and --summary aggregate into one closing line"
	echo "# want rc=1, one closing line '5 passed, 2 failed, 1 skipped'; got rc=$rc, $closing closing lines, '$last'"
	sed 's/^/#   | /' "$work/agg.out"
	failed=$((failed + 1))
fi

[ "$failed" -eq 0 ]
