// SPDX-License-Identifier: GPL-2.0
/*
 * badnet_tx.c - badnet's transmit cases: chains of every shape reflected
 * intact (REFLECT), bad chains and bad headers between good frames (EMPTY),
 * and bad avail entries or indices that break the transmit queue (BROKEN).
 */
#include <string.h>

#include "badnet.h"

/* --- REFLECT ------------------------------------------------------------------------------ */

static const unsigned int lens3[] = { 60, 777, 1514 };

/* Three frames, each over @arg descriptors, in one kick. */
const char *c_segments(struct nt *n, int arg)
{
	const char *err = nt_setup_default(n);
	unsigned int i;

	if (err)
		return err;
	for (i = 0; i < 3; i++)
		tx_good(n, i, lens3[i], NULL, (unsigned int)arg, false);
	err = tx_reflect(n, 3);
	return err ? err : expect_healthy(n);
}

/* Short and long chains mixed in one kick: each long one ends a burst. */
const char *c_mixed_burst(struct nt *n, int arg)
{
	static const unsigned int segs[] = { 1, 64, 2, 3,  17, 4, 5, 8, 1, 2, 3,
					     4, 5,  8, 17, 64, 1, 1, 1, 1, 1 };
	unsigned int i, nseg = sizeof(segs) / sizeof(segs[0]);
	const char *err = nt_setup_default(n);

	if (err)
		return err;
	for (i = 0; i < nseg; i++)
		tx_good(n, i, 100 + i * 67, NULL, segs[i], false);
	err = tx_reflect(n, nseg);
	return err ? err : expect_healthy(n);
}

/* The 12-byte header cut anywhere: 5+7, one byte per descriptor, 11+1, with frame bytes. */
const char *c_header_split(struct nt *n, int arg)
{
	static const uint32_t s0[] = { 5, 7, 500 }, s1[] = { 6, 6, 500 }, s2[] = { 11, 501 },
			      s3[] = { 13, 499 }, s4[] = { 2, 3, 4, 3, 500 },
			      s5[] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 500 };
	static const struct {
		const uint32_t *s;
		unsigned int n;
	} cut[] = { { s0, 3 }, { s1, 3 }, { s2, 2 }, { s3, 2 }, { s4, 5 }, { s5, 13 } };
	unsigned int i;
	const char *err = nt_setup_default(n);

	if (err)
		return err;
	for (i = 0; i < 6; i++)
		tx_good(n, i, 500, cut[i].s, cut[i].n, false);
	/* And through indirect tables. */
	for (i = 0; i < 6; i++)
		tx_good(n, 6 + i, 500, cut[i].s, cut[i].n, true);
	err = tx_reflect(n, 12);
	return err ? err : expect_healthy(n);
}

/* Indirect tables of 1..64 entries between direct chains, one kick. */
const char *c_indirect(struct nt *n, int arg)
{
	static const unsigned int segs[] = { 1, 2, 5, 17, 64, 3, 4, 8 };
	unsigned int i, k = 0;
	const char *err = nt_setup_default(n);

	if (err)
		return err;
	for (i = 0; i < 8; i++) {
		tx_good(n, k++, 200 + i * 150, NULL, segs[i], true);
		tx_good(n, k++, 64 + i, NULL, 2, false);
	}
	err = tx_reflect(n, k);
	return err ? err : expect_healthy(n);
}

const char *c_burst_200(struct nt *n, int arg)
{
	unsigned int i;
	const char *err = nt_setup_default(n);

	if (err)
		return err;
	for (i = 0; i < 200; i++)
		tx_good(n, i, 60 + (i * 37) % 1455, NULL, 1 + (i % 7 == 3), false);
	err = tx_reflect(n, 200);
	return err ? err : expect_healthy(n);
}

/* The largest frame pviod takes, in 2 and in 17 descriptors. */
const char *c_max_frame(struct nt *n, int arg)
{
	const char *err = n->v->mrg ? nt_setup_default(n) : nt_setup(n, 4, RX_BIG);

	if (err)
		return err;
	tx_good(n, 0, FRAME_MAX, (const uint32_t[]){ HDR, FRAME_MAX }, 2, false);
	tx_good(n, 1, FRAME_MAX, NULL, 17, false);
	err = tx_reflect(n, 2);
	return err ? err : expect_healthy(n);
}

