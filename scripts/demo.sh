#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The demo: what `make demo` runs (after scripts/deps.sh).
#
#   1. builds every userspace part and the guest kernel modules;
#   2. starts pviod with a block device on a raw image, and a second pviod
#      with a net device on a TAP in a network namespace of its own;
#   3. measures pviod on the host with the userspace driver (pvio-bench), the
#      figure that says something about pvio itself;
#   4. boots Debian's kernel under QEMU (KVM if it works here, else TCG) with
#      three devices and the pvio modules:
#        block    vhost-user-blk-pci -> pviod -> raw image    (pvio_blk, fio)
#        net      vhost-user net -> pviod -> TAP, HTTP peer    (pvio_net, wget)
#        console  QEMU's virtio-serial port -> Unix socket     (pvio_con, dd)
#      (QEMU 7.2 has no vhost-user console device: pviod's console device is
#      exercised by its tests with the userspace driver);
#   5. prints the throughput of each, checks the data, stops pviod with
#      SIGTERM (it must exit 0) and cleans up.
#
# Under TCG the guest figures measure the emulator: compare them with each
# other, not with bare metal.
#
# Options: --runtime SEC (fio and pvio-bench, default 5), --keep (leave the
# temp dir for inspection).
set -euo pipefail

cd "$(dirname "$0")/.."
# vm_ko: where the guest modules are built.
# shellcheck source-path=SCRIPTDIR source=vm/lib.sh
. scripts/vm/lib.sh
RUNTIME=5
KEEP=0
while [ $# -gt 0 ]; do
	case $1 in
	--runtime) RUNTIME=${2:?--runtime takes seconds}; shift 2 ;;
	--keep) KEEP=1; shift ;;
	-h | --help) sed -n '3,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "demo.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
	esac
done
case $RUNTIME in
'' | *[!0-9]*) echo "demo.sh: --runtime takes whole seconds, not '$RUNTIME'" >&2; exit 2 ;;
esac

step() { printf '\n== %s\n' "$*"; }
die() { echo "demo.sh: error: $*" >&2; exit 1; }

step "building pvio (userspace parts and guest modules)"
make --no-print-directory -s -j"$(nproc)" all
make --no-print-directory -s modules
for f in build/pviod build/pvio-bench "$(vm_ko pvio_core)" "$(vm_ko pvio_blk)" \
	"$(vm_ko pvio_net)" "$(vm_ko pvio_con)"; do
	[ -e "$f" ] || die "$f was not built; see the make output above"
done

