# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# A network namespace of the test's own, for the net tests that put pviod's
# tap back-end (and the host's end of the traffic) in one (source it after
# tap.sh; bash).
#
#   netns_need TOOL...   SKIP (exit 4) unless each TOOL is installed and
#                        /dev/net/tun exists
#   netns_add NAME       the namespace NAME, its loopback up; SKIP (exit 4)
#                        when it cannot be created (not root).  The caller
#                        removes it at exit (ip netns del NAME)

netns_need()
{
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || tap_skip_all "$t not installed"
	done
	[ -c /dev/net/tun ] || tap_skip_all "no /dev/net/tun"
}

netns_add()
{
	ip netns add "$1" || tap_skip_all "cannot create a network namespace (root?)"
	ip -n "$1" link set lo up || {
		ip netns del "$1"
		return 1
	}
}
