#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Host side of tests/vm/pvio_con.sh: talk to QEMU's chardev sockets.

pvio_con_peer.py HVC_SOCK PORT_SOCK DATA OUTDIR
  hvc:  record everything into OUTDIR/hvc.log; on "pvio-test: shell" send a
        command line to the shell the guest runs on hvc0.
  port: on "pvio-test: port" send DATA, read as many bytes back (the guest
        echoes), write their md5 to OUTDIR/port.md5; then on "pvio-test: perf N"
        read N bytes and write MiB/s to OUTDIR/perf.
"""
import hashlib, os, socket, sys, threading, time

hvc_path, port_path, data_path, out = sys.argv[1:5]
log = bytearray()
lock = threading.Lock()

def connect(path):
    for _ in range(600):
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            return s
        except OSError:
            time.sleep(0.05)
    sys.exit("cannot connect to " + path)

def seen(pat, timeout=200):
    end = time.time() + timeout
    while time.time() < end:
        with lock:
            if pat.encode() in log:
                return True
        time.sleep(0.05)
    return False

def hvc():
    s = connect(hvc_path)
    threading.Thread(target=shell, args=(s,), daemon=True).start()
    with open(os.path.join(out, "hvc.log"), "wb") as f:
        while True:
            b = s.recv(65536)
            if not b:
                return
            f.write(b); f.flush()
            with lock:
                log.extend(b)

def shell(s):
    if seen("pvio-test: shell"):
        time.sleep(0.5)
        s.sendall(b"echo hvc-$((6*7)) > /tmp/hvc-said; echo shell-says-hvc-$((6*7))\n")

def recv_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        b = s.recv(min(1 << 20, n - len(buf)))
        if not b:
            break
        buf.extend(b)
    return bytes(buf)

def port():
    s = connect(port_path)
    data = open(data_path, "rb").read()
    if not seen("pvio-test: port"):
        return
    s.sendall(data)
    back = recv_exact(s, len(data))
    open(os.path.join(out, "port.md5"), "w").write(hashlib.md5(back).hexdigest() + "\n")
    if not seen("pvio-test: perf"):
        return
    with lock:
        i = log.find(b"pvio-test: perf ")
        n = int(log[i + 16:].split()[0])
    t0 = time.time()
    got = len(recv_exact(s, n))
    dt = time.time() - t0
    open(os.path.join(out, "perf"), "w").write("%d %.3f %.1f\n" % (got, dt, got / dt / 2**20))

threading.Thread(target=hvc, daemon=True).start()
t = threading.Thread(target=port, daemon=True)
t.start()
t.join(280)
