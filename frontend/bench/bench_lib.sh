# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# bench_lib.sh - shell helpers shared by the frontend/bench scripts (sourced).
#
#   bench_load         the 1, 5 and 15 minute load averages
#   bench_stats V...   "median min max" of the numbers V (nan nan nan if none)
#   bench_median V...  the median alone

bench_load()
{
	cut -d' ' -f1-3 /proc/loadavg
}

bench_stats()
{
	printf '%s\n' "$@" | sort -g | awk 'NF { v[++n] = $1 }
		END {
			if (!n) { print "nan nan nan"; exit }
			m = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
			printf "%.15g %.15g %.15g\n", m, v[1], v[n]
		}'
}

bench_median()
{
	bench_stats "$@" | cut -d' ' -f1
}
