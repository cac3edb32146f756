# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Shared by the tests/vm/*.sh VM tests (source it): the harness libraries,
# a temp dir cleaned on exit, the guest programs, and the pvio guest modules.
#
#   vmt_init NAME       TAP header, SKIP (exit 4) when no guest can boot here,
#                       $VMT_TMP, EXIT trap (back-ends, temp dir)
#   vmt_prog NAME       path of the static guest program
#                       build/tests/vm/guest/NAME (tests/vm/guest/NAME.c;
#                       built with make when missing)
#   VMT_DIR, VMT_GUEST  tests/vm/ (the host side: tests, libraries, peers) and
#                       tests/vm/guest/ (what runs in the guest)
#   vmt_initramfs ARGS...  scripts/vm/mkinitramfs.sh ARGS, with the in-guest
#                       scripts' TAP helpers (guest/tap.sh as /lib/pvio/tap.sh)
#                       and fio helpers (guest/fio.sh as /lib/pvio/fio.sh)
#   vmt_driver TEST [KIND]  the guest's driver for KIND (blk, the default,
#                       or net), from $DRIVER: stock (the guest's virtio_blk
#                       or virtio_net, the default) or pvio (pvio_blk or
#                       pvio_net);
#                       anything else exits 2 (TEST, the script's name, in
#                       the message).  Sets VMT_DRIVER (stock or pvio),
#                       VMT_DRIVER_MODS (the vmt_initramfs options that load
#                       it) and VMT_VD (its disks' name but the letter:
#                       /dev/vd, /dev/pvd).  Before vmt_init, whose NAME
#                       says the driver
#   vmt_driver_modules  after the test's SKIP checks: pvio's guest modules
#                       built (pvg_modules; SKIP without kernel headers);
#                       nothing for stock
#   vmt_fio             the guest's fio verify job (guest/blk.sh), when fio is
#                       installed here: sets VMT_FIO_OPT (vmt_initramfs's
#                       --fio, or nothing) and VMT_FIO_ENV (PVIO_FIO=1 for
#                       the guest's command line, or nothing)
#   vmt_fio_skipped     after the guest's points are merged: without fio,
#                       the job's point, skipped
#   vmt_wait_logged CONSOLE PATTERN PID SECS
#                       0 once the guest's kernel log CONSOLE has a line
#                       with PATTERN (grep's basic regex); 1 when the
#                       guest's run (PID) ended first, or after SECS
#   vmt_blk_images      the two disks of the blk tests with a read-only one:
#                       VMT_DISK ($VMT_TMP/disk.img, VMT_BLK_SIZE: 64 MiB,
#                       sparse) and VMT_RO ($VMT_TMP/ro.img, 8 MiB of random
#                       bytes); VMT_SEED, the guest's stamp seed (printed);
#                       VMT_BV, blk_verify (vmt_prog)
#   vmt_blk_images_check  after the guest powered off, two points: its
#                       stamp is in VMT_DISK, VMT_RO is unchanged
#   vmt_cw_progress CTRL  the guest crash_writer's progress (writes completed,
#                       which it puts in the control disk CTRL's second
#                       sector every 250 ms), 0 before the first
#   vmt_pviod_stop PID RC LOG
#                       SIGTERM to pviod PID, wait; two test points: it
#                       exited 0, LOG has no "error:" (LOG's tail printed
#                       when pviod or the guest's run, exit RC, failed)
#   vmt_blk_engine_guest TARGET SIZE SEED SOCK_SECS RUN_SECS
#                       the stock virtio_blk on pviod's 2-queue disk on a
#                       storage engine (TARGET: nbd=URI, rbd=...; SIZE
#                       bytes): the shared block checks (guest/blk.sh, the
#                       stamp SEED written last), pviod stopped
#                       (vmt_pviod_stop).  SOCK_SECS for pviod's socket,
#                       RUN_SECS for the guest; $VMT_TMP/pviod.log its log
#
# For the tests of the pvio kernel modules:
#
#   pvg_modules          build the guest modules when one is missing or
#                        older than a source; SKIP (exit 4) without kernel
#                        headers.  PVG_CORE_KO, PVG_BLK_KO, PVG_NET_KO and
#                        PVG_CON_KO are their paths (vm_ko).
#   pvg_when_logged CONSOLE PATTERN CMD...
#                        in the background: run CMD once PATTERN shows up in
#                        the guest's kernel log (the guest asks the host for
#                        an action by writing "pvio-test: ..." to /dev/kmsg)
#   pvg_qmp SOCKET CMD [JSON]   one QMP command (scripts/vm/qmp.py; waits up to
#                        10 s for the monitor)

