# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Shared by the tests/vm/*.sh VM tests (source it): the harness libraries,
# a temp dir cleaned on exit, and the guest programs.
#
#   vmt_init NAME       TAP header, SKIP (exit 4) when no guest can boot here,
#                       $VMT_TMP, EXIT trap (back-ends, temp dir)
#   vmt_prog NAME       path of the static guest program
#                       build/tests/vm/guest/NAME (tests/vm/guest/NAME.c;
#                       built with make when missing)

# shellcheck source-path=SCRIPTDIR source=../../scripts/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/vm/lib.sh"
# shellcheck source=../../scripts/vm/tap.sh
. "$VM_TOP/scripts/vm/tap.sh"
# shellcheck source=../../scripts/vm/backend.sh
. "$VM_TOP/scripts/vm/backend.sh"

VMT_O=${O:-build}
VMT_TMP=

vmt_cleanup()
{
	vm_backend_stop_all || true
	[ -z "$VMT_TMP" ] || rm -rf "$VMT_TMP"
}

vmt_init()
{
	local why
	export VM_PROG=$1
	tap_begin
	if ! why=$(vm_can_run); then
		echo "1..0 # SKIP $why"
		exit 4
	fi
	VMT_TMP=$(mktemp -d "${TMPDIR:-/tmp}/pvio-$1.XXXXXX")
	trap vmt_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

vmt_prog()
{
	local p=$VM_TOP/$VMT_O/tests/vm/guest/$1
	if [ ! -x "$p" ]; then
		make -C "$VM_TOP" --no-print-directory -s "O=$VMT_O" "$VMT_O/tests/vm/guest/$1" >&2 ||
			vm_die "cannot build $VMT_O/tests/vm/guest/$1"
	fi
	echo "$p"
}

# vmt_seed: a stamp seed, printed so a failure can be replayed.
vmt_seed()
{
	od -An -N4 -tu4 /dev/urandom | tr -d ' '
}
