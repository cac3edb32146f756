// SPDX-License-Identifier: GPL-2.0
/*
 * badnet_rx.c - badnet's receive cases: chains of several descriptors, one
 * frame over several buffers (num_buffers), the header over one-byte
 * descriptors (REFLECT); receive chains and avail entries that break the
 * receive queue while transmit goes on (BROKEN); buffers too short or
 * missing (DROP).
 */
#include <string.h>

#include "badnet.h"

/* --- REFLECT through awkward receive chains ------------------------------------------------ */

/* Receive chains of several descriptors, and one in an indirect table. */
const char *c_rx_split(struct nt *n, int arg)
{
	static const uint32_t l4[] = { HDR, 100, 500, 1436 }, l2[] = { 5, 2043 };
	struct pvring_desc *t;
	const char *err = nt_setup(n, 0, 0);
	uint16_t head;
	unsigned int i;
	uint64_t a;

	if (err)
		return err;
	rx_chain(n, 4, l4, NULL);
	rx_chain(n, 2, l2, NULL);
	/* An indirect receive chain: [HDR][2036]. */
	head = desc_alloc(&n->rx_desc, 1);
	a = area_alloc(&n->ind_next, IND_END, 32);
	t = (void *)(n->r.mem + a);
	n->rxc[head].nd = 2;
	for (i = 0; i < 2; i++) {
		n->rxc[head].len[i] = i ? RX_BUF - HDR : HDR;
		n->rxc[head].gpa[i] = area_alloc(&n->rx_next, RX_END, n->rxc[head].len[i]);
		raw_desc_set(&t[i], n->rxc[head].gpa[i], n->rxc[head].len[i],
			     PVRING_DESC_F_WRITE | (i ? 0 : PVRING_DESC_F_NEXT), 1);
	}
	raw_desc_set(&n->rx->desc[head], a, 32, PVRING_DESC_F_INDIRECT, 0);
	raw_avail_add(n->rx, head);
	rx_post(n, 4, RX_BUF);
	tx_good(n, 0, 1514, NULL, 2, false);
	tx_good(n, 1, 60, NULL, 1, false);
	tx_good(n, 2, 1514, NULL, 1, false);
	tx_good(n, 3, 1000, NULL, 3, false);
	err = tx_reflect(n, 4);
	return err ? err : expect_healthy(n);
}

/* MRG_RXBUF: frames larger than a buffer span several, num_buffers says how many. */
const char *c_rx_mrg_span(struct nt *n, int arg)
{
	const char *err = nt_setup_default(n);

	if (err)
		return err;
	tx_good(n, 0, 5000, NULL, 2, false);
	tx_good(n, 1, 9000, NULL, 1, false);
	tx_good(n, 2, 2036, NULL, 1, false); /* exactly one buffer */
	tx_good(n, 3, 2037, NULL, 1, false); /* one byte into a second */
	err = tx_reflect(n, 4);
	return err ? err : expect_healthy(n);
}

/*
 * The receive header over twelve 1-byte descriptors: num_buffers lies in
 * the 11th and 12th.  With MRG_RXBUF that chain holds only the header and
 * the frame goes on in the next buffers (so num_buffers must be patched in
 * there); without, the chain has a large buffer after them.
 */
const char *c_rx_hdr_bytes(struct nt *n, int arg)
{
	uint32_t l[13] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, RX_BUF };
	const char *err = nt_setup(n, 0, 0);

	if (err)
		return err;
	rx_chain(n, n->v->mrg ? 12 : 13, l, NULL);
	rx_post(n, 8, RX_BUF);
	tx_good(n, 0, 1000, NULL, 1, false);
	tx_good(n, 1, 1000, NULL, 1, false);
	err = tx_reflect(n, 2);
	return err ? err : expect_healthy(n);
}

/* --- BROKEN and DROP ---------------------------------------------------------------------- */

/*
 * The receive queue broke on the first frame; its chain and a second
 * frame's come back with len 0, both frames dropped, the transmit queue
 * goes on.
 */
static const char *rx_broke(struct nt *n)
{
	const char *err;

	tx_chain(n, 0, 500, NULL, 1, false, NULL);
	expect_lost(n, 500);
	n->want.rx_dropped++;
	tx_kick(n);
	err = expect_broken(n, n->rx);
	if (!err)
		err = tx_wait(n, 1);
	if (err)
		return err;
	tx_chain(n, 1, 500, NULL, 2, false, NULL);
	expect_lost(n, 500);
	n->want.rx_dropped++;
	tx_kick(n);
	err = tx_wait(n, 1);
	if (!err && queue_broken(n->tx))
		err = "transmit queue broke";
	return err ? err : used_stays(n->rx, 0);
}

const char *c_rx_readable_first(struct nt *n, int arg)
{
	static const uint32_t l[] = { 64, RX_BUF };
	static const uint16_t f[] = { 0, PVRING_DESC_F_WRITE };
	const char *err = nt_setup(n, 0, 0);

	if (err)
		return err;
	rx_chain(n, 2, l, f);
	rx_post(n, 4, RX_BUF);
	return rx_broke(n);
}

