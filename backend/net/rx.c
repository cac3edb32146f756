// SPDX-License-Identifier: GPL-2.0
/*
 * rx.c - the net device's receive path (back-end -> driver).
 *
 * pviod_net_rx_put() takes a fast path when the frame is contiguous and the
 * next receive chain's first segment holds header and frame (the usual DPDK
 * and Linux buffers): our checked header and the frame go in with two
 * memcpy()s.  Otherwise it copies a frame into as many receive chains as it
 * needs (one without MRG_RXBUF), writes num_buffers into the first, and
 * puts the used entries; the caller publishes and signals once per batch
 * with pviod_net_rx_flush().  When the driver has posted too few buffers
 * the chains taken for that frame are given back (pviod_queue_unput() and
 * pviod_queue_unpop(): nothing was published) and the frame is dropped and
 * counted: a guest that stops receiving never stalls its sender, another
 * port, or another device.
 *
 * A back-end with a receive source (tap fd, switch inbox eventfd) has it
 * polled through the pair's worker's io_uring; the poll is re-armed after
 * each drain and not armed while the driver has no buffers (we wait for its
 * rx kick instead, so frames stay queued in the tap and TCP sees
 * back-pressure rather than loss).
 *
 * Threads: the pair's worker (net.h).
 */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "core/worker.h"
#include "net/net.h"

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

/**
 * pviod_net_copy - copy up to @n bytes from @src into @seg (from its start)
 * @src: where to copy from; advanced past what was copied
 * @seg: the destination segments
 * @nseg: how many
 * @n: bytes wanted
 *
 * Return: bytes copied.
 */
size_t pviod_net_copy(struct pviod_net_cursor *src, const struct pvring_seg *seg, unsigned int nseg,
		      size_t n)
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
 * (or, with GSO_ECN, no GUEST_ECN) for in software (gso.c), as Linux's
 * GSO does, and put each segment through pviod_net_rx_put() like any frame
 * (filtered and counted one by one); refuse UDP GSO.
 *
 * A segment is built in p->gso_seg, never in p->bounce (which may hold the
 * super-frame), and it never asks for a software checksum: without
 * GUEST_CSUM gso.c computes it, so its rx_put() copies nothing here.
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
	/*
	 * Packed: no count, whose walk would read every head's flags once
	 * more than the pops do.  The next chains' descriptors are the lines
	 * their used descriptors go to (everything put was published), so
	 * owning those lines loads the descriptors too, a line per four.
	 */
	if (pvring_dev_is_packed(vr)) {
		pvring_dev_prefetch_used(vr, n);
		return;
	}
	/* Split: one index read says whether there is anything. */
	if (pvring_dev_avail(vr) <= 0)
		return;
	for (i = 0; i < n; i++)
		pvring_dev_prefetch_desc(vr, i);
	pvring_dev_prefetch_used(vr, n);
}

/* The receive source is readable (an io_uring poll on the pair's worker). */
void pviod_net_src_ready(struct pviod_io *io, int res)
{
	struct pviod_net_pair *p =
		(struct pviod_net_pair *)((char *)io - offsetof(struct pviod_net_pair, src_io));

	p->src_armed = false;
	/* A stopped queue is drained again by the run its restart gives. */
	if (!pviod_net_rx_ok(p) || p->rx_wait_buf)
		return;
	pviod_queue_run(p->rxq);
}

/* Return: false when the worker's ring has no room for the poll. */
static bool pviod_net_src_arm(struct pviod_net_pair *p)
{
	struct io_uring_sqe *sqe;

	if (p->src_armed || p->src_fd < 0)
		return true;
	sqe = pviod_worker_sqe(p->rxq->worker);
	if (!sqe)
		return false;
	io_uring_prep_poll_add(sqe, p->src_fd, POLLIN);
	io_uring_sqe_set_data(sqe, &p->src_io);
	p->src_armed = true;
	return true;
}

/*
 * Move what the source holds into the driver's buffers, a bounded amount per
 * call.  Return: PVIOD_SERVE_EMPTY when the driver has no buffer for the
 * next frame (its kick, or a busy-poll, brings us back); PVIOD_SERVE_IDLE
 * otherwise, with the source's poll armed when frames may come;
 * PVIOD_SERVE_MORE when the poll found no room on the ring: no kick may
 * come (the driver has buffers), so the worker comes back to arm it.
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
	if (!pviod_net_src_arm(p)) {
		pviod_net_rx_flush(p);
		return PVIOD_SERVE_MORE;
	}
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
enum pviod_serve pviod_net_rx_queue_serve(struct pviod_queue *q)
{
	struct pviod_net_pair *p = q->priv;

	p->rx_wait_buf = false;
	if (p->src_fd < 0)
		return PVIOD_SERVE_IDLE; /* the loop: frames come from its own tx */
	return pviod_net_src_drain(p);
}
