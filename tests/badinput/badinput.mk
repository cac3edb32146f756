# SPDX-License-Identifier: GPL-2.0
#
# tests/badinput: hostile front-ends against a running pviod serving three
# disks (one abused, one witness driven through frontend/user, one
# read-only); see the header of badinput.c for the outcomes asserted.

BADINPUT := $(O)/tests/badinput/badinput
BADINPUT_CFLAGS = $(ALL_CFLAGS) -I$(CURDIR)/frontend/user -I$(CURDIR)/tests/user

$(O)/tests/badinput/%.o: tests/badinput/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BADINPUT_CFLAGS) -MMD -MP -c -o $@ $<

# pviod is what it runs: built with it.
$(BADINPUT): $(O)/tests/badinput/badinput.o $(VU_LIB) | $(O)/pviod
	$(CC) -o $@ $< $(VU_LIB) $(ALL_LDFLAGS)

PROGS += $(BADINPUT)
INTEGRATION_TESTS += $(BADINPUT)
