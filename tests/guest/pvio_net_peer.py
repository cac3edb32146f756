#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Host-side peer of the pvio_net VM tests: a small HTTP server that the
guest (busybox wget) talks to through the TAP device.

  GET  /blob          the file given with --blob
  GET  /stream?n=N    N bytes (zeros), for throughput runs
  POST /upload        reads the body, answers "<sha256> <bytes>\\n" and logs it
  GET  /neigh?ip=A    forgets A's neighbour entry, sends A a UDP datagram to
                      the discard port and waits for its ICMP port
                      unreachable; answers "reach ok|failed" and the new
                      entry (ip neigh): shows which MAC the guest answers ARP
                      with, and that frames to that MAC get through the
                      device's filter
  GET  /send?dst=A&n=N[&lladdr=M]
                      sends A N UDP datagrams out of the TAP; with M, through
                      a permanent neighbour entry A -> M (frames to a foreign
                      unicast MAC).  The guest counts what its device let in
                      (receive filter tests)

Runs until killed (the test's EXIT trap) or --timeout seconds.
"""
import argparse
import hashlib
import http.server
import ipaddress
import re
import signal
import socket
import subprocess
import sys
import urllib.parse

CHUNK = 1 << 16


MAC_RE = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")


def run(*cmd):
    """Runs cmd quietly; returns (exit status, stdout)."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                       timeout=60, check=False)
    return p.returncode, p.stdout


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    blob = b""
    dev = "pvtap0"

    def reply(self, text):
        body = text.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_neigh(self, q):
        ip = str(ipaddress.ip_address(q["ip"][0]))
        run("ip", "neigh", "del", ip, "dev", self.dev)
        reached = False
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(2)
            s.connect((ip, 9))
            for _ in range(3):
                try:
                    s.send(b"x")
                    s.recv(1)
                except ConnectionRefusedError:  # the guest's port unreachable
                    reached = True
                    break
                except OSError:
                    continue
        _, entry = run("ip", "neigh", "show", ip, "dev", self.dev)
        self.reply(f"reach {'ok' if reached else 'failed'}\n{entry}")

    def do_send(self, q):
        dst = str(ipaddress.ip_address(q["dst"][0]))
        n = min(int(q.get("n", ["50"])[0]), 1000)
        if "lladdr" in q:
            mac = q["lladdr"][0]
            if not MAC_RE.match(mac):
                self.send_error(400)
                return
            run("ip", "neigh", "replace", dst, "lladdr", mac, "dev", self.dev, "nud",
                "permanent")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, self.dev.encode())
            s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
            for _ in range(n):
                try:
                    s.sendto(b"pvio filter test", (dst, 9))
                except OSError:
                    pass
        if "lladdr" in q:
            run("ip", "neigh", "del", dst, "dev", self.dev)
        self.reply(f"sent {n}\n")

    def log_message(self, fmt, *args):  # quiet: one line per upload only
        pass

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        if url.path == "/blob":
            body = self.blob
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif url.path == "/neigh":
            self.do_neigh(urllib.parse.parse_qs(url.query))
        elif url.path == "/send":
            self.do_send(urllib.parse.parse_qs(url.query))
        elif url.path == "/stream":
            n = int(urllib.parse.parse_qs(url.query).get("n", ["0"])[0])
            self.send_response(200)
            self.send_header("Content-Length", str(n))
            self.end_headers()
            zero = bytes(CHUNK)
            while n > 0:
                k = min(n, CHUNK)
                try:
                    self.wfile.write(zero[:k])
                except (BrokenPipeError, ConnectionResetError):
                    return
                n -= k
        else:
            self.send_error(404)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        h = hashlib.sha256()
        got = 0
        while got < n:
            b = self.rfile.read(min(CHUNK, n - got))
            if not b:
                break
            h.update(b)
            got += len(b)
        reply = f"{h.hexdigest()} {got}\n".encode()
        print(f"# peer: upload of {got} bytes, sha256 {h.hexdigest()}", file=sys.stderr,
              flush=True)
        self.send_response(200)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--addr", default="10.98.0.1")
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--blob", required=True)
    ap.add_argument("--dev", default="pvtap0", help="the TAP, for /neigh and /send")
    ap.add_argument("--timeout", type=int, default=900)
    a = ap.parse_args()
    with open(a.blob, "rb") as f:
        Handler.blob = f.read()
    Handler.dev = a.dev
    signal.signal(signal.SIGALRM, lambda *_: sys.exit(0))
    signal.alarm(a.timeout)
    srv = http.server.ThreadingHTTPServer((a.addr, a.port), Handler)
    srv.daemon_threads = True
    srv.serve_forever()


if __name__ == "__main__":
    main()
