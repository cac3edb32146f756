// SPDX-License-Identifier: GPL-2.0
/*
 * tx.c - the net device's transmit path (driver -> back-end).
 *
 * Bursts of up to PVIOD_NET_BATCH chains, sized by one look at the avail
 * index per burst, in two passes: the first pops them all (each validated
 * by the ring) and starts loading what the second will touch, so the cache
 * misses on the driver's lines overlap; the second hands each frame to the
 * back-end.  A frame's header is copied out once and checked (hdr.c), and
 * the back-end gets an iovec whose first element is our copy of the header
 * and the rest the guest's own segments, so the tap writes straight from
 * guest memory (no copy).  The burst's used entries go out with one index
 * store, and the driver is signalled once for the worker's batch, as
 * EVENT_IDX asks.
 *
 * Threads: the pair's worker (net.h).
 */
#include <errno.h>
#include <string.h>

#include "net/net.h"

/*
 * Copy the transmit header out once (it may span segments); it is never
 * read from guest memory again.  §5.1.6.2.2: flag bits the device does not
 * use on transmit (DATA_VALID, RSC_INFO, unknown ones) are ignored;
 * num_buffers is ours.
 */
static void pviod_net_tx_hdr_read(struct pvio_net_hdr *h, unsigned int hdr_len,
				  const struct pvring_chain *c, const struct pvring_seg *seg)
{
	if (likely(seg[0].len >= hdr_len)) {
		memcpy(h, seg[0].base, hdr_len);
	} else {
		struct pvring_seg hseg = { h, hdr_len };
		struct iovec segs[PVIOD_NET_SEGS];
		struct pviod_net_cursor src;
		unsigned int i;

		for (i = 0; i < c->nout; i++) {
			segs[i].iov_base = seg[i].base;
			segs[i].iov_len = seg[i].len;
		}
		src = (struct pviod_net_cursor){ .iov = segs, .niov = c->nout };
		pviod_net_copy(&src, &hseg, 1, hdr_len);
	}
	h->flags &= PVIO_NET_HDR_F_NEEDS_CSUM;
	h->num_buffers = 0;
}

static void pviod_net_tx_one(struct pviod_net_pair *p, const struct pvring_chain *c,
			     const struct pvring_seg *seg)
{
	struct pviod_net *net = p->net;
	uint64_t features = pviod_net_features_get(net);
	unsigned int hdr_len = net->hdr_len, i, niov = 1;
	struct pvio_net_hdr h = { 0 };
	size_t skip = hdr_len, frame_len;
	int ret;

	if (c->out_len < hdr_len || c->out_len - hdr_len > PVIOD_NET_FRAME_MAX) {
		p->st.tx_bad_chain++;
		if (pviod_ratelimit_ok(&p->rl))
			pr_warn("%s: tx queue %u: chain of %llu readable bytes dropped",
				net->dev->name, p->index, (unsigned long long)c->out_len);
		return;
	}
	/*
	 * Without CSUM and HOST_TSO4/6 the header is not read at all: virtio
	 * 1.2 §5.1.6.2.1 has the driver send flags 0 and GSO_NONE then, so it
	 * carries nothing for us, and the driver wrote its cache line last:
	 * skipping it saves a miss per frame.  h stays zero (and untouched:
	 * the back-end reads it whole, best from one store).
	 */
	frame_len = (size_t)c->out_len - hdr_len;
	if (features & PVIOD_NET_TX_HDR_OFFLOADS) {
		pviod_net_tx_hdr_read(&h, hdr_len, c, seg);
		ret = pviod_net_hdr_check(&h, frame_len, features);
	} else {
		/* What pviod_net_hdr_check() finds wrong with a zero header. */
		ret = frame_len < PVIOD_NET_ETH_HLEN ? -EMSGSIZE : 0;
	}
	if (ret) {
		p->st.tx_bad_hdr++;
		if (pviod_ratelimit_ok(&p->rl))
			pr_warn("%s: tx queue %u: bad header (flags 0x%x gso %u hdr_len %u gso_size %u csum %u+%u, frame %zu): %s; dropped",
				net->dev->name, p->index, h.flags, h.gso_type,
				le16_to_cpu(h.hdr_len), le16_to_cpu(h.gso_size),
				le16_to_cpu(h.csum_start), le16_to_cpu(h.csum_offset), frame_len,
				strerror(-ret));
		return;
	}
	/* Always a 12-byte header towards the back-end; the frame stays in guest memory. */
	p->txiov[0].iov_base = &h;
	p->txiov[0].iov_len = PVIOD_NET_HDR_LEN;
	for (i = 0; i < c->nout; i++) {
		size_t l = seg[i].len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		p->txiov[niov].iov_base = (uint8_t *)seg[i].base + skip;
		p->txiov[niov].iov_len = l - skip;
		skip = 0;
		niov++;
	}
	p->st.tx_frames++;
	p->st.tx_bytes += frame_len;
	net->be->tx(p, p->txiov, niov, PVIOD_NET_HDR_LEN + frame_len);
}

/**
 * pviod_net_tx_serve - hand one chain of a transmit burst to the back-end
 * @p: the pair (its worker)
 * @b: the chain, as pass 1 popped it (a bad one is counted and dropped)
 */
