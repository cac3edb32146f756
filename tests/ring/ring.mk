# SPDX-License-Identifier: GPL-2.0
#
# tests/ring: unit tests (ring_poll_test: the adaptive polling window of
# pvring_poll.h) and the two-thread torture test (pvio-ringbench,
# which shares ring_test.h, is built by frontend/bench/bench.mk).  Built and
# linked with the ring's objects by tests/tests.mk's rules (kselftest harness).

RING_TEST_DIR := $(O)/tests/ring

RING_UNIT_TESTS := $(RING_TEST_DIR)/ring_mem_test $(RING_TEST_DIR)/ring_drv_test \
	$(RING_TEST_DIR)/ring_dev_test $(RING_TEST_DIR)/ring_torture $(RING_TEST_DIR)/ring_poll_test

UNIT_TESTS += $(RING_UNIT_TESTS)
PROGS += $(RING_UNIT_TESTS)

$(RING_UNIT_TESTS): $(RING_OBJS)
