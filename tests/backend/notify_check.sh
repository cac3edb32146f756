#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# pviod under systemd, without systemd (TAP 13):
#   - Type=notify: READY=1 on $NOTIFY_SOCKET once every socket listens
#     (the device's and the control socket), RELOADING=1 then READY=1
#     around a SIGHUP reload, STOPPING=1 on SIGTERM; a STATUS= counts the
#     devices;
#   - with stderr the journal ($JOURNAL_STREAM names it) every line starts
#     with its syslog priority (<3> error, <4> warning, <6> info), so
#     `journalctl -p err` shows the errors; on a terminal or a file, none.
#
# timeout=60
set -uo pipefail

# shellcheck source=../lib/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/lib.sh"
pvt_init notify
pviod=$(pvt_bin pviod) || tap_skip_all "pviod not built"
T=$PVT_TMP
truncate -s 1M "$T/a.img"
printf 'rpc %s\ndevice blk,socket=%s,file=%s\n' "$T/control.sock" "$T/a.sock" "$T/a.img" \
	>"$T/pviod.conf"

/usr/bin/python3 - "$pviod" "$T" >"$T/notify.out" 2>&1 <<'EOF'
import os, signal, socket, subprocess, sys
pviod, T = sys.argv[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(T + "/notify")
s.settimeout(10)
env = dict(os.environ, NOTIFY_SOCKET=T + "/notify")
log = open(T + "/pviod.log", "w")
p = subprocess.Popen([pviod, "--config", T + "/pviod.conf"], env=env, stderr=log)
msg = s.recv(4096).decode()
print("first:", msg.replace("\n", " "))
print("listening at READY:", os.path.exists(T + "/a.sock") and os.path.exists(T + "/control.sock"))
p.send_signal(signal.SIGHUP)
print("hup1:", s.recv(4096).decode().replace("\n", " "))
print("hup2:", s.recv(4096).decode().replace("\n", " "))
p.terminate()
print("term:", s.recv(4096).decode().replace("\n", " "))
print("exit:", p.wait())
EOF
sed 's/^/# /' "$T/notify.out"
tap_check "READY=1 first, with a STATUS" grep -qx "first: READY=1 STATUS=serving 1 device" "$T/notify.out"
tap_check "every socket listens when READY=1 comes" grep -qx "listening at READY: True" "$T/notify.out"
tap_check "SIGHUP: RELOADING=1" grep -qx "hup1: RELOADING=1" "$T/notify.out"
tap_check "then READY=1 again" grep -q "^hup2: READY=1" "$T/notify.out"
tap_check "SIGTERM: STOPPING=1" grep -qx "term: STOPPING=1" "$T/notify.out"
tap_check "exit 0" grep -qx "exit: 0" "$T/notify.out"

# stderr is the journal: JOURNAL_STREAM=DEV:INODE of stderr.
: >"$T/journal.log"
journal=$(stat -c '%d:%i' "$T/journal.log")
(
	export JOURNAL_STREAM=$journal
	"$pviod" --device "blk,socket=$T/b.sock,file=$T/missing.img"
	"$pviod" --device "blk,socket=$T/b.sock,file=$T/a.img,queues=0"
	timeout -s TERM 1 "$pviod" --device "blk,socket=$T/b.sock,file=$T/a.img"
) 2>>"$T/journal.log"
sed 's/^/# /' "$T/journal.log"
tap_check "to the journal: an error line starts with <3>" \
	grep -q "^<3>pviod: error: blk0: cannot open image" "$T/journal.log"
tap_check "to the journal: a bad argument too" \
	grep -q "^<3>pviod: --device blk: queues=0: expected" "$T/journal.log"
tap_check "to the journal: every line has a priority" \
	sh -c "! grep -v '^<[0-7]>' '$T/journal.log'"
tap_check "to the journal: an info line starts with <6>" \
	grep -q "^<6>pviod: info: blk0: listening on" "$T/journal.log"
tap_check "to a file: no priority prefix" sh -c "! grep -q '^<[0-7]>' '$T/pviod.log'"
tap_end
