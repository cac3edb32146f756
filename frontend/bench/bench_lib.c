// SPDX-License-Identifier: GPL-2.0
/*
 * bench_lib.c - latency histogram, verify patterns, size parsing and a
 * process' CPU time for pvio-bench (see bench_lib.h).
 */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_lib.h"

/**
 * bench_hist_init - an empty histogram
 * @h: the histogram
 */
void bench_hist_init(struct bench_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

/**
 * bench_hist_index - the bucket of a value
 * @v: the value
 *
 * Return: an index below BENCH_HIST_BUCKETS.
 */
unsigned int bench_hist_index(uint64_t v)
{
	unsigned int msb, shift;

	if (v < BENCH_HIST_SUB)
		return (unsigned int)v;
	msb = 63 - (unsigned int)__builtin_clzll(v);
	shift = msb - BENCH_HIST_SUB_BITS;
	return (shift + 1) * BENCH_HIST_SUB + (unsigned int)((v >> shift) & (BENCH_HIST_SUB - 1));
}

/**
 * bench_hist_lower - the smallest value of a bucket
 * @idx: a bucket index
 *
 * Return: the lower bound; the bucket spans 1 << (idx / 32 - 1) values above 32.
 */
uint64_t bench_hist_lower(unsigned int idx)
{
	unsigned int shift;

	if (idx < BENCH_HIST_SUB)
		return idx;
	shift = idx / BENCH_HIST_SUB - 1;
	return (uint64_t)(BENCH_HIST_SUB + idx % BENCH_HIST_SUB) << shift;
}

/**
 * bench_hist_merge - add one histogram into another
 * @dst: the sum
 * @src: added
 */
void bench_hist_merge(struct bench_hist *dst, const struct bench_hist *src)
{
	unsigned int i;

	for (i = 0; i < BENCH_HIST_BUCKETS; i++)
		dst->bucket[i] += src->bucket[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

/**
 * bench_hist_percentile - the value below which @pct percent of samples fall
 * @h: the histogram
 * @pct: 0..100
 *
 * Return: the middle of the bucket holding that sample, clamped to the
 * observed min and max (so p100 is the maximum exactly); 0 when empty.
 */
uint64_t bench_hist_percentile(const struct bench_hist *h, double pct)
{
	uint64_t rank, seen = 0, lo, width, v;
	unsigned int i;

	if (!h->count)
		return 0;
	if (pct <= 0)
		return h->min;
	if (pct >= 100)
		return h->max;
	/* The sample of rank ceil(pct% of count), 1-based. */
	rank = (uint64_t)((double)h->count * pct / 100.0);
	if ((double)rank < (double)h->count * pct / 100.0)
		rank++;
	if (rank == 0)
		rank = 1;
	for (i = 0; i < BENCH_HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank)
			break;
	}
	if (i == BENCH_HIST_BUCKETS)
		return h->max;
	lo = bench_hist_lower(i);
	width = i < BENCH_HIST_SUB ? 1 : 1ull << (i / BENCH_HIST_SUB - 1);
	v = lo + width / 2;
	if (v < h->min)
		v = h->min;
	if (v > h->max)
		v = h->max;
	return v;
}

/* splitmix64's finaliser: every input bit affects every output bit. */
static inline uint64_t bench_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

/**
 * bench_pattern_word - the pattern word at a device offset
 * @seed: the run's seed
 * @offset: device byte offset, a multiple of 8
 */
uint64_t bench_pattern_word(uint64_t seed, uint64_t offset)
{
	return bench_mix64(seed * 0x9e3779b97f4a7c15ull + (offset >> 3) + 1);
}

/**
 * bench_pattern_fill - fill a buffer with the pattern of the range it will be written to
 * @buf: 8-byte aligned buffer
 * @len: bytes, a multiple of 8
 * @seed: the run's seed
 * @offset: device byte offset of @buf[0], a multiple of 8
 */
void bench_pattern_fill(void *buf, size_t len, uint64_t seed, uint64_t offset)
{
	uint64_t *w = buf;
	size_t i;

	for (i = 0; i < len / 8; i++)
		w[i] = bench_pattern_word(seed, offset + i * 8);
}

/**
 * bench_pattern_check - compare a buffer read from @offset with the pattern
 * @buf: 8-byte aligned buffer
 * @len: bytes, a multiple of 8
 * @seed: the run's seed
 * @offset: device byte offset @buf was read from
 * @miss: on mismatch, where and what (may be NULL)
 *
 * Return: 0 when it matches, -EILSEQ at the first wrong word.
 */
int bench_pattern_check(const void *buf, size_t len, uint64_t seed, uint64_t offset,
			struct bench_pattern_miss *miss)
{
	const uint64_t *w = buf;
	size_t i;

	for (i = 0; i < len / 8; i++) {
		uint64_t want = bench_pattern_word(seed, offset + i * 8);

		if (w[i] == want)
			continue;
		if (miss) {
			miss->offset = offset + i * 8;
			miss->expected = want;
			miss->found = w[i];
		}
		return -EILSEQ;
	}
	return 0;
}

/**
 * bench_parse_size - parse a byte count with an optional k/m/g/t suffix
 * @s: the text ("4k", "1M", "4096", "1g")
 * @out: the bytes
 *
 * Return: 0, or -EINVAL for anything else (including overflow).
 */
int bench_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	if (*end && strchr("kmgtKMGT", *end)) {
		/* k=10, m=20, g=30, t=40: the position in "kmgt" picks the power. */
		shift = 10 * (unsigned int)(strchr("kmgt", *end | 0x20) - "kmgt" + 1);
		end++;
	}
	if (*end == 'i' || *end == 'I')
		end++;
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end)
		return -EINVAL;
	if (shift && v > (~0ull >> shift))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

struct bench_frame_body {
	uint8_t dst[6], src[6];
	uint8_t type[2]; /* big-endian EtherType */
	uint8_t seq[8]; /* little-endian, unaligned-safe */
	uint8_t ts[8];
	uint8_t len[4];
	uint8_t csum[4]; /* FNV-1a over bytes 12..len, csum zeroed */
} __attribute__((packed));

static uint32_t bench_frame_csum(const uint8_t *p, size_t len)
{
	const size_t csum_at = offsetof(struct bench_frame_body, csum);
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 12; i < len; i++) {
		uint8_t b = (i >= csum_at && i < csum_at + 4) ? 0 : p[i];

		h = (h ^ b) * 16777619u;
	}
	return h;
}

