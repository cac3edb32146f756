// SPDX-License-Identifier: GPL-2.0
/*
 * badnet - hostile and awkward front-ends against pviod's net device (TAP 13).
 *
 * One pviod serves two net devices with the loop back-end (every frame the
 * driver transmits is reflected into its own receive queue): "a" takes the
 * abuse from a raw vhost-user front-end (tests/lib/raw.c) that writes descriptor
 * tables, indirect tables and avail rings by hand in a memfd shared with
 * pviod, "w" is a witness driven through the userspace driver
 * (frontend/virtio-user, struct vuser_net).  Every case runs once per feature variant
 * (MRG_RXBUF on/off x EVENT_IDX on/off; VERSION_1 and INDIRECT_DESC always)
 * on a fresh connection to a, and asserts one exact outcome:
 *
 *   REFLECT  every transmitted chain comes back in the used ring, in order,
 *            with len 0; every frame arrives in the receive queue in order,
 *            byte-exact, behind a header that is all zero but num_buffers
 *            (the buffers it spans with MRG_RXBUF, else 1); each queue's
 *            call eventfd fires (EVENT_IDX: used_event set to "the next")
 *   EMPTY    a bad transmit chain comes back with used len 0, is counted
 *            (bad chain / bad header), nothing of it is received, and the
 *            chains before and after it in the same burst are served
 *   DROP     the frame is dropped on the receive side and counted (no
 *            buffer / rx dropped), its transmit chain comes back with len 0
 *   BROKEN   the queue breaks: its error eventfd fires and GET_STATUS
 *            reports DEVICE_NEEDS_RESET; what was popped before the bad
 *            entry still got its used entries, nothing after it did
 *
 * The receive-side rules asserted (virtio 1.2 §5.1.6.3-4): a receive chain
 * with a device-readable descriptor (whatever its writable room), outside
 * guest memory or looping, and a bad avail entry or index, break the receive
 * queue in every variant while transmit goes on; with MRG_RXBUF every buffer
 * must hold at least the header, so a shorter one (first or later) breaks
 * it; without, a buffer too short for a frame drops that frame (no buffer)
 * and stays posted.  num_buffers must be right wherever bytes 10-11 of the
 * header land.  Buffers may straddle two of the four memory regions (they
 * are adjacent in guest-physical space); an indirect table may not.
 *
 * The device's counters (SIGUSR1 dump in pviod's log: "net0: pair 0: tx F
 * frames B bytes, H bad header, C bad chain, D dropped; rx ...") must move
 * by exactly what the case expects; the last point checks the totals pviod
 * logs when it exits.  After every case pviod must be alive, no queue of a
 * healthy case may be broken, and w must still reflect a fresh frame.
 *
 * PVIOD=path overrides $(O)/pviod; BADNET_ONLY=name runs the cases of that
 * name only (in every variant).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "raw.h"
#include "vuser.h"
#include "pvtest.h"

/* Guest memory: four regions of 2 MiB, adjacent in guest-physical space. */
#define MEM_SIZE (8u << 20)
#define NREGIONS 4
#define BOUNDARY(i) ((i) * (MEM_SIZE / NREGIONS)) /* where region i starts */
#define NUM 256u
#define RXQ 0
#define TXQ 1
#define RX_DESC_GPA 0x0000
#define RX_AVAIL_GPA 0x1000
#define RX_USED_GPA 0x2000
#define TX_DESC_GPA 0x4000
#define TX_AVAIL_GPA 0x5000
#define TX_USED_GPA 0x6000
#define IND_GPA 0x10000 /* indirect tables */
#define IND_END 0x80000
#define TX_GPA 0x100000 /* transmit buffers */
#define TX_END 0x3c0000
#define RX_GPA 0x440000 /* receive buffers */
#define RX_END MEM_SIZE

#define HDR 12u /* struct pvio_net_hdr with VERSION_1 */
#define FRAME_MAX (65535 + 14 + 4) /* pviod's largest frame */
#define RX_BUF 2048 /* the usual receive buffer */
#define RX_BIG (HDR + FRAME_MAX) /* one that holds the largest frame exactly */
#define RXSEG_MAX 16
#define EXPECT_MAX 256
#define SETTLE_MS 30 /* how long "nothing more happens" is watched */

