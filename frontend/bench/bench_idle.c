// SPDX-License-Identifier: GPL-2.0
/*
 * bench_idle.c - pvio-bench idle: what an idle back-end costs with devices
 * connected.
 *
 * Connects to every device named (blk, net, console), gives each a little
 * work (a 4 KiB read; nothing for net and console: their receive queues
 * stay posted, as a guest's do), lets the back-end settle, then does
 * nothing for --runtime seconds while the devices stay connected, and
 * reports the back-end's CPU time over that time (utime + stime of
 * /proc/PID/stat, as a share of one CPU) and how often its threads woke
 * (voluntary context switches of /proc/PID/task/).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vuser.h"
#include "pvio_bench.h"
#include "bench_lib.h"

#define IDLE_DEVS_MAX 16

enum idle_type { IDLE_BLK, IDLE_NET, IDLE_CONSOLE };

struct idle_dev {
	enum idle_type type;
	const char *socket;
	union {
		struct vuser_blk blk;
		struct vuser_net net;
		struct vuser_console con;
	};
	bool open;
};

static int idle_open(struct idle_dev *d)
{
	int r;

	switch (d->type) {
	case IDLE_BLK: {
		struct vuser_blk_opts o = { .socket_path = d->socket, .buf_bytes = 1u << 16 };
		void *buf;

		r = vuser_blk_open(&d->blk, &o);
		if (r) {
			fprintf(stderr, "pvio-bench: %s\n", vuser_dev_errmsg(&d->blk.dev));
			return r;
		}
		d->open = true;
		buf = vuser_blk_alloc(&d->blk, 4096);
		r = buf ? vuser_blk_sync(&d->blk, 0, PVIO_BLK_T_IN, 0, buf, 4096) : -ENOMEM;
		if (r)
			fprintf(stderr, "pvio-bench: %s: a 4 KiB read failed: %s\n", d->socket,
				strerror(-r));
		return r;
	}
	case IDLE_NET: {
		struct vuser_net_opts o = { .socket_path = d->socket };

		r = vuser_net_open(&d->net, &o);
		if (r)
			fprintf(stderr, "pvio-bench: %s\n", vuser_dev_errmsg(&d->net.dev));
		d->open = !r;
		return r;
	}
	case IDLE_CONSOLE: {
		struct vuser_console_opts o = { .socket_path = d->socket };

		r = vuser_console_open(&d->con, &o);
		if (r)
			fprintf(stderr, "pvio-bench: %s\n", vuser_dev_errmsg(&d->con.dev));
		d->open = !r;
		return r;
	}
	}
	return -EINVAL;
}

static void idle_close(struct idle_dev *d)
{
	if (!d->open)
		return;
	switch (d->type) {
	case IDLE_BLK:
		vuser_blk_close(&d->blk);
		break;
	case IDLE_NET:
		vuser_net_close(&d->net);
		break;
	case IDLE_CONSOLE:
		vuser_console_close(&d->con);
		break;
	}
	d->open = false;
}

/**
 * bench_idle_main - pvio-bench idle
 * @argc: arguments after "pvio-bench"
 * @argv: "idle" and its options
 *
 * Return: the exit status: 0, 1 when a device cannot be used or the
 * back-end's /proc entry read, 2 on bad usage.
 */
int bench_idle_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "blk", required_argument, NULL, 'b' },
		{ "net", required_argument, NULL, 'n' },
		{ "console", required_argument, NULL, 'c' },
		{ "runtime", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	static struct idle_dev devs[IDLE_DEVS_MAX];
	unsigned int ndevs = 0, i;
	double runtime = 10, secs, pct;
	long pid = 0, cpu0, cpu1, wk0, wk1, hz = sysconf(_SC_CLK_TCK);
	uint64_t t0, t1;
	bool json = false;
	int o, status = 0;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'p':
			pid = strtol(optarg, NULL, 10);
			break;
		case 'b':
		case 'n':
		case 'c':
			if (ndevs == IDLE_DEVS_MAX) {
				fprintf(stderr, "pvio-bench: at most %d devices\n", IDLE_DEVS_MAX);
				return 2;
			}
			devs[ndevs].type = o == 'b' ? IDLE_BLK : o == 'n' ? IDLE_NET : IDLE_CONSOLE;
			devs[ndevs++].socket = optarg;
			break;
		case 't':
			runtime = strtod(optarg, NULL);
			break;
		case 'j':
			json = true;
			break;
		default:
			return 2;
		}
	}
	if (pid <= 0 || !ndevs || runtime <= 0 || optind < argc) {
		fprintf(stderr,
			"pvio-bench idle: --pid PID of the back-end and at least one --blk, --net or --console SOCKET are required\n");
		return 2;
	}
	for (i = 0; i < ndevs; i++) {
		if (idle_open(&devs[i])) {
			status = 1;
			goto out;
		}
	}
	/* Longer than any poll window: the back-end is asleep by now. */
	usleep(500000);
	cpu0 = bench_proc_cpu_ticks(pid);
	wk0 = bench_proc_sleeps(pid);
	t0 = bench_now_ns();
	usleep((useconds_t)(runtime * 1e6));
	t1 = bench_now_ns();
	cpu1 = bench_proc_cpu_ticks(pid);
	wk1 = bench_proc_sleeps(pid);
	if (cpu0 < 0 || cpu1 < 0 || wk0 < 0 || wk1 < 0) {
		fprintf(stderr, "pvio-bench: cannot read /proc/%ld: is the back-end running?\n",
			pid);
		status = 1;
		goto out;
	}
	secs = (double)(t1 - t0) / 1e9;
	pct = (double)(cpu1 - cpu0) / (double)hz / secs * 100;
	if (json) {
		printf("{\"device\":\"idle\",\"devices\":%u,\"runtime_s\":%.3f,", ndevs, secs);
		printf("\"cpu_pct\":%.3f,\"wakeups_per_s\":%.2f}\n", pct,
		       (double)(wk1 - wk0) / secs);
	} else {
		printf("idle: %u devices connected, %.2f s: ", ndevs, secs);
		printf("back-end %.3f%% of a CPU (%ld ticks), %.2f wake-ups/s\n", pct, cpu1 - cpu0,
		       (double)(wk1 - wk0) / secs);
	}
out:
	for (i = 0; i < ndevs; i++)
		idle_close(&devs[i]);
	return status;
}
