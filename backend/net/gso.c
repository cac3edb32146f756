// SPDX-License-Identifier: GPL-2.0
/*
 * gso.c - frame parsing for the net device: software segmentation of
 * TCP super-frames (GSO) for a receiver that did not negotiate GUEST_TSO4/6,
 * and the flow hash the switch uses to pick a receiving queue pair.
 *
 * Segmentation does what Linux's software GSO does for TCP
 * (tcp_gso_segment(), inet_gso_segment(), ipv6_gso_segment()): every
 * segment carries a copy of the Ethernet / VLAN / IP / TCP headers and at
 * most gso_size bytes of payload; IPv4 gets its total length, an id that
 * increments per segment and a new header checksum, IPv6 its payload
 * length; the TCP sequence number advances by the payload before it; FIN
 * and PSH stay on the last segment only, CWR on the first only (so an
 * ECN-marked super-frame, GSO_ECN, comes out as Linux sends it: ECE and the
 * IP ECN bits on all, CWR once).  The TCP checksum is either complete, or
 * left partial (the pseudo-header sum in the field, NEEDS_CSUM with
 * csum_start / csum_offset) for a receiver with GUEST_CSUM.
 *
 * Pure functions, no pviod state: tests/backend/net_gso_test.c checks the
 * bytes.  The frame may be in memory the sender still controls (the loop
 * back-end hands over the guest's transmit buffers), so the headers are
 * copied once by pviod_net_gso_init() and every length and offset used
 * afterwards comes from that copy and its checks: a sender that changes the
 * frame meanwhile gets garbage segments, never an access outside them.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "net/net.h"

/* clang-format off */
#define PVIOD_ETH_P_IP		0x0800
#define PVIOD_ETH_P_IPV6	0x86dd
#define PVIOD_ETH_P_8021Q	0x8100
#define PVIOD_ETH_P_8021AD	0x88a8
#define PVIOD_NET_VLAN_TAGS	2	/* tags parsed (802.1ad + 802.1Q); a third is "not IP" */
#define PVIOD_IPPROTO_TCP	6
#define PVIOD_IPPROTO_UDP	17
#define PVIOD_IPPROTO_SCTP	132
#define PVIOD_IPPROTO_UDPLITE	136
#define PVIOD_TCP_FIN		0x01
#define PVIOD_TCP_PSH		0x08
#define PVIOD_TCP_CWR		0x80
/* clang-format on */

static uint16_t pviod_get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t pviod_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void pviod_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void pviod_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * The one's complement sum of @len bytes as big-endian 16-bit words (an odd
 * last byte padded with zero), folded to 16 bits.  Summed as native 32-bit
 * words and byte-swapped once at the end: the sum is byte-order independent
 * (RFC 1071, 2.(B)).
 */
static uint32_t pviod_net_gso_sum(const uint8_t *p, size_t len)
{
	uint64_t acc = 0;
	uint32_t w;
	uint16_t s;
	size_t i = 0;

	for (; i + 4 <= len; i += 4) {
		memcpy(&w, p + i, 4);
		acc += w;
	}
	if (i + 2 <= len) {
		memcpy(&s, p + i, 2);
		acc += s;
		i += 2;
	}
	if (i < len) {
		uint8_t tail[2] = { p[i], 0 };

		memcpy(&s, tail, 2);
		acc += s;
	}
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return be16toh((uint16_t)acc);
}

static uint16_t pviod_net_gso_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The ethertype after up to two VLAN tags, and where the L3 header starts. */
static int pviod_net_eth_parse(const uint8_t *f, size_t len, unsigned int *l3, uint16_t *type)
{
	unsigned int off = 12, tags = 0;

	for (;;) {
		if (off + 2 > len)
			return -EMSGSIZE;
		*type = pviod_get_be16(f + off);
		off += 2;
		if (*type != PVIOD_ETH_P_8021Q && *type != PVIOD_ETH_P_8021AD)
			break;
		if (tags++ == PVIOD_NET_VLAN_TAGS)
			break; /* a third tag: not a frame we parse */
		off += 2; /* the tag control information */
	}
	*l3 = off;
	return 0;
}

