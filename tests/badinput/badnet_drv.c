// SPDX-License-Identifier: GPL-2.0
/*
 * badnet_drv.c - badnet's hostile driver: it lays chains out in guest
 * memory by hand (struct nt, badnet.h), publishes and kicks them, and
 * checks what pviod hands back: every transmit chain in order with len 0,
 * every frame received byte-exact behind the header the variant calls for,
 * the call and error eventfds, DEVICE_NEEDS_RESET.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "badnet.h"
#include "pvtest.h"

/* --- guest memory and chains ------------------------------------------------------------ */

/**
 * area_alloc - bump-allocate guest memory (16-byte aligned, a gap after)
 * @next: the allocator (one of struct nt's *_next)
 * @end: where its area ends
 * @len: bytes
 *
 * A case that needs more than the layout holds is a bug in the test: it
 * bails out.
 *
 * Return: the guest-physical address.
 */
uint64_t area_alloc(uint64_t *next, uint64_t end, size_t len)
{
	uint64_t a = (*next + 15) & ~15ull;

	if (a + len > end) {
		printf("Bail out! badnet: guest memory layout too small for %zu bytes\n", len);
		exit(1);
	}
	*next = a + len + 16;
	return a;
}

/**
 * desc_alloc - take @n consecutive descriptors of a ring
 * @next: the ring's next free descriptor (struct nt's tx_desc or rx_desc)
 * @n: how many
 *
 * Bails out when a case uses more than the ring has.
 *
 * Return: the first one's index.
 */
uint16_t desc_alloc(uint16_t *next, unsigned int n)
{
	uint16_t first = *next;

	if (first + n > NUM) {
		printf("Bail out! badnet: a case uses more than %u descriptors\n", NUM);
		exit(1);
	}
	*next = (uint16_t)(first + n);
	return first;
}

/**
 * frame_byte - byte @j of test frame @k: a broadcast Ethernet header
 * (EtherType 0x88b5) with @k in its source address, then a pattern
 * @k: the frame's number
 * @j: the offset in the frame
 *
 * Return: the byte.
 */
uint8_t frame_byte(unsigned int k, size_t j)
{
	static const uint8_t eth[14] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02,
					 0x62, 0x6e, 0x00, 0x00, 0x00, 0x88, 0xb5 };

	if (j == 10)
		return (uint8_t)(k >> 8);
	if (j == 11)
		return (uint8_t)k;
	if (j < 14)
		return eth[j];
	return (uint8_t)(k * 131 + j * 7 + (j >> 8));
}

/**
 * stream_fill - header and frame @k of @len bytes into n->buf
 * @n: the case
 * @k: the frame's number (frame_byte())
 * @len: the frame's length
 * @h: the header; NULL: a zero header with num_buffers set to garbage (the
 *     device must write its own)
 */
void stream_fill(struct nt *n, unsigned int k, size_t len, const struct pvio_net_hdr *h)
{
	struct pvio_net_hdr z = { .num_buffers = cpu_to_le16(0x5a5a) };
	size_t j;

	memcpy(n->buf, h ? h : &z, HDR);
	for (j = 0; j < len; j++)
		n->buf[HDR + j] = frame_byte(k, j);
}

/**
 * expect_frame - frame @k of @len bytes will be transmitted well: expected
 * back, and counted
 * @n: the case
 * @k: the frame's number
 * @len: its length
 */
void expect_frame(struct nt *n, unsigned int k, size_t len)
{
	n->exp_k[n->nexp] = k;
	n->exp_len[n->nexp++] = (unsigned int)len;
	n->want.tx_frames++;
	n->want.tx_bytes += len;
	n->want.rx_frames++;
	n->want.rx_bytes += len;
}

/**
 * expect_lost - a frame transmitted well that the receive side drops (the
 * case counts why)
 * @n: the case
 * @len: its length
 */
void expect_lost(struct nt *n, size_t len)
{
	n->want.tx_frames++;
	n->want.tx_bytes += len;
	n->want.tx_dropped++;
}

/**
 * tx_push - make a transmit head available (not published), remembering it
 * for tx_wait()
 * @n: the case
 * @head: the head, valid or not
 */
void tx_push(struct nt *n, uint16_t head)
{
	n->txh[n->tx->avail_idx % NUM] = head;
	raw_avail_add(n->tx, head);
}

/**
 * tx_chain - a transmit chain for header + frame @k
 * @n: the case
 * @k: the frame's number
 * @len: the frame's length
 * @sizes: each descriptor's bytes (NULL: an even split; a 0 is a
 *         zero-length descriptor); each buffer apart from the others
 * @nseg: how many descriptors
 * @indirect: in an indirect table
 * @h: the header (NULL: see stream_fill())
 *
 * Made available, not published.
 *
 * Return: its head.
 */
