# SPDX-License-Identifier: GPL-2.0
#
# tests/backend: pviod's unit tests (no QEMU: a socketpair plays the
# front-end), its integration tests on the host, and the check of the man
# page and systemd unit.  Its VM tests are tests/vm/pviod_*.sh.
#
# The kselftest harness comes from Debian's linux-source tarball into
# build/linux-tools/ (never committed): by scripts/linux-tools.sh, or the
# rule in tests/ring/ring.mk; only when neither exists is it extracted here.

BACKEND_TEST_DIR := $(O)/tests/backend
BACKEND_KSFT_DIR := build/linux-tools/tools/testing/selftests
BACKEND_KSFT_HARNESS := $(BACKEND_KSFT_DIR)/kselftest_harness.h

BACKEND_TEST_CFLAGS = $(ALL_CFLAGS) -I$(CURDIR)/$(BACKEND_KSFT_DIR) -I$(CURDIR)/backend \
	-Wno-empty-body -Wno-sign-compare

BACKEND_UNIT_TESTS := $(BACKEND_TEST_DIR)/vu_msg_test $(BACKEND_TEST_DIR)/vu_mem_test \
	$(BACKEND_TEST_DIR)/blk_req_test

UNIT_TESTS += $(BACKEND_UNIT_TESTS)
PROGS += $(BACKEND_UNIT_TESTS)
INTEGRATION_TESTS += tests/backend/docs_check.sh tests/backend/cli_check.sh \
	tests/backend/install_check.sh

ifeq ($(wildcard scripts/linux-tools.sh tests/ring/ring.mk),)
$(BACKEND_KSFT_HARNESS):
	@rm -rf build/linux-tools/.ksft-backend.tmp
	@mkdir -p build/linux-tools/.ksft-backend.tmp $(BACKEND_KSFT_DIR)
	tar -xJf $(firstword $(wildcard /usr/src/linux-source-*.tar.xz)) \
		-C build/linux-tools/.ksft-backend.tmp --strip-components=1 \
		--wildcards '*/tools/testing/selftests/kselftest.h' \
		'*/tools/testing/selftests/kselftest_harness.h'
	mv build/linux-tools/.ksft-backend.tmp/tools/testing/selftests/kselftest*.h \
		$(BACKEND_KSFT_DIR)/
	@rm -rf build/linux-tools/.ksft-backend.tmp
else ifeq ($(wildcard tests/ring/ring.mk),)
$(BACKEND_KSFT_HARNESS):
	scripts/linux-tools.sh >/dev/null
endif

$(BACKEND_TEST_DIR)/%.o: tests/backend/%.c $(BACKEND_KSFT_HARNESS)
	@mkdir -p $(dir $@)
	$(CC) $(BACKEND_TEST_CFLAGS) -MMD -MP -c -o $@ $<

$(BACKEND_UNIT_TESTS): %: %.o $(PVIOD_OBJS)
	$(CC) -o $@ $^ $(ALL_LDFLAGS) -luring

# A front-end stalled mid-message must not hold the other devices.
INTEGRATION_TESTS += tests/backend/fault_slow_peer.sh tests/backend/fault_worker_die.sh

# Devices added and removed while another serves verified I/O: pviod's
# objects and the userspace driver (frontend/virtio-user) in one process,
# under a second: a unit test, so ASan and TSan run it too.
LIFECYCLE_TEST := $(BACKEND_TEST_DIR)/device_lifecycle_test
UNIT_TESTS += $(LIFECYCLE_TEST)
PROGS += $(LIFECYCLE_TEST)

$(LIFECYCLE_TEST).o: tests/backend/device_lifecycle_test.c $(BACKEND_KSFT_HARNESS)
	@mkdir -p $(dir $@)
	$(CC) $(BACKEND_TEST_CFLAGS) -I$(CURDIR)/frontend/virtio-user -MMD -MP -c -o $@ $<

$(LIFECYCLE_TEST): $(LIFECYCLE_TEST).o $(PVIOD_OBJS) $(VUSER_LIB)
	$(CC) -o $@ $^ $(ALL_LDFLAGS) -luring
