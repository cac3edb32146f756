#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The host's end of pviod_migrate_net.sh's TCP stream: accepts one
connection on ADDR:PORT, reads the guest's HTTP request and answers it
with an HTTP/1.0 response of no stated length: random bytes, CHUNK bytes every
PERIOD seconds, until the file STOP exists; then closes and prints
"sent BYTES MD5" (of the body).  Meanwhile PROGRESS holds the bytes sent so far (the send
buffer is kept small, so that follows what the guest acknowledged).

  pviod_migrate_net_peer.py ADDR PORT SECS STOP PROGRESS

SECS bounds the wait for the connection and for each send."""
import hashlib
import os
import socket
import sys
import time

CHUNK = 32 << 10
PERIOD = 0.01


def main():
    addr, port, secs, stop, progress = sys.argv[1:6]
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, int(port)))
    s.listen(1)
    s.settimeout(float(secs))
    c, _ = s.accept()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 128 << 10)
    c.settimeout(float(secs))
    req = b""
    while b"\r\n\r\n" not in req:
        b = c.recv(4096)
        if not b:
            sys.exit("the guest closed before its request ended")
        req += b
    c.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n")
    md5 = hashlib.md5()
    sent = 0
    last = 0.0
    while not os.path.exists(stop):
        b = os.urandom(CHUNK)
        c.sendall(b)
        md5.update(b)
        sent += len(b)
        now = time.monotonic()
        if now - last > 0.2:
            with open(progress + ".new", "w") as f:
                f.write("%d\n" % sent)
            os.replace(progress + ".new", progress)
            last = now
        time.sleep(PERIOD)
    c.shutdown(socket.SHUT_WR)
    c.close()
    print("sent", sent, md5.hexdigest())


if __name__ == "__main__":
    main()
