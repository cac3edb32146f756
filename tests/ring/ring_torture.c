// SPDX-License-Identifier: GPL-2.0
/*
 * ring_torture.c - driver and device on two threads (two cores), hammering one
 * ring with random chains and checking every byte end to end, every run for
 * both ring formats (split and packed), some with VIRTIO_F_IN_ORDER.
 *
 * Each request is a chain of 0-3 readable and 0-3 writable segments (at
 * least one), direct or indirect, scattered over a buffer pool that the
 * device sees as several adjacent memory regions, so some segments straddle
 * two regions and become two host segments.  The readable bytes carry, in
 * order: a u32 "bytes to write", random payload, and a checksum of all that
 * precedes it.  The device verifies the checksum, writes a pattern seeded by
 * it into the first "bytes to write" writable bytes and reports that length;
 * the driver checks the length, the pattern and that the bytes after it are
 * untouched.
 *
 * Notifications are real in most runs: eventfds for kicks and interrupts,
 * each side sleeping in poll() only after the race-free enable/re-check, and
 * notifying only when kick_prepare / should_notify say so.  A wrong
 * suppression decision is a lost wakeup, which shows as a 10 s timeout and a
 * failed run, not as a hang.  Other runs poll.
 *
 *   ring_torture [--count N] [--seed S]
 *
 * Default 10 million requests over all runs (200 000 with PVIO_SANITIZER set
 * in the environment, for the ASan and TSan builds).  TAP 13 output.
 */
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "ring_test.h"

#define MAX_OUT 3
#define MAX_IN 3
#define MAX_SEG (MAX_OUT + MAX_IN)
#define SEG_MAX_LEN 64
#define AREA (MAX_SEG * SEG_MAX_LEN) /* pool bytes per request */
#define CANARY 0xee
#define WAIT_MS 10000
#define NREGIONS 8

struct torture_cfg {
	const char *name;
	enum pvring_format format;
	unsigned int num;
	bool event_idx;
	unsigned int indirect_max; /* 0: direct only */
	bool notify; /* eventfds; else both sides poll */
	unsigned int weight; /* share of the requests */
	bool in_order; /* VIRTIO_F_IN_ORDER: the device batches runs of used-whole chains */
};

/*
 * Weights share out the count: sleeping runs on small rings spend most of
 * their time in wake-ups (tens of microseconds in a VM), polling runs are
 * cheap, so those get more of the requests.
 */
static const struct torture_cfg runs[] = {
	{ "event_idx, indirect, notify", PVRING_SPLIT, 256, true, 4, true, 12, false },
	{ "flags, indirect, notify", PVRING_SPLIT, 128, false, 4, true, 6, false },
	{ "event_idx, direct, notify", PVRING_SPLIT, 64, true, 0, true, 2, false },
	{ "flags, direct, notify", PVRING_SPLIT, 16, false, 0, true, 1, false },
	{ "event_idx, indirect, poll", PVRING_SPLIT, 256, true, 6, false, 20, false },
	{ "flags, direct, poll", PVRING_SPLIT, 32, false, 0, false, 9, false },
	{ "packed, event_idx, indirect, notify", PVRING_PACKED, 256, true, 4, true, 12, false },
	{ "packed, flags, indirect, notify", PVRING_PACKED, 128, false, 4, true, 6, false },
	{ "packed, event_idx, direct, notify", PVRING_PACKED, 64, true, 0, true, 2, false },
	{ "packed, flags, direct, notify", PVRING_PACKED, 16, false, 0, true, 1, false },
	{ "packed, event_idx, indirect, poll", PVRING_PACKED, 256, true, 6, false, 20, false },
	{ "packed, flags, direct, poll", PVRING_PACKED, 32, false, 0, false, 9, false },
	{ "in_order, event_idx, indirect, notify", PVRING_SPLIT, 128, true, 4, true, 4, true },
	{ "in_order, flags, direct, poll", PVRING_SPLIT, 32, false, 0, false, 6, true },
	{ "packed, in_order, event_idx, indirect, notify", PVRING_PACKED, 128, true, 4, true, 4,
	  true },
	{ "packed, in_order, event_idx, direct, poll", PVRING_PACKED, 32, true, 0, false, 6, true },
	{ "packed, in_order, flags, direct, notify", PVRING_PACKED, 16, false, 0, true, 1, true },
};

