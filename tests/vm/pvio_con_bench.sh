#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Benchmark (make bench): bytes per second through a virtserialport of one
# QEMU virtio-serial-pci device, guest -> host and host -> guest, with
# pvio_con and with the stock virtio_pci + virtio_console, in the same guest
# boot (guest/pvio_con_bench.sh; drivers alternate, PVC_ROUNDS rounds).  The
# host end (pvio_con_bench_peer.py) reads/writes the chardev socket and does
# the timing.  Prints MiB/s per driver and direction (mean over rounds) and
# the pvio_con/virtio_console ratio; under TCG only the ratio means anything.
#
#   PVC_BYTES=N    bytes per transfer (default 64 MiB, a multiple of 64 KiB)
#   PVC_ROUNDS=N   rounds (default 2)
#
# timeout=600
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
vmt_init pvio_con_bench
pvg_modules
[ -f "$PVG_CON_KO" ] || vm_die "pvio_con.ko not built"
bytes=${PVC_BYTES:-$((64 << 20))}
rounds=${PVC_ROUNDS:-2}
port=$VMT_TMP/port.sock
console=$VMT_TMP/console.log
res=$VMT_TMP/results

vmt_initramfs -o "$VMT_TMP/initrd" \
	--ko-noload "$PVG_CORE_KO" --ko-noload "$PVG_CON_KO" -M virtio_pci -M virtio_console \
	-t "$VMT_GUEST/pvio_con_bench.sh"

: >"$console"
: >"$res"
"$VMT_DIR/pvio_con_bench_peer.py" "$console" "$port" "$res" &
peer=$!

rc=0
"$VM_TOP/scripts/vm/run.sh" -i "$VMT_TMP/initrd" --timeout 580 --tap "$VMT_TMP/tap" \
	--console "$console" --virtio-serial "$port,name=org.pvio.bench" \
	--append "PVC_BYTES=$bytes PVC_ROUNDS=$rounds" >/dev/null || rc=$?
kill "$peer" 2>/dev/null || true
wait "$peer" 2>/dev/null || true

tap_merge "$VMT_TMP/tap" "guest: "
tap_check "guest ran to the end, kernel log clean (run.sh exit $rc)" [ "$rc" = 0 ]
sed 's/^/# raw: /' "$res"
for dir in g2h h2g; do
	# mean MiB/s over the rounds: total bytes / total seconds
	rate()
	{
		awk -v d="$dir" -v drv="$1" -v want="$bytes" '$1 == d && $3 == drv && $4 == want {
			b += $4; s += $5; n++ } END { if (n && s > 0) printf "%.2f", b / s / 1048576 }' "$res"
	}
	pv=$(rate pvio_con)
	st=$(rate virtio_console)
	label=$([ "$dir" = g2h ] && echo "guest -> host" || echo "host -> guest")
	if [ -n "$pv" ] && [ -n "$st" ]; then
		ratio=$(awk -v a="$pv" -v b="$st" 'BEGIN { printf "%.3f", a / b }')
		echo "# bench: console $label $bytes bytes x $rounds: pvio_con $pv MiB/s, virtio_console $st MiB/s, ratio $ratio"
		tap_ok "$label ratio pvio_con/virtio_console = $ratio (TCG: only the ratio counts)"
	else
		tap_fail "$label: no complete figures for both drivers"
	fi
done
tap_end
