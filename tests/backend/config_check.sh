#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# pviod --config FILE and SIGHUP (TAP 13):
#   - the file's devices and options apply at start;
#   - SIGHUP reads it again and applies the difference: a removed line's
#     device goes (its socket too), a new line's device comes, a changed
#     line's device is replaced, and a device whose line did not change is
#     untouched: pvio-bench --verify runs on it across the reload, its
#     front-end never reconnects;
#   - a file that does not parse changes nothing; devices added over the
#     control socket are not the file's and stay;
#   - without --config SIGHUP is logged and ignored (it used to kill pviod,
#     exit 129, its sockets left behind); SIGTERM then exits 0;
#   - a missing file exits 1, a bad line exits 2 naming the file and line.
#
# timeout=120
set -uo pipefail

# shellcheck source=../lib/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/lib.sh"
pvt_init config
ctl=$(pvt_bin pvioctl) || tap_skip_all "pvioctl not built"
bench=$(pvt_bin pvio-bench) || tap_skip_all "pvio-bench not built"
pviod=$(pvt_bin pviod) || tap_skip_all "pviod not built"
T=$PVT_TMP
S=$T/control.sock
conf=$T/pviod.conf
truncate -s 16M "$T/a.img"
truncate -s 4M "$T/b.img"

cat >"$conf" <<EOF
# pviod's devices
workers 2
log-level = info
rpc $S

device blk,id=a,socket=$T/a.sock,file=$T/a.img,direct=off
device net,id=n,socket=$T/n.sock,backend=loop
device console,socket=$T/c.sock,out=file:$T/c1.out
EOF

pvt_pviod_start "$T/pviod.log" --config "$conf" || { tap_fail "pviod did not start"; tap_end; }
pvt_wait_sockets 10 "$PVT_PVIOD_PID" "$S" "$T/a.sock" "$T/n.sock" "$T/c.sock" ||
	{ tap_fail "the file's sockets did not appear"; tap_end; }
tap_ok "pviod --config: the file's devices listen, rpc from the file"
ids() { "$ctl" -s "$S" list | awk 'NR > 1 { print $1 }' | sort | tr '\n' ' '; }
tap_check "devices a, console0, n" test "$(ids)" = "a console0 n "
"$ctl" -s "$S" add "blk,id=mine,socket=$T/m.sock,file=$T/b.img,direct=off" >/dev/null
tap_check "a device added over the control socket" test -S "$T/m.sock"

# Across the reload, verified I/O on a, whose line does not change.
nice "$bench" blk --socket "$T/a.sock" --rw randrw --iodepth 4 --runtime 4 --size 16M \
	--verify >"$T/bench.out" 2>&1 &
bench_pid=$!
for _ in $(seq 50); do
	grep -q "a: front-end connected" "$T/pviod.log" && break
	sleep 0.1
done
sleep 1

cat >"$conf" <<EOF
# n removed, b added, the console's output changed
workers 2
log-level info
rpc $S
device blk,id=a,socket=$T/a.sock,file=$T/a.img,direct=off
device blk,id=b,socket=$T/b.sock,file=$T/b.img,direct=off
device console,socket=$T/c.sock,out=file:$T/c2.out
EOF
kill -HUP "$PVT_PVIOD_PID"
for _ in $(seq 100); do
	grep -q "configuration: .* kept" "$T/pviod.log" && break
	sleep 0.1
done
tap_check "SIGHUP: the reload is logged" grep -q "configuration: 1 device kept, 2 added, 2 removed" \
	"$T/pviod.log"
tap_check "pviod is alive after SIGHUP" kill -0 "$PVT_PVIOD_PID"
tap_check "a removed line's device is gone" test ! -e "$T/n.sock"
tap_check "a new line's device listens" test -S "$T/b.sock"
tap_check "the changed console line's device is new (console1)" test "$(ids)" = "a b console1 mine "
tap_check "the control socket's device stays" test -S "$T/m.sock"
if wait "$bench_pid"; then
	tap_ok "pvio-bench --verify on the unchanged device across the reload: no error"
else
	tap_fail "pvio-bench on the unchanged device failed:"
	sed 's/^/#   /' "$T/bench.out"
fi
tap_check "its front-end connected once, never dropped by the reload" \
	test "$(grep -c 'a: front-end connected' "$T/pviod.log")" = 1
tap_check "the unchanged device was not removed" \
	sh -c "! grep -q 'a: its configuration line is gone' '$T/pviod.log'"

# A file that does not parse changes nothing.
echo "frobnicate yes" >>"$conf"
kill -HUP "$PVT_PVIOD_PID"
for _ in $(seq 100); do
	grep -q "does not parse" "$T/pviod.log" && break
	sleep 0.1
done
tap_check "a bad file: SIGHUP says so, names the line" \
	grep -q "pviod.conf:8: unknown setting 'frobnicate'" "$T/pviod.log"
tap_check "a bad file: nothing changed" test "$(ids)" = "a b console1 mine "

if pvt_pviod_stop; then
	tap_ok "pviod exits 0 on SIGTERM"
else
	tap_fail "pviod's exit status"
fi
tap_check "every socket removed" sh -c "! ls '$T'/*.sock 2>/dev/null"

# Without --config, SIGHUP is ignored, not fatal.
pvt_pviod_start "$T/nocfg.log" --device "blk,socket=$T/z.sock,file=$T/b.img,direct=off" ||
	tap_fail "pviod without --config did not start"
kill -HUP "$PVT_PVIOD_PID"
for _ in $(seq 50); do
	grep -q "SIGHUP" "$T/nocfg.log" && break
	sleep 0.1
done
tap_check "without --config: SIGHUP logged and ignored" grep -q "SIGHUP: no --config" "$T/nocfg.log"
tap_check "without --config: pviod still serves" test -S "$T/z.sock"
if pvt_pviod_stop; then
	tap_ok "then SIGTERM: exit 0"
else
	tap_fail "then SIGTERM: not exit 0"
fi

# Start-up errors.
"$pviod" --config "$T/missing.conf" >"$T/out" 2>&1
tap_check "a missing file: exit 1" test $? = 1
tap_check "a missing file: the message names it" grep -q "missing.conf: No such file" "$T/out"
printf 'workers 2\nworkers lots\n' >"$T/bad.conf"
"$pviod" --config "$T/bad.conf" >"$T/out" 2>&1
tap_check "a bad value: exit 2" test $? = 2
tap_check "a bad value: file and line" grep -q "bad.conf:2: workers lots: expected" "$T/out"
tap_end
