# SPDX-License-Identifier: GPL-2.0
#
# tests/user: the userspace vhost-user front-end (frontend/virtio-user) and
# pvio-bench's measuring helpers (frontend/bench/bench_lib.c).
#
#   bench_lib_test  unit: latency histogram, verify patterns, size parsing,
#                   /proc CPU time and sleeps
#   vuser_fault_test  integration (in-process fake back-ends): a peer that
#                   closes, stays silent, or answers nonsense
#   vuser_blk_test  integration: qemu-storage-daemon and pviod
#   vuser_blk_reconnect_test  integration: pviod SIGKILLed and restarted under
#                   verified block I/O, split and packed rings
#   vuser_net_test  integration: DPDK testpmd (net_vhost) loopback
#   vuser_net_filter_test  integration: pviod's receive filter on two switch
#                   ports, programmed through the control queue
#
# Built by tests/tests.mk's rules (kselftest harness).  vuser_console_test,
# vuser_console_reconnect_test and vuser_net_switch_test are linked here too;
# tests/backend/console.mk and net.mk list them, beside the pviod devices
# they drive.

VUSER_TEST_DIR := $(O)/tests/user

VUSER_UNIT_TESTS := $(VUSER_TEST_DIR)/bench_lib_test
VUSER_INTEGRATION_TESTS := $(VUSER_TEST_DIR)/vuser_fault_test $(VUSER_TEST_DIR)/vuser_blk_test \
	$(VUSER_TEST_DIR)/vuser_blk_reconnect_test $(VUSER_TEST_DIR)/vuser_net_test \
	$(VUSER_TEST_DIR)/vuser_net_filter_test

$(VUSER_TEST_DIR)/%.o: TEST_INCLUDES := -I$(CURDIR)/frontend/virtio-user -I$(CURDIR)/frontend/bench

# libpvbench.a (frontend/bench): the histogram, patterns and test frames;
# libpvtest.a (tests/lib): the peers they start.
$(VUSER_INTEGRATION_TESTS) $(VUSER_TEST_DIR)/vuser_console_test \
	$(VUSER_TEST_DIR)/vuser_console_reconnect_test \
	$(VUSER_TEST_DIR)/vuser_net_switch_test: $(VUSER_LIB) $(BENCH_LIB) $(TEST_LIB)
$(VUSER_UNIT_TESTS): $(BENCH_LIB)

UNIT_TESTS += $(VUSER_UNIT_TESTS)
INTEGRATION_TESTS += $(VUSER_INTEGRATION_TESTS)
PROGS += $(VUSER_UNIT_TESTS) $(VUSER_INTEGRATION_TESTS)

.PHONY: check-user
check-user: $(VUSER_UNIT_TESTS) $(VUSER_INTEGRATION_TESTS)
	@for t in $^; do echo "# $$t"; $$t || exit 1; done

# blk_op: one request from the command line, for the shell tests of pviod's
# storage engines (tests/backend/blk_nbd.sh); not a test itself.
BLK_OP := $(VUSER_TEST_DIR)/blk_op
PROGS += $(BLK_OP)
$(BLK_OP): $(VUSER_LIB)
