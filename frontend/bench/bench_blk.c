// SPDX-License-Identifier: GPL-2.0
/*
 * bench_blk.c - pvio-bench blk: fio-like block workloads over vhost-user-blk.
 *
 * Each queue gets a thread that keeps --iodepth requests in flight.  With
 * --verify every write carries bench_pattern (seed + device offset) and every
 * read is checked against it; the region is filled first so reads of blocks
 * not yet written by the workload still have something to check.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vuser.h"
#include "pvio_bench.h"

enum bench_rw { RW_READ, RW_WRITE, RW_RANDREAD, RW_RANDWRITE, RW_RANDRW };

/* One name a line; clang-format would pack them into misaligned columns. */
/* clang-format off */
static const char *const bench_rw_names[] = {
	[RW_READ] = "read",
	[RW_WRITE] = "write",
	[RW_RANDREAD] = "randread",
	[RW_RANDWRITE] = "randwrite",
	[RW_RANDRW] = "randrw",
};

static const char *const poll_names[] = {
	[PVRING_POLL_OFF] = "off",
	[PVRING_POLL_ON] = "on",
	[PVRING_POLL_ADAPTIVE] = "adaptive",
};

/* clang-format on */

struct blk_cfg {
	const char *socket;
	enum bench_rw rw;
	uint64_t bs;
	unsigned int iodepth;
	unsigned int queues;
	double runtime;
	uint64_t size; /* bytes of the device to use; 0: all */
	bool verify;
	bool no_fill; /* --verify-existing: data is from an earlier run */
	bool json;
	enum pvring_poll_mode poll; /* --poll: adaptive (default), on or off */
	unsigned int poll_us; /* --poll-budget: the longest window (0: the default) */
	bool no_indirect;
	bool packed;
	bool in_order;
	bool hugetlb;
	uint64_t seed;
	unsigned int rwmixread; /* percent reads for randrw */
	int timeout_ms;
};

struct blk_thread {
	pthread_t tid;
	struct vuser_blk *blk;
	const struct blk_cfg *cfg;
	unsigned int qi;
	uint8_t *bufs; /* iodepth * bs, guest memory */
	uint64_t rng;
	uint64_t seq_pos; /* next offset for sequential workloads */
	uint64_t seq_start, seq_end;
	atomic_uint_least64_t ios; /* read by the progress line */
	uint64_t bytes;
	uint64_t reads, writes;
	struct bench_hist hist;
	int err;
};

static uint64_t blk_rand(struct blk_thread *t)
{
	/* xorshift64*: fast, per thread, good enough to pick offsets. */
	t->rng ^= t->rng >> 12;
	t->rng ^= t->rng << 25;
	t->rng ^= t->rng >> 27;
	return t->rng * 0x2545f4914f6cdd1dull;
}

static void blk_prep(struct blk_thread *t, struct vuser_blk_req *req, unsigned int slot)
{
	const struct blk_cfg *c = t->cfg;
	uint64_t nblocks = c->size / c->bs;
	bool write;

	switch (c->rw) {
	case RW_READ:
	case RW_WRITE:
		if (t->seq_pos + c->bs > t->seq_end)
			t->seq_pos = t->seq_start;
		req->offset = t->seq_pos;
		t->seq_pos += c->bs;
		write = c->rw == RW_WRITE;
		break;
	default:
		req->offset = (blk_rand(t) % nblocks) * c->bs;
		write = c->rw == RW_RANDWRITE ||
			(c->rw == RW_RANDRW && blk_rand(t) % 100 >= c->rwmixread);
		break;
	}
	req->type = write ? PVIO_BLK_T_OUT : PVIO_BLK_T_IN;
	req->buf = t->bufs + (size_t)slot * c->bs;
	req->len = (uint32_t)c->bs;
	req->priv = (void *)(uintptr_t)slot;
	if (write && c->verify)
		bench_pattern_fill(req->buf, c->bs, c->seed, req->offset);
}