/* What the driver remembers about a request in flight. */
struct torture_req {
	unsigned int out, in;
	u32 off[MAX_SEG]; /* pool offsets */
	u32 len[MAX_SEG];
	u32 want; /* writable bytes the device must fill */
	u32 seed; /* checksum of the readable bytes */
	struct torture_req *next_free;
};

struct torture {
	const struct torture_cfg *cfg;
	struct tring t;
	u64 count;
	u64 seed;
	int kick_fd, call_fd;
	atomic_bool stop;
	atomic_int failed;
	char why[256];
	struct torture_req *req;
	/* Statistics, each written by one thread and read after join. */
	u64 kicks, irqs, waits_drv, waits_dev, popped;
};

static void torture_fail(struct torture *tt, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void torture_fail(struct torture *tt, const char *fmt, ...)
{
	va_list ap;
	int expected = 0;

	if (atomic_compare_exchange_strong(&tt->failed, &expected, 1)) {
		va_start(ap, fmt);
		vsnprintf(tt->why, sizeof(tt->why), fmt, ap);
		va_end(ap);
	}
	atomic_store(&tt->stop, true);
}

/* Fletcher-like: cheap, order-sensitive, catches lost, swapped or stale bytes. */
static inline u32 torture_csum_step(u32 c, u8 b)
{
	u32 a = (c & 0xffff) + b, s = (c >> 16) + a;

	return (a & 0xffff) | (s << 16);
}

static inline u8 torture_pattern(u32 seed, u32 k)
{
	return (u8)((seed >> ((k & 3) * 8)) + k * 7);
}

static void torture_pin(int cpu)
{
	cpu_set_t set;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/*
 * Polling: spin a while, then give the CPU away, so a polling run does not
 * crawl when the machine is busy (a descheduled peer cannot make progress
 * while we burn its core's time slice).
 */
static inline void torture_relax(unsigned int *spins)
{
	if (++*spins & 255) {
#ifdef __x86_64__
		__builtin_ia32_pause();
#endif
		return;
	}
	sched_yield();
}

static void torture_signal(int fd)
{
	u64 one = 1;

	if (write(fd, &one, sizeof(one)) != sizeof(one))
		abort();
}

/* Sleep until @fd is signalled or the run stops.  Return: false on timeout. */
static bool torture_wait(struct torture *tt, int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	u64 v;
	int r;

	do
		r = poll(&pfd, 1, WAIT_MS);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return atomic_load(&tt->stop);
	if (read(fd, &v, sizeof(v)) != sizeof(v))
		abort();
	return true;
}

/* Device: check the readable bytes, fill the writable ones; Return: used len. */
static u32 torture_serve(struct torture *tt, const struct pvring_chain *c,
			 const struct pvring_seg *seg)
{
	u8 buf[MAX_OUT * SEG_MAX_LEN];
	u32 n = 0, i, k, want, seed, csum = 0, got;

	if (c->out_len > sizeof(buf)) {
		torture_fail(tt, "device: %" PRIu64 " readable bytes", c->out_len);
		return 0;
	}
	for (i = 0; i < c->nout; i++) {
		memcpy(buf + n, seg[i].base, seg[i].len);
		n += seg[i].len;
	}
	if (n) {
		if (n < 8) {
			torture_fail(tt, "device: only %u readable bytes", n);
			return 0;
		}
		for (k = 0; k < n - 4; k++)
			csum = torture_csum_step(csum, buf[k]);
		memcpy(&got, buf + n - 4, 4);
		memcpy(&want, buf, 4);
		if (got != csum) {
			torture_fail(tt, "device: head %u checksum %08x, expected %08x", c->head,
				     csum, got);
			return 0;
		}
		seed = csum;
	} else {
		want = (u32)c->in_len;
		seed = 0x5a5a5a5a;
	}
	if (want > c->in_len) {
		torture_fail(tt, "device: asked to write %u of %" PRIu64 " bytes", want, c->in_len);
		return 0;
	}
	k = 0;
	for (i = c->nout; i < c->nseg && k < want; i++) {
		u8 *p = seg[i].base;
		size_t j;

		for (j = 0; j < seg[i].len && k < want; j++, k++)
			p[j] = torture_pattern(seed, k);
	}
	return want;
}

static void *torture_device(void *arg)
{
	struct torture *tt = arg;
	struct tring *t = &tt->t;
	struct pvring_seg seg[2 * MAX_SEG];
	struct pvring_chain c;
	unsigned int npend = 0, batch = 1, spins = 0;
	u16 head = 0;
	u32 len = 0;
	u64 rnd = tt->seed ^ 0xdeadbeef;
	int r;

	torture_pin(1);
	pvring_dev_disable_notify(&t->dev);
	while (!atomic_load_explicit(&tt->stop, memory_order_relaxed)) {
		r = pvring_dev_pop(&t->dev, &c, seg, 2 * MAX_SEG);
		if (r < 0) {
			torture_fail(tt, "device: pop: %d", r);
			break;
		}
		if (r == 1) {
			head = c.head;
			len = (u32)torture_serve(tt, &c, seg);
			tt->popped++;
			/* A lone completion sometimes goes out in one call. */
			if (++npend == 1 && batch == 1 && (tring_rand(&rnd) & 1)) {
				pvring_dev_push_used(&t->dev, head, len);
			} else {
				pvring_dev_put(&t->dev, head, len);
				if (npend < batch)
					continue;
			}
		}
		/* Ring empty or batch full: publish, maybe notify. */
		if (npend) {
			pvring_dev_publish(&t->dev);
			npend = 0;
			batch = 1 + tring_rand(&rnd) % 16;
			if (pvring_dev_should_notify(&t->dev)) {
				tt->irqs++;
				if (tt->cfg->notify)
					torture_signal(tt->call_fd);
			}
			continue;
		}
		if (!tt->cfg->notify) {
			torture_relax(&spins);
			continue;
		}
		/* Idle: ask for kicks, re-check, then sleep. */
		if (!pvring_dev_enable_notify(&t->dev)) {
			pvring_dev_disable_notify(&t->dev);
			continue;
		}
		tt->waits_dev++;
		if (!torture_wait(tt, tt->kick_fd)) {
			torture_fail(tt,
				     "device: no kick for %d ms with the ring empty (lost kick)",
				     WAIT_MS);
			break;
		}
		pvring_dev_disable_notify(&t->dev);
	}
	return NULL;
}

/* Driver: build one random request into @rq and add it. */
static int torture_submit(struct torture *tt, struct torture_req *rq, u64 *rnd)
{
	struct tring *t = &tt->t;
	struct pvring_sg sg[MAX_SEG];
	size_t base = (size_t)(rq - tt->req) * AREA;
	u32 out_len = 0, in_len = 0, csum = 0, i, k, pos;
	u64 r = tring_rand(rnd);
	int ret;

	rq->out = r % (MAX_OUT + 1);
	rq->in = (r >> 8) % (MAX_IN + 1);
	if (!rq->out && !rq->in)
		rq->out = 1;
	for (i = 0; i < rq->out + rq->in; i++) {
		rq->off[i] = (u32)(base + i * SEG_MAX_LEN);
		rq->len[i] = 1 + (u32)(tring_rand(rnd) % SEG_MAX_LEN);
		if (i < rq->out)
			out_len += rq->len[i];
		else
			in_len += rq->len[i];
	}
	if (rq->out && out_len < 8) {
		rq->len[0] += 8 - out_len;
		out_len = 8;
	}
	rq->want = in_len ? (u32)(tring_rand(rnd) % (in_len + 1)) : 0;
	if (rq->out) {
		/* The readable stream: want, payload, checksum. */
		pos = 0;
		for (i = 0; i < rq->out; i++) {
			u8 *p = tring_hva(t, rq->off[i]);

			for (k = 0; k < rq->len[i]; k++, pos++) {
				u8 b;

				if (pos < 4)
					b = (u8)(rq->want >> (8 * pos));
				else if (pos >= out_len - 4)
					b = (u8)(csum >> (8 * (pos - (out_len - 4))));
				else
					b = (u8)tring_rand(rnd);
				p[k] = b;
				if (pos < out_len - 4)
					csum = torture_csum_step(csum, b);
			}
		}
		rq->seed = csum;
	} else {
		rq->want = in_len;
		rq->seed = 0x5a5a5a5a;
	}
	for (i = rq->out; i < rq->out + rq->in; i++)
		memset(tring_hva(t, rq->off[i]), CANARY, rq->len[i]);
	for (i = 0; i < rq->out + rq->in; i++)
		sg[i] = (struct pvring_sg){ tring_gpa(t, rq->off[i]), rq->len[i] };
	ret = pvring_drv_add(&t->drv, sg, rq->out, rq->in, rq);
	if (ret && ret != -ENOSPC)
		torture_fail(tt, "driver: add: %d", ret);
	return ret;
}

/* Driver: check a completed request. */
static void torture_check(struct torture *tt, struct torture_req *rq, u32 len)
{
	u32 i, j, k = 0;

	if (len != rq->want) {
		torture_fail(tt, "driver: used len %u, expected %u", len, rq->want);
		return;
	}
	for (i = rq->out; i < rq->out + rq->in; i++) {
		const u8 *p = tring_hva(&tt->t, rq->off[i]);

		for (j = 0; j < rq->len[i]; j++, k++) {
			u8 want = k < rq->want ? torture_pattern(rq->seed, k) : CANARY;

			if (p[j] != want) {
				torture_fail(tt, "driver: writable byte %u is %#x, expected %#x", k,
					     p[j], want);
				return;
			}
		}
	}
}

static void torture_driver(struct torture *tt)
{
	struct tring *t = &tt->t;
	struct torture_req *free_req = NULL, *rq;
	u64 rnd = tt->seed, submitted = 0, done = 0, inflight = 0, limit = 1, change = 0;
	unsigned int i, spins = 0;
	u32 len;

	torture_pin(0);
	for (i = 0; i < t->num; i++) {
		tt->req[i].next_free = free_req;
		free_req = &tt->req[i];
	}
	pvring_drv_disable_cb(&t->drv);
	while (done < tt->count && !atomic_load_explicit(&tt->stop, memory_order_relaxed)) {
		unsigned int burst = 1 + tring_rand(&rnd) % 32, added = 0;
		bool progress = false;

		/* Vary the occupancy: ping-pong at 1, a full ring at num. */
		if (submitted >= change) {
			limit = 1 + tring_rand(&rnd) % t->num;
			change = submitted + 1024;
		}
		while (added < burst && submitted < tt->count && inflight < limit && free_req) {
			rq = free_req;
			if (torture_submit(tt, rq, &rnd))
				break;
			free_req = rq->next_free;
			added++;
			submitted++;
			inflight++;
		}
		if (added) {
			progress = true;
			if (pvring_drv_kick_prepare(&t->drv)) {
				tt->kicks++;
				if (tt->cfg->notify)
					torture_signal(tt->kick_fd);
			}
		}
		while ((rq = pvring_drv_get_used(&t->drv, &len))) {
			torture_check(tt, rq, len);
			rq->next_free = free_req;
			free_req = rq;
			done++;
			inflight--;
			progress = true;
		}
		if (pvring_drv_broken(&t->drv)) {
			torture_fail(tt, "driver: ring broken");
			break;
		}
		if (progress && inflight < limit && submitted < tt->count)
			continue;
		if (!inflight)
			continue;
		if (!tt->cfg->notify) {
			torture_relax(&spins);
			continue;
		}
		/* Nothing to do until completions come: enable, re-check, sleep. */
		if (t->event_idx && (tring_rand(&rnd) & 1) ?
			    !pvring_drv_enable_cb_delayed(&t->drv) :
			    !pvring_drv_enable_cb(&t->drv)) {
			pvring_drv_disable_cb(&t->drv);
			continue;
		}
		tt->waits_drv++;
		if (!torture_wait(tt, tt->call_fd)) {
			torture_fail(tt,
				     "driver: no interrupt for %d ms with %" PRIu64
				     " in flight (lost interrupt)",
				     WAIT_MS, inflight);
			break;
		}
		pvring_drv_disable_cb(&t->drv);
	}
	if (!atomic_load(&tt->failed) && done != tt->count)
		torture_fail(tt, "driver: %" PRIu64 " of %" PRIu64 " done", done, tt->count);
}

static double torture_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int torture_run(const struct torture_cfg *cfg, u64 count, u64 seed, int n)
{
	struct torture *tt = calloc(1, sizeof(*tt));
	size_t pool;
	pthread_t dev;
	double t0, dt;
	unsigned int i;
	int ok;

	if (!tt)
		return 0;
	tt->cfg = cfg;
	tt->count = count;
	tt->seed = seed * 0x9e3779b97f4a7c15ULL + (u64)n + 1;
	pool = (size_t)cfg->num * AREA;
	if (tring_init_ord(&tt->t, cfg->format, cfg->num, cfg->event_idx, cfg->indirect_max, pool,
			   cfg->in_order)) {
		printf("not ok %d - %s: set-up failed\n", n, cfg->name);
		return 0;
	}
	/*
	 * The device sees the pool as NREGIONS adjacent regions with odd
	 * boundaries, so segments straddle them; indirect tables keep theirs.
	 */
	tt->t.mem.region[NREGIONS] = tt->t.mem.region[1];
	for (i = 0; i < NREGIONS; i++) {
		size_t a = i ? pool * i / NREGIONS + 37 : 0;
		size_t b = i + 1 < NREGIONS ? pool * (i + 1) / NREGIONS + 37 : pool;

		tt->t.mem.region[i].gpa = TRING_POOL_GPA + a;
		tt->t.mem.region[i].size = b - a;
		tt->t.mem.region[i].hva = tt->t.pool + a;
	}
	tt->t.mem.nregions = NREGIONS + (cfg->indirect_max ? 1 : 0);
	tt->req = calloc(cfg->num, sizeof(*tt->req));
	tt->kick_fd = eventfd(0, EFD_CLOEXEC);
	tt->call_fd = eventfd(0, EFD_CLOEXEC);
	if (!tt->req || tt->kick_fd < 0 || tt->call_fd < 0) {
		printf("not ok %d - %s: set-up failed\n", n, cfg->name);
		return 0;
	}

	t0 = torture_now();
	if (pthread_create(&dev, NULL, torture_device, tt)) {
		printf("not ok %d - %s: pthread_create failed\n", n, cfg->name);
		return 0;
	}
	torture_driver(tt);
	atomic_store(&tt->stop, true);
	torture_signal(tt->kick_fd);
	pthread_join(dev, NULL);
	dt = torture_now() - t0;

	if (!tt->failed && pvring_dev_broken(&tt->t.dev))
		torture_fail(tt, "device: ring broken");
	if (!tt->failed && pvring_drv_num_free(&tt->t.drv) != cfg->num)
		torture_fail(tt, "driver: %u of %u descriptors free at the end",
			     pvring_drv_num_free(&tt->t.drv), cfg->num);
	if (!tt->failed && tt->popped != count)
		torture_fail(tt, "device: popped %" PRIu64 " of %" PRIu64, tt->popped, count);
	ok = !tt->failed;
	printf("# %s: num %u, %" PRIu64 " requests in %.2f s (%.0f ns/req),", cfg->name, cfg->num,
	       count, dt, dt * 1e9 / (double)count);
	printf(" kicks/req %.4f, irqs/req %.4f,", (double)tt->kicks / (double)count,
	       (double)tt->irqs / (double)count);
	printf(" sleeps: driver %" PRIu64 " device %" PRIu64 "\n", tt->waits_drv, tt->waits_dev);
	if (ok)
		printf("ok %d - torture %s\n", n, cfg->name);
	else
		printf("not ok %d - torture %s: %s\n", n, cfg->name, tt->why);
	fflush(stdout);
	close(tt->kick_fd);
	close(tt->call_fd);
	free(tt->req);
	tring_fini(&tt->t);
	free(tt);
	return ok;
}

int main(int argc, char **argv)
{
	unsigned int nruns = sizeof(runs) / sizeof(runs[0]), i, wsum = 0;
	u64 count = getenv("PVIO_SANITIZER") ? 200000 : 10000000, seed = 1, given = 0;
	int fails = 0;

	for (i = 1; i < (unsigned int)argc; i++) {
		if (!strcmp(argv[i], "--count") && i + 1 < (unsigned int)argc) {
			count = strtoull(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--seed") && i + 1 < (unsigned int)argc) {
			seed = strtoull(argv[++i], NULL, 0);
		} else {
			fprintf(stderr,
				"usage: %s [--count N] [--seed S]\n"
				"  N requests in all (default 10000000, 200000 with PVIO_SANITIZER set)\n",
				argv[0]);
			return 2;
		}
	}
	if (count < nruns)
		count = nruns;
	printf("TAP version 13\n1..%u\n# %" PRIu64 " requests over %u runs, seed %" PRIu64 "\n",
	       nruns, count, nruns, seed);
	for (i = 0; i < nruns; i++)
		wsum += runs[i].weight;
	for (i = 0; i < nruns; i++) {
		u64 n = i + 1 < nruns ? count * runs[i].weight / wsum : count - given;

		given += n;
		fails += !torture_run(&runs[i], n ? n : 1, seed, i + 1);
	}
	printf("# Totals: pass:%u fail:%d\n", nruns - fails, fails);
	return fails ? 1 : 0;
}
