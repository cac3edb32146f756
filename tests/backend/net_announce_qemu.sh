#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# QEMU sends SEND_RARP to pviod (TAP 13): a QEMU (the system's 7.2, and
# 10.0 from $PVIO_OPT when installed) with a virtio-net-pci on a pviod net
# device (a port of a switch) runs firmware only, no guest disk; QMP
# announce-self does what the end of a migration does for a guest without
# GUEST_ANNOUNCE.  Each round must reach pviod as SEND_RARP with the NIC's
# MAC and be announced into the switch (pviod logs each).  The frame's
# bytes and the switch's learning are net_announce_test's.
#
# timeout=90
set -uo pipefail

# shellcheck source=../lib/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/lib.sh"
pvt_init announce-qemu
pvt_bin pviod >/dev/null || tap_skip_all "pviod not built"
T=$PVT_TMP
MAC=52:54:00:ab:cd:ef
ROUNDS=3
QEMUS=(/usr/bin/qemu-system-x86_64)
q10=${PVIO_OPT:-/opt/pvio}/qemu-10.0/bin/qemu-system-x86_64
[ -x "$q10" ] && QEMUS+=("$q10")
[ -x "${QEMUS[0]}" ] || tap_skip_all "no qemu-system-x86_64 (scripts/deps.sh)"

pvt_pviod_start "$T/pviod.log" --workers 1 \
	--device "net,id=n,socket=$T/n.sock,backend=switch:ann" \
	--device "net,id=m,socket=$T/m.sock,backend=switch:ann" ||
	tap_skip_all "pviod did not start"

# announce_with QEMU: QMP announce-self, ROUNDS rounds, then quit.
announce_with()
{
	local qemu=$1 qpid rc
	rm -f "$T/qmp.sock"
	"$qemu" -machine q35,accel=tcg -m 256 -nographic -nodefaults \
		-object memory-backend-memfd,id=mem,size=256M,share=on -numa node,memdev=mem \
		-chardev "socket,id=c0,path=$T/n.sock" -netdev vhost-user,id=n0,chardev=c0 \
		-device "virtio-net-pci,netdev=n0,mac=$MAC" \
		-qmp "unix:$T/qmp.sock,server=on,wait=off" >"$T/qemu.log" 2>&1 &
	qpid=$!
	pvt_at_exit "kill $qpid"
	pvt_wait_sockets 20 "$qpid" "$T/qmp.sock" || return 1
	/usr/bin/python3 - "$T/qmp.sock" "$ROUNDS" <<'PY'
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rw")
def cmd(name, args=None):
    m = {"execute": name}
    if args:
        m["arguments"] = args
    f.write(json.dumps(m) + "\n")
    f.flush()
    while True:
        r = json.loads(f.readline())
        if "return" in r or "error" in r:
            return r
f.readline()
cmd("qmp_capabilities")
r = cmd("announce-self", {"initial": 50, "max": 100, "rounds": int(sys.argv[2]), "step": 50})
print("# announce-self:", r)
time.sleep(1.5)  # the rounds: 50 + 100 + 100 ms, and TCG
cmd("quit")
PY
	rc=$?
	wait "$qpid"
	return "$rc"
}

for q in "${QEMUS[@]}"; do
	ver=$("$q" --version | head -1 | awk '{print $4}')
	before=$(grep -c "n: announced $MAC through switch" "$T/pviod.log")
	announce_with "$q"
	tap_point $? "QEMU $ver: announce-self ran"
	after=$(grep -c "n: announced $MAC through switch" "$T/pviod.log")
	echo "# QEMU $ver: $((after - before)) SEND_RARP announced"
	tap_check "QEMU $ver: every round announced ($ROUNDS)" test $((after - before)) = "$ROUNDS"
done
tap_check "no SEND_RARP refused" bash -c "! grep -q 'SEND_RARP' '$T/pviod.log'"
pvt_pviod_stop
tap_point $? "pviod exits 0"
sed 's/^/# pviod: /' "$T/pviod.log" | grep -v "announced" | tail -5
tap_end
