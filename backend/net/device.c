// SPDX-License-Identifier: GPL-2.0
/*
 * device.c - the virtio-net device (virtio 1.2 §5.1): features, config space,
 * the control queue, and the data path every back-end shares.
 *
 * Transmit (driver -> back-end): bursts of up to PVIOD_NET_BATCH chains,
 * sized by one read of avail->idx per burst; each chain is popped (and
 * validated) by the ring, its header copied out once and checked
 * (net_hdr.c), and the back-end gets an iovec whose first element is our
 * copy of the header and the rest the guest's own segments, so the tap
 * writes straight from guest memory (no copy).  The burst's used entries
 * go out with one pvring_dev_publish() (one index store) and at
 * most one signal, as EVENT_IDX asks.  A polled ring (--poll on) is left
 * with kicks off and the kick budget is not re-queued through the eventfd:
 * the worker looks again, and asks for kicks only before it sleeps.
 *
 * Receive (back-end -> driver): pviod_net_rx_put() takes a fast path when
 * the frame is contiguous and the next receive chain's first segment holds
 * header and frame (the usual DPDK and Linux buffers): our checked header
 * and the frame go in with two memcpy()s.  Otherwise it copies a frame into
 * as many receive chains as it needs (one without MRG_RXBUF), writes
 * num_buffers into the first, and stages the used entries; the caller
 * publishes and signals once per batch with pviod_net_rx_flush().  When the
 * driver has posted too few buffers the chains taken for that frame are
 * given back (pvring_dev_unput() and pvring_dev_unpop(): nothing was
 * published) and the frame is dropped and counted: a guest that stops
 * receiving never stalls its sender, another port, or another device.
 *
 * A back-end with a receive source (tap fd, switch inbox eventfd) has it
 * polled through the pair's worker's io_uring; the poll is re-armed after
 * each drain and not armed while the driver has no buffers (we wait for its
 * rx kick instead, so frames stay queued in the tap and TCP sees
 * back-pressure rather than loss).
 *
 * Threads: see net.h.  The rx and tx queue of a pair share one worker.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "core/options.h"
#include "core/worker.h"
#include "net/net.h"

#define PVIOD_NET_CTRL_MAX 1024 /* command bytes we read (MAC tables of up to ~160 entries) */

static struct pviod_net *pviod_net_of(struct pviod_device *dev)
{
	return dev->priv;
}

static uint64_t pviod_net_features_get(const struct pviod_net *net)
{
	return __atomic_load_n(&net->features, __ATOMIC_RELAXED);
}

/* --- receive ----------------------------------------------------------------------- */

/* May the pair's worker touch the rx ring?  Only ever called on that worker. */
static bool pviod_net_rx_ok(struct pviod_net_pair *p)
{
	/* Acquire: pairs with the release in queue_start, after pvring_dev_init(). */
	return __atomic_load_n(&p->rx_live, __ATOMIC_ACQUIRE) && !p->rxq->stopping &&
	       !p->rxq->broken && !p->rx_broken;
}

/**
 * pviod_net_rx_ready - does the driver have receive buffers posted?
 * @p: the pair (its worker)
 *
 * Return: true when a frame could be received now.
 */
bool pviod_net_rx_ready(struct pviod_net_pair *p)
{
	struct pvring_dev *vr = &p->rxq->ring;

	if (!pviod_net_rx_ok(p))
		return false;
	return pvring_dev_has_avail(vr);
}

/* A position in a source iovec. */
struct pviod_net_cursor {
	const struct iovec *iov;
	unsigned int niov;
	unsigned int i;
	size_t off;
};

/* Copy up to @n bytes from @src into @seg (from its start); advances @src. */
static size_t pviod_net_copy(struct pviod_net_cursor *src, const struct pvring_seg *seg,
			     unsigned int nseg, size_t n)
{
	unsigned int si = 0;
	size_t so = 0, done = 0;

	while (done < n && si < nseg && src->i < src->niov) {
		size_t a = seg[si].len - so, b = src->iov[src->i].iov_len - src->off, k;

		k = a < b ? a : b;
		if (k > n - done)
			k = n - done;
		memcpy((uint8_t *)seg[si].base + so,
		       (const uint8_t *)src->iov[src->i].iov_base + src->off, k);
		done += k;
		so += k;
		src->off += k;
		if (so == seg[si].len) {
			si++;
			so = 0;
		}
		if (src->off == src->iov[src->i].iov_len) {
			src->i++;
			src->off = 0;
		}
	}
	return done;
}

/* Where byte @off of the chain lies (the header's num_buffers may straddle segments). */
static uint8_t *pviod_net_seg_byte(const struct pvring_seg *seg, unsigned int nseg, size_t off)
{
	unsigned int i;

	for (i = 0; i < nseg; i++) {
		if (off < seg[i].len)
			return (uint8_t *)seg[i].base + off;
		off -= seg[i].len;
	}
	return NULL;
}

/*
 * The receiver cannot take an offload it did not negotiate: complete a
 * partial checksum here (linearising into the bounce buffer unless the
 * frame is already there); segment a TCP super-frame it has no GUEST_TSO4/6
 * (or, with GSO_ECN, no GUEST_ECN) for in software (net_gso.c), as Linux's
 * GSO does, and put each segment through pviod_net_rx_put() like any frame
 * (filtered and counted one by one); refuse UDP GSO.
 *
 * A segment is built in p->gso_seg, never in p->bounce (which may hold the
 * super-frame), and it never asks for a software checksum: without
 * GUEST_CSUM net_gso.c computes it, so its rx_put() copies nothing here.
 *
 * Return: 0 with *@segmented false: deliver @h and *@iovp.  With
 * *@segmented true: the frame was consumed as segments, and this is the
 * first error a segment's pviod_net_rx_put() returned (already counted), or
 * 0.  Otherwise (*@segmented false, nothing counted): -EOPNOTSUPP (UDP GSO),
 * -EINVAL / -EMSGSIZE / -EPROTONOSUPPORT (a super-frame that cannot be
 * segmented, see pviod_net_gso_init()), -EINVAL (a bad partial checksum).
 */
