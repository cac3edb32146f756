#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: vhost-user-blk-pci disks (a 2-queue one and a read-only one) on a
# back-end, driven by a guest driver: blk_verify on the 2-queue disk, the
# read-only checks on the other, a fio verify job on both queues, and the
# host-side stamp check after power-off.  Run through its wrappers:
#
#   DRIVER  stock (the guest's virtio_blk, the default) or pvio (pvio_blk)
#   BACKEND qsd (qemu-storage-daemon, the default) or pviod
#   PACKED  on: both disks with packed=on (pviod: qemu-storage-daemon does
#           not offer packed rings); the guest checks RING_PACKED (bit 34)
#           was negotiated before the data checks
#   IN_ORDER on: both disks with in_order=on, served by pviod's in-order=on
#           (BACKEND=pviod): the guest checks VIRTIO_F_IN_ORDER (bit 35)
#           was negotiated by pvio_blk, and was not by the stock virtio_blk
#           (6.1's and 6.12's virtio_ring drop the bit, not knowing it), then
#           the same data checks.  QEMU has the in_order property from 9.1:
#           PVIO_QEMU defaults to 10 (scripts/vm/lib.sh), and an older QEMU
#           fails the test
#
# tests/vm/stock_vhost_user_blk_qsd.sh, tests/vm/pvio_blk_vhost_user.sh,
# tests/vm/pvio_blk_pviod.sh, tests/vm/pvio_blk_pviod_packed.sh,
# tests/vm/pvio_blk_pviod_inorder.sh, tests/vm/pvio_blk_pviod_packed_inorder.sh
# and tests/vm/pviod_blk_inorder.sh are those combinations.
set -euo pipefail

in_order=${IN_ORDER:-off}
[ "$in_order" = off ] || export PVIO_QEMU=${PVIO_QEMU:-10}
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
backend=${BACKEND:-qsd}
vmt_driver vhost_user_blk.sh
packed=${PACKED:-off}
dopt=
features=
beopt=()
test=(-t "$VMT_GUEST/blk.sh")
if [ "$packed" = on ]; then
	dopt=,packed=on
	features=34
fi
case $in_order in
off) ;;
on)
	[ "$backend" = pviod ] || {
		echo "vhost_user_blk.sh: IN_ORDER=on needs BACKEND=pviod, not '$backend'" >&2
		exit 2
	}
	dopt+=,in_order=on
	beopt=(in-order=on)
	if [ "$VMT_DRIVER" = pvio ]; then
		features+=${features:+,}35
	else
		features+=${features:+,}-35
	fi
	;;
*)
	echo "vhost_user_blk.sh: IN_ORDER is on or off, not '$in_order'" >&2
	exit 2
	;;
esac
fopt=()
if [ -n "$features" ]; then
	test=(-a "$VMT_GUEST/blk.sh:/bin/blk.sh" -t "$VMT_GUEST/features_blk.sh")
	fopt=(--append "PVIO_FEATURES=$features")
fi
suffix=
[ "$packed" = on ] && suffix=_packed
[ "$in_order" = on ] && suffix+=_inorder
vmt_init "vhost_user_blk_${VMT_DRIVER}_$backend$suffix"
if ! why=$(vm_backend_can "$backend"); then
	echo "1..0 # SKIP $why"
	exit 4
fi
if [ "$in_order" = on ] && ! vm_qemu_at_least 9.1; then
	tap_fail "QEMU $(vm_qemu_version) has no in_order property (9.1 or newer; PVIO_QEMU=10)"
	tap_end
fi
vmt_driver_modules

vmt_blk_images
echo "# back-end $backend"

vm_backend_blk_start "$backend" "$VMT_TMP/rw.sock" "$VMT_DISK" queues=2 "${beopt[@]}" ||
	vm_die "cannot start $backend on $VMT_DISK"
vm_backend_blk_start "$backend" "$VMT_TMP/ro.sock" "$VMT_RO" readonly=on "${beopt[@]}" ||
	vm_die "cannot start a read-only $backend on $VMT_RO"

vmt_fio
vmt_initramfs -o "$VMT_TMP/initrd" "${VMT_FIO_OPT[@]}" \
	"${VMT_DRIVER_MODS[@]}" -a "$VMT_BV" "${test[@]}"

rc=0
"$VM_TOP/scripts/vm/run.sh" -i "$VMT_TMP/initrd" --timeout 220 --tap "$VMT_TMP/tap" \
	--vhost-user-blk "$VMT_TMP/rw.sock,num-queues=2$dopt" \
	--vhost-user-blk "$VMT_TMP/ro.sock,num-queues=1$dopt" \
	--append "PVIO_BLK_DEV=${VMT_VD}a PVIO_BLK_SIZE=$VMT_BLK_SIZE PVIO_BLK_QUEUES=2 $VMT_FIO_ENV" \
	--append "PVIO_BLK_RO_DEV=${VMT_VD}b PVIO_STAMP_SEED=$VMT_SEED" \
	"${fopt[@]}" >/dev/null || rc=$?

tap_merge "$VMT_TMP/tap" "guest: "
vmt_fio_skipped
tap_check "guest ran to the end, kernel log clean (run.sh exit $rc)" [ "$rc" = 0 ]
be_rc=0
vm_backend_stop_all || be_rc=1
if [ "$be_rc" != 0 ] || [ "$rc" != 0 ]; then
	vm_backend_log "$VMT_TMP/rw.sock"
	vm_backend_log "$VMT_TMP/ro.sock"
fi
tap_check "host: $backend stopped cleanly" [ "$be_rc" = 0 ]
vmt_blk_images_check
tap_end
