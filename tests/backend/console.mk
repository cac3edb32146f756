# SPDX-License-Identifier: GPL-2.0
#
# The console device: pviod's console driven by the userspace driver
# (tests/user/vuser_console_test.c; vuser_console_reconnect_test.c kills and
# restarts pviod under traffic), linked as tests/user/user.mk says.

CONSOLE_INTEGRATION_TESTS := $(O)/tests/user/vuser_console_test \
	$(O)/tests/user/vuser_console_reconnect_test

INTEGRATION_TESTS += $(CONSOLE_INTEGRATION_TESTS)
PROGS += $(CONSOLE_INTEGRATION_TESTS)

.PHONY: check-console
check-console: $(CONSOLE_INTEGRATION_TESTS) $(O)/pviod
	@for t in $(CONSOLE_INTEGRATION_TESTS); do echo "# $$t"; $$t || exit 1; done
