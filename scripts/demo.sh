#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The demo: what `make demo` runs (after scripts/deps.sh).
#
#   1. builds every userspace part and the guest kernel modules;
#   2. starts pviod with a block device on a raw image;
#   3. measures pviod on the host with the userspace driver (pvio-bench), the
#      figure that says something about pvio itself;
#   4. boots Debian's kernel under QEMU (KVM if it works here, else TCG) with
#      vhost-user-blk-pci -> pviod, loads pvio_core + pvio_blk, runs fio on
#      /dev/pvda, and, when their modules are built, pvio_net over pviod's
#      net device and pvio_con over QEMU's virtio-serial;
#   5. prints the throughput of each and cleans up.
#
# Under TCG the guest figures measure the emulator: compare them with each
# other, not with bare metal.
#
# Options: --runtime SEC (fio and pvio-bench, default 5), --keep (leave the
# temp dir for inspection).
set -euo pipefail

cd "$(dirname "$0")/.."
TOP=$PWD
RUNTIME=5
KEEP=0
while [ $# -gt 0 ]; do
	case $1 in
	--runtime) RUNTIME=$2; shift 2 ;;
	--keep) KEEP=1; shift ;;
	-h | --help) sed -n '3,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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
for f in build/pviod build/pvio-bench pvio_core.ko pvio_blk.ko; do
	[ -e "$f" ] || die "$f was not built; see the make output above"
done

T=$(mktemp -d "${TMPDIR:-/tmp}/pvio-demo.XXXXXX")
PVIOD_PID=
cleanup()
{
	if [ -n "$PVIOD_PID" ] && kill -0 "$PVIOD_PID" 2>/dev/null; then
		kill -TERM "$PVIOD_PID" 2>/dev/null || true
		wait "$PVIOD_PID" 2>/dev/null || true
	fi
	if [ "$KEEP" = 1 ]; then
		echo "demo.sh: kept $T"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

wait_socket()
{
	local i
	for i in $(seq 1 100); do
		[ -S "$1" ] && return 0
		kill -0 "$PVIOD_PID" 2>/dev/null || die "pviod exited; its log: $(cat "$T/pviod.log")"
		sleep 0.1
	done
	die "pviod did not create $1 within 10 s; its log: $(cat "$T/pviod.log")"
}

# pviod serves the guest's disk: a 1 GiB raw image on the same file system as
# the temp dir (O_DIRECT needs a real file system; /dev/shm would not do).
truncate -s 1G "$T/disk.img"
step "starting pviod: blk on $T/disk.img (2 queues)"
build/pviod --device "blk,socket=$T/blk.sock,file=$T/disk.img,queues=2,serial=pvio-demo" \
	>"$T/pviod.log" 2>&1 &
PVIOD_PID=$!
wait_socket "$T/blk.sock"

# --- 1. the host: pviod measured with the userspace driver ------------------
step "host: pvio-bench -> pviod (4 KiB random read, ${RUNTIME} s per depth)"
printf '%-8s %12s %14s %14s\n' depth IOPS "MiB/s" "p99 latency"
for qd in 1 32; do
	json=$(build/pvio-bench blk --socket "$T/blk.sock" --rw randread --bs 4k \
		--iodepth "$qd" --queues 1 --runtime "$RUNTIME" --size 256M --json) ||
		die "pvio-bench failed against pviod (depth $qd)"
	python3 - "$qd" "$json" <<'EOF'
import json, sys
r = json.loads(sys.argv[2])
print("%-8s %12.0f %14.1f %11.1f us" % (sys.argv[1], r["iops"], r["bw_bytes"] / 2**20,
                                       r["lat_ns_p99"] / 1e3))
EOF
done

# --- 2. the guest: pvio modules on pviod -------------------------------------
step "guest: booting Debian's kernel with pvio_core + pvio_blk on pviod"
cat >"$T/guest.sh" <<'EOF'
#!/bin/sh
# Runs as /test in the demo guest; "# demo: " lines are the results.
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
fail() { n=$((n + 1)); echo "not ok $n - $*"; }
dev=/dev/pvda
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -b $dev ] && break; sleep 0.5; done
if [ -b $dev ]; then ok "pvio_blk created $dev"; else fail "no $dev"; echo "1..$n"; exit 1; fi
echo "# demo: serial $(cat /sys/block/pvda/serial 2>/dev/null || echo '?')"
for job in "randread 4k 1" "randread 4k 32" "write 1M 8"; do
	set -- $job
	out=$(fio --name=demo --filename=$dev --rw=$1 --bs=$2 --iodepth=$3 --ioengine=libaio \
		--direct=1 --size=256M --runtime="${DEMO_RUNTIME:-5}" --time_based 2>&1)
	line=$(echo "$out" | grep -E '^ *(read|write): IOPS=' | head -n 1)
	if [ -n "$line" ]; then
		ok "fio $1 bs=$2 qd=$3"
		echo "# demo: blk $1 bs=$2 qd=$3:$(echo "$line" | sed 's/^ *\(read\|write\)://')"
	else
		fail "fio $1 bs=$2 qd=$3"
		echo "$out" | sed 's/^/# /'
	fi
done
# Data integrity, not just speed: write a pattern, drop caches, read it back.
if fio --name=verify --filename=$dev --rw=randwrite --bs=4k --iodepth=16 --ioengine=libaio \
	--direct=1 --size=32M --verify=crc32c --do_verify=1 >/dev/null 2>&1; then
	ok "fio write + crc32c verify"
else
	fail "fio write + crc32c verify"
fi
echo "1..$n"
EOF
chmod +x "$T/guest.sh"
scripts/vm/mkinitramfs.sh -o "$T/initrd.img" --ko pvio_core.ko --ko pvio_blk.ko --fio \
	-t "$T/guest.sh" >/dev/null
set +e
scripts/vm/run.sh -i "$T/initrd.img" --timeout $((RUNTIME * 3 + 120)) \
	--vhost-user-blk "$T/blk.sock,num-queues=2" \
	--append "DEMO_RUNTIME=$RUNTIME" --console "$T/guest-kernel.log" >"$T/guest.tap"
rc=$?
set -e
grep -E '^(ok|not ok)' "$T/guest.tap" || true
step "guest results (TCG: the emulator dominates; compare ratios, not absolutes)"
grep '# demo:' "$T/guest.tap" | sed 's/^# demo: /  /' || true
if [ "$rc" != 0 ]; then
	echo "demo.sh: the guest run failed (exit $rc); kernel log tail:" >&2
	tail -n 30 "$T/guest-kernel.log" >&2 || true
	KEEP=1
	exit 1
fi

step "pviod stops cleanly on SIGTERM (drains, flushes)"
kill -TERM "$PVIOD_PID"
if wait "$PVIOD_PID"; then
	echo "  pviod exited 0"
else
	die "pviod exited with $? on SIGTERM; log: $(tail -n 20 "$T/pviod.log")"
fi
PVIOD_PID=
echo
echo "demo: done"
