#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: pviod crash recovery with in-flight tracking
# (VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD, Documentation/reliability.rst).
#
# A guest with the stock virtio_blk runs crash_writer on a pviod
# disk (vhost-user-blk-pci, 2 queues, QEMU's chardev reconnecting:
# vm_chardev_reconnect): 4 processes writing 4 KiB blocks with O_DIRECT and
# reading each back.  The host kills pviod with SIGKILL at random moments
# CRASH_KILLS times (default 10), restarting it each time and waiting
# until the guest's progress (in its kernel log) moves again; then once
# at each step of QEMU's reconnect handshake (CRASH_HANDSHAKE, a list of
# vhost-user request numbers: a pviod started with --fault die-at-msg:R
# dies on receiving R, and the next one must let the guest's I/O go on);
# then CRASH_TERMS times (default 3) with SIGTERM (pviod must exit 0).
# The guest reports its progress in the control disk.  Then it writes STOP
# into a small control disk (QEMU's own virtio-blk); the guest re-reads
# every block it wrote and powers off; the host replays the guest's writes
# and checks that the image holds every write the guest saw complete.
#
# CRASH_PACKED=1 puts the disk on packed rings (packed=on; the guest checks
# that VIRTIO_F_RING_PACKED was negotiated, and the host that pviod tracked
# the rings' requests: pviod_crash_recovery_packed.sh).
#
# CRASH_BACKEND=nbd keeps the disk on an NBD server (nbdkit's file plugin
# on the same image, pviod with nbd=); CRASH_BACKEND=rbd in a throwaway
# Ceph cluster (tests/lib/ceph.sh; the image is checked through `rbd
# export`): pviod's in-flight recovery on its network engines
# (pviod_crash_recovery_nbd.sh, pviod_crash_recovery_rbd.sh).
#
# timeout=300
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
vmt_init pviod_crash_recovery

if ! why=$(vm_backend_can pviod); then
	echo "1..0 # SKIP $why"
	exit 4
fi
kills=${CRASH_KILLS:-10}
# vhost-user requests of QEMU's handshake to die at (protocol/vhost_user.h):
# GET_FEATURES, GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES, GET_QUEUE_NUM,
# SET_OWNER, GET_CONFIG, SET_FEATURES, GET_INFLIGHT_FD, SET_INFLIGHT_FD,
# SET_MEM_TABLE, SET_VRING_NUM, SET_VRING_BASE, SET_VRING_ADDR,
# SET_VRING_KICK, SET_VRING_CALL, SET_VRING_ENABLE, SET_STATUS.
# QEMU before 8.2 loses the reconnect after a crash mid-handshake: it
# connects to the next pviod and never sends a message (seen with 7.2 at
# GET_FEATURES and GET_PROTOCOL_FEATURES; Documentation/reliability.rst), so
# the steps run by default only on a QEMU that has the fix.
handshake_all="1 15 16 17 3 24 2 31 32 5 8 10 9 12 13 18 39"
qemu_ver=$(qemu-system-x86_64 --version | sed -n 's/.*version \([0-9]*\)\.\([0-9]*\).*/\1 \2/p;q')
read -r qmaj qmin <<<"${qemu_ver:-0 0}"
if [ "$qmaj" -gt 8 ] || { [ "$qmaj" = 8 ] && [ "$qmin" -ge 2 ]; }; then
	handshake=${CRASH_HANDSHAKE-$handshake_all}
else
	handshake=${CRASH_HANDSHAKE-}
fi
terms=${CRASH_TERMS:-3}
nproc=4
pviod=$(vm_pviod)
cw=$VM_TOP/$VMT_O/tests/vm/guest/crash_writer
make -C "$VM_TOP" --no-print-directory -s "O=$VMT_O" "$VMT_O/tests/vm/guest/crash_writer" >&2 ||
	vm_die "cannot build $cw"
sock=$VMT_TMP/blk.sock
disk=$VMT_TMP/disk.img
ctrl=$VMT_TMP/ctrl.img
console=$VMT_TMP/console.log
plog=$VMT_TMP/pviod.log
size=$((32 << 20))
truncate -s "$size" "$disk"
truncate -s $((1 << 20)) "$ctrl"
: >"$console"
seed=$(vmt_seed)
t0=$(date +%s)
echo "# pviod $pviod, seed $seed, $kills SIGKILLs, $terms SIGTERMs"

