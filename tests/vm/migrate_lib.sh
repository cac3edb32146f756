# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# The live-migration VM tests' QEMU pair (pviod_migrate.sh,
# pviod_migrate_net.sh; source it after lib.sh): one guest, two QEMU
# processes on this machine, each on its own socket of one pviod
# (Documentation/migration.rst).
#
#   MIG_QEMU_ARGS       the machine and its devices (array, set by
#                       mig_machine): everything but the pviod socket's
#                       chardev, which is "vu" (the vhost-user device takes
#                       chardev=vu)
#   mig_machine MEM CONSOLE TAP APPEND DEVICE...
#                       sets MIG_QEMU_ARGS: a guest of MEM MiB in shared
#                       memfd RAM booting $VMT_TMP/initrd, serial ports to
#                       the files CONSOLE and TAP, APPEND added to the
#                       kernel's command line, DEVICE... (QEMU options) last
#   mig_qemu_start S [ARGS...]  a QEMU on pviod's socket $VMT_TMP/S.sock,
#                       its QMP monitor $VMT_TMP/S.qmp, output in
#                       $VMT_TMP/qemu-S.out; ARGS (-incoming) appended.
#                       Both ends of a migration describe the same machine:
#                       only the socket and ARGS differ.
#   mig_migrate FROM TO  FROM's guest to a new QEMU on TO over QMP (migrate,
#                       query-migrate until it completes); sets mig_total
#                       and mig_down (ms, as QEMU reports them); 0 once TO
#                       runs the guest and FROM quit.  Not in a subshell: it
#                       keeps mig_pid up to date.
#   mig_loop N WHAT WENT_ON
#                       N migrations back and forth between the QEMUs on
#                       sockets a and b, from a's (running the guest), a
#                       second apart; after each, WENT_ON M (the test's
#                       function: 0 once the guest's work went on after
#                       migration M, else 1 with the reason printed).
#                       Stops at the first failure; one test point: N migrations
#                       completed, WHAT went on after each.  Prints each
#                       one's total time and downtime.  Sets mig_cur (the
#                       socket whose QEMU runs the guest) and mig_done (the
#                       migrations that completed and WENT_ON)
#   mig_guest_end S SECS  the guest on S's QEMU powers off within SECS (else
#                       it is killed): its TAP (serial file $tap) merged as
#                       "guest: " points and kept in $VMT_TMP/tap.guest, then
#                       two points: it powered off with /test's exit 0, and
#                       the kernel log ($console) is clean
#   mig_pid[S]          the QEMU on socket S
#   mig_stop_all        stop every QEMU still running (EXIT traps)

MIG_QEMU_ARGS=()
declare -A mig_pid=()
# shellcheck disable=SC2034 # read by the tests
mig_total=
# shellcheck disable=SC2034 # read by the tests
mig_down=
mig_cur=a
# shellcheck disable=SC2034 # read by the tests
mig_done=0

mig_machine()
{
	local mem=$1 console=$2 tap=$3 append=$4 accel cpu=max cmdline
	shift 4
	accel=$(vm_accel)
	[ "$accel" != kvm ] || cpu=host
	cmdline="console=ttyS0 panic=-1 mitigations=off random.trust_cpu=on"
	cmdline+=" i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd $append"
	# shellcheck disable=SC2054 # the commas are QEMU's
	MIG_QEMU_ARGS=(-accel "$accel" -cpu "$cpu" -machine pc -m "$mem" -smp 1
		-object "memory-backend-memfd,id=mem,size=${mem}M,share=on"
		-numa node,memdev=mem -nodefaults -no-user-config -nographic -monitor none
		-no-reboot -kernel "$(vm_kernel "$(vm_kver)")" -initrd "$VMT_TMP/initrd"
		-append "$cmdline"
		-chardev "file,id=con,path=$console,append=on" -serial chardev:con
		-chardev "file,id=tap,path=$tap,append=on" -serial chardev:tap "$@")
}

mig_qemu_start()
{
	local s=$1
	shift
	rm -f "$VMT_TMP/$s.qmp"
	# QEMU's vhost device start and stop, traced into the output: which
	# QEMU ran the device when, if a migration goes wrong.
	qemu-system-x86_64 "${MIG_QEMU_ARGS[@]}" \
		-trace enable=vhost_dev_start -trace enable=vhost_dev_stop \
		-chardev "socket,id=vu,path=$VMT_TMP/$s.sock,reconnect=1" \
		-qmp "unix:$VMT_TMP/$s.qmp,server=on,wait=off" "$@" \
		</dev/null >>"$VMT_TMP/qemu-$s.out" 2>&1 &
	mig_pid[$s]=$!
}

# A field of query-migrate's answer on stdin ("status", "total-time", "downtime").
mig_field()
{
	python3 -c 'import json, sys; print(json.load(sys.stdin).get(sys.argv[1], ""))' "$1"
}

