#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# pviod's command line, a user-facing contract: a bad argument exits 2 with
# a message naming what was wrong; an unreadable image names the file and
# the errno and exits 1; --help and --version exit 0.
#
# timeout=60
set -euo pipefail

# shellcheck source=../lib/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/lib.sh"
pviod=$PVT_PVIOD
tap_begin
pvt_need_built "$pviod"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pvio-cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
truncate -s 1M "$tmp/disk.img"

# expect RC PATTERN ARGS...: pviod ARGS exits RC and prints PATTERN (grep -E).
expect()
{
	local rc=$1 pattern=$2 got=0
	shift 2
	timeout 10 "$pviod" "$@" >"$tmp/out" 2>&1 || got=$?
	if [ "$got" = "$rc" ] && grep -qE -- "$pattern" "$tmp/out"; then
		tap_ok "pviod $* -> exit $rc, says '$pattern'"
	else
		tap_fail "pviod $* -> exit $got (expected $rc), output:"
		sed 's/^/#   /' "$tmp/out"
	fi
}

s=$tmp/x.sock
img=$tmp/disk.img
expect 0 'Usage: pviod' --help
expect 0 '[0-9]+\.[0-9]+' --version
expect 2 'device'
expect 2 'unknown|unrecognized|invalid' --no-such-option
expect 2 "device type|unknown device|expected" --device "floppy,socket=$s"
expect 2 "blk: queues=0: expected 1\.\.[0-9]+" --device "blk,socket=$s,file=$img,queues=0"
expect 2 "blk: queues=-1: expected" --device "blk,socket=$s,file=$img,queues=-1"
expect 2 "blk: readonly=maybe: expected on or off" --device "blk,socket=$s,file=$img,readonly=maybe"
expect 2 "blk: 'oops' is not key=value" --device "blk,socket=$s,file=$img,oops"
expect 2 "net: queues=abc: expected" --device "net,socket=$s,backend=loop,queues=abc"
expect 2 "net: mtu=67: expected 68\.\." --device "net,socket=$s,backend=loop,mtu=67"
expect 2 "net: backend=ring: expected" --device "net,socket=$s,backend=ring"
expect 2 "console: ports=0: expected 1\.\." --device "console,socket=$s,out=stdio,ports=0"
expect 2 "console: 'oops' is not key=value" --device "console,socket=$s,out=stdio,oops"
expect 2 "blk: id=a/b: expected" --device "blk,id=a/b,socket=$s,file=$img"
expect 2 "id=d1: a device with that id exists" --device "blk,id=d1,socket=$s,file=$img" \
	--device "net,id=d1,socket=$tmp/y.sock,backend=loop"
expect 2 "id=blk0: a device with that id exists" --device "blk,socket=$s,file=$img" \
	--device "net,id=blk0,socket=$tmp/y.sock,backend=loop"
expect 1 "$tmp/missing\.img.*(No such file|errno 2)" --device "blk,socket=$s,file=$tmp/missing.img"
tap_end
