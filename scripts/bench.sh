#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The benchmarks: what `make bench` runs (after `make`).
#
# Runs every command in $(BENCHES) (from the fragments, via `make
# print-BENCHES`), one after the other, and prints its output as it comes.
# In the list, a word that starts with '-' or holds no '/' is an argument of
# the command before it: "build/pvio-ringbench --json build/pvio-bench" is
# two commands.  Extra arguments to this script are appended to every
# command (e.g. `scripts/bench.sh --json`).
#
# Exit status: non-zero if any benchmark fails or is missing; when the list
# is empty it says so and exits 0 -- it never prints numbers it did not
# measure.
set -euo pipefail

cd "$(dirname "$0")/.."

mapfile -t words < <(make --no-print-directory -s print-BENCHES | tr -s '[:space:]' '\n' | sed '/^$/d')
cmds=()
cur=
for w in "${words[@]}"; do
	if [ -n "$cur" ] && { [[ $w == -* ]] || [[ $w != */* ]]; }; then
		cur="$cur $w"
	else
		[ -z "$cur" ] || cmds+=("$cur")
		cur=$w
	fi
done
[ -z "$cur" ] || cmds+=("$cur")

if [ "${#cmds[@]}" -eq 0 ]; then
	echo "bench.sh: no benchmarks registered yet (BENCHES is empty); nothing was measured"
	exit 0
fi

failed=0
for c in "${cmds[@]}"; do
	read -r -a argv <<<"$c"
	echo "# ==== bench: $c $* ===="
	if [ ! -x "${argv[0]}" ]; then
		echo "bench.sh: error: ${argv[0]} is missing or not executable (did 'make' build it?)" >&2
		failed=$((failed + 1))
		continue
	fi
	rc=0
	"${argv[@]}" "$@" </dev/null || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "bench.sh: error: '$c' exited with status $rc" >&2
		failed=$((failed + 1))
	fi
done
echo "bench.sh: ${#cmds[@]} benchmark(s) run, $failed failed"
[ "$failed" -eq 0 ]
