#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: suspend to RAM and resume with I/O running on every pvio
# frontend, on QEMU's own devices: pvio_blk on virtio-blk-pci (2 queues),
# pvio_net on virtio-net-pci (a TAP in a network namespace), pvio_con on
# virtio-serial-pci (a virtconsole and a named virtserialport on files).
# The guest (guest/pvio_suspend.sh) runs a write+verify loop and a ping loop,
# writes "mem" to /sys/power/state twice; each time the host waits for QEMU
# to report the guest suspended and sends system_wakeup over QMP (QEMU resets
# the devices on the S3 wake-up: the frontends' restore sets them up anew).
# After: block data verified, a TCP download and upload sha256-checked, the
# console lines written before and after the suspends reached the host's
# files, and the kernel's line printed while pvio_con was suspended (before
# the S3 entry) reached the console through its emergency write register
# (EMERG_WRITE; console=hvc0 no_console_suspend).
#
# timeout=300
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
vmt_init pvio_suspend
pvg_modules
# shellcheck source-path=SCRIPTDIR source=pvio_net_lib.sh
. "$VMT_DIR/pvio_net_lib.sh"
pvn_need

cycles=2
disk=$VMT_TMP/disk.img
truncate -s $((32 << 20)) "$disk"
console=$VMT_TMP/console.log
qmp=$VMT_TMP/qmp.sock
hvc_out=$VMT_TMP/hvc.out
port_out=$VMT_TMP/port.out

pvn_netns_up 1
pvn_peer_start
vmt_initramfs -o "$VMT_TMP/initrd" --ko "$PVG_CORE_KO" --ko "$PVG_BLK_KO" \
	--ko "$PVG_NET_KO" --ko "$PVG_CON_KO" -a "$VMT_TMP/blob:/blob" \
	-t "$VMT_GUEST/pvio_suspend.sh"

# wake CYCLE: once the guest asked for it and QEMU reports it suspended.
# shellcheck disable=SC2317 # run by pvg_when_logged
wake()
{
	local i
	for i in $(seq 1 600); do
		if pvg_qmp "$qmp" query-status 2>/dev/null | grep -q '"suspended"'; then
			sleep 2
			echo "# host: cycle $1: guest suspended after ~$((i / 5)) s; system_wakeup" >&2
			pvg_qmp "$qmp" system_wakeup >/dev/null
			return
		fi
		sleep 0.2
	done
	echo "# host: cycle $1: the guest never reported suspended" >&2
	return 1
}

: >"$console"
for c in $(seq 1 $cycles); do
	pvg_when_logged "$console" "pvio-test: suspend $c" wake "$c"
done

rc=0
pvn_in_ns "$VM_TOP/scripts/vm/run.sh" -i "$VMT_TMP/initrd" --timeout 270 --mem 768 \
	--tap "$VMT_TMP/tap" --console "$console" --qmp "$qmp" \
	--blk-builtin "$disk,num-queues=2" \
	--append "console=hvc0 no_console_suspend PVG_SHA=$PVN_SHA PVG_CYCLES=$cycles" -- \
	-global PIIX4_PM.disable_s3=0 \
	-netdev "tap,id=n0,ifname=$PVN_TAP,script=no,downscript=no,vhost=off" \
	-device "virtio-net-pci,netdev=n0" \
	-device virtio-serial-pci,id=vserpm \
	-chardev "file,id=pmhvc,path=$hvc_out" -device virtconsole,bus=vserpm.0,chardev=pmhvc \
	-chardev "file,id=pmport,path=$port_out" \
	-device virtserialport,bus=vserpm.0,chardev=pmport,name=org.pvio.pm \
	>/dev/null || rc=$?
pvg_watchers_stop

# Kept for a look after the run.
mkdir -p "$VM_TOP/build/vm/pvio_suspend"
cp "$console" "$hvc_out" "$port_out" "$VM_TOP/build/vm/pvio_suspend/" 2>/dev/null || true
tap_merge "$VMT_TMP/tap" "guest: "
tap_check "guest ran to the end, kernel log clean (run.sh exit $rc)" [ "$rc" = 0 ]
tap_check "the host received the guest's upload with the right sha256" \
	grep -q "sha256 $PVN_SHA" "$VMT_TMP/peer.log"
# has_both FILE A B: FILE holds a line with A and one with B.
# shellcheck disable=SC2317 # run by tap_check
has_both() { grep -a -q "$2" "$1" && grep -a -q "$3" "$1"; }
tap_check "the named port carried a line before and one after the suspends" \
	has_both "$port_out" pm-port-before pm-port-after
tap_check "hvc0 carried a line before and one after the suspends" \
	has_both "$hvc_out" pm-hvc-before pm-hvc-after
# Printed by the kernel after pvio_con's freeze, before the S3 entry.  (What
# it prints after the wake-up is lost until the restore: QEMU's reset on the
# wake-up leaves emerg_wr ignored.)
tap_check "the kernel's S3 entry line reached hvc0 through the emergency write register" \
	grep -a -q "Preparing to enter system sleep state S3" "$hvc_out"
tap_end
