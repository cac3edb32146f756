#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of tests/vm/pvio_net_*.sh: runs as /test (busybox sh), TAP
# on stdout.  The host is 10.98.0.1 (tests/vm/pvio_net_peer.py, an HTTP
# server on port 8000), the guest 10.98.0.2/24.  Environment (run.sh
# --append):
#
#   PVG_MODE=func|auto|bench|peer|link  functional test (QEMU tap), loading
#                       without parameters (pvio_net_auto.sh), throughput of
#                       pvio_net vs virtio_net, the functional subset
#                       against another back-end (pviod), or the link taken
#                       down and up by the host (pviod_net_link.sh)
#   PVG_SHA=HEX         sha256 of /blob (the host serves the same file)
#   PVG_QUEUES=N        queue pairs of the device (ethtool -l, -L)
#   PVG_PACKED=1        the device offers packed rings: pvio_core must have
#                       negotiated them (bit 34 of the pvio bus's features)
#   PVG_IN_ORDER=1      the device offers VIRTIO_F_IN_ORDER: pvio_net must
#                       have negotiated it (bit 35), in func, peer and auto
#   PVG_BENCH_MB=N      MiB per throughput run (bench mode, default 64)
#   PVG_DRIVER=stock    peer mode with the stock virtio_net instead
#   PVG_LINK_CYCLES=N   link mode: down/up cycles per driver (default 1)
#
# VLAN 5: the guest's eth0.5 is 10.98.5.2/24; the host's side, 10.98.5.1, is
# the peer's raw-socket responder on the TAP (the host kernel needs no 8021q).

# shellcheck source=tap.sh
. /lib/pvio/tap.sh

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
# tx_kicks: the kicks of every transmit queue of eth0.
tx_kicks()
{
	ethtool -S eth0 | awk '$1 ~ /^tx_queue_[0-9]+_kicks:$/ { s += $2 } END { print s + 0 }'
}