uint16_t tx_chain(struct nt *n, unsigned int k, size_t len, const uint32_t *sizes,
		  unsigned int nseg, bool indirect, const struct pvio_net_hdr *h)
{
	size_t total = HDR + len, off = 0;
	struct pvring_desc *table = n->tx->desc;
	uint16_t first, head;
	unsigned int i;

	stream_fill(n, k, len, h);
	if (indirect) {
		uint64_t t = area_alloc(&n->ind_next, IND_END, nseg * sizeof(*table));

		head = desc_alloc(&n->tx_desc, 1);
		raw_desc_set(&n->tx->desc[head], t, nseg * sizeof(*table), PVRING_DESC_F_INDIRECT,
			     0);
		table = (void *)(n->r.mem + t);
		first = 0;
	} else {
		first = desc_alloc(&n->tx_desc, nseg);
		head = first;
	}
	for (i = 0; i < nseg; i++) {
		uint32_t l = sizes ? sizes[i] : (uint32_t)(total / nseg + (i < total % nseg));
		uint64_t a = area_alloc(&n->tx_next, TX_END, l ? l : 1);

		memcpy(n->r.mem + a, n->buf + off, l);
		off += l;
		raw_desc_set(&table[first + i], a, l, i + 1 < nseg ? PVRING_DESC_F_NEXT : 0,
			     (uint16_t)(first + i + 1));
	}
	tx_push(n, head);
	return head;
}

/**
 * tx_good - a good frame: tx_chain() with a zero header, and expected back
 * @n: the case
 * @k: as for tx_chain()
 * @len: as for tx_chain()
 * @sizes: as for tx_chain()
 * @nseg: as for tx_chain()
 * @indirect: as for tx_chain()
 *
 * Return: its head.
 */
uint16_t tx_good(struct nt *n, unsigned int k, size_t len, const uint32_t *sizes, unsigned int nseg,
		 bool indirect)
{
	expect_frame(n, k, len);
	return tx_chain(n, k, len, sizes, nseg, indirect, NULL);
}

/**
 * used_event_set - the driver's used_event (EVENT_IDX): notify me when the
 * used index passes @v
 * @q: the ring
 * @v: the index
 */
void used_event_set(struct raw_vq *q, uint16_t v)
{
	WRITE_ONCE(q->avail->ring[NUM], cpu_to_le16(v));
}

/**
 * tx_kick - publish the transmit entries and kick; with EVENT_IDX, ask to
 * be notified of the next used entry of both queues
 * @n: the case
 */
void tx_kick(struct nt *n)
{
	if (n->v->event_idx) {
		used_event_set(n->tx, n->tx_seen);
		used_event_set(n->rx, n->rx_seen);
	}
	raw_avail_publish(n->tx);
	raw_kick(n->tx);
}

/**
 * tx_wait - the next @count transmit chains come back in avail order with
 * len 0, and the transmit call eventfd fired
 * @n: the case
 * @count: how many
 *
 * Return: NULL, or what went wrong.
 */
const char *tx_wait(struct nt *n, unsigned int count)
{
	uint16_t end = (uint16_t)(n->tx_seen + count);

	if (!raw_used_wait(n->tx, end)) {
		snprintf(n->why, sizeof(n->why), "transmit used idx %u, expected %u",
			 raw_used_idx(n->tx), end);
		return n->why;
	}
	for (; n->tx_seen != end; n->tx_seen++) {
		const struct pvring_used_elem *e = &n->tx->used->ring[n->tx_seen % NUM];

		if (le32_to_cpu(e->id) != n->txh[n->tx_seen % NUM] || le32_to_cpu(e->len)) {
			snprintf(n->why, sizeof(n->why),
				 "transmit used entry %u is id %u len %u, expected id %u len 0",
				 n->tx_seen, le32_to_cpu(e->id), le32_to_cpu(e->len),
				 n->txh[n->tx_seen % NUM]);
			return n->why;
		}
	}
	if (count && !raw_fired(n->tx->call, RAW_WAIT_MS))
		return "transmit call eventfd not signalled";
	return NULL;
}

/**
 * rx_chain - a receive chain, made available (not published)
 * @n: the case
 * @nd: descriptors
 * @lens: their bytes
 * @flags: their flags (NULL: writable); NEXT is added
 *
 * Return: its head.
 */
