// SPDX-License-Identifier: GPL-2.0
/*
 * net_gso_test - software segmentation of TCP super-frames (backend/net/gso.c) and
 * the switch's flow hash, checked on the bytes: segment count and lengths,
 * IPv4 total length / id / header checksum, IPv6 payload length, sequence
 * numbers, FIN / PSH / CWR placement, ECN bits, payload bytes, and TCP
 * checksums (complete, or partial and completed here as a guest would),
 * every checksum verified by the tests' own byte-by-byte routine
 * (tests/lib/frame.c).  IPv4 and IPv6, VLAN and QinQ tags, IP and TCP
 * options, an odd last segment, a 64 KiB super-frame, and inputs that must
 * be refused with the documented error.
 */
#include <errno.h>
#include <string.h>

#include "kselftest_harness.h"
#include "net/net.h"
#include "pvtest.h"

#define BUF_MAX (PVIOD_NET_FRAME_MAX + 64)

static uint8_t super[BUF_MAX];
static uint8_t seg[BUF_MAX];

static const uint8_t dmac[6] = { 0x02, 0, 0, 0, 0, 0x0b };
static const uint8_t smac[6] = { 0x02, 0, 0, 0, 0, 0x0a };

struct spec {
	bool ipv6;
	unsigned int vlans; /* 0, 1 (802.1Q) or 2 (802.1ad + 802.1Q) */
	unsigned int ip_opt; /* IPv4 option bytes, multiple of 4 */
	unsigned int tcp_opt; /* TCP option bytes, multiple of 4 */
	size_t payload;
	uint8_t tcp_flags;
	uint8_t tos; /* IPv4 TOS / IPv6 traffic class (the ECN bits) */
	uint16_t id;
	uint32_t seq;
	uint16_t sport;
};

/* Where build() put things. */
struct layout {
	unsigned int l3, l4, hdr;
};

static uint8_t pay_byte(size_t i)
{
	return (uint8_t)(i * 7 + 3 + (i >> 8));
}

/* The TCP checksum over pseudo header + segment verifies (sums to 0xffff). */
static bool tcp_csum_ok(const uint8_t *f, const struct layout *lo, bool ipv6, size_t len)
{
	size_t tl = len - lo->l4;
	uint32_t sum = pvt_tcp_pseudo_sum(f + lo->l3, ipv6, tl);

	return pvt_csum_fold(pvt_csum_add(sum, f + lo->l4, tl)) == 0xffff;
}

/* What a guest does with NEEDS_CSUM: sum from csum_start to the end, store ~sum. */
static void complete_partial(uint8_t *f, size_t len, const struct pvio_net_hdr *h)
{
	size_t start = le16_to_cpu(h->csum_start), off = start + le16_to_cpu(h->csum_offset);
	uint16_t c = (uint16_t)~pvt_csum_fold(pvt_csum_add(0, f + start, len - start));

	pvt_be16_put(f + off, c);
}

