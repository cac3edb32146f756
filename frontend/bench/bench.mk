# SPDX-License-Identifier: GPL-2.0
#
# frontend/bench: the benchmark tools.
#
#   pvio-bench      a vhost-user back-end measured from the host through the
#                   userspace front-end (pvio_bench.c, bench_blk.c, bench_net.c)
#   libpvbench.a    what pvio-bench measures with (bench_lib.c: latency
#                   histogram, verify patterns, test frames, size parsing);
#                   the front-end's tests link it too
#
# Fragments sort by path, so the front-end library's fragment is read after
# this one: its archive is spelled out where a prerequisite needs it.

BENCH_DIR := $(O)/frontend/bench
BENCH_LIB := $(O)/libpvbench.a
BENCH_LIB_OBJS := $(BENCH_DIR)/bench_lib.o
BENCH_OBJS := $(addprefix $(BENCH_DIR)/,pvio_bench.o bench_blk.o bench_net.o)
BENCH_CFLAGS_EXTRA := -I$(CURDIR)/frontend/bench -I$(CURDIR)/frontend/user

$(BENCH_DIR)/%.o: frontend/bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(BENCH_CFLAGS_EXTRA) -MMD -MP -c -o $@ $<

$(BENCH_LIB): $(BENCH_LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(O)/pvio-bench: $(BENCH_OBJS) $(BENCH_LIB) $(O)/libpvio-vu.a
	$(CC) -o $@ $^ $(ALL_LDFLAGS)

PROGS += $(BENCH_LIB) $(O)/pvio-bench
