#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Style and static checks: what `make lint` runs.  Exits non-zero on any
# finding.
#
#   scripts/lint.sh                 every check over the whole tree
#   scripts/lint.sh FILE...         the per-file checks on those files only
#   scripts/lint.sh --fix [FILE...] rewrite C files with clang-format first
#   LINT_CHECKS="checkpatch clang-format cppcheck shellcheck build sparse layers"
#                                   run only some checks (default: all)
#
# The checks (STYLE.md, "Tooling"):
#   checkpatch    the kernel's checkpatch.pl --no-tree --strict --terse -f on
#                 every .c/.h in ring/ protocol/ frontend/ backend/ tests/
#   clang-format  --dry-run --Werror with the kernel's .clang-format, the
#                 only change being ColumnLimit 100 (house rule 4: 100
#                 columns at most, the limit checkpatch enforces too)
#   cppcheck      userspace-buildable C (all but the guest modules), with the
#                 suppressions in scripts/lint/cppcheck-suppressions.txt
#   ShellCheck    scripts/*.sh, scripts/tap-run, scripts/vm/*, .ci/run and
#                 every shell script under tests/ and frontend/bench/
#   build         `make` (-Wall -Wextra -Werror -Wshadow are in ALL_CFLAGS)
#   sparse        `make modules C=2` (all module sources through sparse),
#                 when a Kbuild with objects exists; any sparse warning fails
#   layers        scripts/lint/layers.sh: no #include crosses the layering
#                 rule of Documentation/architecture.rst
#
# checkpatch types we ignore, and why:
#   everywhere:
#     CAMELCASE          in --no-tree mode it only flags the C standard's own
#                        names (_Static_assert, PRIu64, ...); we have none
#     FILE_PATH_CHANGES, GIT_COMMIT_ID, COMMIT_MESSAGE, COMMIT_LOG_LONG_LINE
#                        patch-only checks, meaningless with -f
#   shared code compiled in the kernel AND in userspace (ring/ protocol/):
#     PREFER_DEFINED_ATTRIBUTE_MACRO  __packed/__aligned/__printf do not
#                        exist in userspace; the attribute is spelled out
#     BIT_MACRO          BIT()/BIT_ULL() do not exist in userspace; wire
#                        constants are written as shifts, like the virtio spec
#     PREFER_KERNEL_TYPES only in ring/pvring_compat.h: it is the one place
#                        that maps u16/u32/... onto <stdint.h> for userspace
#   userspace-only code (backend/ frontend/virtio-user/ frontend/bench/
#   tests/):
#     PREFER_KERNEL_TYPES, PREFER_DEFINED_ATTRIBUTE_MACRO, BIT_MACRO,
#     ARRAY_SIZE         the kernel's types and macros are not there; plain
#                        <stdint.h> types are the userspace idiom
#   Kernel module code (frontend/ outside frontend/virtio-user/ and
#   frontend/bench/) gets the full set, except
#     LINUX_VERSION_CODE, CONSTANT_COMPARISON  only in
#                        frontend/core/pvio_compat.h: the one place that
#                        tests kernel versions (6.1 and 6.12 guests)
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)
CHECKS=${LINT_CHECKS:-checkpatch clang-format cppcheck shellcheck build sparse layers}
C_DIRS=(ring protocol frontend backend tests)
# A directory of this run's own: two lint runs at once must not mix their
# findings (both used to write build/lint/*.out).
mkdir -p "$root/build"
lintdir=$(mktemp -d "$root/build/lint.XXXXXX")
trap 'rm -rf "$lintdir"' EXIT

fix=0
if [ "${1:-}" = --fix ]; then
	fix=1
	shift
fi
given=("$@")

want() {
	case " $CHECKS " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}

failures=()
fail() {
	failures+=("$1")
	echo "lint: FAIL $1" >&2
}

need() {
	command -v "$1" >/dev/null 2>&1 || {
		echo "lint: error: '$1' not found; install the project's packages with scripts/deps.sh" >&2
		exit 2
	}
}

# Our C files: sources under the C dirs, minus what kbuild generates.
c_files() {
	local f
	if [ "${#given[@]}" -gt 0 ]; then
		for f in "${given[@]}"; do
			case "$f" in
			*.c | *.h) [ -f "$f" ] && echo "${f#./}" ;;
			esac
		done
		return 0
	fi
	find "${C_DIRS[@]}" -type f \( -name '*.c' -o -name '*.h' \) \
		! -name '*.mod.c' ! -path '*/.*' 2>/dev/null | sort
}

