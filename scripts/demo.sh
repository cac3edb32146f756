#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The demo: what `make demo` runs (after scripts/deps.sh).
#
# Interim version until the end-to-end VM demo lands: builds everything and
# runs the split-ring benchmark (driver and device threads on two cores,
# round-trip cost per request and notifications per request, batch sizes
# 1/8/32/128, with and without EVENT_IDX, against DPDK's rte_ring).  A real
# run, never a placeholder: without the benchmark it fails.
set -euo pipefail

cd "$(dirname "$0")/.."

make --no-print-directory -j"$(nproc)"
bench=build/pvio-ringbench
if [ ! -x "$bench" ]; then
	echo "demo.sh: error: $bench was not built (tests/ring/ring.mk provides it);" \
		"check the output of 'make' above" >&2
	exit 1
fi
# The benchmarks as registered in $(BENCHES) (the ring benchmark with the
# options its fragment chose), exactly what `make bench` runs.
exec scripts/bench.sh "$@"
