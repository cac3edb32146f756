#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of tests/vm/pviod_crash_recovery.sh and pviod_migrate.sh (/test
# in the initramfs, busybox sh; its output is the TAP stream): find the pviod
# disk and the host's control disk by size (virtio_blk's vd* or pvio_blk's
# pvd*) and run crash_writer until the host writes STOP into the control
# disk.  With CW_PACKED=1 the data disk must have negotiated
# VIRTIO_F_RING_PACKED first (bit 34: the 35th character of its features).

if [ "${CW_PACKED:-0}" = 1 ]; then
	echo "1..2"
else
	echo "1..1"
fi
data=
ctrl=
i=0
while [ "$i" -lt 50 ]; do
	for s in /sys/block/vd* /sys/block/pvd*; do
		[ -e "$s/size" ] || continue
		case $(cat "$s/size") in
		"$CW_DATA_SECTORS") data=/dev/${s##*/} ;;
		"$CW_CTRL_SECTORS") ctrl=/dev/${s##*/} ;;
		esac
	done
	[ -n "$data" ] && [ -n "$ctrl" ] && break
	sleep 0.1
	i=$((i + 1))
done
if [ -z "$data" ] || [ -z "$ctrl" ]; then
	echo "not ok 1 disks of $CW_DATA_SECTORS and $CW_CTRL_SECTORS sectors not found"
	exit 1
fi
echo "# data $data, control $ctrl, seed $CW_SEED, $CW_NPROC writers"
if [ "${CW_PACKED:-0}" = 1 ]; then
	features=$(cat "/sys/block/${data#/dev/}/device/features" 2>/dev/null)
	if [ "$(echo "$features" | cut -c35)" = 1 ]; then
		echo "ok 1 $data: VIRTIO_F_RING_PACKED negotiated (features $features)"
	else
		echo "not ok 1 $data: VIRTIO_F_RING_PACKED not negotiated (features $features)"
	fi
fi
# The first line was the plan: crash_writer's own plan line is not printed.
/bin/crash_writer run "$data" "$ctrl" "$CW_SEED" "$CW_NPROC"
