#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Benchmark (make bench), issue 19's in-guest row: the stock virtio_blk on
# two vhost-user-blk-pci disks in one guest boot, each served by a pviod of
# its own on an image in /dev/shm, one started with pviod's default polling
# (adaptive) and one with --poll off.  In the guest (guest/pviod_poll_bench.sh)
# fio 4 KiB randread at QD1 and QD32 on each disk, in interleaved rounds; on
# the host each pviod's counters (pvioctl stats) around every fio run.
# Prints the medians: IOPS with the default over --poll off, and kicks,
# calls and poll hits (polls of the ring that found requests: pvioctl's
# POLLS) per request on each, with the load average at start and end.  Under TCG the absolute IOPS mean little: the ratio and the
# kicks per request are the point.
#
#   PVG_ROUNDS=N      rounds, the first disk alternating (default 5)
#   PVG_RUNTIME=SEC   seconds per fio run (default 5)
#
# Takes no lock: run it under flock /tmp/pvio-global.lock with nothing else
# running, or the figures measure the other work too.
#
# timeout=900
set -euo pipefail

# The images and the guest's log live in memory.
export TMPDIR=${PVG_TMPDIR:-/dev/shm}
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
vmt_init pviod_poll_bench
rounds=${PVG_ROUNDS:-5}
runtime=${PVG_RUNTIME:-5}
pvioctl=$VM_TOP/$VMT_O/pvioctl
command -v fio >/dev/null || {
	echo "1..0 # SKIP fio not installed"
	exit 4
}
why=$(vm_backend_can pviod) || {
	echo "1..0 # SKIP $why"
	exit 4
}
[ -x "$pvioctl" ] || vm_die "$pvioctl not built (make)"

# The guest tells its two disks apart by their sizes (MiB).
setups=(default poll-off)
declare -A mib=([default]=128 [poll-off]=160) poll=([default]="" [poll-off]=poll=off)
disks=
blk=()
for s in "${setups[@]}"; do
	head -c $((mib[$s] << 20)) /dev/urandom >"$VMT_TMP/$s.img"
	# shellcheck disable=SC2086 # poll= is one word or none
	vm_backend_blk_start pviod "$VMT_TMP/$s.sock" "$VMT_TMP/$s.img" queues=1 \
		rpc="$VMT_TMP/$s.rpc" ${poll[$s]} || vm_die "pviod for $s did not start"
	disks+=",$s:$((mib[$s] << 11))"
	blk+=(--vhost-user-blk "$VMT_TMP/$s.sock,num-queues=1")
done
vmt_initramfs -o "$VMT_TMP/initrd" --fio -m virtio_pci -m virtio_blk \
	-t "$VMT_GUEST/pviod_poll_bench.sh"

# stats SETUP: requests, kicks, calls and poll hits of that pviod's queues
stats()
{
	"$pvioctl" -s "$VMT_TMP/$1.rpc" stats |
		awk 'NR > 1 { r += $3; k += $6; c += $7; p += $8 } END { print r + 0, k + 0, c + 0, p + 0 }'
}

# Each mark the guest logs: the mark, then both pviods' counters.
load0=$(cut -d' ' -f1-3 /proc/loadavg)
: >"$VMT_TMP/console"
rc=0
"$VM_TOP/scripts/vm/run.sh" -i "$VMT_TMP/initrd" --console "$VMT_TMP/console" \
	--timeout $((120 + rounds * 4 * (runtime + 15))) --tap "$VMT_TMP/tap" "${blk[@]}" \
	--append "PVG_DISKS=${disks#,} PVG_ROUNDS=$rounds PVG_RUNTIME=$runtime" >/dev/null &
run=$!
while IFS= read -r line; do
	line=${line%$'\r'}
	[[ $line == *"pvio-test: mark "* ]] || continue
	echo "${line##*pvio-test: mark } $(stats default) $(stats poll-off)" >>"$VMT_TMP/marks"
