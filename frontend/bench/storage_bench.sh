#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# storage_bench.sh - issue 15's comparison: pviod's NBD and RBD engines
# against qemu-storage-daemon (--blockdev driver=nbd / driver=rbd, exported
# as vhost-user-blk) and fio's own nbd and rbd engines, on the same back-end
# in the same run: 4 KiB randread and randwrite at QD1 and QD32, pvio-bench
# as the client of the vhost-user daemons.
#
#   nbd  an nbdkit memory export on a Unix socket (multi-conn)
#   rbd  an image in a throwaway one-mon one-OSD memstore cluster
#        (tests/lib/ceph.sh; it takes flock /tmp/pvio-global.lock itself),
#        librbd's cache off for every contender: pviod turns it off itself
#        (a write completes once the OSDs have it, Documentation/storage.rst),
#        qemu-storage-daemon with cache.direct=on (QEMU sets rbd_cache=false
#        then) and fio through "rbd cache = false" in the cluster's conf.
#        With librbd's defaults fio's writes run write-around (librbd logs
#        "first user flush: enabling write-around" in fio before its first
#        write) and complete before the OSDs have them: randwrite at QD1
#        measured 3x everyone's, a cache against engines.
#
# The contenders:
#   pviod        pviod and pvio-bench as users start them (the defaults)
#   pviod-tuned  pviod's best mode (Documentation/pvio-bench.rst):
#                pviod --poll on --poll-budget 200 on the last CPU,
#                pvio-bench --poll-budget 200 on CPU 0
#   qsd          qemu-storage-daemon, pvio-bench by default
#   fio          fio's nbd / rbd engine
#
# Every round runs every contender on all four cells, the order of the
# contenders rotating by one from round to round (so each goes first
# equally often when the rounds are a multiple of the contenders).  A
# warm-up round (--warmup) comes first and is not counted: the first
# round after the fill ran up to 2x faster than the later ones (RBD
# randwrite QD32: 9566 IOPS, then about 5200), a gift to whoever the
# rotation put first.  The export and the Ceph
# cluster stay up for the whole run (filled once); each vhost-user daemon is
# started afresh for its turn in every round and stopped after it, as fio
# connects afresh for every cell: all contenders start alike, and only the
# one measured runs (an idle tuned pviod would keep polling otherwise).
#
# Placement (--pin): unpinned, the scheduler puts the client, the daemon and
# the server where it likes, and on 2 CPUs that decides the QD1 cells (which
# of the three shares a CPU with which).  --pin runs every round once more
# per placement asked for, every contender alike: the client (pvio-bench,
# or fio, which is its own client) on CPU 0, the vhost-user daemon on the
# last CPU, and nbdkit (every thread of it) on the client's CPU
# ("nbdkit-client"), on the daemon's ("nbdkit-daemon"), or each in turn
# ("both"); pviod-tuned is pinned so in every placement.  On rbd the Ceph
# daemons are not moved: one pinned placement, "server free".  Each
# placement gets its own table, the unpinned one first.
#
# Prints the median IOPS per cell and contender, the ratios pviod/qsd
# (target >= 1.0) and pviod/fio (target >= 0.9) for the default and the
# tuned pviod (each the median over the rounds of that round's ratio),
# each marked ok or NO, then the spread (min-max over the
# rounds), and the load average at the start and the end; the table also
# goes to OUT/storage.txt.  A pvio-bench run that fails (e.g. a request
# not completed within 30 s) is left out of the medians and listed.
#
#   frontend/bench/storage_bench.sh             5 rounds of 3 s per cell, nbd and rbd
#   frontend/bench/storage_bench.sh --runtime 1 --rounds 2 --backends nbd   a sanity run
#   frontend/bench/storage_bench.sh --backends nbd --contenders "pviod fio" --rw randread --qd 32
#                                               one cell, while working on it
#
# Options:
#   --rounds N         rounds (default 5)
#   --warmup N         rounds run first and not counted (default 1)
#   --runtime SEC      seconds per cell (default 3)
#   --backends "LIST"  nbd and/or rbd (default "nbd rbd"; rbd only with ceph installed)
#   --size BYTES       export / image size (default 256M)
#   --out DIR          where storage.txt goes (default build/bench)
#   --pin WHERE        also run pinned (see Placement): nbdkit-client,
#                      nbdkit-daemon or both (default: unpinned only)
#   --contenders "LIST"  run only these (default "pviod pviod-tuned qsd fio");
#                      the others' columns read nan, their ratios -
#   --rw "LIST"        randread and/or randwrite (default both)
#   --qd "LIST"        queue depths (default "1 32")
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
O=${O:-build}
BUILD=$ROOT/$O
ROUNDS=5
WARMUP=1
RUNTIME=3
BUDGET=200
CONTENDERS=(pviod pviod-tuned qsd fio)
RUN=("${CONTENDERS[@]}")
RWS="randread randwrite"
QDS="1 32"
BACKENDS="nbd rbd"
SIZE=256M
OUT=$BUILD/bench
PIN=

