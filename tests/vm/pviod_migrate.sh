#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: live migration of a guest whose disk pviod serves
# (Documentation/migration.rst).
#
# One pviod serves one image through two sockets (two devices of one
# process on one image: its image lock allows that).  A guest with the
# stock virtio_blk runs crash_writer on that disk (vhost-user-blk-pci, 2
# queues): writers that write 4 KiB blocks with O_DIRECT, read each back at
# once and re-read older ones.  The host live-migrates the guest between two
# QEMU processes on this machine, MIGRATIONS times (default 4) back and
# forth: each time a new QEMU starts with -incoming on the other socket, the
# running one migrates to it over QMP (migrate, then query-migrate until it
# completes) and quits.  The guest's I/O must go on after each migration
# (its progress, in a control disk, moves).  Then the host writes STOP into
# the control disk; the guest re-reads every block it wrote and powers off;
# the host replays the guest's writes and checks that the image holds every
# write the guest saw complete.  Each migration's total time and downtime,
# as QEMU reports them, are TAP diagnostics.
#
# Both QEMUs use the same serial log files (append=on), so the guest's TAP
# stream and kernel log read as one.
#
#   DRIVER      stock (the guest's virtio_blk, the default) or pvio
#               (pvio_blk for both disks); tests/vm/pvio_blk_migrate.sh runs
#               the latter
#   MIG_SHARED  nbd: two pviods on shared storage instead, one per socket,
#               both on an NBD export of the image (nbdkit's file plugin);
#               tests/vm/pviod_migrate_shared.sh runs it
#
# timeout=300
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
vmt_driver pviod_migrate.sh
shared=${MIG_SHARED:-}
case $shared in
'' | nbd) ;;
*) echo "pviod_migrate.sh: MIG_SHARED is nbd or empty, not '$shared'" >&2; exit 2 ;;
esac
vmt_init "pviod_migrate_$VMT_DRIVER${shared:+_$shared}"
# shellcheck source-path=SCRIPTDIR source=migrate_lib.sh
. "$VMT_DIR/migrate_lib.sh"

if ! why=$(vm_backend_can pviod); then
	echo "1..0 # SKIP $why"
	exit 4
fi
vmt_driver_modules
migrations=${MIGRATIONS:-4}
nproc=2
mem=256
pviod=$(vm_pviod)
cw=$(vmt_prog crash_writer)
disk=$VMT_TMP/disk.img
ctrl=$VMT_TMP/ctrl.img
console=$VMT_TMP/console.log
tap=$VMT_TMP/tap.log
size=$((32 << 20))
truncate -s "$size" "$disk"
truncate -s $((1 << 20)) "$ctrl"
: >"$console"
: >"$tap"
seed=$(vmt_seed)
t0=$(date +%s)
echo "# pviod $pviod, seed $seed, $migrations migrations, guest driver $VMT_DRIVER${shared:+, two pviods on $shared}"

# pviods[S]: the pviod serving socket S; plogs: their logs.
declare -A pviods=()
plogs=()
# shellcheck disable=SC2317 # run by the EXIT trap
migrate_cleanup()
{
	local s
	mig_stop_all
	for s in "${!pviods[@]}"; do
		vm_stop_pid "${pviods[$s]}" 5
	done
	[ -z "$shared" ] || nbd_stop
	vmt_cleanup
}
trap migrate_cleanup EXIT
if [ -z "$shared" ]; then
	plogs=("$VMT_TMP/pviod.log")
	"$pviod" --device "blk,socket=$VMT_TMP/a.sock,file=$disk,queues=2,id=a" \
		--device "blk,socket=$VMT_TMP/b.sock,file=$disk,queues=2,id=b" \
		--workers 2 </dev/null >"${plogs[0]}" 2>&1 &
	pviods[a]=$!
	pviods[b]=${pviods[a]}