#define PF_WANTED                                                                             \
	(PVIO_BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK) | PVIO_BIT(VHOST_USER_PROTOCOL_F_STATUS) | \
	 PVIO_BIT(VHOST_USER_PROTOCOL_F_CONFIG))
#define F_BASE                                                         \
	(PVIO_BIT(PVIO_F_VERSION_1) | PVIO_BIT(PVIO_F_INDIRECT_DESC) | \
	 PVIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES))

struct variant {
	const char *name;
	bool mrg; /* MRG_RXBUF */
	bool event_idx; /* EVENT_IDX */
};

static const struct variant variants[] = {
	{ "mrg_rxbuf+event_idx", true, true },
	{ "mrg_rxbuf", true, false },
	{ "event_idx", false, true },
	{ "no_mrg_rxbuf", false, false },
};

/* The abused device's counters, as pviod logs them. */
struct cnt {
	uint64_t tx_frames, tx_bytes, tx_bad_hdr, tx_bad_chain, tx_dropped;
	uint64_t rx_frames, rx_bytes, rx_no_buf, rx_dropped, rx_filtered;
};

/* A receive chain we posted: where its buffers are. */
struct rxc {
	unsigned int nd; /* 0: not posted (or already returned) */
	uint64_t gpa[RXSEG_MAX];
	uint32_t len[RXSEG_MAX];
};

/* One case's front-end and what it expects. */
struct nt {
	struct raw r;
	const struct variant *v;
	struct raw_vq *rx, *tx;
	uint64_t tx_next, ind_next, rx_next; /* bump allocators in guest memory */
	uint16_t tx_desc, rx_desc; /* next free descriptor */
	uint16_t tx_seen, rx_seen; /* used entries checked so far */
	uint16_t txh[NUM]; /* the head put in each avail slot */
	struct rxc rxc[NUM];
	unsigned int exp_k[EXPECT_MAX], exp_len[EXPECT_MAX], nexp; /* frames due back */
	struct cnt want; /* what the counters must move by */
	bool no_call; /* rx_expect(): the driver suppressed the receive call */
	uint16_t base; /* where both rings' indices start */
	uint64_t extra; /* features negotiated beyond the variant's */
	char why[256];
	uint8_t buf[HDR + FRAME_MAX + 64]; /* a chain's bytes */
	uint8_t got[HDR + FRAME_MAX + RX_BUF]; /* a received frame */
};

static char sock_a[PATH_MAX], sock_w[PATH_MAX], logpath[PATH_MAX];
static struct pvt_pviod pviod;
static struct vuser_net witness;
static unsigned int witness_round;
static bool have_stats;
static struct nt nt;

/* --- counters ------------------------------------------------------------------------ */

#define CNT_FMT                                                                                   \
	"net0: pair 0: tx %" SCNu64 " frames %" SCNu64 " bytes, %" SCNu64 " bad header, %" SCNu64 \
	" bad chain, %" SCNu64 " dropped; rx %" SCNu64 " frames %" SCNu64 " bytes, %" SCNu64      \
	" no buffer, %" SCNu64 " dropped, %" SCNu64 " filtered"

/* The last counter line for device a in pviod's log, and how many there are. */
static unsigned int cnt_last(struct cnt *c)
{
	char line[1024], *p;
	unsigned int n = 0;
	FILE *f = fopen(logpath, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		p = strstr(line, "net0: pair 0: tx ");
		if (p && sscanf(p, CNT_FMT, &c->tx_frames, &c->tx_bytes, &c->tx_bad_hdr,
				&c->tx_bad_chain, &c->tx_dropped, &c->rx_frames, &c->rx_bytes,
				&c->rx_no_buf, &c->rx_dropped, &c->rx_filtered) == 10)
			n++;
	}
	fclose(f);
	return n;
}

/* SIGUSR1, then the new dump's line. */
static int cnt_read(struct cnt *c)
{
	unsigned int before = cnt_last(c);
	long end = pvt_ms() + RAW_WAIT_MS;

	kill(pviod.pid, SIGUSR1);
	while (pvt_ms() < end) {
		if (cnt_last(c) > before)
			return 0;
		usleep(2000);
	}
	return -ETIMEDOUT;
}

