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
bv=$(vmt_prog blk_verify)
size=$((64 << 20))
seed=$(vmt_seed)
echo "# pviod $(vm_pviod), stamp seed $seed"

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

vmt_blk_engine_guest "rbd=rbd/vm,ceph-conf=$CEPH_CONF" "$size" "$seed" 20 200
tap_check "host: rbd export rbd/vm" ceph_rbd export rbd/vm "$VMT_TMP/export.img"
tap_check "host: the guest's stamp (with its WRITE_ZEROES range) is in the exported image" \
	"$bv" check "$VMT_TMP/export.img" "$seed"
tap_end
