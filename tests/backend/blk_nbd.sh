#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# pviod's NBD engine (--device blk,nbd=URI) against real NBD servers the
# test starts on Unix sockets in its temp dir, and one on 127.0.0.1 at a free
# port (TAP 13; the servers: tests/lib/nbd.sh):
#   - nbdkit memory, 2 queues (multi-conn): pvio-bench --verify at QD1 and
#     at QD32 on both queues;
#   - qemu-nbd serving a qcow2 image: pvio-bench --verify at QD1 and QD32,
#     then the image, converted to raw, served by the file engine, still
#     holds the pattern (the data is in the qcow2, not only in flight);
#   - the operations as the server sees them (nbdkit's file plugin with
#     the log filter): FLUSH -> Flush, DISCARD -> Trim (a hole in the
#     file), WRITE_ZEROES -> Zero with trim=0 (NO_HOLE: still allocated),
#     WRITE_ZEROES with UNMAP -> Zero with trim=1 (a hole);
#   - a server that can neither flush, trim nor zero: no FLUSH offered (a
#     FLUSH fails with UNSUPP), zeroes written as data, discards kept;
#   - the server killed and restarted in the middle of pvio-bench --verify:
#     every read still matches, pviod reconnected; a server that stays
#     away: the request fails with IOERR after reconnect-timeout, and the
#     next one succeeds once the server is back;
#   - over TCP (nbd://127.0.0.1:PORT/EXPORT, nbdkit serving one export by
#     name): pvio-bench --verify at QD1 and QD32 on 2 queues; the server
#     killed: the request fails with IOERR after reconnect-timeout, pviod
#     names the server it lost, the other disk of the same pviod keeps
#     serving; the server back on its port serves the data again; a missing
#     export and a port nobody listens on are refused at start-up, saying why;
#   - read-only: an export the server makes read-only needs readonly=on;
#     with it the device is RO, reads work, writes fail with IOERR;
#   - errors at start-up name the option, the server and what it said: no
#     server, a missing export, queues=2 on a server without multi-conn.
set -uo pipefail

# shellcheck source=../lib/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/lib.sh"
# shellcheck source=../lib/nbd.sh
. "$PVT_TOP/tests/lib/nbd.sh"
# shellcheck source=../lib/blk.sh
. "$PVT_TOP/tests/lib/blk.sh"
pvt_init blk_nbd
T=$PVT_TMP

need()
{
	command -v "$1" >/dev/null 2>&1 && return 0
	if [ "${CI:-}" = true ]; then
		echo "Bail out! $1 not installed (scripts/deps.sh installs it)"
		exit 1
	fi
	tap_skip_all "$1 not installed (scripts/deps.sh)"
}
need nbdkit
need qemu-nbd
need qemu-img
pviod=$(pvt_bin pviod) || tap_skip_all "pviod does not build"
pvt_bin pvio-bench >/dev/null || tap_skip_all "pvio-bench does not build"
op=$(pvt_bin tests/user/blk_op) || tap_skip_all "blk_op does not build"

# qnbd_start ARGS...: qemu-nbd on $T/nbd.sock, in the background.
qnbd_start()
{
	rm -f "$T/nbd.sock"
	qemu-nbd -k "$T/nbd.sock" "$@" >>"$T/qemu-nbd.log" 2>&1 &
	NBD_PID=$!
	pvt_wait_sockets 10 "$NBD_PID" "$T/nbd.sock"
}

pvt_at_exit nbd_stop

URI="nbd+unix:///?socket=$T/nbd.sock"

# --- nbdkit memory, multi-conn -------------------------------------------------
nbd_start "$T/nbd.sock" memory 64M
blkt_served "nbd=$URI,queues=2"
tap_check "nbdkit memory: the capacity is the export's (64 MiB)" \
	[ "$("$op" "$T/blk.sock" size)" = $((64 << 20)) ]
blkt_verify "nbdkit memory: verified random read/write at QD1" --rw randrw --iodepth 1 --runtime 1
blkt_verify "nbdkit memory: verified random read/write at QD32 on 2 queues" \
	--rw randrw --iodepth 32 --queues 2 --runtime 2
blkt_verify "nbdkit memory: 64 KiB requests, QD8" --rw randrw --bs 64k --iodepth 8 --runtime 1
blkt_stop "nbdkit memory"
nbd_stop

# --- qemu-nbd, qcow2 -----------------------------------------------------------
qemu-img create -q -f qcow2 "$T/disk.qcow2" 32M
qnbd_start -f qcow2 "$T/disk.qcow2"
blkt_served "nbd=$URI"
blkt_verify "qemu-nbd qcow2: verified random read/write at QD1" --rw randrw --iodepth 1 --runtime 1
blkt_verify "qemu-nbd qcow2: verified random read/write at QD32" --rw randrw --iodepth 32 \
	--runtime 2 --seed 7
