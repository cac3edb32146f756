#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of tests/vm/pviod_poll_bench.sh: the stock virtio_blk on two
# disks, each served by its own pviod, fio 4k randread at QD1 and QD32 on
# each, PVG_ROUNDS rounds whose first disk alternates.  The host reads each
# pviod's counters when it sees a mark in the kernel log: the guest writes
# "pvio-test: mark before|after SETUP QD ROUND" to /dev/kmsg around every
# fio run and leaves the disks idle for PVG_SETTLE seconds after it, so the
# counters hold still while the host reads them.
#
#   PVG_DISKS=SETUP:SECTORS,...  which disk is which, by its size
#   PVG_ROUNDS=N (default 5), PVG_SETTLE=SEC (default 2), PVG_RUNTIME=SEC
#
# Prints "# bench: SETUP qdQD ROUND IOPS" and a TAP point per run.

# shellcheck source=tap.sh
. /lib/pvio/tap.sh
# shellcheck source=fio.sh
. /lib/pvio/fio.sh

mark()
{
	echo "pvio-test: mark $*" >/dev/kmsg
	sleep "${PVG_SETTLE:-2}"
}

# dev_of SETUP: the /dev/vdX whose size PVG_DISKS gives for SETUP
dev_of()
{
	for d in $disks; do
		[ "${d%%:*}" = "$1" ] || continue
		for s in /sys/block/vd*/size; do
			if [ "$(cat "$s")" = "${d#*:}" ]; then
				b=${s%/size}
				echo "/dev/${b##*/}"
				return 0
			fi
		done
	done
	return 1
}

echo "TAP version 13"
disks=$(echo "$PVG_DISKS" | tr , ' ')
setups=
for d in $disks; do
	s=${d%%:*}
	if dev=$(dev_of "$s") && [ -b "$dev" ]; then
		ok "$s is $dev"
		setups="$setups $s"
	else
		not_ok "no disk of ${d#*:} sectors for $s"
	fi
done
r=1
while [ "$r" -le "${PVG_ROUNDS:-5}" ]; do
	order=$setups
	[ $((r % 2)) = 0 ] && order=$(echo "$order" | awk '{ for (i = NF; i > 0; i--) printf "%s ", $i }')
	for s in $order; do
		dev=$(dev_of "$s")
		for qd in 1 32; do
			mark before "$s" "$qd" "$r"
			if iops=$(fio_randread "$dev" "$qd"); then
				echo "# bench: $s qd$qd $r $iops"
				ok "round $r: $s QD$qd $iops IOPS"
			else
				echo "$iops"
				not_ok "round $r: fio 4k randread QD$qd on $s ($dev)"
			fi
			mark after "$s" "$qd" "$r"
		done
	done
	r=$((r + 1))
done
echo "# guest: $n points, $failed failed"
[ "$failed" = 0 ]
