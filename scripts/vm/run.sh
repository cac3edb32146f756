#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot the guest kernel under QEMU with an initramfs from mkinitramfs.sh and a
# chosen device set; pass the guest's TAP through and fail on a dirty kernel
# log, a timeout or a guest that dies before its test finished.
#
# Usage: run.sh -i INITRD [options] [-- extra QEMU args]
#   -i, --initrd FILE        initramfs (scripts/vm/mkinitramfs.sh)
#   --kernel FILE            kernel image (default /boot/vmlinuz-KVER, see lib.sh)
#   --accel auto|tcg|kvm     default auto: KVM only if a probe boot works here
#   --mem MiB                guest RAM, shared memfd (default 512)
#   --smp N                  vCPUs (default 2)
#   --timeout SEC            whole run, boot to power-off (default 120)
#   --append 'WORDS'         more kernel command line; NAME=value words reach
#                            the guest's /test as environment
#   --blk-builtin IMG[,opt=v...]   QEMU's virtio-blk-pci on a raw image.
#                            Options: readonly=on|off, cache=, discard=,
#                            format= go to the drive, others to the device
#                            (num-queues=, serial=, id=...).  The device id
#                            defaults to vblkN, the drive to drive-vblkN:
#                            scripts/vm/qmp.py SOCK block_resize
#                            '{"device": "drive-vblk0", "size": BYTES}',
#                            qmp.py SOCK device_del '{"id": "vblk0"}'.
#   --vhost-user-blk SOCK[,opt=v...]  vhost-user-blk-pci on a back-end's
#                            socket (num-queues=, id=..., default id vublkN);
#                            this and --net-vhost-user reconnect to a
#                            back-end that went away (vm_chardev_reconnect)
#   --net-vhost-user SOCK[,queues=N][,opt=v...]  virtio-net-pci on a
#                            vhost-user netdev (default id vunetN; on QEMU
#                            before 10.0 vectors=0 unless given: 7.2 crashes
#                            on MSI-X there under TCG)
#   --virtio-serial SOCK[,name=NAME][,console][,packed]  a virtio-serial-pci
#                            port (virtserialport, or virtconsole with
#                            ",console") on a unix socket that QEMU listens
#                            on; ",packed" on the first one gives the
#                            controller packed=on
#   --qmp SOCK               QMP monitor on a unix socket (QEMU listens);
#                            send commands with scripts/vm/qmp.py
#   --tap FILE               also copy the guest's TAP here (it is always
#                            printed on stdout)
#   --console FILE           keep the guest kernel log here (default: a temp
#                            file; its tail is shown on failure)
#   --allow REGEX            kernel log lines matching REGEX are not errors
#   --oops-panic             oops=panic panic_on_warn=1: stop at the first
#                            oops or WARNING (faster failure, later tests lost)
#   -v, --verbose            stream the kernel log to stderr while running
#   -h, --help
#
# Exit status: the guest /test's status when the run was clean; otherwise
#   1  the guest kernel log shows WARNING:/BUG:/Oops/general protection/KASAN/
#      Call Trace/panic (the lines are printed on stderr)
#   2  bad usage            3  set-up error (missing tool, kernel, file)
#   124  timeout            125  the guest died before /test finished
#
# KVM: PVIO_VM_ACCEL=kvm|tcg overrides the probe.  The guest's memory is a
# shared memfd, as vhost-user back-ends need.

set -euo pipefail

