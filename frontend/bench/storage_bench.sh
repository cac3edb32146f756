#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# storage_bench.sh - issue 15's comparison: pviod's NBD and RBD engines
# against qemu-storage-daemon (--blockdev driver=nbd / driver=rbd, exported
# as vhost-user-blk) and fio's own nbd and rbd engines, on the same back-end
# in the same run: 4 KiB randread and randwrite at QD1 and QD32, pvio-bench
# as the client of both vhost-user daemons.
#
#   nbd  an nbdkit memory export on a Unix socket (multi-conn)
#   rbd  an image in a throwaway one-mon one-OSD memstore cluster
#        (tests/lib/ceph.sh; it takes flock /tmp/pvio-global.lock itself)
#
# Prints one table (IOPS) with the ratios pviod/qsd (target >= 1.0) and
# pviod/fio (target >= 0.9), and writes it to OUT/storage.txt.
#
#   frontend/bench/storage_bench.sh                       3 s per cell, nbd and rbd
#   frontend/bench/storage_bench.sh --runtime 1 --backends nbd   a quick sanity run
#
# Options:
#   --runtime SEC      seconds per cell (default 3)
#   --backends "LIST"  nbd and/or rbd (default "nbd rbd"; rbd only with ceph installed)
#   --size BYTES       export / image size (default 256M)
#   --out DIR          where storage.txt goes (default build/bench)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
O=${O:-build}
BUILD=$ROOT/$O
RUNTIME=3
BACKENDS="nbd rbd"
SIZE=256M
OUT=$BUILD/bench

die()
{
	echo "storage_bench: error: $*" >&2
	exit 1
}

while [ $# -gt 0 ]; do
	case $1 in
	--runtime) RUNTIME=${2:?}; shift ;;
	--backends) BACKENDS=${2:?}; shift ;;
	--size) SIZE=${2:?}; shift ;;
	--out) OUT=${2:?}; shift ;;
	-h | --help) sed -n '3,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown option '$1'" ;;
	esac
	shift
done

make -C "$ROOT" --no-print-directory -s "O=$O" "$O/pviod" "$O/pvio-bench" >&2 ||
	die "make failed"
for c in nbdkit qemu-storage-daemon fio; do
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

# cell BACKEND WHO RW QD IOPS
cell()
{
	RESULTS+=("$1 $2 $3 $4 $5")
	printf '# %-4s %-6s %-9s QD%-3s %10.0f IOPS\n' "$@" >&2
}

# vhost_runs BACKEND WHO SOCKET: the four cells through pvio-bench.
vhost_runs()
{
	local be=$1 who=$2 sock=$3 rw qd iops
	for rw in randread randwrite; do
		for qd in 1 32; do
			iops=$("$BUILD/pvio-bench" blk --socket "$sock" --rw "$rw" --bs 4k \
				--iodepth "$qd" --runtime "$RUNTIME" --json --timeout-ms 30000 |
				sed -n 's/.*"iops":\([0-9.]*\).*/\1/p')
			cell "$be" "$who" "$rw" "$qd" "${iops:-0}"
		done
	done
}

# fio_runs BACKEND ARGS...: the four cells with fio's own engine.
fio_runs()
{
	local be=$1 rw qd iops
	shift
	for rw in randread randwrite; do
		for qd in 1 32; do
			# Its engines print to stdout too: the JSON goes to a file.
			fio --name=bench --rw="$rw" --bs=4k --iodepth="$qd" --time_based \
				--runtime="$RUNTIME" --size="$SIZE" --output-format=json \
				--output="$T/fio.json" "$@" >/dev/null
			iops=$(python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))["jobs"][0]
print(j["read"]["iops"] + j["write"]["iops"])' "$T/fio.json")
			cell "$be" fio "$rw" "$qd" "${iops:-0}"
		done
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
	PIDS+=("$(cat "$T/nbdkit.pid")")
	# Fill it, so that reads are of data, for everybody alike.
	daemon_up "$T/pviod.log" "$T/vu.sock" "$BUILD/pviod" \
		--device "blk,socket=$T/vu.sock,nbd=$uri"
	"$BUILD/pvio-bench" blk --socket "$T/vu.sock" --rw write --bs 1m --iodepth 8 \
		--runtime 600 --size "$SIZE" --json >/dev/null 2>&1 &
	sleep 1
	kill $! 2>/dev/null || true
	wait $! 2>/dev/null || true
	vhost_runs nbd pviod "$T/vu.sock"
	daemon_down
	daemon_up "$T/qsd.log" "$T/vu.sock" qemu-storage-daemon \
		--blockdev "driver=nbd,node-name=n0,server.type=unix,server.path=$T/nbd.sock" \
		--export "type=vhost-user-blk,id=e0,node-name=n0,addr.type=unix,addr.path=$T/vu.sock,writable=on,num-queues=1"
	vhost_runs nbd qsd "$T/vu.sock"
	daemon_down
	fio_runs nbd --ioengine=nbd --uri="$uri"
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
	ceph_rbd create --size "$SIZE" rbd/bench
	# Every object written once, so that no one pays for creating them.
	ceph_rbd bench --io-type write --io-size 4M --io-pattern seq --io-total "$SIZE" \
		rbd/bench >/dev/null
	daemon_up "$T/pviod.log" "$T/vu.sock" "$BUILD/pviod" \
		--device "blk,socket=$T/vu.sock,rbd=rbd/bench,ceph-conf=$CEPH_CONF"
	vhost_runs rbd pviod "$T/vu.sock"
	daemon_down
	daemon_up "$T/qsd.log" "$T/vu.sock" qemu-storage-daemon \
		--blockdev "driver=rbd,node-name=r0,pool=rbd,image=bench,conf=$CEPH_CONF" \
		--export "type=vhost-user-blk,id=e0,node-name=r0,addr.type=unix,addr.path=$T/vu.sock,writable=on,num-queues=1"
	vhost_runs rbd qsd "$T/vu.sock"
	daemon_down
	CEPH_CONF=$CEPH_CONF fio_runs rbd --ioengine=rbd --clientname=admin --pool=rbd \
		--rbdname=bench
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

# The table: one line per back-end, rw and depth.
{
	printf '%-4s %-9s %-4s %10s %10s %10s %8s %8s\n' backend rw qd pviod qsd fio \
		pviod/qsd pviod/fio
	printf '%s\n' "${RESULTS[@]}" | python3 -c '
import sys
r = {}
for line in sys.stdin:
    be, who, rw, qd, iops = line.split()
    r.setdefault((be, rw, int(qd)), {})[who] = float(iops)
for (be, rw, qd), v in sorted(r.items()):
    p, q, f = v.get("pviod", 0), v.get("qsd", 0), v.get("fio", 0)
    print("%-4s %-9s %-4d %10.0f %10.0f %10.0f %8.2f %8.2f" % (be, rw, qd, p, q, f,
          p / q if q else 0, p / f if f else 0))'
	echo "targets: pviod/qsd >= 1.0, pviod/fio >= 0.9; $RUNTIME s per cell, load $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/storage.txt"
