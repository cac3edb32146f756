#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Who may connect to a device's socket (TAP 13): socket-group= and
# socket-mode= on a device, --socket-group / --socket-mode for every
# device, and the same from a --config file.  A process of that group (and
# not root) connects; one of another group gets EACCES, as QEMU run by
# libvirt as libvirt-qemu did on a root-owned socket.  The control socket
# stays 0600.  A group that does not exist, or a bad mode, exits 2.
#
# timeout=60
set -uo pipefail

# shellcheck source=../lib/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/lib.sh"
pvt_init socket-perm
pviod=$(pvt_bin pviod) || tap_skip_all "pviod not built"
[ "$(id -u)" = 0 ] || tap_skip_all "needs root (connects as other users)"
command -v setpriv >/dev/null || tap_skip_all "setpriv (util-linux) not installed"
T=$PVT_TMP
chmod 0711 "$T"
truncate -s 1M "$T/a.img"
group=daemon # any group but root's; nobody (65534) is not in it
gid=$(getent group "$group" | cut -d: -f3)

# connects_as GID SOCKET: a process of uid nobody and group GID connects to SOCKET.
# shellcheck disable=SC2317 # called through tap_check
connects_as()
{
	setpriv --reuid=65534 --regid="$1" --clear-groups /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])' "$2" 2>"$T/connect.err"
}
# shellcheck disable=SC2317 # called through tap_check
refused_as()
{
	! connects_as "$@" && grep -q PermissionError "$T/connect.err"
}
mode_group() { stat -c '%a %G' "$1"; }

pvt_pviod_start "$T/pviod.log" --rpc "$T/control.sock" \
	--device "blk,id=a,socket=$T/a.sock,file=$T/a.img,socket-group=$group,socket-mode=0660" \
	--device "blk,id=b,socket=$T/b.sock,file=$T/a.img,readonly=on,locking=off" ||
	{ tap_fail "pviod did not start"; tap_end; }
pvt_wait_sockets 10 "$PVT_PVIOD_PID" "$T/control.sock"
tap_check "socket-group= socket-mode=: the socket is 660 $group" \
	test "$(mode_group "$T/a.sock")" = "660 $group"
tap_check "a process of group $group (not root) connects" connects_as "$gid" "$T/a.sock"
tap_check "a process of another group is refused" refused_as 65534 "$T/a.sock"
tap_check "without them the socket is not the group's" \
	test "$(mode_group "$T/b.sock" | cut -d' ' -f2)" != "$group"
tap_check "and a process of group $group is refused" refused_as "$gid" "$T/b.sock"
tap_check "the control socket is 600" test "$(stat -c %a "$T/control.sock")" = 600
tap_check "spec keeps socket-group= (device_list)" \
	grep -q "socket-group=$group" <("$(pvt_bin pvioctl)" -s "$T/control.sock" list --json)
pvt_pviod_stop || tap_fail "pviod's exit status"

pvt_pviod_start "$T/pviod2.log" --socket-group "$gid" --socket-mode 0660 \
	--device "blk,socket=$T/c.sock,file=$T/a.img" \
	--device "blk,socket=$T/d.sock,file=$T/a.img,readonly=on,locking=off,socket-mode=0600" ||
	tap_fail "pviod --socket-group did not start"
tap_check "--socket-group GID --socket-mode 0660: every device's" \
	test "$(mode_group "$T/c.sock")" = "660 $group"
tap_check "a device's own socket-mode= wins" test "$(mode_group "$T/d.sock")" = "600 $group"
tap_check "a process of group $group connects" connects_as "$gid" "$T/c.sock"
pvt_pviod_stop || tap_fail "pviod's exit status"

printf 'socket-group %s\nsocket-mode 0660\ndevice blk,socket=%s,file=%s\n' "$group" \
	"$T/e.sock" "$T/a.img" >"$T/pviod.conf"
pvt_pviod_start "$T/pviod3.log" --config "$T/pviod.conf" ||
	tap_fail "pviod --config did not start"
pvt_wait_sockets 10 "$PVT_PVIOD_PID" "$T/e.sock"
tap_check "socket-group and socket-mode in the config file" \
	test "$(mode_group "$T/e.sock")" = "660 $group"
pvt_pviod_stop || tap_fail "pviod's exit status"

# expect RC PATTERN ARGS...
expect()
{
	local rc=$1 pattern=$2 got=0
	shift 2
	timeout 10 "$pviod" "$@" >"$T/out" 2>&1 || got=$?
	if [ "$got" = "$rc" ] && grep -qE -- "$pattern" "$T/out"; then
		tap_ok "pviod $* -> exit $rc, says '$pattern'"
	else
		tap_fail "pviod $* -> exit $got (expected $rc)"
		sed 's/^/#   /' "$T/out"
	fi
}
expect 2 "socket-group=no-such-group-pvio: no such group" \
	--device "blk,socket=$T/x.sock,file=$T/a.img,socket-group=no-such-group-pvio"
expect 2 "socket-mode=0999: expected an octal mode" \
	--device "blk,socket=$T/x.sock,file=$T/a.img,socket-mode=0999"
expect 2 "--socket-group=nope-pvio: no such group" --socket-group nope-pvio \
	--device "blk,socket=$T/x.sock,file=$T/a.img"
tap_end
