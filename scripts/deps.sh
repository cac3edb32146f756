#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install every Debian 12 package pvio needs, idempotently.
#
#   scripts/deps.sh           install what is missing (root, or sudo)
#   scripts/deps.sh --check   only report what is missing; exit 1 if anything is
#   scripts/deps.sh --list    print the package list
#
# Fast no-op when everything is present: dpkg-query decides, and apt-get runs
# (update + install) only when a package is missing.  A fresh Debian 12 machine
# needs nothing installed by hand; `make check` and `make demo` call this first.
# Hugepages for the DPDK tests are set up separately by scripts/hugepages.sh.
set -euo pipefail

# One line per purpose; keep each name a real Debian 12 (bookworm) package.
PACKAGES=(
	# Build: userspace parts and the guest kernel modules.
	build-essential gcc make pkg-config git
	liburing-dev libnuma-dev
	# pviod's control socket and pvioctl (JSON-RPC); sd_notify (Type=notify).
	libjson-c-dev libsystemd-dev
	# tests/vm/libvirt_pviod.sh: libvirt's QEMU on pviod's sockets.
	libvirt-daemon-system libvirt-clients
	# Storage engines: NBD (libnbd), Ceph RBD (librbd), the servers their
	# tests start (nbdkit, a one-mon one-OSD cluster) and QEMU's rbd driver.
	libnbd-dev nbdkit librbd-dev librados-dev ceph-mon ceph-osd ceph-common
	qemu-block-extra
	linux-headers-amd64 bc bison flex libelf-dev libssl-dev kmod
	# Kernel source: checkpatch.pl, .clang-format, kselftest headers
	# (scripts/linux-tools.sh extracts them from the tarball).
	linux-source-6.1 xz-utils
	# Guest: kernel, initramfs userland, emulator, images, storage daemon.
	linux-image-amd64 busybox-static cpio zstd
	qemu-system-x86 qemu-system-common qemu-utils
	# Host-side peers and tools used by integration tests and benchmarks.
	fio iproute2 iputils-ping procps util-linux coreutils systemd ethtool
	# Packaging: DKMS builds of the guest modules (tests/frontend/dkms.sh).
	dkms
	dpdk dpdk-dev libdpdk-dev
	gnuplot-nox
	# Sanitizers and debugging: clang's runtimes (ASan/UBSan/TSan/LSan).
	clang llvm libclang-rt-14-dev gdb valgrind strace
	# Lint: sparse, clang-format, cppcheck, shellcheck; checkpatch needs perl.
	sparse clang-format cppcheck shellcheck perl python3
	# Documentation and misc.
	man-db file
)

die() {
	echo "deps.sh: error: $*" >&2
	exit 1
}

missing_packages() {
	local pkg status
	for pkg in "${PACKAGES[@]}"; do
		status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
		if [ "$status" != "installed" ]; then
			echo "$pkg"
		fi
	done
}

mode=install
case "${1:-}" in
"") ;;
--check) mode=check ;;
--list)
	printf '%s\n' "${PACKAGES[@]}"
	exit 0
	;;
-h | --help)
	sed -n '3,12p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
	;;
*) die "unknown option '$1' (use --check, --list or no option)" ;;
esac

command -v dpkg-query >/dev/null 2>&1 ||
	die "dpkg-query not found: pvio supports Debian 12 (bookworm) only"

mapfile -t missing < <(missing_packages)
if [ "${#missing[@]}" -eq 0 ]; then
	echo "deps.sh: all ${#PACKAGES[@]} packages present"
	exit 0
fi

if [ "$mode" = check ]; then
	echo "deps.sh: missing packages: ${missing[*]}" >&2
	echo "deps.sh: run scripts/deps.sh as root to install them" >&2
	exit 1
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 ||
		die "missing packages (${missing[*]}) and not root: run scripts/deps.sh as root"
	SUDO=(sudo)
fi

echo "deps.sh: installing ${#missing[@]} missing packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
APT_OPTS=(-y -q -o Dpkg::Use-Pty=0 -o Dpkg::Options::=--force-confdef
	-o Dpkg::Options::=--force-confold --no-install-recommends)
# Retry once: a freshly booted machine may still hold the dpkg lock briefly.
for attempt in 1 2; do
	if "${SUDO[@]}" apt-get update -q &&
		"${SUDO[@]}" apt-get install "${APT_OPTS[@]}" "${missing[@]}"; then
		break
	fi
	[ "$attempt" -eq 2 ] &&
		die "apt-get failed to install: ${missing[*]} (see the apt output above; check /etc/apt/sources.list and the network)"
	echo "deps.sh: apt-get failed, retrying in 10 s" >&2
	sleep 10
done

mapfile -t still < <(missing_packages)
[ "${#still[@]}" -eq 0 ] ||
	die "still missing after apt-get install: ${still[*]}"
echo "deps.sh: all ${#PACKAGES[@]} packages present"
