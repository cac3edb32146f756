# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# TAP 13 output for the shell tests (source it; bash): one TAP program for
# scripts/tap-run, its points numbered as they come, the plan at the end.
# A VM test merges the guest's points into its stream (renumbered), then
# adds the host's own checks.
#
#   tap_begin                             # "TAP version 13"
#   tap_ok "description"  /  tap_fail "description"
#   tap_check "description" CMD ARGS...   # ok when CMD succeeds
#   tap_point RC "description"            # ok when RC is 0
#   tap_skip "description" "reason"       # one point skipped
#   tap_skip_all "reason"                 # the whole test: plan 1..0, exit 4
#   tap_merge GUEST_TAP_FILE "prefix: "   # the guest's points, renumbered
#   tap_end                               # prints the plan, exits 0 or 1
#
# TAP_N is the number of points so far, TAP_FAILED how many failed.

TAP_N=0
TAP_FAILED=0

tap_begin()
{
	echo "TAP version 13"
}

tap_ok()
{
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N $1"
}

tap_fail()
{
	TAP_N=$((TAP_N + 1))
	TAP_FAILED=$((TAP_FAILED + 1))
	echo "not ok $TAP_N $1"
}

tap_skip()
{
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N $1 # SKIP $2"
}

tap_point()
{
	if [ "$1" = 0 ]; then
		tap_ok "$2"
	else
		tap_fail "$2"
	fi
}

tap_skip_all()
{
	echo "1..0 # SKIP $1"
	exit 4
}

tap_check()
{
	local desc=$1
	shift
	if "$@"; then
		tap_ok "$desc"
	else
		tap_fail "$desc"
	fi
}

# tap_merge FILE PREFIX: every top-level "ok"/"not ok" line of FILE becomes a
# point of this stream (directives such as "# SKIP" kept); "Bail out!"
# becomes a failed point; versions and plans of the guest's programs are
# dropped (the guest script checks each program's exit status instead);
# everything else is kept as a comment.
tap_merge()
{
	local file=$1 prefix=${2:-} line desc
	[ -f "$file" ] || {
		tap_fail "${prefix}guest TAP output (missing: $file)"
		return 0
	}
	while IFS= read -r line || [ -n "$line" ]; do
		case $line in
		"TAP version"*) ;;
		1..*) echo "# ${prefix}plan $line" ;;
		"not ok "*)
			desc=${line#not ok }
			desc=${desc#"${desc%%[!0-9]*}"}
			desc=${desc# }
			desc=${desc#- }
			tap_fail "$prefix$desc"
			;;
		"ok "*)
			desc=${line#ok }
			desc=${desc#"${desc%%[!0-9]*}"}
			desc=${desc# }
			desc=${desc#- }
			TAP_N=$((TAP_N + 1))
			echo "ok $TAP_N $prefix$desc"
			;;
		"Bail out!"*) tap_fail "$prefix${line#Bail out!}" ;;
		"#"*) echo "$line" ;;
		"") ;;
		*) echo "# $line" ;;
		esac
	done <"$file"
}

tap_end()
{
	echo "1..$TAP_N"
	[ "$TAP_FAILED" = 0 ]
	exit $?
}
