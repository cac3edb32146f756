#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Send one QMP command to a running guest (run.sh --qmp SOCKET).

    scripts/vm/qmp.py [--timeout S] [--wait S] SOCKET COMMAND [JSON-ARGUMENTS]

    qmp.py $sock block_resize '{"node-name": "drive-vblk0", "size": 134217728}'
    qmp.py $sock device_del '{"id": "vblk0"}'
    qmp.py $sock query-block

Prints the command's "return" value as JSON and exits 0; prints QEMU's error
(class and description) on stderr and exits 1; exits 2 on bad usage and 3
when QEMU cannot be reached.  --wait S waits up to S seconds for the socket
to appear (QEMU creates it while starting).  Python's standard library only.
"""

import argparse
import json
import os
import socket
import sys
import time


def fail(code, msg):
    print(f"qmp.py: error: {msg}", file=sys.stderr)
    sys.exit(code)


def read_msg(f):
    """The next message that is not an asynchronous event."""
    while True:
        line = f.readline()
        if not line:
            fail(3, "QEMU closed the QMP connection")
        msg = json.loads(line)
        if "event" not in msg:
            return msg


def main():
    ap = argparse.ArgumentParser(description="Send one QMP command.")
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--wait", type=float, default=0.0)
    ap.add_argument("socket")
    ap.add_argument("command")
    ap.add_argument("arguments", nargs="?", default=None)
    a = ap.parse_args()
    args = None
    if a.arguments is not None:
        try:
            args = json.loads(a.arguments)
        except json.JSONDecodeError as e:
            fail(2, f"arguments are not JSON: {e}")
    deadline = time.monotonic() + a.wait
    while not os.path.exists(a.socket) and time.monotonic() < deadline:
        time.sleep(0.05)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(a.timeout)
    try:
        s.connect(a.socket)
    except OSError as e:
        fail(3, f"cannot connect to {a.socket}: {e}")
    f = s.makefile("rw", encoding="utf-8")
    try:
        read_msg(f)  # the greeting
        f.write(json.dumps({"execute": "qmp_capabilities"}) + "\n")
        f.flush()
        read_msg(f)
        cmd = {"execute": a.command}
        if args is not None:
            cmd["arguments"] = args
        f.write(json.dumps(cmd) + "\n")
        f.flush()
        r = read_msg(f)
    except socket.timeout:
        fail(3, f"no answer from QEMU within {a.timeout}s")
    if "error" in r:
        e = r["error"]
        fail(1, f"{a.command}: {e.get('class')}: {e.get('desc')}")
    print(json.dumps(r.get("return", {})))
    return 0


if __name__ == "__main__":
    sys.exit(main())
