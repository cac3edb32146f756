#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of tests/vm/pviod_net_tap.sh and pviod_net_switch.sh (/test in
# the initramfs, busybox sh; its output is the TAP stream), stock virtio_net
# on pviod's net device.  Environment (run.sh --append):
#   PVIO_NET_IP     this guest's address (/24)
#   PVIO_NET_PEER   the address to ping (and the TCP peer with PVIO_NET_TCP=1)
#   PVIO_NET_MTU    MTU to set (default 1500); pings with jumbo size when > 1500
#   PVIO_NET_TCP=1  receive PVIO_NET_SIZE bytes from PEER:5001 over HTTP (md5 must
#                   be PVIO_NET_RX_MD5), then send as many random bytes to
#                   PEER:5000 and print their md5 as "# guest-tx-md5 SUM"
#   PVIO_NET_WAIT   seconds to keep answering pings after the checks
#                   (the switch test's other guest is still pinging us)
#   PVIO_NET_HOLD   seconds at most to wait, after the pings, for the host
#                   to serve PEER:5001/go (pviod_net_reconnect.sh kills and
#                   restarts pviod meanwhile, pinging this guest)
#   PVIO_NET_PACKED=1  the device must have negotiated packed rings (bit 34:
#                   the 35th character of the features string)

# shellcheck source=tap.sh
. /lib/pvio/tap.sh

mtu=${PVIO_NET_MTU:-1500}
i=0
while ! ip link show eth0 >/dev/null 2>&1 && [ "$i" -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
ip link show eth0 >/dev/null 2>&1
point $? "eth0 (virtio_net) present"
echo "# features $(cat /sys/class/net/eth0/device/features 2>/dev/null)"
if [ "${PVIO_NET_PACKED:-0}" = 1 ]; then
	[ "$(cut -c35 /sys/class/net/eth0/device/features 2>/dev/null)" = 1 ]
	point $? "eth0: VIRTIO_F_RING_PACKED negotiated (bit 34)"
fi
ip link set eth0 mtu "$mtu" && ip addr add "$PVIO_NET_IP/24" dev eth0 && ip link set eth0 up
point $? "eth0 up, $PVIO_NET_IP/24, mtu $mtu"

# The link (and the peer) may take a moment: up to 30 tries.
i=0
until ping -c 1 -W 1 "$PVIO_NET_PEER" >/dev/null 2>&1 || [ "$i" -ge 30 ]; do
	i=$((i + 1))
done
ping -c 3 -W 2 "$PVIO_NET_PEER" >/tmp/ping.out 2>&1
rc=$?
sed 's/^/# /' /tmp/ping.out
point $rc "ping $PVIO_NET_PEER"
if [ "$mtu" -gt 1500 ]; then
	ping -c 3 -W 2 -s $((mtu - 28)) "$PVIO_NET_PEER" >/tmp/ping.out 2>&1
	rc=$?
	sed 's/^/# /' /tmp/ping.out | tail -2
	point $rc "ping with $((mtu - 28))-byte payload (a $mtu-byte IP packet, MRG_RXBUF)"
fi

if [ -n "${PVIO_NET_HOLD:-}" ]; then
	end=$(($(date +%s) + PVIO_NET_HOLD))
	until wget -q -O /dev/null "http://$PVIO_NET_PEER:5001/go" 2>/dev/null ||
		[ "$(date +%s)" -ge "$end" ]; do
		sleep 1
	done
	wget -q -O /dev/null "http://$PVIO_NET_PEER:5001/go"
	point $? "the host said go (within ${PVIO_NET_HOLD} s)"
fi

if [ "${PVIO_NET_TCP:-0}" = 1 ]; then
	size=${PVIO_NET_SIZE:-4194304}
	wget -q -O /tmp/rx.bin "http://$PVIO_NET_PEER:5001/tx.bin"
	point $? "wget of $size bytes from the host (TCP host -> guest)"
	got=$(md5sum </tmp/rx.bin | cut -d' ' -f1)
	echo "# received $(wc -c </tmp/rx.bin) bytes, md5 $got"
	[ "$got" = "$PVIO_NET_RX_MD5" ]
	point $? "TCP host -> guest: md5 matches the host's"
	dd if=/dev/urandom of=/tmp/tx.bin bs=65536 count=$((size / 65536)) 2>/dev/null
	echo "# guest-tx-md5 $(md5sum </tmp/tx.bin | cut -d' ' -f1)"
	nc "$PVIO_NET_PEER" 5000 </tmp/tx.bin >/dev/null
	point $? "TCP guest -> host: $size bytes sent (the host checks the md5)"
fi
grep eth0 /proc/net/dev | sed "s/^/# /"
[ -z "${PVIO_NET_WAIT:-}" ] || sleep "$PVIO_NET_WAIT"
exit 0
