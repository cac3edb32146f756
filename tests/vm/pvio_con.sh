#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: pvio_con, loaded with pvio_core and no module parameter, on QEMU's
# own virtio-serial-pci (its default 2 MSI-X vectors: config and one shared by
# the queues, checked in /proc/interrupts) with a virtconsole (hvc0:
# console=hvc0 kernel log, a shell driven through the chardev socket) and a
# virtserialport named org.pvio.test: MiBs host -> guest checked by md5 in
# the guest and echoed back, checked by md5 on the host; guest -> host
# throughput; hot-add and removal of a virtserialport through QMP.
# PVG_PACKED=on (pvio_con_packed.sh): the controller with packed=on; the
# guest also checks pvio_core negotiated packed rings (bit 34).
#
# timeout=300
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if [ "${PVG_PACKED:-off}" = on ]; then vmt_init pvio_con_packed; else vmt_init pvio_con; fi
sopt=
packed_env=PVC_PACKED=0
if [ "${PVG_PACKED:-off}" = on ]; then
	sopt=,packed
	packed_env=PVC_PACKED=1
fi
pvg_modules
[ -f "$PVG_CON_KO" ] || vm_die "pvio_con.ko not built"

bytes=$((4 << 20))
data=$VMT_TMP/data
head -c "$bytes" /dev/urandom >"$data"
md5=$(md5sum "$data" | cut -d' ' -f1)
console=$VMT_TMP/console.log
qmp=$VMT_TMP/qmp.sock
hvc=$VMT_TMP/hvc.sock
port=$VMT_TMP/port.sock

vmt_initramfs -o "$VMT_TMP/initrd" \
	--ko-noload "$PVG_CORE_KO" --ko-noload "$PVG_CON_KO" -t "$VMT_GUEST/pvio_con.sh"

: >"$console"
"$VMT_DIR/pvio_con_peer.py" "$hvc" "$port" "$data" "$VMT_TMP" &
peer=$!
hp_add="{\"driver\": \"virtserialport\", \"bus\": \"vser0.0\", \"chardev\": \"hpchr\", \"name\": \"org.pvio.hot\", \"id\": \"hp0\"}"
pvg_when_logged "$console" "pvio-test: hotadd" pvg_qmp "$qmp" device_add "$hp_add"
pvg_when_logged "$console" "pvio-test: hotdel" pvg_qmp "$qmp" device_del '{"id": "hp0"}'

rc=0
"$VM_TOP/scripts/vm/run.sh" -i "$VMT_TMP/initrd" --timeout 280 --tap "$VMT_TMP/tap" \
	--console "$console" --qmp "$qmp" \
	--virtio-serial "$hvc,console$sopt" --virtio-serial "$port,name=org.pvio.test" \
	--append "console=hvc0 PVC_BYTES=$bytes PVC_MD5=$md5 $packed_env" \
	-- -chardev "socket,id=hpchr,path=$VMT_TMP/hp.sock,server=on,wait=off" \
	>/dev/null || rc=$?
pvg_watchers_stop
wait "$peer" 2>/dev/null || true

# Kept for a look after the run.
mkdir -p "$VM_TOP/build/vm/pvio_con"
cp "$console" "$VMT_TMP"/hvc.log "$VM_TOP/build/vm/pvio_con/" 2>/dev/null || true
tap_merge "$VMT_TMP/tap" "guest: "
tap_check "guest ran to the end, kernel log clean (run.sh exit $rc)" [ "$rc" = 0 ]
tap_check "hvc0 carried the kernel log (pvio_con's 'console on hvc0')" \
	grep -a -q "pvio_con .*console on hvc0" "$VMT_TMP/hvc.log"
tap_check "hvc0 shell answered" grep -a -q "shell-says-hvc-42" "$VMT_TMP/hvc.log"
tap_check "guest -> host echo of $bytes bytes has the md5 sent" \
	[ "$(cat "$VMT_TMP/port.md5" 2>/dev/null)" = "$md5" ]
if [ -s "$VMT_TMP/perf" ]; then
	echo "# guest -> host through pvio_con: $(cat "$VMT_TMP/perf") (bytes s MiB/s)"
fi
tap_end
