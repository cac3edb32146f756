# SPDX-License-Identifier: GPL-2.0
#
# tests/backend/stats: pviod's SIGUSR1 dump of every device's counters
# (stats_test.c): blk, net (loop) and console driven by the userspace driver
# (libvuser, frontend/virtio-user), then exact numbers checked in pviod's log.
# Built with the tests/user flags (vuser.h, vuser_test.h); the explicit object
# rule takes precedence over tests/backend/backend.mk's pattern rule.

STATS_TEST := $(O)/tests/backend/stats_test

INTEGRATION_TESTS += $(STATS_TEST)
PROGS += $(STATS_TEST)

$(STATS_TEST).o: tests/backend/stats_test.c $(BACKEND_KSFT_HARNESS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -I$(CURDIR)/$(BACKEND_KSFT_DIR) -I$(CURDIR)/frontend/virtio-user \
		-I$(CURDIR)/tests/user -Wno-empty-body -MMD -MP -c -o $@ $<

$(STATS_TEST): $(STATS_TEST).o $(VUSER_LIB) $(O)/pviod
	$(CC) -o $@ $(filter %.o %.a,$^) $(ALL_LDFLAGS)
