# SPDX-License-Identifier: GPL-2.0
#
# tests/tests.mk: what every test fragment (tests/*/*.mk) builds with.  The
# top-level Makefile reads it before every other fragment, so that theirs
# may name its variables in prerequisites (make expands those as it reads a
# rule).  It names nothing of the other fragments in its own prerequisites.
#
#   KSFT_HARNESS   the kernel's kselftest harness (kselftest_harness.h and
#                  kselftest.h), taken at build time from Debian's
#                  linux-source tarball into build/linux-tools/ by
#                  scripts/linux-tools.sh: shared by every $(O), never
#                  committed
#   TEST_CFLAGS    a host test's flags: $(ALL_CFLAGS) (so the sanitizers of
#                  `make SAN=...`), the harness and tests/lib/.  A fragment
#                  adds its own include folders with a pattern-specific
#                  TEST_INCLUDES.
#   TEST_LIB       libpvtest.a (tests/lib/lib.mk): what several tests share;
#                  a fragment links it by naming it as a prerequisite
#   GUEST_CFLAGS   a guest program's flags: no sanitizers (their runtimes
#                  cannot be linked static); GUEST_LDFLAGS: -static
#
# One rule per kind:
#
#   $(O)/tests/DIR/NAME.o     a host test's object, from tests/DIR/NAME.c
#   $(O)/tests/DIR/NAME       a host test program: its object, and what its
#                             fragment adds as prerequisites (the objects or
#                             archives it tests, other objects of the test);
#                             TEST_LDLIBS (target-specific) for -l options
#   $(O)/tests/vm/guest/NAME  a static program that runs inside a VM test's
#                             guest, from tests/vm/guest/NAME.c; the same in
#                             every $(O)

KSFT_DIR := build/linux-tools/tools/testing/selftests
KSFT_HARNESS := $(KSFT_DIR)/kselftest_harness.h

# -Wno-empty-body: the harness's ASSERT_* expand to "for (...) ;", which clang
# flags; -Wno-sign-compare: EXPECT_EQ(5, size) compares the literal's type
# with the value's.
TEST_CFLAGS = $(ALL_CFLAGS) -I$(CURDIR)/$(KSFT_DIR) -I$(CURDIR)/tests/lib -Wno-empty-body \
	-Wno-sign-compare
TEST_INCLUDES :=
TEST_LDLIBS :=
TEST_LIB := $(O)/tests/lib/libpvtest.a

# Not $(ALL_CFLAGS): those carry -fsanitize= in SAN builds, and a static
# binary cannot have the sanitizer runtimes.
GUEST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
	-Wno-empty-body -Wno-sign-compare -D_GNU_SOURCE -pthread -I$(CURDIR)/$(KSFT_DIR)
GUEST_LDFLAGS := -static -pthread

# scripts/linux-tools.sh extracts into a temporary directory and copies, and
# caches what it extracted: a parallel or interrupted make never sees half a
# header.
$(KSFT_HARNESS):
	scripts/linux-tools.sh >/dev/null

$(O)/tests/%.o: tests/%.c $(KSFT_HARNESS)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $(TEST_INCLUDES) -MMD -MP -c -o $@ $<

$(O)/tests/%: $(O)/tests/%.o
	$(CC) -o $@ $(filter %.o %.a,$^) $(ALL_LDFLAGS) $(TEST_LDLIBS)

# A test's object is kept after its program is linked (it is a link in a
# chain of pattern rules, which make would otherwise delete).
.PRECIOUS: $(O)/tests/%.o

$(O)/tests/vm/guest/%: tests/vm/guest/%.c $(KSFT_HARNESS)
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) $(CFLAGS) -o $@ $< $(GUEST_LDFLAGS)