# shellcheck source-path=SCRIPTDIR source=../../scripts/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/vm/lib.sh"
# shellcheck source=../lib/tap.sh
. "$VM_TOP/tests/lib/tap.sh"
# shellcheck source=../../scripts/vm/backend.sh
. "$VM_TOP/scripts/vm/backend.sh"

VMT_O=${O:-build}
VMT_TMP=
VMT_DIR=$VM_TOP/tests/vm
# shellcheck disable=SC2034 # read by the tests that source this file
VMT_GUEST=$VMT_DIR/guest

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

vmt_initramfs()
{
	"$VM_TOP/scripts/vm/mkinitramfs.sh" -a "$VMT_GUEST/tap.sh:/lib/pvio/tap.sh" \
		-a "$VMT_GUEST/fio.sh:/lib/pvio/fio.sh" "$@"
}

VMT_DRIVER=
VMT_DRIVER_MODS=()
VMT_VD=

vmt_driver()
{
	local kind=${2:-blk}
	VMT_DRIVER=${DRIVER:-stock}
	case $VMT_DRIVER in
	stock)
		VMT_DRIVER_MODS=(-m virtio_pci -m "virtio_$kind")
		VMT_VD=/dev/vd
		;;
	pvio)
		VMT_DRIVER_MODS=(--ko "$PVG_CORE_KO" --ko "$(vm_ko "pvio_$kind")")
		VMT_VD=/dev/pvd
		;;
	*)
		echo "$1: DRIVER is stock or pvio, not '$VMT_DRIVER'" >&2
		exit 2
		;;
	esac
}

vmt_driver_modules()
{
	[ "$VMT_DRIVER" != pvio ] || pvg_modules
}

VMT_FIO_OPT=()
VMT_FIO_ENV=

vmt_fio()
{
	VMT_FIO_OPT=()
	VMT_FIO_ENV=
	if command -v fio >/dev/null 2>&1; then
		VMT_FIO_OPT=(--fio)
		VMT_FIO_ENV=PVIO_FIO=1
	fi
}

vmt_fio_skipped()
{
	[ -n "$VMT_FIO_ENV" ] || tap_skip "guest: fio verify job" "fio not installed"
}

