#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Smoke test of frontend/bench/ring_bench.sh (issue 18's packed / split
# table), so that it cannot rot between benchmark runs:
#
#   - one round of the real pvio-ringbench with few requests: exit 0, the
#     table's header, one row per batch, notify mode and format with
#     numbers where they belong, ratios and a verdict on the packed rows
#     only, the closing verdict lines, the load average, and raw.txt;
#   - a fake pvio-ringbench whose packed round trip is twice split's: still
#     exit 0, every packed row MISSED with ratio 2.000, said in the closing
#     line; one whose round trips grow run after run: every packed row
#     marked noisy, said in a closing line;
#   - a fake that fails, one that prints no JSON, one that ignores --packed
#     and one that prints a zero figure: each makes ring_bench.sh exit
#     non-zero.
#
# tap-run: timeout=120
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
O=${O:-build}
BENCH=$root/frontend/bench/ring_bench.sh
RINGBENCH=$root/$O/pvio-ringbench
work=$(mktemp -d "${TMPDIR:-/tmp}/ring-bench-test.XXXXXX")
trap 'rm -rf "$work"' EXIT

n=0
failed=0

# check NAME CMD...: one test point, passing when CMD succeeds.
check()
{
	local name=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		failed=$((failed + 1))
	fi
}

# show FILE: FILE as TAP diagnostics.
show()
{
	sed 's/^/# /' "$1"
}

echo "TAP version 13"
echo "1..12"

if [ ! -x "$RINGBENCH" ]; then
	# The real run needs the benchmark built; without it the test fails.
	echo "# $RINGBENCH is not built (make)"
	for i in $(seq 12); do
		echo "not ok $i - pvio-ringbench built"
	done
	exit 1
fi

# The real benchmark, one round.
rc=0
"$BENCH" --rounds 1 --requests 16384 --out "$work/real" >"$work/real.out" 2>"$work/real.err" || rc=$?
check "one real round exits 0" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || { show "$work/real.out"; show "$work/real.err"; }

# table_ok FILE BATCHES NOTIFY VERDICT_RE [NOISY]: every row of the table in
# place; a packed row's verdict may be followed by NOISY ("(noisy)" unless
# given: "" for none allowed).
table_ok()
{
	awk -v batches="$2" -v notify="$3" -v verdict="$4" -v noisy="${5-(noisy)}" '
		BEGIN {
			nb = split(batches, B, " ")
			nn = split(notify, N, " ")
			nf = split("split packed split+in-order packed+in-order", F, " ")
			for (i = 1; i <= nb; i++)
				for (j = 1; j <= nn; j++)
					for (k = 1; k <= nf; k++)
						want[++w] = B[i] " " N[j] " " F[k]
			num = "^[0-9]+\\.[0-9]+$"
			cell = "^\\[[0-9]+\\.[0-9]+-[0-9]+\\.[0-9]+\\]$"
		}
		/^batch notify format / { head++; next }
		/^#/ { next }
		{
			row++
			if ($1 " " $2 " " $3 != want[row]) { print "# row " row ": " $0 " (want " want[row] ")"; bad++; next }
			if ($4 !~ num || $5 !~ cell || $6 !~ num || $7 !~ cell) { print "# row " row ": figures: " $0; bad++; next }
			if ($3 ~ /^packed/) {
				if ($8 !~ num || $9 !~ num || $10 !~ verdict || NF > 11 || (NF == 11 && $11 != noisy)) {
					print "# row " row ": ratios: " $0; bad++
				}
			} else if ($8 != "-" || $9 != "-" || $10 != "-" || NF != 10) {
				print "# row " row ": split row with ratios: " $0; bad++
			}
		}
		END {
			if (head != 1 || row != w) { print "# " head " headers, " row " rows, want 1 and " w; bad++ }
			exit bad > 0
		}' "$1"
}

check "table: one row per batch, notify and format, figures and verdicts" \
	table_ok "$work/real.out" "1 8 32 128" "sleep none" "^(met|MISSED)$"
check "table: load average before and after" \
	grep -Eq '^# load average [0-9.]+ [0-9.]+ [0-9.]+ before, [0-9.]+ [0-9.]+ [0-9.]+ after' "$work/real.out"
# closing_ok FILE: both closing verdict lines, over 8 points.
closing_ok()
{
	[ "$(grep -Ec '^# (target packed|in order, packed\+in-order) rtt_ns <= split(\+in-order)?: (met at all 8 points|MISSED at [1-8] of 8 points)' "$1")" -eq 2 ]
}

check "table: both closing verdict lines" closing_ok "$work/real.out"
# raw_ok DIR OUT: DIR's raw.txt has the 32 runs, its table.txt is OUT.
raw_ok()
{
	[ "$(wc -l <"$1/raw.txt")" -eq 32 ] && cmp -s "$1/table.txt" "$2"
}

