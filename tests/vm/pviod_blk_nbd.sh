#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: a stock virtio_blk guest (QEMU vhost-user-blk-pci) on a pviod
# disk whose data lives on an NBD server: nbdkit's file plugin serving a
# 64 MiB file on a Unix socket, pviod with nbd=URI and 2 queues (one NBD
# connection each).  The guest runs the shared block checks
# (guest/blk.sh: blk_verify's random-pattern write/read-back at queue
# depths 1..32, FLUSH, WRITE_ZEROES, DISCARD, fio verify, a seeded stamp
# written last); after power-off the host finds the stamp in the file the
# NBD server wrote, and pviod exits 0 on SIGTERM without an error logged.
#
# timeout=240
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
vmt_init pviod_blk_nbd

if ! why=$(vm_backend_can pviod); then
	echo "1..0 # SKIP $why"
	exit 4
fi
if ! command -v nbdkit >/dev/null 2>&1; then
	[ "${CI:-}" != true ] || vm_die "nbdkit not installed (scripts/deps.sh installs it)"
	echo "1..0 # SKIP nbdkit not installed (scripts/deps.sh)"
	exit 4
fi
pviod=$(vm_pviod)
bv=$(vmt_prog blk_verify)
disk=$VMT_TMP/disk.img
size=$((64 << 20))
truncate -s "$size" "$disk"
seed=$(vmt_seed)
echo "# pviod $pviod, stamp seed $seed"

nbdkit -U "$VMT_TMP/nbd.sock" -P "$VMT_TMP/nbdkit.pid" file "$disk"
# It forks into the background and the child writes its pid file: wait for it.
for _ in $(seq 1 100); do
	[ -s "$VMT_TMP/nbdkit.pid" ] && [ -S "$VMT_TMP/nbd.sock" ] && break
	sleep 0.05
done
nbd_pid=$(cat "$VMT_TMP/nbdkit.pid")
# shellcheck disable=SC2317 # run by the EXIT trap
stop_nbdkit()
{
	kill "$nbd_pid" 2>/dev/null || true
	vmt_cleanup
}
trap stop_nbdkit EXIT

"$pviod" --device "blk,socket=$VMT_TMP/blk.sock,nbd=nbd+unix:///?socket=$VMT_TMP/nbd.sock,queues=2" \
	--workers 2 >"$VMT_TMP/pviod.log" 2>&1 &
pviod_pid=$!
vm_wait_socket "$VMT_TMP/blk.sock" 10 "$pviod_pid" || {
	sed 's/^/# pviod: /' "$VMT_TMP/pviod.log"
	vm_die "pviod did not create its socket"
}

fio_opt=()
fio_env=
if command -v fio >/dev/null 2>&1; then
	fio_opt=(--fio)
	fio_env=PVIO_FIO=1
fi
vmt_initramfs -o "$VMT_TMP/initrd" -m virtio_pci -m virtio_blk \
	"${fio_opt[@]}" -a "$bv" -t "$VMT_GUEST/blk.sh"

rc=0
"$VM_TOP/scripts/vm/run.sh" -i "$VMT_TMP/initrd" --timeout 180 --tap "$VMT_TMP/tap" \
	--vhost-user-blk "$VMT_TMP/blk.sock,num-queues=2" \
	--append "PVIO_BLK_DEV=/dev/vda PVIO_BLK_SIZE=$size PVIO_BLK_QUEUES=2 $fio_env" \
	--append "PVIO_STAMP_SEED=$seed" >/dev/null || rc=$?

tap_merge "$VMT_TMP/tap" "guest: "
[ -n "$fio_env" ] || tap_skip "guest: fio verify job" "fio not installed"
tap_check "guest ran to the end, kernel log clean (run.sh exit $rc)" [ "$rc" = 0 ]

kill -TERM "$pviod_pid"
prc=0
wait "$pviod_pid" || prc=$?
if [ "$prc" != 0 ] || [ "$rc" != 0 ]; then
	sed 's/^/# pviod: /' "$VMT_TMP/pviod.log" | tail -40
fi
tap_check "host: pviod exited 0 on SIGTERM (exit $prc)" [ "$prc" = 0 ]
tap_check "host: pviod logged no error" bash -c "! grep -q 'error:' '$VMT_TMP/pviod.log'"
tap_check "host: pviod used the NBD export, 2 connections" \
	grep -q "nbd=nbd+unix:///?socket=$VMT_TMP/nbd.sock: 131072 sectors" "$VMT_TMP/pviod.log"
tap_check "host: the guest's stamp (with its WRITE_ZEROES range) is in the NBD server's file" \
	"$bv" check "$disk" "$seed"
tap_end
