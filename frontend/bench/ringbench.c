// SPDX-License-Identifier: GPL-2.0
/*
 * ringbench.c - pvio-ringbench: the cost of a ring round trip, split or
 * (--packed) packed.
 *
 * The driver (CPU 0) and the device (CPU 1) share one ring; a request is one
 * 64-byte readable descriptor that goes driver add -> device pop (with the
 * full chain walk and address translation) -> device push used -> driver
 * reap.  For each batch size the driver adds a batch whenever that many
 * descriptors are free, decides about a kick once per batch, and reaps
 * whatever is used; the device pops everything available and pushes it back
 * with one index update.  Both sides poll, but by default behave as if
 * they slept: when idle they enable notifications (with the race-free
 * re-check) and disable them again on finding work, so kick_prepare() and
 * should_notify() give the notification counts a sleeping pair would see.
 *
 * --notify none polls and nothing else, as Linux's tools/virtio/ringtest
 * does without --sleep: the driver publishes without deciding about a kick,
 * the device publishes without deciding about an interrupt, and neither
 * enables or disables notifications, so the suppression fields (avail_event,
 * used_event, the two flags) are never written.  Pop (chain walk, address
 * translation, every check), put, publish and reap are the same calls as
 * in the default mode; kicks/req and irqs/req print as 0.
 *
 *   ns_per_req, cycles_per_req  steady-state cost per request: the median
 *                               over chunks of 8192 requests
 *   wall_ns                     the whole steady-state pass / its requests,
 *                               stalls included (as ringtest is timed)
 *   rtt_ns                      one batch alone: add B, wait for all B back
 *                               (median of 2000)
 *   kicks_per_req, irqs_per_req notifications the two sides would send
 *
 * Cycles are TSC cycles, calibrated against CLOCK_MONOTONIC.  Medians, and
 * the best of --reps runs, because on a shared machine a polling thread that
 * loses its CPU for a time slice stalls the other side too; that is noise
 * from the machine, not a cost of the ring.
 *
 * --serial runs both sides on one thread, taking turns (the driver adds a
 * batch and decides about the kick, the device pops it all, puts, publishes
 * and decides about the interrupt, the driver reaps): no spinning, so the
 * instructions each request costs are the same from run to run.  That is
 * the mode to compare two builds of the ring under callgrind, whose
 * instruction counts do not depend on what else the machine runs:
 *
 *   valgrind --tool=callgrind --toggle-collect=bench_serial \
 *           build/pvio-ringbench --serial --requests 100000 --reps 1
 *
 * counts the ring's work and nothing else (Ir / (8 * requests) is the mean
 * per request over the eight cases; --batch B --event-idx 0|1 runs one).
 *
 * --compare-rte-ring also moves pointers through DPDK's rte_ring
 * (single-producer / single-consumer, bulk of 32, 4096 entries) between the
 * same two CPUs, as DPDK's ring_perf_autotest does, and prints cycles per
 * element and the ratio to the batch-32 round trip.
 */
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#ifdef PVIO_HAVE_RTE_RING
#include <rte_ring.h>
#endif

#include "ring_test.h"

#define BENCH_BUF 64
#define BENCH_CHUNK 8192 /* requests per timed chunk */
#define BENCH_RTT 2000 /* batches timed alone */

/*
 * What each thread writes during a run is on cache lines of its own: a
 * counter of one side next to the other's would bounce between the CPUs
 * on every request and be charged to the ring.
 */
struct bench {
	struct tring t;
	unsigned int batch;
	u64 requests;

	/* Written by the main thread at start and stop, polled by the device. */
	_Alignas(64) atomic_int go; /* 1: run; 2: stop */

	/* The driver thread's, from kicks to rtt[]. */
	_Alignas(64) u64 kicks;
	u64 *chunk; /* TSC cycles of each BENCH_CHUNK requests */
	u64 nchunk;
	u64 wall; /* TSC cycles of the whole steady-state pass */
	u64 rtt[BENCH_RTT]; /* TSC cycles of each lone batch */

