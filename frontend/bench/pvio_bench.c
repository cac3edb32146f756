// SPDX-License-Identifier: GPL-2.0
/*
 * pvio-bench - measure a vhost-user back-end from the host, no VM needed.
 *
 *   pvio-bench blk --socket PATH --rw randread --bs 4k --iodepth 32 --queues 1 --runtime 10
 *   pvio-bench net --socket PATH --frame-size 64 --mode reflect --runtime 10
 *   pvio-bench idle --pid PID --blk PATH --net PATH --console PATH --runtime 10
 *
 * One thread per queue keeps --iodepth requests in flight, timing each from
 * submission to reaping into a per-thread histogram; the report merges them.
 * CPU time per I/O is getrusage() of the whole process over the run, so it
 * includes the polling (or sleeping) overhead of the client.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "vuser.h"
#include "bench_lib.h"
#include "pvio_bench.h"

static atomic_bool bench_stop;
static atomic_bool bench_failed;

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

bool bench_should_stop(void)
{
	return atomic_load_explicit(&bench_stop, memory_order_relaxed);
}

void bench_fail(void)
{
	atomic_store(&bench_failed, true);
	atomic_store(&bench_stop, true);
}

static void bench_on_signal(int sig)
{
	atomic_store(&bench_stop, true);
}

double bench_cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

/*
 * Wait for the run to end, printing a progress line once a second when
 * stdout is a terminal.  @count returns the operations so far.
 */
void bench_run_clock(double runtime, uint64_t (*count)(void *), void *arg, const char *unit)
{
	bool tty = isatty(STDOUT_FILENO);
	uint64_t start = bench_now_ns(), end = start + (uint64_t)(runtime * 1e9);
	uint64_t last_t = start, last_n = 0;

	while (!bench_should_stop()) {
		uint64_t now = bench_now_ns();

		if (now >= end)
			break;
		usleep(now + 100000000ull < end ? 100000 : (end - now) / 1000 + 1);
		now = bench_now_ns();
		if (tty && now - last_t >= 1000000000ull) {
			uint64_t n = count(arg);

			printf("\r[%5.1fs] %10.0f %s   ", (now - start) / 1e9,
			       (n - last_n) / ((now - last_t) / 1e9), unit);
			fflush(stdout);
			last_t = now;
			last_n = n;
		}
	}
	if (tty)
		printf("\r%60s\r", "");
	atomic_store(&bench_stop, true);
}

bool bench_failed_flag(void)
{
	return atomic_load(&bench_failed);
}

void bench_print_lat(const struct bench_hist *h)
{
	printf("  lat (us): mean %.2f  p50 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n",
	       bench_hist_mean(h) / 1e3, bench_hist_percentile(h, 50) / 1e3,
	       bench_hist_percentile(h, 99) / 1e3, bench_hist_percentile(h, 99.9) / 1e3,
	       h->max / 1e3);
}

static void print_usage(FILE *f)
{
	fprintf(f,
		"usage: pvio-bench blk --socket PATH [--rw read|write|randread|randwrite|randrw]\n"
		"                      [--bs 4k] [--iodepth N] [--queues N] [--runtime SEC]\n"
		"                      [--size BYTES] [--verify | --verify-existing] [--seed N]\n"
		"                      [--rwmixread PCT] [--poll[=adaptive|on|off]] [--poll-budget US]\n"
		"                      [--no-indirect] [--hugetlb] [--packed] [--in-order]\n"
		"                      [--timeout-ms MS] [--json]\n"
		"       pvio-bench net --socket PATH [--mode tx|rx|reflect] [--frame-size 64[,1514,...]]\n"
		"                      [--burst N] [--runtime SEC] [--verify] [--packed] [--in-order]\n"
		"                      [--timeout-ms MS] [--json]\n"
		"       pvio-bench idle --pid PID [--blk SOCK]... [--net SOCK]... [--console SOCK]...\n"
		"                      [--runtime SEC] [--json]\n");
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = bench_on_signal };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2) {
		print_usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "blk"))
		return bench_blk_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "net"))
		return bench_net_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "idle"))
		return bench_idle_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		print_usage(stdout);
		return 0;
	}
	fprintf(stderr, "pvio-bench: unknown device '%s' (want blk, net or idle)\n", argv[1]);
	print_usage(stderr);
	return 2;
}