export VM_PROG=vm-run
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage()
{
	sed -n '/^# Usage:/,/^#   -h, --help/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

bad_usage()
{
	usage >&2
	VM_DIE_RC=2 vm_die "$*"
}

# Errors in the guest's kernel log that fail a run.
BAD_LOG='WARNING:|BUG:|Oops|general protection|KASAN|UBSAN|Call Trace|Kernel panic|kernel BUG|RCU stall|rcu_sched detected stall|blocked for more than'

initrd=
kernel=
accel=${PVIO_VM_ACCEL:-auto}
mem=512
smp=2
timeout_s=120
append=
tap_copy=
console=
allow=
oops_panic=0
verbose=0
qemu_dev=()
qemu_extra=()
n_blk=0
n_vublk=0
n_net=0
n_chr=0
n_ser=0

# split_opts SPEC: sets $spec_path (the first comma field) and $spec_opts
# (an array of the remaining key=value fields).
split_opts()
{
	local IFS=,
	read -r -a spec_opts <<<"$1"
	spec_path=${spec_opts[0]}
	spec_opts=("${spec_opts[@]:1}")
}

add_blk_builtin()
{
	local drive_opts="" dev_opts="" id="vblk$n_blk" o
	split_opts "$1"
	[ -e "$spec_path" ] || bad_usage "--blk-builtin $spec_path: no such image"
	local format=raw cache=writeback discard=unmap
	for o in "${spec_opts[@]}"; do
		case $o in
		readonly=*) drive_opts+=",$o" ;;
		cache=*) cache=${o#cache=} ;;
		discard=*) discard=${o#discard=} ;;
		format=*) format=${o#format=} ;;
		id=*) id=${o#id=} ;;
		*) dev_opts+=",$o" ;;
		esac
	done
	qemu_dev+=(-drive "file=$spec_path,if=none,id=drive-$id,format=$format,cache=$cache,discard=$discard$drive_opts"
		-device "virtio-blk-pci,drive=drive-$id,id=$id$dev_opts")
	n_blk=$((n_blk + 1))
}

add_vhost_user_blk()
{
	local id="vublk$n_vublk" dev_opts="" o chr="chr$n_chr"
	split_opts "$1"
	for o in "${spec_opts[@]}"; do
		case $o in
		id=*) id=${o#id=} ;;
		*) dev_opts+=",$o" ;;
		esac
	done
	qemu_dev+=(-chardev "socket,id=$chr,path=$spec_path,$(vm_chardev_reconnect)"
		-device "vhost-user-blk-pci,chardev=$chr,id=$id$dev_opts")
	n_vublk=$((n_vublk + 1))
	n_chr=$((n_chr + 1))
}

add_net_vhost_user()
{
	local id="vunet$n_net" dev_opts="" net_opts="" queues=1 o chr="chr$n_chr"
	split_opts "$1"
	for o in "${spec_opts[@]}"; do
		case $o in
		id=*) id=${o#id=} ;;
		queues=*) queues=${o#queues=} ;;
		*) dev_opts+=",$o" ;;
		esac
	done
	if [ "$queues" -gt 1 ]; then
		net_opts=",queues=$queues"
		dev_opts=",mq=on$dev_opts"
	fi
	# QEMU 7.2 segfaults (msix_set_vector_notifiers, from vhost_net_start)
	# when a guest driver enables MSI-X on a vhost-user virtio-net-pci
	# without irqfd, i.e. under TCG, whatever the back-end: default to INTx
	# unless the caller chose vectors=N.  QEMU 10.0 runs it with MSI-X
	# (tests/vm/pvio_net_pviod.sh, pviod_net_*.sh with PVIO_QEMU=10); the
	# versions between were not tried.
	if ! vm_qemu_at_least 10.0; then
		case $dev_opts in
		*,vectors=*) ;;
		*) dev_opts+=",vectors=0" ;;
		esac
	fi
	qemu_dev+=(-chardev "socket,id=$chr,path=$spec_path,$(vm_chardev_reconnect)"
		-netdev "type=vhost-user,id=net-$id,chardev=$chr$net_opts"
		-device "virtio-net-pci,netdev=net-$id,id=$id$dev_opts")
	n_net=$((n_net + 1))
	n_chr=$((n_chr + 1))
}

