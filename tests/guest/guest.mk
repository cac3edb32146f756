# SPDX-License-Identifier: GPL-2.0
#
# tests/guest: VM tests of the pvio guest kernel modules (pvio_core.ko,
# pvio_blk.ko), on the VM harness of scripts/vm/ and tests/vm/.  Each script
# builds the modules when they are stale (make modules) and SKIPs (exit 4)
# when no guest can boot, no kernel headers are installed or a back-end is
# missing.

VM_TESTS += tests/guest/pvio_blk_builtin.sh tests/guest/pvio_blk_vhost_user.sh \
	tests/guest/pvio_blk_pviod.sh tests/guest/pvio_blk_lifecycle.sh \
	tests/guest/pvio_blk_intx.sh

# Same guest boot: fio 4k randread QD1/QD32, pvio_blk against stock virtio_blk.
BENCHES += tests/guest/pvio_blk_bench.sh