check "raw.txt: 32 runs, table.txt: the table" raw_ok "$work/real" "$work/real.out"

# fake NAME MODE: a pvio-ringbench that echoes its case as JSON; MODE slow
# doubles the packed round trip, noisy makes each round's (8 runs) ten
# times the round before's, fail exits 1, garbage prints text,
# nopacked reports split whatever it is asked, zero prints ns_per_req 0.
fake()
{
	cat >"$work/$1" <<EOF
#!/usr/bin/env bash
mode=$2
EOF
	cat >>"$work/$1" <<'EOF'
fmt=split io=false ev=true notify=sleep batch=1
while [ $# -gt 0 ]; do
	case $1 in
	--packed) fmt=packed ;;
	--in-order) io=true ;;
	--batch) batch=$2; shift ;;
	--notify) notify=$2; shift ;;
	--event-idx) [ "$2" = 1 ] || ev=false; shift ;;
	esac
	shift
done
rtt=100 ns=10.00
[ "$fmt" = split ] || rtt=200
if [ "$mode" = noisy ]; then
	# Each run's round trip ten times the one before.
	count=$(cat "$0.count" 2>/dev/null || echo 0)
	echo $((count + 1)) >"$0.count"
	rtt=$((rtt * 10 ** (count / 8)))
fi
case $mode in
fail) echo "fake: failing" >&2; exit 1 ;;
garbage) echo "pvio-ringbench: not JSON"; exit 0 ;;
nopacked) fmt=split ;;
zero) ns=0.00 ;;
esac
echo "{\"format\": \"$fmt\", \"in_order\": $io, \"notify\": \"$notify\", \"batch\": $batch, \"event_idx\": $ev, \"ns_per_req\": $ns, \"rtt_ns\": $rtt.0, \"num\": 256}"
EOF
	chmod +x "$work/$1"
}

for m in slow noisy fail garbage nopacked zero; do
	fake "$m" "$m"
done

rc=0
"$BENCH" --rounds 3 --requests 16384 --batches "1 8" --notify sleep --event-idx 0 \
	--ringbench "$work/slow" --out "$work/slow.d" >"$work/slow.out" 2>&1 || rc=$?
check "missed target: exit 0" [ "$rc" -eq 0 ]
# slow_ok FILE: every packed row MISSED, rtt ratio 2, ns/req ratio 1.
slow_ok()
{
	table_ok "$1" "1 8" sleep "^MISSED$" "" &&
		[ "$(awk '$3 ~ /^packed/ && $8 == "2.000" && $9 == "1.000"' "$1" | wc -l)" -eq 4 ] &&
		grep -q '^# target packed rtt_ns <= split: MISSED at 2 of 2 points: batch 1 sleep (2.000); batch 8 sleep (2.000)$' "$1"
}

check "missed target: every packed row MISSED at 2.000" slow_ok "$work/slow.out"
[ "$failed" -eq 0 ] || show "$work/slow.out"

rc=0
"$BENCH" --rounds 3 --requests 16384 --batches "1 8" --notify none \
	--ringbench "$work/noisy" --out "$work/noisy.d" >"$work/noisy.out" 2>&1 || rc=$?

# noisy_ok FILE: every packed row marked noisy, and the closing line.
noisy_ok()
{
	[ "$rc" -eq 0 ] && table_ok "$1" "1 8" none "^(met|MISSED)$" &&
		[ "$(awk '$3 ~ /^packed/ && $11 == "(noisy)"' "$1" | wc -l)" -eq 4 ] &&
		grep -q '^# NOISY: 4 of 4 packed rows compare an rtt_ns median over 1.5x its minimum' "$1"
}

check "noisy figures: exit 0, every packed row marked, a closing line" noisy_ok "$work/noisy.out"
[ "$failed" -eq 0 ] || show "$work/noisy.out"

# fails NAME: ring_bench.sh with fake NAME exits non-zero and says why.
fails()
{
	local rc=0
	"$BENCH" --rounds 1 --requests 16384 --batches 1 --notify none --ringbench "$work/$1" \
		--out "$work/$1.d" >"$work/$1.out" 2>&1 || rc=$?
	[ "$rc" -ne 0 ] && grep -q '^ring_bench: error: ' "$work/$1.out" && ! grep -q '^batch ' "$work/$1.out"
}

check "a failing run: exit non-zero" fails fail
check "output that is not JSON: exit non-zero" fails garbage
check "JSON of another case: exit non-zero" fails nopacked
check "a zero figure: exit non-zero" fails zero

[ "$failed" -eq 0 ]