	/* The device thread's. */
	_Alignas(64) u64 irqs;
};

struct bench_result {
	unsigned int batch;
	bool event_idx;
	double ns, cycles, kicks, irqs, rtt_ns, wall_ns;
};

static double tsc_ghz;
static enum pvring_format bench_format = PVRING_SPLIT;
static bool bench_notify = true; /* false: --notify none, pure polling */
static bool bench_in_order; /* --in-order: VIRTIO_F_IN_ORDER on both sides */

static void bench_pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu % sysconf(_SC_NPROCESSORS_ONLN), &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* TSC ticks per nanosecond, over 100 ms of CLOCK_MONOTONIC. */
static double bench_calibrate(void)
{
	double t0 = bench_now(), t1;
	u64 c0 = __rdtsc(), c1;

	do
		t1 = bench_now();
	while (t1 - t0 < 0.1);
	c1 = __rdtsc();
	return (double)(c1 - c0) / ((t1 - t0) * 1e9);
}

static void *bench_device(void *arg)
{
	struct bench *b = arg;
	struct pvring_dev *vr = &b->t.dev;
	struct pvring_seg seg[2];
	struct pvring_chain c;
	unsigned int n = 0;
	bool notify_on = false;
	int r;

	bench_pin(1);
	if (bench_notify)
		pvring_dev_disable_notify(vr);
	while (atomic_load_explicit(&b->go, memory_order_acquire) == 0)
		_mm_pause();
	for (;;) {
		r = pvring_dev_pop(vr, &c, seg, 2);
		if (r == 1) {
			if (notify_on) {
				pvring_dev_disable_notify(vr);
				notify_on = false;
			}
			pvring_dev_put(vr, c.head, 0);
			if (++n < 256)
				continue;
		} else if (unlikely(r < 0)) {
			fprintf(stderr, "pvio-ringbench: device pop failed: %d\n", r);
			exit(1);
		}
		if (n) {
			pvring_dev_publish(vr);
			n = 0;
			if (bench_notify)
				b->irqs += pvring_dev_should_notify(vr);
			continue;
		}
		if (atomic_load_explicit(&b->go, memory_order_relaxed) == 2)
			break;
		if (bench_notify && !notify_on) {
			/* Going idle: this is where a real device would sleep. */
			notify_on = true;
			pvring_dev_enable_notify(vr);
		}
		_mm_pause();
	}
	return NULL;
}

/* Driver: add @n requests from the slot the free list hands out. */
static inline void bench_add(struct bench *b, unsigned int n)
{
	struct pvring_drv *vr = &b->t.drv;
	unsigned int i;

	for (i = 0; i < n; i++) {
		u16 head = vr->free_head; /* a token and a buffer per head (packed: per id) */
		struct pvring_sg sg = { tring_gpa(&b->t, (size_t)head * BENCH_BUF), BENCH_BUF };

		if (unlikely(pvring_drv_stage(vr, &sg, 1, 0, (void *)(uintptr_t)(head + 1)))) {
			fprintf(stderr, "pvio-ringbench: add failed\n");
			exit(1);
		}
	}
	if (bench_notify)
		b->kicks += pvring_drv_kick_prepare(vr);
	else
		pvring_drv_publish(vr);
}