/* The smallest frame pviod takes: an Ethernet header alone. */
const char *c_min_frame(struct nt *n, int arg)
{
	const char *err = nt_setup_default(n);

	if (err)
		return err;
	tx_good(n, 0, 14, NULL, 1, false);
	tx_good(n, 1, 14, (const uint32_t[]){ HDR, 14 }, 2, false);
	tx_good(n, 2, 14, (const uint32_t[]){ 20, 6 }, 2, true);
	err = tx_reflect(n, 3);
	return err ? err : expect_healthy(n);
}

/* Zero-length descriptors inside a chain carry nothing, and harm nothing. */
const char *c_zero_len_inside(struct nt *n, int arg)
{
	static const uint32_t s[] = { 0, HDR, 0, 700, 0, 814, 0 };
	const char *err = nt_setup_default(n);

	if (err)
		return err;
	tx_good(n, 0, 1514, s, 7, false);
	tx_good(n, 1, 1514, s, 7, true);
	err = tx_reflect(n, 2);
	return err ? err : expect_healthy(n);
}

/* --- EMPTY: bad transmit chains between good ones ------------------------------------- */

/*
 * Good frame, the bad chain @build makes, good frame, in one kick: all three
 * back in order with len 0, the good frames received, the bad one counted.
 */
static const char *bad_tx(struct nt *n, void (*build)(struct nt *n), bool bad_hdr)
{
	const char *err = nt_setup_default(n);

	if (err)
		return err;
	tx_good(n, 0, 1000, NULL, 2, false);
	build(n);
	if (bad_hdr)
		n->want.tx_bad_hdr++;
	else
		n->want.tx_bad_chain++;
	tx_good(n, 1, 1000, NULL, 2, false);
	err = tx_reflect(n, 3);
	return err ? err : expect_healthy(n);
}

/* A two-descriptor chain: header and a 500-byte frame at @frame_gpa. */
static uint16_t tx_raw2(struct nt *n, uint64_t frame_gpa, uint32_t frame_len, uint16_t f1)
{
	uint64_t h = area_alloc(&n->tx_next, TX_END, HDR);
	uint16_t d = desc_alloc(&n->tx_desc, 2);

	memset(n->r.mem + h, 0, HDR);
	raw_desc_set(&n->tx->desc[d], h, HDR, PVRING_DESC_F_NEXT, (uint16_t)(d + 1));
	raw_desc_set(&n->tx->desc[d + 1], frame_gpa, frame_len, f1, 0);
	tx_push(n, d);
	return d;
}

static void b_outside(struct nt *n)
{
	tx_raw2(n, MEM_SIZE + 0x1000, 500, 0);
}

static void b_end_of_memory(struct nt *n)
{
	tx_raw2(n, MEM_SIZE - 100, 500, 0);
}

static void b_addr_wraps(struct nt *n)
{
	tx_raw2(n, ~0ull - 200, 500, 0);
}

static void b_loop(struct nt *n)
{
	uint16_t d = tx_raw2(n, TX_GPA, 500, PVRING_DESC_F_NEXT);

	n->tx->desc[d + 1].next = cpu_to_le16(d);
}

static void b_next_out_of_range(struct nt *n)
{
	uint16_t d = tx_raw2(n, TX_GPA, 500, PVRING_DESC_F_NEXT);

	n->tx->desc[d + 1].next = cpu_to_le16(NUM + 5);
}

static void b_readable_after_writable(struct nt *n)
{
	uint16_t d = tx_raw2(n, TX_GPA, 500, 0);

	n->tx->desc[d].flags = cpu_to_le16(PVRING_DESC_F_NEXT | PVRING_DESC_F_WRITE);
}

/* An indirect head over @nd entries at a fresh table; returns the table. */
static struct pvring_desc *tx_ind(struct nt *n, unsigned int nd, uint32_t len, uint16_t flags)
{
	uint64_t a = area_alloc(&n->ind_next, IND_END, nd * sizeof(struct pvring_desc));
	uint64_t data = area_alloc(&n->tx_next, TX_END, HDR + 500);
	struct pvring_desc *t = (void *)(n->r.mem + a);
	uint16_t d = desc_alloc(&n->tx_desc, 1);
	unsigned int i;