blkt_stop "qemu-nbd qcow2"
nbd_stop
# The last run's pattern (seed 7) is in the image itself: served raw by the file engine.
qemu-img convert -f qcow2 -O raw "$T/disk.qcow2" "$T/disk.raw"
blkt_served "file=$T/disk.raw"
blkt_verify "qemu-nbd qcow2: the image holds the verified data (file engine, --verify-existing)" \
	--rw randread --iodepth 8 --runtime 1 --seed 7 --verify-existing
blkt_stop "qcow2 converted to raw"

# --- what the server sees --------------------------------------------------------
truncate -s 16M "$T/ops.img"
nbd_start "$T/nbd.sock" --filter=log file "$T/ops.img" logfile="$T/ops.log"
blkt_served "nbd=$URI"
tap_check "ops: the device offers FLUSH, DISCARD and WRITE_ZEROES" \
	bash -c "[ \"\$('$op' '$T/blk.sock' features | tr '\n' ' ')\" = 'flush discard write-zeroes mq ' ]"
"$op" "$T/blk.sock" write $((1 << 20)) $((1 << 20)) 90 &&
	"$op" "$T/blk.sock" write $((2 << 20)) $((1 << 20)) 90
tap_point $? "ops: 2 MiB written at 1M"
: >"$T/ops.log.mark"
"$op" "$T/blk.sock" flush
tap_point $? "ops: FLUSH succeeded"
tap_check "ops: FLUSH reached the server as NBD_CMD_FLUSH" grep -q " Flush id=" "$T/ops.log"
"$op" "$T/blk.sock" discard $((1 << 20)) $((1 << 20))
tap_point $? "ops: DISCARD of [1M, 2M) succeeded"
tap_check "ops: DISCARD reached the server as NBD_CMD_TRIM of [1M, 2M)" \
	grep -q " Trim id=.* offset=0x100000 count=0x100000" "$T/ops.log"
"$op" "$T/blk.sock" zeroes $((2 << 20)) $((512 << 10))
tap_point $? "ops: WRITE_ZEROES of [2M, 2.5M) succeeded"
tap_check "ops: WRITE_ZEROES without UNMAP is NBD_CMD_WRITE_ZEROES with NO_HOLE" \
	grep -q " Zero id=.* offset=0x200000 count=0x80000 trim=0" "$T/ops.log"
"$op" "$T/blk.sock" zeroes-unmap $((2560 << 10)) $((512 << 10))
tap_point $? "ops: WRITE_ZEROES with UNMAP of [2.5M, 3M) succeeded"
tap_check "ops: WRITE_ZEROES with UNMAP may trim (no NO_HOLE)" \
	grep -q " Zero id=.* offset=0x280000 count=0x80000 trim=1" "$T/ops.log"
tap_check "ops: [2M, 3M) reads back as zeroes" "$op" "$T/blk.sock" read $((2 << 20)) $((1 << 20)) 0
blkt_stop "ops"
nbd_stop

# data_at OFF: the offset of the first data at or after OFF in ops.img (or "hole").
data_at()
{
	python3 -c '
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
try:
    print(os.lseek(fd, int(sys.argv[2]), os.SEEK_DATA))
except OSError:
    print("hole")' "$T/ops.img" "$1"
}
tap_check "ops: the trimmed [1M, 2M) is a hole in the server's file" \
	[ "$(data_at $((1 << 20)))" = $((2 << 20)) ]
tap_check "ops: the NO_HOLE zeroes at [2M, 2.5M) are still allocated" \
	[ "$(data_at $((2 << 20)))" = $((2 << 20)) ]
tap_check "ops: the UNMAP zeroes at [2.5M, 3M) are a hole" \
	[ "$(data_at $((2560 << 10)))" = hole ]

# --- a server that can neither flush, trim nor zero -----------------------------------
# nbdkit's eval plugin on a file, without flush or trim, and behind the nozero
# filter, which stops it advertising WRITE_ZEROES (nbdkit would emulate it).
truncate -s 16M "$T/bare.img"
nbd_start "$T/nbd.sock" --filter=nozero --filter=log eval zeromode=none logfile="$T/bare.log" \
	get_size='echo 16777216' can_write='exit 0' can_flush='exit 3' can_trim='exit 3' \
	pread="dd if=$T/bare.img skip=\$4 count=\$3 iflag=skip_bytes,count_bytes status=none" \
	pwrite="dd of=$T/bare.img seek=\$4 oflag=seek_bytes conv=notrunc status=none"