static void bench_driver(struct bench *b)
{
	struct pvring_drv *vr = &b->t.drv;
	u64 submitted = 0, done = 0, next = BENCH_CHUNK, c0, start;
	bool cb_on = false;
	unsigned int i;
	u32 len;

	/* Steady state: keep the ring busy, batch by batch. */
	start = __rdtsc();
	c0 = start;
	while (done < b->requests) {
		if (done >= next) {
			u64 c1 = __rdtsc();

			b->chunk[b->nchunk++] = c1 - c0;
			c0 = c1;
			next += BENCH_CHUNK;
		}
		bool reaped = false;

		if (submitted < b->requests && pvring_drv_num_free(vr) >= b->batch) {
			bench_add(b, b->batch);
			submitted += b->batch;
		}
		while (pvring_drv_get_used(vr, &len)) {
			done++;
			reaped = true;
		}
		if (reaped) {
			if (cb_on) {
				pvring_drv_disable_cb(vr);
				cb_on = false;
			}
		} else if (bench_notify && !cb_on && pvring_drv_num_free(vr) < b->batch) {
			/* Nothing to do but wait: a real driver would sleep here. */
			cb_on = true;
			pvring_drv_enable_cb(vr);
		}
	}
	b->wall = __rdtsc() - start;

	/* Latency: one batch alone in the ring, until all of it is back. */
	for (i = 0; i < BENCH_RTT; i++) {
		unsigned int got = 0;

		c0 = __rdtsc();
		bench_add(b, b->batch);
		while (got < b->batch) {
			if (pvring_drv_get_used(vr, &len))
				got++;
		}
		b->rtt[i] = __rdtsc() - c0;
	}
}

/*
 * One thread plays both sides, taking turns, for @b->requests requests:
 * the instructions of the ring's calls and nothing else.  noinline, so
 * that callgrind's --toggle-collect=bench_serial counts exactly this.
 */
static __attribute__((noinline)) int bench_serial(struct bench *b)
{
	struct pvring_drv *drv = &b->t.drv;
	struct pvring_dev *dev = &b->t.dev;
	struct pvring_seg seg[2];
	struct pvring_chain c;
	u64 done = 0;
	u32 len;
	int r;

	if (bench_notify) {
		pvring_dev_disable_notify(dev);
		pvring_drv_disable_cb(drv);
	}
	while (done < b->requests) {
		bench_add(b, b->batch);
		if (bench_notify)
			pvring_dev_disable_notify(dev);
		while ((r = pvring_dev_pop(dev, &c, seg, 2)) == 1)
			pvring_dev_put(dev, c.head, 0);
		if (r)
			return -EIO;
		pvring_dev_publish(dev);
		if (bench_notify) {
			b->irqs += pvring_dev_should_notify(dev);
			pvring_dev_enable_notify(dev);
		}
		while (pvring_drv_get_used(drv, &len))
			done++;
		if (bench_notify) {
			pvring_drv_enable_cb(drv);
			pvring_drv_disable_cb(drv);
		}
	}
	return 0;
}

static int bench_serial_case(unsigned int num, unsigned int batch, bool event_idx, u64 requests,
			     struct bench_result *res)
{
	struct bench *b;
	u64 c0;
	int ret;

	if (posix_memalign((void **)&b, 64, sizeof(*b)))
		return -ENOMEM;
	memset(b, 0, sizeof(*b));
	if (tring_init_ord(&b->t, bench_format, num, event_idx, 0, (size_t)num * BENCH_BUF,
			   bench_in_order))
		return -ENOMEM;
	b->batch = batch;
	b->requests = requests - requests % batch;
	c0 = __rdtsc();
	ret = bench_serial(b);
	res->cycles = (double)(__rdtsc() - c0) / (double)b->requests;
	if (ret || pvring_drv_broken(&b->t.drv) || pvring_dev_broken(&b->t.dev))
		return -EIO;
	res->batch = batch;
	res->event_idx = event_idx;
	res->ns = res->cycles / tsc_ghz;
	res->kicks = (double)b->kicks / (double)b->requests;
	res->irqs = (double)b->irqs / (double)b->requests;
	res->rtt_ns = 0;
	res->wall_ns = res->ns;
	tring_fini(&b->t);
	free(b);
	return 0;
}

static int bench_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static double bench_median(u64 *v, u64 n)
{
	qsort(v, n, sizeof(*v), bench_cmp_u64);
	return (double)v[n / 2];
}

static int bench_case(unsigned int num, unsigned int batch, bool event_idx, u64 requests,
		      struct bench_result *res)
{
	struct bench *b;
	pthread_t dev;