/**
 * bench_frame_build - a self-checking test frame
 * @frame: at least @len bytes
 * @len: BENCH_FRAME_MIN up to any size
 * @seq: sequence number to carry
 * @ts_ns: timestamp to carry (for round-trip latency)
 */
void bench_frame_build(void *frame, size_t len, uint64_t seq, uint64_t ts_ns)
{
	struct bench_frame_body *f = frame;
	uint8_t *p = frame;
	uint32_t c, l = (uint32_t)len;
	size_t i;

	memcpy(f->dst, "\x02\x00\x00\x00\x00\x02", 6);
	memcpy(f->src, "\x02\x00\x00\x00\x00\x01", 6);
	f->type[0] = BENCH_FRAME_ETHERTYPE >> 8;
	f->type[1] = BENCH_FRAME_ETHERTYPE & 0xff;
	for (i = 0; i < 8; i++) {
		f->seq[i] = (uint8_t)(seq >> (8 * i));
		f->ts[i] = (uint8_t)(ts_ns >> (8 * i));
	}
	for (i = 0; i < 4; i++)
		f->len[i] = (uint8_t)(l >> (8 * i));
	for (i = sizeof(*f); i < len; i++)
		p[i] = (uint8_t)(seq + i * 7);
	c = bench_frame_csum(p, len);
	for (i = 0; i < 4; i++)
		f->csum[i] = (uint8_t)(c >> (8 * i));
}

/**
 * bench_frame_check - verify a test frame that came back
 * @frame: the frame
 * @len: its length as received
 * @seq: out: its sequence number
 * @ts_ns: out: its timestamp
 *
 * Return: 0, or -EILSEQ when the type, length or checksum is wrong.
 */
int bench_frame_check(const void *frame, size_t len, uint64_t *seq, uint64_t *ts_ns)
{
	const struct bench_frame_body *f = frame;
	uint64_t s = 0, t = 0;
	uint32_t l = 0, c = 0;
	size_t i;

	if (len < sizeof(*f) || f->type[0] != BENCH_FRAME_ETHERTYPE >> 8 ||
	    f->type[1] != (BENCH_FRAME_ETHERTYPE & 0xff))
		return -EILSEQ;
	for (i = 0; i < 8; i++) {
		s |= (uint64_t)f->seq[i] << (8 * i);
		t |= (uint64_t)f->ts[i] << (8 * i);
	}
	for (i = 0; i < 4; i++) {
		l |= (uint32_t)f->len[i] << (8 * i);
		c |= (uint32_t)f->csum[i] << (8 * i);
	}
	if (l != len || c != bench_frame_csum(frame, len))
		return -EILSEQ;
	*seq = s;
	*ts_ns = t;
	return 0;
}

/**
 * bench_proc_cpu_ticks - the CPU time a process has used
 * @pid: the process
 *
 * Return: utime + stime of /proc/PID/stat in clock ticks, or -1.
 */
long bench_proc_cpu_ticks(long pid)
{
	unsigned long ut, st;
	char path[64], buf[1024], *p;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* After the command name's ')': state is field 3, utime 14, stime 15. */
	p = strrchr(buf, ')');
	if (!p ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (long)(ut + st);
}

/**
 * bench_proc_sleeps - how often a process' threads slept
 * @pid: the process
 *
 * A thread that exits between the listing and the read is left out.
 *
 * Return: the sum of voluntary_ctxt_switches over /proc/PID/task/, or -1.
 */
long bench_proc_sleeps(long pid)
{
	char path[320], line[256];
	struct dirent *de;
	long sum = 0, v;
	DIR *d;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/task", pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/task/%s/status", pid, de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "voluntary_ctxt_switches: %ld", &v) == 1)
				sum += v;
		fclose(f);
	}
	closedir(d);
	return sum;
}
