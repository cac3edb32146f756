#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: the matrix's second column, a smoke of the guest modules and
# pviod on QEMU 10.0 with the 6.12 guest kernel (both from
# bookworm-backports, unpacked by scripts/deps.sh into /opt/pvio; the
# full VM suite runs on Debian 12's QEMU 7.2 and 6.1).  It runs other VM
# tests with PVIO_QEMU and PVIO_GUEST_KERNEL set (scripts/vm/lib.sh), the
# modules built for 6.12 with -Werror in build/kmod/<version>/, and merges
# their points:
#
#   pvio_blk_builtin.sh   pvio_blk on QEMU's virtio-blk-pci
#   pvio_blk_pviod.sh     pvio_blk on pviod's vhost-user-blk
#   pvio_net_pviod.sh     pvio_net on pviod's vhost-user net, with MSI-X
#                         (QEMU 7.2 needs INTx there, scripts/vm/run.sh),
#                         packed rings and in_order=on: pviod publishes
#                         sent frames in used batches (IN_ORDER)
#   pvio_net_auto.sh      pvio_core and pvio_net with no parameter beside a
#                         virtio-rng the built-in virtio_pci keeps; QEMU's
#                         virtio-net with in_order=on (split rings)
#   pvio_net_tap_packed.sh  PVG_TAP_MODE=peer: pvio_net on QEMU's
#                         virtio-net with packed rings and in_order=on
#   pvio_con.sh           pvio_con on QEMU's virtio-serial-pci: hvc0 console
#                         (with virtio_console built into 6.12: run.sh keeps
#                         console=hvc0 off /dev/console), ports, hot-plug
#   pviod_crash_recovery.sh  stock virtio_blk, pviod killed mid-I/O
#                         (MATRIX_KILLS times, default 3) and at every step of
#                         QEMU's reconnect handshake, which QEMU before 8.2
#                         loses (issue 14; skipped on 7.2)
#
# The net tests' devices have in_order=on (PVG_IN_ORDER=on, pvio_net_lib.sh's
# pvn_in_order; they SKIP on a QEMU without it, before 9.1) and check that
# pvio_net negotiated VIRTIO_F_IN_ORDER; MATRIX_IN_ORDER=off runs them
# without.  MATRIX_QEMU (default 10), MATRIX_KERNEL (default 6.12) and
# MATRIX_TESTS (test names) choose another cell.
#
# timeout=900
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib/tap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/tap.sh"
mtop=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export PVIO_QEMU=${MATRIX_QEMU:-10}
export PVIO_GUEST_KERNEL=${MATRIX_KERNEL:-6.12}
tests=${MATRIX_TESTS:-pvio_blk_builtin pvio_blk_pviod pvio_net_pviod pvio_net_auto
	pvio_net_tap_packed pvio_con pviod_crash_recovery}
export PVG_IN_ORDER=${MATRIX_IN_ORDER:-on}

# test_env NAME: what the matrix sets for test NAME alone (env's words).
test_env()
{
	case $1 in
	pvio_net_pviod) echo PVG_PACKED=on ;;
	pvio_net_tap*) echo PVG_TAP_MODE=peer ;;
	esac
}
export CRASH_KILLS=${MATRIX_KILLS:-3} CRASH_TERMS=1

tap_begin
qemu=$( (. "$mtop/scripts/vm/lib.sh" && qemu-system-x86_64 --version | head -n 1) 2>&1) ||
	tap_skip_all "QEMU $PVIO_QEMU not installed ($qemu; scripts/deps.sh installs it)"
kver=$( (. "$mtop/scripts/vm/lib.sh" && vm_kver) 2>&1) ||
	tap_skip_all "guest kernel $PVIO_GUEST_KERNEL not installed ($kver; scripts/deps.sh)"
echo "# $qemu; guest kernel $kver"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pvio-matrix.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
for t in $tests; do
	start=$SECONDS
	rc=0
	# shellcheck disable=SC2046 # test_env's words are separate on purpose
	env $(test_env "$t") "$mtop/tests/vm/$t.sh" >"$tmp/$t.tap" 2>"$tmp/$t.err" || rc=$?
	echo "# $t: exit $rc in $((SECONDS - start)) s"
	if [ "$rc" = 4 ]; then
		tap_skip "$t on QEMU $PVIO_QEMU + $kver" "$(grep -m1 -o 'SKIP.*' "$tmp/$t.tap" || true)"
		continue
	fi
	failed=$TAP_FAILED
	tap_merge "$tmp/$t.tap" "$t: "
	if [ "$rc" != 0 ] && [ "$TAP_FAILED" = "$failed" ]; then
		tap_fail "$t: exit $rc"
	fi
	if [ "$rc" != 0 ]; then
		tail -n 30 "$tmp/$t.err" | sed 's/^/# stderr: /'
	fi
done
tap_end
