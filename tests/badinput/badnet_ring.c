// SPDX-License-Identifier: GPL-2.0
/*
 * badnet_ring.c - badnet's cases on both rings at once: indices that wrap
 * at 65535, buffers and an indirect table across the regions of guest
 * memory, and notification suppression both ways (EVENT_IDX or the flags).
 */
#include <string.h>
#include <unistd.h>

#include "badnet.h"
#include "pvtest.h"

/*
 * Both rings start at index 65534: the first frames (with MRG_RXBUF one
 * spanning three buffers) cross the wrap, then a burst of 200 in one kick.
 */
const char *c_wrap(struct nt *n, int arg)
{
	const char *err;
	unsigned int i;

	n->base = 0xfffe;
	err = nt_setup_default(n);
	if (err)
		return err;
	tx_good(n, 0, n->v->mrg ? 5000 : 1514, NULL, 2, false);
	tx_good(n, 1, 100, NULL, 1, false);
	tx_good(n, 2, 1514, NULL, 17, false);
	err = tx_reflect(n, 3);
	if (err)
		return err;
	for (i = 0; i < 200; i++)
		tx_good(n, 3 + i, 60 + (i * 53) % 1455, NULL, i % 5 == 1 ? 5 : 1, i % 5 == 1);
	err = tx_reflect(n, 200);
	return err ? err : expect_healthy(n);
}

/* Buffers that straddle the two regions are two host segments, and fine. */
const char *c_straddle_regions(struct nt *n, int arg)
{
	uint32_t rx_len = RX_BUF;
	struct pvring_desc *t;
	const char *err = nt_setup(n, 0, 0);
	uint16_t head;
	uint64_t a;

	if (err)
		return err;
	/* A receive buffer across the boundary first, then ordinary ones. */
	head = rx_chain(n, 1, &rx_len, NULL);
	n->rxc[head].gpa[0] = BOUNDARY(3) - 700;
	raw_desc_set(&n->rx->desc[head], BOUNDARY(3) - 700, RX_BUF, PVRING_DESC_F_WRITE, 0);
	rx_post(n, 8, RX_BUF);
	/* Transmit: the frame's descriptor across the boundary... */
	stream_fill(n, 0, 1514, NULL);
	memcpy(n->r.mem + BOUNDARY(2) - 1000, n->buf, HDR + 1514);
	head = desc_alloc(&n->tx_desc, 1);
	raw_desc_set(&n->tx->desc[head], BOUNDARY(2) - 1000, HDR + 1514, 0, 0);
	expect_frame(n, 0, 1514);
	tx_push(n, head);
	/* ...and an indirect table across it. */
	stream_fill(n, 1, 300, NULL);
	a = area_alloc(&n->tx_next, TX_END, HDR + 300);
	memcpy(n->r.mem + a, n->buf, HDR + 300);
	t = (void *)(n->r.mem + BOUNDARY(1) - 32);
	raw_desc_set(&t[0], a, HDR, PVRING_DESC_F_NEXT, 1);
	raw_desc_set(&t[1], a + HDR, 100, PVRING_DESC_F_NEXT, 2);
	raw_desc_set(&t[2], a + HDR + 100, 200, 0, 0);
	head = desc_alloc(&n->tx_desc, 1);
	raw_desc_set(&n->tx->desc[head], BOUNDARY(1) - 32, 48, PVRING_DESC_F_INDIRECT, 0);
	tx_push(n, head);
	n->want.tx_bad_chain++; /* an indirect table must lie in one region */
	tx_good(n, 2, 1000, NULL, 1, false);
	err = tx_reflect(n, 3);
	return err ? err : expect_healthy(n);
}

/*
 * Once the transmit ring is drained pviod asks for the next kick: avail_event
 * at the next entry (EVENT_IDX), or NO_NOTIFY clear.
 */
static const char *kick_asked(struct raw_vq *q, bool event_idx)
{
	const __le16 *avail_event = (const void *)&q->used->ring[q->num];
	long end = pvt_ms() + RAW_WAIT_MS;
	bool asked;

	do {
		if (event_idx)
			asked = le16_to_cpu(READ_ONCE(*avail_event)) == q->avail_idx;
		else
			asked = !(le16_to_cpu(READ_ONCE(q->used->flags)) & PVRING_USED_F_NO_NOTIFY);
		if (asked)
			return NULL;
		usleep(1000);
	} while (pvt_ms() < end);
	return event_idx ? "avail_event not at the next entry after the ring drained" :
			   "NO_NOTIFY still set after the ring drained";
}

/*
 * EVENT_IDX / NO_INTERRUPT: no call when the driver asked for none, one when
 * it asks again; and pviod asks for the next kick once it drained the ring.
 */
const char *c_notify(struct nt *n, int arg)
{
	const char *err = nt_setup_default(n);
	uint16_t tx_used, rx_used;

	if (err)
		return err;
	tx_good(n, 0, 100, NULL, 1, false);
	err = tx_reflect(n, 1);
	if (!err)
		err = kick_asked(n->tx, n->v->event_idx);
	if (err)
		return err;
	/* Suppress: used_event behind what will be published, or NO_INTERRUPT. */
	if (n->v->event_idx) {
		used_event_set(n->tx, (uint16_t)(n->tx_seen - 1));
		used_event_set(n->rx, (uint16_t)(n->rx_seen - 1));
	} else {
		n->tx->avail->flags = cpu_to_le16(PVRING_AVAIL_F_NO_INTERRUPT);
		n->rx->avail->flags = cpu_to_le16(PVRING_AVAIL_F_NO_INTERRUPT);
	}
	tx_used = n->tx_seen;
	rx_used = n->rx_seen;
	tx_good(n, 1, 100, NULL, 1, false);
	raw_avail_publish(n->tx);
	raw_kick(n->tx);
	if (!raw_used_wait(n->tx, (uint16_t)(tx_used + 1)) ||
	    !raw_used_wait(n->rx, (uint16_t)(rx_used + 1)))
		return "suppressed: the frame did not come back";
	if (raw_fired(n->tx->call, SETTLE_MS) || raw_fired(n->rx->call, 0))
		return "a call eventfd fired though the driver suppressed it";
	n->tx_seen++;
	n->no_call = true;
	err = rx_expect(n);
	n->no_call = false;
	if (err)
		return err;
	/* Ask again: the next frame notifies both. */
	n->tx->avail->flags = 0;
	n->rx->avail->flags = 0;
	tx_good(n, 2, 100, NULL, 1, false);
	err = tx_reflect(n, 1);
	return err ? err : expect_healthy(n);
}
