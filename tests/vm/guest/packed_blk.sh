#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of tests/vm/pviod_blk_packed.sh and pvio_blk_packed.sh (/test in
# the initramfs, busybox sh; its output is the TAP stream): every virtio
# device must have negotiated VIRTIO_F_RING_PACKED (bit 34: the 35th
# character of the stock bus's features string, or bit 34 of the pvio bus's
# hex features), then the shared block checks (tests/vm/guest/blk.sh,
# installed as /bin/blk.sh) run over those packed rings.

# shellcheck source=tap.sh
. /lib/pvio/tap.sh

ndev=0
for f in /sys/bus/virtio/devices/*/features; do
	[ -r "$f" ] || continue
	d=${f%/features}
	bits=$(cat "$f")
	b34=$(echo "$bits" | cut -c35)
	[ "$b34" = 1 ]
	point $? "${d##*/}: VIRTIO_F_RING_PACKED negotiated (features $bits)"
	ndev=$((ndev + 1))
done
for f in /sys/bus/pvio/devices/*/features; do
	[ -r "$f" ] || continue
	d=${f%/features}
	v=$(cat "$f")
	[ $(((v >> 34) & 1)) = 1 ]
	point $? "${d##*/}: VIRTIO_F_RING_PACKED negotiated (features $v)"
	ndev=$((ndev + 1))
done
[ "$ndev" -gt 0 ]
point $? "$ndev virtio device(s) found"

sh /bin/blk.sh
rc=$?
echo "# guest packed_blk: $failed failed"
[ "$rc" = 0 ] && [ "$failed" = 0 ]
