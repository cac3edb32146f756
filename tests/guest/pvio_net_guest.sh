#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of tests/guest/pvio_net_*.sh: runs as /test (busybox sh), TAP
# on stdout.  The host is 10.98.0.1 (tests/guest/pvio_net_peer.py, an HTTP
# server on port 8000), the guest 10.98.0.2/24.  Environment (run.sh
# --append):
#
#   PVG_MODE=func|bench|peer  functional test (QEMU tap), throughput of
#                       pvio_net vs virtio_net, or the functional subset
#                       against another back-end (pviod)
#   PVG_SHA=HEX         sha256 of /blob (the host serves the same file)
#   PVG_QUEUES=N        queue pairs of the device (ethtool -l, -L)
#   PVG_BENCH_MB=N      MiB per throughput run (bench mode, default 64)
#   PVG_DRIVER=stock    peer mode with the stock virtio_net instead

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n $*"; }
check()
{
	desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_for()
{
	t=$(($1 * 10))
	shift
	while ! "$@"; do
		t=$((t - 1))
		[ "$t" -gt 0 ] || return 1
		sleep 0.1
	done
}

ko() { echo "/lib/modules/$(uname -r)/extra/$1.ko"; }
HOST=10.98.0.1
URL=http://$HOST:8000
MODE=${PVG_MODE:-func}
QUEUES=${PVG_QUEUES:-1}

have_eth0() { [ -e /sys/class/net/eth0 ]; }
no_eth0() { [ ! -e /sys/class/net/eth0 ]; }
carrier_up() { [ "$(cat /sys/class/net/eth0/carrier 2>/dev/null)" = 1 ]; }
driver_is() { [ "$(basename "$(readlink /sys/class/net/eth0/device/driver)")" = "$1" ]; }
ping_host() { ping -c 1 -W 2 "$HOST" >/dev/null 2>&1; }

# up_eth0: address, link up, wait for carrier and the host's answer.
up_eth0()
{
	ip addr flush dev eth0 2>/dev/null
	ip addr add 10.98.0.2/24 dev eth0 && ip link set eth0 up &&
		wait_for 10 carrier_up && wait_for 20 ping_host
}

# blob_down: host -> guest transfer, checked against the expected sha256.
blob_down()
{
	rm -f /tmp/blob.rx
	timeout 120 wget -q -O /tmp/blob.rx "$URL/blob" 2>/dev/null || return 1
	[ "$(sha256sum </tmp/blob.rx | cut -d' ' -f1)" = "$PVG_SHA" ]
}

# blob_up: guest -> host transfer; the host answers the sha256 it computed.
blob_up()
{
	rm -f /tmp/up.reply
	timeout 120 wget -q -O /tmp/up.reply --post-file=/blob "$URL/upload" 2>/dev/null || return 1
	[ "$(cut -d' ' -f1 /tmp/up.reply)" = "$PVG_SHA" ]
}

# stat_of NAME: one ethtool -S counter of eth0.
stat_of() { ethtool -S eth0 | awk -v k="$1:" '$1 == k { print $2 }'; }

# centiseconds of uptime
now_cs() { awk '{ printf "%d", $1 * 100 }' /proc/uptime; }

functional()
{
	check "insmod pvio_core types=2 (net)" insmod "$(ko pvio_core)" types=2
	check "insmod pvio_net" insmod "$(ko pvio_net)"
	if ! wait_for 10 have_eth0; then
		echo "Bail out! eth0 did not appear: $(dmesg | tail -n 5)"
		exit 1
	fi
	check "eth0 is driven by pvio_net" driver_is pvio_net
	dmesg | grep "queue pairs" | sed "s/^/# /"
	ethtool -i eth0 | sed 's/^/# /'
	check "ethtool -i names pvio_net" sh -c 'ethtool -i eth0 | grep -q "^driver: pvio_net"'
	check "link up, host answers ping" up_eth0
	check "ping -c 5" ping -c 5 -W 5 "$HOST"
	check "TCP host -> guest, sha256 verified in the guest" blob_down
	check "TCP guest -> host, sha256 verified by the host" blob_up
	check "ethtool -S rx_queue_0_packets > 0" [ "$(stat_of rx_queue_0_packets)" -gt 0 ]
	check "ethtool -S tx_queue_0_kicks > 0" [ "$(stat_of tx_queue_0_kicks)" -gt 0 ]
	check "/proc/net/dev has eth0" grep -q "eth0:" /proc/net/dev
	grep "eth0:" /proc/net/dev | sed 's/^ */# /'

	if [ "$QUEUES" -gt 1 ]; then
		check "ethtool -l: $QUEUES combined max" \
			sh -c "ethtool -l eth0 | grep -m1 Combined | grep -q $QUEUES"
		check "ethtool -L combined 1" ethtool -L eth0 combined 1
		check "traffic on 1 queue pair" blob_down
		check "ethtool -L combined $QUEUES" ethtool -L eth0 combined "$QUEUES"
		check "real_num_tx_queues follows" [ "$(find /sys/class/net/eth0/queues -maxdepth 1 -name "tx-*" | wc -l)" = "$QUEUES" ]
		i=0
		while [ $i -lt 4 ]; do
			wget -q -O /dev/null "$URL/stream?n=4000000" &
			blob_up &
			i=$((i + 1))
		done
		wait
		check "traffic on $QUEUES queue pairs" blob_down
		used=0
		q=0
		while [ $q -lt "$QUEUES" ]; do
			[ "$(stat_of tx_queue_${q}_packets)" -gt 0 ] && used=$((used + 1))
			q=$((q + 1))
		done
		echo "# transmit queues used by 8 flows: $used of $QUEUES"
		check "more than one transmit queue carried frames" [ "$used" -gt 1 ]
		ethtool -S eth0 | sed 's/^ */# /'
	fi

	frag0=$(awk '/^Ip:/ { if (h) print $NF; h = 1 }' /proc/net/snmp)
	check "mtu 9000" ip link set eth0 mtu 9000
	check "ping -s 8000 at mtu 9000" ping -c 3 -W 5 -s 8000 "$HOST"
	frag1=$(awk '/^Ip:/ { if (h) print $NF; h = 1 }' /proc/net/snmp)
	check "the 8 KB pings were not fragmented (FragCreates $frag0 -> $frag1)" [ "$frag0" = "$frag1" ]
	check "TCP host -> guest at mtu 9000" blob_down
	check "TCP guest -> host at mtu 9000" blob_up
	check "mtu back to 1500" ip link set eth0 mtu 1500
	check "mtu above max_mtu is refused" sh -c '! ip link set eth0 mtu 70000 2>/dev/null'

	# Unload under traffic, in both directions.
	wget -q -O /dev/null "$URL/stream?n=2000000000" 2>/dev/null &
	wpid=$!
	ping -A -s 1000 -w 30 "$HOST" >/dev/null 2>&1 &
	ppid=$!
	sleep 2
	check "rmmod pvio_net under traffic" rmmod pvio_net
	check "eth0 is gone" wait_for 5 no_eth0
	kill "$wpid" "$ppid" 2>/dev/null
	wait
	check "insmod pvio_net again" insmod "$(ko pvio_net)"
	check "eth0 is back" wait_for 10 have_eth0
	check "link up after reload" up_eth0
	check "TCP host -> guest after reload" blob_down
	check "TCP guest -> host after reload" blob_up
	check "rmmod pvio_net pvio_core" rmmod pvio_net pvio_core
}

# bench_run NAME: one timed download and one timed upload; prints bench lines.
bench_run()
{
	mb=${PVG_BENCH_MB:-64}
	bytes=$((mb * 1048576))
	# Warm up (ARP, TCP window).
	wget -q -O /dev/null "$URL/stream?n=4000000"
	t0=$(now_cs)
	wget -q -O /dev/null "$URL/stream?n=$bytes"
	t1=$(now_cs)
	echo "# bench: $1 rx $(awk -v b="$bytes" -v t=$((t1 - t0)) 'BEGIN { printf "%.1f", b * 8 / (t / 100) / 1e6 }') Mbit/s"
	t0=$(now_cs)
	wget -q -O /dev/null --post-file=/tmp/big "$URL/upload"
	t1=$(now_cs)
	echo "# bench: $1 tx $(awk -v b="$bytes" -v t=$((t1 - t0)) 'BEGIN { printf "%.1f", b * 8 / (t / 100) / 1e6 }') Mbit/s"
}

bench()
{
	# Text: busybox wget --post-file stops at the first NUL.
	yes 0123456789abcdef | head -c $((${PVG_BENCH_MB:-64} * 1048576)) >/tmp/big
	rounds=${PVG_ROUNDS:-2}
	r=0
	while [ $r -lt "$rounds" ]; do
		check "pvio_net loads" sh -c "insmod $(ko pvio_core) types=2 && insmod $(ko pvio_net)"
		if wait_for 10 have_eth0 && up_eth0; then
			bench_run pvio
			ok "pvio_net round $r measured"
		else
			not_ok "pvio_net round $r: no link"
		fi
		check "pvio_net unloads" rmmod pvio_net pvio_core
		check "virtio_net loads" sh -c "modprobe virtio_pci && modprobe virtio_net"
		if wait_for 10 have_eth0 && up_eth0; then
			bench_run stock
			ok "virtio_net round $r measured"
		else
			not_ok "virtio_net round $r: no link"
		fi
		check "virtio_net unloads" rmmod virtio_net virtio_pci
		r=$((r + 1))
	done
}

# peer: the functional subset against another back-end (pviod).
peer()
{
	if [ "${PVG_DRIVER:-pvio}" = stock ]; then
		check "modprobe virtio_net" sh -c "modprobe virtio_pci && modprobe virtio_net"
	else
		check "insmod pvio_core types=2 (net)" insmod "$(ko pvio_core)" types=2
		check "insmod pvio_net" insmod "$(ko pvio_net)"
	fi
	wait_for 10 have_eth0 || { echo "Bail out! no eth0"; exit 1; }
	check "link up, host answers ping" up_eth0
	check "ping -c 5" ping -c 5 -W 5 "$HOST"
	check "TCP host -> guest, sha256 verified" blob_down
	check "TCP guest -> host, sha256 verified by the host" blob_up
	if [ "${PVG_DRIVER:-pvio}" = stock ]; then
		check "rmmod virtio_net virtio_pci" rmmod virtio_net virtio_pci
	else
		check "rmmod pvio_net pvio_core" rmmod pvio_net pvio_core
	fi
}

echo "TAP version 13"
case $MODE in
func) functional ;;
bench) bench ;;
peer) peer ;;
*) echo "Bail out! unknown PVG_MODE=$MODE"; exit 1 ;;
esac
echo "1..$n"
[ "$failed" = 0 ]
