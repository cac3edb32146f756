#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: one pviod process serving three vhost-user-blk-pci disks to a
# guest running the stock virtio_blk driver:
#
#   vda  64 MiB raw image, queues=2 (QEMU num-queues=2): blk_verify's
#        random-pattern write/read-back at queue depths 1..32, FLUSH,
#        WRITE_ZEROES, DISCARD, fio verify, and a seeded stamp written last
#   vdb  8 MiB of random data, readonly=on: writes must fail, data unchanged
#   vdc  16 MiB of random data: DISCARD of [1M, 2M) and a write at 3M
#
# After the guest powers off the host checks the images (the stamp with its
# zeroed range, the hole, the write, the untouched rest), and that pviod
# exits 0 on SIGTERM.  The guest's kernel log must be clean (run.sh).
#
# timeout=240
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
vmt_init pviod_blk

if ! why=$(vm_backend_can pviod); then
	echo "1..0 # SKIP $why"
	exit 4
fi
pviod=$(vm_pviod)
bv=$(vmt_prog blk_verify)
disk=$VMT_TMP/disk.img
ro=$VMT_TMP/ro.img
dz=$VMT_TMP/dz.img
size=$((64 << 20))
truncate -s "$size" "$disk"
head -c $((8 << 20)) /dev/urandom >"$ro"
head -c $((16 << 20)) /dev/urandom >"$dz"
ro_sum=$(sha256sum <"$ro")
dz_head=$(head -c $((1 << 20)) "$dz" | sha256sum)
dz_tail=$(tail -c +$(((4 << 20) + 1)) "$dz" | sha256sum)
seed=$(vmt_seed)
echo "# pviod $pviod, stamp seed $seed"

# One process, three devices: --device repeats.
"$pviod" --device "blk,socket=$VMT_TMP/rw.sock,file=$disk,queues=2,serial=pvio-rw" \
	--device "blk,socket=$VMT_TMP/ro.sock,file=$ro,readonly=on" \
	--device "blk,socket=$VMT_TMP/dz.sock,file=$dz,direct=off" \
	--workers 2 >"$VMT_TMP/pviod.log" 2>&1 &
pviod_pid=$!
for s in rw ro dz; do
	vm_wait_socket "$VMT_TMP/$s.sock" 10 "$pviod_pid" || {
		sed 's/^/# pviod: /' "$VMT_TMP/pviod.log"
		vm_die "pviod did not create its sockets"
	}
done

vmt_fio
vmt_initramfs -o "$VMT_TMP/initrd" -m virtio_pci -m virtio_blk \
	"${VMT_FIO_OPT[@]}" -a "$bv" -a "$VMT_GUEST/blk.sh:/bin/blk.sh" \
	-t "$VMT_GUEST/pviod_blk.sh"

rc=0
"$VM_TOP/scripts/vm/run.sh" -i "$VMT_TMP/initrd" --timeout 180 --tap "$VMT_TMP/tap" \
	--vhost-user-blk "$VMT_TMP/rw.sock,num-queues=2" \
	--vhost-user-blk "$VMT_TMP/ro.sock,num-queues=1" \
	--vhost-user-blk "$VMT_TMP/dz.sock,num-queues=1" \
	--append "PVIO_BLK_DEV=/dev/vda PVIO_BLK_SIZE=$size PVIO_BLK_QUEUES=2 $VMT_FIO_ENV" \
	--append "PVIO_BLK_RO_DEV=/dev/vdb PVIO_DZ_DEV=/dev/vdc PVIO_STAMP_SEED=$seed" \
	>/dev/null || rc=$?

tap_merge "$VMT_TMP/tap" "guest: "
vmt_fio_skipped
tap_check "guest ran to the end, kernel log clean (run.sh exit $rc)" [ "$rc" = 0 ]

# SIGTERM: drain, flush, exit 0.
vmt_pviod_stop "$pviod_pid" "$rc" "$VMT_TMP/pviod.log"
tap_check "host: the guest's stamp (with its WRITE_ZEROES range) is in the image" \
	"$bv" check "$disk" "$seed"
tap_check "host: the read-only image is unchanged" [ "$(sha256sum <"$ro")" = "$ro_sum" ]

# [1M, 2M) of dz.img: zeroes, and a hole (SEEK_DATA skips past it).
# shellcheck disable=SC2317 # called through tap_check below
dz_hole()
{
	python3 - "$dz" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
os.lseek(fd, 1 << 20, os.SEEK_SET)
data = os.read(fd, 1 << 20)
if data != bytes(1 << 20):
    sys.exit("[1M, 2M) is not zero")
try:
    nxt = os.lseek(fd, 1 << 20, os.SEEK_DATA)
except OSError:
    nxt = -1
if nxt != -1 and nxt < 2 << 20:
    sys.exit("[1M, 2M) still has data blocks (next data at %d)" % nxt)
PY
}
tap_check "host: DISCARD left a zero hole at [1M, 2M) of the image" dz_hole
tap_check "host: the guest's write at 3M is in the image" \
	bash -c "[ \"\$(dd if='$dz' bs=1M skip=3 count=1 2>/dev/null | tr -d Z | wc -c)\" = 0 ]"
tap_check "host: the rest of the image is untouched" \
	bash -c "[ \"\$(head -c $((1 << 20)) '$dz' | sha256sum)\" = '$dz_head' ] &&
		[ \"\$(tail -c +$(((4 << 20) + 1)) '$dz' | sha256sum)\" = '$dz_tail' ]"
tap_end
