#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Integration test: one slow or hostile front-end must not stall pviod's
# other devices (the control thread serves every device; message reception
# is non-blocking per connection, Documentation/reliability.rst).
#
# One pviod, two blk devices.  A raw peer on device A sends 6 bytes of a
# 12-byte header and stalls for 8 s.  Meanwhile pvio-bench (the userspace
# front-end) connects to device B, negotiates its whole session through the
# same control thread and runs 2 s of 4k random reads at QD1: the run must
# finish in well under the old 5 s receive timeout, with its latency tail
# low.  Then the stalled peer sends the rest of its GET_FEATURES and must get
# the reply (the message was assembled across polls); a peer that sends half
# a message and closes ends only its own session (device A serves pvio-bench
# right after).
#
# timeout=60
set -euo pipefail

# shellcheck source=../lib/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/lib.sh"
pviod=$PVT_PVIOD
bench=$PVT_TOP/$PVT_O/pvio-bench
tap_begin
pvt_need_built "$pviod" "$bench"
command -v python3 >/dev/null || tap_skip_all "python3 missing"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pvio-slow-peer.XXXXXX")
pid=
peer=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup()
{
	[ -z "$peer" ] || kill "$peer" 2>/dev/null || true
	[ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

truncate -s 16M "$tmp/a.img" "$tmp/b.img"
"$pviod" --device "blk,socket=$tmp/a.sock,file=$tmp/a.img" \
	--device "blk,socket=$tmp/b.sock,file=$tmp/b.img" >"$tmp/pviod.log" 2>&1 &
pid=$!
pvt_wait_sockets 5 "$pid" "$tmp/a.sock" "$tmp/b.sock" || true

# The hostile peer: half a GET_FEATURES header, 8 s of silence, the rest,
# then it expects the 20-byte reply.  Writes "stalled" when it is stalling.
python3 - "$tmp/a.sock" "$tmp/peer.state" <<'PY' &
import socket, struct, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
msg = struct.pack("<III", 1, 1, 0)        # GET_FEATURES, version 1, no payload
s.sendall(msg[:6])
open(sys.argv[2], "w").write("stalled\n")
time.sleep(8)
s.sendall(msg[6:])
s.settimeout(5)
rep = b""
while len(rep) < 20:
    chunk = s.recv(20 - len(rep))
    if not chunk:
        break
    rep += chunk
req, flags, size = struct.unpack("<III", rep[:12]) if len(rep) >= 12 else (0, 0, 0)
ok = len(rep) == 20 and req == 1 and flags & 0x4 and size == 8
open(sys.argv[2], "a").write("replied\n" if ok else "no reply: %r\n" % rep)
PY
peer=$!
for _ in $(seq 1 100); do
	grep -q stalled "$tmp/peer.state" 2>/dev/null && break
	sleep 0.05
done

t0=$(date +%s%N)
rc=0
"$bench" blk --socket "$tmp/b.sock" --rw randread --iodepth 1 --runtime 2 --json \
	>"$tmp/bench.json" 2>"$tmp/bench.err" || rc=$?
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
tap_point "$rc" "device B: pvio-bench set up and ran while device A's peer stalls mid-header (exit $rc)"
tap_point "$([ "$ms" -lt 4000 ] && echo 0 || echo 1)" \
	"device B: session set-up + 2 s run took $ms ms (< 4000; the old receive timeout was 5 s)"
read -r ios p99 max < <(python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
print(j["ios"], j["lat_ns_p99"], j["lat_ns_max"])' "$tmp/bench.json" 2>/dev/null || echo "0 0 0")
echo "# device B: $ios reads, p99 $((p99 / 1000)) us, max $((max / 1000)) us"
tap_point "$([ "$ios" -gt 0 ] && [ "$p99" -lt 50000000 ] && echo 0 || echo 1)" \
	"device B: I/O completed with p99 latency under 50 ms"
grep -q stalled "$tmp/peer.state" && ! grep -q replied "$tmp/peer.state"
tap_point $? "device A: the stalled peer is still waiting (not answered, not cut off yet)"

wait "$peer" || true
peer=
grep -q replied "$tmp/peer.state"
tap_point $? "device A: the rest of the header after 8 s completes the message; GET_FEATURES answered"

# Half a header, then close: only A's session ends, and A serves again.
python3 - "$tmp/a.sock" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(struct.pack("<III", 1, 1, 0)[:5])
s.close()
PY
rc=0
"$bench" blk --socket "$tmp/a.sock" --rw randread --iodepth 4 --runtime 1 >/dev/null 2>&1 || rc=$?
tap_point "$rc" "device A: after a peer closed mid-header, a new front-end is served (exit $rc)"
kill -0 "$pid"
tap_point $? "pviod is still running"

kill -TERM "$pid"
st=0
wait "$pid" || st=$?
pid=
tap_point "$st" "pviod exited 0 on SIGTERM (exit $st)"
if [ "$TAP_FAILED" != 0 ]; then
	sed 's/^/# pviod: /' "$tmp/pviod.log" | tail -20
	sed 's/^/# bench: /' "$tmp/bench.err" | tail -5
fi
tap_end