T=$(mktemp -d "${TMPDIR:-/tmp}/pvio-demo.XXXXXX")
NS=pvio-demo-$$
BLK_PID=
NET_PID=
PEER_PID=
CON_PID=
stop_pid()
{
	if [ -n "$1" ] && kill -0 "$1" 2>/dev/null; then
		kill -TERM "$1" 2>/dev/null || true
		wait "$1" 2>/dev/null || true
	fi
}
cleanup()
{
	stop_pid "$BLK_PID"
	stop_pid "$NET_PID"
	stop_pid "$PEER_PID"
	stop_pid "$CON_PID"
	ip netns del "$NS" 2>/dev/null || true
	if [ "$KEEP" = 1 ]; then
		echo "demo.sh: kept $T"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_socket PATH PID LOG: until the pviod with PID creates PATH.
wait_socket()
{
	for _ in $(seq 1 100); do
		[ -S "$1" ] && return 0
		kill -0 "$2" 2>/dev/null || die "pviod exited; its log: $(cat "$3")"
		sleep 0.1
	done
	die "pviod did not create $1 within 10 s; its log: $(cat "$3")"
}

# The guest's disk: a 1 GiB raw image on the same file system as the temp dir
# (O_DIRECT needs a real file system; /dev/shm would not do).
truncate -s 1G "$T/disk.img"
step "starting pviod: blk on $T/disk.img (2 queues)"
build/pviod --device "blk,socket=$T/blk.sock,file=$T/disk.img,queues=2,serial=pvio-demo" \
	>"$T/pviod-blk.log" 2>&1 &
BLK_PID=$!
wait_socket "$T/blk.sock" "$BLK_PID" "$T/pviod-blk.log"

# The guest's network: pviod's net device on a TAP in a namespace of its own
# (10.97.0.1/24) with an HTTP peer there; the host's interfaces are untouched.
step "starting pviod: net on tap:pvdemo0 in network namespace $NS"
ip netns add "$NS"
ip -n "$NS" link set lo up
ip netns exec "$NS" build/pviod --device "net,socket=$T/net.sock,backend=tap:pvdemo0" \
	>"$T/pviod-net.log" 2>&1 &
NET_PID=$!
wait_socket "$T/net.sock" "$NET_PID" "$T/pviod-net.log"
ip -n "$NS" addr add 10.97.0.1/24 dev pvdemo0
ip -n "$NS" link set pvdemo0 up
# Text: busybox wget --post-file stops at the first NUL byte.
head -c $((2 << 20)) /dev/urandom | od -An -v -tx1 | tr -d ' \n' >"$T/blob"
blob_sha=$(sha256sum <"$T/blob" | cut -d' ' -f1)
# The TAP has no carrier until QEMU starts: bind to the address anyway.
ip netns exec "$NS" sysctl -q -w net.ipv4.ip_nonlocal_bind=1
ip netns exec "$NS" python3 tests/vm/pvio_net_peer.py --addr 10.97.0.1 --port 8000 \
	--blob "$T/blob" </dev/null >/dev/null 2>"$T/peer.log" &
PEER_PID=$!

# --- 1. the host: pviod measured with the userspace driver ------------------
step "host: pvio-bench -> pviod (4 KiB random read, ${RUNTIME} s per depth)"
printf '%-8s %12s %14s %14s\n' depth IOPS "MiB/s" "p99 latency"
for qd in 1 32; do
	json=$(build/pvio-bench blk --socket "$T/blk.sock" --rw randread --bs 4k \
		--iodepth "$qd" --queues 1 --runtime "$RUNTIME" --size 256M --json) ||
		die "pvio-bench failed against pviod (depth $qd)"
	python3 - "$qd" "$json" <<'PY'
import json, sys
r = json.loads(sys.argv[2])
print("%-8s %12.0f %14.1f %11.1f us" % (sys.argv[1], r["iops"], r["bw_bytes"] / 2**20,
                                       r["lat_ns_p99"] / 1e3))
PY
done

# --- 2. the guest: pvio modules on pviod and QEMU's virtio-serial -----------
# The console: QEMU listens on the port's socket; this reader connects once
# QEMU is up and counts what the guest writes.
python3 - "$T/con.sock" "$T/con.bytes" <<'PY' &
import socket, sys, time
path, out = sys.argv[1:3]
for _ in range(2400):
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
        break
    except OSError:
        time.sleep(0.05)
else:
    sys.exit("demo: cannot connect to " + path)
n = 0
while True:
    b = s.recv(1 << 16)
    if not b:
        break
    n += len(b)
    with open(out, "w") as f:
        f.write("%d\n" % n)
PY
CON_PID=$!

step "guest: booting Debian's kernel with pvio_core, pvio_blk, pvio_net and pvio_con"
cat >"$T/guest.sh" <<'GUEST'
#!/bin/sh
# Runs as /test in the demo guest; "# demo: " lines are the results.
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
fail() { n=$((n + 1)); echo "not ok $n - $*"; }
ko() { echo "/lib/modules/$(uname -r)/extra/$1.ko"; }
now() { cut -d' ' -f1 /proc/uptime; }
rate() {
	awk -v b="$1" -v t0="$2" -v t1="$3" \
		'BEGIN { printf "%.1f MiB/s (%d bytes in %.2f s)", b / 1048576 / (t1 - t0), b, t1 - t0 }'
}

# pvio_core binds block, net and console devices (types: 1 << virtio id).
if insmod "$(ko pvio_core)" types=14 && insmod "$(ko pvio_blk)" && insmod "$(ko pvio_net)" &&
	insmod "$(ko pvio_con)"; then
	ok "pvio_core, pvio_blk, pvio_net, pvio_con loaded"
else
	fail "loading the pvio modules"
fi

# Block: pvio_blk on pviod.
dev=/dev/pvda
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -b $dev ] && break; sleep 0.5; done
if [ -b $dev ]; then ok "pvio_blk created $dev"; else fail "no $dev"; fi
echo "# demo: blk serial $(cat /sys/block/pvda/serial 2>/dev/null || echo '?')"
for job in "randread 4k 1" "randread 4k 32" "write 1M 8"; do
	set -- $job
	out=$(fio --name=demo --filename=$dev --rw=$1 --bs=$2 --iodepth=$3 --ioengine=libaio \
		--direct=1 --size=256M --runtime="${DEMO_RUNTIME:-5}" --time_based 2>&1)
	line=$(echo "$out" | grep -E '^ *(read|write): IOPS=' | head -n 1)
	if [ -n "$line" ]; then
		ok "blk: fio $1 bs=$2 qd=$3"
		echo "# demo: blk $1 bs=$2 qd=$3:$(echo "$line" | sed 's/^ *\(read\|write\)://')"
	else
		fail "blk: fio $1 bs=$2 qd=$3"
		echo "$out" | sed 's/^/# /'
	fi
done
# Data integrity, not just speed: write a pattern and read it back.
if fio --name=verify --filename=$dev --rw=randwrite --bs=4k --iodepth=16 --ioengine=libaio \
	--direct=1 --size=32M --verify=crc32c --do_verify=1 >/dev/null 2>&1; then
	ok "blk: fio write + crc32c verify"
else
	fail "blk: fio write + crc32c verify"