/* A super-frame as a guest's TSO hands it over, and its header. */
static size_t build(uint8_t *f, const struct spec *s, uint16_t mss, struct pvio_net_hdr *h,
		    struct layout *lo)
{
	unsigned int off = 12, i, iphl;
	size_t len;

	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	if (s->vlans == 2) {
		pvt_be16_put(f + off, 0x88a8);
		pvt_be16_put(f + off + 2, 100);
		off += 4;
	}
	if (s->vlans >= 1) {
		pvt_be16_put(f + off, 0x8100);
		pvt_be16_put(f + off + 2, 0x2000 | 42);
		off += 4;
	}
	pvt_be16_put(f + off, s->ipv6 ? 0x86dd : 0x0800);
	lo->l3 = off + 2;
	if (!s->ipv6) {
		uint8_t *ip = f + lo->l3;

		iphl = 20 + s->ip_opt;
		memset(ip, 0, iphl);
		ip[0] = (uint8_t)(0x40 | iphl / 4);
		ip[1] = s->tos;
		pvt_be16_put(ip + 2, 0); /* a guest's TSO leaves what it likes here */
		pvt_be16_put(ip + 4, s->id);
		pvt_be16_put(ip + 6, 0x4000); /* DF */
		ip[8] = 64;
		ip[9] = 6;
		pvt_be16_put(ip + 10, 0xbeef); /* stale: must be recomputed */
		ip[12] = 10, ip[13] = 0, ip[14] = 0, ip[15] = 1;
		ip[16] = 10, ip[17] = 0, ip[18] = 0, ip[19] = 2;
		for (i = 20; i < iphl; i++)
			ip[i] = 1; /* NOP options */
	} else {
		uint8_t *ip = f + lo->l3;

		iphl = 40;
		memset(ip, 0, 40);
		ip[0] = (uint8_t)(0x60 | s->tos >> 4);
		ip[1] = (uint8_t)(s->tos << 4 | 0x1);
		ip[2] = 0x23;
		ip[3] = 0x45; /* flow label */
		ip[6] = 6;
		ip[7] = 64;
		ip[8] = 0xfd;
		ip[23] = 1;
		ip[24] = 0xfd;
		ip[39] = 2;
	}
	lo->l4 = lo->l3 + iphl;
	{
		uint8_t *th = f + lo->l4;
		unsigned int thl = 20 + s->tcp_opt;

		memset(th, 0, thl);
		pvt_be16_put(th, s->sport ? s->sport : 40000);
		pvt_be16_put(th + 2, 5001);
		th[4] = (uint8_t)(s->seq >> 24);
		th[5] = (uint8_t)(s->seq >> 16);
		th[6] = (uint8_t)(s->seq >> 8);
		th[7] = (uint8_t)s->seq;
		th[11] = 0x77; /* ack number */
		th[12] = (uint8_t)(thl / 4 << 4);
		th[13] = s->tcp_flags;
		pvt_be16_put(th + 14, 501);
		pvt_be16_put(th + 16, 0xdead); /* a guest puts the pseudo sum here; ignored */
		for (i = 20; i < thl; i++)
			th[i] = 1;
		lo->hdr = lo->l4 + thl;
	}
	for (i = 0; i < s->payload; i++)
		f[lo->hdr + i] = pay_byte(i);
	len = lo->hdr + s->payload;
	memset(h, 0, sizeof(*h));
	h->flags = PVIO_NET_HDR_F_NEEDS_CSUM;
	h->gso_type = s->ipv6 ? PVIO_NET_HDR_GSO_TCPV6 : PVIO_NET_HDR_GSO_TCPV4;
	h->gso_size = cpu_to_le16(mss);
	h->hdr_len = cpu_to_le16((uint16_t)lo->hdr);
	h->csum_start = cpu_to_le16((uint16_t)lo->l4);
	h->csum_offset = cpu_to_le16(16);
	return len;
}

/*
 * Segment @s with @mss and check every segment's bytes; the harness's
 * _metadata is passed so the EXPECTs count in the calling test.
 */
