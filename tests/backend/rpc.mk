# SPDX-License-Identifier: GPL-2.0
#
# tests/backend/rpc_test: pviod's control socket (backend/rpc/) driven for
# real, against one pviod process: add/del cycles with a front-end in
# between while another disk serves verified I/O (the userspace driver),
# and malformed requests.  pvioctl_check.sh drives pvioctl, config_check.sh
# pviod --config and its SIGHUP reload, socket_perm_check.sh socket-group=
# and socket-mode=, notify_check.sh sd_notify and the journal's priorities.

RPC_TEST := $(BACKEND_TEST_DIR)/rpc_test
INTEGRATION_TESTS += $(RPC_TEST) tests/backend/pvioctl_check.sh tests/backend/config_check.sh \
	tests/backend/socket_perm_check.sh tests/backend/notify_check.sh
PROGS += $(RPC_TEST)

$(RPC_TEST): $(TEST_LIB) $(VUSER_LIB)
$(RPC_TEST): TEST_LDLIBS := -ljson-c

# The back-end channel (SET_BACKEND_REQ_FD, CONFIG_CHANGE_MSG): raw front-ends
# on two disks of one pviod, resized through pvioctl refresh; the data path
# after a resize through the userspace driver on a third.
BACKREQ_TEST := $(BACKEND_TEST_DIR)/backreq_test
INTEGRATION_TESTS += $(BACKREQ_TEST)
PROGS += $(BACKREQ_TEST)

$(BACKREQ_TEST): $(VUSER_LIB) $(TEST_LIB) | $(O)/pviod $(O)/pvioctl
