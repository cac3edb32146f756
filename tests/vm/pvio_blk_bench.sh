#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Benchmark (make bench): fio 4 KiB random read at QD1 and QD32 on one
# QEMU virtio-blk-pci device (2 queues), with pvio_blk and with the stock
# virtio_blk, in the same guest boot (guest/pvio_blk_bench.sh).  Prints IOPS per
# driver and the pvio/stock ratio; under TCG only the ratio means anything.
#
#   PVG_RUNTIME=SEC   seconds per fio run (default 8)
#
# timeout=400
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
vmt_init pvio_blk_bench
pvg_modules
command -v fio >/dev/null || {
	echo "1..0 # SKIP fio not installed"
	exit 4
}

disk=$VMT_TMP/disk.img
head -c $((128 << 20)) /dev/urandom >"$disk"
vmt_initramfs -o "$VMT_TMP/initrd" --fio \
	-M virtio_pci -M virtio_blk --ko-noload "$PVG_CORE_KO" --ko-noload "$PVG_BLK_KO" \
	-t "$VMT_GUEST/pvio_blk_bench.sh"

rc=0
"$VM_TOP/scripts/vm/run.sh" -i "$VMT_TMP/initrd" --timeout 380 --tap "$VMT_TMP/tap" \
	--blk-builtin "$disk,num-queues=2,disable-legacy=on" \
	--append "PVG_RUNTIME=${PVG_RUNTIME:-8}" >/dev/null || rc=$?

tap_merge "$VMT_TMP/tap" "guest: "
tap_check "guest ran to the end, kernel log clean (run.sh exit $rc)" [ "$rc" = 0 ]
for qd in 1 32; do
	pv=$(awk -v q="qd$qd" '$2 == "bench:" && $3 == "pvio" && $4 == q { s += $5; n++ }
		END { if (n) printf "%.0f", s / n }' "$VMT_TMP/tap")
	st=$(awk -v q="qd$qd" '$2 == "bench:" && $3 == "stock" && $4 == q { s += $5; n++ }
		END { if (n) printf "%.0f", s / n }' "$VMT_TMP/tap")
	if [ -n "$pv" ] && [ -n "$st" ] && [ "$st" != 0 ]; then
		ratio=$(awk -v a="$pv" -v b="$st" 'BEGIN { printf "%.3f", a / b }')
		echo "# bench: 4k randread QD$qd: pvio_blk $pv IOPS, virtio_blk $st IOPS, ratio $ratio"
		tap_ok "QD$qd ratio pvio_blk/virtio_blk = $ratio (TCG: only the ratio counts)"
	else
		tap_fail "QD$qd: no figures for both drivers"
	fi
done
tap_end