/**
 * pviod_net_gso_init - check a TCP super-frame and prepare its segmentation
 * @g: filled in
 * @h: the frame's virtio-net header (gso_type, gso_size, flags, csum_*)
 * @frame: the frame, contiguous, Ethernet header first; must stay mapped
 *         (and is read again) until the last pviod_net_gso_seg()
 * @len: its length
 *
 * The frame itself says where the headers are (Ethernet, up to two VLAN
 * tags, IPv4 without fragmentation or IPv6 with TCP as next header, TCP);
 * @h's csum_start / csum_offset, when NEEDS_CSUM is set, must agree with it.
 * hdr_len is a hint (virtio 1.2 §5.1.6.2) and is ignored.  A frame whose
 * payload fits one segment gives one segment (its checksum still done).
 *
 * Return: 0; -EOPNOTSUPP when gso_type is not TCPV4 or TCPV6 (with or
 * without GSO_ECN); -EINVAL for gso_size 0, a malformed IP or TCP header
 * (version, IHL or data offset below 5, an IPv4 fragment), or csum_start /
 * csum_offset not naming the TCP checksum; -EMSGSIZE when the headers run
 * past @len, @len exceeds PVIOD_NET_FRAME_MAX, or a segment would not fit
 * IPv4's total length; -EPROTONOSUPPORT when the frame is not TCP over the
 * IP version the GSO type names (another ethertype, another protocol, IPv6
 * extension headers).
 */
int pviod_net_gso_init(struct pviod_net_gso *g, const struct pvio_net_hdr *h, const uint8_t *frame,
		       size_t len)
{
	unsigned int gso = h->gso_type & ~PVIO_NET_HDR_GSO_ECN, l3, l4, doff;
	size_t first;
	uint16_t type;
	int ret;

	memset(g, 0, sizeof(*g));
	if (gso != PVIO_NET_HDR_GSO_TCPV4 && gso != PVIO_NET_HDR_GSO_TCPV6)
		return -EOPNOTSUPP;
	g->mss = le16_to_cpu(h->gso_size);
	if (!g->mss)
		return -EINVAL;
	if (len > PVIOD_NET_FRAME_MAX)
		return -EMSGSIZE;
	ret = pviod_net_eth_parse(frame, len, &l3, &type);
	if (ret)
		return ret;
	g->ipv6 = gso == PVIO_NET_HDR_GSO_TCPV6;
	if (type != (g->ipv6 ? PVIOD_ETH_P_IPV6 : PVIOD_ETH_P_IP))
		return -EPROTONOSUPPORT;
	if (!g->ipv6) {
		const uint8_t *ip = frame + l3;
		unsigned int ihl;

		if ((size_t)l3 + 20 > len)
			return -EMSGSIZE;
		ihl = (ip[0] & 0xf) * 4u;
		if (ip[0] >> 4 != 4 || ihl < 20)
			return -EINVAL;
		if ((size_t)l3 + ihl > len)
			return -EMSGSIZE;
		if (ip[9] != PVIOD_IPPROTO_TCP)
			return -EPROTONOSUPPORT;
		if (pviod_get_be16(ip + 6) & 0x3fff)
			return -EINVAL; /* MF or an offset: a fragment is not a TCP stream */
		l4 = l3 + ihl;
		g->ip_id = pviod_get_be16(ip + 4);
		g->pseudo = pviod_net_gso_sum(ip + 12, 8) + PVIOD_IPPROTO_TCP;
	} else {
		const uint8_t *ip = frame + l3;

		if ((size_t)l3 + 40 > len)
			return -EMSGSIZE;
		if (ip[0] >> 4 != 6)
			return -EINVAL;
		if (ip[6] != PVIOD_IPPROTO_TCP)
			return -EPROTONOSUPPORT;
		l4 = l3 + 40;
		g->pseudo = pviod_net_gso_sum(ip + 8, 32) + PVIOD_IPPROTO_TCP;
	}
	if ((size_t)l4 + 20 > len)
		return -EMSGSIZE;
	doff = (frame[l4 + 12] >> 4) * 4u;
	if (doff < 20)
		return -EINVAL;
	if ((size_t)l4 + doff > len)
		return -EMSGSIZE;
	if ((h->flags & PVIO_NET_HDR_F_NEEDS_CSUM) &&
	    (le16_to_cpu(h->csum_start) != l4 || le16_to_cpu(h->csum_offset) != 16))
		return -EINVAL;
	g->l3_off = l3;
	g->l4_off = l4;
	g->hdr_len = l4 + doff;
	g->payload = len - g->hdr_len;
	g->nsegs = g->payload ? (unsigned int)((g->payload + g->mss - 1) / g->mss) : 1;
	first = g->hdr_len + (g->payload < g->mss ? g->payload : g->mss);
	if (!g->ipv6 && first - l3 > 0xffff)
		return -EMSGSIZE;
	g->seq = pviod_get_be32(frame + l4 + 4);
	g->frame = frame;
	memcpy(g->hdr, frame, g->hdr_len);
	return 0;
}

