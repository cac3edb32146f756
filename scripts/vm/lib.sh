# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Helpers shared by the VM harness scripts (mkinitramfs.sh, run.sh,
# backend.sh) and the tests/vm/ scripts.  Source it; it defines functions
# and a few variables only and changes no shell options.
#
#   VM_TOP        the repository's top directory
#   VM_CACHE      build/vm/ (override with PVIO_VM_CACHE): cached cpio parts,
#                 the KVM probe result
#   vm_ko NAME    where `make modules` puts the guest module NAME.ko
#   vm_ko_sources the files the guest modules are built from
#
# Environment knobs read here:
#   PVIO_GUEST_KERNEL  guest kernel series: 6.1 (default: the host's headers,
#                   see vm_kver) or 6.12 (the newest 6.12 under
#                   /boot or $PVIO_OPT/linux-6.12, scripts/deps.sh);
#                   the modules are built for it (vm_ko, vm_kdir)
#   PVIO_QEMU       7.2 (default: the system's QEMU), 10 or 10.0 (QEMU 10.0
#                   in $PVIO_OPT/qemu-10.0, scripts/deps.sh), or a directory
#                   with bin/qemu-system-x86_64 and bin/qemu-storage-daemon;
#                   put first in PATH, so every QEMU tool follows it
#   PVIO_OPT        where scripts/deps.sh unpacks them (default /opt/pvio)
#   PVIO_VM_KVER    guest kernel version (default: see vm_kver)
#   PVIO_VM_KERNEL  guest kernel image (default: /boot/vmlinuz-$KVER)
#   PVIO_VM_ACCEL   auto (default), tcg or kvm

VM_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VM_CACHE=${PVIO_VM_CACHE:-$VM_TOP/build/vm}
VM_OPT=${PVIO_OPT:-/opt/pvio}

# vm_qemu_dir: the prefix of the QEMU PVIO_QEMU selects, empty for the
# system's.
vm_qemu_dir()
{
	case ${PVIO_QEMU:-} in
	"" | 7.2 | system) ;;
	10 | 10.0) echo "$VM_OPT/qemu-10.0" ;;
	/*) echo "$PVIO_QEMU" ;;
	*)
		echo "# vm: PVIO_QEMU=$PVIO_QEMU: expected 7.2, 10, 10.0 or a directory" >&2
		return 1
		;;
	esac
}

# Select the QEMU once, for this shell and what it starts.
if vm_qemu_dir_=$(vm_qemu_dir) && [ -n "$vm_qemu_dir_" ]; then
	if [ ! -x "$vm_qemu_dir_/bin/qemu-system-x86_64" ]; then
		echo "# vm: PVIO_QEMU=$PVIO_QEMU: no $vm_qemu_dir_/bin/qemu-system-x86_64 (run scripts/deps.sh)" >&2
		exit 3
	fi
	case :$PATH: in
	*":$vm_qemu_dir_/bin:"*) ;;
	*) PATH=$vm_qemu_dir_/bin:$PATH ;;
	esac
	export PATH
fi
unset vm_qemu_dir_

# vm_qemu_version: MAJOR.MINOR of the qemu-system-x86_64 in use ("7.2", "10.0").
vm_qemu_version()
{
	qemu-system-x86_64 --version 2>/dev/null |
		sed -n '1s/^QEMU emulator version \([0-9]*\.[0-9]*\).*/\1/p'
}

# vm_qemu_at_least MAJOR.MINOR: the QEMU in use is that version or newer.
vm_qemu_at_least()
{
	local v
	v=$(vm_qemu_version)
	[ -n "$v" ] && [ "$(printf '%s\n%s\n' "$1" "$v" | sort -V | head -n 1)" = "$1" ]
}

# vm_chardev_reconnect: the option of a vhost-user chardev that reconnects
# after the back-end went away: every 250 ms where QEMU takes reconnect-ms
# (9.2 on), else every second (reconnect=1, the shortest before 9.2).
vm_chardev_reconnect()
{
	if vm_qemu_at_least 9.2; then
		echo reconnect-ms=250
	else
		echo reconnect=1
	fi
}