	if (posix_memalign((void **)&b, 64, sizeof(*b)))
		return -ENOMEM;
	memset(b, 0, sizeof(*b));
	if (tring_init_ord(&b->t, bench_format, num, event_idx, 0, (size_t)num * BENCH_BUF,
			   bench_in_order))
		return -ENOMEM;
	b->batch = batch;
	b->requests = requests - requests % batch;
	b->chunk = calloc(b->requests / BENCH_CHUNK + 1, sizeof(*b->chunk));
	if (!b->chunk)
		return -ENOMEM;
	if (pthread_create(&dev, NULL, bench_device, b))
		return -EAGAIN;
	bench_pin(0);
	atomic_store_explicit(&b->go, 1, memory_order_release);
	bench_driver(b);
	atomic_store_explicit(&b->go, 2, memory_order_release);
	pthread_join(dev, NULL);
	if (pvring_drv_broken(&b->t.drv) || pvring_dev_broken(&b->t.dev))
		return -EIO;

	res->batch = batch;
	res->event_idx = event_idx;
	res->cycles = bench_median(b->chunk, b->nchunk) / BENCH_CHUNK;
	res->ns = res->cycles / tsc_ghz;
	/* Over both passes: every request counts once. */
	res->kicks = (double)b->kicks / (double)(b->requests + BENCH_RTT * batch);
	res->irqs = (double)b->irqs / (double)(b->requests + BENCH_RTT * batch);
	res->rtt_ns = bench_median(b->rtt, BENCH_RTT) / tsc_ghz;
	res->wall_ns = (double)b->wall / (double)b->requests / tsc_ghz;
	free(b->chunk);
	tring_fini(&b->t);
	free(b);
	return 0;
}

#ifdef PVIO_HAVE_RTE_RING
#define RTE_BULK 32
#define RTE_SIZE 4096

struct rte_bench {
	struct rte_ring *r;
	u64 elems;
	atomic_int go;
};

static void *rte_consumer(void *arg)
{
	struct rte_bench *rb = arg;
	void *obj[RTE_BULK];
	u64 got = 0;

	bench_pin(1);
	while (atomic_load_explicit(&rb->go, memory_order_acquire) == 0)
		_mm_pause();
	while (got < rb->elems) {
		if (rte_ring_sc_dequeue_bulk(rb->r, obj, RTE_BULK, NULL))
			got += RTE_BULK;
		else
			_mm_pause();
	}
	return NULL;
}

/*
 * Cycles per element of an SP/SC bulk-32 transfer between CPU 0 and CPU 1:
 * the median over chunks of 64 Ki elements, timed at the producer, which
 * can run at most one ring (4096) ahead of the consumer.
 */
static int bench_rte_ring(u64 elems, double *cycles)
{
	struct rte_bench rb = { .elems = elems - elems % 65536 };
	void *obj[RTE_BULK];
	ssize_t sz = rte_ring_get_memsize(RTE_SIZE);
	u64 sent = 0, c0, *chunk, n = 0;
	pthread_t cons;
	unsigned int i;

	/* rte_ring_init() on our own memory: no EAL, no hugepages needed. */
	if (sz < 0 || posix_memalign((void **)&rb.r, 128, (size_t)sz))
		return -ENOMEM;
	if (rte_ring_init(rb.r, "pvio-ringbench", RTE_SIZE, RING_F_SP_ENQ | RING_F_SC_DEQ))
		return -EINVAL;
	for (i = 0; i < RTE_BULK; i++)
		obj[i] = (void *)(uintptr_t)(i + 1);
	chunk = calloc(rb.elems / 65536 + 1, sizeof(*chunk));
	if (!chunk || pthread_create(&cons, NULL, rte_consumer, &rb))
		return -EAGAIN;
	bench_pin(0);
	atomic_store_explicit(&rb.go, 1, memory_order_release);
	c0 = __rdtsc();
	while (sent < rb.elems) {
		if (rte_ring_sp_enqueue_bulk(rb.r, obj, RTE_BULK, NULL)) {
			sent += RTE_BULK;
			if (!(sent & 65535)) {
				u64 c1 = __rdtsc();

				chunk[n++] = c1 - c0;
				c0 = c1;
			}
		} else {
			_mm_pause();
		}
	}
	pthread_join(cons, NULL);
	*cycles = bench_median(chunk, n) / 65536;
	free(chunk);
	free(rb.r);
	return 0;
}

