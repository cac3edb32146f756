#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of tests/vm/pviod_blk.sh (/test in the initramfs, busybox sh;
# its output is the TAP stream).  First the shared block checks
# (tests/vm/guest/blk.sh, installed as /bin/blk.sh: blk_verify at several
# queue depths, FLUSH, WRITE_ZEROES, DISCARD, the read-only disk, the stamp),
# then DISCARD on a third disk, $PVIO_DZ_DEV, whose effect the host checks in
# its image after power-off: [1 MiB, 2 MiB) discarded (a hole that reads
# zero), [3 MiB, 4 MiB) overwritten with a pattern, the rest untouched.

sh /bin/blk.sh
rc=$?

dev=${PVIO_DZ_DEV:-/dev/vdc}
# shellcheck source=tap.sh
. /lib/pvio/tap.sh

i=0
while [ ! -b "$dev" ] && [ "$i" -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ -b "$dev" ]
point $? "$dev present"
d=$(cat "/sys/class/block/${dev##*/}/queue/discard_max_bytes" 2>/dev/null)
[ "${d:-0}" -gt 0 ]
point $? "$dev offers DISCARD (discard_max_bytes ${d:-none})"
blkdiscard -o 1048576 -l 1048576 "$dev"
point $? "blkdiscard [1M, 2M) of $dev"
# 0x5a bytes: a pattern the host can recognise without a seed.
# (Through a file: dd's reads from a pipe come up short.)
dd if=/dev/zero bs=1048576 count=1 2>/dev/null | tr '\000' 'Z' >/tmp/z &&
	dd if=/tmp/z of="$dev" bs=1048576 seek=3 count=1 oflag=direct 2>/dev/null
point $? "write 1 MiB of 'Z' at 3M of $dev (O_DIRECT)"
dd if="$dev" bs=1048576 skip=1 count=1 iflag=direct 2>/dev/null | tr -d '\000' | wc -c >/tmp/nz
[ "$(cat /tmp/nz)" = 0 ]
point $? "the discarded range reads back as zeroes in the guest"
sync
echo "# guest pviod_blk: $n more points, $failed failed"
[ "$rc" = 0 ] && [ "$failed" = 0 ]