static int pviod_net_rx_fixup(struct pviod_net_pair *p, struct pvio_net_hdr *h,
			      const struct iovec **iovp, unsigned int *niovp, size_t len,
			      struct iovec *tmp, bool *segmented)
{
	uint64_t f = pviod_net_features_get(p->net);
	unsigned int gso = h->gso_type & ~PVIO_NET_HDR_GSO_ECN;
	const struct iovec *iov = *iovp;
	uint8_t *frame = p->bounce + PVIOD_NET_HDR_LEN;
	size_t frame_len = len - PVIOD_NET_HDR_LEN, done = 0;
	bool linear = *niovp == 2 && iov[1].iov_base == frame;
	unsigned int i;

	*segmented = false;
	if (unlikely(gso != PVIO_NET_HDR_GSO_NONE)) {
		unsigned int tso = gso == PVIO_NET_HDR_GSO_TCPV4 ? PVIO_NET_F_GUEST_TSO4 :
								   PVIO_NET_F_GUEST_TSO6;
		struct pviod_net_gso g;
		struct iovec siov[2];
		int ret, first = 0, n;

		if (gso != PVIO_NET_HDR_GSO_TCPV4 && gso != PVIO_NET_HDR_GSO_TCPV6)
			return -EOPNOTSUPP;
		if ((f & PVIO_BIT(tso)) &&
		    (!(h->gso_type & PVIO_NET_HDR_GSO_ECN) || (f & PVIO_BIT(PVIO_NET_F_GUEST_ECN))))
			return 0; /* the receiver takes it whole */
		/* One contiguous frame: in place, or gathered into the bounce buffer. */
		if (*niovp == 2) {
			frame = iov[1].iov_base;
		} else {
			for (i = 1; i < *niovp; i++) {
				memcpy(frame + done, iov[i].iov_base, iov[i].iov_len);
				done += iov[i].iov_len;
			}
		}
		ret = pviod_net_gso_init(&g, h, frame, frame_len);
		if (ret) {
			if (pviod_ratelimit_ok(&p->rl))
				pr_warn("%s: rx queue %u: cannot segment a %zu-byte GSO frame for a receiver without TSO: %s",
					p->net->dev->name, p->index, frame_len, strerror(-ret));
			return ret;
		}
		*segmented = true;
		siov[0].iov_base = p->gso_seg;
		siov[0].iov_len = PVIOD_NET_HDR_LEN;
		siov[1].iov_base = p->gso_seg + PVIOD_NET_HDR_LEN;
		for (i = 0; i < g.nsegs; i++) {
			n = pviod_net_gso_seg(&g, i, f & PVIO_BIT(PVIO_NET_F_GUEST_CSUM),
					      (struct pvio_net_hdr *)p->gso_seg, siov[1].iov_base,
					      PVIOD_NET_FRAME_MAX);
			if (n < 0)
				return first ? first : n; /* cannot happen: the buffer fits any */
			siov[1].iov_len = (size_t)n;
			ret = pviod_net_rx_put(p, siov, 2, PVIOD_NET_HDR_LEN + (size_t)n);
			if (ret && !first)
				first = ret;
			if (ret == -EIO)
				break; /* the queue stopped or broke: the rest would fail alike */
			/* A super-frame is up to 45 frames: let the driver see them in batches. */
			if (p->rx_staged >= PVIOD_NET_BATCH)
				pviod_net_rx_flush(p);
		}
		return first;
	}
	if (f & PVIO_BIT(PVIO_NET_F_GUEST_CSUM))
		return 0;
	if (h->flags & PVIO_NET_HDR_F_NEEDS_CSUM) {
		if (!linear) {
			for (i = 1; i < *niovp; i++) {
				memcpy(frame + done, iov[i].iov_base, iov[i].iov_len);
				done += iov[i].iov_len;
			}
		}
		if (pviod_net_csum_fill(h, frame, frame_len))
			return -EINVAL;
		tmp[0] = iov[0];
		tmp[1].iov_base = frame;
		tmp[1].iov_len = frame_len;
		*iovp = tmp;
		*niovp = 2;
	}
	/*
	 * §5.1.6.4.1: without GUEST_CSUM the device sets flags to zero.  Only
	 * when they are not: a byte store into *h, read back whole by the
	 * copy into the driver's buffer, could not be forwarded to that load,
	 * which would then wait for every older store to leave the store
	 * buffer (see pviod_net_rx_put_linear()).
	 */
	if (h->flags)
		h->flags = 0;
	return 0;
}

/*
 * The common case (a contiguous frame, a receive chain whose first segment
 * holds header and frame: DPDK's and Linux's small buffers): one pop and two
 * plain copies, no cursor.  @h is our checked copy of the header, never the
 * sender's bytes.
 *
 * Return: 1 when the frame went in; -ENOBUFS when the driver has no buffer
 * posted (counted); 0 with the ring as it was (a chain popped here is given
 * back: the generic path pops it again, and reports what is wrong with it).
 */
static int pviod_net_rx_put_linear(struct pviod_net_pair *p, const struct pvio_net_hdr *h,
				   unsigned int hdr_len, const void *frame, size_t frame_len)
{
	struct pvring_chain c;
	uint8_t *dst;
	uint16_t head;
	int ret;

	if (p->rxb_next < p->rxb_n) {
		const struct pviod_net_rxb *b = &p->rxb[p->rxb_next];

		if (unlikely(b->seg.len < hdr_len + frame_len)) {
			pviod_net_rx_unreserve(p);
			return 0;
		}
		p->rxb_next++;
		dst = b->seg.base;
		head = b->head;
		goto put;
	}
	ret = pviod_queue_pop(p->rxq, &c, p->rxseg, PVIOD_NET_SEGS);
	if (ret == 0) {
		p->st.rx_no_buf++;
		return -ENOBUFS;
	}
	if (unlikely(ret != 1 || c.nout || p->rxseg[0].len < hdr_len + frame_len)) {
		/* Nothing was published: give the chain back if we took one. */
		if (c.head_valid)
			pviod_queue_unpop(p->rxq, 1);
		return 0;
	}
	dst = p->rxseg[0].base;
	head = c.head;
put:
	/*
	 * Fixed-size copies: the first ten bytes of *h as the caller stored
	 * them, num_buffers (always 1 here) from a register.  A variable-size
	 * copy of *h reads back, across two of its stores, what was just
	 * written: the load then waits for the store buffer to drain, and
	 * with the previous frames' stores to the driver's lines still
	 * missing, that costs a cross-core round trip per frame.
	 */
	memcpy(dst, h, 10);
	if (hdr_len == PVIOD_NET_HDR_LEN) {
		__le16 one = cpu_to_le16(1);

		memcpy(dst + 10, &one, sizeof(one));
	}
	memcpy(dst + hdr_len, frame, frame_len);
	pviod_queue_put(p->rxq, head, (uint32_t)(hdr_len + frame_len));
	p->rx_staged++;
	p->st.rx_frames++;
	p->st.rx_bytes += frame_len;
	return 1;
}

