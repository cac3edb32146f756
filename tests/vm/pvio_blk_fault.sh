#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: pvio_blk against a device that lies (pviod --fault, test only).
# Three pviod processes each serve one disk and corrupt every used element
# after FAULT_AFTER honest completions: used-id (an id past the ring),
# used-dup (a head not in flight), used-len (len 0xffffffff).  In the guest
# pvio_blk must mark the first two broken and fail their I/O with EIO (seen
# by dd), and clamp the third; the kernel log must show no oops or WARNING
# (run.sh fails on them).
#
# timeout=200
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
vmt_init pvio_blk_fault
if ! why=$(vm_backend_can pviod); then
	echo "1..0 # SKIP $why"
	exit 4
fi
pvg_modules
pviod=$(vm_pviod)
after=${FAULT_AFTER:-40}
pids=()
stop_pviods()
{
	local p
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	pids=()
}
trap 'stop_pviods; vmt_cleanup' EXIT

devs=()
disks=
letters=(a b c)
i=0
for mode in used-id used-dup used-len; do
	truncate -s 64M "$VMT_TMP/$mode.img"
	"$pviod" --fault "$mode:$after" \
		--device "blk,socket=$VMT_TMP/$mode.sock,file=$VMT_TMP/$mode.img" \
		</dev/null >"$VMT_TMP/$mode.log" 2>&1 &
	pids+=("$!")
	vm_wait_socket "$VMT_TMP/$mode.sock" 10 "$!" || vm_die "pviod --fault $mode did not start"
	devs+=(--vhost-user-blk "$VMT_TMP/$mode.sock,num-queues=1")
	disks+=",pvd${letters[$i]}:$mode"
	i=$((i + 1))
done

vmt_initramfs -o "$VMT_TMP/initrd" \
	--ko "$PVG_CORE_KO" --ko "$PVG_BLK_KO" -t "$VMT_GUEST/pvio_blk_fault.sh"
rc=0
"$VM_TOP/scripts/vm/run.sh" -i "$VMT_TMP/initrd" --timeout 150 --tap "$VMT_TMP/tap" \
	--console "$VMT_TMP/console" "${devs[@]}" \
	--append "FAULT_DISKS=${disks#,} FAULT_AFTER=$after" >/dev/null || rc=$?
tap_merge "$VMT_TMP/tap" "guest: "
tap_check "guest ran to the end, kernel log clean of oops/WARNING (run.sh exit $rc)" [ "$rc" = 0 ]
nbroken=$(grep -a -c "device is broken" "$VMT_TMP/console" || true)
echo "# guest kernel log: $nbroken 'device is broken' messages"
grep -a -E "device is broken|I/O error" "$VMT_TMP/console" | head -6 | sed 's/^/#   /'
i=0
for mode in used-id used-dup used-len; do
	tap_check "host: pviod --fault $mode is still running" kill -0 "${pids[$i]}"
	i=$((i + 1))
done
stop_pviods
tap_end
