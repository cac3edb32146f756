#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Reserve 2 MiB hugepages and mount hugetlbfs, for the DPDK tests and benches.
#
#   scripts/hugepages.sh [--check] [PAGES]
#
# PAGES defaults to $PVIO_HUGEPAGES or 1024 (2 GiB).  Idempotent: it only
# raises vm.nr_hugepages, never lowers it, and mounts hugetlbfs on
# /dev/hugepages only when nothing is mounted there.  --check changes nothing
# and only tells whether the set-up is already in place.
#
# Exit status: 0 ready; 1 could not set up (not root, read-only /proc/sys, not
# enough memory); 4 (the kselftest "skip" code) with --check when not ready.
# A test calls it and turns a non-zero status into a skip with the message.
set -euo pipefail

MNT=/dev/hugepages
check=0
if [ "${1:-}" = --check ]; then
	check=1
	shift
fi
want=${1:-${PVIO_HUGEPAGES:-1024}}
case "$want" in
'' | *[!0-9]*)
	echo "hugepages.sh: error: page count '$want' is not a number" >&2
	exit 1
	;;
esac

fail() {
	echo "hugepages.sh: $*" >&2
	exit 1
}

have=$(cat /proc/sys/vm/nr_hugepages)
mounted=0
if grep -qs "^[^ ]* $MNT hugetlbfs " /proc/mounts; then
	mounted=1
fi

if [ "$check" -eq 1 ]; then
	if [ "$have" -ge "$want" ] && [ "$mounted" -eq 1 ]; then
		echo "hugepages.sh: $have hugepages, hugetlbfs on $MNT"
		exit 0
	fi
	echo "hugepages.sh: not ready ($have of $want hugepages, hugetlbfs on $MNT: $([ "$mounted" -eq 1 ] && echo yes || echo no)); run scripts/hugepages.sh as root" >&2
	exit 4
fi

grep -qw hugetlbfs /proc/filesystems ||
	fail "error: this kernel has no hugetlbfs (CONFIG_HUGETLBFS); DPDK tests cannot run here"

if [ "$have" -lt "$want" ]; then
	[ "$(id -u)" -eq 0 ] ||
		fail "error: only $have hugepages reserved, need $want: run scripts/hugepages.sh as root"
	if ! echo "$want" >/proc/sys/vm/nr_hugepages 2>/dev/null; then
		fail "error: cannot write /proc/sys/vm/nr_hugepages (read-only /proc/sys in a container?); reserve $want hugepages on the host"
	fi
	have=$(cat /proc/sys/vm/nr_hugepages)
	# The kernel reserves what it can; fragmented memory may give fewer.
	[ "$have" -ge "$want" ] ||
		fail "error: asked for $want hugepages, the kernel reserved only $have (memory fragmented or too small); free memory or lower PVIO_HUGEPAGES"
fi

if [ "$mounted" -eq 0 ]; then
	[ "$(id -u)" -eq 0 ] || fail "error: hugetlbfs not mounted on $MNT: run scripts/hugepages.sh as root"
	mkdir -p "$MNT"
	mount -t hugetlbfs -o pagesize=2M nodev "$MNT" ||
		fail "error: cannot mount hugetlbfs on $MNT (no CAP_SYS_ADMIN?)"
fi
echo "hugepages.sh: $have hugepages, hugetlbfs on $MNT"
