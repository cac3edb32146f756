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
  GET  /vlansend?vid=V&mac=M&n=N
                      sends N UDP datagrams 10.98.V.1 -> 10.98.V.2, port 9,
                      in frames to M tagged with VLAN V, out of the TAP (raw
                      socket): the VLAN filter test

With --vlan V, a VLAN responder also answers on the TAP as 10.98.V.1 (MAC
02:00:00:00:00:V) in 802.1Q-tagged frames: ARP requests and ICMP echo
requests tagged with V.  It needs no 8021q in the host kernel (a raw packet
socket, the tag read from the packet's auxiliary data or the frame).

Runs until killed (the test's EXIT trap) or --timeout seconds.
"""
import argparse
import ctypes
import hashlib
import http.server
import ipaddress
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import urllib.parse

CHUNK = 1 << 16


MAC_RE = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")


def run(*cmd):
    """Runs cmd quietly; returns (exit status, stdout)."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                       timeout=60, check=False)
    return p.returncode, p.stdout


ETH_P_ALL = 0x0003
ETH_P_ARP = 0x0806
ETH_P_IP = 0x0800
ETH_P_8021Q = 0x8100
SO_ATTACH_FILTER = 26  # not in Python's socket module
SOL_PACKET = 263
PACKET_AUXDATA = 8
PACKET_OUTGOING = 4
TP_STATUS_VLAN_VALID = 0x10
# struct tpacket_auxdata: status, len, snaplen (u32), mac, net, vlan_tci, vlan_tpid (u16)
AUXDATA = struct.Struct("=IIIHHHH")


def csum(data):
    """The Internet checksum of data."""
    if len(data) & 1:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def bpf_tagged_in():
    """A classic BPF program: frames received (not sent) by the interface
    that carry an 802.1Q tag, in the skb's metadata or still in the frame.
    Keeps the bulk TCP traffic of the other tests out of Python."""
    ad_off = 0xFFFFF000  # SKF_AD_OFF
    prog = [
        (0x20, 0, 0, ad_off + 4),  # ld pkttype
        (0x15, 5, 0, PACKET_OUTGOING),  # jeq #OUTGOING -> drop
        (0x20, 0, 0, ad_off + 48),  # ld vlan_tag_present
        (0x15, 0, 2, 0),  # jeq #0 -> look at the frame, else accept
        (0x28, 0, 0, 12),  # ldh [12]
        (0x15, 0, 1, ETH_P_8021Q),  # jeq #0x8100 -> accept, else drop
        (0x06, 0, 0, 0x40000),  # ret: accept
        (0x06, 0, 0, 0),  # ret: drop
    ]
    return b"".join(struct.pack("=HBBI", *i) for i in prog), len(prog)


class VlanPeer:
    """The host's side of one VLAN on the TAP, without 8021q: answers ARP
    and ICMP echo requests for 10.98.V.1 tagged with V, and sends tagged
    datagrams on request (Handler.do_vlansend)."""

    def __init__(self, dev, vid):
        self.vid = vid
        self.ip = socket.inet_aton(f"10.98.{vid}.1")
        self.mac = bytes([2, 0, 0, 0, 0, vid & 0xFF])
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        code, n = bpf_tagged_in()
        buf = ctypes.create_string_buffer(code, len(code))
        fprog = struct.pack("@HP", n, ctypes.addressof(buf))
        self.sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
        self.sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
        self.sock.bind((dev, 0))
        self.lock = threading.Lock()

    def send(self, dst, vid, ethertype, payload):
        """One frame to dst, tagged with vid, padded to the minimum size."""
        frame = dst + self.mac + struct.pack("!HHH", ETH_P_8021Q, vid & 0xFFF, ethertype)
        frame += payload
        frame += bytes(max(0, 64 - len(frame)))
        with self.lock:
            self.sock.send(frame)

    def recv(self):
        """The next tagged frame: (vid, frame without its tag) or None."""
        data, anc, _, addr = self.sock.recvmsg(65536, socket.CMSG_SPACE(AUXDATA.size))
        if addr[2] == PACKET_OUTGOING or len(data) < 14:
            return None
        if struct.unpack_from("!H", data, 12)[0] == ETH_P_8021Q and len(data) >= 18:
            return struct.unpack_from("!H", data, 14)[0] & 0xFFF, data[:12] + data[16:]
        for level, kind, cdata in anc:
            if level == SOL_PACKET and kind == PACKET_AUXDATA and len(cdata) >= AUXDATA.size:
                status, _, _, _, _, tci, _ = AUXDATA.unpack_from(cdata)
                if status & TP_STATUS_VLAN_VALID:
                    return tci & 0xFFF, data
        return None

    def answer(self, frame):
        src = frame[6:12]
        ethertype = struct.unpack_from("!H", frame, 12)[0]
        p = frame[14:]
        if ethertype == ETH_P_ARP and len(p) >= 28:
            op = struct.unpack_from("!H", p, 6)[0]
            if op != 1 or p[24:28] != self.ip:
                return
            reply = p[:6] + struct.pack("!H", 2) + self.mac + self.ip + p[8:18]
            self.send(src, self.vid, ETH_P_ARP, reply)
            print(f"# peer: VLAN {self.vid}: ARP reply to {src.hex(':')}", file=sys.stderr,
                  flush=True)
        elif ethertype == ETH_P_IP and len(p) >= 20:
            ihl = (p[0] & 0xF) * 4
            total = struct.unpack_from("!H", p, 2)[0]
            if p[9] != 1 or p[16:20] != self.ip or total > len(p) or total < ihl + 8:
                return
            icmp = p[ihl:total]
            if icmp[0] != 8:  # echo request
                return
            icmp = bytearray(icmp)
            icmp[0] = 0
            icmp[2:4] = b"\0\0"
            icmp[2:4] = struct.pack("!H", csum(bytes(icmp)))
            ip = bytearray(p[:ihl])
            ip[8] = 64
            ip[10:12] = b"\0\0"
            ip[12:16], ip[16:20] = p[16:20], p[12:16]
            ip[10:12] = struct.pack("!H", csum(bytes(ip)))
            self.send(src, self.vid, ETH_P_IP, bytes(ip) + bytes(icmp))

    def serve(self):
        while True:
            try:
                got = self.recv()
            except OSError:
                continue
            if got and got[0] == self.vid:
                self.answer(got[1])

    def send_udp(self, dst, vid, n):
        """n UDP datagrams 10.98.vid.1 -> 10.98.vid.2 in frames to dst tagged vid."""
        src_ip = socket.inet_aton(f"10.98.{vid & 0xFF}.1")
        dst_ip = socket.inet_aton(f"10.98.{vid & 0xFF}.2")
        data = b"pvio vlan filter test"
        udp = struct.pack("!HHHH", 9, 9, 8 + len(data), 0) + data
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, src_ip,
                         dst_ip)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        for _ in range(n):
            self.send(dst, vid, ETH_P_IP, ip + udp)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    blob = b""
    dev = "pvtap0"
    vlan = None

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

    def do_vlansend(self, q):
        vid = int(q["vid"][0])
        n = min(int(q.get("n", ["50"])[0]), 1000)
        mac = q["mac"][0]
        if not self.vlan or not MAC_RE.match(mac) or not 0 < vid < 4095:
            self.send_error(400)
            return
        self.vlan.send_udp(bytes.fromhex(mac.replace(":", "")), vid, n)
        self.reply(f"sent {n} on VLAN {vid}\n")

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
        elif url.path == "/vlansend":
            self.do_vlansend(urllib.parse.parse_qs(url.query))
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
    ap.add_argument("--vlan", type=int, help="answer ARP and ping as 10.98.VLAN.1 on this VLAN")
    ap.add_argument("--timeout", type=int, default=900)
    a = ap.parse_args()
    with open(a.blob, "rb") as f:
        Handler.blob = f.read()
    Handler.dev = a.dev
    if a.vlan:
        Handler.vlan = VlanPeer(a.dev, a.vlan)
        threading.Thread(target=Handler.vlan.serve, daemon=True).start()
    signal.signal(signal.SIGALRM, lambda *_: sys.exit(0))
    signal.alarm(a.timeout)
    srv = http.server.ThreadingHTTPServer((a.addr, a.port), Handler)
    srv.daemon_threads = True
    srv.serve_forever()


if __name__ == "__main__":
    main()