else
	# shellcheck source=../lib/nbd.sh
	. "$VM_TOP/tests/lib/nbd.sh"
	nbd_start "$VMT_TMP/nbd.sock" file "$disk" || vm_die "nbdkit did not start"
	for s in a b; do
		plogs+=("$VMT_TMP/pviod-$s.log")
		"$pviod" --device "blk,socket=$VMT_TMP/$s.sock,nbd=nbd+unix:///?socket=$VMT_TMP/nbd.sock,queues=2,id=$s" \
			--workers 2 </dev/null >"$VMT_TMP/pviod-$s.log" 2>&1 &
		pviods[$s]=$!
	done
fi
for s in a b; do
	vm_wait_socket "$VMT_TMP/$s.sock" 10 "${pviods[$s]}" || {
		cat "${plogs[@]}" | sed 's/^/# pviod: /'
		vm_die "pviod did not create its sockets"
	}
done

vmt_initramfs -o "$VMT_TMP/initrd" "${VMT_DRIVER_MODS[@]}" \
	-a "$cw" -t "$VMT_GUEST/pviod_crash_recovery.sh"
cw_args="CW_SEED=$seed CW_NPROC=$nproc CW_DATA_SECTORS=$((size / 512))"
cw_args+=" CW_CTRL_SECTORS=$(((1 << 20) / 512))"
mig_machine "$mem" "$console" "$tap" "$cw_args" \
	-device vhost-user-blk-pci,chardev=vu,id=vublk0,num-queues=2 \
	-drive "file=$ctrl,if=none,id=drive-ctrl,format=raw,cache=writeback,file.locking=off" \
	-device virtio-blk-pci,drive=drive-ctrl,id=ctrl

# The guest's last progress figure (crash_writer's writes completed).
progress()
{
	vmt_cw_progress "$ctrl"
}

# wait_progress FROM LIMIT_S: until the progress passes FROM; 1 on timeout.
wait_progress()
{
	local from=$1 limit=$2 i
	for ((i = 0; i < limit * 10; i++)); do
		[ "$(progress)" -le "$from" ] || return 0
		sleep 0.1
	done
	return 1
}

mig_qemu_start a
if ! wait_progress 0 150; then
	sed 's/^/# console: /' "$console" | tail -20
	vm_die "the guest's writes did not start"
fi

# went_on M: the guest's I/O went on after migration M (its progress
# passed the figure read once the destination runs: only the destination
# writes the control disk now, the source quit).
# shellcheck disable=SC2317 # called by mig_loop
went_on()
{
	local before
	before=$(progress)
	wait_progress "$before" 30 && return 0
	echo "# migration $1: the guest's I/O did not go on within 30 s"
	return 1
}
mig_loop "$migrations" "the guest's I/O" went_on
echo "# guest progress before STOP: $(progress) writes"

printf 'STOP' | dd of="$ctrl" conv=notrunc status=none
rc=0
mig_guest_end "$mig_cur" 120 || rc=$?

prc=0
for pid in $(printf '%s\n' "${pviods[@]}" | sort -u); do
	kill -TERM "$pid"
	r=0
	wait "$pid" || r=$?
	[ "$r" = 0 ] || prc=$r
done
pviods=()
[ -z "$shared" ] || nbd_stop
tap_check "host: pviod exited 0 on SIGTERM (exit $prc)" [ "$prc" = 0 ]
tap_check "host: pviod logged no error" bash -c '! grep -q "error:" "$@"' - "${plogs[@]}"
counts=$(sed -n 's/^# counts: //p' "$VMT_TMP/tap.guest" | tail -n 1)
# shellcheck disable=SC2086 # one argument per writer
tap_check "host: the image holds every write the guest saw complete" \
	"$cw" check "$disk" "$seed" "$nproc" $counts
if [ "$rc" != 0 ] || [ "$prc" != 0 ] || [ "$mig_done" != "$migrations" ]; then
	cat "${plogs[@]}" | sed 's/^/# pviod: /' | tail -40
	tail -n 20 "$console" | tr -d '\r' | sed 's/^/# console: /'
fi
echo "# $mig_done migrations in $(($(date +%s) - t0)) s"
tap_end
