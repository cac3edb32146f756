#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""qmp.py SOCKET COMMAND [JSON-ARGUMENTS]: one QMP command to a QEMU monitor.

Prints the "return" value as JSON; exits 1 when QEMU answers with an error
(printed on stderr), 3 when the monitor cannot be reached within 10 s.
"""
import json
import socket
import sys
import time


def request(f, sock, cmd, args=None):
    msg = {"execute": cmd}
    if args:
        msg["arguments"] = args
    sock.sendall(json.dumps(msg).encode() + b"\n")
    for line in f:
        reply = json.loads(line)
        if "return" in reply or "error" in reply:
            return reply
    raise EOFError("QMP monitor closed the connection")


def main():
    if len(sys.argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    path, cmd = sys.argv[1], sys.argv[2]
    args = json.loads(sys.argv[3]) if len(sys.argv) == 4 else None
    deadline = time.monotonic() + 10
    while True:
        try:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(path)
            break
        except OSError as e:
            sock.close()
            if time.monotonic() > deadline:
                print(f"qmp: cannot connect to {path}: {e}", file=sys.stderr)
                return 3
            time.sleep(0.2)
    with sock, sock.makefile("r") as f:
        json.loads(f.readline())  # greeting
        request(f, sock, "qmp_capabilities")
        reply = request(f, sock, cmd, args)
    if "error" in reply:
        print(f"qmp: {cmd}: {reply['error'].get('desc')}", file=sys.stderr)
        return 1
    print(json.dumps(reply["return"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
