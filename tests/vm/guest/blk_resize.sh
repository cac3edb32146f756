#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of tests/vm/pviod_blk_resize.sh (/test, busybox sh; its output
# is the TAP stream).  $PVIO_BLK_DEV starts at $PVIO_BLK_SIZE bytes; the
# guest says "# resize: ready", the host grows the image to $PVIO_BLK_NEW
# bytes and has pviod tell the guest; the guest waits for the new size
# (no reboot, no rescan), writes 1 MiB of 'R' at the old end and reads it
# back past the page cache, and reads the new last sector; the host then
# finds the write in the image.  With PVIO_BLK_FIRST=1 the shared block
# checks (/bin/blk.sh) run first, on the old size (tests/vm/pviod_blk_rbd.sh).

first=0
if [ "${PVIO_BLK_FIRST:-0}" = 1 ]; then
	sh /bin/blk.sh || first=1
fi
# shellcheck source=tap.sh
. /lib/pvio/tap.sh

dev=${PVIO_BLK_DEV:-/dev/vda}
old=${PVIO_BLK_SIZE:?}
new=${PVIO_BLK_NEW:?}
name=${dev##*/}

i=0
while [ ! -b "$dev" ] && [ "$i" -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ -b "$dev" ]
point $? "$dev present"
s=$(cat "/sys/class/block/$name/size")
[ "$s" = $((old / 512)) ]
point $? "$dev starts at $old bytes ($s sectors)"

# The host watches the kernel log (run.sh --console): the TAP serial is
# copied to it only at the end.
echo "# resize: ready"
echo "pvio-resize: ready" >/dev/kmsg
i=0
while [ "$(cat "/sys/class/block/$name/size")" = "$s" ] && [ "$i" -lt 1200 ]; do
	sleep 0.1
	i=$((i + 1))
done
s=$(cat "/sys/class/block/$name/size")
echo "# $dev: $s sectors after $((i / 10)) s"
[ "$s" = $((new / 512)) ]
point $? "$dev grew to $new bytes without a reboot ($s sectors)"
b=$(blockdev --getsize64 "$dev" 2>/dev/null)
[ "$b" = "$new" ]
point $? "the block layer says $new bytes too (blockdev: $b)"

# (Through a file: dd's reads from a pipe come up short.)
dd if=/dev/zero bs=1048576 count=1 2>/dev/null | tr '\000' 'R' >/tmp/r
dd if=/tmp/r of="$dev" bs=1048576 seek=$((old >> 20)) count=1 oflag=direct 2>/dev/null
point $? "write 1 MiB at the old end ($((old >> 20)) MiB) of $dev (O_DIRECT)"
dd if="$dev" of=/tmp/back bs=1048576 skip=$((old >> 20)) count=1 iflag=direct 2>/dev/null &&
	cmp -s /tmp/r /tmp/back
point $? "it reads back (O_DIRECT)"
dd if="$dev" of=/tmp/last bs=512 skip=$((new / 512 - 1)) count=1 iflag=direct 2>/dev/null
point $? "the last sector of the new size reads"
sync
echo "# guest blk_resize: $n points, $failed failed"
[ "$failed" = 0 ] && [ "$first" = 0 ]
