#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: a stock virtio_blk guest (QEMU vhost-user-blk-pci) on a pviod
# disk whose data lives in Ceph: a throwaway one-mon one-OSD cluster
# (tests/lib/ceph.sh; run under flock /tmp/pvio-global.lock), a 64 MiB RBD
# image, pviod with rbd=POOL/IMAGE and 2 queues.  The guest runs the shared
# block checks (guest/blk.sh: blk_verify at queue depths 1..32, FLUSH,
# WRITE_ZEROES, DISCARD, fio verify, a seeded stamp written last); after
# power-off the host exports the image with `rbd export` and finds the
# stamp in it, and pviod exits 0 on SIGTERM without an error logged.
#
# timeout=300
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/ceph.sh
. "$VM_TOP/tests/lib/ceph.sh"
vmt_init pviod_blk_rbd

if ! why=$(vm_backend_can pviod); then
	echo "1..0 # SKIP $why"
	exit 4
fi
if ! why=$(ceph_can); then
	[ "${CI:-}" != true ] || vm_die "$why"
	echo "1..0 # SKIP $why"
	exit 4
fi
pviod=$(vm_pviod)
bv=$(vmt_prog blk_verify)
size=$((64 << 20))
seed=$(vmt_seed)
echo "# pviod $pviod, stamp seed $seed"

# shellcheck disable=SC2317 # run by the EXIT trap
stop_all()
{
	ceph_stop
	vmt_cleanup
}
trap stop_all EXIT
ceph_start "$VMT_TMP/ceph" || {
	tail -n 20 "$VMT_TMP"/ceph/log/*.out | sed 's/^/# /'
	vm_die "the Ceph cluster did not come up"
}
ceph_rbd create --size 64M rbd/vm

"$pviod" --device "blk,socket=$VMT_TMP/blk.sock,rbd=rbd/vm,ceph-conf=$CEPH_CONF,queues=2" \
	--workers 2 >"$VMT_TMP/pviod.log" 2>&1 &
pviod_pid=$!
vm_wait_socket "$VMT_TMP/blk.sock" 20 "$pviod_pid" || {
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
"$VM_TOP/scripts/vm/run.sh" -i "$VMT_TMP/initrd" --timeout 200 --tap "$VMT_TMP/tap" \
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
tap_check "host: rbd export rbd/vm" ceph_rbd export rbd/vm "$VMT_TMP/export.img"
tap_check "host: the guest's stamp (with its WRITE_ZEROES range) is in the exported image" \
	"$bv" check "$VMT_TMP/export.img" "$seed"
tap_end
