/* SPDX-License-Identifier: GPL-2.0 */
/* pvio_bench.h - shared helpers of pvio-bench's blk and net parts. */
#ifndef PVIO_BENCH_H
#define PVIO_BENCH_H

#include <stdbool.h>
#include <stdint.h>

#include "bench_lib.h"

uint64_t bench_now_ns(void);
bool bench_should_stop(void);
void bench_fail(void);
bool bench_failed_flag(void);
double bench_cpu_seconds(void);
void bench_run_clock(double runtime, uint64_t (*count)(void *), void *arg, const char *unit);
void bench_print_lat(const struct bench_hist *h);

int bench_blk_main(int argc, char **argv);
int bench_net_main(int argc, char **argv);
int bench_idle_main(int argc, char **argv);

#endif /* PVIO_BENCH_H */