die()
{
	echo "storage_bench: error: $*" >&2
	exit 1
}

while [ $# -gt 0 ]; do
	case $1 in
	--rounds) ROUNDS=${2:?}; shift ;;
	--warmup) WARMUP=${2:?}; shift ;;
	--runtime) RUNTIME=${2:?}; shift ;;
	--backends) BACKENDS=${2:?}; shift ;;
	--size) SIZE=${2:?}; shift ;;
	--out) OUT=${2:?}; shift ;;
	--pin) PIN=${2:?}; shift ;;
	--contenders) read -r -a RUN <<<"${2:?}"; shift ;;
	--rw) RWS=${2:?}; shift ;;
	--qd) QDS=${2:?}; shift ;;
	-h | --help)
		sed -n '3,/^set -euo pipefail$/{/^set /d;p}' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*) die "unknown option '$1'" ;;
	esac
	shift
done
case $ROUNDS in '' | *[!0-9]* | 0) die "--rounds $ROUNDS: want a positive integer" ;; esac
case $WARMUP in '' | *[!0-9]*) die "--warmup $WARMUP: want a number of rounds" ;; esac
[ ${#RUN[@]} -gt 0 ] || die "--contenders: want one of ${CONTENDERS[*]} at least"
for c in "${RUN[@]}"; do
	case " ${CONTENDERS[*]} " in
	*" $c "*) ;;
	*) die "--contenders: unknown '$c' (want some of ${CONTENDERS[*]})" ;;
	esac
done
if [ -z "$RWS" ] || [ -z "$QDS" ]; then
	die "--rw and --qd want one value at least"
fi
for rw in $RWS; do
	case $rw in randread | randwrite) ;; *) die "--rw: unknown '$rw' (randread, randwrite)" ;; esac
done
for qd in $QDS; do
	case $qd in *[!0-9]* | 0) die "--qd: '$qd' is no queue depth" ;; esac
done
case $PIN in
'') PLACES_NBD=(free) ;;
nbdkit-client) PLACES_NBD=(free srv-client) ;;
nbdkit-daemon) PLACES_NBD=(free srv-daemon) ;;
both) PLACES_NBD=(free srv-client srv-daemon) ;;
*) die "--pin $PIN: want nbdkit-client, nbdkit-daemon or both" ;;
esac

# shellcheck source=bench_lib.sh
. "$ROOT/frontend/bench/bench_lib.sh"
make -C "$ROOT" --no-print-directory -s "O=$O" "$O/pviod" "$O/pvio-bench" >&2 ||
	die "make failed"
for c in nbdkit qemu-storage-daemon fio taskset; do
	command -v "$c" >/dev/null 2>&1 || die "$c not installed (scripts/deps.sh)"
done
mkdir -p "$OUT"
T=$(mktemp -d "${TMPDIR:-/tmp}/pvio-storage-bench.XXXXXX")
PIDS=()
cleanup()
{
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	[ -z "${CEPH_DIR:-}" ] || ceph_stop
	rm -rf "$T"
}
trap cleanup EXIT

RESULTS=()
WARMING= # set during a warm-up round (rounds())
ROUND=0 # the counted round running (rounds())
FAILS=()
RAN=()
NCPU=$(nproc)
LAST=$((NCPU - 1))
[ -z "$PIN" ] || [ "$NCPU" -ge 2 ] || die "--pin needs 2 CPUs or more, this machine has $NCPU"
LOAD0=$(bench_load)
# The placement being run (set_place), and what it prefixes the client's and
# the daemon's commands with.
PLACE=free
CLIENT_PIN=()
DAEMON_PIN=()
SERVER_PID=

# daemon_up LOG SOCKET CMD...: start a vhost-user daemon, wait for its socket.
daemon_up()
{
	local log=$1 sock=$2 i
	shift 2
	rm -f "$sock"
	"$@" >"$log" 2>&1 &
	DAEMON=$!
	PIDS+=("$DAEMON")
	for ((i = 0; i < 100; i++)); do
		[ -S "$sock" ] && return 0
		kill -0 "$DAEMON" 2>/dev/null || break
		sleep 0.1
	done
	cat "$log" >&2
	die "$* did not create $sock"
}

