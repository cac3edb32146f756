# SPDX-License-Identifier: GPL-2.0
#
# The console device: pviod's console driven by the userspace driver
# (tests/user/vuser_console_test.c, linked as tests/user/user.mk says).

CONSOLE_INTEGRATION_TESTS := $(O)/tests/user/vuser_console_test

INTEGRATION_TESTS += $(CONSOLE_INTEGRATION_TESTS)
PROGS += $(CONSOLE_INTEGRATION_TESTS)

.PHONY: check-console
check-console: $(CONSOLE_INTEGRATION_TESTS) $(O)/pviod
	$(CONSOLE_INTEGRATION_TESTS)
