#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Write the seed corpora of the fuzz targets into tests/fuzz/corpus/<target>/.

Small, hand-made inputs that reach deep states at once: a whole vhost-user
session up to a running ring, valid and broken descriptor chains, one
virtio-blk request of each type, net headers with and without offloads,
console control messages.  Regression inputs (regress-*) found by fuzzing
are committed beside these and never regenerated.  Run from anywhere:
    tests/fuzz/gen_seeds.py
"""
import os
import struct

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# --- vu_msg: [device] then messages: [fd spec]([u16 n][n bytes of memfd])
#     [request u32][flags u32][size u32][payload] ---
VER = 1
NEED_REPLY = 1 << 3
MEMFD, EVENTFD, KICK, FILL = 0x00, 0x10, 0x40, 0x80
BLK, NET, CONSOLE = 0, 1, 2


def msg(req, payload=b"", fds=0, kind=MEMFD, flags=VER, fill=None):
    spec = bytes([fds | kind | (FILL if fill is not None else 0)])
    if fill is not None:
        spec += struct.pack("<H", len(fill)) + fill
    return spec + struct.pack("<III", req, flags, len(payload)) + payload


def put_vu(name, data, dev=BLK):
    put("vu_msg", name, bytes([dev]) + data)


def u64(v):
    return struct.pack("<Q", v)


def state(i, n):
    return struct.pack("<II", i, n)


UVA = 0x7000000000
PF = (1 << 0) | (1 << 3) | (1 << 9) | (1 << 13) | (1 << 15) | (1 << 16)
FEAT = (1 << 32) | (1 << 30) | (1 << 28) | (1 << 29)


def session(region_size=0x10000, num=16, extra=b"", ring=0):
    s = msg(15) + msg(16, u64(PF)) + msg(1) + msg(2, u64(FEAT))
    s += msg(5, struct.pack("<II", 1, 0) + struct.pack("<QQQQ", 0, region_size, UVA, 0), 1,
             MEMFD, VER | NEED_REPLY)
    s += msg(8, state(0, num)) + msg(10, state(0, 0))
    s += msg(9, struct.pack("<IIQQQQ", 0, 0, UVA + ring, UVA + ring + 0x2000,
                            UVA + ring + 0x1000, 0))
    s += msg(13, u64(0), 1, EVENTFD) + msg(14, u64(0), 1, EVENTFD)
    s += msg(12, u64(0), 1, EVENTFD | KICK) + msg(18, state(0, 1), flags=VER | NEED_REPLY)
    return s + extra


put_vu("session", session())
put_vu("session-status-config",
       session(extra=msg(39, u64(15)) + msg(40) + msg(24, struct.pack("<III", 0, 60, 0) +
               bytes(60)) + msg(11, state(0, 0)) + msg(34)))
# A region larger than the memfd behind it, the rings past the file's end.
put_vu("regress-region-past-eof", session(region_size=0x100000, ring=0x80000))
put_vu("session-memslots",
       msg(16, u64(PF)) + msg(36) + msg(37, u64(0) + struct.pack("<QQQQ", 0x100000, 0x4000,
           UVA + 0x100000, 0), 1) + msg(38, u64(0) + struct.pack("<QQQQ", 0x100000, 0x4000,
           UVA + 0x100000, 0)))
put_vu("queue-num-bad", msg(16, u64(PF)) + msg(17) + msg(8, state(1, 3)) +
       msg(8, state(5, 8)) + msg(8, state(0, 65536)))
put_vu("unknown", msg(16, u64(PF)) + msg(99, flags=VER | NEED_REPLY) + msg(6))
put_vu("too-many-fds", msg(3, b"", 9, EVENTFD))
put_vu("cut-mid-message", msg(1) + bytes([0]) + struct.pack("<III", 2, VER, 8) + b"\1\2")


def ring_mem(chains, num=16):
    """Guest memory with one split ring: the descriptor table at 0, avail at
    0x100, used at 0x200, the chains' buffers from 0x300.  A chain is a list
    of (bytes, device-writable) buffers."""
    mem = bytearray(0x300)
    d, buf, heads = 0, 0x300, []
    for chain in chains:
        heads.append(d)
        for k, (data, wr) in enumerate(chain):
            more = k + 1 < len(chain)
            struct.pack_into("<QIHH", mem, 16 * d, buf, len(data),
                             (1 if more else 0) | (2 if wr else 0), d + 1 if more else 0)
            mem.extend(data)
            buf += len(data)
            d += 1
    struct.pack_into("<HH", mem, 0x100, 0, len(heads))
    for i, h in enumerate(heads):
        struct.pack_into("<H", mem, 0x104 + 2 * i, h)
    return bytes(mem)


def vu_ring(index, fill, num=16, kick=True):
    """The messages that start ring @index on guest memory @fill (ring_mem's)."""
    s = msg(5, struct.pack("<II", 1, 0) + struct.pack("<QQQQ", 0, 0x1000, UVA, 0), 1,
            MEMFD | 0x20, fill=fill)
    s += msg(8, state(index, num)) + msg(10, state(index, 0))
    s += msg(9, struct.pack("<IIQQQQ", index, 0, UVA, UVA + 0x200, UVA + 0x100, 0))
    s += msg(13, u64(index), 1, EVENTFD) + msg(12, u64(index), 1, EVENTFD | (KICK if kick else 0))
    return s + msg(18, state(index, 1))


# Net: MTU, MAC, STATUS, CTRL_VQ, CTRL_RX, MQ; RARP (NET_MTU and GUEST_ANNOUNCE are not offered).
NET_FEAT = FEAT | (1 << 3) | (1 << 5) | (1 << 16) | (1 << 17) | (1 << 18) | (1 << 22)
NET_PF = PF | (1 << 2)
net_start = msg(15) + msg(16, u64(NET_PF)) + msg(1) + msg(2, u64(NET_FEAT))
ACK = (b"\xff", True)
put_vu("net-rarp", net_start +
       msg(19, bytes([2, 0x70, 0x76, 1, 2, 3, 0, 0])) +
       msg(24, struct.pack("<III", 0, 12, 0) + bytes(12)), NET)
# The control queue (index 4 of two pairs): promiscuous, two pairs, a MAC.
put_vu("net-ctrl", net_start + vu_ring(4, ring_mem([
    [(b"\0\0", False), (b"\1", False), ACK],
    [(b"\4\0", False), (struct.pack("<H", 2), False), ACK],
    [(b"\1\1", False), (bytes([2, 0, 0, 0, 0, 1]), False), ACK],
    [(b"\3\0", False), ACK]])), NET)
# A frame on pair 0's transmit queue (index 1): header and an Ethernet frame.
put_vu("net-tx", net_start + vu_ring(1, ring_mem([
    [(bytes(12), False), (b"\xff" * 6 + bytes([2, 0, 0, 0, 0, 1]) + b"\x08\x00" + bytes(46),
                          False)]])), NET)
# Console: MULTIPORT (bit 1), the driver's DEVICE_READY on control transmit (index 3).
put_vu("console-ready", msg(15) + msg(16, u64(PF)) + msg(1) + msg(2, u64(FEAT | 2)) +
       vu_ring(3, ring_mem([[(struct.pack("<IHH", 0, 0, 1), False)]])), CONSOLE)
# A blk GET_ID request through the worker.
put_vu("blk-get-id", msg(15) + msg(16, u64(PF)) + msg(1) + msg(2, u64(FEAT)) +
       vu_ring(0, ring_mem([[(struct.pack("<IIQ", 8, 0, 0), False), (bytes(20), True),
                              (b"\xff", True)]])))

# --- ring: [mode][max_seg][last_avail u16] then guest memory from gpa 0 ---
# avail at gpa 0, descriptor table at 0x800, buffers from 0x1000.
DESC = 0x800
F_NEXT, F_WRITE, F_INDIRECT = 1, 2, 4


def ring_seed(mode, descs, heads, extra=None, max_seg=16, last=0):
    mem = bytearray(0x2000)
    struct.pack_into("<HH", mem, 0, 0, (last + len(heads)) & 0xffff)
    for i, h in enumerate(heads):
        struct.pack_into("<H", mem, 4 + 2 * ((last + i) % (1 << (mode & 0xf))), h)
    for i, (addr, ln, fl, nx) in enumerate(descs):
        struct.pack_into("<QIHH", mem, DESC + 16 * i, addr, ln, fl, nx)
    for off, data in (extra or {}).items():
        if off + len(data) > len(mem):
            mem.extend(bytes(off + len(data) - len(mem)))
        mem[off:off + len(data)] = data
    # The target pads with zeros: trailing ones need not be stored.
    return bytes([mode, max_seg]) + struct.pack("<H", last) + bytes(mem).rstrip(b"\0")


blk3 = [(0x1000, 16, F_NEXT, 1), (0x1100, 512, F_NEXT | F_WRITE, 2), (0x1400, 1, F_WRITE, 0)]
put("ring", "chain3", ring_seed(4, blk3, [0]))
put("ring", "straddle", ring_seed(4, [(0x7f00, 0x200, F_WRITE, 0)], [0]))
put("ring", "loop", ring_seed(4, [(0x1000, 16, F_NEXT, 1), (0x1000, 16, F_NEXT, 0)], [0]))
ind = b"".join(struct.pack("<QIHH", *d) for d in blk3)
put("ring", "indirect", ring_seed(0x24, [(0x1800, len(ind), F_INDIRECT, 0)], [0],
                                    {0x1800: ind}))
put("ring", "indirect-nested", ring_seed(0x24, [(0x1800, 32, F_INDIRECT, 0)], [0],
        {0x1800: struct.pack("<QIHH", 0x1900, 16, F_INDIRECT, 0) + bytes(16)}))
put("ring", "wrap-top", ring_seed(4, [(0xfffffffffffff800, 0x1000, F_WRITE, 0)], [0]))
put("ring", "event-idx-wrap", ring_seed(0x12, blk3[:1], [0, 0, 0], last=0xfffe))

# Packed (mode bit 6): driver event at gpa 0, the descriptor ring at 0x800,
# descriptors (addr, len, id, flags) with AVAIL/USED bits for their lap.
PACKED = 0x40
F_AVAIL, F_USED = 1 << 7, 1 << 15


def packed_seed(mode, descs, extra=None, max_seg=16, base=0x8000):
    mem = bytearray(0x2000)
    num = 1 << (mode & 0xf)
    wrap = base >> 15
    for i, (addr, ln, ident, fl) in enumerate(descs):
        pos = (base & 0x7fff) + i
        w = wrap ^ ((pos // num) & 1)
        bits = F_AVAIL if w else F_USED
        struct.pack_into("<QIHH", mem, DESC + 16 * (pos % num), addr, ln, ident, fl | bits)
    for off, data in (extra or {}).items():
        if off + len(data) > len(mem):
            mem.extend(bytes(off + len(data) - len(mem)))
        mem[off:off + len(data)] = data
    return bytes([mode | PACKED, max_seg]) + struct.pack("<H", base) + bytes(mem).rstrip(b"\0")


pblk3 = [(0x1000, 16, 2, F_NEXT), (0x1100, 512, 2, F_NEXT | F_WRITE), (0x1400, 1, 2, F_WRITE)]
put("ring", "packed-chain3", packed_seed(4, pblk3 + [(0x1500, 8, 0, 0)]))
put("ring", "packed-wrap", packed_seed(0x12, pblk3, base=0x8000 | 3))
put("ring", "packed-endless", packed_seed(2, [(0x1000, 0, 0, F_NEXT)] * 4))
pind = b"".join(struct.pack("<QIHH", a, ln, 0, fl & F_WRITE) for a, ln, _, fl in pblk3)
put("ring", "packed-indirect", packed_seed(0x24, [(0x1800, len(pind), 1, F_INDIRECT)],
                                           {0x1800: pind}))
put("ring", "packed-retry", packed_seed(4, pblk3, max_seg=0x81))

# --- blk_req: [nseg][nout][limits] then (len, bytes) per segment ---
LIM = (11 << 3) | 0x6  # 2048 sectors, FLUSH, DISCARD


def hdr(t, sector):
    return struct.pack("<IIQ", t, 0, sector)


def blk_seed(segs, nout, lim=LIM):
    out = bytes([len(segs) - 1 if len(segs) else 0, nout, lim])
    for s in segs:
        out += bytes([len(s)]) + s
    return out


put("blk_req", "in", blk_seed([hdr(0, 8), bytes(200), b"\xff"], 1))
put("blk_req", "out", blk_seed([hdr(1, 8), bytes(200), b"\xff"], 2))
put("blk_req", "out-ro", blk_seed([hdr(1, 8), bytes(200), b"\xff"], 2, LIM | 1))
put("blk_req", "flush", blk_seed([hdr(4, 0), b"\xff"], 1))
put("blk_req", "get-id", blk_seed([hdr(8, 0), bytes(20) + b"\xff"], 1))
put("blk_req", "discard", blk_seed([hdr(11, 0) + struct.pack("<QII", 8, 8, 0), b"\xff"], 1))
put("blk_req", "write-zeroes-unmap",
    blk_seed([hdr(13, 0), struct.pack("<QII", 2040, 8, 1), b"\xff"], 2))
put("blk_req", "short-hdr", blk_seed([hdr(0, 0)[:9], b"\xff"], 1))

# --- net_hdr: [features][12-byte header][frame] ---
eth_ip_tcp = bytes(14 + 20 + 20) + bytes(100)
put("net_hdr", "plain", bytes([0]) + bytes(12) + eth_ip_tcp)
put("net_hdr", "csum", bytes([1]) + struct.pack("<BBHHHHH", 1, 0, 0, 0, 34, 16, 0) + eth_ip_tcp)
put("net_hdr", "tso4", bytes([3]) + struct.pack("<BBHHHHH", 1, 1, 54, 1448, 34, 16, 0) + eth_ip_tcp)
put("net_hdr", "csum-out", bytes([1]) + struct.pack("<BBHHHHH", 1, 0, 0, 0, 150, 16, 0) + eth_ip_tcp)

# --- console: [ports-1 | MULTIPORT 8 | names 16] then records ---
def ctrl(pid, event, value):
    return bytes([0, 1, 8]) + struct.pack("<IHH", pid, event, value)


def rx(n=1, ln=128):
    return bytes([1, n - 1]) + bytes([ln] * n)


put("console", "ready", bytes([3 | 8 | 16]) + ctrl(0, 0, 1) + rx() + ctrl(1, 3, 1) + rx() +
    rx() + ctrl(1, 6, 1) + rx(2, 4) + ctrl(9, 3, 1))
put("console", "split", bytes([1 | 8]) + bytes([0, 2, 3]) + b"\0\0\0" + bytes([5]) +
    struct.pack("<HHB", 0, 0, 1) + rx())

# --- inflight: [log2 size - 1][used->idx u16][avail->idx u16] region, descs, avail ---
def inflight_seed(used, avail_idx, states, batch_head=0, region_used=None, chains=1):
    num = 4
    out = bytes([1]) + struct.pack("<HH", used, avail_idx)
    ru = used if region_used is None else region_used
    out += struct.pack("<QHHHH", 0, 1, num, batch_head, ru)
    for infl, nxt, counter in states:
        out += struct.pack("<B5xHQ", infl, nxt, counter)
    desc = b""
    for c in range(chains):  # header, data (device-writable), status: a read
        base = 0x3000 + c * 0x1000
        desc += struct.pack("<QIHH", base, 16, 1, 1) + struct.pack("<QIHH", base + 0x100, 512, 3, 2)
        desc += struct.pack("<QIHH", base + 0x800, 1, 2, 0)
    desc += bytes(4 * 16 - len(desc))
    return out + desc + struct.pack("<4H", 0, 0, 0, 0)


put("inflight", "fresh", inflight_seed(0, 1, [(0, 0, 0)] * 4))
put("inflight", "one-in-flight", inflight_seed(0, 1, [(1, 0, 1), (0, 0, 0), (0, 0, 0), (0, 0, 0)]))
put("inflight", "batch-lag", inflight_seed(1, 1, [(1, 0, 1), (0, 0, 0), (0, 0, 0), (0, 0, 0)],
                                           region_used=0))
put("inflight", "noise", inflight_seed(7, 9, [(3, 9, 5), (1, 1, 0), (1, 2, 1 << 63), (255, 0, 2)],
                                       batch_head=3, region_used=60000))

# --- inflight, packed: [0x80 | log2 size - 1][used off_wrap u16][avail off_wrap u16] region, ring ---
P_AVAIL, P_USED = 0x80, 0x8000


def packed_chain(base, flags_extra=P_AVAIL):
    """A blk read (header, data, status) as packed descriptors, buffer id 0."""
    return [(base, 16, 0, 1 | flags_extra), (base + 0x100, 512, 0, 3 | flags_extra),
            (base + 0x800, 1, 0, 2 | flags_extra)]


def inflight_packed_seed(used, avail, hdr, entries, ring):
    num = 4
    out = bytes([0x80 | 1]) + struct.pack("<HH", used, avail)
    free_head, old_free, used_idx, old_used, wrap, old_wrap = hdr
    out += struct.pack("<QHHHHHHBB10x", 0, 1, num, free_head, old_free, used_idx, old_used, wrap,
                       old_wrap)
    for infl, nxt, last, n, counter, (addr, ln, did, fl) in entries:
        out += struct.pack("<BxHHHQHHIQ", infl, nxt, last, n, counter, did, fl, ln, addr)
    out += bytes(32 + 4 * 32 - (len(out) - 5))
    for addr, ln, did, fl in ring:
        out += struct.pack("<QIHH", addr, ln, did, fl)
    return out + bytes(4 * 16 - 16 * len(ring))


NO_DESC = (0, 0, 0, 0)
chain = packed_chain(0x3000)
free4 = [(0, i + 1, 0, 0, 0, NO_DESC) for i in range(4)]
put("inflight", "packed-fresh", inflight_packed_seed(P_USED, P_USED, (0, 0, 0, 0, 1, 1), [], chain))
# A chain of three in flight in entries 0-2, its ring slots as the driver wrote them.
in_flight = [(1, 1, 2, 3, 1, chain[0]), (0, 2, 0, 0, 0, chain[1]), (0, 3, 0, 0, 0, chain[2]),
             (0, 4, 0, 0, 0, NO_DESC)]
put("inflight", "packed-one-in-flight",
    inflight_packed_seed(P_USED, P_USED, (3, 3, 0, 0, 1, 1), in_flight, chain))
# Died publishing it: used_idx moved, and the ring's slot 0 says used: committed.
used_slot = [(0x3000, 513, 0, 0x80 | 0x8000 | 2)] + chain[1:]
put("inflight", "packed-batch-reached-ring",
    inflight_packed_seed(P_USED, P_USED, (0, 3, 3, 0, 1, 1),
                         [(1, 1, 2, 3, 1, chain[0]), (0, 2, 0, 0, 0, chain[1]),
                          (0, 3, 0, 0, 0, chain[2]), (0, 4, 0, 0, 0, NO_DESC)], used_slot))
# Died before the ring's store: rolled back, resubmitted.
put("inflight", "packed-batch-rolled-back",
    inflight_packed_seed(P_USED, P_USED, (0, 3, 3, 0, 1, 1), in_flight, chain))
put("inflight", "packed-noise",
    inflight_packed_seed(0x1234, 0xffff, (7, 2, 9, 1, 5, 0),
                         [(1, 0, 0, 9, 2, chain[0]), (3, 1, 1, 1, 1 << 63, chain[1])] + free4[2:],
                         chain))

# --- mem: [op] operands (see fuzz_mem.c) ---
def mem_region(gpa, pages, uva, off, file_pages):
    return bytes([0]) + struct.pack("<HBHBB", gpa, pages - 1, uva, off, file_pages - 1)


put("mem", "table-xlate", bytes([0, 2]) + mem_region(0, 16, 0x100, 0, 16) +
    mem_region(16, 16, 0x200, 4, 20) + bytes([3]) + struct.pack("<QI", 0xf000, 0x2000) +
    bytes([4]) + struct.pack("<QI", 0x100000, 64))
put("mem", "add-remove", bytes([1]) + mem_region(0, 8, 0x10, 0, 8) + bytes([1]) +
    mem_region(64, 8, 0x20, 0, 8) + bytes([2, 0]) + bytes([3]) + struct.pack("<QI", 0x40000, 4096))
put("mem", "past-eof", bytes([1]) + mem_region(0, 16, 0, 8, 16))