daemon_down()
{
	kill "$DAEMON" 2>/dev/null || true
	wait "$DAEMON" 2>/dev/null || true
}

# cell BACKEND WHO RW QD IOPS (in the current placement; in a warm-up
# round only printed)
cell()
{
	[ -n "$WARMING" ] || RESULTS+=("$1:$PLACE $2 $3 $4 $5 $ROUND")
	printf '# %-4s %-10s %-11s %-9s QD%-3s %10.0f IOPS%s\n' "$1" "$PLACE" "${@:2}" \
		"${WARMING:+ (warm-up, not counted)}" >&2
}

# place_text PLACE: where everything ran, for the tables.
place_text()
{
	case $1 in
	free) echo "unpinned" ;;
	srv-client) echo "pinned: client CPU 0, daemon CPU $LAST, nbdkit CPU 0 (with the client)" ;;
	srv-daemon) echo "pinned: client CPU 0, daemon CPU $LAST, nbdkit CPU $LAST (with the daemon)" ;;
	srv-free) echo "pinned: client CPU 0, daemon CPU $LAST, the Ceph daemons unpinned" ;;
	esac
}

# set_place PLACE: pin (or free) what runs from now on, nbdkit at once.
set_place()
{
	local cpus=0-$LAST
	PLACE=$1
	CLIENT_PIN=()
	DAEMON_PIN=()
	[ "$PLACE" = free ] || {
		CLIENT_PIN=(taskset -c 0)
		DAEMON_PIN=(taskset -c "$LAST")
	}
	case $PLACE in
	srv-client) cpus=0 ;;
	srv-daemon) cpus=$LAST ;;
	esac
	# -a: every thread nbdkit has (it starts them all at once).
	[ -z "$SERVER_PID" ] || taskset -a -p -c "$cpus" "$SERVER_PID" >/dev/null ||
		die "cannot move nbdkit ($SERVER_PID) to CPU $cpus"
}

# vhost_runs BACKEND WHO SOCKET [CLIENT-PREFIX...]: the four cells through
# pvio-bench (run under CLIENT-PREFIX, with $CLIENT_ARGS).
vhost_runs()
{
	local be=$1 who=$2 sock=$3 rw qd iops out
	shift 3
	for rw in $RWS; do
		for qd in $QDS; do
			# shellcheck disable=SC2086 # CLIENT_ARGS: words
			if ! out=$("$@" "$BUILD/pvio-bench" blk --socket "$sock" --rw "$rw" \
				--bs 4k --iodepth "$qd" --runtime "$RUNTIME" --json \
				--timeout-ms 30000 ${CLIENT_ARGS:-} 2>"$T/bench.err"); then
				# Left out of the medians, and listed under the table.
				FAILS+=("$be $PLACE $who $rw QD$qd: $(tail -n 1 "$T/bench.err")")
				echo "# ${FAILS[-1]}" >&2
				continue
			fi
			iops=$(sed -n 's/.*"iops":\([0-9.]*\).*/\1/p' <<<"$out")
			cell "$be" "$who" "$rw" "$qd" "${iops:-0}"
		done
	done
}

# fio_runs BACKEND ARGS...: the four cells with fio's own engine.
fio_runs()
{
	local be=$1 rw qd iops
	shift
	for rw in $RWS; do
		for qd in $QDS; do
			# Its engines print to stdout too: the JSON goes to a file.
			"${CLIENT_PIN[@]}" fio --name=bench --rw="$rw" --bs=4k --iodepth="$qd" --time_based \
				--runtime="$RUNTIME" --size="$SIZE" --output-format=json \
				--output="$T/fio.json" "$@" >/dev/null
			iops=$(python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))["jobs"][0]
print(j["read"]["iops"] + j["write"]["iops"])' "$T/fio.json")
			cell "$be" fio "$rw" "$qd" "${iops:-0}"
		done
	done
}