/* rte_ring's cycles per element @cyc against pvring's batch-32 round trip @base. */
static void bench_print_rte_json(double cyc, double base)
{
	printf("{\"rte_ring\": \"sp_sc_bulk\", \"bulk\": %u, \"size\": %u,", RTE_BULK, RTE_SIZE);
	printf(" \"ns_per_elem\": %.2f, \"cycles_per_elem\": %.2f,", cyc / tsc_ghz, cyc);
	printf(" \"ratio_batch32\": %.2f}\n", base / cyc);
}

static void bench_print_rte(double cyc, double base)
{
	printf("\nrte_ring SP/SC bulk-%u (%u entries): %.2f ns, %.2f cycles per element\n",
	       RTE_BULK, RTE_SIZE, cyc / tsc_ghz, cyc);
	printf("pvring batch-32 round trip / rte_ring element: %.2fx\n", base / cyc);
}
#endif

/* One JSON object per case, on one line. */
static void bench_print_json(const struct bench_result *b, unsigned int num)
{
	printf("{\"format\": \"%s\", \"in_order\": %s, \"notify\": \"%s\",",
	       bench_format == PVRING_PACKED ? "packed" : "split",
	       bench_in_order ? "true" : "false", bench_notify ? "sleep" : "none");
	printf(" \"batch\": %u, \"event_idx\": %s,", b->batch, b->event_idx ? "true" : "false");
	printf(" \"ns_per_req\": %.2f,", b->ns);
	printf(" \"cycles_per_req\": %.2f, \"kicks_per_req\": %.5f,", b->cycles, b->kicks);
	printf(" \"irqs_per_req\": %.5f, \"rtt_ns\": %.1f, \"wall_ns\": %.2f, \"num\": %u}\n",
	       b->irqs, b->rtt_ns, b->wall_ns, num);
}

static void print_usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [--json] [--compare-rte-ring] [--serial] [--requests N] [--num N] [--reps N]\n"
		"          [--batch B] [--event-idx 0|1] [--notify sleep|none] [--packed] [--in-order]\n"
		"  --json              one JSON object per case\n"
		"  --compare-rte-ring  also measure DPDK rte_ring SP/SC bulk-32\n"
		"  --requests N        requests per case (default 2000000)\n"
		"  --num N             ring size, power of two >= 128 (default 256)\n"
		"  --reps N            runs per case, the best is reported (default 3)\n"
		"  --serial            both sides on one thread, taking turns (for callgrind)\n"
		"  --batch B           only batch size B (default 1, 8, 32 and 128)\n"
		"  --event-idx 0|1     only without / with EVENT_IDX (default both)\n"
		"  --notify sleep|none sleep (default): both sides poll but decide kicks and\n"
		"                      interrupts and enable / disable them as if they slept;\n"
		"                      none: pure polling, no notification decisions at all\n"
		"  --packed            a packed ring (virtio 1.2 §2.8) instead of a split one\n"
		"  --in-order          VIRTIO_F_IN_ORDER: the device publishes a batch as one used\n"
		"                      descriptor (packed), the driver reaps batches\n",
		prog);
}

