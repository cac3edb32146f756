#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# ring_bench.sh - issue 18's table: packed against split ring round trips,
# same run.  pvio-ringbench runs one format per invocation; this runs
# split, packed and the VIRTIO_F_IN_ORDER variant of each (split+in-order,
# packed+in-order) for every batch size and notify mode, in --rounds
# rounds.  Within a round each point runs the four formats back to back,
# in an order that reverses from one round to the next, so load from other
# work on the machine hits them alike.  Each run is one pvio-ringbench
# --json --reps 1 case with EVENT_IDX on (--event-idx 0 for off).
#
# Per batch, notify mode and format the table gives the median and
# [min-max] over the rounds of rtt_ns (one batch alone in the ring, added
# and reaped) and ns/req (steady-state cost per request); on the packed
# rows, the median over rounds of packed / split of the same round (in-order
# against in-order), for both; and the target's verdict, packed rtt_ns <=
# split (the rtt ratio at most 1), marked "(noisy)" when the packed or
# split rtt_ns median is over 1.5 times its minimum (a side lost its CPU to
# other work for most of a run).  The load average is printed before and
# after.  A missed target is said in the table and the closing lines, not
# in the exit status (this is a benchmark); a run that fails or prints
# something that does not parse makes it exit 1.
#
#   frontend/bench/ring_bench.sh                   9 rounds of 400000 requests
#   frontend/bench/ring_bench.sh --rounds 5 --batches "1 8" --notify sleep
#
# Options (each defaults to its PVIO_RING_BENCH_* variable, then as shown):
#   --rounds N         rounds (ROUNDS, default 9; about 90 s in all)
#   --requests N       requests per run, >= 16384 (REQUESTS, default 400000)
#   --batches "LIST"   batch sizes (BATCHES, default "1 8 32 128")
#   --notify "LIST"    sleep and/or none (NOTIFY, default "sleep none")
#   --event-idx 0|1    EVENT_IDX off / on (EVENT_IDX, default 1)
#   --out DIR          raw.txt (every run) and table.txt (OUT, default build/ring-bench)
#   --ringbench PATH   the pvio-ringbench to run (RINGBENCH, default build/pvio-ringbench)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
O=${O:-build}
ROUNDS=${PVIO_RING_BENCH_ROUNDS:-9}
REQUESTS=${PVIO_RING_BENCH_REQUESTS:-400000}
BATCHES=${PVIO_RING_BENCH_BATCHES:-1 8 32 128}
NOTIFY=${PVIO_RING_BENCH_NOTIFY:-sleep none}
EVENT_IDX=${PVIO_RING_BENCH_EVENT_IDX:-1}
OUT=${PVIO_RING_BENCH_OUT:-$ROOT/$O/ring-bench}
RINGBENCH=${PVIO_RING_BENCH_RINGBENCH:-$ROOT/$O/pvio-ringbench}
FORMATS="split packed split+in-order packed+in-order"
# shellcheck source=bench_lib.sh
. "$ROOT/frontend/bench/bench_lib.sh"

die()
{
	echo "ring_bench: error: $*" >&2
	exit 1
}

while [ $# -gt 0 ]; do
	case $1 in
	--rounds) ROUNDS=${2:?}; shift ;;
	--requests) REQUESTS=${2:?}; shift ;;
	--batches) BATCHES=${2:?}; shift ;;
	--notify) NOTIFY=${2:?}; shift ;;
	--event-idx) EVENT_IDX=${2:?}; shift ;;
	--out) OUT=${2:?}; shift ;;
	--ringbench) RINGBENCH=${2:?}; shift ;;
	-h | --help)
		sed -n '3,/^set -euo pipefail$/{/^set /d;p}' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*) die "unknown option '$1' (see --help)" ;;
	esac
	shift
done
case $ROUNDS in '' | *[!0-9]* | 0) die "--rounds '$ROUNDS': want a positive integer" ;; esac
# pvio-ringbench's ns/req is a median over chunks of 8192 requests after the
# first: fewer than two chunks leave it 0.
case $REQUESTS in '' | *[!0-9]*) die "--requests '$REQUESTS': want an integer of at least 16384" ;; esac
[ "$REQUESTS" -ge 16384 ] || die "--requests $REQUESTS: want at least 16384 (two chunks of 8192)"
case $EVENT_IDX in 0 | 1) ;; *) die "--event-idx '$EVENT_IDX': want 0 or 1" ;; esac
[ -n "${BATCHES// /}" ] || die "--batches is empty"
for b in $BATCHES; do
	case $b in '' | *[!0-9]* | 0) die "--batches: '$b' is not a positive integer" ;; esac