fi

# Net: pvio_net on pviod's TAP; the HTTP peer is on the other side.
ip link set eth0 up && ip addr add 10.97.0.2/24 dev eth0
echo "# demo: net eth0 driver $(basename "$(readlink /sys/class/net/eth0/device/driver)")"
for _ in 1 2 3 4 5 6 7 8 9 10; do ping -c 1 -W 1 10.97.0.1 >/dev/null 2>&1 && break; done
if ping -c 3 -W 2 10.97.0.1 >/dev/null; then ok "net: ping 10.97.0.1"; else fail "net: ping"; fi
bytes=$((64 << 20))
t0=$(now)
if wget -q -O /dev/null "http://10.97.0.1:8000/stream?n=$bytes"; then
	t1=$(now)
	ok "net: TCP host -> guest"
	echo "# demo: net TCP host -> guest: $(rate $bytes "$t0" "$t1")"
else
	fail "net: TCP host -> guest"
fi
wget -q -O /tmp/blob http://10.97.0.1:8000/blob
t0=$(now)
ans=$(wget -q -O - --post-file=/tmp/blob http://10.97.0.1:8000/upload)
t1=$(now)
sha=$(sha256sum /tmp/blob | cut -d' ' -f1)
if [ "$sha" = "$DEMO_BLOB_SHA" ] && [ "${ans%% *}" = "$sha" ]; then
	ok "net: TCP guest -> host, sha256 equal at both ends"
	echo "# demo: net TCP guest -> host: $(rate "$(wc -c </tmp/blob)" "$t0" "$t1"), sha256 verified"
else
	fail "net: sha256 guest $sha, host ${ans%% *}, expected $DEMO_BLOB_SHA"
fi

# Console: pvio_con's named port on QEMU's virtio-serial (its sysfs class is
# pvio-ports; PORT_NAME may lag the node by a moment).
port=
for _ in $(seq 50); do
	for p in /sys/class/pvio-ports/*; do
		[ "$(cat "$p/name" 2>/dev/null)" = org.pvio.demo ] && port=/dev/${p##*/}
	done
	[ -n "$port" ] && break
	sleep 0.1
done
if [ -n "$port" ] && [ -c "$port" ]; then
	ok "console: port org.pvio.demo is $port"
	t0=$(now)
	if dd if=/dev/zero of="$port" bs=64k count=512 2>/dev/null; then
		t1=$(now)
		ok "console: 32 MiB guest -> host"
		echo "# demo: console guest -> host: $(rate $((32 << 20)) "$t0" "$t1")"
	else
		fail "console: write to $port"
	fi
else
	fail "console: no port named org.pvio.demo"
fi
echo "1..$n"
GUEST
chmod +x "$T/guest.sh"
scripts/vm/mkinitramfs.sh -o "$T/initrd.img" --ko-noload "$(vm_ko pvio_core)" \
	--ko-noload "$(vm_ko pvio_blk)" --ko-noload "$(vm_ko pvio_net)" \
	--ko-noload "$(vm_ko pvio_con)" --fio -t "$T/guest.sh" >/dev/null
rc=0
scripts/vm/run.sh -i "$T/initrd.img" --timeout $((RUNTIME * 3 + 180)) \
	--vhost-user-blk "$T/blk.sock,num-queues=2" --net-vhost-user "$T/net.sock" \
	--virtio-serial "$T/con.sock,name=org.pvio.demo" \
	--append "DEMO_RUNTIME=$RUNTIME DEMO_BLOB_SHA=$blob_sha" \
	--console "$T/guest-kernel.log" >"$T/guest.tap" || rc=$?
grep -E '^(ok|not ok)' "$T/guest.tap" || true
if [ "$rc" = 0 ] && grep -q '^not ok' "$T/guest.tap"; then
	rc=1
fi
step "guest results (TCG: the emulator dominates; compare ratios, not absolutes)"
grep '# demo:' "$T/guest.tap" | sed 's/^# demo: /  /' || true
stop_pid "$CON_PID"
CON_PID=
echo "  console: the host read $(cat "$T/con.bytes" 2>/dev/null || echo 0) bytes from the port"
if [ "$rc" != 0 ]; then
	echo "demo.sh: the guest run failed (exit $rc); kernel log tail:" >&2
	tail -n 30 "$T/guest-kernel.log" >&2 || true
	KEEP=1
	exit 1
fi

step "pviod stops cleanly on SIGTERM (drains, flushes)"
for which in blk net; do
	if [ $which = blk ]; then pid=$BLK_PID; else pid=$NET_PID; fi
	kill -TERM "$pid"
	if wait "$pid"; then
		echo "  pviod ($which) exited 0"
	else
		die "pviod ($which) exited with status $? on SIGTERM; log: $(tail -n 20 "$T/pviod-$which.log")"
	fi
done
BLK_PID=
NET_PID=
echo
echo "demo: done"
