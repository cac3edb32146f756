#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Host end of tests/vm/pvio_con_bench.sh on QEMU's chardev socket.

pvio_con_bench_peer.py CONSOLE_LOG PORT_SOCK OUTFILE
  Follow the guest's kernel log for "pvio-bench: g2h|h2g ROUND DRIVER BYTES"
  (in order; "pvio-bench: done" ends):
    g2h  read BYTES from the port, timed from the first byte to the last
    h2g  send BYTES, then wait for the guest's one-byte ack; timed from the
         first send to the ack
  Each result is a line "DIR ROUND DRIVER BYTES SECONDS" in OUTFILE.
"""
import re, socket, sys, time

log_path, sock_path, out_path = sys.argv[1:4]
PAT = re.compile(rb"pvio-bench: (g2h|h2g) (\d+) (\S+) (\d+)|pvio-bench: done")


def connect():
    for _ in range(1200):
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(sock_path)
            return s
        except OSError:
            time.sleep(0.05)
    sys.exit("cannot connect to " + sock_path)


def requests():
    """Each request line of the guest's log once, in order, as it appears."""
    pos = 0
    end = time.time() + 900
    while time.time() < end:
        try:
            with open(log_path, "rb") as f:
                data = f.read()
        except OSError:
            data = b""
        for m in PAT.finditer(data, pos):
            pos = m.end()
            if m.group(1) is None:
                return
            yield m.group(1).decode(), m.group(2).decode(), m.group(3).decode(), int(m.group(4))
        time.sleep(0.05)


s = connect()
chunk = bytes(range(256)) * 256
with open(out_path, "w") as out:
    for d, rnd, drv, n in requests():
        if d == "g2h":
            got, t0 = 0, None
            while got < n:
                b = s.recv(min(1 << 20, n - got))
                if not b:
                    break
                if t0 is None:
                    t0 = time.monotonic()
                got += len(b)
            dt = time.monotonic() - (t0 or time.monotonic())
        else:
            t0 = time.monotonic()
            sent = 0
            while sent < n:
                sent += s.send(chunk[: min(len(chunk), n - sent)])
            got = sent if s.recv(1) == b"A" else 0
            dt = time.monotonic() - t0
        out.write("%s %s %s %d %.4f\n" % (d, rnd, drv, got, dt))
        out.flush()
