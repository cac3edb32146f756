#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of tests/vm/pvio_blk_lifecycle.sh: runs as /test (busybox sh),
# TAP on stdout.  The pvio modules are in /lib/modules/*/extra, loaded at
# boot.  Environment (run.sh --append):
#
#   PVG_SERIAL=S        serial of the first disk (GET_ID)
#   PVG_QUEUES=N        its hardware queues
#   PVG_RESIZE=BYTES    the host resizes the first disk to this when asked
#   PVG_HOTPLUG=1       the host unplugs the second disk when asked
#
# The guest asks the host for an action by logging "pvio-test: WHAT" to
# /dev/kmsg; the host watches the kernel log on the console.

# shellcheck source=tap.sh
. /lib/pvio/tap.sh

present() { [ -b "/dev/$1" ] && [ -e "/sys/block/$1" ]; }
absent() { [ ! -e "/sys/block/$1" ]; }
size_is() { [ "$(cat "/sys/block/$1/size" 2>/dev/null)" = "$2" ]; }
ko() { echo "/lib/modules/$(uname -r)/extra/$1.ko"; }
pattern_ok() { dd if=/dev/pvda of=/tmp/back bs=64k count=64 iflag=direct 2>/dev/null && cmp -s /tmp/pat /tmp/back; }

echo "TAP version 13"
if ! wait_for 5 present pvda; then
	echo "Bail out! /dev/pvda did not appear; block devices: $(cd /sys/class/block && echo *)"
	exit 1
fi
pvio=$(basename "$(readlink /sys/block/pvda/device)")
echo "# pvda is $pvio, features $(cat "/sys/bus/pvio/devices/$pvio/features")"

# -- identity and queues
serial=$(cat /sys/block/pvda/serial 2>/dev/null)
check "serial from GET_ID is '${PVG_SERIAL:-}' (got '$serial')" [ "$serial" = "${PVG_SERIAL:-}" ]
nq=0
for q in /sys/block/pvda/mq/*; do [ -e "$q" ] && nq=$((nq + 1)); done
check "pvda has ${PVG_QUEUES:-1} hardware queues (has $nq)" [ "$nq" = "${PVG_QUEUES:-1}" ]
check "one MSI-X vector per queue plus config" \
	[ "$(grep -c "$pvio" /proc/interrupts)" = $((${PVG_QUEUES:-1} + 1)) ]

dd if=/dev/urandom of=/tmp/pat bs=64k count=64 2>/dev/null
check "pattern written through pvda" dd if=/tmp/pat of=/dev/pvda bs=64k oflag=direct 2>/dev/null
check "pattern reads back" pattern_ok

# -- resize: QMP block_resize -> config interrupt -> set_capacity_and_notify
if [ -n "${PVG_RESIZE:-}" ]; then
	want=$((PVG_RESIZE / 512))
	echo "pvio-test: resize" >/dev/kmsg
	check "capacity follows block_resize to $want sectors" wait_for 60 size_is pvda "$want"
	check "the new last sector is readable" \
		dd if=/dev/pvda of=/dev/null bs=512 skip=$((want - 1)) count=1 iflag=direct 2>/dev/null
fi

# -- unload and reload, idle
check "rmmod pvio_blk" rmmod pvio_blk
check "pvda is gone" absent pvda
check "insmod pvio_blk" insmod "$(ko pvio_blk)"
check "pvda is back" wait_for 10 present pvda
check "pattern survives reload" pattern_ok
check "rmmod pvio_blk pvio_core" rmmod pvio_blk pvio_core
check "no pvio device left" [ ! -e /sys/bus/pvio ]
check "insmod pvio_core pvio_blk" sh -c "insmod $(ko pvio_core) && insmod $(ko pvio_blk)"
check "pvda is back again" wait_for 10 present pvda
check "pattern survives core reload" pattern_ok

# -- unbind the frontend while I/O is in flight, then bind again
pvio=$(basename "$(readlink /sys/block/pvda/device)")
fio --name=unbind --filename=/dev/pvda --direct=1 --ioengine=libaio --rw=randrw --bs=4k \
	--iodepth=32 --size=8M --offset=8M --time_based --runtime=60 >/tmp/fio-unbind.out 2>&1 &
fio_pid=$!
sleep 3
check "unbind $pvio from pvio_blk under I/O" sh -c "echo $pvio >/sys/bus/pvio/drivers/pvio_blk/unbind"
check "pvda is gone after unbind" absent pvda
t=0
while kill -0 "$fio_pid" 2>/dev/null && [ "$t" -lt 300 ]; do
	sleep 0.1
	t=$((t + 1))
done
if kill -0 "$fio_pid" 2>/dev/null; then
	not_ok "fio ends once its disk is gone"
	kill -9 "$fio_pid"
else
	ok "fio ends once its disk is gone"
fi
wait "$fio_pid" 2>/dev/null
grep -m 3 -i "error" /tmp/fio-unbind.out | sed 's/^/# fio: /'
check "bind $pvio again" sh -c "echo $pvio >/sys/bus/pvio/drivers/pvio_blk/bind"
check "pvda is back after bind" wait_for 10 present pvda
check "pattern survives unbind under I/O" pattern_ok

# -- hot-unplug (QMP device_del) of the second disk during I/O
if [ "${PVG_HOTPLUG:-0}" = 1 ]; then
	if wait_for 5 present pvdb; then
		fio --name=unplug --filename=/dev/pvdb --direct=1 --ioengine=libaio --rw=randrw \
			--bs=4k --iodepth=32 --size=16M --time_based --runtime=90 \
			>/tmp/fio-unplug.out 2>&1 &
		fio_pid=$!
		sleep 3
		echo "pvio-test: unplug" >/dev/kmsg
		check "pvdb disappears after device_del" wait_for 60 absent pvdb
		t=0
		while kill -0 "$fio_pid" 2>/dev/null && [ "$t" -lt 300 ]; do
			sleep 0.1
			t=$((t + 1))
		done
		if kill -0 "$fio_pid" 2>/dev/null; then
			not_ok "fio ends after the unplug"
			kill -9 "$fio_pid"
		else
			ok "fio ends after the unplug"
		fi
		wait "$fio_pid" 2>/dev/null
		check "pvda still works after the unplug of pvdb" pattern_ok
	else
		not_ok "second disk pvdb present"
	fi
fi

check "final rmmod pvio_blk pvio_core" rmmod pvio_blk pvio_core
dmesg | grep -E "pvio|pvd[a-z]" | tail -n 20 | sed 's/^/# dmesg: /'
echo "# guest: $n points, $failed failed"
[ "$failed" = 0 ]
