// SPDX-License-Identifier: GPL-2.0
/*
 * loop.c - the loop back-end: every frame a guest sends comes back to it,
 * on the receive queue of the same pair (same worker: no lock, no queue).
 * What pvio-bench and testpmd measure pviod's own packet rate with.
 */
#include <string.h>

#include "net/net.h"

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

const struct pviod_net_backend_ops pviod_net_loop_ops = {
	.name = "loop",
	.tx = pviod_net_loop_tx,
	.tx_burst = pviod_net_loop_tx_burst,
	.tx_prefetch = pviod_net_rx_prefetch,
	.tx_flush = pviod_net_rx_flush,
};