uint16_t rx_chain(struct nt *n, unsigned int nd, const uint32_t *lens, const uint16_t *flags)
{
	uint16_t head = desc_alloc(&n->rx_desc, nd);
	struct rxc *c = &n->rxc[head];
	unsigned int i;

	c->nd = nd;
	for (i = 0; i < nd; i++) {
		c->len[i] = lens[i];
		c->gpa[i] = area_alloc(&n->rx_next, RX_END, lens[i] ? lens[i] : 1);
		memset(n->r.mem + c->gpa[i], 0xee, lens[i]);
		raw_desc_set(&n->rx->desc[head + i], c->gpa[i], lens[i],
			     (flags ? flags[i] : PVRING_DESC_F_WRITE) |
				     (i + 1 < nd ? PVRING_DESC_F_NEXT : 0),
			     (uint16_t)(head + i + 1));
	}
	raw_avail_add(n->rx, head);
	return head;
}

/**
 * rx_kick - publish the receive entries and kick
 * @n: the case
 */
void rx_kick(struct nt *n)
{
	raw_avail_publish(n->rx);
	raw_kick(n->rx);
}

/**
 * rx_post - receive buffers, one descriptor each, published
 * @n: the case
 * @count: how many
 * @size: their bytes
 */
void rx_post(struct nt *n, unsigned int count, uint32_t size)
{
	unsigned int i;

	for (i = 0; i < count; i++)
		rx_chain(n, 1, &size, NULL);
	rx_kick(n);
}

/* Wait until the receive used ring has an entry we have not read. */
static bool rx_more(struct nt *n, int timeout_ms)
{
	long end = pvt_ms() + timeout_ms;

	do {
		if (raw_used_idx(n->rx) != n->rx_seen)
			return true;
		usleep(1000);
	} while (pvt_ms() < end);
	return false;
}

/* One received frame (header included) into n->got: its length, and the buffers it used. */
static const char *rx_take(struct nt *n, size_t *lenp, unsigned int *nbp)
{
	unsigned int nb = 0, want_nb = 1, i;
	size_t total = 0;

	while (nb < want_nb) {
		const struct pvring_used_elem *e;
		uint32_t id, len, left;
		struct rxc *c;

		if (!rx_more(n, RAW_WAIT_MS))
			return nb ? "a frame's later buffers never came" :
				    "a frame did not come back";
		e = &n->rx->used->ring[n->rx_seen % NUM];
		id = le32_to_cpu(e->id);
		len = le32_to_cpu(e->len);
		n->rx_seen++;
		if (id >= NUM || !n->rxc[id].nd) {
			snprintf(n->why, sizeof(n->why), "receive used id %u was not posted", id);
			return n->why;
		}
		c = &n->rxc[id];
		for (i = 0, left = len; i < c->nd && left; i++) {
			uint32_t k = left < c->len[i] ? left : c->len[i];

			if (total + k > sizeof(n->got))
				return "received more than any frame";
			memcpy(n->got + total, n->r.mem + c->gpa[i], k);
			total += k;
			left -= k;
		}
		if (left) {
			snprintf(n->why, sizeof(n->why), "receive used len %u exceeds chain %u",
				 len, id);
			return n->why;
		}
		c->nd = 0;
		if (!nb++ && n->v->mrg) {
			if (len < HDR)
				return "first receive buffer holds less than the header";
			want_nb = n->got[10] | n->got[11] << 8;
			if (!want_nb)
				return "num_buffers is 0";
		}
	}
	*lenp = total;
	*nbp = nb;
	return NULL;
}

/**
 * rx_expect - every frame expected so far arrives, in order and
 * byte-exact, and nothing else; the receive call eventfd fired
 * @n: the case
 *
 * Return: NULL, or what went wrong.
 */
const char *rx_expect(struct nt *n)
{
	unsigned int i, nb;
	size_t len, j;
	const char *err;

	for (i = 0; i < n->nexp; i++) {
		struct pvio_net_hdr want = { 0 };
		unsigned int k = n->exp_k[i];

		err = rx_take(n, &len, &nb);
		if (err) {
			char what[sizeof(n->why)];

			snprintf(what, sizeof(what), "%s", err); /* err may be n->why */
			snprintf(n->why, sizeof(n->why), "frame %u (%u bytes): %.200s", k,
				 n->exp_len[i], what);
			return n->why;
		}
		want.num_buffers = cpu_to_le16((uint16_t)nb);
		if (len != HDR + n->exp_len[i]) {
			snprintf(n->why, sizeof(n->why),
				 "frame %u: %zu bytes received, expected %u + %u", k, len, HDR,
				 n->exp_len[i]);
			return n->why;
		}
		if (memcmp(n->got, &want, HDR)) {
			unsigned int said = n->got[10] | (unsigned int)n->got[11] << 8;

			snprintf(n->why, sizeof(n->why),
				 "frame %u: header %02x %02x num_buffers %u, expected 0 0 %u", k,
				 n->got[0], n->got[1], said, nb);
			return n->why;
		}
		for (j = 0; j < n->exp_len[i]; j++) {
			if (n->got[HDR + j] != frame_byte(k, j)) {
				snprintf(n->why, sizeof(n->why),
					 "frame %u (%u bytes): byte %zu is 0x%02x, expected 0x%02x",
					 k, n->exp_len[i], j, n->got[HDR + j], frame_byte(k, j));
				return n->why;
			}
		}
	}
	if (n->nexp && !n->no_call && !raw_fired(n->rx->call, RAW_WAIT_MS))
		return "receive call eventfd not signalled";
	n->nexp = 0;
	if (rx_more(n, 0))
		return "more receive entries than frames sent";
	return NULL;
}