static void check_segments(struct __test_metadata *_metadata, const struct spec *s, uint16_t mss,
			   bool partial)
{
	struct pvio_net_hdr h, sh;
	struct layout lo;
	struct pviod_net_gso g;
	size_t len = build(super, s, mss, &h, &lo), pay_off = 0;
	unsigned int i, want = s->payload ? (unsigned int)((s->payload + mss - 1) / mss) : 1;
	int n;

	ASSERT_EQ(0, pviod_net_gso_init(&g, &h, super, len));
	ASSERT_EQ(want, g.nsegs);
	EXPECT_EQ(lo.l3, g.l3_off);
	EXPECT_EQ(lo.l4, g.l4_off);
	EXPECT_EQ(lo.hdr, g.hdr_len);
	for (i = 0; i < g.nsegs; i++) {
		size_t plen = s->payload - pay_off < mss ? s->payload - pay_off : mss;
		const uint8_t *ip = seg + lo.l3, *th = seg + lo.l4;
		uint8_t fl = s->tcp_flags;

		memset(seg, 0xaa, sizeof(seg));
		n = pviod_net_gso_seg(&g, i, partial, &sh, seg, sizeof(seg));
		ASSERT_EQ((int)(lo.hdr + plen), n) TH_LOG("segment %u", i);
		/* Ethernet and VLAN tags unchanged. */
		EXPECT_EQ(0, memcmp(seg, super, lo.l3));
		/* The payload is the right slice, and nothing was written past it. */
		EXPECT_EQ(0, memcmp(seg + lo.hdr, super + lo.hdr + pay_off, plen));
		EXPECT_EQ(0xaa, seg[n]);
		if (!s->ipv6) {
			EXPECT_EQ(n - lo.l3, pvt_be16_get(ip + 2));
			EXPECT_EQ((uint16_t)(s->id + i), pvt_be16_get(ip + 4));
			EXPECT_EQ(0xffff, pvt_csum_fold(pvt_csum_add(0, ip, lo.l4 - lo.l3)))
			TH_LOG("segment %u: IPv4 header checksum", i);
			EXPECT_EQ(s->tos, ip[1]);
			EXPECT_EQ(0x4000, pvt_be16_get(ip + 6));
			/* Options copied. */
			EXPECT_EQ(0, memcmp(ip + 20, super + lo.l3 + 20, s->ip_opt));
		} else {
			EXPECT_EQ(n - lo.l3 - 40, pvt_be16_get(ip + 4));
			/* Version, traffic class, flow label, addresses unchanged. */
			EXPECT_EQ(0, memcmp(ip, super + lo.l3, 4));
			EXPECT_EQ(0, memcmp(ip + 6, super + lo.l3 + 6, 34));
		}
		EXPECT_EQ(s->seq + (uint32_t)pay_off, pvt_be32_get(th + 4))
		TH_LOG("segment %u seq", i);
		EXPECT_EQ(0, memcmp(th, super + lo.l4, 4)); /* ports */
		EXPECT_EQ(0, memcmp(th + 8, super + lo.l4 + 8, 5)); /* ack, data offset */
		EXPECT_EQ(0, memcmp(th + 14, super + lo.l4 + 14, 2)); /* window */
		EXPECT_EQ(0, memcmp(th + 18, super + lo.l4 + 18, lo.hdr - lo.l4 - 18));
		if (i + 1 < g.nsegs)
			fl &= (uint8_t)~0x09; /* FIN, PSH on the last only */
		if (i)
			fl &= (uint8_t)~0x80; /* CWR on the first only */
		EXPECT_EQ(fl, th[13]) TH_LOG("segment %u flags", i);
		EXPECT_EQ(PVIO_NET_HDR_GSO_NONE, sh.gso_type);
		EXPECT_EQ(0, sh.gso_size);
		EXPECT_EQ(0, sh.num_buffers);
		if (partial) {
			EXPECT_EQ(PVIO_NET_HDR_F_NEEDS_CSUM, sh.flags);
			EXPECT_EQ(lo.l4, le16_to_cpu(sh.csum_start));
			EXPECT_EQ(16, le16_to_cpu(sh.csum_offset));
			/* Not valid yet (unless by chance), valid once completed. */
			complete_partial(seg, (size_t)n, &sh);
		} else {
			EXPECT_EQ(0, sh.flags);
		}
		EXPECT_TRUE(tcp_csum_ok(seg, &lo, s->ipv6, (size_t)n))
		TH_LOG("segment %u of %u: TCP checksum", i, g.nsegs);
		pay_off += plen;
	}
	EXPECT_EQ(s->payload, pay_off);
	EXPECT_EQ(-EINVAL, pviod_net_gso_seg(&g, g.nsegs, partial, &sh, seg, sizeof(seg)));
}

TEST(tcpv4_odd_last_segment)
{
	/* 1448 + 1448 + 1105: the last one shorter and of odd length. */
	struct spec s = { .payload = 4001, .tcp_flags = 0x10 | 0x08 | 0x01, .id = 7, .seq = 1000 };

	check_segments(_metadata, &s, 1448, false);
}

TEST(tcpv4_partial_checksum)
{
	struct spec s = { .payload = 4001, .tcp_flags = 0x18, .id = 7, .seq = 1000 };

	check_segments(_metadata, &s, 1448, true);
}