blkt_served "nbd=$URI"
tap_check "bare server: no VIRTIO_BLK_F_FLUSH offered, DISCARD and WRITE_ZEROES still are" \
	bash -c "[ \"\$('$op' '$T/blk.sock' features | tr '\n' ' ')\" = 'discard write-zeroes mq ' ]"
tap_check "bare server: FLUSH fails honestly (UNSUPP)" \
	[ "$("$op" "$T/blk.sock" flush)" = "flush 0 0: UNSUPP" ]
"$op" "$T/blk.sock" write 0 65536 7 && "$op" "$T/blk.sock" zeroes 4096 8192
tap_point $? "bare server: a write, then WRITE_ZEROES of [4K, 12K)"
tap_check "bare server: the zeroes went out as plain writes of zeroes" \
	bash -c "grep -q ' Write id=.* offset=0x1000 count=0x2000' '$T/bare.log' &&
		! grep -q ' Zero id=' '$T/bare.log'"
tap_check "bare server: [4K, 12K) reads back as zeroes" "$op" "$T/blk.sock" read 4096 8192 0
tap_check "bare server: DISCARD succeeds (a hint: the data stays)" "$op" "$T/blk.sock" discard 0 4096
tap_check "bare server: the data is still there" "$op" "$T/blk.sock" read 0 4096 7
blkt_stop "bare server"
nbd_stop

# --- the server goes away ----------------------------------------------------------
# server_lost DESC BYTE: the server killed, a read of [0, 4K) (written with
# BYTE) fails with IOERR within 10 s, not hanging.
server_lost()
{
	local desc=$1 out rc start took
	kill -9 "$NBD_PID"
	NBD_PID=
	start=$(date +%s)
	out=$("$op" "$T/blk.sock" read 0 4096 "$2")
	rc=$?
	took=$(($(date +%s) - start))
	echo "# read with the server gone: exit $rc after ${took}s: $out"
	[ "$rc" = 1 ] && [ "$out" = "read 0 4096: IOERR" ] && [ "$took" -le 10 ]
	tap_point $? "$desc"
}

truncate -s 32M "$T/re.img"
nbd_start "$T/nbd.sock" file "$T/re.img"
blkt_served "nbd=$URI,queues=2,reconnect-timeout=3"
(
	sleep 1
	kill -9 "$NBD_PID"
	sleep 1
	nbd_start "$T/nbd.sock" file "$T/re.img"
) &
restarter=$!
blkt_verify "reconnect: every read matched across a server killed and restarted mid-I/O" \
	--rw randrw --iodepth 32 --queues 2 --runtime 4
wait "$restarter"
NBD_PID=$(cat "$T/nbd.sock.pid")
tap_check "reconnect: pviod said it reconnected" grep -q "reconnected after" "$T/pviod.log"
tap_check "reconnect: no request failed" bash -c "! grep -q 'error:' '$T/pviod.log'"
"$op" "$T/blk.sock" write 0 4096 33 >/dev/null
server_lost "permanent loss: the request fails with IOERR, no hang" 33
tap_check "permanent loss: pviod says it fails the I/O" grep -q "failing its I/O" "$T/pviod.log"
nbd_start "$T/nbd.sock" file "$T/re.img"
tap_check "permanent loss: once the server is back, the data is read again" \
	"$op" "$T/blk.sock" read 0 4096 33
pvt_pviod_stop
tap_check "permanent loss: pviod still exits 0" [ $? = 0 ]
nbd_stop

# --- NBD over TCP ------------------------------------------------------------------
# nbdkit on 127.0.0.1 at a free port, one export by name (strict: no other
# name and no default export is served), beside a disk on the file engine in
# the same pviod.  The server then vanishes (SIGKILL): the request fails
# with IOERR after reconnect-timeout, pviod names the server and keeps
# serving the other disk; once the server is back on its port, the data is
# read again.
truncate -s 32M "$T/tcp.img"
truncate -s 8M "$T/side.img"
nbd_start_tcp "$T/nbdkit-tcp.pid" --filter=exportname file "$T/tcp.img" \
	exportname=pvio exportname-strict=true default-export=pvio
tap_point $? "tcp: nbdkit serves export pvio on 127.0.0.1:$NBD_PORT"
TCP_URI="nbd://127.0.0.1:$NBD_PORT/pvio"
pvt_pviod_start "$T/pviod.log" \
	--device "blk,socket=$T/blk.sock,nbd=$TCP_URI,queues=2,reconnect-timeout=2" \
	--device "blk,socket=$T/side.sock,file=$T/side.img"
tap_check "tcp: the capacity is the export's (32 MiB)" \
	[ "$("$op" "$T/blk.sock" size)" = $((32 << 20)) ]