/**
 * tx_reflect - kick, then @count chains back and every expected frame
 * received
 * @n: the case
 * @count: transmit chains due back
 *
 * Return: NULL, or what went wrong.
 */
const char *tx_reflect(struct nt *n, unsigned int count)
{
	const char *err;

	tx_kick(n);
	err = tx_wait(n, count);
	return err ? err : rx_expect(n);
}

/**
 * queue_broken - has the queue broken (its error eventfd fired)?
 * @q: the queue
 *
 * Return: true when it has.
 */
bool queue_broken(struct raw_vq *q)
{
	return raw_fired(q->err, 0);
}

/**
 * expect_healthy - neither queue broke, and the device does not ask for a
 * reset
 * @n: the case
 *
 * Return: NULL, or what went wrong.
 */
const char *expect_healthy(struct nt *n)
{
	if (queue_broken(n->tx))
		return "transmit queue broke";
	if (queue_broken(n->rx))
		return "receive queue broke";
	if (raw_needs_reset(&n->r))
		return "GET_STATUS reports DEVICE_NEEDS_RESET";
	return NULL;
}

/**
 * expect_broken - @q broke (error eventfd, DEVICE_NEEDS_RESET) and the
 * other queue did not
 * @n: the case
 * @q: n->tx or n->rx
 *
 * Return: NULL, or what went wrong.
 */
const char *expect_broken(struct nt *n, struct raw_vq *q)
{
	struct raw_vq *other = q == n->tx ? n->rx : n->tx;

	if (!raw_fired(q->err, RAW_WAIT_MS))
		return q == n->tx ? "transmit error eventfd not signalled" :
				    "receive error eventfd not signalled";
	if (!raw_needs_reset(&n->r))
		return "GET_STATUS lacks DEVICE_NEEDS_RESET";
	if (queue_broken(other))
		return "the other queue broke too";
	return NULL;
}

/**
 * used_stays - nothing more shows up in @q's used ring than @idx
 * @q: the queue
 * @idx: its used index now
 *
 * Return: NULL, or what went wrong.
 */
const char *used_stays(struct raw_vq *q, uint16_t idx)
{
	usleep(SETTLE_MS * 1000);
	return raw_used_idx(q) == idx ? NULL : "used entries published past the bad one";
}

/**
 * nt_setup - connect to device a, negotiate the variant's features, share
 * guest memory and start rx and tx
 * @n: the case (n->v, n->base, n->extra chosen)
 * @rx_count: receive buffers posted at once
 * @rx_size: their bytes
 *
 * Return: NULL, or what went wrong.
 */
const char *nt_setup(struct nt *n, unsigned int rx_count, uint32_t rx_size)
{
	uint64_t f = F_BASE | (n->v->mrg ? PVIO_BIT(PVIO_NET_F_MRG_RXBUF) : 0) |
		     (n->v->event_idx ? PVIO_BIT(PVIO_F_EVENT_IDX) : 0) | n->extra;

	if (raw_connect(&n->r, n->sock) || raw_negotiate(&n->r, PF_WANTED, f) ||
	    raw_mem(&n->r, MEM_SIZE, NREGIONS))
		return "set-up of device a failed";
	n->rx = &n->r.vq[RXQ];
	n->tx = &n->r.vq[TXQ];
	if (raw_vring(&n->r, RXQ, NUM, n->base, RX_DESC_GPA, RX_AVAIL_GPA, RX_USED_GPA) ||
	    raw_vring(&n->r, TXQ, NUM, n->base, TX_DESC_GPA, TX_AVAIL_GPA, TX_USED_GPA))
		return "set-up of the rings of device a failed";
	n->tx_seen = n->base;
	n->rx_seen = n->base;
	if (rx_count)
		rx_post(n, rx_count, rx_size);
	return NULL;
}

/**
 * nt_setup_default - nt_setup() with 256 buffers that hold a 1514-byte
 * frame whole
 * @n: the case
 *
 * Return: NULL, or what went wrong.
 */
const char *nt_setup_default(struct nt *n)
{
	return nt_setup(n, NUM, RX_BUF);
}