TEST(tcpv4_exact_multiple_and_wraps)
{
	/* Sequence number and IP id wrap; the payload is an exact multiple. */
	struct spec s = { .payload = 3000, .tcp_flags = 0x10, .id = 0xfffe, .seq = 0xfffffc00u };

	check_segments(_metadata, &s, 1000, false);
}

TEST(tcpv6_segments)
{
	struct spec s = { .ipv6 = true, .payload = 5000, .tcp_flags = 0x19, .seq = 77 };

	check_segments(_metadata, &s, 1428, false);
	check_segments(_metadata, &s, 1428, true);
}

TEST(vlan_tagged_with_options)
{
	struct spec v4 = {
		.vlans = 1, .ip_opt = 4, .tcp_opt = 12, .payload = 3001, .tcp_flags = 0x18, .id = 1
	};
	struct spec v6 = {
		.ipv6 = true, .vlans = 2, .tcp_opt = 40, .payload = 2999, .tcp_flags = 0x10
	};

	check_segments(_metadata, &v4, 1400, false);
	check_segments(_metadata, &v4, 1400, true);
	check_segments(_metadata, &v6, 1400, false);
	check_segments(_metadata, &v6, 1400, true);
}

TEST(tso_64k_super_frame)
{
	/* A full 64 KiB super-frame: 14 + 20 + 32 + 65469 = 65535 bytes. */
	struct spec s4 = { .tcp_opt = 12,
			   .payload = 65535 - 14 - 20 - 32,
			   .tcp_flags = 0x18,
			   .id = 300,
			   .seq = 123456789 };
	struct spec s6 = {
		.ipv6 = true, .tcp_opt = 12, .payload = 65535 - 14 - 40 - 32, .tcp_flags = 0x18
	};

	check_segments(_metadata, &s4, 1448, false);
	check_segments(_metadata, &s4, 1448, true);
	check_segments(_metadata, &s6, 1428, false);
	/* The largest frame pviod takes: 65535 + VLAN, still one IPv4 segment each. */
	s4.vlans = 1;
	s4.payload += 4;
	check_segments(_metadata, &s4, 9000, false);
}

TEST(ecn_cwr_first_only)
{
	/* CWR | ECE | ACK | PSH, CE in the IP header: ECE and CE stay on every segment. */
	struct spec s = { .payload = 4500, .tcp_flags = 0x80 | 0x40 | 0x10 | 0x08, .tos = 0x03 };
	struct pvio_net_hdr h, sh;
	struct pviod_net_gso g;
	struct layout lo;
	size_t len;

	check_segments(_metadata, &s, 1448, false);
	/* GSO_ECN is accepted and handled alike. */
	len = build(super, &s, 1448, &h, &lo);
	h.gso_type |= PVIO_NET_HDR_GSO_ECN;
	ASSERT_EQ(0, pviod_net_gso_init(&g, &h, super, len));
	ASSERT_LT(0, pviod_net_gso_seg(&g, 0, false, &sh, seg, sizeof(seg)));
	EXPECT_EQ(0x80 | 0x40 | 0x10, seg[lo.l4 + 13]);
	ASSERT_LT(0, pviod_net_gso_seg(&g, 1, false, &sh, seg, sizeof(seg)));
	EXPECT_EQ(0x40 | 0x10, seg[lo.l4 + 13]);
	EXPECT_EQ(0x03, seg[lo.l3 + 1]);
}

TEST(one_segment_and_no_payload)
{
	struct spec s = { .payload = 100, .tcp_flags = 0x19 };

	/* Fits one segment: FIN and PSH stay, checksum still done. */
	check_segments(_metadata, &s, 1448, false);
	s.payload = 0;
	check_segments(_metadata, &s, 1448, false);
	s.payload = 1;
	check_segments(_metadata, &s, 1, false);
	s.payload = 7;
	check_segments(_metadata, &s, 1, true);
}