# contender BACKEND WHO: WHO's four cells on BACKEND's export ($PVIOD_DEV,
# $QSD_DEV, FIO_ARGS), a vhost-user daemon started for them alone.
contender()
{
	local be=$1 who=$2 sock=$T/vu.sock
	case $who in
	pviod)
		daemon_up "$T/pviod.log" "$sock" "${DAEMON_PIN[@]}" "$BUILD/pviod" \
			--device "blk,socket=$sock,$PVIOD_DEV"
		vhost_runs "$be" "$who" "$sock" "${CLIENT_PIN[@]}"
		;;
	pviod-tuned)
		daemon_up "$T/pviod.log" "$sock" taskset -c $((NCPU - 1)) "$BUILD/pviod" \
			--poll on --poll-budget "$BUDGET" --device "blk,socket=$sock,$PVIOD_DEV"
		CLIENT_ARGS="--poll-budget $BUDGET" vhost_runs "$be" "$who" "$sock" taskset -c 0
		;;
	qsd)
		daemon_up "$T/qsd.log" "$sock" "${DAEMON_PIN[@]}" qemu-storage-daemon \
			--blockdev "node-name=d0,$QSD_DEV" \
			--export "type=vhost-user-blk,id=e0,node-name=d0,addr.type=unix,addr.path=$sock,writable=on,num-queues=1"
		vhost_runs "$be" "$who" "$sock" "${CLIENT_PIN[@]}"
		;;
	fio)
		fio_runs "$be" "${FIO_ARGS[@]}"
		return
		;;
	esac
	daemon_down
}

# rounds BACKEND PLACE...: WARMUP rounds not counted, then ROUNDS rounds,
# of every contender in every placement, the order of the contenders
# rotating from the first counted round.
rounds()
{
	local be=$1 r i p n=${#RUN[@]} name
	shift
	for ((r = -WARMUP; r < ROUNDS; r++)); do
		WARMING=
		ROUND=$r
		name="round $((r + 1))/$ROUNDS"
		if [ "$r" -lt 0 ]; then
			WARMING=1
			name="warm-up round $((r + WARMUP + 1))/$WARMUP"
		fi
		for p in "$@"; do
			set_place "$p"
			echo "# $be $name, $(place_text "$p"), load $(bench_load)" >&2
			for ((i = 0; i < n; i++)); do
				contender "$be" "${RUN[((r % n) + n + i) % n]}"
			done
		done
	done
	WARMING=
	set_place free
	for p in "$@"; do
		RAN+=("$be:$p")
	done
}

bench_nbd()
{
	local uri="nbd+unix:///?socket=$T/nbd.sock"
	nbdkit -U "$T/nbd.sock" -P "$T/nbdkit.pid" memory "$SIZE"
	# It forks into the background and the child writes its pid file.
	for _ in $(seq 1 100); do
		[ -s "$T/nbdkit.pid" ] && [ -S "$T/nbd.sock" ] && break
		sleep 0.05
	done
	SERVER_PID=$(cat "$T/nbdkit.pid")
	PIDS+=("$SERVER_PID")
	PVIOD_DEV="nbd=$uri"
	QSD_DEV="driver=nbd,server.type=unix,server.path=$T/nbd.sock"
	FIO_ARGS=(--ioengine=nbd --uri="$uri")
	# Fill it, so that reads are of data, for everybody alike.
	daemon_up "$T/pviod.log" "$T/vu.sock" "$BUILD/pviod" \
		--device "blk,socket=$T/vu.sock,$PVIOD_DEV"
	"$BUILD/pvio-bench" blk --socket "$T/vu.sock" --rw write --bs 1m --iodepth 8 \
		--runtime 600 --size "$SIZE" --json >/dev/null 2>&1 &
	sleep 1
	kill $! 2>/dev/null || true
	wait $! 2>/dev/null || true
	daemon_down
	rounds nbd "${PLACES_NBD[@]}"
	SERVER_PID=
}

bench_rbd()
{
	# shellcheck source-path=SCRIPTDIR source=../../tests/lib/ceph.sh
	. "$ROOT/tests/lib/ceph.sh"
	ceph_can >/dev/null || {
		echo "# rbd: $(ceph_can)" >&2
		return 0
	}
	exec 9>/tmp/pvio-global.lock
	flock 9
	ceph_start "$T/ceph" || die "the Ceph cluster did not come up (logs: $T/ceph/log)"
	# For fio, which reads the conf; the daemons have read theirs already.
	printf '[client]\nrbd cache = false\n' >>"$CEPH_CONF"
	export CEPH_CONF
	ceph_rbd create --size "$SIZE" rbd/bench
	# Every object written once, so that no one pays for creating them.
	ceph_rbd bench --io-type write --io-size 4M --io-pattern seq --io-total "$SIZE" \
		rbd/bench >/dev/null
	PVIOD_DEV="rbd=rbd/bench,ceph-conf=$CEPH_CONF"
	QSD_DEV="driver=rbd,pool=rbd,image=bench,conf=$CEPH_CONF,cache.direct=on"
	FIO_ARGS=(--ioengine=rbd --clientname=admin --pool=rbd --rbdname=bench)
	if [ "${#PLACES_NBD[@]}" -gt 1 ]; then
		rounds rbd free srv-free
	else
		rounds rbd free
	fi
	ceph_stop
	CEPH_DIR=
	flock -u 9
}

for be in $BACKENDS; do
	case $be in
	nbd) bench_nbd ;;
	rbd) bench_rbd ;;
	*) die "unknown back-end '$be' (nbd or rbd)" ;;
	esac