done
[ -n "${NOTIFY// /}" ] || die "--notify is empty"
for n in $NOTIFY; do
	case $n in sleep | none) ;; *) die "--notify: '$n' is not sleep or none" ;; esac
done
[ -x "$RINGBENCH" ] || die "$RINGBENCH is not built (make)"
mkdir -p "$OUT"
RAW=$OUT/raw.txt
ERR=$OUT/run.err
: >"$RAW"

# run ROUND BATCH NOTIFY FORMAT: one pvio-ringbench case; appends
# "ROUND BATCH NOTIFY FORMAT RTT_NS NS_PER_REQ" to $RAW after checking that
# the JSON line describes the case asked for and carries two positive numbers.
run()
{
	local args=(--json --reps 1 --requests "$REQUESTS" --batch "$2" --event-idx "$EVENT_IDX"
		--notify "$3") fmt=split io=false ev=false out line f
	case $4 in
	packed*) fmt=packed args+=(--packed) ;;
	esac
	case $4 in
	*+in-order) io=true args+=(--in-order) ;;
	esac
	[ "$EVENT_IDX" = 0 ] || ev=true
	out=$("$RINGBENCH" "${args[@]}" 2>"$ERR") ||
		die "'$RINGBENCH ${args[*]}' failed (exit $?): $(head -c 400 "$ERR")"
	[ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] ||
		die "'$RINGBENCH ${args[*]}' printed $(printf '%s\n' "$out" | wc -l) lines, want one JSON object"
	# One flat JSON object: "key": value pairs, strings without commas.
	line=$(printf '%s\n' "$out" | awk '/^\{.*\}$/ {
		gsub(/^\{|\}$|"/, "")
		n = split($0, kv, /, */)
		for (i = 1; i <= n; i++) {
			split(kv[i], p, /: */)
			v[p[1]] = p[2]
		}
		print v["format"], v["in_order"], v["notify"], v["batch"], v["event_idx"],
			v["rtt_ns"], v["ns_per_req"]
	}')
	read -r -a f <<<"$line"
	if ! { [ "${#f[@]}" -eq 7 ] && [ "${f[0]}" = "$fmt" ] && [ "${f[1]}" = "$io" ] &&
		[ "${f[2]}" = "$3" ] && [ "${f[3]}" = "$2" ] && [ "${f[4]}" = "$ev" ] &&
		[[ ${f[5]} =~ ^[0-9]+(\.[0-9]+)?$ ]] && [[ ${f[6]} =~ ^[0-9]+(\.[0-9]+)?$ ]] &&
		awk -v a="${f[5]}" -v b="${f[6]}" 'BEGIN { exit !(a > 0 && b > 0) }'; }; then
		die "'$RINGBENCH ${args[*]}' printed what does not parse as its case" \
			"(or a zero figure): $out"
	fi
	echo "$1 $2 $3 $4 ${f[5]} ${f[6]}" >>"$RAW"
}

# col FIELD BATCH NOTIFY FORMAT: the values of FIELD (5 rtt_ns, 6 ns/req).
col()
{
	awk -v f="$1" -v b="$2" -v n="$3" -v t="$4" '$2 == b && $3 == n && $4 == t { print $f }' "$RAW"
}