TEST(headers_copied_once)
{
	/* A sender that rewrites the frame after init gets its payload, never our bounds. */
	struct spec s = { .payload = 3000, .tcp_flags = 0x10 };
	struct pvio_net_hdr h, sh;
	struct pviod_net_gso g;
	struct layout lo;
	size_t len = build(super, &s, 1448, &h, &lo);

	ASSERT_EQ(0, pviod_net_gso_init(&g, &h, super, len));
	super[lo.l3] = 0x4f; /* IHL 60 */
	super[lo.l4 + 12] = 0xf0; /* data offset 60 */
	ASSERT_EQ((int)(lo.hdr + 1448), pviod_net_gso_seg(&g, 0, false, &sh, seg, sizeof(seg)));
	EXPECT_EQ(0x45, seg[lo.l3]);
	EXPECT_EQ(0x50, seg[lo.l4 + 12]);
	EXPECT_TRUE(tcp_csum_ok(seg, &lo, false, lo.hdr + 1448));
}

TEST(bad_inputs_refused)
{
	struct spec s4 = { .payload = 3000, .tcp_flags = 0x10 };
	struct spec s6 = { .ipv6 = true, .payload = 3000, .tcp_flags = 0x10 };
	struct pvio_net_hdr h, sh;
	struct pviod_net_gso g;
	struct layout lo;
	size_t len;

	len = build(super, &s4, 1448, &h, &lo);
	ASSERT_EQ(0, pviod_net_gso_init(&g, &h, super, len));
	/* The caller's buffer too small for a segment. */
	EXPECT_EQ(-EMSGSIZE, pviod_net_gso_seg(&g, 0, false, &sh, seg, lo.hdr + 1447));

	/* gso_size 0. */
	h.gso_size = 0;
	EXPECT_EQ(-EINVAL, pviod_net_gso_init(&g, &h, super, len));
	h.gso_size = cpu_to_le16(1448);
	/* Not a TCP GSO type. */
	h.gso_type = PVIO_NET_HDR_GSO_NONE;
	EXPECT_EQ(-EOPNOTSUPP, pviod_net_gso_init(&g, &h, super, len));
	h.gso_type = PVIO_NET_HDR_GSO_UDP;
	EXPECT_EQ(-EOPNOTSUPP, pviod_net_gso_init(&g, &h, super, len));
	h.gso_type = PVIO_NET_HDR_GSO_UDP_L4;
	EXPECT_EQ(-EOPNOTSUPP, pviod_net_gso_init(&g, &h, super, len));
	h.gso_type = 2;
	EXPECT_EQ(-EOPNOTSUPP, pviod_net_gso_init(&g, &h, super, len));
	/* TCPV6 on an IPv4 frame and the reverse. */
	h.gso_type = PVIO_NET_HDR_GSO_TCPV6;
	EXPECT_EQ(-EPROTONOSUPPORT, pviod_net_gso_init(&g, &h, super, len));
	h.gso_type = PVIO_NET_HDR_GSO_TCPV4;

	/* Headers running past the frame, at every layer. */
	EXPECT_EQ(-EMSGSIZE, pviod_net_gso_init(&g, &h, super, 13));
	EXPECT_EQ(-EMSGSIZE, pviod_net_gso_init(&g, &h, super, lo.l3 + 19));
	EXPECT_EQ(-EMSGSIZE, pviod_net_gso_init(&g, &h, super, lo.l4 + 19));
	EXPECT_EQ(-EMSGSIZE, pviod_net_gso_init(&g, &h, super, PVIOD_NET_FRAME_MAX + 1));
	super[lo.l4 + 12] = 0xf0; /* 60-byte TCP header in a 54-byte frame */
	EXPECT_EQ(-EMSGSIZE, pviod_net_gso_init(&g, &h, super, lo.l4 + 20));
	super[lo.l4 + 12] = 0x40; /* data offset 4: malformed */
	EXPECT_EQ(-EINVAL, pviod_net_gso_init(&g, &h, super, len));
	super[lo.l4 + 12] = 0x50;
	super[lo.l3] = 0x4f; /* IHL 60 past a 40-byte frame */
	EXPECT_EQ(-EMSGSIZE, pviod_net_gso_init(&g, &h, super, lo.l3 + 40));
	super[lo.l3] = 0x44; /* IHL 16 */
	EXPECT_EQ(-EINVAL, pviod_net_gso_init(&g, &h, super, len));
	super[lo.l3] = 0x65; /* version 6 in an IPv4 frame */
	EXPECT_EQ(-EINVAL, pviod_net_gso_init(&g, &h, super, len));
	super[lo.l3] = 0x45;

	/* Not TCP. */
	super[lo.l3 + 9] = 17;
	EXPECT_EQ(-EPROTONOSUPPORT, pviod_net_gso_init(&g, &h, super, len));
	super[lo.l3 + 9] = 6;
	/* A fragment. */
	super[lo.l3 + 6] = 0x20; /* MF */
	EXPECT_EQ(-EINVAL, pviod_net_gso_init(&g, &h, super, len));
	super[lo.l3 + 6] = 0x40;
	/* Not IP at all (ARP), and three VLAN tags. */
	pvt_be16_put(super + 12, 0x0806);
	EXPECT_EQ(-EPROTONOSUPPORT, pviod_net_gso_init(&g, &h, super, len));
	pvt_be16_put(super + 12, 0x0800);
	/* csum_start / csum_offset elsewhere than the TCP checksum. */
	h.csum_start = cpu_to_le16(lo.l4 + 2);
	EXPECT_EQ(-EINVAL, pviod_net_gso_init(&g, &h, super, len));
	h.csum_start = cpu_to_le16(lo.l4);
	h.csum_offset = cpu_to_le16(6);
	EXPECT_EQ(-EINVAL, pviod_net_gso_init(&g, &h, super, len));
	h.csum_offset = cpu_to_le16(16);
	EXPECT_EQ(0, pviod_net_gso_init(&g, &h, super, len));

	/* IPv6: extension header, short frame, bad version. */
	len = build(super, &s6, 1428, &h, &lo);
	ASSERT_EQ(0, pviod_net_gso_init(&g, &h, super, len));
	super[lo.l3 + 6] = 0; /* hop-by-hop options */
	EXPECT_EQ(-EPROTONOSUPPORT, pviod_net_gso_init(&g, &h, super, len));
	super[lo.l3 + 6] = 6;
	EXPECT_EQ(-EMSGSIZE, pviod_net_gso_init(&g, &h, super, lo.l3 + 39));
	super[lo.l3] = 0x40;
	EXPECT_EQ(-EINVAL, pviod_net_gso_init(&g, &h, super, len));
}