static int blk_verify(struct blk_thread *t, struct vuser_blk_req *req)
{
	struct bench_pattern_miss miss;

	if (bench_pattern_check(req->buf, req->len, t->cfg->seed, req->offset, &miss) == 0)
		return 0;
	fprintf(stderr,
		"pvio-bench: VERIFY FAILED: queue %u, %u-byte read at offset %" PRIu64
		" (0x%" PRIx64 "): word at device offset %" PRIu64 " (0x%" PRIx64
		") is 0x%016" PRIx64 ", expected 0x%016" PRIx64 " (seed %" PRIu64 ")\n",
		t->qi, req->len, req->offset, req->offset, miss.offset, miss.offset, miss.found,
		miss.expected, t->cfg->seed);
	return -EILSEQ;
}

/* Keep the queue full until told to stop, then drain what is in flight. */
static void *blk_thread_run(void *arg)
{
	struct blk_thread *t = arg;
	struct vuser_blk *blk = t->blk;
	struct vuser_blk_req *done[256], *req;
	unsigned int slot, inflight = 0;
	int n, i, r;

	for (slot = 0; slot < t->cfg->iodepth; slot++) {
		req = vuser_blk_req_get(blk, t->qi);
		blk_prep(t, req, slot);
		req->submit_ns = bench_now_ns();
		r = vuser_blk_submit(blk, t->qi, req);
		if (r)
			goto fail;
		inflight++;
	}
	while (inflight) {
		n = vuser_blk_wait(blk, t->qi, done, 256, -1);
		if (n < 0) {
			r = n;
			goto fail;
		}
		for (i = 0; i < n; i++) {
			uint64_t now = bench_now_ns();

			req = done[i];
			inflight--;
			if (req->result) {
				r = vuser_dev_err(&blk->dev, req->result,
						  "%s of %u bytes at offset %" PRIu64 " failed: %s",
						  req->type == PVIO_BLK_T_IN ? "read" : "write",
						  req->len, req->offset, strerror(-req->result));
				goto fail;
			}
			bench_hist_add(&t->hist, now - req->submit_ns);
			t->bytes += req->len;
			if (req->type == PVIO_BLK_T_IN) {
				t->reads++;
				if (t->cfg->verify && blk_verify(t, req)) {
					r = -EILSEQ;
					goto fail_quiet;
				}
			} else {
				t->writes++;
			}
			atomic_fetch_add_explicit(&t->ios, 1, memory_order_relaxed);
			if (bench_should_stop()) {
				vuser_blk_req_put(blk, t->qi, req);
				continue;
			}
			blk_prep(t, req, (unsigned int)(uintptr_t)req->priv);
			req->submit_ns = bench_now_ns();
			r = vuser_blk_submit(blk, t->qi, req);
			if (r)
				goto fail;
			inflight++;
		}
	}
	return NULL;

fail:
	fprintf(stderr, "pvio-bench: queue %u: %s\n", t->qi,
		vuser_dev_errmsg(&blk->dev)[0] ? vuser_dev_errmsg(&blk->dev) : strerror(-r));
fail_quiet:
	t->err = r;
	bench_fail();
	return NULL;
}

/* --verify: write the pattern over the whole region first, at full depth. */
static int blk_fill(struct vuser_blk *blk, const struct blk_cfg *c, uint8_t *bufs)
{
	struct vuser_blk_req *done[64], *req;
	uint64_t off = 0, completed = 0, total = c->size / c->bs;
	int n, i;

	while (completed < total) {
		while (off < total * c->bs && (req = vuser_blk_req_get(blk, 0))) {
			req->type = PVIO_BLK_T_OUT;
			req->offset = off;
			req->len = (uint32_t)c->bs;
			/* The request's own buffer: it is not reused while in flight. */
			req->buf = bufs + (size_t)(req - blk->bq[0].reqs) * c->bs;
			bench_pattern_fill(req->buf, c->bs, c->seed, off);
			if (vuser_blk_submit(blk, 0, req))
				return -EIO;
			off += c->bs;
		}
		n = vuser_blk_wait(blk, 0, done, 64, -1);
		if (n < 0)
			return n;
		for (i = 0; i < n; i++) {
			if (done[i]->result)
				return vuser_dev_err(&blk->dev, done[i]->result,
						     "fill write at %" PRIu64 " failed",
						     done[i]->offset);
			vuser_blk_req_put(blk, 0, done[i]);
		}
		completed += n;
	}
	return 0;
}

