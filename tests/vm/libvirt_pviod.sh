#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: libvirt, for real.  pviod started the documented way (--config
# with socket-group libvirt-qemu and socket-mode 0660, as the shipped
# /etc/pvio/pviod.conf; in a network namespace of its own, for its tap),
# libvirtd started by hand (no systemd needed), and a TCG domain whose disk
# and interface are Documentation/libvirt/pviod-disk.xml and
# pviod-interface.xml exactly (the socket paths aside), in
# Documentation/libvirt/pviod-domain.xml (the paths aside).  QEMU runs as
# libvirt-qemu, as under libvirt anywhere: it connects only because of the
# sockets' group and mode.  In the guest the stock virtio_blk writes,
# flushes and reads back 2 MiB of random data, found in the image after the
# domain powered off; the stock virtio_net pings the tap's address and
# moves 4 MiB each way over TCP, md5 checked at both ends.  pviod exits 0
# on SIGTERM.  Run it under the global lock (flock /tmp/pvio-global.lock):
# it starts the machine's libvirtd.
#
# timeout=420
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
vmt_init libvirt_pviod

need=
for c in libvirtd virtlogd virsh; do
	command -v "$c" >/dev/null 2>&1 || need+=" $c"
done
getent group libvirt-qemu >/dev/null || need+=" group:libvirt-qemu"
if [ -n "$need" ]; then
	# Under CI a missing package is a failure: scripts/deps.sh installs them.
	[ "${CI:-}" = true ] && vm_die "libvirt not installed:$need (scripts/deps.sh)"
	echo "1..0 # SKIP libvirt not installed:$need (libvirt-daemon-system, libvirt-clients)"
	exit 4
fi
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root (starts libvirtd)"; exit 4; }

pviod=$(vm_pviod)
kver=$(vm_kver)
kernel=$(vm_kernel "$kver")
name=pvio-libvirt-$$
D=$VMT_TMP
# QEMU runs as libvirt-qemu: it must get to the kernel, the initrd, the logs
# and the socket's directory (and the socket itself only through its group).
chmod 0711 "$D"
mkdir -m 0755 "$D/run"
size=$((64 << 20))
truncate -s "$size" "$D/disk.img"
echo "# pviod $pviod, kernel $kernel"

ns=pvio-lv-$$
ip netns add "$ns" || vm_die "cannot create a network namespace"
ip -n "$ns" link set lo up
net_size=$((4 << 20))
mkdir "$D/www"
head -c "$net_size" /dev/urandom >"$D/www/tx.bin"
tx_md5=$(md5sum <"$D/www/tx.bin" | cut -d' ' -f1)
http_pid=
sink_pid=

cat >"$D/pviod.conf" <<CONF
rpc $D/run/control.sock
socket-group libvirt-qemu
socket-mode 0660
device blk,id=disk0,socket=$D/run/disk0.sock,file=$D/disk.img
device net,id=net0,socket=$D/run/net0.sock,backend=tap:pvlv0
CONF
ip netns exec "$ns" "$pviod" --config "$D/pviod.conf" >"$D/pviod.log" 2>&1 &
pviod_pid=$!
for s in disk0 net0; do
	vm_wait_socket "$D/run/$s.sock" 10 "$pviod_pid" || {
		sed 's/^/# pviod: /' "$D/pviod.log"
		vm_die "pviod did not create its sockets"
	}
	tap_check "host: $s's socket is libvirt-qemu's, mode 660" \
		test "$(stat -c '%a %G' "$D/run/$s.sock")" = "660 libvirt-qemu"
done
ip -n "$ns" link set pvlv0 up
ip -n "$ns" addr add 10.98.0.1/24 dev pvlv0

# The host's TCP ends, in the namespace, bounded in time.
ip netns exec "$ns" timeout 300 python3 -m http.server 5001 --bind 10.98.0.1 \
	--directory "$D/www" >"$D/http.log" 2>&1 &
http_pid=$!
ip netns exec "$ns" timeout 300 python3 "$VM_TOP/tests/lib/tcp_sink.py" \
	10.98.0.1 5000 290 "$D/rx.bin" "$net_size" >"$D/sink.log" 2>&1 &
sink_pid=$!

