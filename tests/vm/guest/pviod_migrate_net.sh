#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of tests/vm/pviod_migrate_net.sh (/test in the initramfs,
# busybox sh; its output is the TAP stream): stock virtio_net on pviod's net
# device.  Brings eth0 up as MIG_NET_IP/24, pings MIG_NET_PEER, then keeps
# pinging it in the background (every 0.2 s, unless MIG_NET_PING=0: the
# frames that teach the host's bridge where the guest is after each
# migration, see the test) and
# reads one TCP stream (HTTP/1.0, no length) from MIG_NET_PEER:5000 until the host closes it,
# printing its md5 as "# guest-rx-md5 MD5".

# shellcheck source=tap.sh
. /lib/pvio/tap.sh

i=0
while ! ip link show eth0 >/dev/null 2>&1 && [ "$i" -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
ip link show eth0 >/dev/null 2>&1
point $? "eth0 present"
ip addr add "$MIG_NET_IP/24" dev eth0 && ip link set eth0 up
point $? "eth0 up, $MIG_NET_IP/24"
i=0
until ping -c 1 -W 1 "$MIG_NET_PEER" >/dev/null 2>&1 || [ "$i" -ge 30 ]; do
	i=$((i + 1))
done
ping -c 1 -W 2 "$MIG_NET_PEER" >/dev/null 2>&1
point $? "ping $MIG_NET_PEER"

pinger=
if [ "${MIG_NET_PING:-1}" = 1 ]; then
	ping -q -i 0.2 "$MIG_NET_PEER" >/dev/null 2>&1 &
	pinger=$!
fi
# md5 as the bytes arrive (the stream is not kept).  wget, not nc: busybox
# nc does not leave when the host closes while its own input is open.
wget -q -O - "http://$MIG_NET_PEER:5000/stream" | md5sum >/tmp/rx.md5
point $? "the stream from $MIG_NET_PEER:5000 read to its end"
echo "# guest-rx-md5 $(cut -d' ' -f1 /tmp/rx.md5)"
[ -z "$pinger" ] || kill "$pinger"
grep eth0 /proc/net/dev | sed "s/^/# /"
exit 0
