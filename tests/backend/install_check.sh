#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make install and make uninstall, into a scratch DESTDIR (TAP 13):
#   - every program, man page and unit lands where PREFIX says, with its mode;
#   - the installed unit starts the installed pviod with the installed
#     configuration file (Type=notify, no disk in ExecStart), systemd-analyze
#     verify accepts it (as a copy whose paths point into DESTDIR: verify
#     checks that ExecStart's binary exists) and systemd-analyze security
#     rates its exposure at most 4.0 (no systemd as PID 1 needed: --offline);
#   - the configuration lets libvirt-qemu connect, and pviod starts with it;
#   - the installed pviod runs;
#   - make uninstall removes exactly what install put there.
set -uo pipefail

# shellcheck source=../lib/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/lib.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pvio-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/root

tap_begin

if make -C "$PVT_TOP" --no-print-directory -s install DESTDIR="$dest" PREFIX=/usr \
	>"$tmp/install.log" 2>&1; then
	tap_ok "make install DESTDIR=... PREFIX=/usr"
else
	sed 's/^/# /' "$tmp/install.log"
	tap_fail "make install DESTDIR=... PREFIX=/usr"
fi

# shellcheck disable=SC2317 # called through tap_check
mode_is() { [ -f "$1" ] && [ "$(stat -c %a "$1")" = "$2" ]; }
tap_check "pviod in /usr/bin, mode 755" mode_is "$dest/usr/bin/pviod" 755
tap_check "pvio-bench in /usr/bin, mode 755" mode_is "$dest/usr/bin/pvio-bench" 755
tap_check "pviod(8) in /usr/share/man/man8, mode 644" mode_is "$dest/usr/share/man/man8/pviod.8" 644
tap_check "pvioctl in /usr/bin, mode 755" mode_is "$dest/usr/bin/pvioctl" 755
tap_check "pvioctl(8) in /usr/share/man/man8, mode 644" \
	mode_is "$dest/usr/share/man/man8/pvioctl.8" 644
unit=$dest/usr/lib/systemd/system/pviod.service
tap_check "pviod.service in /usr/lib/systemd/system, mode 644" mode_is "$unit" 644
tap_check "the unit starts /usr/bin/pviod" grep -q '^ExecStart=/usr/bin/pviod ' "$unit"
conf=$dest/etc/pvio/pviod.conf
tap_check "pviod.conf in /etc/pvio, mode 644" mode_is "$conf" 644
tap_check "the unit reads /etc/pvio/pviod.conf, no disk in ExecStart" \
	grep -qx 'ExecStart=/usr/bin/pviod --config /etc/pvio/pviod.conf' "$unit"
tap_check "the unit is Type=notify" grep -qx 'Type=notify' "$unit"
tap_check "the unit reloads with SIGHUP" grep -q '^ExecReload=.*kill -HUP' "$unit"
tap_check "the unit's sockets go in RuntimeDirectory=pviod" grep -qx 'RuntimeDirectory=pviod' "$unit"
tap_check "the configuration lets libvirt-qemu connect" \
	sh -c "grep -qx 'socket-group libvirt-qemu' '$conf' && grep -qx 'socket-mode 0660' '$conf'"
tap_check "the configuration serves the control socket" \
	grep -qx 'rpc /run/pviod/control.sock' "$conf"
# shellcheck disable=SC2317 # called through tap_check
conf_parses()
{
	sed "s|^rpc .*|rpc $tmp/control.sock|; s|^socket-group .*|socket-group root|" "$conf" \
		>"$tmp/pviod.conf"
	timeout 10 "$dest/usr/bin/pviod" --config "$tmp/pviod.conf" >"$tmp/conf.out" 2>&1 &
	local pid=$! i
	for i in $(seq 50); do
		[ -S "$tmp/control.sock" ] && break
		sleep 0.1
	done
	"$dest/usr/bin/pvioctl" -s "$tmp/control.sock" version | sed 's/^/# /'
	kill -TERM "$pid"
	wait "$pid"
}
tap_check "the installed configuration starts pviod (group root here)" conf_parses
# shellcheck disable=SC2317 # called through tap_check
runs() { "$@" | sed 's/^/# /'; [ "${PIPESTATUS[0]}" -eq 0 ]; }
tap_check "the installed pviod runs" runs "$dest/usr/bin/pviod" --version
tap_check "the installed pvio-bench runs" runs "$dest/usr/bin/pvio-bench" --help
tap_check "the installed pvioctl runs" runs "$dest/usr/bin/pvioctl" --help

if command -v systemd-analyze >/dev/null 2>&1; then
	sed "s|=/usr/bin/|=$dest/usr/bin/|" "$unit" >"$tmp/pviod.service"
	if MANPATH=$dest/usr/share/man systemd-analyze verify "$tmp/pviod.service" \
		>"$tmp/verify.out" 2>&1 && [ ! -s "$tmp/verify.out" ]; then
		tap_ok "systemd-analyze verify accepts the installed unit"
	else
		sed 's/^/# /' "$tmp/verify.out"
		tap_fail "systemd-analyze verify accepts the installed unit"
	fi
	systemd-analyze security --offline=true "$tmp/pviod.service" >"$tmp/security.out" 2>&1
	exposure=$(sed -n 's/.*Overall exposure level for pviod.service: \([0-9.]*\).*/\1/p' \
		"$tmp/security.out")
	if [ -n "$exposure" ] && awk -v e="$exposure" 'BEGIN { exit !(e <= 4.0) }'; then
		tap_ok "systemd-analyze security: exposure $exposure, at most 4.0"
	else
		grep -v '^✓' "$tmp/security.out" | sed 's/^/# /'
		tap_fail "systemd-analyze security: exposure '$exposure', above 4.0"
	fi
else
	tap_fail "systemd-analyze verify: systemd-analyze not found (scripts/deps.sh installs systemd)"
fi

make -C "$PVT_TOP" --no-print-directory -s uninstall DESTDIR="$dest" PREFIX=/usr \
	>"$tmp/uninstall.log" 2>&1
left=$(find "$dest" -type f | sed "s|^$dest||")
if [ -z "$left" ]; then
	tap_ok "make uninstall removes every file install put there"
else
	echo "# left: ${left//$'\n'/ }"
	tap_fail "make uninstall removes every file install put there"
fi

tap_end
