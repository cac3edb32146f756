# SPDX-License-Identifier: GPL-2.0
#
# pvio top-level Makefile.
#
# Userspace parts build into $(O) (default: build/); the kernel modules build
# with Kbuild against $(KDIR).  Each directory owns a fragment (<dir>/<dir>.mk)
# that appends to the variables below; this file only wires them together.
#
#   make                 every userspace part
#   make modules         the guest kernel modules (KDIR=...)
#   make dkms-src DESTDIR=DIR   their DKMS source tree (scripts/dkms-stage.sh)
#   make check           the whole test suite (installs what it needs)
#   make lint            checkpatch, sparse, clang-format, cppcheck, shellcheck
#   make bench           the benchmarks
#   make demo            the end-to-end demo
#   make install         programs, man pages, the systemd unit and its configuration
#                        file, kept when it exists (PREFIX, DESTDIR, SYSCONFDIR)
#   make SAN=asan|tsan   sanitizer builds (default output build-asan/, build-tsan/)

SAN ?=
ifeq ($(SAN),)
O ?= build
else
O ?= build-$(SAN)
endif

CC ?= gcc
ifeq ($(origin CC),default)
CC := gcc
endif
OPT ?= -O2
CFLAGS_BASE := -std=gnu11 $(OPT) -g -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
	-D_GNU_SOURCE -pthread -I$(CURDIR)/ring -I$(CURDIR)/protocol -I$(CURDIR)
LDFLAGS_BASE := -pthread
ifeq ($(SAN),asan)
CFLAGS_BASE += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS_BASE += -fsanitize=address,undefined
endif
ifeq ($(SAN),tsan)
CFLAGS_BASE += -fsanitize=thread -fno-omit-frame-pointer
LDFLAGS_BASE += -fsanitize=thread
endif
CFLAGS ?=
LDFLAGS ?=
ALL_CFLAGS = $(CFLAGS_BASE) $(CFLAGS)
ALL_LDFLAGS = $(LDFLAGS_BASE) $(LDFLAGS)

# KDIR: headers of the newest kernel installed under /lib/modules or /usr/src.
KDIR ?= $(shell scripts/kdir.sh)
# The guest modules build with Kbuild in frontend/ (frontend/Kbuild), so
# that every build output stays there.
KMOD_DIR := $(CURDIR)/frontend

# Filled in by the fragments.
PROGS :=		# userspace programs: $(O)/...
UNIT_TESTS :=		# host unit tests (TAP programs), also run under sanitizers
INTEGRATION_TESTS :=	# host tests that start daemons / peers (TAP programs or scripts)
VM_TESTS :=		# tests that boot a guest (TAP scripts)
BENCHES :=		# benchmark commands (make bench)
INSTALL_BIN :=		# programs `make install` puts in $(BINDIR)
INSTALL_MAN8 :=		# man pages for $(MANDIR)/man8
INSTALL_UNIT :=		# systemd units for $(UNITDIR); /usr/local/bin in them becomes $(BINDIR)
INSTALL_CONF :=		# pvio/NAME in $(SYSCONFDIR): configuration files

# make install: the usual GNU variables.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
DESTDIR ?=

.PHONY: all modules check check-unit check-san check-integration check-vm lint bench demo \
	clean deps modules_install install uninstall dkms-src
all:

# Every fragment: one per part, owned by that part.  tests/tests.mk first: it
# holds what the test fragments build with (the harness, flags, the rules of
# test programs), and they name its variables in prerequisites.
include tests/tests.mk
include $(sort $(filter-out tests/tests.mk,$(wildcard ring/*.mk protocol/*.mk backend/*.mk backend/*/*.mk \
	frontend/*.mk frontend/*/*.mk tests/*.mk tests/*/*.mk scripts/*.mk)))

all: $(PROGS)

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

-include $(shell find $(O) -name '*.d' 2>/dev/null)

modules:
	$(MAKE) -C $(KDIR) M=$(KMOD_DIR) modules

modules_install:
	$(MAKE) -C $(KDIR) M=$(KMOD_DIR) modules_install

# The host side; the guest modules go through DKMS or modules_install.
install: $(INSTALL_BIN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR)
	install -m 0755 $(INSTALL_BIN) $(DESTDIR)$(BINDIR)/
	install -m 0644 $(INSTALL_MAN8) $(DESTDIR)$(MANDIR)/man8/
	for u in $(INSTALL_UNIT); do \
		sed -e 's|/usr/local/bin/|$(BINDIR)/|g' -e 's|/etc/pvio/|$(SYSCONFDIR)/pvio/|g' \
			$$u >$(DESTDIR)$(UNITDIR)/$${u##*/} && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$${u##*/} || exit 1; \
	done
	install -d $(DESTDIR)$(SYSCONFDIR)/pvio
	for c in $(INSTALL_CONF); do \
		[ -e $(DESTDIR)$(SYSCONFDIR)/pvio/$${c##*/} ] || \
		install -m 0644 $$c $(DESTDIR)$(SYSCONFDIR)/pvio/ || exit 1; \
	done

uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(INSTALL_BIN))) \
		$(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(INSTALL_MAN8))) \
		$(addprefix $(DESTDIR)$(UNITDIR)/,$(notdir $(INSTALL_UNIT))) \
		$(addprefix $(DESTDIR)$(SYSCONFDIR)/pvio/,$(notdir $(INSTALL_CONF)))

# Only what the modules' Kbuild build needs: dkms.conf, frontend's module
# folders, ring/ and protocol/.
dkms-src:
	scripts/dkms-stage.sh "$(DESTDIR)"

deps:
	scripts/deps.sh

# The suite: unit tests, the same under ASan+UBSan and TSan, then the tests
# against real peers and in guests.  scripts/tap-run prints "N passed, N failed".
check: deps
	scripts/check.sh

check-unit: $(UNIT_TESTS)
	scripts/tap-run $(UNIT_TESTS)

lint:
	scripts/lint.sh

bench: all
	scripts/bench.sh

demo: deps
	scripts/demo.sh

clean:
	rm -rf build build-asan build-tsan build-fuzz
	-[ -d "$(KDIR)" ] && $(MAKE) -C $(KDIR) M=$(KMOD_DIR) clean

# make print-VAR: the value of VAR (scripts/check.sh reads the test lists).
print-%:
	@echo $($*)
