// SPDX-License-Identifier: GPL-2.0
/*
 * pvio_net_tx.c - the transmit path of pvio_net.
 *
 * A frame is one chain: its virtio-net header (from a per-queue DMA-coherent
 * array, one per slot), the linear part of the skb, then its page fragments;
 * with indirect descriptors the chain takes one ring entry.  Sent frames are
 * reaped by the queue's TX NAPI poll (scheduled by the queue's interrupt) and
 * opportunistically by ndo_start_xmit.  After a kick, start_xmit re-enables
 * the interrupt "delayed" (EVENT_IDX: when 3/4 of what is in flight is used)
 * so that a busy queue takes few interrupts.
 *
 * Locking: the ring, the slots and the counters of a queue are used under
 * the netdev TX queue lock (__netif_tx_lock), held by the stack around
 * ndo_start_xmit and taken by the NAPI poll.  The interrupt only schedules
 * NAPI.
 */
#include <linux/dma-mapping.h>
#include <linux/etherdevice.h>
#include <linux/slab.h>
#include <linux/virtio_net.h>

#include "pvio_net.h"

/* Reaps at most this many frames per call from start_xmit. */
#define PVNET_TX_REAP_XMIT 64

/**
 * pvnet_sq_init - allocate the slots and headers of a transmit queue
 * @net: the device
 * @sq: the queue, with @vq set
 *
 * Return: 0 or -ENOMEM.
 */
int pvnet_sq_init(struct pvnet *net, struct pvnet_sq *sq)
{
	unsigned int num = sq->vq->num, i;

	sq->slots = kvcalloc(num, sizeof(*sq->slots), GFP_KERNEL);
	sq->free = kvcalloc(num, sizeof(*sq->free), GFP_KERNEL);
	sq->hdrs = dma_alloc_coherent(pvio_dma_dev(net->pdev), num * sizeof(*sq->hdrs),
				      &sq->hdrs_dma, GFP_KERNEL);
	if (!sq->slots || !sq->free || !sq->hdrs) {
		pvnet_sq_free(net, sq);
		return -ENOMEM;
	}
	for (i = 0; i < num; i++)
		sq->free[i] = num - 1 - i;
	sq->nfree = num;
	u64_stats_init(&sq->stats.syncp);
	return 0;
}

/**
 * pvnet_sq_free - free what pvnet_sq_init() allocated
 * @net: the device
 * @sq: the queue, with no frame left in the ring
 */
void pvnet_sq_free(struct pvnet *net, struct pvnet_sq *sq)
{
	if (sq->hdrs)
		dma_free_coherent(pvio_dma_dev(net->pdev), sq->vq->num * sizeof(*sq->hdrs),
				  sq->hdrs, sq->hdrs_dma);
	kvfree(sq->slots);
	kvfree(sq->free);
	sq->hdrs = NULL;
	sq->slots = NULL;
	sq->free = NULL;
}

static void pvnet_tx_unmap(struct pvnet_sq *sq, struct pvnet_tx_slot *ts)
{
	struct device *dma = pvio_dma_dev(sq->net->pdev);
	unsigned int i = 0;

	if (ts->nseg && ts->linear) {
		dma_unmap_single(dma, ts->addr[0], ts->len[0], DMA_TO_DEVICE);
		i = 1;
	}
	for (; i < ts->nseg; i++)
		dma_unmap_page(dma, ts->addr[i], ts->len[i], DMA_TO_DEVICE);
	ts->nseg = 0;
}

/* Frees a reaped or taken-back frame's slot; returns the skb. */
static struct sk_buff *pvnet_tx_release(struct pvnet_sq *sq, struct pvnet_tx_slot *ts)
{
	struct sk_buff *skb = ts->skb;

	pvnet_tx_unmap(sq, ts);
	ts->skb = NULL;
	sq->free[sq->nfree++] = ts - sq->slots;
	return skb;
}

/*
 * Reaps up to @max sent frames; @budget as for napi_consume_skb() (0 outside
 * NAPI).  Under the TX queue lock.  Returns the number reaped.
 */
static unsigned int pvnet_tx_reap(struct pvnet_sq *sq, unsigned int max, int budget)
{
	struct pvring_drv *ring = &sq->vq->ring;
	struct pvnet_tx_slot *ts;
	unsigned int n = 0;
	u32 len;

	while (n < max && (ts = pvring_drv_get_used(ring, &len)) != NULL) {
		napi_consume_skb(pvnet_tx_release(sq, ts), budget);
		n++;
	}
	if (unlikely(pvring_drv_broken(ring)))
		pvio_device_broken(sq->net->pdev, "bad entry in a transmit used ring");
	return n;
}