static void cnt_add(struct cnt *sum, const struct cnt *d)
{
	sum->tx_frames += d->tx_frames;
	sum->tx_bytes += d->tx_bytes;
	sum->tx_bad_hdr += d->tx_bad_hdr;
	sum->tx_bad_chain += d->tx_bad_chain;
	sum->tx_dropped += d->tx_dropped;
	sum->rx_frames += d->rx_frames;
	sum->rx_bytes += d->rx_bytes;
	sum->rx_no_buf += d->rx_no_buf;
	sum->rx_dropped += d->rx_dropped;
	sum->rx_filtered += d->rx_filtered;
}

/* NULL when @a - @b is @want, else which counter is off. */
static const char *cnt_check(const struct cnt *a, const struct cnt *b, const struct cnt *want,
			     char *why, size_t len)
{
	static const char *const names[] = { "tx frames",    "tx bytes",     "tx bad header",
					     "tx bad chain", "tx dropped",   "rx frames",
					     "rx bytes",     "rx no buffer", "rx dropped",
					     "rx filtered" };
	const uint64_t *pa = &a->tx_frames, *pb = &b->tx_frames, *pw = &want->tx_frames;
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (pa[i] - pb[i] != pw[i]) {
			snprintf(why, len, "counter '%s' moved by %" PRIu64 ", expected %" PRIu64,
				 names[i], pa[i] - pb[i], pw[i]);
			return why;
		}
	}
	return NULL;
}

/* A comment line with the counters' difference @a - @b. */
static void cnt_print(const char *what, const struct cnt *a, const struct cnt *b)
{
	printf("# %s: tx %" PRIu64 " frames %" PRIu64 " bytes, %" PRIu64 " bad header, %" PRIu64
	       " bad chain, %" PRIu64 " dropped; rx %" PRIu64 " frames %" PRIu64 " bytes, %" PRIu64
	       " no buffer, %" PRIu64 " dropped, %" PRIu64 " filtered\n",
	       what, a->tx_frames - b->tx_frames, a->tx_bytes - b->tx_bytes,
	       a->tx_bad_hdr - b->tx_bad_hdr, a->tx_bad_chain - b->tx_bad_chain,
	       a->tx_dropped - b->tx_dropped, a->rx_frames - b->rx_frames,
	       a->rx_bytes - b->rx_bytes, a->rx_no_buf - b->rx_no_buf,
	       a->rx_dropped - b->rx_dropped, a->rx_filtered - b->rx_filtered);
}

/* --- guest memory and chains ------------------------------------------------------------ */

static uint64_t area_alloc(uint64_t *next, uint64_t end, size_t len)
{
	uint64_t a = (*next + 15) & ~15ull;

	if (a + len > end) {
		printf("Bail out! badnet: guest memory layout too small for %zu bytes\n", len);
		exit(1);
	}
	*next = a + len + 16;
	return a;
}

static uint16_t desc_alloc(uint16_t *next, unsigned int n)
{
	uint16_t first = *next;

	if (first + n > NUM) {
		printf("Bail out! badnet: a case uses more than %u descriptors\n", NUM);
		exit(1);
	}
	*next = (uint16_t)(first + n);
	return first;
}

static uint8_t frame_byte(unsigned int k, size_t j)
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

/*
 * Header and frame @k of @len bytes into n->buf: a zero header unless @h,
 * with num_buffers set to garbage (the device must write its own).
 */
static void stream_fill(struct nt *n, unsigned int k, size_t len, const struct pvio_net_hdr *h)
{
	struct pvio_net_hdr z = { .num_buffers = cpu_to_le16(0x5a5a) };
	size_t j;

	memcpy(n->buf, h ? h : &z, HDR);
	for (j = 0; j < len; j++)
		n->buf[HDR + j] = frame_byte(k, j);
}

/* Frame @k of @len bytes will be transmitted well: expected back, and counted. */
static void expect_frame(struct nt *n, unsigned int k, size_t len)
{
	n->exp_k[n->nexp] = k;
	n->exp_len[n->nexp++] = (unsigned int)len;
	n->want.tx_frames++;
	n->want.tx_bytes += len;
	n->want.rx_frames++;
	n->want.rx_bytes += len;
}

/* A frame transmitted well that the receive side drops (the case counts why). */
static void expect_lost(struct nt *n, size_t len)
{
	n->want.tx_frames++;
	n->want.tx_bytes += len;
	n->want.tx_dropped++;
}