int main(int argc, char **argv)
{
	static const unsigned int batches[] = { 1, 8, 32, 128 };
	struct bench_result res[8], best;
	unsigned int num = 256, reps = 3, nres = 0, i, r;
	u64 requests = 2000000;
	bool json = false, rte = false, serial = false;
	unsigned int only_batch = 0;
	int only_ev = -1;
	double ratio_base = 0;
	int ev, ret;

	for (i = 1; i < (unsigned int)argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--compare-rte-ring")) {
			rte = true;
		} else if (!strcmp(argv[i], "--requests") && i + 1 < (unsigned int)argc) {
			requests = strtoull(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--num") && i + 1 < (unsigned int)argc) {
			num = strtoul(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--reps") && i + 1 < (unsigned int)argc) {
			reps = strtoul(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--packed")) {
			bench_format = PVRING_PACKED;
		} else if (!strcmp(argv[i], "--in-order")) {
			bench_in_order = true;
		} else if (!strcmp(argv[i], "--serial")) {
			serial = true;
		} else if (!strcmp(argv[i], "--batch") && i + 1 < (unsigned int)argc) {
			only_batch = strtoul(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--event-idx") && i + 1 < (unsigned int)argc) {
			only_ev = !!strtoul(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--notify") && i + 1 < (unsigned int)argc &&
			   (!strcmp(argv[i + 1], "sleep") || !strcmp(argv[i + 1], "none"))) {
			bench_notify = !strcmp(argv[++i], "sleep");
		} else {
			print_usage(argv[0]);
			return 2;
		}
	}
	if (!pvring_size_valid(num) || num < 128 || requests < 1000 || !reps || only_batch > num) {
		fprintf(stderr,
			"pvio-ringbench: --num must be a power of two from 128 to 32768, --requests at least 1000, --reps at least 1\n");
		return 2;
	}
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		fprintf(stderr, "pvio-ringbench: warning: one CPU, both sides share it\n");
	tsc_ghz = bench_calibrate();

	if (!json) {
		printf("pvio-ringbench: %s ring%s of %u, %" PRIu64 " requests per case,",
		       bench_format == PVRING_PACKED ? "packed" : "split",
		       bench_in_order ? " (in order)" : "", num, requests);
		printf(" best of %u, notify %s, TSC %.3f GHz\n\n", reps,
		       bench_notify ? "sleep" : "none", tsc_ghz);
		printf("%6s %9s %10s %12s %10s %10s %10s %10s\n", "batch", "event_idx", "ns/req",
		       "cycles/req", "kicks/req", "irqs/req", "rtt_ns", "wall_ns");
	}
	for (ev = 0; ev <= 1; ev++) {
		if (only_ev >= 0 && ev != only_ev)
			continue;
		for (i = 0; i < sizeof(batches) / sizeof(batches[0]); i++) {
			unsigned int batch = only_batch ? only_batch : batches[i];

			if (only_batch && i)
				break;
			for (r = 0; r < reps; r++) {
				ret = serial ? bench_serial_case(num, batch, ev, requests,
								 &res[nres]) :
					       bench_case(num, batch, ev, requests, &res[nres]);
				if (ret) {
					fprintf(stderr, "pvio-ringbench: batch %u: %s\n", batch,
						strerror(-ret));
					return 1;
				}
				if (!r || res[nres].cycles < best.cycles)
					best = res[nres];
				if (r && res[nres].rtt_ns < best.rtt_ns)
					best.rtt_ns = res[nres].rtt_ns;
				if (r && res[nres].wall_ns < best.wall_ns)
					best.wall_ns = res[nres].wall_ns;
			}
			res[nres] = best;
			if (batch == 32 && (!ratio_base || best.cycles < ratio_base))
				ratio_base = best.cycles;
			if (json)
				bench_print_json(&best, num);
			else
				printf("%6u %9s %10.2f %12.2f %10.5f %10.5f %10.1f %10.2f\n",
				       best.batch, best.event_idx ? "yes" : "no", best.ns,
				       best.cycles, best.kicks, best.irqs, best.rtt_ns,
				       best.wall_ns);
			fflush(stdout);
			nres++;
		}
	}

	if (rte) {
#ifdef PVIO_HAVE_RTE_RING
		double cyc = 0, c;

		for (r = 0; r < reps; r++) {
			if (bench_rte_ring(requests * 4, &c)) {
				fprintf(stderr, "pvio-ringbench: rte_ring set-up failed\n");
				return 1;
			}
			if (!r || c < cyc)
				cyc = c;
		}
		if (json)
			bench_print_rte_json(cyc, ratio_base);
		else
			bench_print_rte(cyc, ratio_base);
#else
		fprintf(stderr,
			"pvio-ringbench: built without DPDK (pkg-config libdpdk): no rte_ring comparison\n");
#endif
	}
	return 0;
}