# vm_ko NAME: the path of the guest kernel module NAME.ko (pvio_core,
# pvio_blk, pvio_net or pvio_con) as `make modules` builds it, whether or not
# it is built yet.  The one place that knows where the modules are built:
# scripts and tests ask here instead of spelling the path.
vm_ko()
{
	local top
	top=$(vm_ko_top)
	case $1 in
	pvio_core) echo "$top/frontend/core/$1.ko" ;;
	pvio_blk) echo "$top/frontend/blk/$1.ko" ;;
	pvio_net) echo "$top/frontend/net/$1.ko" ;;
	pvio_con) echo "$top/frontend/console/$1.ko" ;;
	*)
		vm_log "vm_ko: no guest module named '$1' (pvio_core, pvio_blk, pvio_net, pvio_con)"
		return 1
		;;
	esac
}

# vm_ko_top: where the modules for the guest kernel are built: the tree
# itself (`make modules`) for the kernel scripts/kdir.sh picks, otherwise a
# staged copy (scripts/dkms-stage.sh) in build/kmod/<version>/, so that the
# outputs of two kernels never mix.
vm_ko_top()
{
	local kver
	kver=$(vm_kver 2>/dev/null) || kver=
	if [ -z "$kver" ] || [ "$(vm_kdir "$kver")" = "$(readlink -f "$("$VM_TOP/scripts/kdir.sh")")" ]; then
		echo "$VM_TOP"
	else
		echo "$VM_TOP/build/kmod/$kver"
	fi
}

# vm_ko_sources: every file the guest modules are built from, one a line (a
# module older than one of them is stale).
vm_ko_sources()
{
	local f
	for f in "$VM_TOP"/Kbuild "$VM_TOP"/frontend/Kbuild \
		"$VM_TOP"/frontend/{core,blk,net,console}/{Kbuild,*.[ch]} \
		"$VM_TOP"/ring/*.[ch] "$VM_TOP"/protocol/*.h; do
		[ -f "$f" ] && echo "$f"
	done
	return 0
}

# Messages go to stderr prefixed with "# " so they never break a TAP stream.
vm_log()
{
	printf '# %s: %s\n' "${VM_PROG:-vm}" "$*" >&2
}

vm_die()
{
	vm_log "error: $*"
	exit "${VM_DIE_RC:-3}"
}

# vm_need CMD...: fail naming the package when a command is missing.
vm_need()
{
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 ||
			vm_die "'$c' not found; install it (scripts/deps.sh, or apt-get install $(vm_pkg_of "$c"))"
	done
}

vm_pkg_of()
{
	case $1 in
	qemu-system-x86_64) echo qemu-system-x86 ;;
	qemu-storage-daemon | qemu-img) echo qemu-utils ;;
	busybox) echo busybox-static ;;
	cpio) echo cpio ;;
	fio) echo fio ;;
	*) echo "$1" ;;
	esac
}

# vm_kver: the guest kernel version.  PVIO_VM_KVER wins; otherwise the version
# of the kernel headers that scripts/kdir.sh picks (the modules are built
# against them), provided /boot/vmlinuz-<that> and /lib/modules/<that> exist;
# otherwise the newest /boot/vmlinuz-* that has /lib/modules/<ver>.
vm_kver()
{
	local kdir v k
	if [ -n "${PVIO_VM_KVER:-}" ]; then
		echo "$PVIO_VM_KVER"
		return 0
	fi
	if [ -n "${PVIO_GUEST_KERNEL:-}" ]; then
		vm_kver_series "$PVIO_GUEST_KERNEL"
		return
	fi
	kdir=$("$VM_TOP/scripts/kdir.sh" 2>/dev/null || true)
	if [ -n "$kdir" ]; then
		case $kdir in
		/lib/modules/*/build) v=${kdir#/lib/modules/}; v=${v%/build} ;;
		*/linux-headers-*) v=${kdir##*/linux-headers-} ;;
		*) v= ;;
		esac
		if [ -n "$v" ] && [ -f "/boot/vmlinuz-$v" ] && [ -d "/lib/modules/$v" ]; then
			echo "$v"
			return 0
		fi
	fi
	for k in $(find /boot -maxdepth 1 -name 'vmlinuz-*' -printf '%f\n' 2>/dev/null | sort -V -r); do
		v=${k#vmlinuz-}
		if [ -d "/lib/modules/$v" ]; then
			echo "$v"
			return 0
		fi
	done
	return 1
}

