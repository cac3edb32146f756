#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# pvioctl driven for real against one pviod --rpc (TAP 13), while
# pvio-bench runs verified random I/O on another disk of that pviod:
#   - add (blk, net, console), list, stats, del, version; a bad spec fails
#     with the message `pviod --device` prints; a taken id, an unknown id
#     and bad usage fail with their exit status;
#   - list --json and stats --json are JSON with numbers; --prometheus is
#     the text exposition format;
#   - the SIGUSR1 dump shows the same counters as device_stats;
#   - the busy disk's runs and poll misses move while it works (--poll on:
#     every window that ends with nothing, the last one at least, is a miss);
#   - the I/O verified, pviod exits 0 on SIGTERM and removes its sockets.
#
# timeout=120
set -uo pipefail

# shellcheck source=../lib/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/lib.sh"
pvt_init pvioctl
ctl=$(pvt_bin pvioctl) || tap_skip_all "pvioctl not built"
bench=$(pvt_bin pvio-bench) || tap_skip_all "pvio-bench not built"
pviod=$(pvt_bin pviod) || tap_skip_all "pviod not built"
T=$PVT_TMP
S=$T/control.sock
truncate -s 16M "$T/busy.img"
truncate -s 4M "$T/b.img"

pvt_pviod_start "$T/pviod.log" --workers 2 --rpc "$S" --poll on --poll-max-us 20 \
	--device "blk,id=busy,socket=$T/busy.sock,file=$T/busy.img,direct=off" ||
	{ tap_fail "pviod did not start"; tap_end; }
pvt_wait_sockets 10 "$PVT_PVIOD_PID" "$S" || { tap_fail "no control socket"; tap_end; }
ctl() { "$ctl" -s "$S" "$@"; }

nice "$bench" blk --socket "$T/busy.sock" --rw randrw --bs 4k --iodepth 4 --runtime 4 \
	--size 16M --verify >"$T/bench.out" 2>&1 &
bench_pid=$!

# run NAME RC CMD...: CMD exits RC; its stdout in $T/out, stderr in $T/err.
run()
{
	local name=$1 rc=$2 got=0
	shift 2
	"$@" >"$T/out" 2>"$T/err" || got=$?
	if [ "$got" = "$rc" ]; then
		tap_ok "$name"
	else
		tap_fail "$name: exit $got, expected $rc"
		sed 's/^/#   /' "$T/out" "$T/err"
	fi
}

run "pvioctl version" 0 ctl version
tap_check "version says pviod 0.1.0" grep -qx 'pviod 0\.1\.0' "$T/out"
run "add blk" 0 ctl add "blk,socket=$T/b.sock,file=$T/b.img,direct=off"
tap_check "the blk device is blk0 (the first blk without an id)" grep -qx blk0 "$T/out"
tap_check "its socket listens" test -S "$T/b.sock"
run "add net,id=n1" 0 ctl add "net,id=n1,socket=$T/n.sock,backend=loop,queues=2"
tap_check "add prints the id" grep -qx n1 "$T/out"
run "add console,id=c1" 0 ctl add "console,id=c1,socket=$T/c.sock,out=file:$T/c.out"

# The same message as the command line's, for the same spec.
bad="blk,socket=$T/x.sock,file=$T/b.img,queues=0"
run "add with a bad spec fails" 1 ctl add "$bad"
"$pviod" --device "$bad" >/dev/null 2>"$T/cli.err"
cli=$(sed -n 's/^pviod: //p' "$T/cli.err")
rpc=$(sed -n 's/^pvioctl: device_add: //p' "$T/err")
if [ -n "$cli" ] && [ "$cli" = "$rpc" ]; then
	tap_ok "its message is the command line's: $rpc"
else
	tap_fail "message '$rpc', the command line says '$cli'"
fi
run "add with a missing image fails" 1 ctl add "blk,socket=$T/x.sock,file=$T/missing.img"
tap_check "the message names the file and errno" \
	grep -q "missing.img.*No such file or directory" "$T/err"
run "add with a taken id fails" 1 ctl add "net,id=busy,socket=$T/y.sock,backend=loop"
tap_check "the message says the id is taken" grep -q "id=busy: a device with that id exists" "$T/err"

run "list" 0 ctl list
for id in busy blk0 n1 c1; do
	tap_check "list shows $id" grep -q "^$id " "$T/out"
done
run "list --json" 0 ctl list --json
# shellcheck disable=SC2317 # called through tap_check
json_list_ok()
{
	python3 - "$T/out" "$T" <<'EOF'
import json, sys
d = {x["id"]: x for x in json.load(open(sys.argv[1]))["devices"]}
assert set(d) == {"busy", "blk0", "n1", "c1"}, d.keys()
assert d["busy"]["connected"] is True and d["blk0"]["connected"] is False
assert d["busy"]["socket"] == sys.argv[2] + "/busy.sock"
assert d["n1"]["type"] == "net" and d["n1"]["queues"] == 5
assert isinstance(d["busy"]["features"], int) and d["busy"]["features"] != 0
EOF
}
tap_check "list --json: ids, types, sockets, connected, features" json_list_ok