is_kernel_file() {
	case "$1" in
	frontend/virtio-user/* | frontend/bench/*) return 1 ;;
	frontend/*) return 0 ;;
	esac
	return 1
}

shell_files() {
	local f
	if [ "${#given[@]}" -gt 0 ]; then
		for f in "${given[@]}"; do
			[ -f "$f" ] && head -n 1 "$f" | grep -Eq '^#!.*\b(ba|da)?sh\b' && echo "${f#./}"
		done
		return 0
	fi
	{
		ls scripts/*.sh scripts/tap-run .ci/run 2>/dev/null || true
		find scripts tests frontend/bench -type f ! -name '*.[ch]' ! -name '*.mk' 2>/dev/null |
			while read -r f; do
				head -n 1 "$f" | grep -Eq '^#!.*\b(ba|da)?sh\b' && echo "$f"
			done
	} | sort -u
}

mapfile -t CFILES < <(c_files)
mapfile -t SHFILES < <(shell_files)

if want checkpatch || want clang-format; then
	lt=$(scripts/linux-tools.sh)
fi

# clang-format: the kernel's file with ColumnLimit 100.
clang_style() {
	local style=$lintdir/.clang-format
	sed -e 's/^ColumnLimit:.*/ColumnLimit: 100/' "$lt/.clang-format" >"$style.tmp"
	mv "$style.tmp" "$style"
	echo "$style"
}

if [ "$fix" -eq 1 ]; then
	need clang-format
	style=$(clang_style)
	echo "lint: clang-format -i on ${#CFILES[@]} files"
	[ "${#CFILES[@]}" -eq 0 ] || clang-format --style="file:$style" -i "${CFILES[@]}"
fi

if want checkpatch && [ "${#CFILES[@]}" -gt 0 ]; then
	need perl
	echo "lint: checkpatch on ${#CFILES[@]} files"
	common=CAMELCASE,FILE_PATH_CHANGES,GIT_COMMIT_ID,COMMIT_MESSAGE,COMMIT_LOG_LONG_LINE
	shared=$common,PREFER_DEFINED_ATTRIBUTE_MACRO,BIT_MACRO
	user=$common,PREFER_KERNEL_TYPES,PREFER_DEFINED_ATTRIBUTE_MACRO,BIT_MACRO,ARRAY_SIZE
	declare -A group=()
	for f in "${CFILES[@]}"; do
		case "$f" in
		ring/pvring_compat.h) g=$shared,PREFER_KERNEL_TYPES ;;
		frontend/core/pvio_compat.h) g=$common,LINUX_VERSION_CODE,CONSTANT_COMPARISON ;;
		ring/* | protocol/*) g=$shared ;;
		backend/* | frontend/virtio-user/* | frontend/bench/* | tests/*) g=$user ;;
		*) g=$common ;;
		esac
		group[$g]+="$f"$'\n'
	done
	out=$lintdir/checkpatch.out
	err=$lintdir/checkpatch.err
	: >"$out"
	: >"$err"
	# Run from $lintdir with absolute paths: in a git work tree checkpatch
	# drops a .checkpatch-camelcase.git.* cache file into its cwd.
	for g in "${!group[@]}"; do
		mapfile -t files < <(printf '%s' "${group[$g]}")
		files=("${files[@]/#/$root/}")
		(cd "$lintdir" && perl "$lt/scripts/checkpatch.pl" --no-tree --strict --terse \
			--show-types --no-summary --max-line-length=100 --ignore "$g" \
			-f "${files[@]}") >>"$out" 2>>"$err" || true
	done
	# Findings go to stdout.  On stderr, drop only the noise of checkpatch
	# seeding its CamelCase list (run even when CAMELCASE is ignored, on the
	# first _Static_assert): with --no-tree there is no kernel tree, so it
	# warns about an undefined $root and its "find $root/include" fails.
	# Anything else on stderr is a real problem and counts as a finding.
	grep -Ev -e '^Use of uninitialized value [$]root .*checkpatch\.pl line [0-9]+\.$' \
		-e '^find: .*/include.: No such file or directory$' "$err" >>"$out" || true
	sed -i "s|^$root/||" "$out"
	if [ -s "$out" ]; then
		awk 1 "$out" | sort -t: -k1,1 -k2,2n
		fail "checkpatch: $(wc -l <"$out") findings"
	fi
fi