/**
 * pviod_net_gso_seg - build one segment of a super-frame
 * @g: prepared by pviod_net_gso_init()
 * @i: the segment, 0 .. @g->nsegs - 1
 * @partial: leave the TCP checksum partial (the receiver has GUEST_CSUM)
 * @h: the segment's virtio-net header (num_buffers zero)
 * @out: the segment's frame
 * @cap: bytes at @out; min(@g->hdr_len + @g->mss, the super-frame's length)
 *       is always enough
 *
 * Return: the segment's length; -EINVAL for @i out of range; -EMSGSIZE
 * when @cap is too small.
 */
int pviod_net_gso_seg(const struct pviod_net_gso *g, unsigned int i, bool partial,
		      struct pvio_net_hdr *h, uint8_t *out, size_t cap)
{
	size_t off = (size_t)i * g->mss, plen, seglen;
	uint8_t *ip = out + g->l3_off, *th = out + g->l4_off;
	unsigned int tcp_len;
	uint32_t sum;

	if (i >= g->nsegs)
		return -EINVAL;
	plen = g->payload - off < g->mss ? g->payload - off : g->mss;
	seglen = g->hdr_len + plen;
	if (seglen > cap)
		return -EMSGSIZE;
	memcpy(out, g->hdr, g->hdr_len);
	memcpy(out + g->hdr_len, g->frame + g->hdr_len + off, plen);

	if (!g->ipv6) {
		pviod_put_be16(ip + 2, (uint16_t)(seglen - g->l3_off));
		pviod_put_be16(ip + 4, (uint16_t)(g->ip_id + i));
		pviod_put_be16(ip + 10, 0);
		sum = pviod_net_gso_sum(ip, (size_t)(g->l4_off - g->l3_off));
		pviod_put_be16(ip + 10, (uint16_t)~pviod_net_gso_fold(sum));
	} else {
		pviod_put_be16(ip + 4, (uint16_t)(seglen - g->l3_off - 40));
	}

	pviod_put_be32(th + 4, g->seq + (uint32_t)off);
	if (i + 1 < g->nsegs)
		th[13] = (uint8_t)(th[13] & ~(PVIOD_TCP_FIN | PVIOD_TCP_PSH));
	if (i)
		th[13] = (uint8_t)(th[13] & ~PVIOD_TCP_CWR);
	tcp_len = (unsigned int)(seglen - g->l4_off);
	/* The pseudo header: addresses and protocol (g->pseudo), and the TCP length. */
	sum = g->pseudo + tcp_len;
	memset(h, 0, sizeof(*h));
	if (partial) {
		/* As Linux's CHECKSUM_PARTIAL: the folded pseudo-header sum, not inverted. */
		pviod_put_be16(th + 16, pviod_net_gso_fold(sum));
		h->flags = PVIO_NET_HDR_F_NEEDS_CSUM;
		h->csum_start = cpu_to_le16((uint16_t)g->l4_off);
		h->csum_offset = cpu_to_le16(16);
	} else {
		pviod_put_be16(th + 16, 0);
		sum += pviod_net_gso_sum(th, tcp_len);
		pviod_put_be16(th + 16, (uint16_t)~pviod_net_gso_fold(sum));
	}
	return (int)seglen;
}

