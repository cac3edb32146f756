#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of tests/vm/libvirt_pviod.sh (/test in the initramfs, busybox
# sh; its output is the TAP stream): the vhost-user disk libvirt gave QEMU,
# on pviod, driven by the stock virtio_blk driver: 2 MiB of random data
# written at 8 MiB with O_DIRECT, flushed and read back; its sha256 printed
# for the host, which finds it in the image after power-off.  Then the
# vhost-user interface: /bin/pviod_net.sh (ping, and TCP both ways with
# md5 checked at both ends), driven by its PVIO_NET_* environment.
#
#   PVIO_BLK_DEV=/dev/vda

# shellcheck source=tap.sh
. /lib/pvio/tap.sh

dev=${PVIO_BLK_DEV:-/dev/vda}
i=0
while [ ! -b "$dev" ] && [ "$i" -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
check "$dev present" test -b "$dev"
dd if=/dev/urandom of=/tmp/p bs=1048576 count=2 2>/dev/null
dd if=/tmp/p of="$dev" bs=1048576 seek=8 oflag=direct conv=fsync 2>/dev/null
point $? "write 2 MiB at 8 MiB of $dev (O_DIRECT)"
dd if="$dev" of=/tmp/q bs=1048576 skip=8 count=2 iflag=direct 2>/dev/null
point $? "read them back"
check "the data read back is the data written" cmp /tmp/p /tmp/q
echo "# pattern-sha256 $(sha256sum </tmp/p | cut -d' ' -f1)"
sync
blockdev --flushbufs "$dev"
point $? "flush $dev"
[ "$failed" = 0 ]
rc=$?
sh /bin/pviod_net.sh || rc=1
exit "$rc"