backend=${CRASH_BACKEND:-file}
packed=${CRASH_PACKED:-0}
vub_opts=num-queues=2
[ "$packed" != 1 ] || vub_opts+=,packed=on
# shellcheck disable=SC2317 # run by the EXIT trap
crash_cleanup()
{
	[ "$backend" != nbd ] || nbd_stop
	[ "$backend" != rbd ] || ceph_stop
	vmt_cleanup
}
trap crash_cleanup EXIT
case $backend in
file) target="file=$disk" ;;
nbd)
	# shellcheck source-path=SCRIPTDIR source=../lib/nbd.sh
	. "$VM_TOP/tests/lib/nbd.sh"
	nbd_start "$VMT_TMP/nbd.sock" file "$disk" || vm_die "nbdkit did not start"
	target="nbd=nbd+unix:///?socket=$VMT_TMP/nbd.sock"
	;;
rbd)
	# shellcheck source-path=SCRIPTDIR source=../lib/ceph.sh
	. "$VM_TOP/tests/lib/ceph.sh"
	ceph_start "$VMT_TMP/ceph" || vm_die "the Ceph cluster did not come up"
	ceph_rbd create --size 32M rbd/crash || vm_die "rbd create failed"
	target="rbd=rbd/crash,ceph-conf=$CEPH_CONF"
	;;
*) vm_die "CRASH_BACKEND=$backend: expected file, nbd or rbd" ;;
esac
echo "# back-end: $target"

pviod_pid=
pviod_start()
{
	rm -f "$sock"
	"$pviod" --device "blk,socket=$sock,$target,queues=2" --workers 2 \
		--log-level "${CRASH_LOG_LEVEL:-info}" "$@" </dev/null \
		>>"$plog" 2>&1 &
	pviod_pid=$!
	vm_wait_socket "$sock" 10 "$pviod_pid"
}

# The guest's last progress figure (writes completed, which it writes into
# the control disk's second sector every 250 ms), 0 before the first.
progress()
{
	vmt_cw_progress "$ctrl"
}

# Wait until the guest's progress passes $1 (I/O flows again): 0, or 1 after $2 s.
wait_progress()
{
	local from=$1 limit=$2 i p
	for ((i = 0; i < limit * 10; i++)); do
		p=$(progress)
		if [ -n "$p" ] && [ "$p" -gt "$from" ]; then
			return 0
		fi
		if ! kill -0 "$vm_pid" 2>/dev/null; then
			return 1
		fi
		sleep 0.1
	done
	return 1
}

# shellcheck disable=SC2317 # called from the EXIT trap below
cleanup_pviod()
{
	[ -z "$pviod_pid" ] || kill -KILL "$pviod_pid" 2>/dev/null || true
}
trap 'cleanup_pviod; crash_cleanup' EXIT

pviod_start || vm_die "pviod did not start"
vmt_initramfs -o "$VMT_TMP/initrd" -m virtio_pci -m virtio_blk \
	-a "$cw" -t "$VMT_GUEST/pviod_crash_recovery.sh"

rc=0
"$VM_TOP/scripts/vm/run.sh" -i "$VMT_TMP/initrd" --timeout 280 --tap "$VMT_TMP/tap" \
	--console "$console" \
	--vhost-user-blk "$sock,$vub_opts" --blk-builtin "$ctrl" \
	--append "CW_SEED=$seed CW_NPROC=$nproc CW_DATA_SECTORS=$((size / 512)) CW_PACKED=$packed" \
	--append "CW_CTRL_SECTORS=$(((1 << 20) / 512))" >"$VMT_TMP/run.out" &
vm_pid=$!

wait_progress 0 120 || echo "# the guest's writes did not start"

# SIGKILL at random moments; each restart must let the guest's I/O go on.
survived=0
for ((k = 1; k <= kills; k++)); do
	sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.2 + (r % 1500) / 1000 }')"
	before=$(progress)
	kill -KILL "$pviod_pid"
	wait "$pviod_pid" 2>/dev/null || true
	pviod_start || break
	if ! wait_progress "${before:-0}" 30; then
		echo "# kill $k: the guest's I/O did not resume within 30 s"
		break
	fi
	survived=$((survived + 1))
done
tap_check "$survived of $kills SIGKILLs survived: I/O resumed after each restart" \
	[ "$survived" = "$kills" ]

