# SPDX-License-Identifier: GPL-2.0
#
# tests/vm: every test that boots a guest under QEMU (scripts/vm/), whatever
# driver or back-end it tests; the name says which:
#
#   stock_*     the guest's stock virtio drivers on QEMU's own devices or on
#               qemu-storage-daemon: the harness and the guest programs proved
#               against the reference
#   pviod_*     pviod's devices (blk, net; crash recovery) with the guest's
#               stock drivers
#   pvio_blk_*  pvio_blk.ko (with pvio_core.ko), pvio_net_* pvio_net.ko,
#   pvio_con_*  pvio_con.ko: the guest modules, on QEMU's devices or on a
#               vhost-user back-end (qemu-storage-daemon, pviod)
#
# Beside them: lib.sh (the VM test library, on scripts/vm/), migrate_lib.sh
# (the live-migration tests' QEMU pair), the shell
# libraries and host-side peers of some tests (pvio_net_lib.sh, *_peer.py),
# vhost_user_blk.sh (the body of the vhost-user-blk tests, run by their
# wrappers).  tests/vm/guest/ holds what runs inside the guest: static C
# programs and in-guest shell scripts (/test in the initramfs), with their
# TAP helpers (guest/tap.sh, packed by lib.sh's vmt_initramfs).
#
# The tests of the guest modules build them when they are stale (make
# modules) and SKIP (exit 4) when no guest can boot, no kernel headers are
# installed or a back-end is missing.
#
# The guest programs (tests/vm/guest/*.c, built into $(O)/tests/vm/guest/ by
# tests/tests.mk's rule) are linked static (the guest is a busybox
# initramfs, no libc) and without sanitizers; the scripts build the
# initramfs and boot the guest themselves.

VM_TEST_DIR := $(O)/tests/vm

# blk_verify: the block checks of every blk test (guest/blk.sh), and the
# host's check of the stamp in the image; con_port_test: a virtio-console
# port from the guest's side (pvio_con_port.sh); crash_writer: the guest's
# workload in pviod_crash_recovery.sh and pviod_migrate.sh, and the host's
# check of the image.
VM_GUEST_PROGS := $(VM_TEST_DIR)/guest/blk_verify $(VM_TEST_DIR)/guest/con_port_test \
	$(VM_TEST_DIR)/guest/crash_writer

PROGS += $(VM_GUEST_PROGS)

# The stock drivers.
VM_TESTS += tests/vm/stock_virtio_blk.sh tests/vm/stock_vhost_user_blk_qsd.sh

# pviod with the stock drivers: three blk disks in one process; crash
# recovery (in-flight tracking, SIGKILL and restart under I/O); net on the tap
# back-end in a netns; two guests on one switch.
VM_TESTS += tests/vm/pviod_blk.sh tests/vm/pviod_crash_recovery.sh tests/vm/pviod_net_tap.sh \
	tests/vm/pviod_net_switch.sh tests/vm/pviod_net_reconnect.sh

# libvirt, for real: libvirtd started by the test, a TCG domain with
# Documentation/libvirt/'s vhostuser disk and interface on pviod started
# with the shipped configuration's socket-group and socket-mode.
VM_TESTS += tests/vm/libvirt_pviod.sh

# pviod's storage engines under a stock guest: a disk on an NBD server, and
# one in a throwaway Ceph cluster (tests/lib/ceph.sh).
VM_TESTS += tests/vm/pviod_blk_nbd.sh tests/vm/pviod_blk_rbd.sh
# Crash recovery (pviod SIGKILLed under the guest's writes) on those engines.
VM_TESTS += tests/vm/pviod_crash_recovery_nbd.sh tests/vm/pviod_crash_recovery_rbd.sh

# Live migration (migrate_lib.sh: the QEMU pair and QMP steps): a guest's
# pviod disk under verified writes, migrated four times between two QEMUs on
# one pviod (two sockets, one image); a guest's pviod NIC (two taps on a
# bridge) receiving a TCP stream (md5) across four migrations; both again
# with pvio_blk and pvio_net as the guest's drivers; the disk between two
# pviods, one per QEMU, on one NBD export (shared storage).
VM_TESTS += tests/vm/pviod_migrate.sh tests/vm/pviod_migrate_net.sh \
	tests/vm/pvio_blk_migrate.sh tests/vm/pvio_net_migrate.sh \
	tests/vm/pviod_migrate_shared.sh
# A disk grown under a running guest (pvioctl refresh; the back-end channel's
# CONFIG_CHANGE_MSG): the stock virtio_blk and pvio_blk see the new size.
VM_TESTS += tests/vm/pviod_blk_resize.sh tests/vm/pvio_blk_resize.sh

# A pviod NIC's link taken down and up through QMP set_link (QEMU stops and
# restarts pviod's rings): the stock virtio_net and pvio_net see the carrier
# follow and traffic resume, verified.
VM_TESTS += tests/vm/pviod_net_link.sh

