#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: live migration of a guest whose NIC pviod serves, with a TCP
# stream open across the migrations (Documentation/migration.rst).
#
# One pviod in a network namespace made for the test serves two net devices
# (backend=tap:pvmiga, tap:pvmigb), one socket each; both taps are ports of
# a bridge that has the host's address (10.98.3.1/24; the guest is
# 10.98.3.2), as two hosts on one LAN would be.  A guest with the stock
# virtio_net (virtio-net-pci on a vhost-user netdev, vectors=0: see
# pviod_net_tap.sh; DRIVER=pvio: pvio_net instead, which
# tests/vm/pvio_net_migrate.sh runs) connects to the host's peer
# (pviod_migrate_net_peer.py),
# which sends it random bytes at about 3 MB/s; the guest keeps their md5.
# The host live-migrates the guest between two QEMU processes on this
# machine (tests/vm/migrate_lib.sh), MIGRATIONS times (default 4) back and
# forth, and after each checks that the stream goes on (the peer's bytes
# sent, its send buffer kept small, move on by 1 MiB).  Then the peer
# closes; the guest's md5 of what it received must be the peer's of what
# it sent.  pviod writes every received frame into guest memory: the pages
# it dirtied reach the destination through the dirty log, or the md5 (or
# the guest) breaks.
#
# Announcing the guest: pviod offers VHOST_USER_PROTOCOL_F_RARP and not
# VIRTIO_NET_F_GUEST_ANNOUNCE, so after each migration the destination's
# QEMU sends SEND_RARP and pviod injects a RARP from the guest's MAC into
# the new tap: the bridge learns where the guest went with no frame of the
# guest's own.  The guest sends nothing but the stream's ACKs (a stalled
# stream leaves it nothing to answer); MIG_NET_PING=1 has it also ping the
# host every 0.2 s, as a guest with traffic of its own would.
#
# timeout=300
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
vmt_driver pviod_migrate_net.sh net
vmt_init "pviod_migrate_net_$VMT_DRIVER"
# shellcheck source-path=SCRIPTDIR source=migrate_lib.sh
. "$VMT_DIR/migrate_lib.sh"
# shellcheck source=../lib/netns.sh
. "$VM_TOP/tests/lib/netns.sh"

if ! why=$(vm_backend_can pviod); then
	echo "1..0 # SKIP $why"
	exit 4
fi
netns_need ip python3
vmt_driver_modules
migrations=${MIGRATIONS:-4}
mem=256
pviod=$(vm_pviod)
ns=pvio-mignet-$$
console=$VMT_TMP/console.log
tap=$VMT_TMP/tap.log
plog=$VMT_TMP/pviod.log
stop=$VMT_TMP/stop
progress=$VMT_TMP/progress
: >"$console"
: >"$tap"
t0=$(date +%s)
echo "# pviod $pviod, $migrations migrations, guest driver $VMT_DRIVER"

netns_add "$ns"
pviod_pid=
peer_pid=
# shellcheck disable=SC2317 # run by the EXIT trap
migrate_net_cleanup()
{
	mig_stop_all
	[ -z "$peer_pid" ] || vm_stop_pid "$peer_pid" 5
	[ -z "$pviod_pid" ] || vm_stop_pid "$pviod_pid" 5
	ip netns del "$ns" 2>/dev/null || true
	vmt_cleanup
}
trap migrate_net_cleanup EXIT
ip netns exec "$ns" "$pviod" \
	--device "net,socket=$VMT_TMP/a.sock,backend=tap:pvmiga,id=a" \
	--device "net,socket=$VMT_TMP/b.sock,backend=tap:pvmigb,id=b" \
	--workers 2 </dev/null >"$plog" 2>&1 &
pviod_pid=$!
for s in a b; do
	vm_wait_socket "$VMT_TMP/$s.sock" 10 "$pviod_pid" || {
		sed 's/^/# pviod: /' "$plog"
		vm_die "pviod did not create its sockets"
	}
