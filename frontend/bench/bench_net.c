// SPDX-License-Identifier: GPL-2.0
/*
 * bench_net.c - pvio-bench net: frames per second over vhost-user-net.
 *
 *   tx       send as fast as the back-end takes frames (pair with testpmd rxonly)
 *   rx       receive whatever the back-end sends (pair with testpmd txonly)
 *   reflect  send, and count the frames that come back (testpmd macswap / io),
 *            with round-trip latency from the timestamp each frame carries
 *
 * One thread drives both queues; --burst frames are queued per notification.
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

enum net_mode { NET_TX, NET_RX, NET_REFLECT };

struct net_run {
	struct vuser_net net;
	enum net_mode mode;
	unsigned int frame_size, burst; /* frame_size: the largest of sizes[] */
	unsigned int sizes[8], nsizes; /* frame sizes, taken in turn (--frame-size A,B,...) */
	const char *sizes_arg;
	bool verify, json, poll;
	double runtime;
	atomic_uint_least64_t frames; /* counted: sent (tx) or received (rx, reflect) */
	uint64_t bytes, sent, bad;
	struct bench_hist hist;
	int err;
};

static uint64_t net_count(void *arg)
{
	struct net_run *nr = arg;

	return atomic_load_explicit(&nr->frames, memory_order_relaxed);
}

static int net_loop(struct net_run *nr);

static void *net_thread(void *arg)
{
	struct net_run *nr = arg;

	nr->err = net_loop(nr);
	if (nr->err)
		bench_fail();
	return NULL;
}

static int net_loop(struct net_run *nr)
{
	uint8_t frame[65536] __attribute__((aligned(8)));
	uint64_t seq = 0, rseq, ts, inflight = 0, idle = 0;
	unsigned int i;
	int r;

	while (!bench_should_stop()) {
		bool did = false;

		if (nr->mode != NET_RX) {
			/* Reflect keeps at most a ring's worth outstanding, so none are dropped. */
			for (i = 0; i < nr->burst; i++) {
				unsigned int size = nr->sizes[seq % nr->nsizes];

				if (nr->mode == NET_REFLECT && inflight >= nr->net.rxq->num / 2)
					break;
				bench_frame_build(frame, size, seq, bench_now_ns());
				r = vuser_net_send(&nr->net, frame, size);
				if (r == -EAGAIN)
					break;
				if (r)
					return r;
				seq++;
				inflight++;
				did = true;
				if (nr->mode == NET_TX) {
					atomic_fetch_add_explicit(&nr->frames, 1,
								  memory_order_relaxed);
					nr->bytes += size;
				}
			}
			vuser_net_flush(&nr->net);
			r = vuser_net_reap_tx(&nr->net);
			if (r < 0)
				return r;
		}
		if (nr->mode != NET_TX) {
			for (i = 0; i < nr->burst; i++) {
				r = vuser_net_recv(&nr->net, frame, sizeof(frame));
				if (r == -EAGAIN)
					break;
				if (r == -EMSGSIZE || r == -EPROTO) {
					nr->bad++;
					continue;
				}
				if (r < 0)
					return r;
				did = true;
				if (inflight)
					inflight--;
				nr->bytes += (unsigned int)r;
				atomic_fetch_add_explicit(&nr->frames, 1, memory_order_relaxed);
				if (bench_frame_check(frame, (size_t)r, &rseq, &ts)) {
					if (nr->verify && nr->mode == NET_REFLECT) {
						fprintf(stderr,
							"pvio-bench: VERIFY FAILED: received frame of %d bytes does not match what was sent (bad checksum or length)\n",
							r);
						return -EILSEQ;
					}
					continue;
				}
				if (nr->mode == NET_REFLECT)
					bench_hist_add(&nr->hist, bench_now_ns() - ts);
			}
		}
		if (did) {
			idle = 0;
			continue;
		}
		/* Nothing moved: sleep on the receive queue, or give up after the timeout. */
		if (nr->mode == NET_TX) {
			if (++idle > 100000000)
				return vuser_dev_err(&nr->net.dev, -ETIMEDOUT,
						     "back-end stopped taking frames");
			continue;
		}
		if (nr->poll && ++idle < 1000000)
			continue;
		idle = 0;
		r = vuser_net_wait_rx(&nr->net, nr->mode == NET_REFLECT && inflight ? -1 : 200);
		if (r == -ETIMEDOUT && (nr->mode == NET_RX || !inflight))
			continue;
		if (r == -ETIMEDOUT && nr->mode == NET_REFLECT) {
			/* Lost frames: count them and carry on rather than stall. */
			inflight = 0;
			continue;
		}
		if (r)
			return r;
	}
	nr->sent = seq;
	return 0;
}

