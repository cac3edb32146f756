#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install every Debian 12 package pvio needs, idempotently.
#
#   scripts/deps.sh           install what is missing (root, or sudo)
#   scripts/deps.sh --check   only report what is missing; exit 1 if anything is
#   scripts/deps.sh --list    print the package list
#   scripts/deps.sh --refresh also re-fetch the backports kernel and QEMU
#
# Fast no-op when everything is present: dpkg-query decides, and apt-get runs
# (update + install) only when a package is missing.  A fresh Debian 12 machine
# needs nothing installed by hand; `make check` and `make demo` call this first.
# Hugepages for the DPDK tests are set up separately by scripts/hugepages.sh.
#
# The VM matrix's second column comes from bookworm-backports, unpacked side
# by side under $PVIO_OPT (default /opt/pvio) so that neither the host's boot
# kernel, its default headers nor the system QEMU 7.2 change:
#   /opt/pvio/linux-6.12/  the newest 6.12 guest kernel image, its modules
#                          (depmod'ed) and headers (KDIR for pvio's modules)
#   /opt/pvio/qemu-10.0/   QEMU 10.0: bin/qemu-system-x86_64, bin/qemu-img and
#                          bin/qemu-storage-daemon wrappers find its firmware
#                          and modules.  scripts/vm/ selects them with
#                          PVIO_GUEST_KERNEL=6.12 and PVIO_QEMU=10.
# Each prefix carries a stamp; once it is there nothing is downloaded again
# (--refresh replaces both by the newest in backports).
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
	# pahole: BTF for modules built against the 6.12 headers (the matrix).
	dwarves
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

# --- bookworm-backports, unpacked side by side --------------------------------
PVIO_OPT=${PVIO_OPT:-/opt/pvio}
BPO_SOURCES=/etc/apt/sources.list.d/pvio-bookworm-backports.sources
# No pin file: backports' Release says NotAutomatic, so its packages keep
# priority 100 and nothing upgrades to them unless asked (-t or =version).
BPO_ENTRY='Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg'
# The guest kernel series and the QEMU series of the matrix's second column.
BPO_KERNEL=6.12
BPO_QEMU=10.0
# What the QEMU prefix needs: the emulator, its storage daemon and tools,
# and the firmware versions it was built against.
BPO_QEMU_PKGS=(qemu-system-x86 qemu-system-common qemu-system-data qemu-utils seabios ipxe-qemu)

bpo_kernel_dir() { echo "$PVIO_OPT/linux-$BPO_KERNEL"; }
bpo_qemu_dir() { echo "$PVIO_OPT/qemu-$BPO_QEMU"; }

# bpo_missing: the side-by-side prefixes not (completely) installed.
bpo_missing()
{
	[ -f "$(bpo_kernel_dir)/.pvio-stamp" ] || echo "linux-$BPO_KERNEL"
	[ -f "$(bpo_qemu_dir)/.pvio-stamp" ] || echo "qemu-$BPO_QEMU"
	return 0
}

# bpo_source: the deb822 source for bookworm-backports; "changed" on stdout
# when it had to be written.
bpo_source()
{
	if [ "$(cat "$BPO_SOURCES" 2>/dev/null)" != "$BPO_ENTRY" ]; then
		printf '%s\n' "$BPO_ENTRY" >"$BPO_SOURCES"
		echo changed
	fi
}