void pviod_net_tx_serve(struct pviod_net_pair *p, const struct pviod_net_txb *b)
{
	if (likely(b->ret > 0)) {
		pviod_net_tx_one(p, &b->c, b->big ? p->txseg : b->seg);
		return;
	}
	p->st.tx_bad_chain++;
	if (pviod_ratelimit_ok(&p->rl))
		pr_warn("%s: tx queue %u: bad descriptor chain at head %u: %s", p->net->dev->name,
			p->index, b->c.head, strerror(-b->ret));
}

/* One burst's used entries with one index store; the signal after the worker's batch. */
static void pviod_net_tx_publish(struct pviod_net_pair *p, struct pviod_queue *q, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		pviod_queue_put(q, p->txb[i].c.head, 0);
	pviod_queue_publish(q);
}

/*
 * Pass 1 over a burst of @n chains: pop them all, starting the load of each
 * one's descriptors and first frame bytes before the first is served, so
 * the cache misses on the driver's lines overlap.  A chain with more than
 * PVIOD_NET_TXB_SEGS segments is popped again into p->txseg and ends the
 * burst.
 *
 * Return: how many were popped (their heads are valid); fewer than @n
 * when a packed ring ran out of chains, or (and *@err set) when the avail
 * ring is corrupt.
 */
static unsigned int pviod_net_tx_pop_burst(struct pviod_net_pair *p, struct pvring_dev *vr,
					   unsigned int n, int *err)
{
	const struct pviod_net_backend_ops *be = p->net->be;
	bool hdr_read = pviod_net_features_get(p->net) & PVIOD_NET_TX_HDR_OFFLOADS;
	bool counted = !pvring_dev_is_packed(vr);
	unsigned int i;
	int ret;

	/*
	 * Packed: @n is only a bound (pviod_net_tx_queue_serve()), and the
	 * descriptors the pops read are the lines their used descriptors go
	 * to: nothing to load ahead but the receive side.
	 */
	if (counted) {
		for (i = 0; i < n; i++)
			pvring_dev_prefetch_desc(vr, i);
		pvring_dev_prefetch_used(vr, n);
	}
	if (be->tx_prefetch)
		be->tx_prefetch(p, n, false);
	for (i = 0; i < n; i++) {
		struct pviod_net_txb *b = &p->txb[i];

		b->big = false;
		ret = pviod_queue_pop(p->txq, &b->c, b->seg, PVIOD_NET_TXB_SEGS);
		if (unlikely(ret == -ENOBUFS && b->c.head_valid)) {
			/* Again, into the array that takes the most a chain may have. */
			pviod_queue_unpop(p->txq, 1);
			ret = pviod_queue_pop(p->txq, &b->c, p->txseg, PVIOD_NET_SEGS);
			b->big = true;
			n = i + 1;
		}
		b->ret = ret;
		if (unlikely(ret <= 0 && !b->c.head_valid)) {
			/* Uncounted (packed), the burst ends where the ring does. */
			if (!ret && !counted)
				n = i;
			else
				*err = ret ? ret : -EIO;
			break;
		}
		/* The header, when pviod_net_tx_one() will read it. */
		if (hdr_read && likely(ret > 0 && !b->big && b->c.nout))
			pvring_prefetch(b->seg[0].base);
	}
	if (unlikely(*err))
		return i;
	if (be->tx_prefetch)
		be->tx_prefetch(p, n, true);
	return n;
}

/* The ->queue_serve of a tx queue: bursts until the ring is empty or the budget is spent. */
enum pviod_serve pviod_net_tx_queue_serve(struct pviod_queue *q)
{
	struct pviod_net_pair *p = q->priv;
	const struct pviod_net_backend_ops *be = p->net->be;
	struct pvring_dev *vr = &q->ring;
	unsigned int total = 0, n, got, i;
	int avail, err = 0;

	for (;;) {
		/*
		 * Split: one look at avail->idx per burst; the pops below use
		 * the cached index.  Packed: no count, whose walk would read
		 * every head's flags once more than the pops do; the burst pops
		 * until the ring has nothing, at most a batch.
		 */
		if (pvring_dev_is_packed(vr)) {
			n = PVIOD_NET_BATCH;
		} else {
			avail = pvring_dev_avail(vr);
			if (unlikely(avail < 0)) {
				pviod_queue_break(q, "the avail index jumped", avail);
				return PVIOD_SERVE_EMPTY;
			}
			n = avail < PVIOD_NET_BATCH ? (unsigned int)avail : PVIOD_NET_BATCH;
		}
		got = pviod_net_tx_pop_burst(p, vr, n, &err);
		/* Pass 2: serve them in order. */
		if (be->tx_burst) {
			be->tx_burst(p, got);
		} else {
			for (i = 0; i < got; i++)
				pviod_net_tx_serve(p, &p->txb[i]);
		}
		/* The back-end's batch first (the loop's rx), then one used index store. */
		if (be->tx_flush)
			be->tx_flush(p);
		if (got)
			pviod_net_tx_publish(p, q, got);
		if (unlikely(err))
			return PVIOD_SERVE_EMPTY; /* the queue broke */
		/* A packed burst short of its bound emptied the ring. */
		if (!got || (got < n && pvring_dev_is_packed(vr)))
			return PVIOD_SERVE_EMPTY;
		total += got;
		/* Then the worker's other queues' turn. */
		if (total >= PVIOD_NET_KICK_BUDGET)
			return PVIOD_SERVE_MORE;
	}
}