/* "64" or "64,1514,9000": the sizes frames take in turn. */
static int net_sizes_parse(struct net_run *nr, const char *arg)
{
	const char *p = arg;
	unsigned int n = 0, max = 0;
	unsigned long v;
	char *end;

	do {
		if (n == sizeof(nr->sizes) / sizeof(nr->sizes[0]))
			return -EINVAL;
		v = strtoul(p, &end, 0);
		if (end == p || v < BENCH_FRAME_MIN || v > 9000 || (*end && *end != ','))
			return -EINVAL;
		nr->sizes[n++] = (unsigned int)v;
		if (v > max)
			max = (unsigned int)v;
		p = end + 1;
	} while (*end);
	nr->nsizes = n;
	nr->frame_size = max;
	nr->sizes_arg = arg;
	return 0;
}

/**
 * bench_net_main - pvio-bench net
 * @argc: arguments after "pvio-bench"
 * @argv: "net" and its options
 *
 * Return: the exit status: 0, 1 on failure, 2 on bad usage.
 */
int bench_net_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "mode", required_argument, NULL, 'm' },
		{ "frame-size", required_argument, NULL, 'f' },
		{ "burst", required_argument, NULL, 'b' },
		{ "runtime", required_argument, NULL, 't' },
		{ "verify", no_argument, NULL, 'v' },
		{ "json", no_argument, NULL, 'j' },
		{ "poll", no_argument, NULL, 'p' },
		{ "timeout-ms", required_argument, NULL, 'T' },
		{ "packed", no_argument, NULL, 'K' },
		{ "in-order", no_argument, NULL, 'O' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const modes[] = { "tx", "rx", "reflect" };
	struct vuser_net_opts no = { .queue_size = 256 };
	struct net_run *nr = calloc(1, sizeof(*nr));
	uint64_t t0, t1, n;
	pthread_t tid;
	double cpu0, cpu1, secs;
	int o, r, status = 0;

	if (!nr)
		return 1;
	nr->mode = NET_REFLECT;
	nr->frame_size = 64;
	nr->sizes[0] = 64;
	nr->nsizes = 1;
	nr->sizes_arg = "64";
	nr->burst = 32;
	nr->runtime = 5;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 's':
			no.socket_path = optarg;
			break;
		case 'm':
			for (r = 0; r < 3 && strcmp(optarg, modes[r]); r++)
				;
			if (r == 3) {
				fprintf(stderr, "pvio-bench: --mode %s: want tx, rx or reflect\n",
					optarg);
				return 2;
			}
			nr->mode = (enum net_mode)r;
			break;
		case 'f':
			if (net_sizes_parse(nr, optarg)) {
				fprintf(stderr,
					"pvio-bench net: --frame-size %s: want 60..9000, or up to 8 of them separated by commas\n",
					optarg);
				return 2;
			}
			break;
		case 'b':
			nr->burst = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 't':
			nr->runtime = strtod(optarg, NULL);
			break;
		case 'v':
			nr->verify = true;
			break;
		case 'j':
			nr->json = true;
			break;
		case 'p':
			nr->poll = true;
			break;
		case 'T':
			no.timeout_ms = (int)strtol(optarg, NULL, 0);
			break;
		case 'K':
			no.packed = true;
			break;
		case 'O':
			no.in_order = true;
			break;
		default:
			return 2;
		}
	}
	if (!no.socket_path || !nr->burst || nr->burst > 256 || nr->runtime <= 0) {
		fprintf(stderr,
			"pvio-bench net: --socket PATH required; --frame-size 60..9000, --burst 1..256, --runtime > 0\n");
		return 2;
	}
	no.max_frame = nr->frame_size > 1514 ? nr->frame_size : 1514;
	r = vuser_net_open(&nr->net, &no);
	if (r) {
		fprintf(stderr, "pvio-bench: %s\n", vuser_dev_errmsg(&nr->net.dev));
		free(nr);
		return 1;
	}
	bench_hist_init(&nr->hist);
	cpu0 = bench_cpu_seconds();
	t0 = bench_now_ns();
	/* The loop gets a thread; the main thread keeps the clock and the progress line. */
	r = pthread_create(&tid, NULL, net_thread, nr);
	if (r) {
		fprintf(stderr, "pvio-bench: pthread_create: %s\n", strerror(r));
		status = 1;
		goto out;
	}
	bench_run_clock(nr->runtime, net_count, nr, "packets/s");
	pthread_join(tid, NULL);
	r = nr->err;
	t1 = bench_now_ns();
	cpu1 = bench_cpu_seconds();
	if (r) {
		fprintf(stderr, "pvio-bench: %s\n",
			vuser_dev_errmsg(&nr->net.dev)[0] ? vuser_dev_errmsg(&nr->net.dev) :
							    strerror(-r));
		status = 1;
		goto out;
	}
	secs = (t1 - t0) / 1e9;
	n = atomic_load(&nr->frames);
	if (nr->json) {
		/* One line of JSON, written a few fields at a time. */
		printf("{\"device\":\"net\",\"mode\":\"%s\",\"frame_size\":%u,\"runtime_s\":%.3f,",
		       modes[nr->mode], nr->frame_size, secs);
		printf("\"frames\":%" PRIu64 ",\"sent\":%" PRIu64 ",\"bad\":%" PRIu64 ",", n,
		       nr->sent, nr->bad);
		printf("\"pps\":%.1f,\"iops\":%.1f,\"bw_bytes\":%.0f,\"lat_ns_mean\":%.0f,",
		       n / secs, n / secs, nr->bytes / secs, bench_hist_mean(&nr->hist));
		printf("\"lat_ns_p50\":%" PRIu64 ",\"lat_ns_p99\":%" PRIu64 ",",
		       bench_hist_percentile(&nr->hist, 50), bench_hist_percentile(&nr->hist, 99));
		printf("\"lat_ns_p999\":%" PRIu64 ",\"cpu_ns_per_frame\":%.0f}\n",
		       bench_hist_percentile(&nr->hist, 99.9), n ? (cpu1 - cpu0) * 1e9 / n : 0);
	} else {
		printf("net %s frame=%s: %.2f s on %s\n", modes[nr->mode], nr->sizes_arg, secs,
		       no.socket_path);
		printf("  %.0f packets/s  %.1f Mbit/s", n / secs, nr->bytes * 8 / secs / 1e6);
		printf("  (%" PRIu64 " frames, %" PRIu64 " sent, %" PRIu64 " bad)\n", n, nr->sent,
		       nr->bad);
		if (nr->mode == NET_REFLECT)
			bench_print_lat(&nr->hist);
		printf("  cpu: %.0f ns per frame\n", n ? (cpu1 - cpu0) * 1e9 / n : 0.0);
	}
	if (nr->verify && nr->bad) {
		fprintf(stderr, "pvio-bench: %" PRIu64 " frames came back malformed\n", nr->bad);
		status = 1;
	}
out:
	vuser_net_close(&nr->net);
	free(nr);
	return status;
}
