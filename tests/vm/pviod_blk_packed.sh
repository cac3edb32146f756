#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: the stock virtio_blk driver on a packed ring served by pviod:
# QEMU's vhost-user-blk-pci with packed=on (two queues) on a 64 MiB image.
# In the guest every virtio device must have negotiated RING_PACKED (bit 34
# of its sysfs features), then blk_verify's random-pattern write/read-back
# at queue depths 1..32, FLUSH, WRITE_ZEROES, DISCARD and a seeded stamp
# written last, which the host finds in the image after power-off.  pviod
# must exit 0 on SIGTERM with no error logged; the guest's kernel log must
# be clean (run.sh).
#
# timeout=240
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
vmt_init pviod_blk_packed

if ! why=$(vm_backend_can pviod); then
	echo "1..0 # SKIP $why"
	exit 4
fi
pviod=$(vm_pviod)
bv=$(vmt_prog blk_verify)
disk=$VMT_TMP/disk.img
size=$((64 << 20))
truncate -s "$size" "$disk"
seed=$(vmt_seed)
echo "# pviod $pviod, stamp seed $seed"

"$pviod" --device "blk,socket=$VMT_TMP/blk.sock,file=$disk,queues=2" \
	>"$VMT_TMP/pviod.log" 2>&1 &
pviod_pid=$!
vm_wait_socket "$VMT_TMP/blk.sock" 10 "$pviod_pid" || {
	sed 's/^/# pviod: /' "$VMT_TMP/pviod.log"
	vm_die "pviod did not create its socket"
}

vmt_initramfs -o "$VMT_TMP/initrd" -m virtio_pci -m virtio_blk \
	-a "$bv" -a "$VMT_GUEST/blk.sh:/bin/blk.sh" -t "$VMT_GUEST/features_blk.sh"

rc=0
"$VM_TOP/scripts/vm/run.sh" -i "$VMT_TMP/initrd" --timeout 180 --tap "$VMT_TMP/tap" \
	--vhost-user-blk "$VMT_TMP/blk.sock,num-queues=2,packed=on" \
	--append "PVIO_BLK_DEV=/dev/vda PVIO_BLK_SIZE=$size PVIO_BLK_QUEUES=2" \
	--append "PVIO_STAMP_SEED=$seed PVIO_FEATURES=34" >/dev/null || rc=$?

tap_merge "$VMT_TMP/tap" "guest: "
tap_check "guest ran to the end, kernel log clean (run.sh exit $rc)" [ "$rc" = 0 ]

vmt_pviod_stop "$pviod_pid" "$rc" "$VMT_TMP/pviod.log"
tap_check "host: the guest's stamp (with its WRITE_ZEROES range) is in the image" \
	"$bv" check "$disk" "$seed"
tap_end
