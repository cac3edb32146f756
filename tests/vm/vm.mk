# SPDX-License-Identifier: GPL-2.0
#
# tests/vm: tests that boot the guest kernel under QEMU (scripts/vm/).
#
# The guest programs (tests/vm/guest/*.c, built into $(O)/tests/vm/guest/)
# are linked static (the guest is a busybox initramfs, no libc) and without
# sanitizers, so they are the same in every $(O); the scripts build the
# initramfs and boot the guest themselves.  The kselftest
# harness comes from Debian's linux-source tarball into build/linux-tools/
# (scripts/linux-tools.sh, or the rule in tests/ring/ring.mk); never committed.

VM_TEST_DIR := $(O)/tests/vm
VM_KSFT_DIR := build/linux-tools/tools/testing/selftests
VM_KSFT_HARNESS := $(VM_KSFT_DIR)/kselftest_harness.h

# Not $(ALL_CFLAGS): those carry -fsanitize= in SAN builds, and a static
# binary cannot have the sanitizer runtimes.
VM_GUEST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
	-Wno-empty-body -Wno-sign-compare -D_GNU_SOURCE -pthread -I$(CURDIR)/$(VM_KSFT_DIR)
VM_GUEST_LDFLAGS := -static -pthread

VM_GUEST_PROGS := $(VM_TEST_DIR)/guest/blk_verify

PROGS += $(VM_GUEST_PROGS)
VM_TESTS += tests/vm/stock_virtio_blk.sh tests/vm/stock_vhost_user_blk_qsd.sh

# Only when no other fragment provides the harness rule (tests/ring does).
ifeq ($(filter $(VM_KSFT_HARNESS),$(KSFT_HARNESS)),)
$(VM_KSFT_HARNESS):
	scripts/linux-tools.sh >/dev/null
endif

$(VM_TEST_DIR)/guest/%: tests/vm/guest/%.c $(VM_KSFT_HARNESS)
	@mkdir -p $(dir $@)
	$(CC) $(VM_GUEST_CFLAGS) $(CFLAGS) -o $@ $< $(VM_GUEST_LDFLAGS)

.PHONY: vm-progs
vm-progs: $(VM_GUEST_PROGS)

