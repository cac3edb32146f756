#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make install and make uninstall, into a scratch DESTDIR (TAP 13):
#   - every program, man page and unit lands where PREFIX says, with its mode;
#   - the installed unit starts the installed pviod, and systemd-analyze
#     verify accepts it (as a copy whose paths point into DESTDIR: verify
#     checks that ExecStart's binary exists);
#   - the installed pviod runs;
#   - make uninstall removes exactly what install put there.
set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
n=0
failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pvio-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/root

ok() { n=$((n + 1)); echo "ok $n $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n $*"; }
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

echo "TAP version 13"

if make -C "$top" --no-print-directory -s install DESTDIR="$dest" PREFIX=/usr \
	>"$tmp/install.log" 2>&1; then
	ok "make install DESTDIR=... PREFIX=/usr"
else
	sed 's/^/# /' "$tmp/install.log"
	not_ok "make install DESTDIR=... PREFIX=/usr"
fi

mode_is() { [ -f "$1" ] && [ "$(stat -c %a "$1")" = "$2" ]; }
check "pviod in /usr/bin, mode 755" mode_is "$dest/usr/bin/pviod" 755
check "pvio-bench in /usr/bin, mode 755" mode_is "$dest/usr/bin/pvio-bench" 755
check "pviod(8) in /usr/share/man/man8, mode 644" mode_is "$dest/usr/share/man/man8/pviod.8" 644
unit=$dest/usr/lib/systemd/system/pviod.service
check "pviod.service in /usr/lib/systemd/system, mode 644" mode_is "$unit" 644
check "the unit starts /usr/bin/pviod" grep -q '^ExecStart=/usr/bin/pviod ' "$unit"
runs() { "$@" | sed 's/^/# /'; [ "${PIPESTATUS[0]}" -eq 0 ]; }
check "the installed pviod runs" runs "$dest/usr/bin/pviod" --version
check "the installed pvio-bench runs" runs "$dest/usr/bin/pvio-bench" --help

if command -v systemd-analyze >/dev/null 2>&1; then
	sed "s|=/usr/bin/|=$dest/usr/bin/|" "$unit" >"$tmp/pviod.service"
	if MANPATH=$dest/usr/share/man systemd-analyze verify "$tmp/pviod.service" \
		>"$tmp/verify.out" 2>&1 && [ ! -s "$tmp/verify.out" ]; then
		ok "systemd-analyze verify accepts the installed unit"
	else
		sed 's/^/# /' "$tmp/verify.out"
		not_ok "systemd-analyze verify accepts the installed unit"
	fi
else
	not_ok "systemd-analyze verify: systemd-analyze not found (scripts/deps.sh installs systemd)"
fi

make -C "$top" --no-print-directory -s uninstall DESTDIR="$dest" PREFIX=/usr \
	>"$tmp/uninstall.log" 2>&1
left=$(find "$dest" -type f | sed "s|^$dest||")
if [ -z "$left" ]; then
	ok "make uninstall removes every file install put there"
else
	echo "# left: ${left//$'\n'/ }"
	not_ok "make uninstall removes every file install put there"
fi

echo "1..$n"
[ "$failed" -eq 0 ]
