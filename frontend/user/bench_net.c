// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include "pvio_bench.h"
int bench_net_main(int argc, char **argv)
{
	fprintf(stderr, "pvio-bench net: not yet\n");
	return 2;
}