/*
 * A frame did not fit after all: take back the @nput used entries it was
 * staged into and give back the @npop chains it popped (nothing of either
 * was published, so the driver never sees the difference).
 */
static void pviod_net_rx_giveback(struct pviod_net_pair *p, unsigned int nput, unsigned int npop)
{
	pviod_queue_unput(p->rxq, nput);
	pviod_queue_unpop(p->rxq, npop);
	p->rx_staged -= nput;
}

/*
 * The driver's receive filter, before any copy or checksum: the frame's
 * first bytes are read in place when the first frame segment holds them
 * (always, from the tap, the switch and the loop's usual buffers), else
 * gathered into 18 bytes on the stack.
 */
static bool pviod_net_rx_filter(struct pviod_net_pair *p, const struct iovec *iov,
				unsigned int niov, size_t len)
{
	const struct pviod_net_filter *f = &p->net->filter;
	size_t flen = len - PVIOD_NET_HDR_LEN, want = flen < 18 ? flen : 18, got = 0;
	uint8_t eth[18];
	unsigned int i;

	if (likely(!__atomic_load_n(&f->on, __ATOMIC_RELAXED)))
		return true;
	if (likely(niov >= 2 && iov[1].iov_len >= want))
		return __pviod_net_filter_accept(f, iov[1].iov_base, flen);
	for (i = 1; i < niov && got < want; i++) {
		size_t k = iov[i].iov_len < want - got ? iov[i].iov_len : want - got;

		memcpy(eth + got, iov[i].iov_base, k);
		got += k;
	}
	return __pviod_net_filter_accept(f, eth, got);
}

/**
 * pviod_net_rx_put - copy one frame into the driver's receive buffers
 * @p: the pair (called on its worker)
 * @iov: iov[0] is a 12-byte struct pvio_net_hdr, the rest the frame
 * @niov: elements in @iov, >= 1
 * @len: total bytes in @iov
 *
 * The used entries are staged; pviod_net_rx_flush() publishes them.
 *
 * A TCP super-frame for a driver without the matching GUEST_TSO4/6 is
 * segmented in software and each segment put through here (filtered and
 * counted as a frame of its own).
 *
 * Return: 0 (also when the driver's receive filter refused the frame:
 * counted in rx_filtered); -ENOBUFS when the driver has too few buffers (counted, the
 * frame is dropped); -EOPNOTSUPP for an offload the driver did not
 * negotiate and pviod cannot do for it (UDP GSO); -EINVAL, -EMSGSIZE or
 * -EPROTONOSUPPORT for a super-frame that cannot be segmented (counted in
 * rx_dropped); -EIO when the rx queue is not running or broke.  For a
 * segmented frame, the first error of its segments.
 */
int pviod_net_rx_put(struct pviod_net_pair *p, const struct iovec *iov, unsigned int niov,
		     size_t len)
{
	struct pviod_net *net = p->net;
	unsigned int hdr_len = net->hdr_len, nbuf = 0, npop = 0;
	uint8_t *nb_lo = NULL, *nb_hi = NULL; /* where the header's num_buffers landed */
	struct pviod_net_cursor src;
	struct pvio_net_hdr h;
	struct iovec hiov, tmp[2];
	struct pvring_chain c;
	size_t need, left;
	bool mrg = hdr_len == PVIOD_NET_HDR_LEN &&
		   (pviod_net_features_get(net) & PVIO_BIT(PVIO_NET_F_MRG_RXBUF));
	bool segmented;
	int ret;

	if (!pviod_net_rx_ok(p)) {
		p->st.rx_dropped++;
		return -EIO;
	}
	if (unlikely(!pviod_net_rx_filter(p, iov, niov, len))) {
		p->st.rx_filtered++;
		return 0;
	}
	memcpy(&h, iov[0].iov_base, sizeof(h));
	ret = pviod_net_rx_fixup(p, &h, &iov, &niov, len, tmp, &segmented);
	if (unlikely(segmented))
		return ret; /* each segment went through here: counted already */
	if (ret) {
		p->st.rx_dropped++;
		return ret;
	}
	h.num_buffers = cpu_to_le16(1);
	if (likely(niov == 2)) {
		ret = pviod_net_rx_put_linear(p, &h, hdr_len, iov[1].iov_base, iov[1].iov_len);
		if (ret)
			return ret < 0 ? ret : 0;
	}
	/* The general path pops in order: hand back what was popped ahead. */
	pviod_net_rx_unreserve(p);
	hiov.iov_base = &h;
	hiov.iov_len = hdr_len;
	need = hdr_len + len - PVIOD_NET_HDR_LEN;
	left = need;

	while (left) {
		struct pviod_net_cursor hsrc = { .iov = &hiov, .niov = 1 };
		unsigned int skip = 0;
		size_t put, room;

		ret = pviod_queue_pop(p->rxq, &c, p->rxseg, PVIOD_NET_SEGS);
		if (c.head_valid)
			npop++;
		/*
		 * A chain no driver may post, whatever the frame's size: one
		 * that is not all writable, or with MRG_RXBUF one smaller than
		 * the header (virtio 1.2 §5.1.6.3.1: each buffer holds at least
		 * the header then).  The queue breaks.  Without MRG_RXBUF a
		 * short chain is only too small for this frame (below).
		 */
		if (ret < 0 || (ret > 0 && (c.nout || (mrg && c.in_len < hdr_len)))) {
			pviod_net_rx_giveback(p, nbuf, npop);
			p->rx_broken = true;
			p->st.rx_dropped++;
			pviod_queue_break(p->rxq,
					  ret == -EIO ? "the avail ring is corrupt" :
							"a receive chain is unusable",
					  ret < 0 ? ret : -EINVAL);
			return -EIO;
		}
		if (ret == 0 || (!mrg && c.in_len < need)) {
			/* Nothing published yet: hand every chain of this frame back. */
			pviod_net_rx_giveback(p, nbuf, npop);
			p->st.rx_no_buf++;
			return -ENOBUFS;
		}
		room = c.in_len < left ? (size_t)c.in_len : left;
		if (!nbuf) {
			/* The header goes first; remember where num_buffers landed. */
			put = pviod_net_copy(&hsrc, p->rxseg, c.nseg, hdr_len);
			if (mrg) {
				nb_lo = pviod_net_seg_byte(p->rxseg, c.nseg, 10);
				nb_hi = pviod_net_seg_byte(p->rxseg, c.nseg, 11);
			}
			/* Advance past the header within the chain's segments. */
			while (skip < c.nseg && put >= p->rxseg[skip].len) {
				put -= p->rxseg[skip].len;
				skip++;
			}
			if (skip < c.nseg) {
				p->rxseg[skip].base = (uint8_t *)p->rxseg[skip].base + put;
				p->rxseg[skip].len -= put;
			}
			src = (struct pviod_net_cursor){ .iov = iov, .niov = niov, .i = 1 };
			pviod_net_copy(&src, p->rxseg + skip, c.nseg - skip, room - hdr_len);
		} else {
			pviod_net_copy(&src, p->rxseg, c.nseg, room);
		}
		pviod_queue_put(p->rxq, c.head, (uint32_t)room);
		nbuf++;
		p->rx_staged++;
		left -= room;
		if (!room)
			break; /* a zero-length chain: cannot make progress */
	}
	if (left) {
		pviod_net_rx_giveback(p, nbuf, npop);
		p->st.rx_dropped++;
		return -ENOBUFS;
	}
	if (nbuf > 1 && nb_lo && nb_hi) {
		*nb_lo = (uint8_t)nbuf;
		*nb_hi = (uint8_t)(nbuf >> 8);
	}
	p->st.rx_frames++;
	p->st.rx_bytes += len - PVIOD_NET_HDR_LEN;
	return 0;
}