/* MurmurHash3's 32-bit round and finaliser: cheap, and every input bit moves every output bit. */
static uint32_t pviod_net_hash_word(uint32_t h, uint32_t k)
{
	k *= 0xcc9e2d51u;
	k = k << 15 | k >> 17;
	k *= 0x1b873593u;
	h ^= k;
	h = h << 13 | h >> 19;
	return h * 5 + 0xe6546b64u;
}

static uint32_t pviod_net_hash_bytes(uint32_t h, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 4 <= len; i += 4)
		h = pviod_net_hash_word(h, pviod_get_be32(p + i));
	if (i < len) {
		uint8_t t[4] = { 0 };

		memcpy(t, p + i, len - i);
		h = pviod_net_hash_word(h, pviod_get_be32(t));
	}
	return h;
}

static uint32_t pviod_net_hash_final(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

static bool pviod_net_proto_has_ports(uint8_t proto)
{
	return proto == PVIOD_IPPROTO_TCP || proto == PVIOD_IPPROTO_UDP ||
	       proto == PVIOD_IPPROTO_SCTP || proto == PVIOD_IPPROTO_UDPLITE;
}

/**
 * pviod_net_flow_hash - the flow a frame belongs to, as a 32-bit hash
 * @frame: the frame's first bytes (Ethernet header first)
 * @len: how many there are (PVIOD_NET_FLOW_BYTES is always enough)
 *
 * Like a multi-queue NIC's (or the tap's) receive hash: IPv4 or IPv6 source
 * and destination addresses and protocol, plus the TCP / UDP / SCTP ports
 * when the transport header follows the IP header directly (IPv6 extension
 * headers are not walked) and the packet is not an IPv4 fragment (so every
 * fragment of a datagram hashes alike); otherwise, and for anything not IP
 * (after up to two VLAN tags), the MAC addresses and the ethertype.  Frames
 * of one flow always hash alike, so they stay in order on one queue.
 *
 * Return: the hash.
 */
uint32_t pviod_net_flow_hash(const uint8_t *frame, size_t len)
{
	uint32_t h = 0x70766e65u; /* any seed; fixed so runs are repeatable */
	unsigned int l3;
	uint16_t type;
	const uint8_t *ip;

	if (pviod_net_eth_parse(frame, len, &l3, &type))
		return pviod_net_hash_final(pviod_net_hash_bytes(h, frame, len < 12 ? len : 12));
	ip = frame + l3;
	if (type == PVIOD_ETH_P_IP && (size_t)l3 + 20 <= len && ip[0] >> 4 == 4 &&
	    (ip[0] & 0xf) >= 5) {
		size_t l4 = l3 + (ip[0] & 0xf) * 4u;

		h = pviod_net_hash_bytes(h, ip + 12, 8);
		h = pviod_net_hash_word(h, ip[9]);
		if (pviod_net_proto_has_ports(ip[9]) && !(pviod_get_be16(ip + 6) & 0x3fff) &&
		    l4 + 4 <= len)
			h = pviod_net_hash_bytes(h, frame + l4, 4);
		return pviod_net_hash_final(h);
	}
	if (type == PVIOD_ETH_P_IPV6 && (size_t)l3 + 40 <= len && ip[0] >> 4 == 6) {
		h = pviod_net_hash_bytes(h, ip + 8, 32);
		h = pviod_net_hash_word(h, ip[6]);
		if (pviod_net_proto_has_ports(ip[6]) && (size_t)l3 + 44 <= len)
			h = pviod_net_hash_bytes(h, ip + 40, 4);
		return pviod_net_hash_final(h);
	}
	h = pviod_net_hash_bytes(h, frame, 12);
	h = pviod_net_hash_word(h, type);
	return pviod_net_hash_final(h);
}
