#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of the block VM tests that check which ring features every
# virtio device negotiated before the shared block checks run over them
# (tests/vm/guest/blk.sh, installed as /bin/blk.sh); /test in the initramfs,
# busybox sh, its output is the TAP stream.  PVIO_FEATURES (kernel command
# line) lists feature bits, comma-separated: N must have been negotiated,
# -N must not have been.  34 is VIRTIO_F_RING_PACKED, 35 VIRTIO_F_IN_ORDER.
# The stock bus's features attribute is a string of 0/1, bit N its
# (N+1)th character; the pvio bus's is hex, and its device_features holds
# what the device offered.
#
# pviod_blk_packed.sh, pvio_blk_packed.sh (PVIO_FEATURES=34) and
# vhost_user_blk.sh's PACKED=on and IN_ORDER=on variants use it.

# shellcheck source=tap.sh
. /lib/pvio/tap.sh

# name BIT: what the tests call the feature.
name()
{
	case $1 in
	34) echo VIRTIO_F_RING_PACKED ;;
	35) echo VIRTIO_F_IN_ORDER ;;
	*) echo "feature bit $1" ;;
	esac
}

# want DEV HAS BIT_SPEC WHAT: one point, HAS (1 or 0) against BIT_SPEC.
want()
{
	spec=$3
	b=${spec#-}
	if [ "$spec" = "$b" ]; then
		[ "$2" = 1 ]
		point $? "$1: $(name "$b") negotiated ($4)"
	else
		[ "$2" = 0 ]
		point $? "$1: $(name "$b") not negotiated ($4)"
	fi
}

[ -n "${PVIO_FEATURES:-}" ]
point $? "PVIO_FEATURES names the bits to check (\"${PVIO_FEATURES:-}\")"
specs=$(echo "${PVIO_FEATURES:-}" | tr , ' ')

ndev=0
for f in /sys/bus/virtio/devices/*/features; do
	[ -r "$f" ] || continue
	d=${f%/features}
	bits=$(cat "$f")
	for s in $specs; do
		want "${d##*/}" "$(echo "$bits" | cut -c$((${s#-} + 1)))" "$s" "features $bits"
	done
	ndev=$((ndev + 1))
done
for f in /sys/bus/pvio/devices/*/features; do
	[ -r "$f" ] || continue
	d=${f%/features}
	v=$(cat "$f")
	off=$(cat "$d/device_features")
	for s in $specs; do
		want "${d##*/}" $(((v >> ${s#-}) & 1)) "$s" "features $v of $off offered"
	done
	ndev=$((ndev + 1))
done
[ "$ndev" -gt 0 ]
point $? "$ndev virtio device(s) found"

sh /bin/blk.sh
rc=$?
echo "# guest features_blk: $failed failed"
[ "$rc" = 0 ] && [ "$failed" = 0 ]