# vm_kver_series SERIES: the newest kernel of SERIES (6.1, 6.12) with an image
# and modules, installed (/boot, /lib/modules) or unpacked by scripts/deps.sh
# ($PVIO_OPT/linux-SERIES).
vm_kver_series()
{
	local s=$1 root k v
	for root in "" "$VM_OPT/linux-$s"; do
		for k in "$root"/boot/vmlinuz-"$s".*; do
			v=${k##*/vmlinuz-}
			[ -f "$k" ] && [ -d "$root/lib/modules/$v" ] && echo "$v"
		done
	done | sort -V -r | head -n 1 | grep . || {
		echo "# vm: no $s guest kernel in /boot or $VM_OPT/linux-$s (run scripts/deps.sh)" >&2
		return 1
	}
}

# vm_kroot KVER: the root under which KVER's boot/, lib/modules/ and headers
# are: empty for the system's, $PVIO_OPT/linux-<series> for scripts/deps.sh's.
vm_kroot()
{
	local d
	if [ -d "/lib/modules/$1" ]; then
		return 0
	fi
	for d in "$VM_OPT"/linux-*; do
		if [ -d "$d/lib/modules/$1" ]; then
			echo "$d"
			return 0
		fi
	done
}

# vm_kdir KVER: the headers to build modules for KVER.
vm_kdir()
{
	local root
	root=$(vm_kroot "$1")
	readlink -f "$root/lib/modules/$1/build"
}

# vm_kernel KVER: the kernel image to boot.
vm_kernel()
{
	if [ -n "${PVIO_VM_KERNEL:-}" ]; then
		echo "$PVIO_VM_KERNEL"
	else
		echo "$(vm_kroot "$1")/boot/vmlinuz-$1"
	fi
}

# vm_can_run: 0 when a guest can be booted here (QEMU, a readable kernel and
# its modules, busybox, cpio); otherwise prints why on stdout and returns 1.
# The tests use it to SKIP rather than fail on a machine without the tools.
vm_can_run()
{
	local c kver kernel
	for c in qemu-system-x86_64 busybox cpio gzip; do
		if ! command -v "$c" >/dev/null 2>&1; then
			echo "$c not installed ($(vm_pkg_of "$c"))"
			return 1
		fi
	done
	if ! kver=$(vm_kver); then
		echo "no guest kernel: no /boot/vmlinuz-* with /lib/modules/<version>"
		return 1
	fi
	kernel=$(vm_kernel "$kver")
	if [ ! -r "$kernel" ]; then
		echo "guest kernel $kernel not readable"
		return 1
	fi
	return 0
}

# vm_wait_socket PATH TIMEOUT_S PID: wait until PATH is a socket, failing
# early when PID (the process that should create it) has exited.
vm_wait_socket()
{
	local path=$1 timeout=$2 pid=${3:-} i
	for ((i = 0; i < timeout * 20; i++)); do
		[ -S "$path" ] && return 0
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			vm_log "process $pid exited before creating socket $path"
			return 1
		fi
		sleep 0.05
	done
	vm_log "socket $path did not appear within ${timeout}s"
	return 1
}

# vm_stop_pid PID [GRACE_S]: SIGTERM, wait up to GRACE_S (default 5), then
# SIGKILL.  Only for processes this shell started.
vm_stop_pid()
{
	local pid=$1 grace=${2:-5} i
	[ -n "$pid" ] || return 0
	kill -0 "$pid" 2>/dev/null || {
		wait "$pid" 2>/dev/null || true
		return 0
	}
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < grace * 20; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# vm_accel: "kvm" when /dev/kvm is usable AND a probe boot of the guest
# kernel under KVM reaches /init; "tcg" otherwise.  The probe's result is
# cached in $VM_CACHE/accel-<kver>-<host kernel>; PVIO_VM_ACCEL=tcg|kvm
# skips the probe.
vm_accel()
{
	local want=${PVIO_VM_ACCEL:-auto} kver cache
	case $want in
	tcg | kvm)
		echo "$want"
		return 0
		;;
	auto) ;;
	*) vm_die "PVIO_VM_ACCEL=$want: expected auto, tcg or kvm" ;;
	esac
	if [ ! -w /dev/kvm ]; then
		echo tcg
		return 0
	fi
	kver=$(vm_kver) || {
		echo tcg
		return 0
	}
	cache=$VM_CACHE/accel-$kver-$(uname -r)
	if [ ! -s "$cache" ]; then
		mkdir -p "$VM_CACHE"
		if "$VM_TOP/scripts/vm/probe-kvm.sh" >/dev/null 2>&1; then
			echo kvm >"$cache.tmp.$$"
		else
			echo tcg >"$cache.tmp.$$"
		fi
		mv -f "$cache.tmp.$$" "$cache"
	fi
	cat "$cache"
}
