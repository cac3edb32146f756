#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of tests/vm/pvio_blk_fault.sh (/test, busybox sh, TAP out).
# $FAULT_DISKS: "pvda:used-id,pvdb:used-dup,pvdc:used-len", each disk served
# by a pviod --fault MODE:$FAULT_AFTER.  Reads at 1 MiB strides (past the
# readahead window, so each reaches the device) until one fails.

# shellcheck source=tap.sh
. /lib/pvio/tap.sh

for spec in $(echo "$FAULT_DISKS" | tr , ' '); do
	d=${spec%%:*}
	mode=${spec#*:}
	i=0
	while [ ! -b "/dev/$d" ] && [ "$i" -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	i=0
	eio=0
	while [ "$i" -lt 60 ]; do
		if ! dd if="/dev/$d" of=/dev/null bs=4096 count=1 skip=$((i * 256)) \
			2>/tmp/dd.err; then
			grep -q -E "I/O error|Input/output error" /tmp/dd.err && eio=1
			break
		fi
		i=$((i + 1))
	done
	broken=$(cat "/sys/block/$d/device/broken" 2>/dev/null ||
		cat /sys/bus/pvio/devices/*/broken 2>/dev/null | tr -d '\n')
	echo "# $d ($mode): $i reads succeeded, then eio=$eio; broken=$broken"
	case $mode in
	used-len)
		# The driver clamps a used len to what it offered: not an error.
		[ "$i" = 60 ]
		point $? "$d ($mode): every read completes, the driver clamps the used length"
		;;
	*)
		[ "$eio" = 1 ] && [ "$i" -lt 60 ]
		point $? "$d ($mode): a read fails with EIO once the device lies"
		[ "$broken" = 1 ]
		point $? "$d ($mode): the pvio device is marked broken"
		late=1
		if ! dd if="/dev/$d" of=/dev/null bs=4096 count=1 skip=$((61 * 256)) \
			2>/tmp/dd.err; then
			grep -q -E "I/O error|Input/output error" /tmp/dd.err && late=0
		fi
		point "$late" "$d ($mode): later I/O fails at once with EIO"
		;;
	esac
done
echo "1..$n"
[ "$failed" = 0 ]
