#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Host-side peer of the pvio_net VM tests: a small HTTP server that the
guest (busybox wget) talks to through the TAP device.

  GET  /blob          the file given with --blob
  GET  /stream?n=N    N bytes (zeros), for throughput runs
  POST /upload        reads the body, answers "<sha256> <bytes>\\n" and logs it

Runs until killed (the test's EXIT trap) or --timeout seconds.
"""
import argparse
import hashlib
import http.server
import signal
import sys
import urllib.parse

CHUNK = 1 << 16


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    blob = b""

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
    ap.add_argument("--timeout", type=int, default=900)
    a = ap.parse_args()
    with open(a.blob, "rb") as f:
        Handler.blob = f.read()
    signal.signal(signal.SIGALRM, lambda *_: sys.exit(0))
    signal.alarm(a.timeout)
    srv = http.server.ThreadingHTTPServer((a.addr, a.port), Handler)
    srv.daemon_threads = True
    srv.serve_forever()


if __name__ == "__main__":
    main()
