// SPDX-License-Identifier: GPL-2.0
/*
 * bench_lib_test - unit tests of pvio-bench's measuring tools: the latency
 * histogram (bucket bounds, percentiles within the promised 1/32 error,
 * merging) and the verify patterns (offset-derived, independent per block,
 * mismatches located exactly), plus size parsing and the CPU time and
 * sleeps of a process read from /proc.
 */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "bench_lib.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

TEST(hist_buckets_cover_every_value)
{
	uint64_t v;
	unsigned int idx, prev = 0;

	/* Every value lands in a bucket whose lower bound is <= it and < 1/32 below. */
	for (v = 0; v < 1000000; v += 1 + v / 50) {
		idx = bench_hist_index(v);
		ASSERT_GT(BENCH_HIST_BUCKETS, idx);
		ASSERT_LE(bench_hist_lower(idx), v);
		ASSERT_GE(prev, 0u);
		ASSERT_LE(prev, idx) TH_LOG("buckets not monotonic at %llu", (unsigned long long)v);
		if (v >= 32) {
			uint64_t below = v - bench_hist_lower(idx);

			ASSERT_LE(below, v / 32) TH_LOG("v=%llu", (unsigned long long)v);
		}
		prev = idx;
	}
	ASSERT_GT(BENCH_HIST_BUCKETS, bench_hist_index(UINT64_MAX));
	ASSERT_EQ(bench_hist_index(bench_hist_lower(777)), 777u);
}

TEST(hist_percentiles_match_sorted_samples)
{
	enum { N = 100000 };
	uint64_t *s = malloc(N * sizeof(*s)), x = 12345;
	struct bench_hist h;
	const double pcts[] = { 1, 50, 90, 99, 99.9 };
	unsigned int i;

	ASSERT_NE(NULL, s);
	bench_hist_init(&h);
	for (i = 0; i < N; i++) {
		/* Long-tailed, like latencies: mostly ~10 us, a few ms. */
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		s[i] = 5000 + (x >> 40) % 10000 + ((x >> 20) % 1000 == 0 ? 3000000 : 0);
		bench_hist_add(&h, s[i]);
	}
	qsort(s, N, sizeof(*s), cmp_u64);
	EXPECT_EQ(s[0], h.min);
	EXPECT_EQ(s[N - 1], h.max);
	EXPECT_EQ(s[N - 1], bench_hist_percentile(&h, 100));
	for (i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
		unsigned long long exact = s[(size_t)(N * pcts[i] / 100.0 + 0.999999) - 1];
		unsigned long long got = bench_hist_percentile(&h, pcts[i]);
		unsigned long long err = got > exact ? got - exact : exact - got;

		EXPECT_LE(err, exact / 32 + 1) TH_LOG("p%g: %llu, exact %llu", pcts[i], got, exact);
	}
	free(s);
}

TEST(hist_merge_and_empty)
{
	struct bench_hist a, b;

	bench_hist_init(&a);
	bench_hist_init(&b);
	EXPECT_EQ(0u, bench_hist_percentile(&a, 99));
	EXPECT_EQ(0.0, bench_hist_mean(&a));
	bench_hist_add(&a, 100);
	bench_hist_add(&b, 300);
	bench_hist_merge(&a, &b);
	EXPECT_EQ(2u, a.count);
	EXPECT_EQ(200.0, bench_hist_mean(&a));
	EXPECT_EQ(100u, a.min);
	EXPECT_EQ(300u, a.max);
	EXPECT_EQ(300u, bench_hist_percentile(&a, 99));
}

TEST(pattern_roundtrip_and_independent_blocks)
{
	static uint64_t buf[8192 / 8], blk[512 / 8];

	bench_pattern_fill(buf, sizeof(buf), 42, 1 << 20);
	EXPECT_EQ(0, bench_pattern_check(buf, sizeof(buf), 42, 1 << 20, NULL));
	/* Any sector of it checks on its own at its own offset... */
	memcpy(blk, (char *)buf + 3584, 512);
	EXPECT_EQ(0, bench_pattern_check(blk, 512, 42, (1 << 20) + 3584, NULL));
	/* ...and fails at any other offset or seed. */
	EXPECT_EQ(-EILSEQ, bench_pattern_check(blk, 512, 42, (1 << 20) + 4096, NULL));
	EXPECT_EQ(-EILSEQ, bench_pattern_check(blk, 512, 43, (1 << 20) + 3584, NULL));
	/* Same offset, different words: no two words of a block repeat. */
	EXPECT_NE(buf[0], buf[1]);
}

TEST(pattern_mismatch_reports_exact_offset)
{
	static uint64_t buf[4096 / 8];
	struct bench_pattern_miss miss = { 0 };

	bench_pattern_fill(buf, sizeof(buf), 7, 8192);
	((uint8_t *)buf)[1234] ^= 0x10; /* one bit in word 154 */
	ASSERT_EQ(-EILSEQ, bench_pattern_check(buf, sizeof(buf), 7, 8192, &miss));
	EXPECT_EQ(8192u + 1232, miss.offset);
	EXPECT_EQ(bench_pattern_word(7, 8192 + 1232), miss.expected);
	EXPECT_EQ(buf[154], miss.found);
	/* Zeroes (a block never written) are a mismatch too. */
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(-EILSEQ, bench_pattern_check(buf, sizeof(buf), 7, 8192, &miss));
	EXPECT_EQ(8192u, miss.offset);
}

TEST(parse_size)
{
	uint64_t v;

	EXPECT_EQ(0, bench_parse_size("4k", &v));
	EXPECT_EQ(4096u, v);
	EXPECT_EQ(0, bench_parse_size("1M", &v));
	EXPECT_EQ(1u << 20, v);
	EXPECT_EQ(0, bench_parse_size("2GiB", &v));
	EXPECT_EQ(2ull << 30, v);
	EXPECT_EQ(0, bench_parse_size("512", &v));
	EXPECT_EQ(512u, v);
	EXPECT_EQ(-EINVAL, bench_parse_size("4x", &v));
	EXPECT_EQ(-EINVAL, bench_parse_size("", &v));
	EXPECT_EQ(-EINVAL, bench_parse_size("-1", &v));
	EXPECT_EQ(-EINVAL, bench_parse_size("99999999999t", &v));
}

TEST(proc_cpu_ticks_and_sleeps)
{
	long hz = sysconf(_SC_CLK_TCK), t0, t1, s0, s1;
	struct timespec a, b, ms = { 0, 1000000 };
	int i;

	t0 = bench_proc_cpu_ticks(getpid());
	s0 = bench_proc_sleeps(getpid());
	ASSERT_LE(0, t0);
	ASSERT_LE(0, s0);
	/* 50 ms of CPU: at least a tick (of 100 Hz or more) shows. */
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
	do
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
	while ((b.tv_sec - a.tv_sec) * 1000000000L + b.tv_nsec - a.tv_nsec < 50000000L);
	/* 20 sleeps: 20 voluntary context switches at least. */
	for (i = 0; i < 20; i++)
		nanosleep(&ms, NULL);
	t1 = bench_proc_cpu_ticks(getpid());
	s1 = bench_proc_sleeps(getpid());
	EXPECT_LE(t0 + 50 * hz / 1000 - 1, t1);
	EXPECT_LE(s0 + 20, s1);
	/* A process that is gone: -1, not 0. */
	EXPECT_EQ(-1, bench_proc_cpu_ticks(0x7ffffff0L));
	EXPECT_EQ(-1, bench_proc_sleeps(0x7ffffff0L));
}

TEST_HARNESS_MAIN
