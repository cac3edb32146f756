# SPDX-License-Identifier: GPL-2.0
#
# tests/user: the userspace vhost-user front-end.
#
#   vu_bench_test   unit: latency histogram, verify patterns, size parsing
#   vu_fault_test   integration (in-process fake back-ends): a peer that
#                   closes, stays silent, or answers nonsense
#   vu_blk_test     integration: qemu-storage-daemon and pviod
#   vu_net_test     integration: DPDK testpmd (net_vhost) loopback
#   vu_net_filter_test  integration: pviod's receive filter on two switch ports,
#                   programmed through the control queue
#
# The kselftest harness comes from tests/ring/ring.mk's extraction rule when
# that fragment is present (it sorts first); otherwise this one extracts it.

VU_TEST_DIR := $(O)/tests/user
VU_LINUX_SRC_TAR := $(firstword $(wildcard /usr/src/linux-source-*.tar.xz))
VU_KSFT_DIR := build/linux-tools/tools/testing/selftests
VU_KSFT_HARNESS := $(VU_KSFT_DIR)/kselftest_harness.h

ifndef KSFT_HARNESS
$(VU_KSFT_HARNESS):
	@test -n "$(VU_LINUX_SRC_TAR)" || { echo "tests/user: no /usr/src/linux-source-*.tar.xz;" \
		"install linux-source-6.1" >&2; exit 1; }
	@rm -rf build/linux-tools/.vu.tmp && mkdir -p build/linux-tools/.vu.tmp $(VU_KSFT_DIR)
	tar -xJf $(VU_LINUX_SRC_TAR) -C build/linux-tools/.vu.tmp --strip-components=1 \
		--wildcards '*/tools/testing/selftests/kselftest.h' \
		'*/tools/testing/selftests/kselftest_harness.h'
	mv build/linux-tools/.vu.tmp/tools/testing/selftests/kselftest*.h $(VU_KSFT_DIR)/
	@rm -rf build/linux-tools/.vu.tmp
endif

# -Wno-empty-body: the harness's ASSERT_* expand to "for (...) ;".
VU_TEST_CFLAGS = $(ALL_CFLAGS) -I$(CURDIR)/$(VU_KSFT_DIR) -I$(CURDIR)/frontend/virtio-user \
	-I$(CURDIR)/frontend/bench -I$(CURDIR)/tests/user -Wno-empty-body

$(VU_TEST_DIR)/%.o: tests/user/%.c $(VU_KSFT_HARNESS)
	@mkdir -p $(dir $@)
	$(CC) $(VU_TEST_CFLAGS) -MMD -MP -c -o $@ $<

# libpvbench.a (frontend/bench): the histogram, patterns and test frames.
$(VU_TEST_DIR)/vu_%: $(VU_TEST_DIR)/vu_%.o $(VUSER_LIB) $(BENCH_LIB)
	$(CC) -o $@ $^ $(ALL_LDFLAGS)

VU_UNIT_TESTS := $(VU_TEST_DIR)/vu_bench_test
VU_INTEGRATION_TESTS := $(VU_TEST_DIR)/vu_fault_test $(VU_TEST_DIR)/vu_blk_test \
	$(VU_TEST_DIR)/vu_net_test $(VU_TEST_DIR)/vu_net_filter_test

UNIT_TESTS += $(VU_UNIT_TESTS)
INTEGRATION_TESTS += $(VU_INTEGRATION_TESTS)
PROGS += $(VU_UNIT_TESTS) $(VU_INTEGRATION_TESTS)

.PHONY: check-user
check-user: $(VU_UNIT_TESTS) $(VU_INTEGRATION_TESTS)
	@for t in $^; do echo "# $$t"; $$t || exit 1; done
