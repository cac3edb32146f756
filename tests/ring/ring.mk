# SPDX-License-Identifier: GPL-2.0
#
# tests/ring: unit tests and the two-thread torture test (pvio-ringbench,
# which shares ring_test.h, is built by frontend/bench/bench.mk).
#
# The unit tests use the kernel's kselftest harness, taken at build time from
# Debian's linux-source tarball into build/linux-tools/ (shared by every $(O),
# never committed), by scripts/linux-tools.sh or, without it, by tar here.

RING_TEST_DIR := $(O)/tests/ring
LINUX_SRC_TAR ?= $(firstword $(wildcard /usr/src/linux-source-*.tar.xz))
KSFT_DIR := build/linux-tools/tools/testing/selftests
KSFT_HARNESS := $(KSFT_DIR)/kselftest_harness.h

# -Wno-empty-body: the harness's ASSERT_* expand to "for (...) ;", which clang flags;
# -Wno-sign-compare: EXPECT_EQ(5, size) compares the literal's type with the value's.
RING_TEST_CFLAGS = $(ALL_CFLAGS) -I$(CURDIR)/$(KSFT_DIR) -I$(CURDIR)/tests/ring \
	-Wno-empty-body -Wno-sign-compare

RING_UNIT_TESTS := $(RING_TEST_DIR)/ring_mem_test $(RING_TEST_DIR)/ring_drv_test \
	$(RING_TEST_DIR)/ring_dev_test $(RING_TEST_DIR)/ring_torture

UNIT_TESTS += $(RING_UNIT_TESTS)
PROGS += $(RING_UNIT_TESTS)

# scripts/linux-tools.sh when it is there (same layout, cached); otherwise
# extract into a temporary directory and rename, so a parallel or interrupted
# make never sees half a header.
$(KSFT_HARNESS):
ifneq ($(wildcard scripts/linux-tools.sh),)
	scripts/linux-tools.sh >/dev/null
else
	@test -n "$(LINUX_SRC_TAR)" || { echo "tests/ring: no /usr/src/linux-source-*.tar.xz;" \
		"install linux-source-6.1 (scripts/deps.sh)" >&2; exit 1; }
	@rm -rf build/linux-tools/.ksft.tmp && mkdir -p build/linux-tools/.ksft.tmp $(KSFT_DIR)
	tar -xJf $(LINUX_SRC_TAR) -C build/linux-tools/.ksft.tmp --strip-components=1 \
		--wildcards '*/tools/testing/selftests/kselftest.h' \
		'*/tools/testing/selftests/kselftest_harness.h'
	mv build/linux-tools/.ksft.tmp/tools/testing/selftests/kselftest.h $(KSFT_DIR)/
	mv build/linux-tools/.ksft.tmp/tools/testing/selftests/kselftest_harness.h $(KSFT_DIR)/
	@rm -rf build/linux-tools/.ksft.tmp
endif

$(RING_TEST_DIR)/%.o: tests/ring/%.c $(KSFT_HARNESS)
	@mkdir -p $(dir $@)
	$(CC) $(RING_TEST_CFLAGS) -MMD -MP -c -o $@ $<

$(RING_UNIT_TESTS): %: %.o $(RING_OBJS)
	$(CC) -o $@ $^ $(ALL_LDFLAGS)
