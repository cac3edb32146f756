# SPDX-License-Identifier: GPL-2.0
#
# tests/fuzz: libFuzzer targets for every parser of peer input, built with
# clang -fsanitize=fuzzer,address,undefined into build-fuzz/ (never $(O):
# the objects carry the fuzzer's coverage instrumentation).
#
#   make fuzz                  run each target FUZZ_SECONDS (default 60)
#   make fuzz FUZZ_TARGETS=ring FUZZ_SECONDS=600
#   make fuzz-build            just build them
#
# New inputs go to build-fuzz/corpus/<target>/, crashes to
# build-fuzz/crashes/; the committed seeds (and regression inputs) are in
# tests/fuzz/corpus/<target>/.  `make check` runs tests/fuzz/fuzz_run.sh, a
# short smoke of every target (FUZZ_SMOKE_SECONDS, default 5), as TAP.
# Documentation/fuzzing.rst has the details.

FUZZ_O := build-fuzz
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare \
	-D_GNU_SOURCE -pthread -I$(CURDIR)/ring -I$(CURDIR)/protocol -I$(CURDIR) \
	-I$(CURDIR)/backend -fsanitize=fuzzer-no-link $(FUZZ_SAN)
FUZZ_LDFLAGS := -fsanitize=fuzzer $(FUZZ_SAN) -pthread

# pviod's objects, rebuilt with the fuzzer's instrumentation.
FUZZ_PVIOD_OBJS := $(patsubst $(O)/%,$(FUZZ_O)/%,$(PVIOD_OBJS))

FUZZ_ALL := ring blk_req vu_msg inflight mem
# Targets against device code that lands in other commits: built once it exists.
ifneq ($(wildcard backend/net/hdr.c),)
FUZZ_ALL += net_hdr
endif
ifneq ($(wildcard backend/console/device.c),)
FUZZ_ALL += console
endif
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_BINS := $(addprefix $(FUZZ_O)/fuzz_,$(FUZZ_ALL))

INTEGRATION_TESTS += tests/fuzz/fuzz_run.sh

.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	FUZZ_TARGETS="$(FUZZ_TARGETS)" tests/fuzz/fuzz_run.sh --seconds $(FUZZ_SECONDS)

$(FUZZ_O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_O)/fuzz_ring: $(FUZZ_O)/tests/fuzz/fuzz_ring.o $(FUZZ_O)/ring/pvring_dev.o
	$(FUZZ_CC) -o $@ $^ $(FUZZ_LDFLAGS)

$(FUZZ_O)/fuzz_blk_req: $(FUZZ_O)/tests/fuzz/fuzz_blk_req.o $(FUZZ_O)/backend/blk/request.o
	$(FUZZ_CC) -o $@ $^ $(FUZZ_LDFLAGS)

# fuzz_vu.c: the blk device and the session both targets drive; tests/lib/fd.c
# sends their messages.
FUZZ_VU_OBJS := $(FUZZ_O)/tests/fuzz/fuzz_vu.o $(FUZZ_O)/tests/lib/fd.o
$(FUZZ_O)/fuzz_vu_msg: $(FUZZ_O)/tests/fuzz/fuzz_vu_msg.o $(FUZZ_VU_OBJS) $(FUZZ_PVIOD_OBJS)
	$(FUZZ_CC) -o $@ $^ $(FUZZ_LDFLAGS) $(PVIOD_LIBS)

$(FUZZ_O)/fuzz_inflight: $(FUZZ_O)/tests/fuzz/fuzz_inflight.o $(FUZZ_VU_OBJS) $(FUZZ_PVIOD_OBJS)
	$(FUZZ_CC) -o $@ $^ $(FUZZ_LDFLAGS) $(PVIOD_LIBS)

$(FUZZ_O)/fuzz_mem: $(FUZZ_O)/tests/fuzz/fuzz_mem.o $(FUZZ_O)/backend/vhost-user/mem.o \
		$(FUZZ_O)/backend/core/peermem.o $(FUZZ_O)/backend/core/log.o
	$(FUZZ_CC) -o $@ $^ $(FUZZ_LDFLAGS)

$(FUZZ_O)/fuzz_net_hdr: $(FUZZ_O)/tests/fuzz/fuzz_net_hdr.o $(FUZZ_O)/backend/net/hdr.o \
		$(FUZZ_O)/backend/net/filter.o
	$(FUZZ_CC) -o $@ $^ $(FUZZ_LDFLAGS)

# console/device.c is included by its target (its control path is static).
$(FUZZ_O)/fuzz_console: $(FUZZ_O)/tests/fuzz/fuzz_console.o \
		$(filter-out $(FUZZ_O)/backend/console/device.o,$(FUZZ_PVIOD_OBJS))
	$(FUZZ_CC) -o $@ $^ $(FUZZ_LDFLAGS) $(PVIOD_LIBS)

-include $(shell find $(FUZZ_O) -name '*.d' 2>/dev/null)