tap_check "tcp: pviod connected to the export over TCP" \
	grep -q "nbd=$TCP_URI: 65536 sectors" "$T/pviod.log"
blkt_verify "tcp: verified random read/write at QD1" --rw randrw --iodepth 1 --runtime 1
blkt_verify "tcp: verified random read/write at QD32 on 2 queues" \
	--rw randrw --iodepth 32 --queues 2 --runtime 2
"$op" "$T/blk.sock" write 0 4096 44 >/dev/null && "$op" "$T/side.sock" write 0 4096 45 >/dev/null
tap_point $? "tcp: a write to each disk"
server_lost "tcp: server vanished: the request fails with IOERR, no hang" 44
tap_check "tcp: pviod says which server it lost and that it fails the I/O" \
	grep -q "nbd=$TCP_URI: no connection for 2 s.*; failing its I/O" "$T/pviod.log"
tap_check "tcp: the file disk still serves (read back, then a new write)" \
	bash -c "'$op' '$T/side.sock' read 0 4096 45 && '$op' '$T/side.sock' write 4096 4096 46"
tap_check "tcp: pviod still runs" kill -0 "$PVT_PVIOD_PID"
nbd_start_tcp "$T/nbdkit-tcp.pid" --filter=exportname file "$T/tcp.img" \
	exportname=pvio exportname-strict=true default-export=pvio
tap_point $? "tcp: the server is back on port $NBD_PORT"
tap_check "tcp: the NBD disk serves again, the data is there" "$op" "$T/blk.sock" read 0 4096 44
pvt_pviod_stop
tap_check "tcp: pviod still exits 0" [ $? = 0 ]
blkt_refused "tcp: an export the server does not have: what the server said" \
	"nbd=nbd://127.0.0.1:$NBD_PORT/nope: cannot connect to the server: .*export" \
	--device "blk,socket=$T/e.sock,nbd=nbd://127.0.0.1:$NBD_PORT/nope"
nbd_stop
NBD_PORT=
blkt_refused "tcp: no server on the port: the option and the error" \
	"nbd=$TCP_URI: cannot connect to the server: .*Connection refused" \
	--device "blk,socket=$T/e.sock,nbd=$TCP_URI"

# --- read-only ----------------------------------------------------------------------
truncate -s 8M "$T/ro.img"
printf 'Z%.0s' $(seq 1 4096) | dd of="$T/ro.img" conv=notrunc status=none
qnbd_start -r -f raw --persistent --shared=4 "$T/ro.img"
rc=0
timeout 20 "$pviod" --device "blk,socket=$T/ro.sock,nbd=$URI" >"$T/out" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "nbd=$URI: the server exports it read-only: add readonly=on" "$T/out"
tap_point $? "read-only: a read-only export without readonly=on is refused, saying why"
sed 's/^/# /' "$T/out"
blkt_served "nbd=$URI,readonly=on,queues=2"
tap_check "read-only: the device offers VIRTIO_BLK_F_RO" \
	bash -c "'$op' '$T/blk.sock' features | grep -qx ro"
tap_check "read-only: reads work" "$op" "$T/blk.sock" read 0 4096 90
tap_check "read-only: writes fail with IOERR" \
	[ "$("$op" "$T/blk.sock" write 0 4096 1)" = "write 0 4096: IOERR" ]
pvt_pviod_stop
tap_check "read-only: the image is unchanged" \
	[ "$(head -c 4096 "$T/ro.img" | tr -d Z | wc -c)" = 0 ]
nbd_stop

# --- start-up errors ------------------------------------------------------------------
blkt_refused "no server: the option, the server and the error" \
	"nbd=$URI: cannot connect to the server: .*No such file" \
	--device "blk,socket=$T/e.sock,nbd=$URI"
qnbd_start -x disk -f raw --persistent "$T/ro.img"
blkt_refused "a missing export: what the server said" \
	"nbd=nbd+unix:///nope?socket=$T/nbd.sock: cannot connect to the server: .*export" \
	--device "blk,socket=$T/e.sock,nbd=nbd+unix:///nope?socket=$T/nbd.sock"
blkt_refused "queues=2 without multi-conn: use queues=1" "does not allow multi-conn.*use queues=1" \
	--device "blk,socket=$T/e.sock,nbd=nbd+unix:///disk?socket=$T/nbd.sock,queues=2"
nbd_stop
rc=0
"$pviod" --device "blk,socket=$T/e.sock,nbd=$URI,file=$T/ro.img" >"$T/out" 2>&1 || rc=$?
[ "$rc" = 2 ] && grep -q "exactly one of file=IMAGE, nbd=URI, rbd=POOL/IMAGE" "$T/out"
tap_point $? "file= and nbd= together: a usage error"
tap_end