# feature_on BIT: every pvio device negotiated feature BIT.
feature_on()
{
	for f in /sys/bus/pvio/devices/*/features; do
		v=$(cat "$f")
		echo "# ${f%/features}: features $v"
		[ $(((v >> $1) & 1)) = 1 ] || return 1
	done
}
# VIRTIO_F_RING_PACKED (bit 34)
packed_on() { feature_on 34; }
# VIRTIO_F_IN_ORDER (bit 35)
in_order_on() { feature_on 35; }
# in_order_check: when the device offers IN_ORDER, pvio_net negotiated it.
in_order_check()
{
	[ "${PVG_IN_ORDER:-0}" = 1 ] || return 0
	check "pvio_net negotiated VIRTIO_F_IN_ORDER (bit 35)" in_order_on
}

# centiseconds of uptime
now_cs() { awk '{ printf "%d", $1 * 100 }' /proc/uptime; }

rx_packets() { cat /sys/class/net/eth0/statistics/rx_packets; }

# host_sends DST [LLADDR]: the host sends DST 50 UDP datagrams (through a neighbour
# entry DST -> LLADDR when given); prints the frames eth0 received meanwhile,
# the HTTP exchange included (a few).  50 or more: the device let them in.
host_sends()
{
	r0=$(rx_packets)
	wget -q -O /dev/null "$URL/send?dst=$1&n=50${2:+&lladdr=$2}" 2>/dev/null
	echo $(($(rx_packets) - r0))
}
let_in() { [ "$1" -ge 50 ]; }
kept_out() { [ "$1" -lt 25 ]; }

# host_sends_vlan VID: the host sends 50 UDP datagrams 10.98.VID.1 ->
# 10.98.VID.2 in frames to eth0's MAC tagged with VLAN VID (the peer's raw
# socket); prints the frames eth0 received meanwhile, as host_sends.
host_sends_vlan()
{
	r0=$(rx_packets)
	wget -q -O /dev/null "$URL/vlansend?vid=$1&n=50&mac=$(cat /sys/class/net/eth0/address)" \
		2>/dev/null
	echo $(($(rx_packets) - r0))
}
ping_vlan() { ping -c 1 -W 2 10.98.5.1 >/dev/null 2>&1; }

# relearn: the host learns eth0's MAC again (gratuitous ARP), then answers.
relearn()
{
	arping -U -c 1 -I eth0 10.98.0.2 >/dev/null 2>&1
	wait_for 10 ping_host
}

# set_mac MAC: eth0's address (CTRL_MAC_ADDR_SET), and the host learns it.
set_mac() { ip link set eth0 address "$1" && relearn; }

FOREIGN=52:54:00:de:ad:01
NEWMAC=52:54:00:aa:bb:cc
UCMAC=52:54:00:aa:bb:dd
# iproute2's ip (maddr, macvlan, allmulticast), when pvn_initrd packed it
IP2=/usr/local/bin/ip

# filters: receive mode, MAC filter tables, MAC address and VLANs, all over
# the control queue; QEMU's virtio-net enforces them (receive_filter()).
# Leaves VLAN 5 (eth0.5) in place for reinit.
filters()
{
	oldmac=$(cat /sys/class/net/eth0/address)

	d=$(host_sends 10.98.0.99 $FOREIGN)
	check "not promiscuous: the device keeps out frames to $FOREIGN ($d in)" kept_out "$d"
	check "promisc on" ip link set eth0 promisc on
	sleep 0.5
	d=$(host_sends 10.98.0.99 $FOREIGN)
	check "promiscuous: the device lets in frames to $FOREIGN ($d in)" let_in "$d"
	check "ping while promiscuous" ping -c 3 -W 5 "$HOST"
	check "promisc off" ip link set eth0 promisc off
	sleep 0.5
	d=$(host_sends 10.98.0.99 $FOREIGN)
	check "promisc off again: frames to $FOREIGN kept out ($d in)" kept_out "$d"
	check "TCP host -> guest after promisc off" blob_down

	# The host learns the new MAC from the gratuitous ARP (arp_notify).
	echo 1 >/proc/sys/net/ipv4/conf/eth0/arp_notify
	check "ip link set eth0 address $NEWMAC (was $oldmac)" ip link set eth0 address $NEWMAC
	check "eth0 has the new MAC" [ "$(cat /sys/class/net/eth0/address)" = $NEWMAC ]
	arping -U -c 1 -I eth0 10.98.0.2 >/dev/null 2>&1
	reply=$(wget -q -O - "$URL/neigh?ip=10.98.0.2" 2>/dev/null)
	echo "$reply" | sed 's/^/# host: /'
	check "the host reaches the guest after the MAC change (UDP, port unreachable back)" \
		sh -c "echo '$reply' | grep -q '^reach ok'"
	check "the host's neighbour entry has the new MAC $NEWMAC" \
		sh -c "echo '$reply' | grep -qi 'lladdr $NEWMAC'"
	check "TCP host -> guest with the new MAC" blob_down
	d=$(host_sends 10.98.0.99 "$oldmac")
	check "frames to the old MAC $oldmac are kept out now ($d in)" kept_out "$d"
	check "MAC back to $oldmac" ip link set eth0 address "$oldmac"
	arping -U -c 1 -I eth0 10.98.0.2 >/dev/null 2>&1
	check "ping with the old MAC again" wait_for 10 ping_host

	# 224.1.2.3 is 01:00:5e:01:02:03 on the wire.
	if [ -x /usr/local/bin/ip ]; then
		d=$(host_sends 224.1.2.3)
		check "multicast to 224.1.2.3 kept out before ip maddr add ($d in)" kept_out "$d"
		check "ip maddr add 01:00:5e:01:02:03" \
			/usr/local/bin/ip maddr add 01:00:5e:01:02:03 dev eth0
		sleep 0.5
		d=$(host_sends 224.1.2.3)
		check "multicast to 224.1.2.3 let in after ip maddr add ($d in)" let_in "$d"
		check "ip maddr del 01:00:5e:01:02:03" \
			/usr/local/bin/ip maddr del 01:00:5e:01:02:03 dev eth0
		sleep 0.5
		d=$(host_sends 224.1.2.3)
		check "multicast to 224.1.2.3 kept out after ip maddr del ($d in)" kept_out "$d"
	else
		ok "# SKIP ip maddr: no iproute2 ip in the initramfs (busybox ip has no maddr)"
	fi

	if ! modprobe 8021q; then
		not_ok "modprobe 8021q (pvn_initrd packs it: mkinitramfs.sh -M 8021q)"
		return
	fi
	check "the device filters VLANs (CTRL_VLAN negotiated: rx-vlan-filter on)" \
		sh -c 'ethtool -k eth0 | grep -q "^rx-vlan-filter: on"'
	check "ip link add eth0.5 (VLAN 5)" sh -c \
		'ip link add link eth0 name eth0.5 type vlan id 5 2>/dev/null || vconfig add eth0 5'
	check "eth0.5 up, 10.98.5.2/24" sh -c \
		'ip addr add 10.98.5.2/24 dev eth0.5 && ip link set eth0.5 up'
	check "ping over VLAN 5 (ARP and ICMP tagged both ways)" wait_for 20 ping_vlan
	check "ping -c 3 over VLAN 5" ping -c 3 -W 5 10.98.5.1
	d=$(host_sends_vlan 5)
	check "frames tagged with VLAN 5 (CTRL_VLAN_ADD) let in ($d in)" let_in "$d"
	d=$(host_sends_vlan 6)
	check "frames tagged with VLAN 6 (never added) kept out by the device ($d in)" \
		kept_out "$d"
	check "promisc on" ip link set eth0 promisc on
	sleep 0.5
	d=$(host_sends_vlan 6)
	check "promiscuous: VLAN 6 frames let in (they do reach the device) ($d in)" let_in "$d"
	check "promisc off" ip link set eth0 promisc off
	sleep 0.5
	d=$(host_sends_vlan 6)
	check "promisc off again: VLAN 6 frames kept out ($d in)" kept_out "$d"
}

# filters_hold WHEN: everything reinit programmed is in effect.  A device
# reset would undo it all: QEMU's turns promiscuous mode on, empties the
# MAC tables and the VLAN table, and restores the config MAC.
filters_hold()
{
	d=$(host_sends 10.98.0.99 $FOREIGN)
	check "$1: not promiscuous, frames to $FOREIGN kept out ($d in)" kept_out "$d"
	d=$(host_sends 10.98.0.98 $NEWMAC)
	check "$1: frames to $NEWMAC (CTRL_MAC_ADDR_SET) let in ($d in)" let_in "$d"
	d=$(host_sends 10.98.0.97 $UCMAC)
	check "$1: frames to $UCMAC (unicast table) let in ($d in)" let_in "$d"
	d=$(host_sends 224.1.2.3)
	check "$1: multicast to 224.1.2.3 (multicast table) let in ($d in)" let_in "$d"
	d=$(host_sends 224.1.2.4)
	check "$1: not all-multicast, 224.1.2.4 kept out ($d in)" kept_out "$d"
	d=$(host_sends_vlan 5)
	check "$1: VLAN 5 let in ($d in)" let_in "$d"
	d=$(host_sends_vlan 6)
	check "$1: VLAN 6 kept out ($d in)" kept_out "$d"
	check "$1: ping over VLAN 5" wait_for 10 ping_vlan
}

# pairs_hold WHEN: 8 flows at once complete, on more than one transmit queue.
pairs_hold()
{
	q=0
	while [ $q -lt "$QUEUES" ]; do
		eval "tx0_$q=$(stat_of tx_queue_${q}_packets)"
		q=$((q + 1))
	done
	i=0
	while [ $i -lt 4 ]; do
		wget -q -O /dev/null "$URL/stream?n=4000000" &
		blob_up &
		i=$((i + 1))
	done
	wait
	check "$1: TCP host -> guest" blob_down
	used=0
	q=0
	while [ $q -lt "$QUEUES" ]; do
		eval "t0=\$tx0_$q"
		[ "$(stat_of tx_queue_${q}_packets)" -gt "$t0" ] && used=$((used + 1))
		q=$((q + 1))
	done
	check "$1: 8 flows used $used of $QUEUES transmit queues" [ "$used" -gt 1 ]
}

# add_macvlan: mv0 on eth0 with $UCMAC, up: the address goes on eth0's
# unicast list (the device's unicast MAC table, IFF_UNICAST_FLT).
add_macvlan()
{
	modprobe macvlan && $IP2 link add link eth0 name mv0 address $UCMAC type macvlan &&
		$IP2 link set mv0 up
}

# down_up: ip link set eth0 down, then up; the host learns the MAC again.
down_up()
{
	ip link set eth0 down && ip link set eth0 up && wait_for 10 carrier_up && relearn
}

# reinit: pvio_net resets the device only when it is broken, and then
# keeps it so until the module is reloaded (a new netdev, programmed
# afresh).  The paths that re-initialise a live eth0 are down/up and
# ethtool -L: after each, what the control queue programmed (RX mode, MAC
# tables, MAC address, VLANs, queue pairs) must still be in effect.
reinit()
{
	if [ ! -x $IP2 ] || [ ! -e /sys/class/net/eth0.5 ]; then
		ok "# SKIP filters across down/up and ethtool -L: no iproute2 ip or no VLAN 5"
		return
	fi
	oldmac=$(cat /sys/class/net/eth0/address)
	echo 1 >/proc/sys/net/ipv4/conf/eth0/arp_notify
	check "reinit: MAC $NEWMAC" set_mac $NEWMAC
	check "reinit: ip maddr add 01:00:5e:01:02:03" $IP2 maddr add 01:00:5e:01:02:03 dev eth0
	check "reinit: macvlan mv0 with $UCMAC (eth0's unicast list)" add_macvlan
	sleep 0.5
	filters_hold "before"

	check "ip link set eth0 down; up" down_up
	filters_hold "after down/up"
	if [ "$QUEUES" -gt 1 ]; then
		pairs_hold "after down/up"
		check "ethtool -L combined 1" ethtool -L eth0 combined 1
		filters_hold "after ethtool -L combined 1"
		check "ethtool -L combined $QUEUES" ethtool -L eth0 combined "$QUEUES"
		filters_hold "after ethtool -L combined $QUEUES"
		pairs_hold "after ethtool -L combined $QUEUES"
	fi

	check "promisc on" ip link set eth0 promisc on
	check "ip link set eth0 down; up (promiscuous)" down_up
	d=$(host_sends 10.98.0.99 $FOREIGN)
	check "after down/up: still promiscuous, frames to $FOREIGN let in ($d in)" let_in "$d"
	d=$(host_sends_vlan 6)
	check "after down/up: still promiscuous, VLAN 6 let in ($d in)" let_in "$d"
	check "promisc off" ip link set eth0 promisc off
	check "allmulticast on" $IP2 link set eth0 allmulticast on
	check "ip link set eth0 down; up (all-multicast)" down_up
	d=$(host_sends 224.1.2.4)
	check "after down/up: still all-multicast, 224.1.2.4 let in ($d in)" let_in "$d"
	d=$(host_sends 10.98.0.99 $FOREIGN)
	check "after down/up: frames to $FOREIGN kept out ($d in)" kept_out "$d"
	check "allmulticast off" $IP2 link set eth0 allmulticast off
	sleep 0.5
	d=$(host_sends 224.1.2.4)
	check "all-multicast off: 224.1.2.4 kept out ($d in)" kept_out "$d"

	check "ip link del mv0" $IP2 link del mv0
	check "ip maddr del 01:00:5e:01:02:03" $IP2 maddr del 01:00:5e:01:02:03 dev eth0
	check "MAC back to $oldmac" set_mac "$oldmac"
	check "ip link del eth0.5" ip link del eth0.5
	d=$(host_sends_vlan 5)
	check "VLAN 5 frames kept out after ip link del eth0.5 (CTRL_VLAN_DEL) ($d in)" \
		kept_out "$d"
	check "ping on eth0 after the VLAN is gone" ping -c 2 -W 5 "$HOST"
}

functional()
{
	check "insmod pvio_core types=2 (net)" insmod "$(ko pvio_core)" types=2
	check "insmod pvio_net" insmod "$(ko pvio_net)"
	if ! wait_for 10 have_eth0; then
		echo "Bail out! eth0 did not appear: $(dmesg | tail -n 5)"
		exit 1
	fi
	check "eth0 is driven by pvio_net" driver_is pvio_net
	[ "${PVG_PACKED:-0}" = 1 ] && check "pvio_core negotiated packed rings (bit 34)" packed_on
	in_order_check
	dmesg | grep "queue pairs" | sed "s/^/# /"
	ethtool -i eth0 | sed 's/^/# /'
	check "ethtool -i names pvio_net" sh -c 'ethtool -i eth0 | grep -q "^driver: pvio_net"'
	check "link up, host answers ping" up_eth0
	check "ping -c 5" ping -c 5 -W 5 "$HOST"
	check "TCP host -> guest, sha256 verified in the guest" blob_down
	check "TCP guest -> host, sha256 verified by the host" blob_up
	check "ethtool -S rx_queue_0_packets > 0" [ "$(stat_of rx_queue_0_packets)" -gt 0 ]
	# Which transmit queue a flow takes depends on the CPU it ran on (XPS).
	check "ethtool -S tx_queue_N_kicks > 0" [ "$(tx_kicks)" -gt 0 ]
	check "/proc/net/dev has eth0" grep -q "eth0:" /proc/net/dev
	grep "eth0:" /proc/net/dev | sed 's/^ */# /'
	filters
	reinit

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

# bench_driver pvio|stock ROUND [warmup]: load the driver, measure (or with
# "warmup" only move the data, untimed), unload.
bench_driver()
{
	if [ "$1" = pvio ]; then
		name=pvio_net load="insmod $(ko pvio_core) types=2 && insmod $(ko pvio_net)"
		unload="rmmod pvio_net pvio_core"
	else
		name=virtio_net load="modprobe virtio_pci && modprobe virtio_net"
		unload="rmmod virtio_net virtio_pci"
	fi
	check "$name loads" sh -c "$load"
	if ! wait_for 10 have_eth0 || ! up_eth0; then
		not_ok "$name round $2: no link"
	elif [ "${3:-}" = warmup ]; then
		check "$name warm-up transfers" sh -c \
			"wget -q -O /dev/null '$URL/stream?n=$bytes' && wget -q -O /dev/null --post-file=/tmp/big '$URL/upload'"
	else
		bench_run "$1"
		ok "$name round $2 measured"
	fi
	check "$name unloads" sh -c "$unload"
}

# Under TCG the first transfer of a boot also pays for translating the
# network stack's code: a warm-up with each driver first, then rounds that
# alternate which driver goes first (pvio, stock, stock, pvio, ...), so
# neither driver is favoured by the order.
bench()
{
	# Text: busybox wget --post-file stops at the first NUL.
	yes 0123456789abcdef | head -c $((${PVG_BENCH_MB:-64} * 1048576)) >/tmp/big
	bytes=$((${PVG_BENCH_MB:-64} * 1048576))
	rounds=${PVG_ROUNDS:-2}
	bench_driver stock warmup warmup
	bench_driver pvio warmup warmup
	r=0
	while [ $r -lt "$rounds" ]; do
		if [ $((r % 2)) = 0 ]; then
			bench_driver pvio $r
			bench_driver stock $r
		else
			bench_driver stock $r
			bench_driver pvio $r
		fi
		r=$((r + 1))
	done
}

# pci_driver_of VENDOR:DEVICE...: the driver bound to the first PCI function
# with one of these ids ("none" when unbound).
pci_driver_of()
{
	for d in /sys/bus/pci/devices/*; do
		id=$(sed 's/^0x//' "$d/vendor"):$(sed 's/^0x//' "$d/device")
		for want in "$@"; do
			[ "$id" = "$want" ] || continue
			if [ -e "$d/driver" ]; then
				basename "$(readlink "$d/driver")"
			else
				echo none
			fi
			return 0
		done
	done
	echo missing
}
# pci_bdf_of VENDOR:DEVICE...: the address of the first function with one of these ids.
pci_bdf_of()
{
	for d in /sys/bus/pci/devices/*; do
		id=$(sed 's/^0x//' "$d/vendor"):$(sed 's/^0x//' "$d/device")
		for want in "$@"; do
			[ "$id" = "$want" ] && basename "$d" && return 0
		done
	done
	return 1
}
NET_IDS="1af4:1000 1af4:1041"
RNG_IDS="1af4:1005 1af4:1044"
# shellcheck disable=SC2086 # the id lists are split on purpose
net_pci_is() { [ "$(pci_driver_of $NET_IDS)" = "$1" ]; }
# shellcheck disable=SC2086
rng_pci_is() { [ "$(pci_driver_of $RNG_IDS)" = "$1" ]; }
TYPES=/sys/module/pvio_core/parameters/types

RNG_LEFT="virtio other device (type 4): no pvio frontend loaded for it; left to another driver"

# virtio_pci_builtin: the stock virtio_pci is built into this kernel
# (Debian's 6.12): its driver is there while no module of that name is.
# Asked before the test loads anything.
virtio_pci_builtin()
{
	[ -d /sys/bus/pci/drivers/virtio-pci ] && ! grep -q '^virtio_pci ' /proc/modules
}

# rng_refused_by_pvio BDF: the rng device, taken from the built-in
# virtio-pci, is refused by pvio_pci (bind fails, the dmesg line says why)
# and taken back by virtio-pci on a re-probe.
rng_refused_by_pvio()
{
	echo "$1" >/sys/bus/pci/drivers/virtio-pci/unbind || return 1
	if echo "$1" >/sys/bus/pci/drivers/pvio_pci/bind 2>/dev/null; then
		echo "# pvio_pci took the rng device $1"
		return 1
	fi
	dmesg | grep -q "$RNG_LEFT" || return 1
	echo "$1" >/sys/bus/pci/drivers_probe && wait_for 5 rng_pci_is virtio-pci
}

# auto: no module parameter anywhere; a virtio-rng device beside the
# virtio-net one is left to the stock virtio_pci (loaded afterwards, or
# built in: then the rng device is handed to pvio_pci and refused); the
# types parameter rebinds at run time; a net device virtio_pci owns is left
# to it, then moved with driver_override.
auto()
{
	vpci=module
	virtio_pci_builtin && vpci=builtin
	echo "# the stock virtio_pci: $vpci"
	check "insmod pvio_core (no parameter)" insmod "$(ko pvio_core)"
	check "types reads 0 (auto)" [ "$(cat $TYPES)" = 0 ]
	check "pvio_core alone binds nothing" net_pci_is none
	check "dmesg: the net device is left to another driver until pvio_net loads" \
		sh -c 'dmesg | grep -q "virtio net device (type 1): no pvio frontend loaded for it; left to another driver"'
	if [ "$vpci" = module ]; then
		check "dmesg: the rng device is left to another driver" \
			sh -c "dmesg | grep -q '$RNG_LEFT'"
	else
		check "the built-in virtio_pci kept the rng device" rng_pci_is virtio-pci
	fi
	check "insmod pvio_net (no parameter)" insmod "$(ko pvio_net)"
	if ! wait_for 10 have_eth0; then
		echo "Bail out! eth0 did not appear: $(dmesg | tail -n 5)"
		exit 1
	fi
	check "eth0 is driven by pvio_net" driver_is pvio_net
	check "the net PCI function is bound to pvio_pci" net_pci_is pvio_pci
	in_order_check
	check "link up, host answers ping" up_eth0
	check "TCP host -> guest, sha256 verified in the guest" blob_down
	check "TCP guest -> host, sha256 verified by the host" blob_up
	if [ "$vpci" = module ]; then
		check "modprobe virtio_pci (stock) beside pvio" modprobe virtio_pci
		check "the stock virtio_pci took the rng device" wait_for 5 rng_pci_is virtio-pci
	else
		# shellcheck disable=SC2086 # the id list is split on purpose
		rbdf=$(pci_bdf_of $RNG_IDS)
		check "the rng device ($rbdf) is refused by pvio_pci, taken back by virtio-pci" \
			rng_refused_by_pvio "$rbdf"
	fi
	check "the net device stayed with pvio_pci" net_pci_is pvio_pci
	check "TCP host -> guest with both transports loaded" blob_down
	check "types is writable: echo 1 (no net)" sh -c "echo 1 > $TYPES"
	check "eth0 is gone" wait_for 5 no_eth0
	check "the net PCI function is unbound" net_pci_is none
	check "dmesg: no longer wanted" sh -c 'dmesg | grep -q "virtio net device (type 1) no longer wanted; unbinding"'
	check "echo 0 > types (auto): pvio_net takes it again" sh -c "echo 0 > $TYPES"
	check "eth0 is back" wait_for 10 have_eth0
	check "link up after the rebind" up_eth0
	check "TCP guest -> host after the rebind, sha256 verified by the host" blob_up
	check "rmmod pvio_net pvio_core" rmmod pvio_net pvio_core
	# The stock transport first: pvio leaves it the device, then the
	# driver_override recipe of Documentation/frontend.rst moves it.
	# shellcheck disable=SC2086 # the id list is split on purpose
	bdf=$(pci_bdf_of $NET_IDS)
	check "drivers_probe: virtio_pci takes the net device ($bdf)" \
		sh -c "echo $bdf > /sys/bus/pci/drivers_probe; [ -e /sys/bus/pci/drivers/virtio-pci/$bdf ]"
	check "insmod pvio_core, pvio_net beside it" sh -c "insmod $(ko pvio_core) && insmod $(ko pvio_net)"
	check "dmesg: the net device is left to virtio-pci" \
		sh -c 'dmesg | grep -q "virtio net device (type 1) is driven by virtio-pci; left to it"'
	check "no eth0 (virtio_net is not loaded)" no_eth0
	check "driver_override recipe moves it to pvio_pci" sh -c \
		"echo $bdf > /sys/bus/pci/drivers/virtio-pci/unbind &&
		 echo pvio_pci > /sys/bus/pci/devices/$bdf/driver_override &&
		 echo $bdf > /sys/bus/pci/drivers_probe"
	check "eth0 through pvio_net after the move" wait_for 10 have_eth0
	check "link up after the move" up_eth0
	check "TCP host -> guest after the move, sha256 verified" blob_down
	if [ "$vpci" = module ]; then
		check "rmmod pvio_net pvio_core virtio_pci" rmmod pvio_net pvio_core virtio_pci
	else
		check "rmmod pvio_net pvio_core" rmmod pvio_net pvio_core
	fi
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
	[ "${PVG_PACKED:-0}" = 1 ] && check "packed rings negotiated (bit 34)" packed_on
	[ "${PVG_DRIVER:-pvio}" = stock ] || in_order_check
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

carrier_is() { [ "$(cat /sys/class/net/eth0/carrier 2>/dev/null)" = "$1" ]; }
operstate_is() { [ "$(cat /sys/class/net/eth0/operstate)" = "$1" ]; }
no_answer() { ! ping -c 2 -W 1 "$HOST" >/dev/null 2>&1; }
# ping_all N: N pings 0.1 s apart, every one answered.
ping_all()
{
	ping -c "$1" -i 0.1 -W 3 "$HOST" >/tmp/ping.out 2>&1
	grep -q " $1 packets received" /tmp/ping.out || { sed 's/^/# /' /tmp/ping.out; return 1; }
}

# link_cycle DRIVER N: the host takes the link down (QMP set_link on the
# vhost-user netdev; QEMU stops the back-end's rings) when the kernel log
# asks for it, then up (the rings restart where they stopped); eth0's
# carrier and operstate follow.  Once the host answers again, no packet is
# lost and TCP carries data, verified (both ways on the last cycle).
link_cycle()
{
	tag="$1 cycle $2"
	echo "pvio-test: link down $1 $2" >/dev/kmsg
	check "$tag: carrier 0 after set_link up=false" wait_for 30 carrier_is 0
	check "$tag: operstate down (linkwatch, within 5 s)" wait_for 5 operstate_is down
	check "$tag: no answer from the host while down" no_answer
	echo "pvio-test: link up $1 $2" >/dev/kmsg
	check "$tag: carrier 1 after set_link up=true" wait_for 30 carrier_is 1
	check "$tag: operstate up" wait_for 5 operstate_is up
	check "$tag: the host answers again" wait_for 10 ping_host
	check "$tag: then 15 pings, none lost" ping_all 15
	check "$tag: TCP host -> guest, sha256 verified" blob_down
	if [ "$2" = "${PVG_LINK_CYCLES:-1}" ]; then
		check "$tag: TCP guest -> host, sha256 verified by the host" blob_up
	fi
}

# link: the stock virtio_net, then pvio_net (no parameter), on one device.
# A built-in virtio_pci (6.12) has no module to load: /init freed the net
# device for pvio_core, virtio-pci takes it back for the stock phase.
link()
{
	vpci=module
	virtio_pci_builtin && vpci=builtin
	# shellcheck disable=SC2086 # the id list is split on purpose
	bdf=$(pci_bdf_of $NET_IDS)
	for drv in stock pvio; do
		if [ $drv = stock ] && [ "$vpci" = builtin ]; then
			check "drivers_probe: the built-in virtio_pci takes the net device, modprobe virtio_net" \
				sh -c "echo $bdf > /sys/bus/pci/drivers_probe && modprobe virtio_net"
		elif [ $drv = stock ]; then
			check "modprobe virtio_pci virtio_net" \
				sh -c "modprobe virtio_pci && modprobe virtio_net"
		else
			check "insmod pvio_core pvio_net" \
				sh -c "insmod $(ko pvio_core) && insmod $(ko pvio_net)"
		fi
		wait_for 10 have_eth0 || { echo "Bail out! no eth0 with $drv"; exit 1; }
		check "$drv: eth0's driver" driver_is "$([ $drv = stock ] && echo virtio_net ||
			echo pvio_net)"
		check "$drv: link up, host answers ping" up_eth0
		for c in $(seq 1 "${PVG_LINK_CYCLES:-1}"); do
			link_cycle $drv "$c"
		done
		if [ $drv = stock ] && [ "$vpci" = builtin ]; then
			check "rmmod virtio_net, unbind the net device from virtio-pci" \
				sh -c "rmmod virtio_net && echo $bdf > /sys/bus/pci/drivers/virtio-pci/unbind"
		elif [ $drv = stock ]; then
			check "rmmod virtio_net virtio_pci" rmmod virtio_net virtio_pci
		else
			check "rmmod pvio_net pvio_core" rmmod pvio_net pvio_core
		fi
	done
}

echo "TAP version 13"
case $MODE in
func) functional ;;
auto) auto ;;
bench) bench ;;
peer) peer ;;
link) link ;;
*) echo "Bail out! unknown PVG_MODE=$MODE"; exit 1 ;;
esac
echo "1..$n"
[ "$failed" = 0 ]
