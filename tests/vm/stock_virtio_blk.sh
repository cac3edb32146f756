#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: QEMU's own virtio-blk-pci with the guest's stock virtio_blk.
# Proves the harness: blk_verify (pattern at several bs/QD, flush, discard,
# write-zeroes, capacity) on a writable disk, the read-only checks on a
# read-only disk, then a seeded stamp that the host finds in the image after
# the guest powered off, and an untouched read-only image.
#
# timeout=240
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
vmt_init stock_virtio_blk

vmt_blk_images

vmt_initramfs -o "$VMT_TMP/initrd" -m virtio_blk -m virtio_pci \
	-a "$VMT_BV" -t "$VMT_GUEST/blk.sh"

rc=0
"$VM_TOP/scripts/vm/run.sh" -i "$VMT_TMP/initrd" --timeout 150 --tap "$VMT_TMP/tap" \
	--blk-builtin "$VMT_DISK,num-queues=2" --blk-builtin "$VMT_RO,readonly=on" \
	--append "PVIO_BLK_DEV=/dev/vda PVIO_BLK_SIZE=$VMT_BLK_SIZE PVIO_BLK_QUEUES=2" \
	--append "PVIO_BLK_RO_DEV=/dev/vdb PVIO_STAMP_SEED=$VMT_SEED" >/dev/null || rc=$?

tap_merge "$VMT_TMP/tap" "guest: "
tap_check "guest ran to the end, kernel log clean (run.sh exit $rc)" [ "$rc" = 0 ]
vmt_blk_images_check
tap_end