	stream_fill(n, 99, 500, NULL);
	memcpy(n->r.mem + data, n->buf, HDR + 500);
	for (i = 0; i < nd; i++)
		raw_desc_set(&t[i], data + i, 1, i + 1 < nd ? PVRING_DESC_F_NEXT : 0,
			     (uint16_t)(i + 1));
	raw_desc_set(&n->tx->desc[d], a, len, flags, 0);
	tx_push(n, d);
	return t;
}

static void b_ind_in_ind(struct nt *n)
{
	struct pvring_desc *t = tx_ind(n, 2, 32, PVRING_DESC_F_INDIRECT);

	raw_desc_set(&t[1], IND_GPA, 32, PVRING_DESC_F_INDIRECT, 0);
}

static void b_ind_len_not_16(struct nt *n)
{
	tx_ind(n, 3, 40, PVRING_DESC_F_INDIRECT);
}

static void b_ind_with_next(struct nt *n)
{
	tx_ind(n, 16, 256, PVRING_DESC_F_INDIRECT | PVRING_DESC_F_NEXT);
}

static void b_ind_outside(struct nt *n)
{
	uint16_t d = desc_alloc(&n->tx_desc, 1);

	raw_desc_set(&n->tx->desc[d], MEM_SIZE - 64, 256, PVRING_DESC_F_INDIRECT, 0);
	tx_push(n, d);
}

static void b_ind_loop(struct nt *n)
{
	struct pvring_desc *t = tx_ind(n, 16, 256, PVRING_DESC_F_INDIRECT);

	t[15].flags = cpu_to_le16(PVRING_DESC_F_NEXT);
	t[15].next = cpu_to_le16(3);
}

/* 129 one-byte descriptors: more segments than pviod takes (128). */
static void b_too_many_segs(struct nt *n)
{
	tx_ind(n, 129, 129 * 16, PVRING_DESC_F_INDIRECT);
}

static void b_len_zero(struct nt *n)
{
	uint16_t d = desc_alloc(&n->tx_desc, 1);

	raw_desc_set(&n->tx->desc[d], TX_GPA, 0, 0, 0);
	tx_push(n, d);
}

static void b_header_short(struct nt *n)
{
	uint16_t d = desc_alloc(&n->tx_desc, 1);

	raw_desc_set(&n->tx->desc[d], TX_GPA, HDR - 1, 0, 0);
	tx_push(n, d);
}

static void b_frame_too_long(struct nt *n)
{
	tx_chain(n, 98, FRAME_MAX + 1, NULL, 3, false, NULL);
}

static void b_frame_too_short(struct nt *n)
{
	tx_chain(n, 98, 13, NULL, 1, false, NULL);
}

/* The bad chains, for c_bad_tx(): what builds each, and whether its header is what is bad. */
static const struct {
	void (*build)(struct nt *n);
	bool bad_hdr;
} bad_chains[] = {
	[B_OUTSIDE] = { b_outside, false },
	[B_END_OF_MEMORY] = { b_end_of_memory, false },
	[B_ADDR_WRAPS] = { b_addr_wraps, false },
	[B_LOOP] = { b_loop, false },
	[B_NEXT_OUT_OF_RANGE] = { b_next_out_of_range, false },
	[B_READABLE_AFTER_WRITABLE] = { b_readable_after_writable, false },
	[B_IND_IN_IND] = { b_ind_in_ind, false },
	[B_IND_LEN_NOT_16] = { b_ind_len_not_16, false },
	[B_IND_WITH_NEXT] = { b_ind_with_next, false },
	[B_IND_OUTSIDE] = { b_ind_outside, false },
	[B_IND_LOOP] = { b_ind_loop, false },
	[B_TOO_MANY_SEGS] = { b_too_many_segs, false },
	[B_LEN_ZERO] = { b_len_zero, false },
	[B_HEADER_SHORT] = { b_header_short, false },
	[B_FRAME_TOO_LONG] = { b_frame_too_long, false },
	[B_FRAME_TOO_SHORT] = { b_frame_too_short, true },
};

const char *c_bad_tx(struct nt *n, int arg)
{
	return bad_tx(n, bad_chains[arg].build, bad_chains[arg].bad_hdr);
}