# A crash at each step of QEMU's reconnect handshake: a pviod that dies on
# receiving request R (--fault die-at-msg:R), then one that lives.  A step
# QEMU did not take (a request it does not send) is reported: the guest's
# I/O went on through the pviod that waited for R, so the handshake was
# over (QEMU sends all of it from one call under its main lock, and no
# completion reaches a TCG guest meanwhile).  Progress is taken as moved
# from 1 s after the start on, when every write that completed before the
# kill is in it (the guest reports every 250 ms); 20 s at most.
hsurvived=0
hn=0
unsent=
for req in $handshake; do
	hn=$((hn + 1))
	before=$(progress)
	kill -KILL "$pviod_pid"
	wait "$pviod_pid" 2>/dev/null || true
	pviod_start --fault "die-at-msg:$req" || break
	mark=
	for ((i = 0; i < 200; i++)); do
		kill -0 "$pviod_pid" 2>/dev/null || break
		if [ "$i" = 10 ]; then
			mark=$(progress)
		elif [ -n "$mark" ] && [ "$(progress)" -gt "$mark" ]; then
			break
		fi
		sleep 0.1
	done
	if kill -0 "$pviod_pid" 2>/dev/null; then
		unsent+=" $req"
		kill -KILL "$pviod_pid"
	fi
	wait "$pviod_pid" 2>/dev/null || true
	pviod_start || break
	if ! wait_progress "${before:-0}" 30; then
		echo "# killed at request $req of the handshake: the guest's I/O did not resume within 30 s"
		break
	fi
	hsurvived=$((hsurvived + 1))
done
if [ -n "$handshake" ]; then
	tap_check "$hsurvived of $hn crashes at a step of the handshake survived: I/O resumed" \
		[ "$hsurvived" = "$hn" ]
	echo "# handshake requests QEMU did not send to a new pviod:${unsent:- none}"
else
	tap_skip "crashes at each step of the handshake" \
		"QEMU $qmaj.$qmin loses that reconnect; CRASH_HANDSHAKE=\"$handshake_all\" runs them"
fi

tsurvived=0
for ((k = 1; k <= terms; k++)); do
	sleep 1
	before=$(progress)
	kill -TERM "$pviod_pid"
	st=0
	wait "$pviod_pid" || st=$?
	if [ "$st" != 0 ]; then
		echo "# SIGTERM $k: pviod exited $st"
		break
	fi
	pviod_start || break
	wait_progress "${before:-0}" 30 || break
	tsurvived=$((tsurvived + 1))
done
tap_check "$tsurvived of $terms SIGTERMs: pviod exited 0, I/O resumed after each restart" \
	[ "$tsurvived" = "$terms" ]
echo "# guest progress before STOP: $(progress) writes"

printf 'STOP' | dd of="$ctrl" conv=notrunc status=none
wait "$vm_pid" || rc=$?
tap_merge "$VMT_TMP/tap" "guest: "
tap_check "guest ran to the end, kernel log clean (run.sh exit $rc)" [ "$rc" = 0 ]

kill -TERM "$pviod_pid"
prc=0
wait "$pviod_pid" || prc=$?
pviod_pid=
tap_check "host: pviod exited 0 on SIGTERM (exit $prc)" [ "$prc" = 0 ]
resub=$(grep -c 'resubmitting' "$plog" || true)
echo "# pviod resubmitted in-flight requests after $resub of the restarts"
if [ "$packed" = 1 ]; then
	untracked=$(grep -c -e 'not tracked' -e 'does not add up' -e 'no longer tracked' "$plog" || true)
	tap_check "host: pviod tracked the packed rings' requests in flight ($untracked regions untracked or reset)" \
		[ "$untracked" = 0 ]
fi

if [ "$backend" = rbd ]; then
	rm -f "$disk"
	ceph_rbd export rbd/crash "$disk" >/dev/null 2>&1 || vm_die "rbd export failed"
fi
counts=$(sed -n 's/^# counts: //p' "$VMT_TMP/tap" | tail -n 1)
# shellcheck disable=SC2086 # one argument per writer
tap_check "host: the image holds every write the guest saw complete" \
	"$cw" check "$disk" "$seed" "$nproc" $counts
if [ "$rc" != 0 ] || [ "$prc" != 0 ]; then
	sed 's/^/# pviod: /' "$plog" | tail -40
	sed 's/^/# run: /' "$VMT_TMP/run.out" | tail -20
fi
echo "# $((survived + tsurvived)) restarts survived in $(($(date +%s) - t0)) s"
tap_end