const char *c_rx_all_readable(struct nt *n, int arg)
{
	static const uint32_t l[] = { RX_BUF };
	static const uint16_t f[] = { 0 };
	const char *err = nt_setup(n, 0, 0);

	if (err)
		return err;
	rx_chain(n, 1, l, f);
	rx_post(n, 4, RX_BUF);
	return rx_broke(n);
}

const char *c_rx_outside(struct nt *n, int arg)
{
	static const uint32_t l[] = { RX_BUF };
	const char *err = nt_setup(n, 0, 0);
	uint16_t head;

	if (err)
		return err;
	head = rx_chain(n, 1, l, NULL);
	n->rx->desc[head].addr = cpu_to_le64(MEM_SIZE + 0x10000);
	rx_post(n, 4, RX_BUF);
	return rx_broke(n);
}

const char *c_rx_loop(struct nt *n, int arg)
{
	static const uint32_t l[] = { 64, 64 };
	const char *err = nt_setup(n, 0, 0);
	uint16_t head;

	if (err)
		return err;
	head = rx_chain(n, 2, l, NULL);
	n->rx->desc[head + 1].flags = cpu_to_le16(PVRING_DESC_F_WRITE | PVRING_DESC_F_NEXT);
	n->rx->desc[head + 1].next = cpu_to_le16(head);
	rx_post(n, 4, RX_BUF);
	return rx_broke(n);
}

const char *c_rx_head_out_of_range(struct nt *n, int arg)
{
	const char *err = nt_setup(n, 0, 0);

	if (err)
		return err;
	raw_avail_add(n->rx, NUM + 1);
	rx_post(n, 4, RX_BUF);
	return rx_broke(n);
}

const char *c_rx_idx_jump(struct nt *n, int arg)
{
	const char *err = nt_setup(n, 0, 0);

	if (err)
		return err;
	rx_chain(n, 1, (const uint32_t[]){ RX_BUF }, NULL);
	n->rx->avail_idx += NUM;
	rx_kick(n);
	return rx_broke(n);
}

/*
 * A receive chain of 8 bytes, shorter than the header.  With MRG_RXBUF
 * every buffer must hold a header (virtio 1.2 §5.1.6.3.1): the queue
 * breaks.  Without, buffers are only advised to hold a whole frame: each
 * frame is dropped for want of a buffer and the chain stays where it is.
 */
const char *c_rx_shorter_than_header(struct nt *n, int arg)
{
	const char *err = nt_setup(n, 0, 0);

	if (err)
		return err;
	rx_chain(n, 1, (const uint32_t[]){ 8 }, NULL);
	rx_post(n, 4, RX_BUF);
	if (n->v->mrg)
		return rx_broke(n);
	tx_chain(n, 0, 500, NULL, 1, false, NULL);
	tx_chain(n, 1, 60, NULL, 1, false, NULL);
	expect_lost(n, 500);
	expect_lost(n, 60);
	n->want.rx_no_buf += 2;
	tx_kick(n);
	err = tx_wait(n, 2);
	if (!err)
		err = used_stays(n->rx, 0);
	return err ? err : expect_healthy(n);
}

/*
 * MRG_RXBUF: a zero-length buffer as a frame's second one.  It cannot hold
 * a header either (§5.1.6.3.1), so, as for the first buffer, the queue
 * breaks.
 */
const char *c_rx_mrg_zero_second(struct nt *n, int arg)
{
	const char *err = nt_setup(n, 0, 0);

	if (err)
		return err;
	rx_chain(n, 1, (const uint32_t[]){ 64 }, NULL);
	rx_chain(n, 1, (const uint32_t[]){ 0 }, NULL);
	rx_post(n, 4, RX_BUF);
	return rx_broke(n);
}

/* No receive buffers: frames dropped and counted; buffers posted later take the next frame. */
const char *c_rx_no_buffers(struct nt *n, int arg)
{
	const char *err = nt_setup(n, 0, 0);
	unsigned int i;

	if (err)
		return err;
	for (i = 0; i < 5; i++) {
		tx_chain(n, i, 100 + i, NULL, 1 + i % 2, false, NULL);
		expect_lost(n, 100 + i);
		n->want.rx_no_buf++;
	}
	tx_kick(n);
	err = tx_wait(n, 5);
	if (!err)
		err = used_stays(n->rx, 0);
	if (!err)
		err = expect_healthy(n);
	if (err)
		return err;
	rx_post(n, 16, RX_BUF);
	tx_good(n, 5, 1514, NULL, 2, false);
	err = tx_reflect(n, 1);
	return err ? err : expect_healthy(n);
}

/*
 * Too few buffers for a 5000-byte frame (two of 2048 with MRG_RXBUF, one
 * without): dropped, the chains handed back, and the next small frame takes
 * the first of them.
 */
const char *c_rx_too_few(struct nt *n, int arg)
{
	const char *err = nt_setup(n, n->v->mrg ? 2 : 1, RX_BUF);

	if (err)
		return err;
	tx_chain(n, 0, 5000, NULL, 2, false, NULL);
	expect_lost(n, 5000);
	n->want.rx_no_buf++;
	tx_good(n, 1, 100, NULL, 1, false);
	err = tx_reflect(n, 2);
	return err ? err : expect_healthy(n);
}
