# SPDX-License-Identifier: GPL-2.0
#
# tests/backend/stats: pviod's SIGUSR1 dump of every device's counters
# (stats_test.c): blk, net (loop) and console driven by the userspace driver
# (libvuser, frontend/virtio-user), then exact numbers checked in pviod's log.
# Linked with the driver's library; pviod is built with it (the test runs it).

STATS_TEST := $(O)/tests/backend/stats_test

INTEGRATION_TESTS += $(STATS_TEST)
PROGS += $(STATS_TEST)

$(STATS_TEST): $(VUSER_LIB) $(TEST_LIB) $(O)/pviod
