# SPDX-License-Identifier: GPL-2.0
#
# tests/backend: pviod's unit tests (no QEMU: a socketpair plays the
# front-end), its integration tests on the host, and the check of the man
# page and systemd unit.  Its VM tests are tests/vm/pviod_*.sh.
#
# Built by tests/tests.mk's rules (kselftest harness); the unit tests link
# pviod's objects ($(PVIOD_OBJS): everything but main()), so they test the
# code the daemon runs.  Sources include pviod's headers by folder
# ("core/queue.h"), and the userspace driver's (vuser.h).

BACKEND_TEST_DIR := $(O)/tests/backend

$(BACKEND_TEST_DIR)/%.o: TEST_INCLUDES := -I$(CURDIR)/backend -I$(CURDIR)/frontend/virtio-user

BACKEND_UNIT_TESTS := $(BACKEND_TEST_DIR)/vu_msg_test $(BACKEND_TEST_DIR)/vu_mem_test \
	$(BACKEND_TEST_DIR)/blk_req_test $(BACKEND_TEST_DIR)/inflight_test

UNIT_TESTS += $(BACKEND_UNIT_TESTS)
PROGS += $(BACKEND_UNIT_TESTS)
INTEGRATION_TESTS += tests/backend/docs_check.sh tests/backend/cli_check.sh \
	tests/backend/install_check.sh tests/backend/inuse_check.sh

$(BACKEND_UNIT_TESTS): $(PVIOD_OBJS) $(TEST_LIB)
# inflight_test drives the ring's driver side too.
$(BACKEND_TEST_DIR)/inflight_test: $(O)/ring/pvring_drv.o
$(BACKEND_UNIT_TESTS): TEST_LDLIBS := $(PVIOD_LIBS)

# The storage engines against real servers the tests start (nbdkit,
# qemu-nbd; a one-mon one-OSD Ceph cluster, tests/lib/ceph.sh, on TCP ports
# picked at random: run blk_rbd.sh under flock /tmp/pvio-global.lock):
# blk_op (tests/user) sends them one request at a time.
INTEGRATION_TESTS += tests/backend/blk_nbd.sh tests/backend/blk_rbd.sh

# A front-end stalled mid-message must not hold the other devices.
INTEGRATION_TESTS += tests/backend/fault_slow_peer.sh tests/backend/fault_worker_die.sh
# A worker whose submission queue stays full neither crashes nor loses a wake-up.
INTEGRATION_TESTS += tests/backend/fault_sq_full.sh
# SIGTERM ends pviod even when a request never completes (nbdkit's delay filter).
INTEGRATION_TESTS += tests/backend/stop_stuck.sh
# pviod runs under valgrind (callgrind counts its instructions per request).
INTEGRATION_TESTS += tests/backend/valgrind_check.sh

# Devices added and removed while another serves verified I/O: pviod's
# objects and the userspace driver (frontend/virtio-user) in one process,
# under a second: a unit test, so ASan and TSan run it too.
LIFECYCLE_TEST := $(BACKEND_TEST_DIR)/device_lifecycle_test
UNIT_TESTS += $(LIFECYCLE_TEST)
PROGS += $(LIFECYCLE_TEST)

$(LIFECYCLE_TEST): $(PVIOD_OBJS) $(TEST_LIB) $(VUSER_LIB)
$(LIFECYCLE_TEST): TEST_LDLIBS := $(PVIOD_LIBS)