/*
 * What pviod must do with a transmit header that asks for something wrong:
 * without CSUM and HOST_TSO4/6 the header is not read at all (the driver
 * must send zeros then, §5.1.6.2.1) and flag bits other than NEEDS_CSUM are
 * ignored (§5.1.6.2.2): such a frame goes out with a zero header.
 */
static bool hdr_ignored(const struct pvio_net_hdr *h, bool offloads)
{
	return !offloads ||
	       (!(h->flags & PVIO_NET_HDR_F_NEEDS_CSUM) && h->gso_type == PVIO_NET_HDR_GSO_NONE);
}

/*
 * Each of @nbad headers between good frames, all in one kick: each dropped
 * as a bad header, or reflected with a zero header when hdr_ignored().
 */
static const char *bad_headers(struct nt *n, const struct pvio_net_hdr *bad, unsigned int nbad,
			       bool offloads)
{
	const char *err = nt_setup_default(n);
	unsigned int i, k = 0;

	if (err)
		return err;
	for (i = 0; i < nbad; i++) {
		tx_good(n, k++, 300 + i, NULL, 1 + i % 3, false);
		if (hdr_ignored(&bad[i], offloads)) {
			expect_frame(n, k, 1000);
			tx_chain(n, k++, 1000, NULL, 1 + i % 2, i & 1, &bad[i]);
			continue;
		}
		tx_chain(n, 100 + i, 1000, NULL, 1 + i % 2, i & 1, &bad[i]);
		n->want.tx_bad_hdr++;
	}
	tx_good(n, k++, 300, NULL, 2, false);
	err = tx_reflect(n, 2 * nbad + 1);
	return err ? err : expect_healthy(n);
}

/*
 * Headers asking for what was not negotiated, or for nothing that exists,
 * with no offload negotiated: ignored, the frames go out.
 */
const char *c_tx_bad_headers(struct nt *n, int arg)
{
	const struct pvio_net_hdr bad[] = {
		{ .flags = 0x80 }, /* unknown flag */
		{ .flags = PVIO_NET_HDR_F_RSC_INFO },
		{ .flags = PVIO_NET_HDR_F_NEEDS_CSUM,
		  .csum_start = cpu_to_le16(34),
		  .csum_offset = cpu_to_le16(16) }, /* CSUM not negotiated */
		{ .flags = PVIO_NET_HDR_F_NEEDS_CSUM,
		  .gso_type = PVIO_NET_HDR_GSO_TCPV4,
		  .gso_size = cpu_to_le16(1448),
		  .csum_start = cpu_to_le16(34),
		  .csum_offset = cpu_to_le16(16) }, /* HOST_TSO4 not negotiated */
		{ .gso_type = PVIO_NET_HDR_GSO_TCPV6, .gso_size = cpu_to_le16(1448) },
		{ .gso_type = PVIO_NET_HDR_GSO_UDP, .gso_size = cpu_to_le16(1448) },
		{ .gso_type = 9 }, /* unknown GSO type */
		{ .gso_type = PVIO_NET_HDR_GSO_ECN },
	};

	return bad_headers(n, bad, sizeof(bad) / sizeof(bad[0]), false);
}

