# SPDX-License-Identifier: GPL-2.0
#
# tests/lib: libpvtest.a, what several tests share (pvtest.h): the processes
# a test runs as its peers (proc.c) and pviod among them (pviod.c), file
# descriptors over a unix socket (fd.c), and the raw vhost-user front-end of
# the bad-input tests (raw.c, raw.h).  Built
# per $(O) with the tests' flags (sanitizers included); a fragment whose
# programs use it names $(TEST_LIB) (tests/tests.mk) among their
# prerequisites.

TEST_LIB_OBJS := $(addprefix $(O)/tests/lib/,proc.o pviod.o fd.o raw.o)

$(TEST_LIB): $(TEST_LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^
