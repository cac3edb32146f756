#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of tests/vm/pvio_blk_bench.sh: in one boot, on the same
# virtio-blk-pci device, fio 4k randread at QD1 and QD32 with pvio_blk
# (/dev/pvda) and with the stock virtio_blk (/dev/vda), loading one driver,
# measuring, unloading it and loading the other; the order alternates
# (pvio, stock, stock, pvio) so drift in the emulator cancels out.
# Prints "# bench: DRIVER QD IOPS" lines and a TAP point per run.
#
#   PVG_RUNTIME=SEC   seconds per fio run (default 8)

# shellcheck source=tap.sh
. /lib/pvio/tap.sh
# shellcheck source=fio.sh
. /lib/pvio/fio.sh
wait_dev()
{
	t=100
	while [ ! -b "$1" ] && [ "$t" -gt 0 ]; do
		sleep 0.1
		t=$((t - 1))
	done
	[ -b "$1" ]
}
ko() { echo "/lib/modules/$(uname -r)/extra/$1.ko"; }

load()
{
	case $1 in
	pvio) insmod "$(ko pvio_core)" && insmod "$(ko pvio_blk)" && wait_dev /dev/pvda ;;
	stock) modprobe virtio_pci && modprobe virtio_blk && wait_dev /dev/vda ;;
	esac
}

unload()
{
	case $1 in
	pvio) rmmod pvio_blk pvio_core ;;
	stock) rmmod virtio_blk virtio_pci ;;
	esac
}

run()
{
	drv=$1 qd=$2
	dev=/dev/pvda
	[ "$drv" = stock ] && dev=/dev/vda
	if iops=$(fio_randread "$dev" "$qd"); then
		echo "# bench: $drv qd$qd $iops"
		ok "fio 4k randread QD$qd with $drv: $iops IOPS"
	else
		echo "$iops"
		not_ok "fio 4k randread QD$qd with $drv"
	fi
}

echo "TAP version 13"
for drv in pvio stock stock pvio; do
	if load "$drv"; then
		run "$drv" 1
		run "$drv" 32
		unload "$drv" || not_ok "unload $drv"
	else
		not_ok "load $drv"
	fi
done
echo "# guest: $n points, $failed failed"
[ "$failed" = 0 ]
