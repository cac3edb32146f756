#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The host's receiving end of the VM tests' TCP uploads: accepts one
connection on ADDR:PORT, writes what arrives to PATH until SIZE bytes came
or the guest closed, and prints "received N".

  tcp_sink.py ADDR PORT SECS PATH SIZE

SECS bounds the wait for the connection; once connected, 60 s without data
end it.  The caller compares PATH with what the guest sent (md5)."""
import socket
import sys


def main():
    addr, port, secs, path, size = sys.argv[1:6]
    port, size = int(port), int(size)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(1)
    s.settimeout(float(secs))
    c, _ = s.accept()
    c.settimeout(60)
    got = 0
    with open(path, "wb") as f:
        while got < size:
            b = c.recv(1 << 16)
            if not b:
                break
            f.write(b)
            got += len(b)
    c.close()
    print("received", got)


if __name__ == "__main__":
    main()
