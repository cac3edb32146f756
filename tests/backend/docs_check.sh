#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# pviod's man page and systemd unit, exercised (TAP 13):
#   - man -l renders Documentation/pviod.8 without a warning;
#   - every option of `pviod --help` is in the man page;
#   - systemd-analyze verify accepts Documentation/pviod.service.  verify
#     checks that ExecStart's binary exists, so the unit is verified as a
#     copy whose ExecStart points at the pviod just built, and with MANPATH
#     holding this man page (verify runs `man pviod(8)` for Documentation=).
set -uo pipefail

# shellcheck source=../lib/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/lib.sh"
pviod=$PVT_PVIOD
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pviod-docs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

tap_begin

if command -v man >/dev/null 2>&1; then
	if MANWIDTH=80 man --warnings -l "$PVT_TOP/Documentation/pviod.8" >"$tmp/man.txt" \
		2>"$tmp/man.err" && [ ! -s "$tmp/man.err" ]; then
		tap_ok "man -l Documentation/pviod.8 renders without warnings"
	else
		sed 's/^/# /' "$tmp/man.err"
		tap_fail "man -l Documentation/pviod.8 renders without warnings"
	fi
else
	tap_skip "man -l Documentation/pviod.8" "man-db not installed"
fi

if command -v man >/dev/null 2>&1; then
	if MANWIDTH=80 man --warnings -l "$PVT_TOP/Documentation/pvioctl.8" >"$tmp/pvioctl.txt" \
		2>"$tmp/pvioctl.err" && [ ! -s "$tmp/pvioctl.err" ]; then
		tap_ok "man -l Documentation/pvioctl.8 renders without warnings"
	else
		sed 's/^/# /' "$tmp/pvioctl.err"
		tap_fail "man -l Documentation/pvioctl.8 renders without warnings"
	fi
	pvioctl=$(dirname "$pviod")/pvioctl
	if [ -x "$pvioctl" ]; then
		missing=
		for o in $("$pvioctl" --help | grep -oE -- '--[a-z-]+' | sort -u); do
			grep -qF -- "$o" "$tmp/pvioctl.txt" || missing+=" $o"
		done
		if [ -z "$missing" ]; then
			tap_ok "every option of pvioctl --help is in its man page"
		else
			tap_fail "options missing from pvioctl(8):$missing"
		fi
	else
		tap_skip "pvioctl --help options in its man page" "no $pvioctl"
	fi
else
	tap_skip "man -l Documentation/pvioctl.8" "man-db not installed"
fi

if [ -x "$pviod" ] && [ -s "$tmp/man.txt" ]; then
	missing=
	for o in $("$pviod" --help | grep -oE -- '--[a-z-]+|\b[a-z]+=' | sort -u); do
		grep -qF -- "$o" "$tmp/man.txt" || missing+=" $o"
	done
	if [ -z "$missing" ]; then
		tap_ok "every option of pviod --help is in the man page"
	else
		tap_fail "options missing from the man page:$missing"
	fi
else
	tap_skip "pviod --help options in the man page" "no $pviod or no rendered man page"
fi

if command -v systemd-analyze >/dev/null 2>&1; then
	if [ -x "$pviod" ]; then
		sed "s|^ExecStart=/usr/local/bin/pviod|ExecStart=$pviod|" \
			"$PVT_TOP/Documentation/pviod.service" >"$tmp/pviod.service"
		mkdir -p "$tmp/man/man8"
		cp "$PVT_TOP/Documentation/pviod.8" "$PVT_TOP/Documentation/pvioctl.8" "$tmp/man/man8/"
		if MANPATH=$tmp/man systemd-analyze verify "$tmp/pviod.service" >"$tmp/verify.out" 2>&1 &&
			! grep -v -e '^$' "$tmp/verify.out" | grep -q .; then
			tap_ok "systemd-analyze verify pviod.service"
		else
			sed 's/^/# /' "$tmp/verify.out"
			tap_fail "systemd-analyze verify pviod.service"
		fi
	else
		tap_skip "systemd-analyze verify pviod.service" "$pviod not built"
	fi
else
	tap_skip "systemd-analyze verify pviod.service" "systemd not installed"
fi

tap_end