/**
 * pviod_net_rx_flush - publish the staged receive entries and signal once
 * @p: the pair (its worker)
 */
void pviod_net_rx_flush(struct pviod_net_pair *p)
{
	struct pviod_queue *q = p->rxq;

	pviod_net_rx_unreserve(p);
	if (!p->rx_staged)
		return;
	p->rx_staged = 0;
	pviod_queue_notify(q);
}

/**
 * pviod_net_rx_unreserve - hand back the receive chains popped ahead and not used
 * @p: the pair (its worker)
 *
 * They are the last chains popped and nothing of theirs was published, so
 * the driver never sees the difference.  Every path that pops the rx ring
 * other than pviod_net_rx_put_linear(), and every publish, calls this first.
 */
void pviod_net_rx_unreserve(struct pviod_net_pair *p)
{
	if (p->rxb_n != p->rxb_next)
		pviod_queue_unpop(p->rxq, p->rxb_n - p->rxb_next);
	p->rxb_n = 0;
	p->rxb_next = 0;
}

/*
 * Pop up to @n receive chains of one writable segment each ahead of their
 * frames, and start owning the first two lines of each buffer (a 12-byte
 * header and a small frame; DPDK's buffers put the header just before a
 * line boundary).  Popping a burst in one loop overlaps the descriptor
 * misses, and the buffers' ownership requests go out long before the
 * copies that need them.  Stops at the first chain of another shape,
 * handed back for pviod_net_rx_put()'s general path to pop and judge.
 */
static void pviod_net_rx_reserve(struct pviod_net_pair *p, unsigned int n)
{
	struct pviod_net_rxb *b;
	struct pvring_chain c;
	unsigned int i;
	int ret;

	pviod_net_rx_unreserve(p);
	for (i = 0; i < n; i++) {
		b = &p->rxb[i];
		ret = pviod_queue_pop(p->rxq, &c, &b->seg, 1);
		if (unlikely(ret != 1 || c.nout)) {
			if (c.head_valid)
				pviod_queue_unpop(p->rxq, 1);
			break;
		}
		b->head = c.head;
		pvring_prefetchw(b->seg.base);
		if (b->seg.len > 64)
			pvring_prefetchw((uint8_t *)b->seg.base + 64);
	}
	p->rxb_n = i;
}

/**
 * pviod_net_rx_prefetch - get ready to receive @n frames
 * @p: the pair (its worker)
 * @n: frames about to be received, <= PVIOD_NET_BATCH
 * @bufs: false: start loading the receive chains' head descriptors and used
 *        entries; true (later, once those have had time to arrive): pop the
 *        chains ahead and start owning their buffers (pviod_net_rx_reserve());
 *        the caller ends the batch with pviod_net_rx_flush()
 */
void pviod_net_rx_prefetch(struct pviod_net_pair *p, unsigned int n, bool bufs)
{
	struct pvring_dev *vr = &p->rxq->ring;
	unsigned int i;

	if (!pviod_net_rx_ok(p))
		return;
	if (bufs) {
		pviod_net_rx_reserve(p, n);
		return;
	}
	if (pvring_dev_avail(vr) <= 0)
		return;
	for (i = 0; i < n; i++)
		pvring_dev_prefetch_desc(vr, i);
	pvring_dev_prefetch_used(vr, n);
}

static void pviod_net_src_ready(struct pviod_io *io, int res)
{
	struct pviod_net_pair *p =
		(struct pviod_net_pair *)((char *)io - offsetof(struct pviod_net_pair, src_io));

	p->src_armed = false;
	/* A stopped queue is drained again by the run its restart gives. */
	if (!pviod_net_rx_ok(p) || p->rx_wait_buf)
		return;
	pviod_queue_run(p->rxq);
}

static void pviod_net_src_arm(struct pviod_net_pair *p)
{
	struct io_uring_sqe *sqe;

	if (p->src_armed || p->src_fd < 0)
		return;
	sqe = pviod_worker_sqe(p->rxq->worker);
	if (!sqe)
		return; /* retried on the next rx kick */
	io_uring_prep_poll_add(sqe, p->src_fd, POLLIN);
	io_uring_sqe_set_data(sqe, &p->src_io);
	p->src_armed = true;
}

/*
 * Move what the source holds into the driver's buffers, a bounded amount per
 * call.  Return: PVIOD_SERVE_EMPTY when the driver has no buffer for the
 * next frame (its kick, or a busy-poll, brings us back); PVIOD_SERVE_IDLE
 * otherwise, with the source's poll armed when frames may come.
 */
static enum pviod_serve pviod_net_src_drain(struct pviod_net_pair *p)
{
	const struct pviod_net_backend_ops *be = p->net->be;
	unsigned int i;
	int n;