sleep 1
run "stats --json" 0 ctl stats --json
# shellcheck disable=SC2317 # called through tap_check
json_stats_ok()
{
	python3 - "$T/out" <<'EOF'
import json, sys
d = {x["id"]: x for x in json.load(open(sys.argv[1]))["devices"]}
keys = ["requests", "bytes", "errors", "kicks", "calls", "polls", "poll_misses",
        "poll_preempts", "runs", "in_flight"]
for dev in d.values():
    for q in dev["queues"]:
        for k in keys:
            assert type(q[k]) is int, (dev["id"], k, q[k])
        assert all(type(v) is int for v in q["drops"].values())
assert d["busy"]["queues"][0]["requests"] > 0, d["busy"]
assert d["busy"]["queues"][0]["bytes"] > 0
assert set(d["n1"]["queues"][0]["drops"]) == {"no_buffer", "undeliverable", "filtered"}
assert len(d["n1"]["queues"]) == 5
EOF
}
tap_check "stats --json: per-queue counters are numbers, the busy disk's moved" json_stats_ok
cp "$T/out" "$T/busy.json"
run "stats busy --prometheus" 0 ctl stats busy --prometheus
# shellcheck disable=SC2317 # called through tap_check
prometheus_ok()
{
	python3 - "$T/out" <<'EOF'
import re, sys
typed = set()
samples = 0
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    m = re.match(r"# TYPE (\w+) (counter|gauge)$", line)
    if m:
        typed.add(m.group(1))
        continue
    if re.match(r"# HELP \w+ .+$", line):
        continue
    m = re.match(r'(\w+)\{device="busy",type="blk",queue="0"(,reason="\w+")?\} (\d+)$', line)
    assert m, line
    assert m.group(1) in typed, line
    samples += 1
assert "pviod_queue_requests_total" in typed and samples >= 9, samples
assert "pviod_queue_poll_misses_total" in typed and "pviod_queue_runs_total" in typed
assert "pviod_queue_poll_preempts_total" in typed
EOF
}
tap_check "stats --prometheus is the text exposition format" prometheus_ok
run "list --prometheus" 0 ctl list --prometheus
tap_check "list --prometheus: busy is connected" \
	grep -qx 'pviod_device_connected{device="busy",type="blk"} 1' "$T/out"

run "del blk0" 0 ctl del blk0
tap_check "its socket is gone" test ! -e "$T/b.sock"
run "del blk0 again fails" 1 ctl del blk0
tap_check "the message says no such device" grep -q "no device with id 'blk0'" "$T/err"
run "del n1" 0 ctl del n1
run "del c1" 0 ctl del c1
run "PVIOCTL_SOCKET names the socket" 0 env PVIOCTL_SOCKET="$S" "$ctl" list
tap_check "only busy is left" test "$(grep -c . "$T/out")" = 2
run "no command: usage error" 2 "$ctl" -s "$S"
run "unknown command: usage error" 2 "$ctl" -s "$S" frob
run "del without an id: usage error" 2 "$ctl" -s "$S" del
run "a socket nobody serves fails" 1 "$ctl" -s "$T/nobody.sock" list

if wait "$bench_pid"; then
	tap_ok "pvio-bench --verify on the busy disk meanwhile: no error"
else
	tap_fail "pvio-bench on the busy disk failed:"
	sed 's/^/#   /' "$T/bench.out"
fi

# SIGUSR1 logs the counters device_stats gives (the disk is idle now).
run "stats busy --json (idle)" 0 ctl stats busy --json
cp "$T/out" "$T/idle.json"
kill -USR1 "$PVT_PVIOD_PID"
for _ in $(seq 50); do
	grep -q "busy: queue 0: requests" "$T/pviod.log" && break
	sleep 0.1
done
# shellcheck disable=SC2317 # called through tap_check
same_counters()
{
	python3 - "$T/idle.json" "$T/pviod.log" <<'EOF'
import json, re, sys
q = json.load(open(sys.argv[1]))["devices"][0]["queues"][0]
want = ("busy: queue 0: requests %d bytes %d errors %d kicks %d calls %d polls %d poll_misses %d"
        " poll_preempts %d runs %d in_flight %d") % (
    q["requests"], q["bytes"], q["errors"], q["kicks"], q["calls"], q["polls"], q["poll_misses"],
    q["poll_preempts"], q["runs"], q["in_flight"])
log = open(sys.argv[2]).read()
assert want in log, (want, [l for l in log.splitlines() if "busy: queue 0" in l])
EOF
}
tap_check "the SIGUSR1 dump shows device_stats's counters" same_counters
# shellcheck disable=SC2317 # called through tap_check
runs_misses_moved()
{
	python3 - "$T/busy.json" "$T/idle.json" <<'EOF'
import json, sys
a, b = ({x["id"]: x for x in json.load(open(f))["devices"]}["busy"]["queues"][0]
        for f in sys.argv[1:3])
assert b["requests"] > a["requests"], (a, b)
assert b["runs"] > a["runs"] > 0, (a["runs"], b["runs"])
assert b["poll_misses"] > a["poll_misses"], (a["poll_misses"], b["poll_misses"])
EOF
}
tap_check "stats: the busy disk's runs and poll misses moved while it worked" runs_misses_moved

if pvt_pviod_stop; then
	tap_ok "pviod exits 0 on SIGTERM"
else
	tap_fail "pviod's exit status"
	sed 's/^/# pviod: /' "$T/pviod.log"
fi
tap_check "the control socket is removed" test ! -e "$S"
tap_end
