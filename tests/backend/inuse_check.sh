#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Sockets and images in use (TAP 13): one pviod can never take another's
# socket or its image from under it.
#   - a second pviod on a socket in use, a second --device on one path, a
#     socket some other process listens on: refused, the first keeps serving;
#     a stale socket (its pviod SIGKILLed) is replaced;
#   - images: QEMU's locks (qemu-storage-daemon honours them, and pviod
#     theirs): a writer excludes other writers and readers, a reader
#     excludes writers, readers share; locking=off overrides; two devices of
#     one pviod may share an image.
set -uo pipefail

# shellcheck source=../lib/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/lib.sh"
pvt_init inuse_check
pviod=$(pvt_bin pviod) || tap_skip_all "pviod does not build"
command -v qemu-storage-daemon >/dev/null ||
	tap_skip_all "qemu-storage-daemon not installed (scripts/deps.sh)"
T=$PVT_TMP
truncate -s 16M "$T/img"

# refused DESC ARGS...: pviod with ARGS exits at once with status 1 and says why.
refused()
{
	local desc=$1 rc=0
	shift
	timeout 10 "$pviod" "$@" >"$T/out" 2>&1 || rc=$?
	if [ "$rc" = 1 ] && grep -q "$REASON" "$T/out"; then
		tap_ok "$desc"
	else
		sed 's/^/# /' "$T/out"
		tap_fail "$desc (exit $rc)"
	fi
}

# listening SECS PID SOCKET: pviod PID says it listens on SOCKET within SECS.
listening()
{
	local i
	for ((i = 0; i < $1 * 10; i++)); do
		grep -q "listening on $3 " "$T/out" 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# starts DESC ARGS...: pviod with ARGS runs and listens (stopped again).
starts()
{
	local desc=$1 pid rc=0
	shift
	# Its log line, not the socket: a stale socket is there before it (and
	# a log from before, until the new pviod truncates it).
	rm -f "$T/out"
	"$pviod" "$@" >"$T/out" 2>&1 &
	pid=$!
	if listening 10 "$pid" "$T/b.sock"; then
		kill -TERM "$pid"
		wait "$pid" || rc=$?
	else
		rc=99
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	if [ "$rc" = 0 ]; then tap_ok "$desc"; else
		sed 's/^/# /' "$T/out"
		tap_fail "$desc (exit $rc)"
	fi
}

# --- sockets ---------------------------------------------------------------------------
pvt_pviod_start "$T/a.log" --device "blk,socket=$T/a.sock,file=$T/img" ||
	tap_fail "the first pviod starts"
REASON="serves it"
refused "a second pviod on a socket in use is refused" \
	--device "blk,socket=$T/a.sock,file=$T/img,locking=off"
tap_check "the first pviod still listens" test -S "$T/a.sock"
refused "two --device on one socket path are refused" \
	--device "blk,socket=$T/b.sock,file=$T/img,locking=off" \
	--device "blk,socket=$T/b.sock,file=$T/img,locking=off"
python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1); time.sleep(30)
' "$T/c.sock" &
other=$!
pvt_at_exit "kill $other"
pvt_wait_sockets 5 "$other" "$T/c.sock" || tap_fail "another process listens"
refused "a socket another process listens on is refused" \
	--device "blk,socket=$T/c.sock,file=$T/img,locking=off"
pvt_pviod_stop
tap_check "pviod removes its socket and its lock file on exit" \
	test ! -e "$T/a.sock" -a ! -e "$T/a.sock.lock"
"$pviod" --device "blk,socket=$T/b.sock,file=$T/img" >"$T/k.log" 2>&1 &
k=$!
pvt_wait_sockets 10 "$k" "$T/b.sock"
kill -KILL "$k" 2>/dev/null
{ wait "$k"; } 2>/dev/null
starts "a stale socket (its pviod SIGKILLed) is replaced" \
	--device "blk,socket=$T/b.sock,file=$T/img"

# --- images ----------------------------------------------------------------------------
REASON="is in use"
pvt_pviod_start "$T/a.log" --device "blk,socket=$T/a.sock,file=$T/img" ||
	tap_fail "a writer starts"
refused "a second writer of the image is refused" --device "blk,socket=$T/b.sock,file=$T/img"
refused "a reader of an image pviod writes is refused" \
	--device "blk,socket=$T/b.sock,file=$T/img,readonly=on"
starts "locking=off overrides" --device "blk,socket=$T/b.sock,file=$T/img,locking=off"
qsd()
{
	timeout 5 qemu-storage-daemon --blockdev "driver=file,node-name=f,filename=$T/img" \
		--export "type=vhost-user-blk,id=e,node-name=f,addr.type=unix,addr.path=$T/q.sock,writable=$1" \
		>"$T/qsd.out" 2>&1
}
qsd_refused()
{
	local rc=0
	qsd "$1" || rc=$?
	[ "$rc" = 1 ] && grep -q 'lock' "$T/qsd.out"
}
tap_check "qemu-storage-daemon cannot write an image pviod writes" qsd_refused on
pvt_pviod_stop
pvt_pviod_start "$T/a.log" --device "blk,socket=$T/a.sock,file=$T/img,readonly=on" ||
	tap_fail "a reader starts"
starts "two readers share the image" --device "blk,socket=$T/b.sock,file=$T/img,readonly=on"
refused "a writer of an image pviod reads is refused" --device "blk,socket=$T/b.sock,file=$T/img"
tap_check "qemu-storage-daemon cannot write an image pviod reads" qsd_refused on
pvt_pviod_stop
qemu-storage-daemon --blockdev "driver=file,node-name=f,filename=$T/img" \
	--export "type=vhost-user-blk,id=e,node-name=f,addr.type=unix,addr.path=$T/q.sock,writable=on" \
	>"$T/qsd.log" 2>&1 &
q=$!
pvt_at_exit "kill $q"
pvt_wait_sockets 10 "$q" "$T/q.sock" || tap_fail "qemu-storage-daemon starts"
refused "pviod cannot write an image qemu-storage-daemon writes" \
	--device "blk,socket=$T/b.sock,file=$T/img"
kill "$q"
wait "$q" 2>/dev/null
starts "two devices of one pviod share an image (reader, then writer)" \
	--device "blk,socket=$T/a.sock,file=$T/img,readonly=on" \
	--device "blk,socket=$T/b.sock,file=$T/img"

tap_end
