# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# TAP for the in-guest scripts (busybox sh; source it).  The VM tests pack
# it into the initramfs as /lib/pvio/tap.sh (vmt_initramfs, tests/vm/lib.sh).
# The host renumbers the guest's points into its own stream
# (tests/lib/tap.sh's tap_merge); a script prints its own header and plan,
# or leaves the plan to the host.
#
#   ok "description"  /  not_ok "description"
#   check "description" CMD ARGS...   # ok when CMD succeeds
#   point RC "description"            # ok when RC is 0
#   wait_for SECONDS CMD ARGS...      # poll CMD every 0.1 s until it succeeds
#
# n is the number of points so far, failed how many failed.

n=0
failed=0

ok()
{
	n=$((n + 1))
	echo "ok $n $*"
}

not_ok()
{
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n $*"
}

check()
{
	_desc=$1
	shift
	if "$@"; then
		ok "$_desc"
	else
		not_ok "$_desc"
	fi
}

point()
{
	if [ "$1" = 0 ]; then
		ok "$2"
	else
		not_ok "$2"
	fi
}

wait_for()
{
	t=$(($1 * 10))
	shift
	while ! "$@"; do
		t=$((t - 1))
		[ "$t" -gt 0 ] || return 1
		sleep 0.1
	done
}
