#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# pviod runs under valgrind (TAP 13), so that callgrind can count its
# instructions per request.
#
# Valgrind runs one thread at a time and lets go of its lock only around
# the system calls it knows may block; io_uring_enter() is not one of them
# (valgrind 3.19), so a worker asleep in it held every other thread of
# pviod, and pviod hung before it served anything.  Under valgrind the
# workers sleep in poll() on their ring instead (core/worker.c).  Here
# pviod, under callgrind, must open its socket, serve verified
# reads and writes from pvio-bench on a file image, and exit 0 on SIGTERM.
#
# timeout=180
set -uo pipefail

# shellcheck source=../lib/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/lib.sh"
pvt_init valgrind_check
T=$PVT_TMP

command -v valgrind >/dev/null 2>&1 ||
	{ echo "Bail out! valgrind not installed (scripts/deps.sh installs it)"; exit 1; }
pviod=$(pvt_bin pviod) || tap_skip_all "pviod does not build"
bench=$(pvt_bin pvio-bench) || tap_skip_all "pvio-bench does not build"

truncate -s 16M "$T/disk.img"
valgrind -q --tool=callgrind --callgrind-out-file=/dev/null "$pviod" --device "blk,socket=$T/vu.sock,file=$T/disk.img" \
	>"$T/pviod.log" 2>&1 &
PVT_PVIOD_PID=$!
pid=$PVT_PVIOD_PID

# Valgrind starts slowly on a busy machine: a minute, not pviod's usual 10 s.
# The log line, not the socket file: slowed down, bind() and listen() are
# far enough apart for a connect() to fall between them.
for _ in $(seq 1 600); do
	grep -q "listening on" "$T/pviod.log" && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
tap_check "pviod under valgrind listens on its socket" grep -q "listening on" "$T/pviod.log"

rc=0
timeout 60 "$bench" blk --socket "$T/vu.sock" --rw randrw --bs 4k --iodepth 4 --runtime 1 \
	--verify --timeout-ms 30000 >"$T/bench.out" 2>&1 || rc=$?
tap_check "it serves verified reads and writes (pvio-bench rc $rc)" [ "$rc" = 0 ]

pvt_pviod_term 300
tap_check "SIGTERM ends it within 30 s" [ "$PVT_PVIOD_LINGERED" = 0 ]
tap_check "it exits 0 (status $PVT_PVIOD_STATUS)" [ "$PVT_PVIOD_STATUS" = 0 ]
if [ "$TAP_FAILED" != 0 ]; then
	sed 's/^/# pviod: /' "$T/pviod.log"
	sed 's/^/# pvio-bench: /' "$T/bench.out"
fi
tap_end