# The stock virtio_blk and virtio_net on packed rings (packed=on) served by pviod;
# crash recovery on packed rings (the packed in-flight region).
VM_TESTS += tests/vm/pviod_blk_packed.sh tests/vm/pviod_net_tap_packed.sh \
	tests/vm/pviod_crash_recovery_packed.sh

# pvio_blk against a device that lies (pviod --fault, a test-only mode).
VM_TESTS += tests/vm/pvio_blk_fault.sh

# pvio_con.ko on QEMU's own virtio-serial-pci: hvc0 console and shell, a
# named port with MiBs each way (md5), hot-add/remove (pvio_con.sh);
# con_port_test on pvio_con and on the stock virtio_console (pvio_con_port.sh);
# pvio_con.sh over packed rings (pvio_con_packed.sh).
VM_TESTS += tests/vm/pvio_con.sh tests/vm/pvio_con_port.sh tests/vm/pvio_con_packed.sh

# Suspend to RAM and back (QMP system_wakeup) under I/O on pvio_blk, pvio_net
# and pvio_con at once, on QEMU's own devices; pvio_con's emergency write.
VM_TESTS += tests/vm/pvio_suspend.sh

# pvio_blk.ko on QEMU's own virtio-blk-pci (also with INTx only, and with
# packed rings), on vhost-user-blk served by qemu-storage-daemon and by pviod
# (also with packed rings),
# and the life of a disk (resize, unload, unbind, hot-unplug).
VM_TESTS += tests/vm/pvio_blk_builtin.sh tests/vm/pvio_blk_vhost_user.sh \
	tests/vm/pvio_blk_pviod.sh tests/vm/pvio_blk_lifecycle.sh \
	tests/vm/pvio_blk_intx.sh tests/vm/pvio_blk_packed.sh tests/vm/pvio_blk_pviod_packed.sh

# VIRTIO_F_IN_ORDER on pviod's disks (in-order=on; vhost_user_blk.sh's
# IN_ORDER=on, on QEMU 10: 7.2 has no in_order property): pvio_blk on packed
# rings must negotiate it (bits 34 and 35), the stock virtio_blk must not
# (6.1's virtio_ring drops the bit) and passes the same checks.  Not in the
# list, to keep make check's VM phase short: pvio_blk_pviod_inorder.sh
# (split rings; their in-order driver code is pvring_drv's, which
# vuser_blk_reconnect_test's split in-order variant runs against pviod) and
# PACKED=on pviod_blk_inorder.sh, both run by hand.
VM_TESTS += tests/vm/pvio_blk_pviod_packed_inorder.sh tests/vm/pviod_blk_inorder.sh

# pvio_net.ko.  QEMU runs in a network namespace the test creates, with a
# TAP device in it (10.98.0.1/24); the guest side is guest/pvio_net.sh, the
# host peer pvio_net_peer.py.  They SKIP (exit 4) without root.
#   On QEMU virtio-net-pci (2 queue pairs): with mergeable receive buffers,
#   and without (big buffers, PVG_MRG=off), and with packed rings.
VM_TESTS += tests/vm/pvio_net_tap.sh tests/vm/pvio_net_tap_nomrg.sh tests/vm/pvio_net_tap_packed.sh
#   Loaded with no module parameter beside a virtio-rng left to the stock
#   virtio_pci; pvio_core's types rewritten at run time (pvio_net_auto.sh).
VM_TESTS += tests/vm/pvio_net_auto.sh
#   Through -netdev vhost-user on pviod's tap back-end.  On QEMU 7.2 the
#   harness gives vhost-user net INTx (vectors=0): 7.2 segfaults when a guest
#   enables MSI-X on it under TCG, whatever the back-end or guest driver;
#   QEMU 10 runs it with MSI-X.
VM_TESTS += tests/vm/pvio_net_pviod.sh

# The matrix's second column (scripts/deps.sh's /opt/pvio): a smoke of the
# modules and pviod on QEMU 10.0 with the 6.12 guest kernel; everything
# above runs on Debian 12's QEMU 7.2 and 6.1 (Documentation/frontend.rst).
VM_TESTS += tests/vm/matrix_smoke.sh

# The guest benchmarks (make bench): each module against the stock driver on
# the same device, same guest boot; under TCG only the ratio counts.
BENCHES += tests/vm/pvio_con_bench.sh tests/vm/pvio_blk_bench.sh tests/vm/pvio_net_bench.sh
# Issue 19's in-guest row: the stock virtio_blk on pviod's default polling
# against --poll off, kicks per request from pviod's counters.
BENCHES += tests/vm/pviod_poll_bench.sh

.PHONY: vm-progs
vm-progs: $(VM_GUEST_PROGS)