static uint64_t blk_count(void *arg)
{
	struct blk_thread *t = arg;
	uint64_t n = 0;
	unsigned int i;

	for (i = 0; i < t->cfg->queues; i++)
		n += atomic_load_explicit(&t[i].ios, memory_order_relaxed);
	return n;
}

static int blk_parse(int argc, char **argv, struct blk_cfg *c)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "rw", required_argument, NULL, 'w' },
		{ "bs", required_argument, NULL, 'b' },
		{ "iodepth", required_argument, NULL, 'd' },
		{ "queues", required_argument, NULL, 'q' },
		{ "runtime", required_argument, NULL, 't' },
		{ "size", required_argument, NULL, 'S' },
		{ "verify", no_argument, NULL, 'v' },
		{ "verify-existing", no_argument, NULL, 'V' },
		{ "json", no_argument, NULL, 'j' },
		{ "poll", optional_argument, NULL, 'p' },
		{ "poll-budget", required_argument, NULL, 'P' },
		{ "no-indirect", no_argument, NULL, 'I' },
		{ "hugetlb", no_argument, NULL, 'H' },
		{ "packed", no_argument, NULL, 'K' },
		{ "in-order", no_argument, NULL, 'O' },
		{ "seed", required_argument, NULL, 'e' },
		{ "rwmixread", required_argument, NULL, 'm' },
		{ "timeout-ms", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	bool poll_set = false;
	unsigned int i;
	int o;

	*c = (struct blk_cfg){ .rw = RW_RANDREAD,
			       .bs = 4096,
			       .iodepth = 32,
			       .queues = 1,
			       .runtime = 5,
			       .seed = 1,
			       .rwmixread = 50,
			       .poll = PVRING_POLL_ADAPTIVE };
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 's':
			c->socket = optarg;
			break;
		case 'w':
			for (i = 0; i < 5; i++)
				if (!strcmp(optarg, bench_rw_names[i]))
					break;
			if (i == 5) {
				fprintf(stderr,
					"pvio-bench: --rw %s: want read, write, randread, randwrite or randrw\n",
					optarg);
				return -EINVAL;
			}
			c->rw = (enum bench_rw)i;
			break;
		case 'b':
			if (bench_parse_size(optarg, &c->bs) || c->bs < 512 || c->bs % 512 ||
			    c->bs > (4u << 20)) {
				fprintf(stderr,
					"pvio-bench: --bs %s: want a multiple of 512 up to 4M\n",
					optarg);
				return -EINVAL;
			}
			break;
		case 'd':
			c->iodepth = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'q':
			c->queues = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 't':
			c->runtime = strtod(optarg, NULL);
			break;
		case 'S':
			if (bench_parse_size(optarg, &c->size)) {
				fprintf(stderr, "pvio-bench: --size %s: not a size\n", optarg);
				return -EINVAL;
			}
			break;
		case 'v':
			c->verify = true;
			break;
		case 'V':
			c->verify = true;
			c->no_fill = true;
			break;
		case 'j':
			c->json = true;
			break;
		case 'p':
			/* --poll alone: on, as before there were modes. */
			if (!optarg) {
				c->poll = PVRING_POLL_ON;
			} else if (vuser_poll_mode_parse(optarg, &c->poll)) {
				fprintf(stderr, "pvio-bench: --poll=%s: want adaptive, on or off\n",
					optarg);
				return -EINVAL;
			}
			poll_set = true;
			break;
		case 'P':
			/* Implies --poll on unless a mode was given. */
			if (!poll_set)
				c->poll = PVRING_POLL_ON;
			c->poll_us = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'I':
			c->no_indirect = true;
			break;
		case 'H':
			c->hugetlb = true;
			break;
		case 'K':
			c->packed = true;
			break;
		case 'O':
			c->in_order = true;
			break;
		case 'e':
			c->seed = strtoull(optarg, NULL, 0);
			break;
		case 'm':
			c->rwmixread = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'T':
			c->timeout_ms = (int)strtol(optarg, NULL, 0);
			break;
		default:
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "pvio-bench: unexpected argument '%s' (a mode is --poll=MODE)\n",
			argv[optind]);
		return -EINVAL;
	}
	if (!c->socket) {
		fprintf(stderr, "pvio-bench: --socket PATH is required\n");
		return -EINVAL;
	}
	if (!c->iodepth || c->iodepth > 4096 || !c->queues || c->queues > VUSER_MAX_QUEUES ||
	    c->runtime <= 0 || c->rwmixread > 100) {
		fprintf(stderr,
			"pvio-bench: --iodepth 1..4096, --queues 1..%d, --runtime > 0, --rwmixread 0..100\n",
			VUSER_MAX_QUEUES);
		return -EINVAL;
	}
	return 0;
}

