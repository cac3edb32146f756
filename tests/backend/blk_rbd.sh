#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# pviod's RBD engine (--device blk,rbd=POOL/IMAGE) against a real Ceph
# cluster the test starts (tests/lib/ceph.sh: one mon, one memstore OSD,
# auth none, in its temp dir; run it under flock /tmp/pvio-global.lock):
#   - pvio-bench --verify at QD1 and at QD32 on 2 queues, then `rbd export`
#     of the image, served by the file engine, still holds the pattern;
#   - FLUSH, DISCARD, WRITE_ZEROES: accepted, zeroes read back as zeroes,
#     and the exported image has the bytes the driver wrote where it wrote
#     them;
#   - the OSD stopped and started again in the middle of pvio-bench
#     --verify: every read still matches, no request failed;
#   - readonly=on: the device is RO, reads see the data, writes fail with
#     IOERR;
#   - errors at start-up name the option, the cluster and what it said: a
#     missing pool, a missing image, a missing ceph.conf, no monitor.
set -uo pipefail

# shellcheck source=../lib/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/lib.sh"
# shellcheck source=../lib/ceph.sh
. "$PVT_TOP/tests/lib/ceph.sh"
pvt_init blk_rbd
T=$PVT_TMP

if ! why=$(ceph_can); then
	if [ "${CI:-}" = true ]; then
		echo "Bail out! $why"
		exit 1
	fi
	tap_skip_all "$why"
fi
pviod=$(pvt_bin pviod) || tap_skip_all "pviod does not build"
bench=$(pvt_bin pvio-bench) || tap_skip_all "pvio-bench does not build"
op=$(pvt_bin tests/user/blk_op) || tap_skip_all "blk_op does not build"