/**
 * pvnet_tx_detach_all - take back every frame in flight and free it
 * @sq: the queue, after the device was reset; under the TX queue lock or
 *	with the queue otherwise quiet
 */
void pvnet_tx_detach_all(struct pvnet_sq *sq)
{
	struct pvnet_tx_slot *ts;

	while ((ts = pvring_drv_detach_unused(&sq->vq->ring)) != NULL)
		dev_kfree_skb_any(pvnet_tx_release(sq, ts));
}

static bool pvnet_tx_room(struct pvnet_sq *sq)
{
	return sq->nfree && pvring_drv_num_free(&sq->vq->ring) >= sq->net->tx_min_free;
}

/* Maps the frame of @ts and fills @sg: header, linear part, fragments. */
static int pvnet_tx_map(struct pvnet_sq *sq, struct pvnet_tx_slot *ts, unsigned int idx,
			struct pvring_sg *sg)
{
	struct device *dma = pvio_dma_dev(sq->net->pdev);
	struct sk_buff *skb = ts->skb;
	unsigned int n = 0, i;

	sg[n].addr = sq->hdrs_dma + (size_t)idx * sizeof(*sq->hdrs);
	sg[n++].len = PVNET_HDR_LEN;
	ts->nseg = 0;
	ts->linear = false;
	if (skb_headlen(skb)) {
		ts->addr[0] = dma_map_single(dma, skb->data, skb_headlen(skb), DMA_TO_DEVICE);
		if (dma_mapping_error(dma, ts->addr[0]))
			return -ENOMEM;
		ts->len[0] = skb_headlen(skb);
		ts->linear = true;
		ts->nseg = 1;
		sg[n].addr = ts->addr[0];
		sg[n++].len = ts->len[0];
	}
	for (i = 0; i < skb_shinfo(skb)->nr_frags; i++) {
		const skb_frag_t *f = &skb_shinfo(skb)->frags[i];
		dma_addr_t a = skb_frag_dma_map(dma, f, 0, skb_frag_size(f), DMA_TO_DEVICE);

		if (dma_mapping_error(dma, a)) {
			pvnet_tx_unmap(sq, ts);
			return -ENOMEM;
		}
		ts->addr[ts->nseg] = a;
		ts->len[ts->nseg++] = skb_frag_size(f);
		sg[n].addr = a;
		sg[n++].len = skb_frag_size(f);
	}
	return n;
}

/* Stages @skb on @sq.  Under the TX queue lock. */
static int pvnet_tx_add(struct pvnet_sq *sq, struct sk_buff *skb)
{
	struct pvring_sg sg[PVNET_TX_SEGS];
	struct pvnet_tx_slot *ts;
	struct pvio_net_hdr *hdr;
	unsigned int idx;
	int n, err;

	if (unlikely(!sq->nfree))
		return -ENOSPC;
	idx = sq->free[sq->nfree - 1];
	ts = &sq->slots[idx];
	hdr = &sq->hdrs[idx];
	if (unlikely(virtio_net_hdr_from_skb(skb, (struct virtio_net_hdr *)hdr, true, false, 0)))
		return -EINVAL;
	hdr->num_buffers = 0;
	ts->skb = skb;
	n = pvnet_tx_map(sq, ts, idx, sg);
	if (unlikely(n < 0)) {
		ts->skb = NULL;
		return n;
	}
	err = pvring_drv_stage(&sq->vq->ring, sg, n, 0, ts);
	if (unlikely(err)) {
		pvnet_tx_unmap(sq, ts);
		ts->skb = NULL;
		return err;
	}
	sq->nfree--;
	return 0;
}

/**
 * pvnet_start_xmit - ndo_start_xmit
 * @skb: the frame
 * @dev: the device
 *
 * Return: NETDEV_TX_OK (a frame that cannot be sent is dropped and counted).
 */