static void tx_push(struct nt *n, uint16_t head)
{
	n->txh[n->tx->avail_idx % NUM] = head;
	raw_avail_add(n->tx, head);
}

/*
 * A transmit chain for header + frame @k (@len bytes) over @nseg
 * descriptors of @sizes bytes (NULL: an even split; a 0 is a zero-length
 * descriptor), each buffer apart from the others, in an indirect table when
 * @indirect.  Made available (not published).
 *
 * Return: its head.
 */
static uint16_t tx_chain(struct nt *n, unsigned int k, size_t len, const uint32_t *sizes,
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

/* A good frame: tx_chain() and expected back. */
static uint16_t tx_good(struct nt *n, unsigned int k, size_t len, const uint32_t *sizes,
			unsigned int nseg, bool indirect)
{
	expect_frame(n, k, len);
	return tx_chain(n, k, len, sizes, nseg, indirect, NULL);
}

static void used_event_set(struct raw_vq *q, uint16_t v)
{
	WRITE_ONCE(q->avail->ring[NUM], cpu_to_le16(v));
}

/* Publish the transmit entries and kick; ask to be notified of the next used entry. */
static void tx_kick(struct nt *n)
{
	if (n->v->event_idx) {
		used_event_set(n->tx, n->tx_seen);
		used_event_set(n->rx, n->rx_seen);
	}
	raw_avail_publish(n->tx);
	raw_kick(n->tx);
}

/*
 * The next @count transmit chains come back in avail order with len 0, and
 * the transmit call eventfd fired.
 */
static const char *tx_wait(struct nt *n, unsigned int count)
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

/* Receive chains: @nd descriptors of @lens bytes (@flags per descriptor, NULL: writable). */
static uint16_t rx_chain(struct nt *n, unsigned int nd, const uint32_t *lens, const uint16_t *flags)
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

static void rx_kick(struct nt *n)
{
	raw_avail_publish(n->rx);
	raw_kick(n->rx);
}

/* @count receive buffers of @size bytes, one descriptor each, published. */
static void rx_post(struct nt *n, unsigned int count, uint32_t size)
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

/*
 * Every frame expected so far arrives, in order and byte-exact, and nothing
 * else; the receive call eventfd fired.
 */
static const char *rx_expect(struct nt *n)
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

/* Kick, then @count chains back and every expected frame received. */
static const char *tx_reflect(struct nt *n, unsigned int count)
{
	const char *err;

	tx_kick(n);
	err = tx_wait(n, count);
	return err ? err : rx_expect(n);
}

static bool queue_broken(struct raw_vq *q)
{
	return raw_fired(q->err, 0);
}

/* Neither queue broke, and the device does not ask for a reset. */
static const char *expect_healthy(struct nt *n)
{
	if (queue_broken(n->tx))
		return "transmit queue broke";
	if (queue_broken(n->rx))
		return "receive queue broke";
	if (raw_needs_reset(&n->r))
		return "GET_STATUS reports DEVICE_NEEDS_RESET";
	return NULL;
}

/* @q broke (error eventfd, DEVICE_NEEDS_RESET) and the other queue did not. */
static const char *expect_broken(struct nt *n, struct raw_vq *q)
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

/* Nothing more shows up in @q's used ring than @idx. */
static const char *used_stays(struct raw_vq *q, uint16_t idx)
{
	usleep(SETTLE_MS * 1000);
	return raw_used_idx(q) == idx ? NULL : "used entries published past the bad one";
}

/*
 * Connect to a, negotiate the variant's features, share guest memory and
 * start rx and tx; post @rx_count receive buffers of @rx_size bytes.
 */
static const char *nt_setup(struct nt *n, unsigned int rx_count, uint32_t rx_size)
{
	uint64_t f = F_BASE | (n->v->mrg ? PVIO_BIT(PVIO_NET_F_MRG_RXBUF) : 0) |
		     (n->v->event_idx ? PVIO_BIT(PVIO_F_EVENT_IDX) : 0) | n->extra;

	if (raw_connect(&n->r, sock_a) || raw_negotiate(&n->r, PF_WANTED, f) ||
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

/* The default: 256 buffers that hold a 1514-byte frame whole. */
static const char *nt_setup_default(struct nt *n)
{
	return nt_setup(n, NUM, RX_BUF);
}

/* --- REFLECT ------------------------------------------------------------------------------ */

static const unsigned int lens3[] = { 60, 777, 1514 };

/* Three frames, each over @arg descriptors, in one kick. */
static const char *c_segments(struct nt *n, int arg)
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
static const char *c_mixed_burst(struct nt *n, int arg)
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
static const char *c_header_split(struct nt *n, int arg)
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
static const char *c_indirect(struct nt *n, int arg)
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

static const char *c_burst_200(struct nt *n, int arg)
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
static const char *c_max_frame(struct nt *n, int arg)
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
static const char *c_min_frame(struct nt *n, int arg)
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

/*
 * Both rings start at index 65534: the first frames (with MRG_RXBUF one
 * spanning three buffers) cross the wrap, then a burst of 200 in one kick.
 */
static const char *c_wrap(struct nt *n, int arg)
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
static const char *c_straddle_regions(struct nt *n, int arg)
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

/* Zero-length descriptors inside a chain carry nothing, and harm nothing. */
static const char *c_zero_len_inside(struct nt *n, int arg)
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

/* Receive chains of several descriptors, and one in an indirect table. */
static const char *c_rx_split(struct nt *n, int arg)
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
static const char *c_rx_mrg_span(struct nt *n, int arg)
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
static const char *c_rx_hdr_bytes(struct nt *n, int arg)
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
static const char *c_notify(struct nt *n, int arg)
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

enum {
	B_OUTSIDE,
	B_END_OF_MEMORY,
	B_ADDR_WRAPS,
	B_LOOP,
	B_NEXT_OUT_OF_RANGE,
	B_READABLE_AFTER_WRITABLE,
	B_IND_IN_IND,
	B_IND_LEN_NOT_16,
	B_IND_WITH_NEXT,
	B_IND_OUTSIDE,
	B_IND_LOOP,
	B_TOO_MANY_SEGS,
	B_LEN_ZERO,
	B_HEADER_SHORT,
	B_FRAME_TOO_LONG,
	B_FRAME_TOO_SHORT,
};

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

static const char *c_bad_tx(struct nt *n, int arg)
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
static const char *c_tx_bad_headers(struct nt *n, int arg)
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
static const char *c_tx_bad_headers_offloads(struct nt *n, int arg)
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
static const char *c_tx_bad_mid_burst(struct nt *n, int arg)
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
static const char *c_tx_head_out_of_range(struct nt *n, int arg)
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
static const char *c_tx_long_then_bad_head(struct nt *n, int arg)
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
static const char *c_tx_idx_jump(struct nt *n, int arg)
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

/* --- the receive side --------------------------------------------------------------------- */

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

static const char *c_rx_readable_first(struct nt *n, int arg)
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

static const char *c_rx_all_readable(struct nt *n, int arg)
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

static const char *c_rx_outside(struct nt *n, int arg)
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

static const char *c_rx_loop(struct nt *n, int arg)
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

static const char *c_rx_head_out_of_range(struct nt *n, int arg)
{
	const char *err = nt_setup(n, 0, 0);

	if (err)
		return err;
	raw_avail_add(n->rx, NUM + 1);
	rx_post(n, 4, RX_BUF);
	return rx_broke(n);
}

static const char *c_rx_idx_jump(struct nt *n, int arg)
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
static const char *c_rx_shorter_than_header(struct nt *n, int arg)
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
static const char *c_rx_mrg_zero_second(struct nt *n, int arg)
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
static const char *c_rx_no_buffers(struct nt *n, int arg)
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
static const char *c_rx_too_few(struct nt *n, int arg)
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

/* --- the table ------------------------------------------------------------------------------ */

#define ANY 0
#define MRG_ONLY 1
#define NO_MRG_ONLY 2

static const struct {
	const char *name;
	const char *outcome;
	const char *(*fn)(struct nt *n, int arg);
	int arg;
	int only;
} cases[] = {
	{ "tx_segments_1", "REFLECT", c_segments, 1, ANY },
	{ "tx_segments_2", "REFLECT", c_segments, 2, ANY },
	{ "tx_segments_3", "REFLECT", c_segments, 3, ANY },
	{ "tx_segments_4", "REFLECT", c_segments, 4, ANY },
	{ "tx_segments_5", "REFLECT", c_segments, 5, ANY },
	{ "tx_segments_8", "REFLECT", c_segments, 8, ANY },
	{ "tx_segments_17", "REFLECT", c_segments, 17, ANY },
	{ "tx_segments_64", "REFLECT", c_segments, 64, ANY },
	{ "tx_short_and_long_chains_one_kick", "REFLECT", c_mixed_burst, 0, ANY },
	{ "tx_header_split_across_descriptors", "REFLECT", c_header_split, 0, ANY },
	{ "tx_indirect_tables", "REFLECT", c_indirect, 0, ANY },
	{ "tx_burst_of_200_one_kick", "REFLECT", c_burst_200, 0, ANY },
	{ "tx_largest_frame_65553", "REFLECT", c_max_frame, 0, ANY },
	{ "tx_smallest_frame_14", "REFLECT", c_min_frame, 0, ANY },
	{ "ring_indices_wrap", "REFLECT", c_wrap, 0, ANY },
	{ "buffers_straddle_two_regions", "REFLECT; indirect table across: EMPTY",
	  c_straddle_regions, 0, ANY },
	{ "tx_zero_length_descriptors_inside", "REFLECT", c_zero_len_inside, 0, ANY },
	{ "rx_chains_of_several_descriptors", "REFLECT", c_rx_split, 0, ANY },
	{ "rx_frame_spans_buffers", "REFLECT, num_buffers > 1", c_rx_mrg_span, 0, MRG_ONLY },
	{ "rx_header_over_one_byte_descriptors", "REFLECT", c_rx_hdr_bytes, 0, ANY },
	{ "notifications_suppressed_and_asked", "no call, then a call", c_notify, 0, ANY },
	{ "tx_desc_outside_guest_memory", "EMPTY", c_bad_tx, B_OUTSIDE, ANY },
	{ "tx_desc_past_end_of_memory", "EMPTY", c_bad_tx, B_END_OF_MEMORY, ANY },
	{ "tx_desc_addr_wraps", "EMPTY", c_bad_tx, B_ADDR_WRAPS, ANY },
	{ "tx_chain_loop", "EMPTY", c_bad_tx, B_LOOP, ANY },
	{ "tx_next_out_of_range", "EMPTY", c_bad_tx, B_NEXT_OUT_OF_RANGE, ANY },
	{ "tx_readable_after_writable", "EMPTY", c_bad_tx, B_READABLE_AFTER_WRITABLE, ANY },
	{ "tx_indirect_inside_indirect", "EMPTY", c_bad_tx, B_IND_IN_IND, ANY },
	{ "tx_indirect_len_not_multiple_of_16", "EMPTY", c_bad_tx, B_IND_LEN_NOT_16, ANY },
	{ "tx_indirect_with_next", "EMPTY", c_bad_tx, B_IND_WITH_NEXT, ANY },
	{ "tx_indirect_table_outside_memory", "EMPTY", c_bad_tx, B_IND_OUTSIDE, ANY },
	{ "tx_indirect_loop", "EMPTY", c_bad_tx, B_IND_LOOP, ANY },
	{ "tx_129_segments", "EMPTY", c_bad_tx, B_TOO_MANY_SEGS, ANY },
	{ "tx_desc_len_zero", "EMPTY", c_bad_tx, B_LEN_ZERO, ANY },
	{ "tx_header_shorter_than_12", "EMPTY", c_bad_tx, B_HEADER_SHORT, ANY },
	{ "tx_frame_65554", "EMPTY", c_bad_tx, B_FRAME_TOO_LONG, ANY },
	{ "tx_frame_13", "EMPTY (bad header)", c_bad_tx, B_FRAME_TOO_SHORT, ANY },
	{ "tx_header_ignored_without_offloads", "reflected, header zero", c_tx_bad_headers, 0,
	  ANY },
	{ "tx_bad_header_offloads_negotiated", "EMPTY (bad header)", c_tx_bad_headers_offloads, 0,
	  ANY },
	{ "tx_bad_chains_mid_burst", "EMPTY, neighbours served", c_tx_bad_mid_burst, 0, ANY },
	{ "tx_avail_head_out_of_range_mid_burst", "BROKEN after 3", c_tx_head_out_of_range, 0,
	  ANY },
	{ "tx_long_chain_then_bad_head", "BROKEN after 1", c_tx_long_then_bad_head, 0, ANY },
	{ "tx_avail_idx_jump", "BROKEN after 3", c_tx_idx_jump, 0, ANY },
	{ "rx_readable_descriptor_first", "rx BROKEN, tx goes on", c_rx_readable_first, 0, ANY },
	{ "rx_chain_all_readable", "rx BROKEN, tx goes on", c_rx_all_readable, 0, ANY },
	{ "rx_desc_outside_guest_memory", "rx BROKEN, tx goes on", c_rx_outside, 0, ANY },
	{ "rx_chain_loop", "rx BROKEN, tx goes on", c_rx_loop, 0, ANY },
	{ "rx_avail_head_out_of_range", "rx BROKEN, tx goes on", c_rx_head_out_of_range, 0, ANY },
	{ "rx_avail_idx_jump", "rx BROKEN, tx goes on", c_rx_idx_jump, 0, ANY },
	{ "rx_chain_shorter_than_header", "MRG: rx BROKEN; else DROP (no buffer)",
	  c_rx_shorter_than_header, 0, ANY },
	{ "rx_zero_length_second_buffer", "rx BROKEN, tx goes on", c_rx_mrg_zero_second, 0,
	  MRG_ONLY },
	{ "rx_no_buffers", "DROP (no buffer), then REFLECT", c_rx_no_buffers, 0, ANY },
	{ "rx_too_few_buffers", "DROP (no buffer), then REFLECT", c_rx_too_few, 0, ANY },
};

/* --- the checks after every case ----------------------------------------------------------- */

static bool pviod_alive(void)
{
	int status;

	return waitpid(pviod.pid, &status, WNOHANG) == 0 && kill(pviod.pid, 0) == 0;
}

/* Device w reflects a fresh frame, byte-exact. */
static bool witness_ok(char *why, size_t len)
{
	uint8_t out[256], in[2048];
	unsigned int i;
	int ret;

	witness_round++;
	for (i = 0; i < sizeof(out); i++)
		out[i] = frame_byte(witness_round, i);
	ret = vuser_net_send(&witness, out, sizeof(out));
	if (!ret)
		ret = vuser_net_flush(&witness);
	while (!ret) {
		ret = vuser_net_recv(&witness, in, sizeof(in));
		if (ret == -EAGAIN)
			ret = vuser_net_wait_rx(&witness, RAW_WAIT_MS);
		else if (ret >= 0)
			break;
	}
	if (ret < 0) {
		snprintf(why, len, "device w: %s", vuser_dev_errmsg(&witness.dev));
		return false;
	}
	if (ret != sizeof(out) || memcmp(in, out, sizeof(out))) {
		snprintf(why, len, "device w: reflected frame differs (%d bytes)", ret);
		return false;
	}
	vuser_net_reap_tx(&witness);
	return true;
}

static bool selected(const char *name)
{
	const char *only = getenv("BADNET_ONLY");

	return !only || !strcmp(only, name);
}

static bool applies(const struct variant *v, int only)
{
	return only == ANY || (only == MRG_ONLY && v->mrg) || (only == NO_MRG_ONLY && !v->mrg);
}

/*
 * One case in one variant: NULL or what went wrong.  @total: the counters
 * pviod must log at exit (the last ones read, or the sum of what every case
 * expected when pviod has no SIGUSR1 dump).
 */
static const char *run_case(unsigned int c, const struct variant *v, struct cnt *total, char *why,
			    size_t len)
{
	struct cnt before, after;
	const char *err;

	memset(&nt, 0, sizeof(nt));
	raw_init(&nt.r);
	nt.v = v;
	nt.tx_next = TX_GPA;
	nt.ind_next = IND_GPA;
	nt.rx_next = RX_GPA;
	if (have_stats && cnt_read(&before))
		return "no counters from pviod (SIGUSR1)";
	err = cases[c].fn(&nt, cases[c].arg);
	if (err) {
		snprintf(why, len, "%s", err);
		err = why;
	}
	cnt_add(total, &nt.want);
	if (have_stats && cnt_read(&after)) {
		err = err ? err : "no counters from pviod (SIGUSR1)";
	} else if (have_stats) {
		*total = after;
		if (!err)
			err = cnt_check(&after, &before, &nt.want, why, len);
		else
			cnt_print("counters moved by", &after, &before);
	}
	raw_close(&nt.r);
	if (!err && !pviod_alive())
		err = "pviod died";
	if (!err && !witness_ok(why, len))
		err = why;
	return err;
}

int main(void)
{
	char dir[] = "/tmp/pvio-badnet.XXXXXX", why[512];
	char dev_a[PATH_MAX + 64], dev_w[PATH_MAX + 64];
	unsigned int nc = sizeof(cases) / sizeof(cases[0]), nv, c, plan = 0, t = 0, failed = 0;
	struct vuser_net_opts wo = { .queue_size = 64, .timeout_ms = RAW_WAIT_MS };
	struct cnt total = { 0 }, now;
	int ret;

	nv = sizeof(variants) / sizeof(variants[0]);
	signal(SIGPIPE, SIG_IGN);
	for (c = 0; c < nc; c++)
		for (t = 0; t < nv; t++)
			plan += applies(&variants[t], cases[c].only);
	printf("TAP version 13\n1..%u\n", plan + 1);
	fflush(stdout);
	if (!mkdtemp(dir)) {
		printf("Bail out! a temporary directory in /tmp\n");
		return 1;
	}
	snprintf(sock_a, sizeof(sock_a), "%s/a.sock", dir);
	snprintf(sock_w, sizeof(sock_w), "%s/w.sock", dir);
	snprintf(logpath, sizeof(logpath), "%s/pviod.log", dir);
	snprintf(dev_a, sizeof(dev_a), "net,socket=%s,backend=loop", sock_a);
	snprintf(dev_w, sizeof(dev_w), "net,socket=%s,backend=loop", sock_w);
	{
		const char *const args[] = { "--device", dev_a, "--device", dev_w, NULL };

		if (pvt_pviod_start(&pviod, logpath, args, 5000)) {
			pvt_dump_log(logpath);
			printf("Bail out! pviod (%s) did not start\n", pviod.bin);
			return 1;
		}
	}
	wo.socket_path = sock_w;
	ret = vuser_net_open(&witness, &wo);
	if (ret) {
		printf("Bail out! device w: %s\n", vuser_dev_errmsg(&witness.dev));
		pvt_pviod_stop(&pviod, PVT_STOP_MS);
		return 1;
	}
	have_stats = cnt_read(&total) == 0;
	if (!have_stats)
		printf("# pviod logs no net counters on SIGUSR1: counters checked at exit only\n");

	t = 0;
	for (c = 0; c < nc; c++) {
		unsigned int v;

		for (v = 0; v < nv; v++) {
			unsigned int before = raw_inputs;
			const char *err;

			if (!applies(&variants[v], cases[c].only))
				continue;
			t++;
			if (!selected(cases[c].name)) {
				printf("ok %u %s/%s # SKIP not selected\n", t, variants[v].name,
				       cases[c].name);
				continue;
			}
			err = run_case(c, &variants[v], &total, why, sizeof(why));
			if (err) {
				failed++;
				printf("not ok %u %s/%s # expected %s: %s\n", t, variants[v].name,
				       cases[c].name, cases[c].outcome, err);
			} else {
				printf("ok %u %s/%s\n", t, variants[v].name, cases[c].name);
				printf("# %s/%s: %s; %u hostile inputs; pviod alive, w serves\n",
				       variants[v].name, cases[c].name, cases[c].outcome,
				       raw_inputs - before);
			}
			fflush(stdout);
			if (!pviod_alive()) {
				fflush(stdout);
				pvt_dump_log(logpath);
				printf("Bail out! pviod died\n");
				return 1;
			}
		}
	}
	printf("# %u hostile inputs in %u cases, %u failed\n", raw_inputs, t, failed);
	vuser_net_close(&witness);
	pvt_pviod_stop(&pviod, PVT_STOP_MS);

	/* The totals pviod logs at exit: everything every case expected. */
	if (cnt_last(&now) == 0) {
		failed++;
		printf("not ok %u counters_at_exit # no counter line for net0 in pviod's log\n",
		       plan + 1);
	} else if (cnt_check(&now, &(struct cnt){ 0 }, &total, why, sizeof(why))) {
		failed++;
		printf("not ok %u counters_at_exit # %s\n", plan + 1, why);
	} else {
		printf("ok %u counters_at_exit\n", plan + 1);
	}
	fflush(stdout);
	if (failed)
		pvt_dump_log(logpath);
	{
		char cmd[PATH_MAX + 16];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd))
			fprintf(stderr, "# could not remove %s\n", dir);
	}
	return failed ? 1 : 0;
}
