#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of tests/vm/pvio_con.sh (busybox sh).  Env: PVC_BYTES, PVC_MD5,
# PVC_PACKED=1 (pvio_core must have negotiated packed rings: bit 34).
# shellcheck source=tap.sh
. /lib/pvio/tap.sh
say() { echo "pvio-test: $*" > /dev/kmsg; }
echo "TAP version 13"
ko() { find /lib/modules -name "$1.ko" | head -1; }
# As a user would: no module parameter; pvio_con's registration binds the device.
check "insmod pvio_core (no parameter)" insmod "$(ko pvio_core)"
check "insmod pvio_con (no parameter)" insmod "$(ko pvio_con)"
packed_on()
{
	for f in /sys/bus/pvio/devices/*/features; do
		v=$(cat "$f")
		echo "# ${f%/features}: features $v"
		[ $(((v >> 34) & 1)) = 1 ] || return 1
	done
}
[ "${PVC_PACKED:-0}" = 1 ] && check "pvio_core negotiated packed rings (bit 34)" packed_on
for _ in $(seq 50); do [ -e /dev/vport0p1 ] && [ -e /dev/hvc0 ] && break; sleep 0.1; done
check "/dev/hvc0 exists" [ -c /dev/hvc0 ]
check "/dev/vport0p1 exists" [ -c /dev/vport0p1 ]
# QEMU's default virtio-serial-pci has 2 MSI-X vectors for its 64 queues: one
# for config changes, one shared by the queues, not the INTx line.
grep pvio /proc/interrupts | sed 's/^/# /'
check "pvio_con's config vector is MSI-X" sh -c 'grep -q -E "MSI.* pvio[0-9]+$" /proc/interrupts'
check "its queues share one MSI-X vector" sh -c 'grep -q -E "MSI.* pvio[0-9]+-queues$" /proc/interrupts'
check "no pvio interrupt on an INTx line" sh -c '! grep pvio /proc/interrupts | grep -v -q MSI'
# PORT_NAME follows DEVICE_ADD: the name can lag the node by a moment.
for _ in $(seq 50); do name=$(cat /sys/class/pvio-ports/vport0p1/name); [ -n "$name" ] && break; sleep 0.1; done
check "port 1 named org.pvio.test in sysfs (got '$name')" [ "$name" = org.pvio.test ]
mkdir -p /dev/virtio-ports && ln -sf ../vport0p1 "/dev/virtio-ports/$name"
# shell on hvc0
setsid sh -c 'exec sh </dev/hvc0 >/dev/hvc0 2>&1' &
say shell
for _ in $(seq 100); do [ -s /tmp/hvc-said ] && break; sleep 0.1; done
check "a command ran through the shell on hvc0" [ "$(cat /tmp/hvc-said 2>/dev/null)" = hvc-42 ]
# MiBs each way, the host echoes what it sent us back through us
say port
head -c "$PVC_BYTES" /dev/virtio-ports/org.pvio.test > /tmp/d
got=$(md5sum /tmp/d | cut -d' ' -f1)
check "host -> guest $PVC_BYTES bytes, md5 $got" [ "$got" = "$PVC_MD5" ]
cat /tmp/d > /dev/virtio-ports/org.pvio.test
check "guest -> host write completed" true
# throughput guest -> host
perf=$((64 << 20))
exec 3>/dev/vport0p1
say "perf $perf"
dd if=/dev/zero bs=65536 count=$((perf / 65536)) >&3 2>/dev/null
exec 3>&-
check "guest wrote $perf bytes" true
# hot-add / remove
say hotadd
for _ in $(seq 100); do [ -e /dev/vport0p2 ] && break; sleep 0.1; done
check "hot-added port appears as /dev/vport0p2" [ -c /dev/vport0p2 ]
check "hot-added port named org.pvio.hot" [ "$(cat /sys/class/pvio-ports/vport0p2/name 2>/dev/null)" = org.pvio.hot ]
say hotdel
for _ in $(seq 100); do [ ! -e /dev/vport0p2 ] && break; sleep 0.1; done
check "hot-removed port is gone" [ ! -e /dev/vport0p2 ]
queue_irqs=$(awk '/pvio[0-9]+-queues$/ { for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i } END { print s + 0 }' /proc/interrupts)
check "the shared queue vector fired ($queue_irqs interrupts)" [ "$queue_irqs" -gt 0 ]
echo "1..$n"