# bpo_fetch DIR PKG...: apt-get download PKG (backports' version when it has
# one, else bookworm's) into DIR and unpack every .deb into DIR/root.
bpo_fetch()
{
	local dir=$1
	shift
	mkdir -p "$dir/debs" "$dir/root"
	(cd "$dir/debs" && apt-get download -q -o APT::Sandbox::User=root \
		-t bookworm-backports "$@") ||
		die "apt-get download $* failed (is $BPO_SOURCES reachable?)"
	local deb
	for deb in "$dir"/debs/*.deb; do
		dpkg -x "$deb" "$dir/root" || die "dpkg -x $deb failed"
	done
}

# bpo_install_kernel: the newest $BPO_KERNEL image, modules and headers,
# picked through the linux-image-$BPO_KERNEL-amd64 meta-package (never a
# hard-coded ABI), into $PVIO_OPT/linux-$BPO_KERNEL.
bpo_install_kernel()
{
	local dst kver tmp kdir
	dst=$(bpo_kernel_dir)
	kver=$(apt-cache depends -t bookworm-backports "linux-image-$BPO_KERNEL-amd64" 2>/dev/null |
		sed -n "s/^ *Depends: linux-image-\($BPO_KERNEL\.[^ ]*-amd64\)\$/\1/p" | sort -V | tail -n 1)
	[ -n "$kver" ] || kver=$(apt-cache search --names-only \
		"^linux-image-${BPO_KERNEL//./\\.}\\.[0-9]+\\+deb12-amd64\$" | cut -d' ' -f1 |
		sed 's/^linux-image-//' | sort -V | tail -n 1)
	[ -n "$kver" ] || die "no linux-image-$BPO_KERNEL.*-amd64 in apt's lists (bookworm-backports)"
	echo "deps.sh: guest kernel $kver into $dst"
	tmp=$(mktemp -d "$PVIO_OPT/.linux.XXXXXX")
	bpo_fetch "$tmp" "linux-image-$kver" "linux-headers-$kver" \
		"linux-headers-${kver%-amd64}-common" "linux-kbuild-${kver%-amd64}"
	# The headers' Makefile and the modules' build link name /usr/src:
	# point them into the prefix.
	kdir=$tmp/root/usr/src/linux-headers-$kver
	sed -i "s|^include /usr/src/|include $dst/usr/src/|" "$kdir/Makefile"
	ln -sfn "../../../usr/src/linux-headers-$kver" "$tmp/root/lib/modules/$kver/build"
	ln -sfn "../../../usr/src/linux-headers-${kver%-amd64}-common" \
		"$tmp/root/lib/modules/$kver/source"
	depmod -b "$tmp/root" "$kver" || die "depmod -b $tmp/root $kver failed"
	if [ ! -f "$kdir/Makefile" ] || [ ! -f "$tmp/root/boot/vmlinuz-$kver" ]; then
		die "$tmp: incomplete kernel $kver (no headers Makefile or no vmlinuz)"
	fi
	mv "$tmp/root" "$tmp/linux"
	rm -rf "$tmp/debs"
	echo "$kver" >"$tmp/linux/.pvio-stamp"
	rm -rf "$dst"
	mv "$tmp/linux" "$dst"
	rmdir "$tmp"
}

# bpo_install_qemu: QEMU $BPO_QEMU from backports into $PVIO_OPT/qemu-$BPO_QEMU,
# with wrappers in bin/ that point it at its own firmware and modules; the
# libraries it links come from bookworm (apt-get installs the missing ones).
bpo_install_qemu()
{
	local dst tmp libs=() dep v w
	dst=$(bpo_qemu_dir)
	tmp=$(mktemp -d "$PVIO_OPT/.qemu.XXXXXX")
	bpo_fetch "$tmp" "${BPO_QEMU_PKGS[@]}"
	for dep in $(dpkg-deb -f "$tmp"/debs/qemu-system-x86_*.deb Depends |
		tr ',|' '\n' | sed -n 's/^ *\(lib[^ ]*\).*/\1/p'); do
		[ "$(dpkg-query -W -f='${db:Status-Status}' "$dep" 2>/dev/null)" = installed ] ||
			libs+=("$dep")
	done
	if [ "${#libs[@]}" -gt 0 ]; then
		apt-get install "${APT_OPTS[@]}" "${libs[@]}" ||
			die "apt-get install ${libs[*]} (QEMU $BPO_QEMU's libraries) failed"
	fi
	mv "$tmp/root" "$tmp/qemu"
	rm -rf "$tmp/debs"
	mkdir -p "$tmp/qemu/bin"
	# The firmware paths Debian's QEMU is configured with, inside the prefix.
	for w in qemu-system-x86_64 qemu-storage-daemon qemu-img; do
		{
			echo '#!/bin/sh'
			echo "# QEMU $BPO_QEMU from bookworm-backports (scripts/deps.sh)."
			echo "QEMU_MODULE_DIR=$dst/usr/lib/x86_64-linux-gnu/qemu"
			echo 'export QEMU_MODULE_DIR'
			if [ "$w" = qemu-system-x86_64 ]; then
				echo "exec $dst/usr/bin/$w -L $dst/usr/share/qemu -L $dst/usr/share/seabios \\"
				echo "	-L $dst/usr/lib/ipxe/qemu \"\$@\""
			else
				echo "exec $dst/usr/bin/$w \"\$@\""
			fi
		} >"$tmp/qemu/bin/$w"
		chmod 0755 "$tmp/qemu/bin/$w"
	done
	rm -rf "$dst"
	mv "$tmp/qemu" "$dst"
	rmdir "$tmp"
	v=$("$dst/bin/qemu-system-x86_64" --version | head -n 1) ||
		die "$dst/bin/qemu-system-x86_64 --version failed"
	case $v in
	*"version $BPO_QEMU."*) ;;
	*) die "$dst/bin/qemu-system-x86_64 --version says '$v', expected $BPO_QEMU.x" ;;
	esac
	echo "$v" >"$dst/.pvio-stamp"
	echo "deps.sh: $v in $dst"
}