done
ip -n "$ns" link add br0 type bridge
ip -n "$ns" link set pvmiga master br0 up
ip -n "$ns" link set pvmigb master br0 up
ip -n "$ns" addr add 10.98.3.1/24 dev br0
ip -n "$ns" link set br0 up

ip netns exec "$ns" timeout 280 python3 "$VMT_DIR/pviod_migrate_net_peer.py" \
	10.98.3.1 5000 200 "$stop" "$progress" >"$VMT_TMP/peer.log" 2>&1 &
peer_pid=$!

vmt_initramfs -o "$VMT_TMP/initrd" "${VMT_DRIVER_MODS[@]}" \
	-t "$VMT_GUEST/pviod_migrate_net.sh"
mig_machine "$mem" "$console" "$tap" \
	"MIG_NET_IP=10.98.3.2 MIG_NET_PEER=10.98.3.1 MIG_NET_PING=${MIG_NET_PING:-0}" \
	-netdev type=vhost-user,id=net0,chardev=vu \
	-device virtio-net-pci,netdev=net0,id=nic0,mac=52:54:00:98:03:02,vectors=0

# The bytes the peer sent so far.
sent()
{
	local p
	p=$(cat "$progress" 2>/dev/null || true)
	[[ $p =~ ^[0-9]+$ ]] || p=0
	echo "$p"
}

# wait_sent FROM LIMIT_S: until the peer sent 1 MiB more than FROM; 1 on timeout.
wait_sent()
{
	local from=$1 limit=$2 i
	for ((i = 0; i < limit * 10; i++)); do
		[ "$(sent)" -le $((from + (1 << 20))) ] || return 0
		sleep 0.1
	done
	return 1
}

mig_qemu_start a
if ! wait_sent 0 150; then
	tr -d '\r' <"$tap" | sed 's/^/# guest: /'
	tail -20 "$console" | sed 's/^/# console: /'
	vm_die "the stream did not start"
fi

# went_on M: the stream went on after migration M (1 MiB more sent).
# shellcheck disable=SC2317 # called by mig_loop
went_on()
{
	local before t1=$SECONDS
	before=$(sent)
	if ! wait_sent "$before" 30; then
		echo "# migration $1: the stream did not go on within 30 s"
		return 1
	fi
	echo "# migration $1: stream on again within $((SECONDS - t1)) s, $(sent) bytes sent"
}
mig_loop "$migrations" "the TCP stream" went_on

: >"$stop"
prc=0
wait "$peer_pid" || prc=$?
peer_pid=
echo "# peer (exit $prc): $(cat "$VMT_TMP/peer.log")"
rc=0
mig_guest_end "$mig_cur" 60 || rc=$?
host_md5=$(sed -n 's/^sent [0-9]* //p' "$VMT_TMP/peer.log")
guest_md5=$(sed -n 's/^# guest-rx-md5 //p' "$VMT_TMP/tap.guest" | tail -n 1)
tap_check "the guest received every byte the host sent, in order (md5 ${guest_md5:-none})" \
	[ -n "$host_md5" ] && [ "$host_md5" = "$guest_md5" ]

kill -TERM "$pviod_pid"
prc=0
wait "$pviod_pid" || prc=$?
pviod_pid=
tap_check "host: pviod exited 0 on SIGTERM (exit $prc)" [ "$prc" = 0 ]
announced=$(grep -c 'announced 52:54:00:98:03:02 through' "$plog" || true)
tap_check "host: pviod announced the guest after every migration ($announced times)" \
	[ "$announced" -ge "$mig_done" ] && [ "$mig_done" -gt 0 ]
tap_check "host: pviod logged no error" bash -c "! grep -q 'error:' '$plog'"
if [ "$rc" != 0 ] || [ "$prc" != 0 ] || [ "$mig_done" != "$migrations" ]; then
	sed 's/^/# pviod: /' "$plog" | tail -40
	tail -n 20 "$console" | tr -d '\r' | sed 's/^/# console: /'
fi
echo "# $mig_done migrations in $(($(date +%s) - t0)) s"
tap_end