netdev_tx_t pvnet_start_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct pvnet *net = netdev_priv(dev);
	unsigned int qi = skb_get_queue_mapping(skb);
	struct netdev_queue *txq = netdev_get_tx_queue(dev, qi);
	struct pvnet_sq *sq = &net->sqs[qi];
	bool kick = !netdev_xmit_more();
	unsigned int len = skb->len;
	int err;

	pvnet_tx_reap(sq, PVNET_TX_REAP_XMIT, 0);
	if (unlikely(pvio_device_is_broken(net->pdev))) {
		err = -EIO;
		goto err_drop;
	}
	/* Orphaning here would break TCP small queues: frames are reaped promptly. */
	err = pvnet_tx_add(sq, skb);
	if (unlikely(err)) {
		if (err == -EIO)
			pvio_device_broken(net->pdev, "transmit ring broken");
		goto err_drop;
	}
	skb_tx_timestamp(skb);
	pvnet_stats_add(&sq->stats, 1, len);

	if (!pvnet_tx_room(sq)) {
		netif_tx_stop_queue(txq);
		/* Ask for an interrupt when frames are done, or reap them now. */
		if (unlikely(!pvring_drv_enable_cb_delayed(&sq->vq->ring))) {
			pvnet_tx_reap(sq, UINT_MAX, 0);
			if (pvnet_tx_room(sq))
				netif_tx_start_queue(txq);
		}
	}
	if (kick || netif_xmit_stopped(txq)) {
		if (pvio_vq_kick_prepare(sq->vq)) {
			pvio_vq_notify(sq->vq);
			pvnet_stats_inc_kicks(&sq->stats);
		}
		/* Batch completions: one interrupt for about 3/4 of the frames in flight. */
		if (unlikely(!pvring_drv_enable_cb_delayed(&sq->vq->ring)))
			napi_schedule(&sq->napi);
	}
	return NETDEV_TX_OK;

err_drop:
	/* The chain of a frame on a broken ring is not published: kick what is. */
	if (kick && pvio_vq_kick_prepare(sq->vq))
		pvio_vq_notify(sq->vq);
	pvnet_stats_inc_drops(&sq->stats);
	dev_kfree_skb_any(skb);
	return NETDEV_TX_OK;
}

/**
 * pvnet_tx_poll - NAPI poll of a transmit queue: reap sent frames
 * @napi: the queue's TX NAPI context
 * @budget: 0 from netpoll; otherwise frames may be freed in bulk
 *
 * Return: 0 when done (the interrupt is enabled again), @budget to poll again.
 */
int pvnet_tx_poll(struct napi_struct *napi, int budget)
{
	struct pvnet_sq *sq = container_of(napi, struct pvnet_sq, napi);
	struct net_device *dev = sq->net->dev;
	struct netdev_queue *txq = netdev_get_tx_queue(dev, sq->index);
	bool again;

	__netif_tx_lock(txq, raw_smp_processor_id());
	pvnet_tx_reap(sq, UINT_MAX, budget);
	if (netif_tx_queue_stopped(txq) && pvnet_tx_room(sq) &&
	    !pvio_device_is_broken(sq->net->pdev))
		netif_tx_wake_queue(txq);
	again = !pvring_drv_enable_cb(&sq->vq->ring);
	__netif_tx_unlock(txq);

	if (again && budget)
		return budget;
	napi_complete_done(napi, 0);
	if (again)
		napi_schedule(napi);
	return 0;
}

/**
 * pvnet_tx_clean - reap a transmit queue's sent frames from its pair's RX poll
 * @sq: the queue
 * @budget: the RX poll's budget (frames are freed in bulk)
 *
 * TCP small queues lets a socket queue more only once its sent skbs are
 * freed, and the ACKs that say so arrive on the pair's receive queue: reaping
 * here, as virtio_net does, frees them without waiting for the transmit
 * interrupt, which the queue asks for only when 3/4 of what is in flight
 * is done.  Skipped when someone else holds the TX queue lock (they reap).
 */
void pvnet_tx_clean(struct pvnet_sq *sq, int budget)
{
	struct netdev_queue *txq = netdev_get_tx_queue(sq->net->dev, sq->index);

	if (!__netif_tx_trylock(txq))
		return;
	pvnet_tx_reap(sq, UINT_MAX, budget);
	if (netif_tx_queue_stopped(txq) && pvnet_tx_room(sq) &&
	    !pvio_device_is_broken(sq->net->pdev))
		netif_tx_wake_queue(txq);
	__netif_tx_unlock(txq);
}

/**
 * pvnet_tx_done - used-buffer interrupt of a transmit queue (hard-irq)
 * @vq: the queue
 */
void pvnet_tx_done(struct pvio_vq *vq)
{
	struct pvnet_sq *sq = vq->priv;

	/* The ring is the TX lock's: leave it alone here, the poll reaps. */
	napi_schedule(&sq->napi);
}
