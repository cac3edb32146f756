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
# shellcheck source-path=SCRIPTDIR source=../lib/nbd.sh
. "$VM_TOP/tests/lib/nbd.sh"
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
bv=$(vmt_prog blk_verify)
disk=$VMT_TMP/disk.img
size=$((64 << 20))
truncate -s "$size" "$disk"
seed=$(vmt_seed)
echo "# pviod $(vm_pviod), stamp seed $seed"

nbd_start "$VMT_TMP/nbd.sock" file "$disk" || vm_die "nbdkit did not start"
# shellcheck disable=SC2317 # run by the EXIT trap
stop_nbdkit()
{
	nbd_stop
	vmt_cleanup
}
trap stop_nbdkit EXIT

vmt_blk_engine_guest "nbd=nbd+unix:///?socket=$VMT_TMP/nbd.sock" "$size" "$seed" 10 180
tap_check "host: pviod used the NBD export, 2 connections" \
	grep -q "nbd=nbd+unix:///?socket=$VMT_TMP/nbd.sock: 131072 sectors" "$VMT_TMP/pviod.log"
tap_check "host: the guest's stamp (with its WRITE_ZEROES range) is in the NBD server's file" \
	"$bv" check "$disk" "$seed"
tap_end
