#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# fuzz_run.sh - run every libFuzzer target for a while, as TAP: one test point
# per target, its execution count and coverage in a diagnostic.
#
#   tests/fuzz/fuzz_run.sh                 smoke: FUZZ_SMOKE_SECONDS (5) each
#   tests/fuzz/fuzz_run.sh --seconds 600   what `make fuzz FUZZ_SECONDS=600` runs
#
# FUZZ_TARGETS="ring vu_msg" limits the targets.  The committed seeds in
# tests/fuzz/corpus/<t>/ are read, new inputs go to build-fuzz/corpus/<t>/,
# a crashing input to build-fuzz/crashes/ (its path is printed; copy it to
# tests/fuzz/corpus/<t>/regress-<what> once the bug is fixed).
# Skips (exit 4) when clang's libFuzzer is not installed.
# timeout=900
set -uo pipefail

cd "$(dirname "$0")/../.." || exit 1
seconds=${FUZZ_SMOKE_SECONDS:-5}
if [ "${1:-}" = --seconds ]; then
	seconds=$2
fi
out=build-fuzz
mkdir -p "$out"

if ! command -v clang >/dev/null; then
	echo "1..0 # SKIP clang not installed (apt-get install clang libclang-rt-14-dev)"
	exit 4
fi
if ! make --no-print-directory -s fuzz-build >"$out/build.log" 2>&1; then
	all=$(make --no-print-directory -s print-FUZZ_ALL)
	n=$(wc -w <<<"$all")
	echo "1..$n"
	sed 's/^/# /' "$out/build.log" | tail -20
	i=0
	for t in $all; do
		i=$((i + 1))
		echo "not ok $i fuzz_$t # build failed"
	done
	exit 1
fi
targets=${FUZZ_TARGETS:-$(make --no-print-directory -s print-FUZZ_ALL)}
read -r -a tlist <<<"$targets"
set -- "${tlist[@]}"
echo "TAP version 13"
echo "1..$#"
i=0
fail=0
for t in "$@"; do
	i=$((i + 1))
	mkdir -p "$out/corpus/$t" "$out/crashes"
	log="$out/fuzz_$t.log"
	# vu_msg inputs are message streams, ring inputs guest memory images.
	case $t in
	ring) max_len=32768 ;;
	vu_msg) max_len=16384 ;;
	*) max_len=4096 ;;
	esac
	"$out/fuzz_$t" -max_total_time="$seconds" -max_len="$max_len" -timeout=20 \
		-rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="$out/crashes/$t-" \
		"$out/corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -1)
	cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
	if [ $rc -eq 0 ] && [ -n "$runs" ]; then
		echo "ok $i fuzz_$t"
		echo "# fuzz_$t: $runs executions in ${seconds}s, $cov, corpus $(find "$out/corpus/$t" -type f | wc -l) new inputs"
	else
		fail=1
		echo "not ok $i fuzz_$t"
		echo "# fuzz_$t: exit $rc after ${runs:-?} executions; log $log"
		grep -E 'ERROR|SUMMARY|runtime error|Test unit written|fd leak|#[0-9]+ 0x' "$log" |
			head -15 | sed 's/==[0-9]*==ERROR/  ERROR/; s/^/#   /'
	fi
done
exit $fail
