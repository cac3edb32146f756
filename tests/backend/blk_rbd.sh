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
#     missing pool, a missing image, a missing ceph.conf, no monitor;
#   - an image or a pool whose own config turns librbd's cache on (librbd
#     applies it over pviod's rbd_cache=false) is refused, with the command
#     that removes it; read-only, it is served.
set -uo pipefail

# shellcheck source=../lib/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/lib.sh"
# shellcheck source=../lib/ceph.sh
. "$PVT_TOP/tests/lib/ceph.sh"
# shellcheck source=../lib/blk.sh
. "$PVT_TOP/tests/lib/blk.sh"
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
pvt_bin pvio-bench >/dev/null || tap_skip_all "pvio-bench does not build"
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
# A cluster answers slower than an NBD server, and a refused start waits for it.
# shellcheck disable=SC2034 # read by tests/lib/blk.sh
BLKT_VERIFY_MS=60000
# shellcheck disable=SC2034
BLKT_REFUSE_SECS=30

# --- verified I/O, then the image on the host ------------------------------------
blkt_served "$RBD,queues=2"
tap_check "the capacity is the image's (32 MiB)" [ "$("$op" "$T/blk.sock" size)" = $((32 << 20)) ]
blkt_verify "verified random read/write at QD1" --rw randrw --iodepth 1 --runtime 1
blkt_verify "verified random read/write at QD32 on 2 queues" --rw randrw --iodepth 32 --queues 2 \
	--runtime 2 --seed 5
blkt_stop "verified I/O"
ceph_rbd export rbd/img "$T/export.raw" >/dev/null 2>&1
tap_point $? "rbd export rbd/img"
blkt_served "file=$T/export.raw"
blkt_verify "rbd export holds the verified data (file engine, --verify-existing)" \
	--rw randread --iodepth 8 --runtime 1 --seed 5 --verify-existing
blkt_stop "the exported image"

# --- FLUSH, DISCARD, WRITE_ZEROES ----------------------------------------------------
blkt_served "$RBD"
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
blkt_stop "operations"
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
blkt_served "$RBD,queues=2"
(
	sleep 1
	ceph_osd_stop
	sleep 2
	ceph_osd_start
	echo "$CEPH_OSD_PID" >"$T/osd.pid"
) &
restarter=$!
blkt_verify "every read matched across the OSD stopped and started mid-I/O" \
	--rw randrw --iodepth 32 --queues 2 --runtime 6 --seed 9
wait "$restarter"
CEPH_OSD_PID=$(cat "$T/osd.pid")
tap_check "the OSD was restarted" grep -q "Got signal Terminated" "$T/ceph/log/osd.0.log"
blkt_stop "OSD restart"

# --- read-only ------------------------------------------------------------------------
blkt_served "$RBD,readonly=on"
tap_check "readonly=on: the device offers VIRTIO_BLK_F_RO" \
	bash -c "'$op' '$T/blk.sock' features | grep -qx ro"
blkt_verify "readonly=on: reads see the data the OSD-restart run left (--verify-existing)" \
	--rw randread --iodepth 8 --runtime 1 --seed 9 --verify-existing
tap_check "readonly=on: writes fail with IOERR" \
	[ "$("$op" "$T/blk.sock" write 0 4096 1)" = "write 0 4096: IOERR" ]
pvt_pviod_stop

# --- start-up errors --------------------------------------------------------------------
blkt_refused "a missing pool: the option, the cluster, no such pool" \
	"rbd=nope/img: pool 'nope' on the cluster at .*127.0.0.1.*: no such pool" \
	--device "blk,socket=$T/e.sock,rbd=nope/img,ceph-conf=$CEPH_CONF"
blkt_refused "a missing image: no such image" \
	"rbd=rbd/nope: image 'nope' in pool 'rbd' .*: no such image" \
	--device "blk,socket=$T/e.sock,rbd=rbd/nope,ceph-conf=$CEPH_CONF"
blkt_refused "a missing ceph.conf" "ceph-conf=$T/none.conf: cannot read it" \
	--device "blk,socket=$T/e.sock,rbd=rbd/img,ceph-conf=$T/none.conf"
port=$(ceph_free_port)
printf '[global]\nmon host = 127.0.0.1:%s\nauth client required = none\n' "$port" >"$T/dead.conf"
blkt_refused "no monitor answers: the monitors it tried, the error" \
	"cannot connect to the cluster (monitors 127.0.0.1:$port" \
	--device "blk,socket=$T/e.sock,rbd=rbd/img,ceph-conf=$T/dead.conf"
# librbd applies an image's own config over the client's rbd_cache=false.
ceph_rbd create --size 4M rbd/cached && ceph_rbd config image set rbd/cached rbd_cache true
tap_point $? "rbd config image set rbd/cached rbd_cache true"
blkt_refused "an image whose config turns librbd's cache on: refused, with the way out" \
	"rbd=rbd/cached: the image's config turns librbd's cache on .*'rbd config image remove rbd/cached rbd_cache'" \
	--device "blk,socket=$T/e.sock,rbd=rbd/cached,ceph-conf=$CEPH_CONF"
ceph_rbd config image remove rbd/cached rbd_cache && ceph_rbd config pool set rbd rbd_cache true
tap_point $? "rbd config pool set rbd rbd_cache true"
blkt_refused "a pool whose config turns librbd's cache on: refused, with the way out" \
	"rbd=rbd/cached: the pool's config turns librbd's cache on .*'rbd config pool remove rbd rbd_cache'" \
	--device "blk,socket=$T/e.sock,rbd=rbd/cached,ceph-conf=$CEPH_CONF"
blkt_served "rbd=rbd/cached,ceph-conf=$CEPH_CONF,readonly=on"
tap_check "readonly=on: the cache does not matter, the image is served" \
	[ "$("$op" "$T/blk.sock" size)" = $((4 << 20)) ]
pvt_pviod_stop
ceph_rbd config pool remove rbd rbd_cache
tap_point $? "rbd config pool remove rbd rbd_cache"
rc=0
"$pviod" --device "blk,socket=$T/e.sock,rbd=img" >"$T/out" 2>&1 || rc=$?
[ "$rc" = 2 ] && grep -q "rbd=img: expected POOL/IMAGE" "$T/out"
tap_point $? "rbd=IMAGE without a pool: a usage error"
tap_end
