# SPDX-License-Identifier: GPL-2.0
#
# pvio_con.ko on QEMU's own virtio-serial-pci: hvc0 console and shell,
# a named port with MiBs each way (md5), hot-add/remove (tests/guest/pvio_con.sh);
# con_port_test (a static kselftest guest program) on pvio_con and on the
# stock virtio_console (tests/guest/con_port.sh); the pvio_con vs stock
# virtio_console throughput bench, same boot (tests/guest/pvio_con_bench.sh).

CON_GUEST_PROGS := $(O)/tests/guest/con_port_test

VM_TESTS += tests/guest/pvio_con.sh tests/guest/con_port.sh
BENCHES += tests/guest/pvio_con_bench.sh
PROGS += $(CON_GUEST_PROGS)

# Static and without sanitizers, like tests/vm/vm.mk's guest programs (its
# VM_GUEST_CFLAGS/LDFLAGS; that fragment sorts after this one, so the harness
# path is spelled out for the prerequisite).
$(O)/tests/guest/%_test: tests/guest/%_test.c build/linux-tools/tools/testing/selftests/kselftest_harness.h
	@mkdir -p $(dir $@)
	$(CC) $(VM_GUEST_CFLAGS) $(CFLAGS) -o $@ $< $(VM_GUEST_LDFLAGS)