# ratio FIELD BATCH NOTIFY A B: median of A / B over the rounds, each round's
# A divided by the same round's B.
ratio()
{
	# shellcheck disable=SC2046 # one number a word
	bench_median $(awk -v f="$1" -v b="$2" -v n="$3" -v x="$4" -v y="$5" '
		$2 == b && $3 == n && $4 == x { a[$1] = $f }
		$2 == b && $3 == n && $4 == y { d[$1] = $f }
		END { for (r in a) if (r in d) printf "%.6f\n", a[r] / d[r] }' "$RAW")
}

# cell FIELD BATCH NOTIFY FORMAT: "median [min-max]", rtt_ns to 0.1 ns,
# ns/req to 0.01.
cell()
{
	local s p=1
	[ "$1" = 5 ] || p=2
	# shellcheck disable=SC2046 # one number a word
	read -r -a s <<<"$(bench_stats $(col "$@"))"
	printf "%.${p}f [%.${p}f-%.${p}f]" "${s[0]}" "${s[1]}" "${s[2]}"
}

# noisy BATCH NOTIFY FORMAT...: whether the rtt_ns median of any FORMAT is
# over NOISE times its minimum.  A lone round trip does not vary by half
# on a quiet machine; when it does, a side lost its CPU to other work in
# most of a run, and a verdict drawn from such figures says little.
NOISE=1.5
noisy()
{
	local b=$1 n=$2 f
	shift 2
	for f in "$@"; do
		# shellcheck disable=SC2046 # one number a word
		bench_stats $(col 5 "$b" "$n" "$f") |
			awk -v k="$NOISE" '{ exit !($1 > k * $2) }' && return 0
	done
	return 1
}

load0=$(bench_load)
loads=()
start=$(date +%s)
for r in $(seq "$ROUNDS"); do
	order=$FORMATS
	[ $((r % 2)) -eq 1 ] || order=$(echo "$FORMATS" | tr ' ' '\n' | tac | paste -sd' ')
	loads+=("$(cut -d' ' -f1 /proc/loadavg)")
	for b in $BATCHES; do
		for n in $NOTIFY; do
			for f in $order; do
				run "$r" "$b" "$n" "$f"
			done
		done
	done
	echo "# ring_bench: round $r of $ROUNDS done ($order), $(($(date +%s) - start)) s" >&2
done
load1=$(bench_load)

points=0 missed=() missed_io=() noise=()
{
	echo "# ring_bench: pvio-ringbench, $ROUNDS rounds of $REQUESTS requests, event_idx $EVENT_IDX," \
		"formats interleaved (order reversed every round); median [min-max] over rounds;"
	echo "# ratios: median over rounds of packed / split of the same round (in-order against in-order)"
	echo "# load average $load0 before, $load1 after (1-min at each round's start:" \
		"$(bench_stats "${loads[@]}" | awk '{ printf "median %.2f, %.2f-%.2f", $1, $2, $3 }'))"
	printf '%5s %-6s %-16s %-26s %-24s %9s %8s  %s\n' batch notify format \
		"rtt_ns median [min-max]" "ns/req median [min-max]" rtt/split ns/split \
		"packed rtt <= split"
	for b in $BATCHES; do
		for n in $NOTIFY; do
			for f in $FORMATS; do
				rr=- rn=- verdict=-
				case $f in
				packed*)
					base=${f/packed/split}
					rr=$(printf '%.3f' "$(ratio 5 "$b" "$n" "$f" "$base")")
					rn=$(printf '%.3f' "$(ratio 6 "$b" "$n" "$f" "$base")")
					if awk -v x="$rr" 'BEGIN { exit !(x <= 1) }'; then
						verdict=met
					else
						verdict=MISSED
					fi
					if [ "$verdict" = met ]; then
						:
					elif [ "$f" = packed ]; then
						missed+=("batch $b $n ($rr)")
					else
						missed_io+=("batch $b $n ($rr)")
					fi
					if noisy "$b" "$n" "$f" "$base"; then
						verdict="$verdict (noisy)"
						noise+=("batch $b $n $f")
					fi
					[ "$f" != packed ] || points=$((points + 1))
					;;
				esac
				printf '%5s %-6s %-16s %-26s %-24s %9s %8s  %s\n' "$b" "$n" "$f" \
					"$(cell 5 "$b" "$n" "$f")" "$(cell 6 "$b" "$n" "$f")" "$rr" "$rn" "$verdict"
			done
		done
	done
	if [ "${#missed[@]}" -eq 0 ]; then
		echo "# target packed rtt_ns <= split: met at all $points points"
	else
		echo "# target packed rtt_ns <= split: MISSED at ${#missed[@]} of $points points:" \
			"$(printf '%s; ' "${missed[@]}" | sed 's/; $//')"
	fi
	if [ "${#missed_io[@]}" -eq 0 ]; then
		echo "# in order, packed+in-order rtt_ns <= split+in-order: met at all $points points"
	else
		echo "# in order, packed+in-order rtt_ns <= split+in-order: MISSED at ${#missed_io[@]} of" \
			"$points points: $(printf '%s; ' "${missed_io[@]}" | sed 's/; $//')"
	fi
	if [ "${#noise[@]}" -gt 0 ]; then
		echo "# NOISY: ${#noise[@]} of $((2 * points)) packed rows compare an rtt_ns median over" \
			"${NOISE}x its minimum (other work took a CPU for most of a run): their verdicts" \
			"say little; rerun on a quieter machine (the load average above)"
	fi
	echo "# raw figures: $RAW; $(($(date +%s) - start)) s"
} | tee "$OUT/table.txt"
