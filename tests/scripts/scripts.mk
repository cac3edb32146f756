# SPDX-License-Identifier: GPL-2.0
#
# tests/scripts: self-tests of the tooling in scripts/ (tap-run) and smoke
# tests of the benchmark scripts (ring_bench_test.sh: frontend/bench/
# ring_bench.sh, one short round and fake pvio-ringbench runs, a few
# seconds).  They are shell scripts, run natively only (not under the
# sanitizer builds), by scripts/check.sh in the unit phase, after make.
SCRIPT_TESTS += tests/scripts/tap-run-test.sh
SCRIPT_TESTS += tests/scripts/ring_bench_test.sh
