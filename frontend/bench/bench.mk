# SPDX-License-Identifier: GPL-2.0
#
# frontend/bench: the benchmark tools.
#
#   pvio-bench      a vhost-user back-end measured from the host through the
#                   userspace front-end (pvio_bench.c, bench_blk.c, bench_net.c;
#                   bench_idle.c: an idle back-end's CPU with devices connected)
#   libpvbench.a    what pvio-bench measures with (bench_lib.c: latency
#                   histogram, verify patterns, test frames, size parsing,
#                   a process' CPU time and sleeps from /proc);
#                   the front-end's tests link it too
#   pvio-ringbench  the cost of a split-ring round trip (ringbench.c), next to
#                   DPDK's rte_ring; both ring sides in one process through
#                   tests/ring/ring_test.h
#   bench-compare   blk: pviod against qemu-storage-daemon and fio, 4 KiB
#                   random reads, through pvio-bench (also make bench-blk)
#   storage_bench.sh  blk: pviod's nbd= and rbd= engines against
#                   qemu-storage-daemon and fio's nbd and rbd engines
#   net_bench.sh    net: 64-byte pps, testpmd virtio_user against pviod loop
#                   and against DPDK's vhost PMD, same run (it takes
#                   tests/lib/lib.sh's helpers)
#   ringtest-compare  the batch-1 round trip against Linux's
#                   tools/virtio/ringtest virtio_ring_0_9, built at run time
#                   from the kernel source tarball into $(O)/ringtest
#   poll-bench      issue 19's table: default against --poll on, fixed
#                   buffers against none, idle CPU, net and ring rows
#   ring_bench.sh   issue 18's table: pvio-ringbench packed against split
#                   (and each with --in-order), batches 1/8/32/128, notify
#                   sleep and none, interleaved rounds, rtt_ns and ns/req
#                   medians, ratios, the target's verdict (smoke-tested by
#                   tests/scripts/ring_bench_test.sh)
#   bench_lib.sh    shell helpers of these scripts (median, min-max, load
#                   average), sourced
#
# BENCHES (make bench, scripts/bench.sh) lists the commands that run them.
#
# Fragments sort by path, so the front-end library's and the ring's
# fragments are read after this one: their archives are spelled out where a
# prerequisite needs them.

BENCH_DIR := $(O)/frontend/bench
BENCH_LIB := $(O)/libpvbench.a
BENCH_LIB_OBJS := $(BENCH_DIR)/bench_lib.o
BENCH_OBJS := $(addprefix $(BENCH_DIR)/,pvio_bench.o bench_blk.o bench_net.o bench_idle.o)
BENCH_RING_LIB := $(O)/libpvring.a
BENCH_CFLAGS_EXTRA := -I$(CURDIR)/frontend/bench -I$(CURDIR)/frontend/virtio-user

$(BENCH_DIR)/%.o: frontend/bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(BENCH_CFLAGS_EXTRA) -MMD -MP -c -o $@ $<

$(BENCH_LIB): $(BENCH_LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(O)/pvio-bench: $(BENCH_OBJS) $(BENCH_LIB) $(O)/libvuser.a
	$(CC) -o $@ $^ $(ALL_LDFLAGS)

PROGS += $(BENCH_LIB) $(O)/pvio-bench
INSTALL_BIN += $(O)/pvio-bench

# pvio-ringbench links DPDK's rte_ring for the comparison when libdpdk is
# installed; without it the comparison says so and the rest still runs.
RTE_RING_CFLAGS := $(shell pkg-config --exists libdpdk 2>/dev/null && \
	echo "-DPVIO_HAVE_RTE_RING $$(pkg-config --cflags-only-I libdpdk) -include rte_config.h")
RTE_RING_LIBS := $(shell pkg-config --exists libdpdk 2>/dev/null && echo "-lrte_ring -lrte_eal")

$(BENCH_DIR)/ringbench.o: frontend/bench/ringbench.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -I$(CURDIR)/tests/ring $(RTE_RING_CFLAGS) -MMD -MP -c -o $@ $<

$(O)/pvio-ringbench: $(BENCH_DIR)/ringbench.o $(BENCH_RING_LIB)
	$(CC) -o $@ $^ $(ALL_LDFLAGS) $(RTE_RING_LIBS)

PROGS += $(O)/pvio-ringbench

.PHONY: bench-blk
bench-blk: $(O)/pvio-bench $(O)/pviod
	frontend/bench/bench-compare

# What make bench runs (a word without '/' or starting with '-' is an
# argument of the command before it).
# storage_bench.sh: the NBD and RBD engines against qemu-storage-daemon
# and fio's nbd and rbd engines, on the same export and image.
BENCHES += frontend/bench/storage_bench.sh
BENCHES += frontend/bench/net_bench.sh \
	$(O)/pvio-ringbench --compare-rte-ring \
	frontend/bench/bench-compare \
	frontend/bench/poll-bench \
	frontend/bench/ring_bench.sh
