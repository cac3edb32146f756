#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of tests/vm/pvio_con_port.sh (busybox sh): con_port_test on the
# port named org.pvio.echo, first with pvio_con, then (same boot, same
# device) with the stock virtio_pci + virtio_console.
# shellcheck source=tap.sh
. /lib/pvio/tap.sh
ko() { find /lib/modules -name "$1.ko" | head -1; }
name=org.pvio.echo

# find_port CLASS: the vportNpM under /sys/class/CLASS named $name.
find_port()
{
	for _ in $(seq 100); do
		for d in /sys/class/"$1"/vport*; do
			[ "$(cat "$d/name" 2>/dev/null)" = "$name" ] && [ -c "/dev/${d##*/}" ] &&
				echo "${d##*/}" && return 0
		done
		sleep 0.1
	done
	return 1
}

run_test()
{
	drv=$1 class=$2
	port=$(find_port "$class")
	check "$drv: port $name appears (${port:-none})" [ -n "$port" ]
	[ -n "$port" ] || return
	echo "# con_port_test on $drv, /dev/$port"
	/bin/con_port_test --dev "/dev/$port" --sysfs "/sys/class/$class/$port" --name "$name"
	check "$drv: con_port_test exit status 0" [ $? = 0 ]
}

echo "TAP version 13"
check "insmod pvio_core types=8 (console)" insmod "$(ko pvio_core)" types=8
check "insmod pvio_con" insmod "$(ko pvio_con)"
run_test pvio_con pvio-ports
check "rmmod pvio_con" rmmod pvio_con
check "rmmod pvio_core" rmmod pvio_core
check "modprobe virtio_pci virtio_console (stock)" modprobe -a virtio_pci virtio_console
run_test virtio_console virtio-ports
echo "1..$n"