	for (i = 0; i < PVIOD_NET_KICK_BUDGET; i++) {
		struct iovec iov[2];

		if (!pviod_net_rx_ok(p))
			goto out_flush;
		if (!pviod_net_rx_ready(p)) {
			pviod_net_rx_flush(p);
			/* Frames stay in the source: TCP sees back-pressure, not loss. */
			p->rx_wait_buf = true;
			return PVIOD_SERVE_EMPTY;
		}
		n = be->rx_read(p, p->bounce, PVIOD_NET_HDR_LEN + PVIOD_NET_FRAME_MAX);
		if (n == -EAGAIN)
			break;
		if (n < (int)(PVIOD_NET_HDR_LEN + PVIOD_NET_ETH_HLEN)) {
			p->st.rx_dropped++;
			continue;
		}
		iov[0].iov_base = p->bounce;
		iov[0].iov_len = PVIOD_NET_HDR_LEN;
		iov[1].iov_base = p->bounce + PVIOD_NET_HDR_LEN;
		iov[1].iov_len = (size_t)n - PVIOD_NET_HDR_LEN;
		pviod_net_rx_put(p, iov, 2, (size_t)n);
		if (p->rx_staged >= PVIOD_NET_BATCH)
			pviod_net_rx_flush(p);
	}
	pviod_net_src_arm(p);
out_flush:
	pviod_net_rx_flush(p);
	return PVIOD_SERVE_IDLE;
}

/*
 * The driver posted buffers, the source has frames, or the queue just
 * started.  The ring is idle unless the source has frames and the driver
 * no buffer: pviod_net_rx_put() reads the avail index when it has a frame,
 * so neither kicks nor busy-polls are needed.
 */
static enum pviod_serve pviod_net_rx_serve(struct pviod_queue *q)
{
	struct pviod_net_pair *p = q->priv;

	p->rx_wait_buf = false;
	if (p->src_fd < 0)
		return PVIOD_SERVE_IDLE; /* the loop: frames come from its own tx */
	return pviod_net_src_drain(p);
}

/* --- transmit ------------------------------------------------------------------------ */

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
 * (and *@err set) when the avail ring is corrupt.
 */
static unsigned int pviod_net_tx_pop_burst(struct pviod_net_pair *p, struct pvring_dev *vr,
					   unsigned int n, int *err)
{
	const struct pviod_net_backend_ops *be = p->net->be;
	bool hdr_read = pviod_net_features_get(p->net) & PVIOD_NET_TX_HDR_OFFLOADS;
	unsigned int i;
	int ret;

	for (i = 0; i < n; i++)
		pvring_dev_prefetch_desc(vr, i);
	pvring_dev_prefetch_used(vr, n);
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
			*err = ret ? ret : -EIO;
			return i;
		}
		/* The header, when pviod_net_tx_one() will read it. */
		if (hdr_read && likely(ret > 0 && !b->big && b->c.nout))
			pvring_prefetch(b->seg[0].base);
	}
	if (be->tx_prefetch)
		be->tx_prefetch(p, n, true);
	return n;
}

static enum pviod_serve pviod_net_tx_serve_ring(struct pviod_queue *q)
{
	struct pviod_net_pair *p = q->priv;
	const struct pviod_net_backend_ops *be = p->net->be;
	struct pvring_dev *vr = &q->ring;
	unsigned int total = 0, n, got, i;
	int avail, err = 0;

	for (;;) {
		/* One look at avail->idx per burst; the pops below use the cached index. */
		avail = pvring_dev_avail(vr);
		if (unlikely(avail < 0)) {
			pviod_queue_break(q, "the avail index jumped", avail);
			return PVIOD_SERVE_EMPTY;
		}
		n = avail < PVIOD_NET_BATCH ? (unsigned int)avail : PVIOD_NET_BATCH;
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
		if (!got)
			return PVIOD_SERVE_EMPTY;
		total += got;
		/* Then the worker's other queues' turn. */
		if (total >= PVIOD_NET_KICK_BUDGET)
			return PVIOD_SERVE_MORE;
	}
}

/* --- control queue -------------------------------------------------------------------- */

/*
 * One command; @len >= 2.  RX mode, MAC and VLAN commands go to the
 * receive filter (net_filter.c checks them); MQ is ours.
 */
static uint8_t pviod_net_ctrl_do(struct pviod_net *net, const uint8_t *cmd, size_t len)
{
	const struct pvio_net_ctrl_hdr *ch = (const void *)cmd;
	const uint8_t *data = cmd + sizeof(*ch);
	size_t dlen = len - sizeof(*ch);
	uint16_t pairs;
	uint8_t ack;

	switch (ch->class) {
	case PVIO_NET_CTRL_RX:
	case PVIO_NET_CTRL_MAC:
	case PVIO_NET_CTRL_VLAN:
		pthread_mutex_lock(&net->filter_lock);
		ack = pviod_net_filter_ctrl(&net->filter, pviod_net_features_get(net), ch->class,
					    ch->cmd, data, dlen);
		/* The config space shows the address the driver set. */
		if (ack == PVIO_NET_OK && ch->class == PVIO_NET_CTRL_MAC &&
		    ch->cmd == PVIO_NET_CTRL_MAC_ADDR_SET)
			memcpy(net->mac, data, 6);
		pthread_mutex_unlock(&net->filter_lock);
		return ack;
	case PVIO_NET_CTRL_MQ:
		if (ch->cmd != PVIO_NET_CTRL_MQ_VQ_PAIRS_SET || dlen != 2)
			return PVIO_NET_ERR;
		memcpy(&pairs, data, 2);
		pairs = le16_to_cpu(pairs);
		if (pairs < 1 || pairs > net->npairs)
			return PVIO_NET_ERR;
		__atomic_store_n(&net->active_pairs, pairs, __ATOMIC_RELAXED);
		return PVIO_NET_OK;
	default:
		return PVIO_NET_ERR;
	}
}

static enum pviod_serve pviod_net_ctrl_serve(struct pviod_queue *q)
{
	struct pviod_net *net = pviod_net_of(q->dev);
	struct pvring_seg seg[16];
	uint8_t cmd[PVIOD_NET_CTRL_MAX];
	struct pvring_chain c;
	unsigned int i, budget;
	int ret;

