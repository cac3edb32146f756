# SPDX-License-Identifier: GPL-2.0
#
# tests/scripts: self-tests of the tooling in scripts/ (tap-run).  They are
# shell scripts, run natively only (not under the sanitizer builds), by
# scripts/check.sh in the unit phase.
SCRIPT_TESTS += tests/scripts/tap-run-test.sh
