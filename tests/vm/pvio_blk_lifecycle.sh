#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: the life of a pvio_blk disk on QEMU's own virtio-blk-pci
# (modern-only, 2 queues) - serial, multiqueue, resize through QMP
# block_resize, unload/reload of both modules, unbind/bind of the frontend
# under I/O, and device_del hot-unplug of a second disk during I/O.  The
# guest's kernel log must stay free of WARNING/BUG/Oops (run.sh).
#
# timeout=300
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
vmt_init pvio_blk_lifecycle
pvg_modules
command -v fio >/dev/null || {
	echo "1..0 # SKIP fio not installed"
	exit 4
}

disk=$VMT_TMP/disk.img
hp=$VMT_TMP/hotplug.img
size=$((64 << 20))
resize=$((96 << 20))
truncate -s "$size" "$disk"
truncate -s "$size" "$hp"
console=$VMT_TMP/console.log
qmp=$VMT_TMP/qmp.sock

vmt_initramfs -o "$VMT_TMP/initrd" --fio \
	--ko "$PVG_CORE_KO" --ko "$PVG_BLK_KO" -t "$VMT_GUEST/pvio_blk_lifecycle.sh"

: >"$console"
pvg_when_logged "$console" "pvio-test: resize" \
	pvg_qmp "$qmp" block_resize "{\"device\": \"drive-vblk0\", \"size\": $resize}"
pvg_when_logged "$console" "pvio-test: unplug" pvg_qmp "$qmp" device_del '{"id": "hp0"}'

rc=0
"$VM_TOP/scripts/vm/run.sh" -i "$VMT_TMP/initrd" --timeout 280 --tap "$VMT_TMP/tap" \
	--console "$console" --qmp "$qmp" \
	--blk-builtin "$disk,num-queues=2,disable-legacy=on,serial=pvio-serial-0" \
	--blk-builtin "$hp,id=hp0" \
	--append "PVG_SERIAL=pvio-serial-0 PVG_QUEUES=2 PVG_RESIZE=$resize PVG_HOTPLUG=1" \
	>/dev/null || rc=$?
pvg_watchers_stop

tap_merge "$VMT_TMP/tap" "guest: "
tap_check "guest ran to the end, kernel log clean (run.sh exit $rc)" [ "$rc" = 0 ]
tap_check "host: the image grew to $resize bytes" [ "$(stat -c %s "$disk")" = "$resize" ]
tap_end