if ! ceph_start "$T/ceph"; then
	tail -n 20 "$T"/ceph/log/*.out "$T"/ceph/log/mkfs.out | sed 's/^/# /'
	echo "Bail out! the Ceph cluster did not come up"
	exit 1
fi
tap_ok "a one-mon one-OSD cluster is up, pool rbd answers"
ceph_rbd create --size 32M rbd/img
tap_point $? "rbd create rbd/img (32 MiB)"

RBD="rbd=rbd/img,ceph-conf=$CEPH_CONF"

served()
{
	pvt_pviod_start "$T/pviod.log" --device "blk,socket=$T/blk.sock,$1"
}

verify()
{
	local desc=$1
	shift
	if "$bench" blk --socket "$T/blk.sock" --bs 4k --verify --timeout-ms 60000 "$@" \
		>"$T/bench.out" 2>&1 && grep -q "all reads matched" "$T/bench.out"; then
		tap_ok "$desc"
	else
		sed 's/^/# /' "$T/bench.out" "$T/pviod.log"
		tap_fail "$desc"
	fi
}

stop_pviod()
{
	local desc=$1 rc=0
	pvt_pviod_stop || rc=$?
	if [ "$rc" = 0 ] && ! grep -q "error:" "$T/pviod.log"; then
		tap_ok "$desc: pviod exited 0, logged no error"
	else
		sed 's/^/# pviod: /' "$T/pviod.log"
		tap_fail "$desc: pviod exited $rc or logged an error"
	fi
}

# --- verified I/O, then the image on the host ------------------------------------
served "$RBD,queues=2"
tap_check "the capacity is the image's (32 MiB)" [ "$("$op" "$T/blk.sock" size)" = $((32 << 20)) ]
verify "verified random read/write at QD1" --rw randrw --iodepth 1 --runtime 1
verify "verified random read/write at QD32 on 2 queues" --rw randrw --iodepth 32 --queues 2 \
	--runtime 2 --seed 5
stop_pviod "verified I/O"
ceph_rbd export rbd/img "$T/export.raw" >/dev/null 2>&1
tap_point $? "rbd export rbd/img"
served "file=$T/export.raw"
verify "rbd export holds the verified data (file engine, --verify-existing)" \
	--rw randread --iodepth 8 --runtime 1 --seed 5 --verify-existing
stop_pviod "the exported image"

# --- FLUSH, DISCARD, WRITE_ZEROES ----------------------------------------------------
served "$RBD"
tap_check "the device offers FLUSH, DISCARD and WRITE_ZEROES" \
	bash -c "[ \"\$('$op' '$T/blk.sock' features | tr '\n' ' ')\" = 'flush discard write-zeroes mq ' ]"
"$op" "$T/blk.sock" write $((4 << 20)) $((1 << 20)) 90 &&
	"$op" "$T/blk.sock" write $((5 << 20)) $((1 << 20)) 90 &&
	"$op" "$T/blk.sock" write $((8 << 20)) $((1 << 20)) 91
tap_point $? "3 MiB written"
tap_check "FLUSH succeeded" "$op" "$T/blk.sock" flush
tap_check "DISCARD of the object [8M, 12M) succeeded" \
	"$op" "$T/blk.sock" discard $((8 << 20)) $((4 << 20))
tap_check "WRITE_ZEROES of [4M, 4.5M) succeeded" \
	"$op" "$T/blk.sock" zeroes $((4 << 20)) $((512 << 10))
tap_check "WRITE_ZEROES with UNMAP of [4.5M, 5M) succeeded" \
	"$op" "$T/blk.sock" zeroes-unmap $((4608 << 10)) $((512 << 10))
tap_check "[4M, 5M) reads back as zeroes" "$op" "$T/blk.sock" read $((4 << 20)) $((1 << 20)) 0
tap_check "[5M, 6M) reads back as written" "$op" "$T/blk.sock" read $((5 << 20)) $((1 << 20)) 90
tap_check "the discarded object reads back as zeroes" \
	"$op" "$T/blk.sock" read $((8 << 20)) $((1 << 20)) 0
stop_pviod "operations"
ceph_rbd export rbd/img "$T/ops.raw" >/dev/null 2>&1
# bytes_are OFF LEN BYTE: every byte of [OFF, OFF + LEN) of ops.raw is BYTE.
bytes_are()
{
	python3 -c '
import sys
with open(sys.argv[1], "rb") as f:
    f.seek(int(sys.argv[2]))
    d = f.read(int(sys.argv[3]))
sys.exit(0 if d == bytes([int(sys.argv[4])]) * len(d) and len(d) == int(sys.argv[3]) else 1)' \
		"$T/ops.raw" "$@"
}
tap_check "rbd export: [4M, 5M) is zeroes" bytes_are $((4 << 20)) $((1 << 20)) 0
tap_check "rbd export: [5M, 6M) is the written data" bytes_are $((5 << 20)) $((1 << 20)) 90
tap_check "rbd export: the discarded object is zeroes" bytes_are $((8 << 20)) $((4 << 20)) 0

# --- the OSD goes away and comes back ------------------------------------------------
served "$RBD,queues=2"
(
	sleep 1
	ceph_osd_stop
	sleep 2
	ceph_osd_start
	echo "$CEPH_OSD_PID" >"$T/osd.pid"
) &
restarter=$!
verify "every read matched across the OSD stopped and started mid-I/O" \
	--rw randrw --iodepth 32 --queues 2 --runtime 6 --seed 9
wait "$restarter"
CEPH_OSD_PID=$(cat "$T/osd.pid")
tap_check "the OSD was restarted" grep -q "Got signal Terminated" "$T/ceph/log/osd.0.log"
stop_pviod "OSD restart"

# --- read-only ------------------------------------------------------------------------
served "$RBD,readonly=on"
tap_check "readonly=on: the device offers VIRTIO_BLK_F_RO" \
	bash -c "'$op' '$T/blk.sock' features | grep -qx ro"
verify "readonly=on: reads see the data the OSD-restart run left (--verify-existing)" \
	--rw randread --iodepth 8 --runtime 1 --seed 9 --verify-existing
tap_check "readonly=on: writes fail with IOERR" \
	[ "$("$op" "$T/blk.sock" write 0 4096 1)" = "write 0 4096: IOERR" ]
pvt_pviod_stop

# --- start-up errors --------------------------------------------------------------------
refused()
{
	local desc=$1 pat=$2 rc=0
	shift 2
	timeout 30 "$pviod" "$@" >"$T/out" 2>&1 || rc=$?
	sed 's/^/# /' "$T/out"
	[ "$rc" = 1 ] && grep -q -- "$pat" "$T/out"
	tap_point $? "$desc (exit $rc)"
}
refused "a missing pool: the option, the cluster, no such pool" \
	"rbd=nope/img: pool 'nope' on the cluster at .*127.0.0.1.*: no such pool" \
	--device "blk,socket=$T/e.sock,rbd=nope/img,ceph-conf=$CEPH_CONF"
refused "a missing image: no such image" \
	"rbd=rbd/nope: image 'nope' in pool 'rbd' .*: no such image" \
	--device "blk,socket=$T/e.sock,rbd=rbd/nope,ceph-conf=$CEPH_CONF"
refused "a missing ceph.conf" "ceph-conf=$T/none.conf: cannot read it" \
	--device "blk,socket=$T/e.sock,rbd=rbd/img,ceph-conf=$T/none.conf"
port=$(ceph_free_port)
printf '[global]\nmon host = 127.0.0.1:%s\nauth client required = none\n' "$port" >"$T/dead.conf"
refused "no monitor answers: the monitors it tried, the error" \
	"cannot connect to the cluster (monitors 127.0.0.1:$port" \
	--device "blk,socket=$T/e.sock,rbd=rbd/img,ceph-conf=$T/dead.conf"
rc=0
"$pviod" --device "blk,socket=$T/e.sock,rbd=img" >"$T/out" 2>&1 || rc=$?
[ "$rc" = 2 ] && grep -q "rbd=img: expected POOL/IMAGE" "$T/out"
tap_point $? "rbd=IMAGE without a pool: a usage error"
tap_end