add_virtio_serial()
{
	local name="pvio.port$n_ser" kind=virtserialport o chr="chr$n_chr" ctl=
	split_opts "$1"
	for o in "${spec_opts[@]}"; do
		case $o in
		name=*) name=${o#name=} ;;
		console) kind=virtconsole ;;
		packed) ctl=,packed=on ;;
		*) bad_usage "--virtio-serial: unknown option '$o'" ;;
		esac
	done
	if [ "$n_ser" = 0 ]; then
		qemu_dev+=(-device "virtio-serial-pci,id=vser0$ctl")
	fi
	qemu_dev+=(-chardev "socket,id=$chr,path=$spec_path,server=on,wait=off"
		-device "$kind,bus=vser0.0,chardev=$chr,name=$name,id=vport$n_ser")
	n_ser=$((n_ser + 1))
	n_chr=$((n_chr + 1))
}

while [ $# -gt 0 ]; do
	case $1 in
	-i | --initrd) initrd=${2:?}; shift ;;
	--kernel) kernel=${2:?}; shift ;;
	--accel) accel=${2:?}; shift ;;
	--mem) mem=${2:?}; shift ;;
	--smp) smp=${2:?}; shift ;;
	--timeout) timeout_s=${2:?}; shift ;;
	--append) append+=" ${2:?}"; shift ;;
	--blk-builtin) add_blk_builtin "${2:?}"; shift ;;
	--vhost-user-blk) add_vhost_user_blk "${2:?}"; shift ;;
	--net-vhost-user) add_net_vhost_user "${2:?}"; shift ;;
	--virtio-serial) add_virtio_serial "${2:?}"; shift ;;
	--qmp) qemu_dev+=(-qmp "unix:${2:?},server=on,wait=off"); shift ;;
	--tap) tap_copy=${2:?}; shift ;;
	--console) console=${2:?}; shift ;;
	--allow) allow=${2:?}; shift ;;
	--oops-panic) oops_panic=1 ;;
	-v | --verbose) verbose=1 ;;
	-h | --help) usage; exit 0 ;;
	--) shift; qemu_extra=("$@"); break ;;
	*) bad_usage "unknown argument '$1'" ;;
	esac
	shift
done

[ -n "$initrd" ] || bad_usage "-i INITRD is required (build it with scripts/vm/mkinitramfs.sh)"
[ -r "$initrd" ] || vm_die "initramfs $initrd not readable"
[[ $mem =~ ^[0-9]+$ ]] || bad_usage "--mem $mem: expected MiB"
[[ $smp =~ ^[0-9]+$ ]] || bad_usage "--smp $smp: expected a number"
[[ $timeout_s =~ ^[0-9]+$ ]] || bad_usage "--timeout $timeout_s: expected seconds"
vm_need qemu-system-x86_64 timeout
if [ -z "$kernel" ]; then
	kver=$(vm_kver) || vm_die "no guest kernel found (/boot/vmlinuz-* with /lib/modules/<version>); install linux-image-amd64 or set PVIO_VM_KERNEL"
	kernel=$(vm_kernel "$kver")
fi
[ -r "$kernel" ] || vm_die "kernel $kernel not readable"
case $accel in
auto) accel=$(vm_accel) ;;
tcg | kvm) ;;
*) bad_usage "--accel $accel: expected auto, tcg or kvm" ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/pvio-vm.XXXXXX")
qemu_pid=
tail_pid=
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup()
{
	vm_stop_pid "$tail_pid" 1
	vm_stop_pid "$qemu_pid" 5
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[ -n "$console" ] || console=$work/console.log
tap=$work/tap.log
: >"$console"
: >"$tap"

# A test's console= words go before ttyS0: the last console= is /dev/console,
# /init's stdin and stdout, and that must stay ttyS0.  On a kernel with
# virtio_console built in (Debian's 6.12), hvc0 exists before /init runs;
# were it /dev/console, /init would hold the stock driver's tty open, and
# after /init unbinds the device for pvio_core that dead tty would keep
# line 0 (pvio_con's console would land on hvc1, the kernel log nowhere).
consoles=
rest=
read -r -a words <<<"$append"
for w in ${words[@]+"${words[@]}"}; do
	case $w in
	console=*) consoles+="$w " ;;
	*) rest+=" $w" ;;
	esac