done
LOAD1=$(bench_load)

# stats BACKEND WHO RW QD: "median min max" of that cell over the rounds.
stats()
{
	# shellcheck disable=SC2046 # the IOPS: words
	bench_stats $(printf '%s\n' "${RESULTS[@]}" |
		awk -v k="$1 $2 $3 $4" '$1 " " $2 " " $3 " " $4 == k { print $5 }')
}

# ratio BACKEND A B RW QD TARGET: the median over the rounds of A / B in
# the same round, marked ok or NO against TARGET ("-" without a round of
# both).  Paired by round, not the ratio of the two medians: the store
# slows down over a run (RBD randread QD1 from about 9400 to 4000 IOPS in
# six rounds), so whoever the rotation puts last in the slow rounds would
# lose in the medians what the same round's ratio does not.
ratio()
{
	local r
	r=$(printf '%s\n' "${RESULTS[@]}" | awk -v be="$1" -v a="$2" -v b="$3" -v rw="$4" -v qd="$5" '
		$1 == be && $3 == rw && $4 == qd && $2 == a { va[$6] = $5 }
		$1 == be && $3 == rw && $4 == qd && $2 == b { vb[$6] = $5 }
		END { for (k in va) if ((k in vb) && vb[k] > 0) print va[k] / vb[k] }')
	[ -n "$r" ] || { echo "-"; return; }
	# shellcheck disable=SC2086 # the ratios: words
	bench_median $r | awk -v t="$6" '{ printf "%.2f %s\n", $1, ($1 >= t) ? "ok" : "NO" }'
}

# The tables: medians and ratios, then the spread, per back-end, rw and depth.
{
	echo "# 4 KiB IOPS, median of $ROUNDS rounds of $RUNTIME s per cell (after $WARMUP warm-up round(s) not counted); load average $LOAD0 at the start, $LOAD1 at the end"
	echo "# targets: pviod/qsd >= 1.0, pviod/fio >= 0.9 (ok: met, NO: missed); tuned: pviod-tuned"
	echo "# ratios: the median over the rounds of the same round's ratio (ratio())"
	spread=()
	for key in "${RAN[@]}"; do
		be=${key%%:*}
		echo "# $be, $(place_text "${key#*:}")"
		printf '%-4s %-9s %-3s %9s %11s %9s %9s  %-9s %-9s %-9s %s\n' backend rw qd \
			pviod pviod-tuned qsd fio pviod/qsd pviod/fio tuned/qsd tuned/fio
		spread+=("# $be, $(place_text "${key#*:}")")
		for rw in $RWS; do
			for qd in $QDS; do
				declare -A med=() rng=()
				for who in "${CONTENDERS[@]}"; do
					read -r m lo hi < <(stats "$key" "$who" "$rw" "$qd")
					med[$who]=$m
					rng[$who]=$(printf '%.0f-%.0f' "$lo" "$hi")
				done
				printf '%-4s %-9s %-3s %9.0f %11.0f %9.0f %9.0f  %-9s %-9s %-9s %s\n' \
					"$be" "$rw" "$qd" "${med[pviod]}" "${med[pviod-tuned]}" \
					"${med[qsd]}" "${med[fio]}" \
					"$(ratio "$key" pviod qsd "$rw" "$qd" 1.0)" \
					"$(ratio "$key" pviod fio "$rw" "$qd" 0.9)" \
					"$(ratio "$key" pviod-tuned qsd "$rw" "$qd" 1.0)" \
					"$(ratio "$key" pviod-tuned fio "$rw" "$qd" 0.9)"
				spread+=("$(printf '%-4s %-9s %-3s %15s %15s %15s %15s' "$be" "$rw" "$qd" \
					"${rng[pviod]}" "${rng[pviod-tuned]}" "${rng[qsd]}" "${rng[fio]}")")
				unset med rng
			done
		done
	done
	echo "# spread: min-max IOPS over the rounds"
	printf '%-4s %-9s %-3s %15s %15s %15s %15s\n' backend rw qd pviod pviod-tuned qsd fio
	printf '%s\n' "${spread[@]}"
	[ ${#FAILS[@]} -eq 0 ] || printf '# failed, left out: %s\n' "${FAILS[@]}"
} | tee "$OUT/storage.txt"