if want clang-format && [ "${#CFILES[@]}" -gt 0 ]; then
	need clang-format
	style=$(clang_style)
	echo "lint: clang-format (kernel style, 100 columns) on ${#CFILES[@]} files"
	out=$lintdir/clang-format.out
	clang-format --style="file:$style" --dry-run --Werror "${CFILES[@]}" >"$out" 2>&1 || true
	if [ -s "$out" ]; then
		# One line per file: how many places differ and the first one
		# (the full diff: clang-format --style=file:$style FILE | diff FILE -).
		grep -E '^[^ :]+:[0-9]+:[0-9]+: error' "$out" |
			awk -F: '{ n[$1]++; if (!($1 in first)) first[$1] = $2 }
				END { for (f in n) printf "%s:%s: clang-format: %d place(s) differ\n", f, first[f], n[f] }' |
			sort
		nfiles=$(grep -oE '^[^ :]+:[0-9]+:[0-9]+: error' "$out" | cut -d: -f1 | sort -u | wc -l)
		fail "clang-format: $nfiles file(s) need formatting (scripts/lint.sh --fix FILE... rewrites them)"
	fi
fi

if want cppcheck; then
	need cppcheck
	ufiles=()
	for f in "${CFILES[@]}"; do
		case "$f" in
		*.c) is_kernel_file "$f" || ufiles+=("$f") ;;
		esac
	done
	if [ "${#ufiles[@]}" -gt 0 ]; then
		echo "lint: cppcheck on ${#ufiles[@]} userspace C files"
		mkdir -p "$lintdir/cppcheck"
		out=$lintdir/cppcheck.out
		# Headers are checked through the .c files that include them.
		if ! cppcheck --quiet --error-exitcode=1 --std=c11 --language=c \
			--enable=warning,style,performance,portability \
			--inline-suppr --suppressions-list=scripts/lint/cppcheck-suppressions.txt \
			--template='{file}:{line}:{column}: {severity}: {message} [{id}]' \
			-D__linux__ -D__x86_64__ -D_GNU_SOURCE -U__KERNEL__ \
			-I ring -I protocol -I . -I build/linux-tools/tools/testing/selftests \
			-j "$(nproc)" --cppcheck-build-dir="$lintdir/cppcheck" \
			"${ufiles[@]}" >"$out" 2>&1; then
			cat "$out"
			fail "cppcheck: $(grep -c ': \(error\|warning\|style\|performance\|portability\):' "$out" || true) findings"
		fi
	fi
fi

if want shellcheck && [ "${#SHFILES[@]}" -gt 0 ]; then
	need shellcheck
	echo "lint: shellcheck on ${#SHFILES[@]} scripts"
	# -P SCRIPTDIR: "source" paths and "# shellcheck source=" directives are
	# relative to the script, not to the repository root.
	if ! shellcheck -x -P SCRIPTDIR -f gcc "${SHFILES[@]}"; then
		fail "shellcheck"
	fi
fi

# The whole-tree checks only run without a file list.
if [ "${#given[@]}" -eq 0 ] && want build; then
	echo "lint: make (-Wall -Wextra -Werror)"
	if ! make --no-print-directory -s -j"$(nproc)" all; then
		fail "build: make failed with warnings as errors"
	fi
fi

if [ "${#given[@]}" -eq 0 ] && want sparse; then
	if [ -f Kbuild ] && grep -Eq '^[[:space:]]*obj-(y|m|\$\()' Kbuild; then
		need sparse
		echo "lint: sparse (make modules C=2)"
		out=$lintdir/sparse.out
		rc=0
		make --no-print-directory modules C=2 KCFLAGS=-Werror >"$out" 2>&1 || rc=$?
		# Sparse reports as warnings without failing the build: any
		# "file:line:col: warning|error" line is a finding.
		if [ "$rc" -ne 0 ] || grep -Eq '^[^ ]+:[0-9]+:[0-9]+: (warning|error):' "$out"; then
			cat "$out"
			fail "sparse / make modules (exit $rc)"
		fi
	else
		echo "lint: sparse skipped: no Kbuild with objects yet"
	fi
fi

# The layering rule of Documentation/architecture.rst: what may include what.
if [ "${#given[@]}" -eq 0 ] && want layers; then
	echo "lint: layers (scripts/lint/layers.sh)"
	if ! scripts/lint/layers.sh; then
		fail "layers: an include crosses the layering rule"
	fi
fi

if [ "${#failures[@]}" -gt 0 ]; then
	echo "lint: ${#failures[@]} check(s) failed:" >&2
	printf '  %s\n' "${failures[@]}" >&2
	exit 1
fi
echo "lint: clean"
