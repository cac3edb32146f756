#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The whole test suite: what `make check` runs (after scripts/deps.sh).
#
#   1. make, then $(UNIT_TESTS) and $(SCRIPT_TESTS)         natively
#   2. $(INTEGRATION_TESTS)
#   3. $(UNIT_TESTS) again from `make SAN=asan` (ASan+UBSan) and
#      `make SAN=tsan` builds, with PVIO_SANITIZER=asan|tsan in the
#      environment so a test can scale its counts down
#   4. make modules (with -Werror), when a Kbuild with objects exists, and
#      the same for the 6.12 guest kernel (scripts/vm/modules.sh)
#   5. $(VM_TESTS)
#
# The builds of phases 3 and 4 start at nice 19 in the background once
# phase 1's build is done, so they overlap the tests of phases 1 and 2.  A
# build directory is only ever in one make's hands: a phase waits for its
# background build to end before its own make, which then finds the work
# done (or prints the errors again) and decides pass or fail as before.
#
# The lists come from the fragments (`make print-VAR`).  A build that fails
# (make -k) counts as one failed test; the tests that did build still run,
# the others fail as missing, and the other phases run as usual.  Everything goes through scripts/tap-run into one results
# directory, and the run ends with exactly one "N passed, N failed" line.
# Exit status is non-zero when anything failed.
#
# Environment:
#   CHECK_PHASES="unit san modules integration vm"   phases to run (default all)
#   CHECK_SANITIZERS="asan tsan"                      sanitizer builds to run
#   JOBS=N                                            make -j (default: nproc)
#   CI=true                                           skips count as failures
#   plus tap-run's TAP_RUN_* variables (see scripts/tap-run).
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)
TAP_RUN=$root/scripts/tap-run
PHASES=${CHECK_PHASES:-unit san modules integration vm}
SANITIZERS=${CHECK_SANITIZERS:-asan tsan}
JOBS=${JOBS:-$(nproc)}
MAKE=(make --no-print-directory)

results=$(mktemp -d "${TMPDIR:-/tmp}/pvio-check.XXXXXX")
prebuild_pid=
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup()
{
	if [ -n "$prebuild_pid" ]; then
		kill -- "-$prebuild_pid" 2>/dev/null || kill "$prebuild_pid" 2>/dev/null || true
		wait "$prebuild_pid" 2>/dev/null || true
	fi
	rm -rf "$results"
}
trap cleanup EXIT

want_phase() {
	case " $PHASES " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}

banner() {
	echo
	echo "# ==== check: $* ===="
}

# print_var VAR [MAKE ARGS...]: the value of a make variable, one word a line.
print_var() {
	local var=$1
	shift
	"${MAKE[@]}" -s "$@" "print-$var" | tr -s '[:space:]' '\n' | sed '/^$/d'
}