TEST(three_vlan_tags_not_ip)
{
	struct spec s = { .vlans = 2, .payload = 3000, .tcp_flags = 0x10 };
	struct pvio_net_hdr h;
	struct pviod_net_gso g;
	struct layout lo;
	size_t len = build(super, &s, 1448, &h, &lo);

	ASSERT_EQ(0, pviod_net_gso_init(&g, &h, super, len));
	/* Turn the inner ethertype into a third tag. */
	pvt_be16_put(super + 20, 0x8100);
	EXPECT_EQ(-EPROTONOSUPPORT, pviod_net_gso_init(&g, &h, super, len));
}

/* A UDP or TCP IPv4 packet's first bytes for the flow hash. */
static size_t flow4(uint8_t *f, uint8_t proto, uint16_t sport, uint16_t frag, uint8_t filler)
{
	memset(f, filler, 80);
	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	pvt_be16_put(f + 12, 0x0800);
	f[14] = 0x45;
	pvt_be16_put(f + 20, frag);
	f[23] = proto;
	f[26] = 10, f[27] = 0, f[28] = 0, f[29] = 1;
	f[30] = 10, f[31] = 0, f[32] = 0, f[33] = 2;
	pvt_be16_put(f + 34, sport);
	pvt_be16_put(f + 36, 5001);
	return 80;
}