mode=install
refresh=0
case "${1:-}" in
"") ;;
--check) mode=check ;;
--refresh) refresh=1 ;;
--list)
	printf '%s\n' "${PACKAGES[@]}"
	echo "bookworm-backports into $PVIO_OPT: linux-image-$BPO_KERNEL-amd64 (+ headers), ${BPO_QEMU_PKGS[*]}"
	exit 0
	;;
-h | --help)
	sed -n '3,27p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
	;;
*) die "unknown option '$1' (use --check, --list, --refresh or no option)" ;;
esac

command -v dpkg-query >/dev/null 2>&1 ||
	die "dpkg-query not found: pvio supports Debian 12 (bookworm) only"

export DEBIAN_FRONTEND=noninteractive
APT_OPTS=(-y -q -o Dpkg::Use-Pty=0 -o Dpkg::Options::=--force-confdef
	-o Dpkg::Options::=--force-confold --no-install-recommends)

mapfile -t missing < <(missing_packages)
mapfile -t bpo < <(bpo_missing)
if [ "$refresh" = 1 ]; then
	bpo=("linux-$BPO_KERNEL" "qemu-$BPO_QEMU")
fi
if [ "${#missing[@]}" -eq 0 ] && [ "${#bpo[@]}" -eq 0 ]; then
	echo "deps.sh: all ${#PACKAGES[@]} packages present; $(bpo_kernel_dir) and $(bpo_qemu_dir) installed"
	exit 0
fi

if [ "$mode" = check ]; then
	[ "${#missing[@]}" -eq 0 ] || echo "deps.sh: missing packages: ${missing[*]}" >&2
	[ "${#bpo[@]}" -eq 0 ] || echo "deps.sh: missing in $PVIO_OPT: ${bpo[*]}" >&2
	echo "deps.sh: run scripts/deps.sh as root to install them" >&2
	exit 1
fi

if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 ||
		die "missing: ${missing[*]} ${bpo[*]}; and not root: run scripts/deps.sh as root"
	exec sudo "$0" "$@"
fi

updated=0
if [ "${#missing[@]}" -gt 0 ]; then
	echo "deps.sh: installing ${#missing[@]} missing packages: ${missing[*]}"
	# Retry once: a freshly booted machine may still hold the dpkg lock briefly.
	for attempt in 1 2; do
		if apt-get update -q && apt-get install "${APT_OPTS[@]}" "${missing[@]}"; then
			updated=1
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
fi
echo "deps.sh: all ${#PACKAGES[@]} packages present"

if [ "${#bpo[@]}" -gt 0 ]; then
	mkdir -p "$PVIO_OPT"
	if [ -n "$(bpo_source)" ] || [ "$updated" = 0 ] || [ "$refresh" = 1 ]; then
		apt-get update -q || die "apt-get update failed (with $BPO_SOURCES)"
	fi
	for p in "${bpo[@]}"; do
		case $p in
		linux-*) bpo_install_kernel ;;
		qemu-*) bpo_install_qemu ;;
		esac
	done
fi