# group_cmds: read words on stdin, print one command a line.  A word that
# starts with '-' or holds no '/' is an argument of the command before it;
# any other word starts a new command (so a list may carry arguments:
# "build/t1 build/t2 --quick" is two tests, the second with --quick).
group_cmds() {
	local w cur=
	while read -r w; do
		if [ -n "$cur" ] && { [[ $w == -* ]] || [[ $w != */* ]]; }; then
			cur="$cur $w"
		else
			[ -z "$cur" ] || echo "$cur"
			cur=$w
		fi
	done
	[ -z "$cur" ] || echo "$cur"
}

# tests_of VAR [MAKE ARGS...] -> array "tests"
tests_of() {
	mapfile -t tests < <(print_var "$@" | group_cmds)
}

# targets_of: the first word of each test that lives in a build dir (the
# make targets to build); scripts in the tree need no build.
targets_of() {
	local t
	targets=()
	for t in "$@"; do
		t=${t%% *}
		case "$t" in
		build*/*) targets+=("$t") ;;
		esac
	done
}

# build PHASE NAME MAKE-ARGS...: run make -k; record a failure if it fails.
# The phase's tests run anyway: those that did build still tell something,
# those that did not fail as "does not exist".
build() {
	local phase=$1 name=$2
	shift 2
	echo "# check: [$phase] make $*"
	if "${MAKE[@]}" -k -j"$JOBS" "$@"; then
		return 0
	fi
	"$TAP_RUN" --results-dir "$results" --phase "$phase" \
		--record "$name" fail "make $* failed (see the compiler output above)"
	return 1
}

run_tests() {
	local phase=$1
	shift
	"$TAP_RUN" --results-dir "$results" --phase "$phase" "$@" || true
}

has_modules()
{
	[ -f Kbuild ] && grep -Eq '^[[:space:]]*obj-(y|m|\$\()' Kbuild
}

# prebuild_start: phases 3 and 4's builds, one after the other, at nice 19
# in the background; each step leaves $results/prebuild/STEP.done.
prebuild_start()
{
	local dir=$results/prebuild san
	mkdir -p "$dir"
	set -m
	(
		set +e
		if want_phase san; then
			for san in $SANITIZERS; do
				tests_of UNIT_TESTS "SAN=$san"
				targets_of "${tests[@]}"
				[ "${#targets[@]}" -eq 0 ] ||
					nice -n 19 "${MAKE[@]}" -k -j"$JOBS" "SAN=$san" "${targets[@]}" \
						>"$dir/$san.log" 2>&1
				: >"$dir/$san.done"
			done
		fi
		if want_phase modules && has_modules; then
			nice -n 19 "${MAKE[@]}" -k -j"$JOBS" modules KCFLAGS=-Werror >"$dir/modules.log" 2>&1
			: >"$dir/modules.done"
			PVIO_GUEST_KERNEL=6.12 nice -n 19 scripts/vm/modules.sh >"$dir/modules-6.12.log" 2>&1
			: >"$dir/modules-6.12.done"
		fi
	) &
	prebuild_pid=$!
	set +m
}

# prebuild_wait STEP: until the background build's STEP is done (or it
# died).  Nothing else runs meanwhile, so the build gets its normal priority
# until then, and nice 19 again for what it builds while the tests run.
prebuild_wait()
{
	[ -n "$prebuild_pid" ] || return 0
	[ ! -e "$results/prebuild/$1.done" ] || return 0
	renice -n 0 -g "$prebuild_pid" >/dev/null 2>&1 || true
	while [ ! -e "$results/prebuild/$1.done" ] && kill -0 "$prebuild_pid" 2>/dev/null; do
		sleep 1
	done
	renice -n 19 -g "$prebuild_pid" >/dev/null 2>&1 || true
}

# Make sure the Makefile has the print-% rule this script relies on.
if ! "${MAKE[@]}" -s print-O >/dev/null 2>&1; then
	echo "check.sh: error: 'make print-O' failed; the top-level Makefile needs" \
		"the rule 'print-%: ; @echo \$(\$*)'" >&2
	exit 2
fi

if want_phase unit; then
	banner "1. build and unit tests"
	tests_of UNIT_TESTS
	targets_of "${tests[@]}"
	build unit "build (make)" all "${targets[@]}" || true
	prebuild_start
	run_tests unit "${tests[@]}"
	tests_of SCRIPT_TESTS
	run_tests scripts "${tests[@]}"
fi

# build_and_run PHASE VAR NAME: build what $(VAR) needs built, then run it.
build_and_run()
{
	tests_of "$2"
	targets_of "${tests[@]}"
	if [ "${#targets[@]}" -gt 0 ]; then
		build "$1" "build ($3)" "${targets[@]}" || true
	fi
	run_tests "$1" "${tests[@]}"
}

if want_phase integration; then
	banner "2. integration tests"
	build_and_run integration INTEGRATION_TESTS integration
fi

if want_phase san; then
	for san in $SANITIZERS; do
		banner "3. unit tests under $san"
		tests_of UNIT_TESTS "SAN=$san"
		targets_of "${tests[@]}"
		if [ "${#targets[@]}" -eq 0 ]; then
			echo "# check: no unit tests to build under $san"
			continue
		fi
		prebuild_wait "$san"
		build "$san" "build (make SAN=$san)" "SAN=$san" "${targets[@]}" || true
		wrap=()
		if [ "$san" = tsan ] && setarch -R true 2>/dev/null; then
			# TSan's shadow layout breaks under large mmap randomization
			# (vm.mmap_rnd_bits > 28 on newer kernels); run without ASLR.
			wrap=(setarch -R)
		fi
		PVIO_SANITIZER=$san \
			ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1:strict_string_checks=1} \
			UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
			TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1} \
			TAP_RUN_TIMEOUT_SCALE=${TAP_RUN_TIMEOUT_SCALE:-2} \
			"${wrap[@]}" "$TAP_RUN" --results-dir "$results" --phase "$san" "${tests[@]}" || true
	done
fi

if want_phase modules; then
	banner "4. kernel modules"
	if has_modules; then
		prebuild_wait modules
		kdir=$("${MAKE[@]}" -s print-KDIR)
		if [ -z "$kdir" ] || [ ! -f "$kdir/Makefile" ]; then
			"$TAP_RUN" --results-dir "$results" --phase modules --record "make modules" fail \
				"no kernel headers found (KDIR='$kdir'); install linux-headers-amd64 (scripts/deps.sh) or set KDIR"
		elif build modules "make modules" modules KCFLAGS=-Werror; then
			"$TAP_RUN" --results-dir "$results" --phase modules --record "make modules" pass \
				"built against $kdir with -Werror"
		fi
		# The matrix's other guest kernel (PVIO_GUEST_KERNEL=6.12, from
		# scripts/deps.sh), built apart in build/kmod/<version>/.
		name="make modules (guest kernel 6.12)"
		prebuild_wait modules-6.12
		if PVIO_GUEST_KERNEL=6.12 scripts/vm/modules.sh; then
			"$TAP_RUN" --results-dir "$results" --phase modules --record "$name" pass \
				"built with -Werror in build/kmod/"
		else
			"$TAP_RUN" --results-dir "$results" --phase modules --record "$name" fail \
				"scripts/vm/modules.sh failed (see above; scripts/deps.sh installs 6.12)"
		fi
	else
		echo "# check: no Kbuild with objects yet; nothing to build"
	fi
fi

if want_phase vm; then
	banner "5. VM tests"
	build_and_run vm VM_TESTS "VM tests"
fi

banner "summary"
"$TAP_RUN" --summary "$results"