vmt_wait_logged()
{
	local console=$1 pattern=$2 pid=$3 secs=$4 i
	for ((i = 0; i < secs * 10; i++)); do
		grep -q -- "$pattern" "$console" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

VMT_BV=
VMT_DISK=
VMT_RO=
VMT_RO_SUM=
VMT_BLK_SIZE=$((64 << 20))
VMT_SEED=

vmt_blk_images()
{
	VMT_BV=$(vmt_prog blk_verify)
	VMT_DISK=$VMT_TMP/disk.img
	VMT_RO=$VMT_TMP/ro.img
	truncate -s "$VMT_BLK_SIZE" "$VMT_DISK"
	head -c $((8 << 20)) /dev/urandom >"$VMT_RO"
	VMT_RO_SUM=$(sha256sum <"$VMT_RO")
	VMT_SEED=$(vmt_seed)
	echo "# stamp seed $VMT_SEED"
}

vmt_blk_images_check()
{
	tap_check "host: the guest's stamp is in the image after power-off" \
		"$VMT_BV" check "$VMT_DISK" "$VMT_SEED"
	tap_check "host: the read-only image is unchanged" \
		[ "$(sha256sum <"$VMT_RO")" = "$VMT_RO_SUM" ]
}

vmt_cw_progress()
{
	local p
	p=$(dd if="$1" bs=512 skip=1 count=1 status=none | tr -d '\0' | head -n 1)
	p=${p#progress }
	[[ $p =~ ^[0-9]+$ ]] || p=0
	echo "$p"
}

vmt_pviod_stop()
{
	local pid=$1 rc=$2 log=$3 prc=0
	kill -TERM "$pid"
	wait "$pid" || prc=$?
	if [ "$prc" != 0 ] || [ "$rc" != 0 ]; then
		sed 's/^/# pviod: /' "$log" | tail -40
	fi
	tap_check "host: pviod exited 0 on SIGTERM (exit $prc)" [ "$prc" = 0 ]
	tap_check "host: pviod logged no error" bash -c "! grep -q 'error:' '$log'"
}

vmt_blk_engine_guest()
{
	local target=$1 size=$2 seed=$3 sock_secs=$4 run_secs=$5 pid rc=0
	"$(vm_pviod)" --device "blk,socket=$VMT_TMP/blk.sock,$target,queues=2" \
		--workers 2 >"$VMT_TMP/pviod.log" 2>&1 &
	pid=$!
	vm_wait_socket "$VMT_TMP/blk.sock" "$sock_secs" "$pid" || {
		sed 's/^/# pviod: /' "$VMT_TMP/pviod.log"
		vm_die "pviod did not create its socket"
	}
	vmt_fio
	vmt_initramfs -o "$VMT_TMP/initrd" -m virtio_pci -m virtio_blk \
		"${VMT_FIO_OPT[@]}" -a "$(vmt_prog blk_verify)" -t "$VMT_GUEST/blk.sh"
	"$VM_TOP/scripts/vm/run.sh" -i "$VMT_TMP/initrd" --timeout "$run_secs" \
		--tap "$VMT_TMP/tap" --vhost-user-blk "$VMT_TMP/blk.sock,num-queues=2" \
		--append "PVIO_BLK_DEV=/dev/vda PVIO_BLK_SIZE=$size PVIO_BLK_QUEUES=2 $VMT_FIO_ENV" \
		--append "PVIO_STAMP_SEED=$seed" >/dev/null || rc=$?
	tap_merge "$VMT_TMP/tap" "guest: "
	vmt_fio_skipped
	tap_check "guest ran to the end, kernel log clean (run.sh exit $rc)" [ "$rc" = 0 ]
	vmt_pviod_stop "$pid" "$rc" "$VMT_TMP/pviod.log"
}

# vmt_seed: a stamp seed, printed so a failure can be replayed.
vmt_seed()
{
	od -An -N4 -tu4 /dev/urandom | tr -d ' '
}

PVG_CORE_KO=$(vm_ko pvio_core)
PVG_BLK_KO=$(vm_ko pvio_blk)
PVG_NET_KO=$(vm_ko pvio_net)
PVG_CON_KO=$(vm_ko pvio_con)
PVG_WATCHERS=()

pvg_modules()
{
	local kver kdir stale=0 f ko
	kver=$(vm_kver) || kver=
	kdir=${KDIR:-$(vm_kdir "$kver")}
	if [ -z "$kver" ] || [ -z "$kdir" ] || [ ! -f "$kdir/Makefile" ]; then
		echo "1..0 # SKIP no kernel headers to build the modules for ${kver:-the guest kernel} (scripts/deps.sh)"
		exit 4
	fi
	for ko in "$PVG_CORE_KO" "$PVG_BLK_KO" "$PVG_NET_KO" "$PVG_CON_KO"; do
		[ -f "$ko" ] || stale=1
	done
	if [ "$stale" = 0 ]; then
		while read -r f; do
			for ko in "$PVG_CORE_KO" "$PVG_BLK_KO" "$PVG_NET_KO" "$PVG_CON_KO"; do
				if [ "$f" -nt "$ko" ]; then
					stale=1
				fi
			done
			[ "$stale" = 0 ] || break
		done < <(vm_ko_sources)
	fi
	if [ "$stale" = 1 ]; then
		# Tests run in parallel: one build at a time (make itself is
		# cheap when another test just built the modules).
		mkdir -p "$VM_TOP/build"
		flock "$VM_TOP/build/modules.lock" \
			"$VM_TOP/scripts/vm/modules.sh" --kver "$kver" >&2 ||
			vm_die "building the guest modules for $kver failed"
	fi
}

pvg_qmp()
{
	"$VM_TOP/scripts/vm/qmp.py" --wait 10 "$@"
}

pvg_when_logged()
{
	local console=$1 pattern=$2
	shift 2
	(
		for _ in $(seq 1 3000); do
			if grep -a -q -E "$pattern" "$console" 2>/dev/null; then
				echo "# host: guest asked for: $pattern" >&2
				"$@" >&2 || echo "# host: '$*' failed" >&2
				exit 0
			fi
			sleep 0.1
		done
		echo "# host: '$pattern' never appeared in the guest's log" >&2
	) &
	PVG_WATCHERS+=("$!")
}

# pvg_watchers_stop: end the watchers that are still waiting.
pvg_watchers_stop()
{
	local pid
	for pid in "${PVG_WATCHERS[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	PVG_WATCHERS=()
}