done
cmdline="${consoles}console=ttyS0 panic=-1 mitigations=off random.trust_cpu=on"
cmdline+=" i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd"
if [ "$oops_panic" = 1 ]; then
	cmdline+=" oops=panic panic_on_warn=1"
fi
cmdline+="$rest"

if [ "$accel" = kvm ]; then
	cpu=host
else
	cpu=max
fi

# shellcheck disable=SC2054 # the commas are QEMU's
qemu=(qemu-system-x86_64
	-accel "$accel" -cpu "$cpu" -machine pc
	-m "$mem" -smp "$smp"
	-object "memory-backend-memfd,id=mem,size=${mem}M,share=on"
	-numa "node,memdev=mem"
	-nodefaults -no-user-config -nographic -monitor none -no-reboot
	-kernel "$kernel" -initrd "$initrd" -append "$cmdline"
	-serial "file:$console" -serial "file:$tap"
	"${qemu_dev[@]}" "${qemu_extra[@]}")

vm_log "accel=$accel kernel=$kernel timeout=${timeout_s}s"
if [ "$verbose" = 1 ]; then
	vm_log "${qemu[*]}"
	tail -n +1 -F "$console" >&2 2>/dev/null &
	tail_pid=$!
fi

start=$(date +%s.%N)
# --kill-after: a QEMU that ignores SIGTERM (stuck in a back-end) still goes.
timeout --kill-after=5 "$timeout_s" "${qemu[@]}" </dev/null >"$work/qemu.out" 2>&1 &
qemu_pid=$!
set +e
wait "$qemu_pid"
qemu_rc=$?
set -e
qemu_pid=
end=$(date +%s.%N)

# The TAP port is raw; drop carriage returns all the same.
tr -d '\r' <"$tap" >"$work/tap.clean"
exit_line=$(grep -a -E '^# pvio-vm-exit: [0-9]+$' "$work/tap.clean" | tail -n 1 || true)
grep -a -v -E '^# pvio-vm-exit: [0-9]+$' "$work/tap.clean" || true
[ -z "$tap_copy" ] || cp "$work/tap.clean" "$tap_copy"

t_init=$(sed -n 's/^# pvio-vm: \/init at \([0-9.]*\)s.*/\1/p' "$work/tap.clean" | head -n 1)
t_start=$(sed -n 's/^# pvio-vm: modules loaded, \/test starts at \([0-9.]*\)s/\1/p' "$work/tap.clean" | head -n 1)
vm_log "$(awk -v s="$start" -v e="$end" -v i="${t_init:-?}" -v t="${t_start:-?}" \
	'BEGIN { printf "wall %.1fs; guest uptime at /init %ss, at /test %ss", e - s, i, t }')"

rc=0
if [ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ]; then
	vm_log "TIMEOUT: the guest did not power off within ${timeout_s}s"
	rc=124
elif [ "$qemu_rc" != 0 ]; then
	vm_log "QEMU failed (exit $qemu_rc):"
	sed 's/^/#   /' "$work/qemu.out" >&2
	rc=125
elif [ -z "$exit_line" ]; then
	vm_log "the guest died before /test finished (no exit line on the TAP port)"
	rc=125
else
	rc=${exit_line##* }
	[ -s "$work/qemu.out" ] && sed 's/^/# qemu: /' "$work/qemu.out" >&2
fi

bad=$(grep -a -n -E "$BAD_LOG" "$console" || true)
if [ -n "$bad" ] && [ -n "$allow" ]; then
	bad=$(grep -v -E "$allow" <<<"$bad" || true)
fi
if [ -n "$bad" ]; then
	vm_log "the guest kernel log has errors:"
	head -n 40 <<<"$bad" | sed 's/^/#   /' >&2
	[ "$rc" != 0 ] || rc=1
fi

if [ "$rc" != 0 ]; then
	vm_log "exit $rc; the last lines of the guest kernel log (run.sh --console FILE keeps it all):"
	tail -n 40 "$console" | tr -d '\r' | sed 's/^/#   /' >&2
fi
exit "$rc"