TEST(flow_hash)
{
	uint8_t a[PVIOD_NET_FLOW_BYTES], b[PVIOD_NET_FLOW_BYTES];
	unsigned int i, odd = 0;
	size_t n;

	/* Same 5-tuple, different TTL / id / payload: same hash. */
	n = flow4(a, 6, 1234, 0, 0x11);
	flow4(b, 6, 1234, 0, 0x22);
	EXPECT_EQ(pviod_net_flow_hash(a, n), pviod_net_flow_hash(b, n));
	/* The whole header is in the first bytes: more bytes change nothing. */
	EXPECT_EQ(pviod_net_flow_hash(a, 38), pviod_net_flow_hash(a, n));
	/* Another source port: another hash; and ports spread over two queues. */
	flow4(b, 6, 1235, 0, 0x11);
	EXPECT_NE(pviod_net_flow_hash(a, n), pviod_net_flow_hash(b, n));
	for (i = 0; i < 256; i++) {
		flow4(b, 17, (uint16_t)(30000 + i), 0, 0);
		odd += pviod_net_flow_hash(b, n) & 1;
	}
	EXPECT_LT(96, odd);
	EXPECT_GT(160, odd);
	/* TCP and UDP with the same numbers differ. */
	flow4(b, 17, 1234, 0, 0x11);
	EXPECT_NE(pviod_net_flow_hash(a, n), pviod_net_flow_hash(b, n));
	/* Fragments: ports ignored, so every fragment of a datagram hashes alike. */
	flow4(a, 17, 1, 0x2000, 0);
	flow4(b, 17, 2, 0x0010, 0);
	EXPECT_EQ(pviod_net_flow_hash(a, n), pviod_net_flow_hash(b, n));
	/* A VLAN tag does not change an IP flow's hash. */
	n = flow4(a, 6, 1234, 0, 0);
	memmove(b + 16, a + 12, n - 12);
	memcpy(b, a, 12);
	pvt_be16_put(b + 12, 0x8100);
	pvt_be16_put(b + 14, 5);
	EXPECT_EQ(pviod_net_flow_hash(a, n), pviod_net_flow_hash(b, n + 4));
	/* Not IP: the MAC addresses and the ethertype. */
	flow4(a, 6, 1, 0, 0x33);
	flow4(b, 6, 2, 0, 0x44);
	pvt_be16_put(a + 12, 0x0806);
	pvt_be16_put(b + 12, 0x0806);
	EXPECT_EQ(pviod_net_flow_hash(a, n), pviod_net_flow_hash(b, n));
	b[11] ^= 1;
	EXPECT_NE(pviod_net_flow_hash(a, n), pviod_net_flow_hash(b, n));
	/* Short frames do not read past what they have (ASan watches). */
	EXPECT_EQ(pviod_net_flow_hash(a, 5), pviod_net_flow_hash(a, 5));
	pviod_net_flow_hash(a, 0);
	n = flow4(a, 6, 1, 0, 0);
	for (i = 0; i <= 40; i++)
		pviod_net_flow_hash(a, i);
}

TEST(flow_hash_ipv6)
{
	struct spec s = { .ipv6 = true, .payload = 10, .tcp_flags = 0x10, .sport = 1000 };
	struct pvio_net_hdr h;
	struct layout lo;
	uint32_t h1, h2;
	size_t n;

	n = build(super, &s, 1000, &h, &lo);
	h1 = pviod_net_flow_hash(super, n < PVIOD_NET_FLOW_BYTES ? n : PVIOD_NET_FLOW_BYTES);
	s.seq = 999;
	s.payload = 500;
	n = build(super, &s, 1000, &h, &lo);
	EXPECT_EQ(h1, pviod_net_flow_hash(super, PVIOD_NET_FLOW_BYTES));
	s.sport = 1001;
	n = build(super, &s, 1000, &h, &lo);
	h2 = pviod_net_flow_hash(super, PVIOD_NET_FLOW_BYTES);
	EXPECT_NE(h1, h2);
	/* Another destination address. */
	s.sport = 1000;
	build(super, &s, 1000, &h, &lo);
	super[lo.l3 + 39] = 3;
	EXPECT_NE(h1, pviod_net_flow_hash(super, PVIOD_NET_FLOW_BYTES));
}

TEST_HARNESS_MAIN
