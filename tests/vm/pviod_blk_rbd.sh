#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: a stock virtio_blk guest (QEMU vhost-user-blk-pci) on a pviod
# disk whose data lives in Ceph: a throwaway one-mon one-OSD cluster
# (tests/lib/ceph.sh; run under flock /tmp/pvio-global.lock), a 64 MiB RBD
# image, pviod with rbd=POOL/IMAGE and 2 queues.  The guest runs the shared
# block checks (guest/blk.sh: blk_verify at queue depths 1..32, FLUSH,
# WRITE_ZEROES, DISCARD, fio verify, a seeded stamp written last), then
# waits while the host runs `rbd resize` to 72 MiB: pviod learns it from
# librbd's update watch (nothing else tells it) and the guest sees the new
# size (guest/blk_resize.sh), writes 1 MiB at the old end and reads it
# back.  After power-off the host exports the image with `rbd export` and
# finds that write and the stamp in it, and pviod exits 0 on SIGTERM
# without an error logged.
#
# timeout=300
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/ceph.sh
. "$VM_TOP/tests/lib/ceph.sh"
vmt_init pviod_blk_rbd

if ! why=$(vm_backend_can pviod); then
	echo "1..0 # SKIP $why"
	exit 4
fi
if ! why=$(ceph_can); then
	[ "${CI:-}" != true ] || vm_die "$why"
	echo "1..0 # SKIP $why"
	exit 4
fi
bv=$(vmt_prog blk_verify)
size=$((64 << 20))
new=$((72 << 20))
seed=$(vmt_seed)
echo "# pviod $(vm_pviod), stamp seed $seed"

# shellcheck disable=SC2317 # run by the EXIT trap
stop_all()
{
	ceph_stop
	vmt_cleanup
}
trap stop_all EXIT
ceph_start "$VMT_TMP/ceph" || {
	tail -n 20 "$VMT_TMP"/ceph/log/*.out | sed 's/^/# /'
	vm_die "the Ceph cluster did not come up"
}
ceph_rbd create --size 64M rbd/vm

"$(vm_pviod)" --device "blk,socket=$VMT_TMP/blk.sock,rbd=rbd/vm,ceph-conf=$CEPH_CONF,queues=2" \
	--workers 2 >"$VMT_TMP/pviod.log" 2>&1 &
pviod_pid=$!
vm_wait_socket "$VMT_TMP/blk.sock" 20 "$pviod_pid" || {
	sed 's/^/# pviod: /' "$VMT_TMP/pviod.log"
	vm_die "pviod did not create its socket"
}

vmt_fio
vmt_initramfs -o "$VMT_TMP/initrd" -m virtio_pci -m virtio_blk \
	"${VMT_FIO_OPT[@]}" -a "$bv" -a "$VMT_GUEST/blk.sh:/bin/blk.sh" \
	-t "$VMT_GUEST/blk_resize.sh"

console=$VMT_TMP/console.log
: >"$console"
rc=0
"$VM_TOP/scripts/vm/run.sh" -i "$VMT_TMP/initrd" --timeout 230 --tap "$VMT_TMP/tap" \
	--console "$console" \
	--vhost-user-blk "$VMT_TMP/blk.sock,num-queues=2" \
	--append "PVIO_BLK_DEV=/dev/vda PVIO_BLK_SIZE=$size PVIO_BLK_QUEUES=2 $VMT_FIO_ENV" \
	--append "PVIO_STAMP_SEED=$seed PVIO_BLK_FIRST=1 PVIO_BLK_NEW=$new" >/dev/null &
vm_pid=$!
# The guest has run the block checks and seen 64 MiB: resize the image.
resized=1
if vmt_wait_logged "$console" 'pvio-resize: ready' "$vm_pid" 200; then
	ceph_rbd resize --size 72M rbd/vm && resized=0
fi
wait "$vm_pid" || rc=$?
tap_check "host: rbd resize --size 72M rbd/vm while the guest runs" [ "$resized" = 0 ]

tap_merge "$VMT_TMP/tap" "guest: "
vmt_fio_skipped
tap_check "guest ran to the end, kernel log clean (run.sh exit $rc)" [ "$rc" = 0 ]

vmt_pviod_stop "$pviod_pid" "$rc" "$VMT_TMP/pviod.log"
tap_check "host: rbd export rbd/vm" ceph_rbd export rbd/vm "$VMT_TMP/export.img"
tap_check "host: the exported image has the new size" \
	[ "$(stat -c %s "$VMT_TMP/export.img")" = "$new" ]
tap_check "host: the guest's write at the old end is in the exported image" \
	bash -c "[ \"\$(dd if='$VMT_TMP/export.img' bs=1M skip=$((size >> 20)) count=1 2>/dev/null | tr -cd R | wc -c)\" = 1048576 ]"
# The stamp's places follow the size it was written at.
truncate -s "$size" "$VMT_TMP/export.img"
tap_check "host: the guest's stamp (with its WRITE_ZEROES range) is in the exported image" \
	"$bv" check "$VMT_TMP/export.img" "$seed"
tap_end