# libvirtd and virtlogd, unless they run already: started and stopped here.
started=()
for d in virtlogd libvirtd; do
	pidf=/run/$d.pid
	if [ -s "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; then
		continue
	fi
	"$d" -d
	for _ in $(seq 100); do
		[ -s "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null && break
		sleep 0.1
	done
	started+=("$(cat "$pidf")")
done
# shellcheck disable=SC2317 # run at exit
libvirt_cleanup()
{
	virsh -q -c qemu:///system destroy "$name" >/dev/null 2>&1 || true
	virsh -q -c qemu:///system undefine "$name" >/dev/null 2>&1 || true
	local p
	for p in "${started[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	[ -z "${pviod_pid:-}" ] || kill -TERM "$pviod_pid" 2>/dev/null || true
	[ -z "$http_pid" ] || kill "$http_pid" 2>/dev/null || true
	[ -z "$sink_pid" ] || kill "$sink_pid" 2>/dev/null || true
	wait 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	vmt_cleanup
}
trap libvirt_cleanup EXIT
for _ in $(seq 100); do
	virsh -q -c qemu:///system version >/dev/null 2>&1 && break
	sleep 0.2
done

vmt_initramfs -o "$D/initrd" -m virtio_pci -m virtio_blk -m virtio_net \
	-a "$VMT_GUEST/pviod_net.sh:/bin/pviod_net.sh" -t "$VMT_GUEST/libvirt_pviod.sh"
chmod 0644 "$D/initrd"
: >"$D/console.log"
: >"$D/tap.log"

# The domain: Documentation's XML with this test's paths, the disk and
# interface snippets verbatim but for their sockets.
disk=$(sed "s|/run/pviod/|$D/run/|" "$VM_TOP/Documentation/libvirt/pviod-disk.xml")
iface=$(sed "s|/run/pviod/|$D/run/|" "$VM_TOP/Documentation/libvirt/pviod-interface.xml")
env="PVIO_BLK_DEV=/dev/vda PVIO_NET_IP=10.98.0.2 PVIO_NET_PEER=10.98.0.1"
env+=" PVIO_NET_TCP=1 PVIO_NET_SIZE=$net_size PVIO_NET_RX_MD5=$tx_md5"
python3 - "$VM_TOP/Documentation/libvirt/pviod-domain.xml" "$D/domain.xml" "$name" \
	"$kernel" "$D" "$env" "$disk" "$iface" <<'EOF'
import sys
src, dst, name, kernel, d, env, disk, iface = sys.argv[1:]
x = open(src).read()
x = x.replace("<name>pvio-libvirt</name>", "<name>%s</name>" % name, 1)
x = x.replace("/boot/vmlinuz", kernel)
x = x.replace("/var/lib/pvio/", d + "/")
x = x.replace("panic=-1</cmdline>", "panic=-1 %s</cmdline>" % env)
x = x.replace("    <!-- the vhost-user disk: Documentation/libvirt/pviod-disk.xml -->\n",
              "".join("    " + l + "\n" for l in disk.splitlines()))
x = x.replace("    <!-- the vhost-user interface: Documentation/libvirt/pviod-interface.xml -->\n",
              "".join("    " + l + "\n" for l in iface.splitlines()))
open(dst, "w").write(x)
EOF
sed 's/^/# domain: /' "$D/domain.xml"

virsh -q -c qemu:///system define "$D/domain.xml" >"$D/virsh.out" 2>&1 ||
	{ sed 's/^/# /' "$D/virsh.out"; vm_die "virsh define failed"; }
if timeout 60 virsh -q -c qemu:///system start "$name" >"$D/virsh.out" 2>&1; then
	tap_ok "host: virsh start (QEMU as libvirt-qemu connects to pviod's socket)"
else
	sed 's/^/# /' "$D/virsh.out"
	tail -20 "/var/log/libvirt/qemu/$name.log" 2>/dev/null | sed 's/^/# qemu: /'
	tap_fail "host: virsh start"
	tap_end
fi
qemu_user=
for _ in $(seq 300); do
	state=$(virsh -q -c qemu:///system domstate "$name" 2>/dev/null || echo gone)
	[ "$state" = running ] || break
	[ -n "$qemu_user" ] || qemu_user=$(pgrep -f "guest=$name" | head -n 1 |
		xargs -r ps -o user= -p | tr -d ' ')
	sleep 1
done
tap_check "host: QEMU ran as libvirt-qemu (it did: '$qemu_user')" test "$qemu_user" = libvirt-qemu
tap_check "host: the guest powered off by itself (state: $state)" test "$state" = "shut off"

tr -d '\r' <"$D/tap.log" >"$D/tap.clean"
grep -a -v -E '^# pvio-vm-exit: [0-9]+$' "$D/tap.clean" >"$D/tap.guest" || true
tap_merge "$D/tap.guest" "guest: "
if grep -aqx '# pvio-vm-exit: 0' "$D/tap.clean"; then
	tap_ok "guest: /test exited 0"
else
	tail -n 30 "$D/console.log" | sed 's/^/# console: /'
	tap_fail "guest: /test exited 0"
fi
if grep -aqE 'WARNING:|BUG:|Oops|Call Trace|Kernel panic' "$D/console.log"; then
	grep -aE 'WARNING:|BUG:|Oops|Call Trace|Kernel panic' "$D/console.log" | sed 's/^/# /'
	tap_fail "guest: kernel log clean"
else
	tap_ok "guest: kernel log clean"
fi

kill -TERM "$pviod_pid"
prc=0
wait "$pviod_pid" || prc=$?
pviod_pid=
tap_check "host: pviod exited 0 on SIGTERM (exit $prc)" test "$prc" = 0
tap_check "host: pviod logged both front-ends" \
	sh -c "grep -q 'disk0: front-end connected' '$D/pviod.log' &&
		grep -q 'net0: front-end connected' '$D/pviod.log'"
# The sink has the guest's bytes once the guest is off; it may still wait
# for a guest that never connected.
kill "$sink_pid" 2>/dev/null || true
wait "$sink_pid" 2>/dev/null || true
sink_pid=
guest_md5=$(sed -n 's/^# guest-tx-md5 //p' "$D/tap.clean" | head -n 1)
host_md5=$(md5sum <"$D/rx.bin" 2>/dev/null | cut -d' ' -f1)
tap_check "host: TCP guest -> host: md5 $host_md5 is the guest's" \
	test -n "$guest_md5" -a "$guest_md5" = "$host_md5"
sum=$(sed -n 's/^# pattern-sha256 \([0-9a-f]*\)$/\1/p' "$D/tap.clean")
tap_check "host: the guest's 2 MiB at 8 MiB are in the image" test -n "$sum" -a \
	"$(dd if="$D/disk.img" bs=1M skip=8 count=2 2>/dev/null | sha256sum | cut -d' ' -f1)" = "$sum"
tap_end
