#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Host end of tests/vm/pvio_con_port.sh: an echo peer on QEMU's chardev socket.

pvio_con_port_peer.py PORT_SOCK SECONDS
  Connect to PORT_SOCK (QEMU listens) and send back every byte read, until
  SECONDS pass.  The line PVIO-PEER-HANGUP (con_port_test's host_hangup) is
  not echoed: the peer closes the socket (the guest sees PORT_OPEN 0), waits
  2 s and connects again (PORT_OPEN 1).
"""
import socket, sys, time

MAGIC = b"PVIO-PEER-HANGUP\n"
path, seconds = sys.argv[1], float(sys.argv[2])
end = time.time() + seconds


def connect():
    while time.time() < end:
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            return s
        except OSError:
            time.sleep(0.05)
    sys.exit(0)


s = connect()
tail = b""
while time.time() < end:
    s.settimeout(1.0)
    try:
        b = s.recv(1 << 16)
    except socket.timeout:
        continue
    if not b:
        s.close()
        s = connect()
        continue
    data = tail + b
    i = data.find(MAGIC)
    if i >= 0:
        s.sendall(data[len(tail):i] if i > len(tail) else b"")
        s.close()
        time.sleep(2)
        s = connect()
        tail = b""
        continue
    # Keep the end of the stream: the magic may straddle two reads.
    keep = len(MAGIC) - 1
    s.sendall(b)
    tail = data[-keep:]