mig_migrate()
{
	local from=$1 to=$2 q st="" i end
	mig_qemu_start "$to" -incoming "unix:$VMT_TMP/mig.sock"
	pvg_qmp "$VMT_TMP/$to.qmp" query-status >/dev/null || return 1
	pvg_qmp "$VMT_TMP/$from.qmp" migrate-set-parameters \
		'{"max-bandwidth": 17179869184, "downtime-limit": 300}' >/dev/null || return 1
	pvg_qmp "$VMT_TMP/$from.qmp" migrate "{\"uri\": \"unix:$VMT_TMP/mig.sock\"}" \
		>/dev/null || return 1
	end=$((SECONDS + 120))
	while [ "$SECONDS" -lt "$end" ]; do
		q=$(pvg_qmp "$VMT_TMP/$from.qmp" query-migrate) || return 1
		st=$(mig_field status <<<"$q")
		case $st in
		completed | failed | cancelled) break ;;
		esac
		sleep 0.1
	done
	if [ "$st" != completed ]; then
		echo "# migration $from -> $to: $st (query-migrate: $q)"
		return 1
	fi
	# shellcheck disable=SC2034 # read by the tests
	mig_total=$(mig_field total-time <<<"$q")
	# shellcheck disable=SC2034 # read by the tests
	mig_down=$(mig_field downtime <<<"$q")
	# The destination runs once the stream is in (unless it quit: then say why).
	for ((i = 0; i < 100; i++)); do
		if ! kill -0 "${mig_pid[$to]}" 2>/dev/null; then
			echo "# migration $from -> $to: the destination QEMU exited after the stream"
			return 1
		fi
		q=$(pvg_qmp "$VMT_TMP/$to.qmp" query-status) || true
		grep -q '"running"' <<<"$q" && break
		sleep 0.1
	done
	grep -q '"running"' <<<"$q" || echo "# migration $from -> $to: the destination is not running after 10 s ($q)"
	pvg_qmp "$VMT_TMP/$from.qmp" quit >/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "${mig_pid[$from]}" 2>/dev/null || break
		sleep 0.1
	done
	vm_stop_pid "${mig_pid[$from]}" 5
	unset "mig_pid[$from]"
}

mig_loop()
{
	local n=$1 what=$2 went_on=$3 m next totals=() downs=()
	mig_cur=a
	mig_done=0
	for ((m = 1; m <= n; m++)); do
		next=b
		[ "$mig_cur" = a ] || next=a
		sleep 1
		if ! mig_migrate "$mig_cur" "$next"; then
			echo "# migration $m ($mig_cur -> $next) failed"
			sed 's/^/# qemu: /' "$VMT_TMP/qemu-$next.out" | tail -8
			break
		fi
		totals+=("$mig_total")
		downs+=("$mig_down")
		echo "# migration $m: $mig_cur -> $next, total $mig_total ms, downtime $mig_down ms"
		mig_cur=$next
		if ! "$went_on" "$m"; then
			grep -h vhost_dev_ "$VMT_TMP"/qemu-*.out | sed 's/^/# qemu: /' | tail -8
			break
		fi
		mig_done=$m
	done
	tap_check "$mig_done of $n migrations completed, $what went on after each" \
		[ "$mig_done" = "$n" ]
	if [ "${#totals[@]}" -gt 0 ]; then
		echo "# total time (ms): ${totals[*]}; downtime (ms): ${downs[*]}"
	fi
}

mig_stop_all()
{
	local s
	for s in "${!mig_pid[@]}"; do
		vm_stop_pid "${mig_pid[$s]}" 5
	done
}

mig_guest_end()
{
	local s=$1 secs=$2 rc=0 i exit_line guest_rc bad
	for ((i = 0; i < secs * 10; i++)); do
		kill -0 "${mig_pid[$s]}" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "${mig_pid[$s]}" 2>/dev/null; then
		echo "# the guest did not power off within $secs s: $(pvg_qmp "$VMT_TMP/$s.qmp" query-status)"
		vm_stop_pid "${mig_pid[$s]}" 5
		rc=timeout
	else
		wait "${mig_pid[$s]}" || rc=$?
	fi
	unset "mig_pid[$s]"
	tr -d '\r' <"$tap" >"$VMT_TMP/tap.clean"
	exit_line=$(grep -a -E '^# pvio-vm-exit: [0-9]+$' "$VMT_TMP/tap.clean" | tail -n 1 || true)
	grep -a -v -E '^# pvio-vm-exit: [0-9]+$' "$VMT_TMP/tap.clean" >"$VMT_TMP/tap.guest" || true
	tap_merge "$VMT_TMP/tap.guest" "guest: "
	guest_rc=${exit_line##* }
	tap_check "guest powered off, /test exit ${guest_rc:-missing} (QEMU exit $rc)" \
		[ "$rc$guest_rc" = 00 ]
	bad=$(grep -a -n -E 'WARNING:|BUG:|Oops|general protection|KASAN|UBSAN|Call Trace|Kernel panic|kernel BUG|blocked for more than' "$console" || true)
	tap_check "guest kernel log clean across the migrations" [ -z "$bad" ]
	[ -z "$bad" ] || head -n 20 <<<"$bad" | sed 's/^/# console: /'
	[ "$rc$guest_rc" = 00 ]
}
