#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of tests/vm/pvio_suspend.sh: runs as /test (busybox sh), TAP on
# stdout.  pvio_core, pvio_blk, pvio_net and pvio_con are loaded at boot
# with no parameter.  While a write+verify loop runs on /dev/pvda and a ping
# loop on eth0, the guest suspends to RAM (S3) PVG_CYCLES times; the host
# wakes it over QMP (system_wakeup).  After each wake-up both loops must make
# progress again; at the end no block verify failed, a TCP download and
# upload check their sha256, and the console ports carried lines written
# before and after.  Environment (run.sh --append):
#
#   PVG_CYCLES=N        suspend/resume cycles (default 2)
#   PVG_SHA=HEX         sha256 of /blob (the host serves the same file)
#
# The guest asks the host to wake it by logging "pvio-test: suspend N" to
# /dev/kmsg just before it writes "mem" to /sys/power/state.

# shellcheck source=tap.sh
. /lib/pvio/tap.sh

HOST=10.98.0.1
URL=http://$HOST:8000
CYCLES=${PVG_CYCLES:-2}

ping_host() { ping -c 1 -W 2 "$HOST" >/dev/null 2>&1; }
carrier_up() { [ "$(cat /sys/class/net/eth0/carrier 2>/dev/null)" = 1 ]; }
count() { cat "$1" 2>/dev/null || echo 0; }
# more_than FILE N: the counter in FILE went past N.
more_than() { [ "$(count "$1")" -gt "$2" ]; }
# port_named NAME: the /dev/vportNpM whose sysfs name is NAME.
port_named()
{
	for p in /sys/class/pvio-ports/*; do
		[ "$(cat "$p/name" 2>/dev/null)" = "$1" ] && echo "/dev/${p##*/}" && return 0
	done
	return 1
}

# blk_loop: 64 KiB chunks of /tmp/pat written at rotating offsets of pvda
# with O_DIRECT, each read back and compared; failures go to /tmp/blk.err.
blk_loop()
{
	i=0
	while [ ! -e /tmp/stop ]; do
		src=$((i % 16))
		dst=$((i % 256))
		dd if=/tmp/pat of=/dev/pvda bs=64k skip=$src seek=$dst count=1 oflag=direct \
			2>/dev/null || echo "write $i" >>/tmp/blk.err
		dd if=/dev/pvda of=/tmp/back bs=64k skip=$dst count=1 iflag=direct 2>/dev/null
		dd if=/tmp/pat of=/tmp/want bs=64k skip=$src count=1 2>/dev/null
		cmp -s /tmp/want /tmp/back || echo "verify $i" >>/tmp/blk.err
		i=$((i + 1))
		echo "$i" >/tmp/blk.n
	done
}

ping_loop()
{
	i=0
	while [ ! -e /tmp/stop ]; do
		ping -c 1 -W 1 "$HOST" >/dev/null 2>&1 && i=$((i + 1)) && echo "$i" >/tmp/ping.n
		sleep 0.2
	done
}

echo "TAP version 13"
if ! wait_for 10 test -b /dev/pvda; then
	echo "Bail out! /dev/pvda did not appear"
	exit 1
fi
check "eth0 is driven by pvio_net" \
	[ "$(basename "$(readlink /sys/class/net/eth0/device/driver)")" = pvio_net ]
ip addr add 10.98.0.2/24 dev eth0 && ip link set eth0 up
check "eth0 up, the host answers ping" wait_for 20 ping_host
wait_for 10 port_named org.pvio.pm >/dev/null
port=$(port_named org.pvio.pm)
check "the named port org.pvio.pm exists ($port)" [ -c "$port" ]
check "/dev/hvc0 exists" [ -c /dev/hvc0 ]
echo "pm-port-before" >"$port"
echo "pm-hvc-before" >/dev/hvc0

dd if=/dev/urandom of=/tmp/pat bs=64k count=16 2>/dev/null
blk_loop &
blk_pid=$!
ping_loop &
ping_pid=$!
check "block loop runs" wait_for 30 more_than /tmp/blk.n 2
check "ping loop runs" wait_for 30 more_than /tmp/ping.n 2

c=1
while [ "$c" -le "$CYCLES" ]; do
	b=$(count /tmp/blk.n)
	p=$(count /tmp/ping.n)
	echo "pvio-test: suspend $c" >/dev/kmsg
	check "cycle $c: suspend to RAM and wake-up" sh -c 'echo mem >/sys/power/state'
	check "cycle $c: block I/O goes on after the wake-up" wait_for 60 more_than /tmp/blk.n $((b + 2))
	check "cycle $c: eth0 carries pings after the wake-up" wait_for 60 more_than /tmp/ping.n $((p + 2))
	c=$((c + 1))
done

touch /tmp/stop
wait "$blk_pid" "$ping_pid"
check "no block write or verify failed ($(count /tmp/blk.n) rounds)" [ ! -s /tmp/blk.err ]
[ -s /tmp/blk.err ] && sed 's/^/# /' /tmp/blk.err | head -5

rm -f /tmp/blob.rx
timeout 120 wget -q -O /tmp/blob.rx "$URL/blob" 2>/dev/null
check "TCP download after resume has the right sha256" \
	[ "$(sha256sum </tmp/blob.rx | cut -d' ' -f1)" = "$PVG_SHA" ]
timeout 120 wget -q -O /tmp/up.reply --post-file=/blob "$URL/upload" 2>/dev/null
check "TCP upload after resume: the host computed the right sha256" \
	[ "$(cut -d' ' -f1 /tmp/up.reply 2>/dev/null)" = "$PVG_SHA" ]
check "write to $port after resume" sh -c "echo pm-port-after >$port"
check "write to /dev/hvc0 after resume" sh -c "echo pm-hvc-after >/dev/hvc0"
for d in /sys/bus/pvio/devices/*; do
	check "${d##*/} (type $(cat "$d/type")) not broken" [ "$(cat "$d/broken")" = 0 ]
done
echo "1..$n"
[ "$failed" = 0 ]