/**
 * bench_blk_main - pvio-bench blk
 * @argc: arguments after "pvio-bench"
 * @argv: "blk" and its options
 *
 * Return: the exit status: 0, 1 on an I/O or verify failure, 2 on bad usage.
 */
int bench_blk_main(int argc, char **argv)
{
	struct vuser_blk_opts bo = { 0 };
	struct blk_thread *th;
	struct vuser_blk blk;
	struct blk_cfg c;
	struct bench_hist hist;
	uint64_t ios = 0, bytes = 0, reads = 0, writes = 0, t0, t1;
	unsigned long kicks0[VUSER_MAX_QUEUES], sleeps0[VUSER_MAX_QUEUES], hits0[VUSER_MAX_QUEUES];
	unsigned long kicks = 0, sleeps = 0, hits = 0;
	double cpu0, cpu1, secs;
	unsigned int i;
	int r, status = 0;

	if (blk_parse(argc, argv, &c))
		return 2;
	bo.socket_path = c.socket;
	bo.num_queues = c.queues;
	bo.depth = c.iodepth;
	bo.buf_bytes = (size_t)c.queues * c.iodepth * c.bs + 4096 * c.queues;
	bo.hugetlb = c.hugetlb;
	bo.no_indirect = c.no_indirect;
	bo.packed = c.packed;
	bo.in_order = c.in_order;
	bo.timeout_ms = c.timeout_ms;
	r = vuser_blk_open(&blk, &bo);
	if (r) {
		fprintf(stderr, "pvio-bench: %s\n", vuser_dev_errmsg(&blk.dev));
		return 1;
	}
	if (!c.size || c.size > blk.capacity_bytes)
		c.size = blk.capacity_bytes;
	c.size -= c.size % c.bs;
	if (c.size < c.bs) {
		fprintf(stderr, "pvio-bench: device has %" PRIu64 " bytes, less than one block\n",
			blk.capacity_bytes);
		status = 1;
		goto out_close;
	}
	if ((c.rw != RW_READ && c.rw != RW_RANDREAD) && vuser_dev_has(&blk.dev, PVIO_BLK_F_RO)) {
		fprintf(stderr,
			"pvio-bench: the back-end exports a read-only device; use --rw read or randread\n");
		status = 2;
		goto out_close;
	}

	th = calloc(c.queues, sizeof(*th));
	if (!th) {
		status = 1;
		goto out_close;
	}
	for (i = 0; i < c.queues; i++) {
		uint64_t span = c.size / c.queues / c.bs * c.bs;

		th[i].blk = &blk;
		th[i].cfg = &c;
		th[i].qi = i;
		th[i].bufs = vuser_blk_alloc(&blk, (size_t)c.iodepth * c.bs);
		th[i].rng = c.seed * 0x9e3779b97f4a7c15ull + i + 1;
		/* Sequential queues each walk their own slice (the whole device if it is small). */
		th[i].seq_start = span >= c.bs ? i * span : 0;
		th[i].seq_end = span >= c.bs ? th[i].seq_start + span : c.size;
		th[i].seq_pos = th[i].seq_start;
		bench_hist_init(&th[i].hist);
		vuser_queue_set_poll(blk.bq[i].q, c.poll, c.poll_us);
	}
	if (c.verify && !c.no_fill) {
		r = blk_fill(&blk, &c, th[0].bufs);
		if (r) {
			fprintf(stderr, "pvio-bench: filling the device for --verify: %s\n",
				vuser_dev_errmsg(&blk.dev));
			status = 1;
			goto out_free;
		}
	}

	/* The client's notifications of the measured run only (not --verify's fill). */
	for (i = 0; i < c.queues; i++) {
		kicks0[i] = blk.bq[i].q->kicks;
		sleeps0[i] = blk.bq[i].q->waits;
		hits0[i] = blk.bq[i].q->poll_hits;
	}
	cpu0 = bench_cpu_seconds();
	t0 = bench_now_ns();
	for (i = 0; i < c.queues; i++) {
		r = pthread_create(&th[i].tid, NULL, blk_thread_run, &th[i]);
		if (r) {
			fprintf(stderr, "pvio-bench: pthread_create: %s\n", strerror(r));
			bench_fail();
			c.queues = i;
			break;
		}
	}
	bench_run_clock(c.runtime, blk_count, th, "IOPS");
	for (i = 0; i < c.queues; i++)
		pthread_join(th[i].tid, NULL);
	t1 = bench_now_ns();
	cpu1 = bench_cpu_seconds();

	bench_hist_init(&hist);
	for (i = 0; i < c.queues; i++) {
		kicks += blk.bq[i].q->kicks - kicks0[i];
		sleeps += blk.bq[i].q->waits - sleeps0[i];
		hits += blk.bq[i].q->poll_hits - hits0[i];
		bench_hist_merge(&hist, &th[i].hist);
		ios += th[i].ios;
		bytes += th[i].bytes;
		reads += th[i].reads;
		writes += th[i].writes;
	}
	if (bench_failed_flag()) {
		status = 1;
		goto out_free;
	}
	secs = (t1 - t0) / 1e9;
	if (c.json) {
		/* One line of JSON, written a few fields at a time. */
		printf("{\"device\":\"blk\",\"rw\":\"%s\",\"bs\":%" PRIu64 ",",
		       bench_rw_names[c.rw], c.bs);
		printf("\"iodepth\":%u,\"queues\":%u,\"runtime_s\":%.3f,", c.iodepth, c.queues,
		       secs);
		printf("\"ios\":%" PRIu64 ",\"reads\":%" PRIu64 ",\"writes\":%" PRIu64 ",", ios,
		       reads, writes);
		printf("\"iops\":%.1f,\"bw_bytes\":%.0f,\"lat_ns_mean\":%.0f,", ios / secs,
		       bytes / secs, bench_hist_mean(&hist));
		printf("\"lat_ns_p50\":%" PRIu64 ",\"lat_ns_p99\":%" PRIu64 ",",
		       bench_hist_percentile(&hist, 50), bench_hist_percentile(&hist, 99));
		printf("\"lat_ns_p999\":%" PRIu64 ",\"lat_ns_max\":%" PRIu64 ",",
		       bench_hist_percentile(&hist, 99.9), hist.count ? hist.max : 0);
		printf("\"cpu_ns_per_io\":%.0f,\"verify\":%s,\"features\":%" PRIu64 ",",
		       ios ? (cpu1 - cpu0) * 1e9 / ios : 0, c.verify ? "true" : "false",
		       (uint64_t)blk.dev.features);
		printf("\"poll\":\"%s\",\"kicks\":%lu,\"sleeps\":%lu,\"poll_hits\":%lu}\n",
		       poll_names[c.poll], kicks, sleeps, hits);
	} else {
		printf("blk %s bs=%" PRIu64 " iodepth=%u queues=%u poll=%s%s: %.2f s on %s\n",
		       bench_rw_names[c.rw], c.bs, c.iodepth, c.queues, poll_names[c.poll],
		       c.verify ? " verify" : "", secs, c.socket);
		printf("  IOPS %.0f  bw %.1f MiB/s  (%" PRIu64 " reads, %" PRIu64 " writes)\n",
		       ios / secs, bytes / secs / 1048576.0, reads, writes);
		bench_print_lat(&hist);
		printf("  cpu: %.0f ns per I/O (%.2f s user+sys)%s\n",
		       ios ? (cpu1 - cpu0) * 1e9 / ios : 0.0, cpu1 - cpu0,
		       c.verify ? "; verify: all reads matched" : "");
		printf("  client: %.3f kicks, %.3f sleeps per I/O; %lu waits ended by polling\n",
		       ios ? (double)kicks / ios : 0.0, ios ? (double)sleeps / ios : 0.0, hits);
	}
out_free:
	free(th);
out_close:
	vuser_blk_close(&blk);
	return status;
}