	for (budget = 0; budget < PVIOD_NET_KICK_BUDGET; budget++) {
		size_t got = 0;
		uint8_t ack = PVIO_NET_ERR;
		uint32_t used = 0;

		ret = pviod_queue_pop(q, &c, seg, 16);
		if (ret == 0 || !c.head_valid)
			return PVIOD_SERVE_EMPTY; /* empty, or the queue broke */
		if (ret > 0) {
			for (i = 0; i < c.nout && got < sizeof(cmd); i++) {
				size_t k = seg[i].len < sizeof(cmd) - got ? seg[i].len :
									    sizeof(cmd) - got;

				memcpy(cmd + got, seg[i].base, k);
				got += k;
			}
			if (got >= sizeof(struct pvio_net_ctrl_hdr) && c.out_len <= sizeof(cmd))
				ack = pviod_net_ctrl_do(net, cmd, got);
			/* The ack is the chain's last writable byte. */
			if (c.nseg > c.nout) {
				struct pvring_seg *last = &seg[c.nseg - 1];

				WRITE_ONCE(((uint8_t *)last->base)[last->len - 1], ack);
				used = 1;
			}
			pr_debug("%s: control class %u cmd %u: %s", q->dev->name, cmd[0], cmd[1],
				 ack == PVIO_NET_OK ? "ok" : "error");
		}
		pviod_queue_complete(q, c.head, used);
	}
	return PVIOD_SERVE_MORE;
}

/* --- queues ----------------------------------------------------------------------------- */

static bool pviod_net_is_ctrl(const struct pviod_net *net, const struct pviod_queue *q)
{
	return q->index == 2 * net->npairs;
}

static enum pviod_serve pviod_net_queue_serve(struct pviod_queue *q)
{
	struct pviod_net *net = pviod_net_of(q->dev);

	if (pviod_net_is_ctrl(net, q))
		return pviod_net_ctrl_serve(q);
	if (q->index & 1)
		return pviod_net_tx_serve_ring(q);
	return pviod_net_rx_serve(q);
}

static int pviod_net_queue_start(struct pviod_device *dev, struct pviod_queue *q)
{
	struct pviod_net *net = pviod_net_of(dev);
	struct pviod_net_pair *p;

	if (pviod_net_is_ctrl(net, q))
		return 0;
	p = &net->pairs[q->index / 2];
	q->priv = p;
	if (!(q->index & 1)) {
		p->rx_broken = false;
		p->rx_wait_buf = false;
		p->rx_staged = 0;
		/* Release: the ring set up by pvring_dev_init() before the worker looks. */
		__atomic_store_n(&p->rx_live, 1, __ATOMIC_RELEASE);
	}
	return 0;
}

static void pviod_net_queue_stop(struct pviod_device *dev, struct pviod_queue *q)
{
	struct pviod_net *net = pviod_net_of(dev);

	if (!pviod_net_is_ctrl(net, q) && !(q->index & 1))
		__atomic_store_n(&net->pairs[q->index / 2].rx_live, 0, __ATOMIC_RELEASE);
}

/* --- features and config ------------------------------------------------------------- */

static uint64_t pviod_net_features(struct pviod_device *dev)
{
	return PVIO_BIT(PVIO_F_VERSION_1) | PVIO_BIT(PVIO_F_EVENT_IDX) |
	       PVIO_BIT(PVIO_F_INDIRECT_DESC) | PVIO_BIT(PVIO_F_IN_ORDER) |
	       PVIO_BIT(PVIO_NET_F_MAC) | PVIO_BIT(PVIO_NET_F_STATUS) | PVIO_BIT(PVIO_NET_F_MTU) |
	       PVIO_BIT(PVIO_NET_F_MRG_RXBUF) | PVIO_BIT(PVIO_NET_F_CSUM) |
	       PVIO_BIT(PVIO_NET_F_GUEST_CSUM) | PVIO_BIT(PVIO_NET_F_HOST_TSO4) |
	       PVIO_BIT(PVIO_NET_F_HOST_TSO6) | PVIO_BIT(PVIO_NET_F_GUEST_TSO4) |
	       PVIO_BIT(PVIO_NET_F_GUEST_TSO6) | PVIO_BIT(PVIO_NET_F_CTRL_VQ) |
	       PVIO_BIT(PVIO_NET_F_CTRL_RX) | PVIO_BIT(PVIO_NET_F_CTRL_RX_EXTRA) |
	       PVIO_BIT(PVIO_NET_F_CTRL_VLAN) | PVIO_BIT(PVIO_NET_F_CTRL_MAC_ADDR) |
	       PVIO_BIT(PVIO_NET_F_MQ);
}

static int pviod_net_features_set(struct pviod_device *dev, uint64_t f)
{
	struct pviod_net *net = pviod_net_of(dev);
	int ret = 0;

	/* virtio 1.2 §5.1.6: 12 bytes with VERSION_1 or MRG_RXBUF, else 10. */
	net->hdr_len = (f & (PVIO_BIT(PVIO_F_VERSION_1) | PVIO_BIT(PVIO_NET_F_MRG_RXBUF))) ?
			       PVIOD_NET_HDR_LEN :
			       PVIOD_NET_HDR_LEN - 2;
	__atomic_store_n(&net->active_pairs, 1, __ATOMIC_RELAXED);
	/* A new driver starts unfiltered, whatever the last one programmed. */
	pthread_mutex_lock(&net->filter_lock);
	pviod_net_filter_init(&net->filter, net->mac, f & PVIO_BIT(PVIO_NET_F_CTRL_VLAN));
	pthread_mutex_unlock(&net->filter_lock);
	if (net->be->features_set)
		ret = net->be->features_set(net, f);
	if (!ret)
		__atomic_store_n(&net->features, f, __ATOMIC_RELAXED);
	return ret;
}

static int pviod_net_config_read(struct pviod_device *dev, uint32_t off, void *buf, uint32_t len)
{
	struct pviod_net *net = pviod_net_of(dev);

	memcpy(net->config.mac, net->mac, 6);
	memcpy(buf, (const uint8_t *)&net->config + off, len);
	return 0;
}

static int pviod_net_config_write(struct pviod_device *dev, uint32_t off, const void *buf,
				  uint32_t len)
{
	struct pviod_net *net = pviod_net_of(dev);

	/* Legacy drivers set the MAC address by writing it; nothing else is writable. */
	if (off + len > 6)
		return -EPERM;
	pthread_mutex_lock(&net->filter_lock);
	memcpy(net->mac + off, buf, len);
	pviod_net_filter_mac_set(&net->filter, net->mac);
	pthread_mutex_unlock(&net->filter_lock);
	return 0;
}