done < <(tail -s 0.1 -n +1 -F --pid="$run" "$VMT_TMP/console" 2>/dev/null)
wait "$run" || rc=$?
load1=$(cut -d' ' -f1-3 /proc/loadavg)

tap_merge "$VMT_TMP/tap" "guest: "
tap_check "guest ran to the end, kernel log clean (run.sh exit $rc)" [ "$rc" = 0 ]
# Each pviod's worker at the end (SIGUSR1): its window, sleeps, poll hits and misses.
for i in "${!setups[@]}"; do
	kill -USR1 "${VM_BACKEND_PIDS[$i]}" 2>/dev/null || true
done
sleep 0.5
for s in "${setups[@]}"; do
	grep -h "poll misses" "$VMT_TMP/$s.sock.log" 2>/dev/null | tail -n 1 | sed "s/^/# bench: $s: /"
done
tap_check "host: both pviods exited 0 on SIGTERM" vm_backend_stop_all

# One line per fio run: SETUP QD ROUND IOPS kicks/req calls/req hits/req,
# from the counters' change between the run's two marks.
touch "$VMT_TMP/marks"
awk 'FNR == NR {
		key = $2 " " $3 " " $4
		o = $2 == "default" ? 5 : 9
		for (i = 0; i < 4; i++)
			if ($1 == "before")
				b[key, i] = $(o + i)
			else
				d[key, i] = $(o + i) - b[key, i]
		next
	}
	$2 == "bench:" {
		key = $3 " " substr($4, 3) " " $5
		if (d[key, 0] > 0)
			print key, $6, d[key, 1] / d[key, 0], d[key, 2] / d[key, 0], d[key, 3] / d[key, 0]
	}' "$VMT_TMP/marks" "$VMT_TMP/tap" >"$VMT_TMP/runs"

# med SETUP QD FIELD: the median of FIELD over that setup's runs at QD
med()
{
	awk -v s="$1" -v q="$2" -v f="$3" '$1 == s && $2 == q { print $f }' "$VMT_TMP/runs" |
		sort -g | awk '{ a[NR] = $1 } END {
			if (NR) printf "%.6g", NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

echo "# bench: stock virtio_blk in the guest (TCG, same boot) on pviod, 4 KiB randread, /dev/shm,"
echo "# bench: medians of $rounds interleaved rounds; default = pviod's adaptive polling"
printf '# bench: %-4s %12s %12s %7s %12s %12s %12s %12s %12s\n' QD "IOPS default" "IOPS off" \
	ratio "kicks/req" "kicks/req" "calls/req" "calls/req" "hits/req"
printf '# bench: %-4s %12s %12s %7s %12s %12s %12s %12s %12s\n' "" "" "" "" default off \
	default off default
for qd in 1 32; do
	n=$(awk -v q="$qd" '$2 == q { n[$1]++ } END { print n["default"] + 0, n["poll-off"] + 0 }' \
		"$VMT_TMP/runs")
	if [ "$n" != "$rounds $rounds" ]; then
		tap_fail "QD$qd: runs with counters (default, off): $n of $rounds each"
		continue
	fi
	def=$(med default "$qd" 4)
	off=$(med poll-off "$qd" 4)
	ratio=$(awk -v a="$def" -v b="$off" 'BEGIN { printf "%.2f", b ? a / b : 0 }')
	printf '# bench: %-4s %12.0f %12.0f %7s %12.3f %12.3f %12.3f %12.3f %12.3f\n' "$qd" \
		"$def" "$off" "$ratio" "$(med default "$qd" 5)" "$(med poll-off "$qd" 5)" \
		"$(med default "$qd" 6)" "$(med poll-off "$qd" 6)" "$(med default "$qd" 7)"
	tap_ok "QD$qd: IOPS default / --poll off = $ratio (TCG: only the ratio counts)"
done
echo "# bench: load average at start $load0, at end $load1"
tap_end
