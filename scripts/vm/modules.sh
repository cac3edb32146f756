#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the pvio guest modules for one guest kernel, with -Werror, where
# scripts/vm/lib.sh's vm_ko looks for them: in the tree (`make modules`) for
# the kernel scripts/kdir.sh picks, otherwise in build/kmod/<version>/, a
# tree staged by scripts/dkms-stage.sh, so two kernels' outputs never mix.
#
# Usage: scripts/vm/modules.sh [--kver VERSION]
#   default VERSION: vm_kver (PVIO_GUEST_KERNEL=6.1|6.12, PVIO_VM_KVER)
#
# Exit status: 0 built, 1 the build failed, 3 no headers for VERSION.
set -euo pipefail

export VM_PROG=vm-modules
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

kver=
case ${1:-} in
--kver) kver=${2:?--kver needs a version} ;;
"") ;;
*) VM_DIE_RC=2 vm_die "usage: scripts/vm/modules.sh [--kver VERSION]" ;;
esac
if [ -z "$kver" ]; then
	kver=$(vm_kver) || vm_die "no guest kernel (scripts/deps.sh installs them)"
fi
kdir=$(vm_kdir "$kver")
[ -f "$kdir/Makefile" ] || vm_die "no headers for $kver ($kdir); run scripts/deps.sh"
top=$(PVIO_VM_KVER=$kver vm_ko_top)

if [ "$top" = "$VM_TOP" ]; then
	exec make -C "$VM_TOP" --no-print-directory -s modules "KDIR=$kdir" KCFLAGS=-Werror
fi
# Up to date: every module newer than every source.
fresh=1
for m in pvio_core pvio_blk pvio_net pvio_con; do
	ko=$(PVIO_VM_KVER=$kver vm_ko "$m")
	[ -f "$ko" ] || fresh=0
	while read -r f; do
		[ ! "$f" -nt "$ko" ] || fresh=0
	done < <(vm_ko_sources)
done
[ "$fresh" = 0 ] || exit 0
# Otherwise a fresh copy: the sources may have gone back in time (git
# checkout), which a copy that make only updates would miss.
rm -rf "$top.new"
mkdir -p "$(dirname "$top")"
"$VM_TOP/scripts/dkms-stage.sh" "$top.new" >/dev/null
make -C "$kdir" --no-print-directory -s "M=$top.new/frontend" modules KCFLAGS=-Werror ||
	exit 1
rm -rf "$top"
mv "$top.new" "$top"
