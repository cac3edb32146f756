/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bench_lib.h - what pvio-bench measures with: a latency histogram,
 * self-checking data patterns and test frames, a process' CPU time and
 * sleeps.  Kept apart from the driver
 * (built as libpvbench.a) so the unit tests can take them without a back-end.
 */
#ifndef PVIO_BENCH_LIB_H
#define PVIO_BENCH_LIB_H

#include <stddef.h>
#include <stdint.h>

/*
 * Log-linear histogram: values below 32 have a bucket each; above, every
 * power of two is split into 32 buckets, so a bucket is at most 1/32 (3.1%)
 * of its value wide.  Fixed size, no allocation, mergeable: each thread keeps
 * its own and the report merges them.
 */
#define BENCH_HIST_SUB_BITS 5
#define BENCH_HIST_SUB (1u << BENCH_HIST_SUB_BITS)
#define BENCH_HIST_BUCKETS ((64 - BENCH_HIST_SUB_BITS + 1) * BENCH_HIST_SUB)

struct bench_hist {
	uint64_t count;
	uint64_t sum; /* for the mean; ns sums fit for centuries */
	uint64_t min, max;
	uint64_t bucket[BENCH_HIST_BUCKETS];
};

void bench_hist_init(struct bench_hist *h);
void bench_hist_merge(struct bench_hist *dst, const struct bench_hist *src);
uint64_t bench_hist_percentile(const struct bench_hist *h, double pct);
unsigned int bench_hist_index(uint64_t v);
uint64_t bench_hist_lower(unsigned int idx);

static inline void bench_hist_add(struct bench_hist *h, uint64_t v)
{
	h->bucket[bench_hist_index(v)]++;
	h->count++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

static inline double bench_hist_mean(const struct bench_hist *h)
{
	return h->count ? (double)h->sum / (double)h->count : 0.0;
}

/*
 * Data patterns for --verify: the 8-byte word at device byte offset o holds
 * bench_pattern_word(seed, o).  It depends only on the seed and the absolute
 * offset, so any block can be checked on its own, in any order, on any queue,
 * and a block read back from the wrong place fails.
 */
uint64_t bench_pattern_word(uint64_t seed, uint64_t offset);
void bench_pattern_fill(void *buf, size_t len, uint64_t seed, uint64_t offset);

struct bench_pattern_miss {
	uint64_t offset; /* device byte offset of the first bad word */
	uint64_t expected;
	uint64_t found;
};

int bench_pattern_check(const void *buf, size_t len, uint64_t seed, uint64_t offset,
			struct bench_pattern_miss *miss);

/*
 * Test frames for the net benchmark and tests: Ethernet to 02:00:00:00:00:02
 * from 02:00:00:00:00:01, EtherType 0x88b5 (local experimental), then a
 * sequence number, a timestamp, the length and a checksum over everything
 * after the MAC addresses, so a reflector may swap the addresses.
 */
#define BENCH_FRAME_MIN 60
#define BENCH_FRAME_ETHERTYPE 0x88b5

void bench_frame_build(void *frame, size_t len, uint64_t seq, uint64_t ts_ns);
int bench_frame_check(const void *frame, size_t len, uint64_t *seq, uint64_t *ts_ns);

/* Parse "4k", "1M", "512", "2g" (powers of 1024); 0 or -EINVAL. */
int bench_parse_size(const char *s, uint64_t *out);

/*
 * What a process (the back-end) has cost so far, from /proc: its CPU time
 * (utime + stime) in clock ticks, and how often its threads slept (the sum
 * of their voluntary context switches).  -1 when it is gone.
 */
long bench_proc_cpu_ticks(long pid);
long bench_proc_sleeps(long pid);

#endif /* PVIO_BENCH_LIB_H */