/* With CSUM and HOST_TSO4/6 negotiated: offsets and sizes that do not fit, UDP, ECN. */
const char *c_tx_bad_headers_offloads(struct nt *n, int arg)
{
	const uint16_t nc = PVIO_NET_HDR_F_NEEDS_CSUM, v4 = PVIO_NET_HDR_GSO_TCPV4;
	const struct pvio_net_hdr bad[] = {
		{ .flags = 0x80 },
		{ .flags = nc, .csum_start = cpu_to_le16(10), .csum_offset = cpu_to_le16(6) },
		{ .flags = nc, .csum_start = cpu_to_le16(34), .csum_offset = cpu_to_le16(1000) },
		{ .flags = nc, .csum_start = cpu_to_le16(999), .csum_offset = cpu_to_le16(0) },
		{ .gso_type = v4, .gso_size = cpu_to_le16(1448) }, /* TSO without NEEDS_CSUM */
		{ .flags = nc,
		  .gso_type = v4,
		  .csum_start = cpu_to_le16(34),
		  .csum_offset = cpu_to_le16(16) }, /* gso_size 0 */
		{ .flags = nc,
		  .gso_type = v4,
		  .hdr_len = cpu_to_le16(1001),
		  .gso_size = cpu_to_le16(1448),
		  .csum_start = cpu_to_le16(34),
		  .csum_offset = cpu_to_le16(16) }, /* hdr_len past the frame */
		{ .flags = nc,
		  .gso_type = v4 | PVIO_NET_HDR_GSO_ECN,
		  .gso_size = cpu_to_le16(1448),
		  .csum_start = cpu_to_le16(34),
		  .csum_offset = cpu_to_le16(16) }, /* HOST_ECN not offered */
		{ .gso_type = PVIO_NET_HDR_GSO_UDP_L4, .gso_size = cpu_to_le16(1448) },
		{ .gso_type = 7 },
	};

	n->extra = PVIO_BIT(PVIO_NET_F_CSUM) | PVIO_BIT(PVIO_NET_F_HOST_TSO4) |
		   PVIO_BIT(PVIO_NET_F_HOST_TSO6);
	return bad_headers(n, bad, sizeof(bad) / sizeof(bad[0]), true);
}

/* Bad chains among good ones, short and long, in one kick. */
const char *c_tx_bad_mid_burst(struct nt *n, int arg)
{
	const char *err = nt_setup_default(n);

	if (err)
		return err;
	tx_good(n, 0, 200, NULL, 1, false);
	tx_good(n, 1, 300, NULL, 3, false);
	b_outside(n);
	tx_good(n, 2, 400, NULL, 8, false);
	b_loop(n);
	b_next_out_of_range(n);
	tx_good(n, 3, 500, NULL, 2, false);
	b_too_many_segs(n);
	tx_good(n, 4, 600, NULL, 64, false);
	b_frame_too_long(n);
	tx_good(n, 5, 700, NULL, 1, false);
	n->want.tx_bad_chain += 5;
	err = tx_reflect(n, 11);
	return err ? err : expect_healthy(n);
}

/* --- BROKEN: the transmit avail ring ------------------------------------------------------ */

/* Three good chains, a head past the ring, two more: the three are served, then it breaks. */
const char *c_tx_head_out_of_range(struct nt *n, int arg)
{
	const char *err = nt_setup_default(n);

	if (err)
		return err;
	tx_good(n, 0, 100, NULL, 1, false);
	tx_good(n, 1, 100, NULL, 2, false);
	tx_good(n, 2, 100, NULL, 1, true);
	tx_push(n, NUM + 7);
	tx_chain(n, 3, 100, NULL, 1, false, NULL);
	tx_chain(n, 4, 100, NULL, 1, false, NULL);
	tx_kick(n);
	err = expect_broken(n, n->tx);
	if (!err)
		err = tx_wait(n, 3);
	if (!err)
		err = rx_expect(n);
	return err ? err : used_stays(n->tx, 3);
}

/* The long chain ends its burst and is served; the bad head is the next burst's. */
const char *c_tx_long_then_bad_head(struct nt *n, int arg)
{
	const char *err = nt_setup_default(n);

	if (err)
		return err;
	tx_good(n, 0, 1000, NULL, 17, false);
	tx_push(n, 0xffff);
	tx_kick(n);
	err = expect_broken(n, n->tx);
	if (!err)
		err = tx_wait(n, 1);
	if (!err)
		err = rx_expect(n);
	return err ? err : used_stays(n->tx, 1);
}

/* Three chains served; then avail->idx moves by more than the ring size. */
const char *c_tx_idx_jump(struct nt *n, int arg)
{
	const char *err = nt_setup_default(n);

	if (err)
		return err;
	tx_good(n, 0, 100, NULL, 1, false);
	tx_good(n, 1, 100, NULL, 5, false);
	tx_good(n, 2, 100, NULL, 1, false);
	err = tx_reflect(n, 3);
	if (err)
		return err;
	tx_chain(n, 3, 100, NULL, 1, false, NULL);
	n->tx->avail_idx += NUM;
	tx_kick(n);
	err = expect_broken(n, n->tx);
	return err ? err : used_stays(n->tx, 3);
}
