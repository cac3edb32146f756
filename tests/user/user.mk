# SPDX-License-Identifier: GPL-2.0
#
# tests/user: the userspace vhost-user front-end (frontend/virtio-user) and
# pvio-bench's measuring helpers (frontend/bench/bench_lib.c).
#
#   bench_lib_test  unit: latency histogram, verify patterns, size parsing
#   vuser_fault_test  integration (in-process fake back-ends): a peer that
#                   closes, stays silent, or answers nonsense
#   vuser_blk_test  integration: qemu-storage-daemon and pviod
#   vuser_net_test  integration: DPDK testpmd (net_vhost) loopback
#   vuser_net_filter_test  integration: pviod's receive filter on two switch
#                   ports, programmed through the control queue
#
# The kselftest harness comes from tests/ring/ring.mk's extraction rule when
# that fragment is present (it sorts first); otherwise this one extracts it.

VUSER_TEST_DIR := $(O)/tests/user
VUSER_LINUX_SRC_TAR := $(firstword $(wildcard /usr/src/linux-source-*.tar.xz))
VUSER_KSFT_DIR := build/linux-tools/tools/testing/selftests
VUSER_KSFT_HARNESS := $(VUSER_KSFT_DIR)/kselftest_harness.h

ifndef KSFT_HARNESS
$(VUSER_KSFT_HARNESS):
	@test -n "$(VUSER_LINUX_SRC_TAR)" || { echo "tests/user: no /usr/src/linux-source-*.tar.xz;" \
		"install linux-source-6.1" >&2; exit 1; }
	@rm -rf build/linux-tools/.vuser.tmp && mkdir -p build/linux-tools/.vuser.tmp $(VUSER_KSFT_DIR)
	tar -xJf $(VUSER_LINUX_SRC_TAR) -C build/linux-tools/.vuser.tmp --strip-components=1 \
		--wildcards '*/tools/testing/selftests/kselftest.h' \
		'*/tools/testing/selftests/kselftest_harness.h'
	mv build/linux-tools/.vuser.tmp/tools/testing/selftests/kselftest*.h $(VUSER_KSFT_DIR)/
	@rm -rf build/linux-tools/.vuser.tmp
endif

# -Wno-empty-body: the harness's ASSERT_* expand to "for (...) ;".
VUSER_TEST_CFLAGS = $(ALL_CFLAGS) -I$(CURDIR)/$(VUSER_KSFT_DIR) -I$(CURDIR)/frontend/virtio-user \
	-I$(CURDIR)/frontend/bench -I$(CURDIR)/tests/user -Wno-empty-body

$(VUSER_TEST_DIR)/%.o: tests/user/%.c $(VUSER_KSFT_HARNESS)
	@mkdir -p $(dir $@)
	$(CC) $(VUSER_TEST_CFLAGS) -MMD -MP -c -o $@ $<

# libpvbench.a (frontend/bench): the histogram, patterns and test frames.
$(VUSER_TEST_DIR)/vuser_%: $(VUSER_TEST_DIR)/vuser_%.o $(VUSER_LIB) $(BENCH_LIB)
	$(CC) -o $@ $^ $(ALL_LDFLAGS)

$(VUSER_TEST_DIR)/bench_lib_test: $(VUSER_TEST_DIR)/bench_lib_test.o $(BENCH_LIB)
	$(CC) -o $@ $^ $(ALL_LDFLAGS)

VUSER_UNIT_TESTS := $(VUSER_TEST_DIR)/bench_lib_test
VUSER_INTEGRATION_TESTS := $(VUSER_TEST_DIR)/vuser_fault_test $(VUSER_TEST_DIR)/vuser_blk_test \
	$(VUSER_TEST_DIR)/vuser_net_test $(VUSER_TEST_DIR)/vuser_net_filter_test

UNIT_TESTS += $(VUSER_UNIT_TESTS)
INTEGRATION_TESTS += $(VUSER_INTEGRATION_TESTS)
PROGS += $(VUSER_UNIT_TESTS) $(VUSER_INTEGRATION_TESTS)

.PHONY: check-user
check-user: $(VUSER_UNIT_TESTS) $(VUSER_INTEGRATION_TESTS)
	@for t in $^; do echo "# $$t"; $$t || exit 1; done
