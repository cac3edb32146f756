#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: a disk grows under a running guest.  pviod serves a 16 MiB image
# (vhost-user-blk-pci; QEMU hands pviod its back-end channel); once the
# guest has seen 16 MiB, the host grows the image to 24 MiB and runs
# `pvioctl refresh`: pviod sends CONFIG_CHANGE_MSG, QEMU reads the new
# capacity with GET_CONFIG and interrupts the guest, whose driver sets the
# new size (tests/vm/guest/blk_resize.sh).  The guest writes 1 MiB at the
# old end and reads it back; after power-off the host finds it in the image.
#
#   DRIVER  stock (the guest's virtio_blk, the default) or pvio (pvio_blk);
#           tests/vm/pvio_blk_resize.sh runs the latter
#
# timeout=240
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
vmt_driver pviod_blk_resize.sh
vmt_init "pviod_blk_resize_$VMT_DRIVER"
if ! why=$(vm_backend_can pviod); then
	echo "1..0 # SKIP $why"
	exit 4
fi
vmt_driver_modules
pviod=$(vm_pviod)
pvioctl=$(dirname "$pviod")/pvioctl
[ -x "$pvioctl" ] || vm_die "pvioctl not built beside $pviod"
disk=$VMT_TMP/disk.img
old=$((16 << 20))
new=$((24 << 20))
truncate -s "$old" "$disk"
rpc=$VMT_TMP/control.sock

"$pviod" --rpc "$rpc" --device "blk,id=d0,socket=$VMT_TMP/d0.sock,file=$disk" \
	--workers 1 >"$VMT_TMP/pviod.log" 2>&1 &
pviod_pid=$!
# shellcheck disable=SC2317 # called from the EXIT trap
stop_pviod() { kill -KILL "$pviod_pid" 2>/dev/null || true; }
trap 'stop_pviod; vmt_cleanup' EXIT
vm_wait_socket "$VMT_TMP/d0.sock" 10 "$pviod_pid" || vm_die "pviod did not create its socket"
vm_wait_socket "$rpc" 10 "$pviod_pid" || vm_die "pviod did not create its control socket"

vmt_initramfs -o "$VMT_TMP/initrd" "${VMT_DRIVER_MODS[@]}" -t "$VMT_GUEST/blk_resize.sh"
console=$VMT_TMP/console.log
: >"$console"
rc=0
"$VM_TOP/scripts/vm/run.sh" -i "$VMT_TMP/initrd" --timeout 200 --tap "$VMT_TMP/tap" \
	--console "$console" \
	--vhost-user-blk "$VMT_TMP/d0.sock,num-queues=1" \
	--append "PVIO_BLK_DEV=${VMT_VD}a PVIO_BLK_SIZE=$old PVIO_BLK_NEW=$new" >/dev/null &
vm_pid=$!

# The guest has seen the old size: grow the image, have pviod say so.
ready=0
vmt_wait_logged "$console" 'pvio-resize: ready' "$vm_pid" 150 && ready=1
refreshed=1
if [ "$ready" = 1 ]; then
	truncate -s "$new" "$disk"
	t0=$(date +%s%N)
	out=$("$pvioctl" -s "$rpc" refresh d0) && [ "$out" = "d0: changed" ] && refreshed=0
	echo "# pvioctl refresh: '$out' in $((($(date +%s%N) - t0) / 1000000)) ms"
fi
wait "$vm_pid" || rc=$?

tap_check "the guest reached the resize point" [ "$ready" = 1 ]
tap_check "host: pvioctl refresh d0 says the disk changed" [ "$refreshed" = 0 ]
tap_merge "$VMT_TMP/tap" "guest: "
tap_check "guest ran to the end, kernel log clean (run.sh exit $rc)" [ "$rc" = 0 ]
tap_check "host: pviod sent CONFIG_CHANGE_MSG and QEMU acked it (no channel error)" \
	bash -c "! grep -q 'back-end channel closed' '$VMT_TMP/pviod.log'"
kill -TERM "$pviod_pid"
prc=0
wait "$pviod_pid" || prc=$?
if [ "$prc" != 0 ] || [ "$rc" != 0 ]; then
	sed 's/^/# pviod: /' "$VMT_TMP/pviod.log" | tail -30
fi
tap_check "host: pviod exited 0 on SIGTERM (exit $prc)" [ "$prc" = 0 ]
tap_check "host: pviod logged no error" bash -c "! grep -q 'error:' '$VMT_TMP/pviod.log'"
tap_check "host: the image has the new size" [ "$(stat -c %s "$disk")" = "$new" ]
tap_check "host: the guest's write at the old end is in the image" \
	bash -c "[ \"\$(dd if='$disk' bs=1M skip=$((old >> 20)) count=1 2>/dev/null | tr -cd R | wc -c)\" = 1048576 ]"
tap_end