static void pviod_net_destroy(struct pviod_device *dev)
{
	struct pviod_net *net = pviod_net_of(dev);
	unsigned int i;

	if (!net)
		return;
	for (i = 0; i < net->npairs; i++) {
		struct pviod_net_stats *s = &net->pairs[i].st;

		if (s->tx_frames || s->rx_frames || s->rx_no_buf || s->tx_bad_hdr || s->rx_filtered)
			pr_info("%s: pair %u: tx %llu frames %llu bytes, %llu bad header, %llu bad chain, %llu dropped; rx %llu frames %llu bytes, %llu no buffer, %llu dropped, %llu filtered",
				dev->name, i, (unsigned long long)s->tx_frames,
				(unsigned long long)s->tx_bytes, (unsigned long long)s->tx_bad_hdr,
				(unsigned long long)s->tx_bad_chain,
				(unsigned long long)s->tx_dropped, (unsigned long long)s->rx_frames,
				(unsigned long long)s->rx_bytes, (unsigned long long)s->rx_no_buf,
				(unsigned long long)s->rx_dropped,
				(unsigned long long)s->rx_filtered);
	}
	if (net->be && net->be->close)
		net->be->close(net);
	for (i = 0; i < net->npairs; i++) {
		free(net->pairs[i].bounce);
		free(net->pairs[i].gso_seg);
	}
	free(net->be_arg);
	pthread_mutex_destroy(&net->filter_lock);
	free(net);
	dev->priv = NULL;
}

static const struct pviod_device_ops pviod_net_ops = {
	.name = "net",
	.features = pviod_net_features,
	.features_set = pviod_net_features_set,
	.config_read = pviod_net_config_read,
	.config_write = pviod_net_config_write,
	.config_size = sizeof(struct pvio_net_config),
	.queue_start = pviod_net_queue_start,
	.queue_stop = pviod_net_queue_stop,
	.queue_serve = pviod_net_queue_serve,
	.queue_stats = pviod_net_queue_stats,
	.destroy = pviod_net_destroy,
};

/* --- the loop back-end ------------------------------------------------------------------ */

static void pviod_net_loop_tx(struct pviod_net_pair *p, const struct iovec *iov, unsigned int niov,
			      size_t len)
{
	/* Same worker as our rx queue: reflect straight into it. */
	if (pviod_net_rx_put(p, iov, niov, len))
		p->st.tx_dropped++;
}

/*
 * Where a transmit chain's frame lies when it is one piece after a 12-byte
 * header (header and frame in one segment, as DPDK sends them, or the
 * header alone in the first, as Linux does); NULL for any other shape.
 */
static const uint8_t *pviod_net_tx_frame(const struct pviod_net_txb *b, size_t *len)
{
	const struct pvring_seg *s = b->seg;

	if (b->c.nout == 1 && s[0].len >= PVIOD_NET_HDR_LEN) {
		*len = s[0].len - PVIOD_NET_HDR_LEN;
		return (const uint8_t *)s[0].base + PVIOD_NET_HDR_LEN;
	}
	if (b->c.nout == 2 && s[0].len == PVIOD_NET_HDR_LEN) {
		*len = s[1].len;
		return s[1].base;
	}
	return NULL;
}

/*
 * The loop's pass 2 over a transmit burst.  When the transmit header
 * carries nothing (no CSUM / HOST_TSO4/6 negotiated: it is zero, see
 * pviod_net_tx_one()), the header is 12 bytes and the driver programmed no
 * receive filter, what pviod_net_rx_put() would deliver is known without
 * looking: a zero header with num_buffers 1 and the frame.  So a frame in
 * one piece goes straight into the next receive chain popped ahead, with
 * no iovec, no header copy and the counters summed once per burst: fewer
 * stores per frame, so the store buffer holds more frames' copies while
 * their lines come over from the driver's core.  Any other frame (and any
 * frame once the chains popped ahead run out) takes the general path.
 */
static void pviod_net_loop_tx_burst(struct pviod_net_pair *p, unsigned int n)
{
	struct pviod_net *net = p->net;
	bool fast = !(pviod_net_features_get(net) & PVIOD_NET_TX_HDR_OFFLOADS) &&
		    net->hdr_len == PVIOD_NET_HDR_LEN &&
		    !__atomic_load_n(&net->filter.on, __ATOMIC_RELAXED) && pviod_net_rx_ok(p);
	/* Bytes 0-7 and 8-11 of the header: all zero but num_buffers (10-11) = 1. */
	const uint64_t hdr_lo = 0;
	const uint32_t hdr_hi = cpu_to_le32(1u << 16);
	uint64_t frames = 0, bytes = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		const struct pviod_net_txb *b = &p->txb[i];
		const struct pviod_net_rxb *r;
		const uint8_t *frame;
		uint8_t *dst;
		size_t len;

		if (unlikely(!fast || b->ret <= 0 || b->big || p->rxb_next == p->rxb_n))
			goto general;
		frame = pviod_net_tx_frame(b, &len);
		r = &p->rxb[p->rxb_next];
		if (unlikely(!frame || len < PVIOD_NET_ETH_HLEN || len > PVIOD_NET_FRAME_MAX ||
			     r->seg.len < PVIOD_NET_HDR_LEN + len))
			goto general;
		p->rxb_next++;
		dst = r->seg.base;
		memcpy(dst, &hdr_lo, sizeof(hdr_lo));
		memcpy(dst + sizeof(hdr_lo), &hdr_hi, sizeof(hdr_hi));
		memcpy(dst + PVIOD_NET_HDR_LEN, frame, len);
		pviod_queue_put(p->rxq, r->head, (uint32_t)(PVIOD_NET_HDR_LEN + len));
		p->rx_staged++;
		frames++;
		bytes += len;
		continue;
general:
		pviod_net_tx_serve(p, b);
	}
	p->st.tx_frames += frames;
	p->st.tx_bytes += bytes;
	p->st.rx_frames += frames;
	p->st.rx_bytes += bytes;
}

static const struct pviod_net_backend_ops pviod_net_loop_ops = {
	.name = "loop",
	.tx = pviod_net_loop_tx,
	.tx_burst = pviod_net_loop_tx_burst,
	.tx_prefetch = pviod_net_rx_prefetch,
	.tx_flush = pviod_net_rx_flush,
};

/* --- creation ---------------------------------------------------------------------------- */

static int pviod_net_mac_parse(const char *s, uint8_t *mac)
{
	unsigned int b[6], i;
	char end;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &end) != 6)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		if (b[i] > 0xff)
			return -EINVAL;
		mac[i] = (uint8_t)b[i];
	}
	/* A multicast address cannot be a station's. */
	return mac[0] & 1 ? -EINVAL : 0;
}

