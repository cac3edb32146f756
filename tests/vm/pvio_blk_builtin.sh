#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: pvio_core + pvio_blk on QEMU's own virtio-blk-pci (transitional,
# 2 queues) - blk_verify (pattern at several block sizes and queue depths,
# flush, discard, write-zeroes, capacity) on /dev/pvda, the read-only checks
# on /dev/pvdb, a fio verify job, then a stamp the host finds in the image.
#
# PVG_INTX=1 (pvio_blk_intx.sh): the guest boots with pci=nomsi, so the
# queues share the INTx line and the ISR byte.
# PVG_PACKED=1 (pvio_blk_packed.sh): both devices with packed=on; the guest
# checks pvio_core negotiated RING_PACKED (bit 34) before the same checks.
#
# timeout=240
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
intx=${PVG_INTX:-0}
packed=${PVG_PACKED:-0}
if [ "$intx" = 1 ]; then
	vmt_init pvio_blk_intx
elif [ "$packed" = 1 ]; then
	vmt_init pvio_blk_packed
else
	vmt_init pvio_blk_builtin
fi
pvg_modules

vmt_blk_images

vmt_fio
extra=
[ "$intx" = 1 ] && extra=pci=nomsi
dopt=
test=(-t "$VMT_GUEST/blk.sh")
if [ "$packed" = 1 ]; then
	dopt=,packed=on
	test=(-a "$VMT_GUEST/blk.sh:/bin/blk.sh" -t "$VMT_GUEST/features_blk.sh")
	extra+="${extra:+ }PVIO_FEATURES=34"
fi
vmt_initramfs -o "$VMT_TMP/initrd" "${VMT_FIO_OPT[@]}" \
	--ko "$PVG_CORE_KO" --ko "$PVG_BLK_KO" -a "$VMT_BV" "${test[@]}"

rc=0
"$VM_TOP/scripts/vm/run.sh" -i "$VMT_TMP/initrd" --timeout 220 --tap "$VMT_TMP/tap" \
	--blk-builtin "$VMT_DISK,num-queues=2$dopt" --blk-builtin "$VMT_RO,readonly=on$dopt" \
	--append "PVIO_BLK_DEV=/dev/pvda PVIO_BLK_SIZE=$VMT_BLK_SIZE PVIO_BLK_QUEUES=2 $VMT_FIO_ENV $extra" \
	--append "PVIO_BLK_RO_DEV=/dev/pvdb PVIO_STAMP_SEED=$VMT_SEED" >/dev/null || rc=$?

tap_merge "$VMT_TMP/tap" "guest: "
vmt_fio_skipped
tap_check "guest ran to the end, kernel log clean (run.sh exit $rc)" [ "$rc" = 0 ]
vmt_blk_images_check
tap_end
