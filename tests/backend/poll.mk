# SPDX-License-Identifier: GPL-2.0
#
# tests/backend/poll: pviod's polling and CPU placement seen from outside (poll_test.c): idle
# with four devices connected it sleeps (CPU time and wake-ups from /proc),
# and a busy queue shows poll hits in the SIGUSR1 dump; for the default
# (adaptive), --poll on and --poll off.  The window's own rules are unit
# tested in tests/ring/ring_poll_test.c.  Linked with the userspace driver's
# library; pviod is built with it (the test runs it).

POLL_TEST := $(O)/tests/backend/poll_test

INTEGRATION_TESTS += $(POLL_TEST)
PROGS += $(POLL_TEST)

# The back-end's CPU time and sleeps are read as pvio-bench idle reads them
# (libpvbench.a).
$(POLL_TEST): $(VUSER_LIB) $(TEST_LIB) $(O)/libpvbench.a $(O)/pviod
$(BACKEND_TEST_DIR)/poll_test.o: TEST_INCLUDES := -I$(CURDIR)/backend \
	-I$(CURDIR)/frontend/virtio-user -I$(CURDIR)/frontend/bench

# --cpus: each worker on its CPUs (cpus_check.sh).
INTEGRATION_TESTS += tests/backend/cpus_check.sh

# The file engine's io_uring fixed files and buffers, data verified (fixed_check.sh).
INTEGRATION_TESTS += tests/backend/fixed_check.sh