/**
 * pviod_net_create - a net device from its --device options
 * @env: what it is created in
 * @name: its name, for messages
 * @opts: "socket=PATH,backend=tap:IFNAME|switch:NAME|loop[,queues=N][,mac=MAC][,mtu=N]"
 *        (what follows "net,")
 * @out: the device (not yet listening)
 *
 * Return: 0; -EINVAL for a bad option (the message says which); the
 * back-end's error otherwise (the message names the interface and errno).
 */
int pviod_net_create(const struct pviod_env *env, const char *name, const char *opts,
		     struct pviod_device **out)
{
	char *copy = strdup(opts), *tok, *save = NULL, *socket_path = NULL, *backend = NULL;
	const struct pviod_net_backend_ops *be = NULL;
	unsigned long queues = 1, mtu = PVIOD_NET_MTU_DEFAULT;
	unsigned int i;
	uint8_t mac[6] = { 0x02, 0x70, 0x76, 0, 0, 0 };
	bool have_mac = false;
	struct pviod_device *dev = NULL;
	struct pviod_net *net = NULL;
	const char *arg = "";
	uint32_t h = 2166136261u;
	int ret = -EINVAL;

	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *val;

		if (pviod_opt_split("net", tok, &val))
			goto err_free_copy;
		if (!strcmp(tok, "socket")) {
			socket_path = val;
		} else if (!strcmp(tok, "backend")) {
			backend = val;
		} else if (!strcmp(tok, "queues")) {
			if (pviod_opt_uint("net", tok, val, 1, PVIOD_NET_PAIRS_MAX, &queues))
				goto err_free_copy;
		} else if (!strcmp(tok, "mtu")) {
			if (pviod_opt_uint("net", tok, val, 68,
					   PVIOD_NET_FRAME_MAX - PVIOD_NET_ETH_HLEN - 4, &mtu))
				goto err_free_copy;
		} else if (!strcmp(tok, "mac")) {
			if (pviod_net_mac_parse(val, mac)) {
				fprintf(stderr,
					"pviod: --device net: mac=%s: expected a unicast xx:xx:xx:xx:xx:xx\n",
					val);
				goto err_free_copy;
			}
			have_mac = true;
		} else {
			fprintf(stderr,
				"pviod: --device net: unknown option '%s' (socket, backend, queues, mac, mtu)\n",
				tok);
			goto err_free_copy;
		}
	}
	if (!socket_path || !*socket_path || !backend) {
		fprintf(stderr,
			"pviod: --device net: socket=PATH and backend=tap:IFNAME|switch:NAME|loop are required\n");
		goto err_free_copy;
	}
	if (!strcmp(backend, "loop")) {
		be = &pviod_net_loop_ops;
	} else if (!strncmp(backend, "tap:", 4) && backend[4]) {
		be = &pviod_net_tap_ops;
		arg = backend + 4;
	} else if (!strncmp(backend, "switch:", 7) && backend[7]) {
		be = &pviod_net_switch_ops;
		arg = backend + 7;
	} else {
		fprintf(stderr,
			"pviod: --device net: backend=%s: expected tap:IFNAME, switch:NAME or loop\n",
			backend);
		goto err_free_copy;
	}
	if (!have_mac) {
		/* Stable across restarts: derived from the socket path (FNV-1a). */
		for (i = 0; socket_path[i]; i++)
			h = (h ^ (uint8_t)socket_path[i]) * 16777619u;
		mac[3] = (uint8_t)(h >> 16);
		mac[4] = (uint8_t)(h >> 8);
		mac[5] = (uint8_t)h;
	}

	dev = calloc(1, sizeof(*dev));
	net = calloc(1, sizeof(*net) + queues * sizeof(net->pairs[0]));
	if (!dev || !net) {
		free(net);
		ret = -ENOMEM;
		goto err_free_dev;
	}
	dev->priv = net;
	net->dev = dev;
	net->be = be;
	net->npairs = queues;
	net->mtu = mtu;
	net->hdr_len = PVIOD_NET_HDR_LEN;
	net->active_pairs = 1;
	memcpy(net->mac, mac, 6);
	pthread_mutex_init(&net->filter_lock, NULL);
	pviod_net_filter_init(&net->filter, mac, false);
	net->be_arg = strdup(arg);
	net->config.status = cpu_to_le16(PVIO_NET_S_LINK_UP);
	net->config.max_virtqueue_pairs = cpu_to_le16((uint16_t)queues);
	net->config.mtu = cpu_to_le16((uint16_t)mtu);
	net->config.speed = cpu_to_le32(0xffffffffu);
	net->config.duplex = 0xff;
	ret = pviod_device_init(dev, env, &pviod_net_ops, name, socket_path, 2 * queues + 1);
	if (ret || !net->be_arg)
		goto err_free_dev;
	for (i = 0; i < queues; i++) {
		struct pviod_net_pair *p = &net->pairs[i];

		p->net = net;
		p->index = i;
		p->rxq = &dev->queues[2 * i];
		p->txq = &dev->queues[2 * i + 1];
		/* One thread serves the pair: the loop and the drain touch both rings. */
		p->rxq->worker = p->txq->worker;
		p->src_fd = -1;
		p->src_io.complete = pviod_net_src_ready;
		p->bounce = malloc(PVIOD_NET_HDR_LEN + PVIOD_NET_FRAME_MAX);
		p->gso_seg = malloc(PVIOD_NET_HDR_LEN + PVIOD_NET_FRAME_MAX);
		if (!p->bounce || !p->gso_seg) {
			ret = -ENOMEM;
			goto err_free_dev;
		}
	}
	if (be->open) {
		ret = be->open(net, arg);
		if (ret) {
			net->be = NULL;
			goto err_free_dev;
		}
	}
	pr_info("%s: backend %s%s%s, %lu queue pair%s, mac %02x:%02x:%02x:%02x:%02x:%02x, mtu %lu",
		dev->name, be->name, *arg ? ":" : "", arg, queues, queues > 1 ? "s" : "", mac[0],
		mac[1], mac[2], mac[3], mac[4], mac[5], mtu);
	free(copy);
	*out = dev;
	return 0;

err_free_dev:
	if (dev) {
		pviod_net_destroy(dev);
		pviod_device_free(dev);
	}
err_free_copy:
	free(copy);
	return ret;
}
