#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of tests/vm/pvio_con_bench.sh (busybox sh).  Env: PVC_BYTES,
# PVC_ROUNDS.  Each round: pvio_con, then the stock virtio_console, on the
# same virtserialport (org.pvio.bench); for each, PVC_BYTES guest -> host
# (dd to the port; the host times its reads) and PVC_BYTES host -> guest
# (head -c from the port, then one byte back; the host times send to ack).
# shellcheck source=tap.sh
. /lib/pvio/tap.sh
say() { echo "pvio-bench: $*" > /dev/kmsg; }
ko() { find /lib/modules -name "$1.ko" | head -1; }
name=org.pvio.bench

find_port()
{
	for _ in $(seq 100); do
		for d in /sys/class/"$1"/vport*; do
			[ "$(cat "$d/name" 2>/dev/null)" = "$name" ] && [ -c "/dev/${d##*/}" ] &&
				echo "/dev/${d##*/}" && return 0
		done
		sleep 0.1
	done
	return 1
}

# bench ROUND DRIVER CLASS
bench()
{
	dev=$(find_port "$3")
	check "round $1 $2: port $name is ${dev:-missing}" [ -n "$dev" ]
	[ -n "$dev" ] || return
	exec 3<>"$dev"
	say "g2h $1 $2 $PVC_BYTES"
	dd if=/dev/zero bs=65536 count=$((PVC_BYTES / 65536)) >&3 2>/dev/null
	check "round $1 $2: wrote $PVC_BYTES bytes" [ $? = 0 ]
	say "h2g $1 $2 $PVC_BYTES"
	got=$(head -c "$PVC_BYTES" <&3 | wc -c)
	printf A >&3
	check "round $1 $2: read $got of $PVC_BYTES bytes" [ "$got" = "$PVC_BYTES" ]
	exec 3>&-
}

echo "TAP version 13"
r=1
while [ "$r" -le "$PVC_ROUNDS" ]; do
	check "round $r: insmod pvio_core types=8" insmod "$(ko pvio_core)" types=8
	check "round $r: insmod pvio_con" insmod "$(ko pvio_con)"
	bench "$r" pvio_con pvio-ports
	check "round $r: rmmod pvio_con pvio_core" rmmod pvio_con pvio_core
	check "round $r: modprobe virtio_pci virtio_console" modprobe -a virtio_pci virtio_console
	bench "$r" virtio_console virtio-ports
	check "round $r: rmmod virtio_console virtio_pci" rmmod virtio_console virtio_pci
	r=$((r + 1))
done
say "done"
echo "1..$n"
