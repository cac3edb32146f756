// SPDX-License-Identifier: GPL-2.0
/*
 * stats.c - a net device's counters on SIGUSR1.
 *
 * Each pair's struct pviod_net_stats is written with plain stores by the
 * pair's worker (the tx queue's, which device.c also gives the rx queue), so
 * it is read there too: the daemon's stats thread has each queue's worker
 * run the queue_stats op (pviod_device_stats_log()), and the pair is logged on
 * its tx queue's turn.  The rx queue and the control queue log nothing.
 */
#include "net/net.h"

/**
 * pviod_net_queue_stats - log a queue pair's counters (the queue_stats op)
 * @q: a queue of a net device; the pair is logged when it is the tx queue
 *
 * Worker: q->worker, the one thread that writes the pair's counters.  The
 * line has the words of the one pviod_net_destroy() logs at exit.
 */
void pviod_net_queue_stats(struct pviod_queue *q)
{
	struct pviod_net *net = q->dev->priv;
	const struct pviod_net_stats *s;
	unsigned int i = q->index / 2;

	if (!(q->index & 1) || i >= net->npairs)
		return;
	s = &net->pairs[i].st;
	pr_info("%s: pair %u: tx %llu frames %llu bytes, %llu bad header, %llu bad chain, %llu dropped; rx %llu frames %llu bytes, %llu no buffer, %llu dropped, %llu filtered",
		q->dev->name, i, (unsigned long long)s->tx_frames, (unsigned long long)s->tx_bytes,
		(unsigned long long)s->tx_bad_hdr, (unsigned long long)s->tx_bad_chain,
		(unsigned long long)s->tx_dropped, (unsigned long long)s->rx_frames,
		(unsigned long long)s->rx_bytes, (unsigned long long)s->rx_no_buf,
		(unsigned long long)s->rx_dropped, (unsigned long long)s->rx_filtered);
}

/**
 * pviod_net_queue_counters - one queue's counters (the queue_counters op)
 * @q: a queue of a net device: rx (even), tx (odd) or the control queue
 * @c: the counters
 *
 * Worker: q->worker, the pair's (rx and tx share it).
 */
void pviod_net_queue_counters(struct pviod_queue *q, struct pviod_queue_counters *c)
{
	struct pviod_net *net = q->dev->priv;
	const struct pviod_net_stats *s;
	unsigned int i = q->index / 2;

	if (i >= net->npairs)
		return; /* the control queue: the core's counters only */
	s = &net->pairs[i].st;
	if (q->index & 1) {
		c->requests = s->tx_frames;
		c->bytes = s->tx_bytes;
		c->errors = s->tx_bad_hdr + s->tx_bad_chain;
		pviod_counters_drop(c, "bad_header", s->tx_bad_hdr);
		pviod_counters_drop(c, "bad_chain", s->tx_bad_chain);
		pviod_counters_drop(c, "backend", s->tx_dropped);
	} else {
		c->requests = s->rx_frames;
		c->bytes = s->rx_bytes;
		pviod_counters_drop(c, "no_buffer", s->rx_no_buf);
		pviod_counters_drop(c, "undeliverable", s->rx_dropped);
		pviod_counters_drop(c, "filtered", s->rx_filtered);
	}
}
