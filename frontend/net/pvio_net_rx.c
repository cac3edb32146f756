// SPDX-License-Identifier: GPL-2.0
/*
 * pvio_net_rx.c - the receive path of pvio_net: buffers, NAPI poll, skbs.
 *
 * Three kinds of receive buffer, chosen at probe from the features:
 *
 *   mergeable (F_MRG_RXBUF)  one device-writable segment of rx_buf_len bytes
 *                            carved from a page fragment; a frame starts
 *                            with the header, whose num_buffers says how
 *                            many buffers (taken in used-ring order) it spans
 *   small                    the same buffers, one frame each: header plus
 *                            an MTU-sized frame
 *   big (guest TSO only)     a chain of PVNET_BIG_PAGES order-0 pages, one
 *                            64 KiB frame each
 *
 * The first PVNET_COPY_LEN bytes of a frame are copied into the skb head;
 * the rest is attached as page fragments, so the buffer pages go up the
 * stack without a copy.  Everything read from the buffers comes from the
 * device: lengths are clamped by the ring, num_buffers is bounded, the header
 * goes through virtio_net_hdr_to_skb() (which validates GSO and checksum
 * fields for untrusted senders) and anything malformed is dropped and
 * counted, never trusted.
 *
 * Locking: all of it runs as the owner of the queue's NAPI context (see
 * pvio_net.h).
 */
#include <linux/dma-mapping.h>
#include <linux/etherdevice.h>
#include <linux/if_vlan.h>
#include <linux/slab.h>
#include <linux/virtio_net.h>

#include "pvio_net.h"

/* Our header is the kernel's struct virtio_net_hdr plus num_buffers. */
static_assert(offsetof(struct pvio_net_hdr, csum_offset) ==
	      offsetof(struct virtio_net_hdr, csum_offset));
static_assert(sizeof(struct virtio_net_hdr) == offsetof(struct pvio_net_hdr, num_buffers));

/**
 * pvnet_rq_init - allocate the buffer bookkeeping of a receive queue
 * @net: the device
 * @rq: the queue, with @vq set
 *
 * Return: 0 or -ENOMEM.
 */
int pvnet_rq_init(struct pvnet *net, struct pvnet_rq *rq)
{
	unsigned int num = rq->vq->num, i;

	rq->slots = kvcalloc(num, sizeof(*rq->slots), GFP_KERNEL);
	rq->free = kvcalloc(num, sizeof(*rq->free), GFP_KERNEL);
	if (!rq->slots || !rq->free)
		goto err_free;
	if (net->big) {
		for (i = 0; i < num; i++) {
			struct pvnet_rx_slot *s = &rq->slots[i];

			s->pages = kcalloc(PVNET_BIG_PAGES, sizeof(*s->pages), GFP_KERNEL);
			s->dmas = kcalloc(PVNET_BIG_PAGES, sizeof(*s->dmas), GFP_KERNEL);
			if (!s->pages || !s->dmas)
				goto err_free;
		}
	}
	for (i = 0; i < num; i++)
		rq->free[i] = num - 1 - i;
	rq->nfree = num;
	u64_stats_init(&rq->stats.syncp);
	return 0;

err_free:
	pvnet_rq_free(net, rq);
	return -ENOMEM;
}

/**
 * pvnet_rq_free - free what pvnet_rq_init() allocated
 * @net: the device
 * @rq: the queue, with no buffer left in the ring
 */
void pvnet_rq_free(struct pvnet *net, struct pvnet_rq *rq)
{
	unsigned int i;

	if (rq->slots && net->big) {
		for (i = 0; i < rq->vq->num; i++) {
			kfree(rq->slots[i].pages);
			kfree(rq->slots[i].dmas);
		}
	}
	kvfree(rq->slots);
	kvfree(rq->free);
	rq->slots = NULL;
	rq->free = NULL;
	if (rq->frag.page) {
		put_page(rq->frag.page);
		rq->frag.page = NULL;
	}
}

static struct device *pvnet_dma(struct pvnet_rq *rq)
{
	return pvio_dma_dev(rq->net->pdev);
}

/* Unmaps and frees every page of a big buffer from @first on. */
static void pvnet_big_release(struct pvnet_rq *rq, struct pvnet_rx_slot *s, unsigned int first)
{
	unsigned int i;

	for (i = first; i < s->npages; i++) {
		dma_unmap_page(pvnet_dma(rq), s->dmas[i], PAGE_SIZE, DMA_FROM_DEVICE);
		put_page(s->pages[i]);
	}
}

static void pvnet_slot_put(struct pvnet_rq *rq, struct pvnet_rx_slot *s)
{
	rq->free[rq->nfree++] = s - rq->slots;
}

/* Stages one big buffer: a chain of order-0 pages. */
static int pvnet_rx_add_big(struct pvnet_rq *rq, struct pvnet_rx_slot *s, gfp_t gfp)
{
	struct pvring_sg sg[PVNET_BIG_PAGES];
	unsigned int i;
	int err;

	s->npages = 0;
	for (i = 0; i < PVNET_BIG_PAGES; i++) {
		struct page *page = alloc_page(gfp);

		if (!page)
			goto err_release;
		s->dmas[i] = dma_map_page(pvnet_dma(rq), page, 0, PAGE_SIZE, DMA_FROM_DEVICE);
		if (dma_mapping_error(pvnet_dma(rq), s->dmas[i])) {
			put_page(page);
			goto err_release;
		}
		s->pages[i] = page;
		s->npages++;
		sg[i].addr = s->dmas[i];
		sg[i].len = PAGE_SIZE;
	}
	s->page = s->pages[0];
	s->buf = page_address(s->page);
	err = pvring_drv_stage(&rq->vq->ring, sg, 0, s->npages, s);
	if (err) {
		pvnet_big_release(rq, s, 0);
		return err;
	}
	return 0;

err_release:
	pvnet_big_release(rq, s, 0);
	return -ENOMEM;
}

/* Stages one page-fragment buffer (mergeable or small). */
static int pvnet_rx_add_frag(struct pvnet_rq *rq, struct pvnet_rx_slot *s, gfp_t gfp)
{
	unsigned int len = rq->net->rx_buf_len;
	struct page_frag *frag = &rq->frag;
	struct pvring_sg sg;
	int err;

	if (unlikely(!skb_page_frag_refill(len, frag, gfp)))
		return -ENOMEM;
	s->npages = 0;
	s->page = frag->page;
	s->buf = page_address(frag->page) + frag->offset;
	s->dma = dma_map_single(pvnet_dma(rq), s->buf, len, DMA_FROM_DEVICE);
	if (dma_mapping_error(pvnet_dma(rq), s->dma))
		return -ENOMEM;
	get_page(frag->page);
	frag->offset += len;
	sg.addr = s->dma;
	sg.len = len;
	err = pvring_drv_stage(&rq->vq->ring, &sg, 0, 1, s);
	if (err) {
		dma_unmap_single(pvnet_dma(rq), s->dma, len, DMA_FROM_DEVICE);
		put_page(s->page);
	}
	return err;
}

/**
 * pvnet_rx_refill - offer receive buffers until the ring is full
 * @rq: the queue, as the owner of its NAPI context
 * @gfp: allocation flags
 *
 * Return: false when memory ran out before the ring was full (the caller
 * schedules the refill work); true otherwise, also on a broken device.
 */
bool pvnet_rx_refill(struct pvnet_rq *rq, gfp_t gfp)
{
	struct pvring_drv *ring = &rq->vq->ring;
	bool oom = false;
	int err = 0;

	if (unlikely(pvio_device_is_broken(rq->net->pdev)))
		return true;
	gfp |= __GFP_NOWARN;
	while (rq->nfree && pvring_drv_num_free(ring) >= (rq->net->big ? PVNET_BIG_PAGES : 1)) {
		struct pvnet_rx_slot *s = &rq->slots[rq->free[rq->nfree - 1]];

		if (rq->net->big)
			err = pvnet_rx_add_big(rq, s, gfp);
		else
			err = pvnet_rx_add_frag(rq, s, gfp);
		if (err)
			break;
		rq->nfree--;
	}
	if (err == -ENOMEM)
		oom = true;
	else if (err == -EIO)
		pvio_device_broken(rq->net->pdev, "receive ring broken");
	if (pvio_vq_kick_prepare(rq->vq)) {
		pvio_vq_notify(rq->vq);
		pvnet_stats_inc_kicks(&rq->stats);
	}
	return !oom;
}

/**
 * pvnet_rx_detach_all - take back every receive buffer and free it
 * @rq: the queue, after the device was reset, NAPI disabled
 */
void pvnet_rx_detach_all(struct pvnet_rq *rq)
{
	struct pvnet_rx_slot *s;

	while ((s = pvring_drv_detach_unused(&rq->vq->ring)) != NULL) {
		if (s->npages) {
			pvnet_big_release(rq, s, 0);
		} else {
			dma_unmap_single(pvnet_dma(rq), s->dma, rq->net->rx_buf_len,
					 DMA_FROM_DEVICE);
			put_page(s->page);
		}
		pvnet_slot_put(rq, s);
	}
}

/* A used page-fragment buffer: unmapped, its page reference now ours. */
static void pvnet_rx_unmap(struct pvnet_rq *rq, struct pvnet_rx_slot *s)
{
	dma_unmap_single(pvnet_dma(rq), s->dma, rq->net->rx_buf_len, DMA_FROM_DEVICE);
	pvnet_slot_put(rq, s);
}

/* Appends @len bytes at @buf (in @page, whose reference we give away) to @skb. */
static bool pvnet_skb_add(struct sk_buff *skb, struct page *page, void *buf, unsigned int len,
			  unsigned int truesize)
{
	struct skb_shared_info *sh = skb_shinfo(skb);
	unsigned int off = buf - page_address(page);
	int n = sh->nr_frags;

	if (n) {
		skb_frag_t *f = &sh->frags[n - 1];

		/* Buffers carved one after the other from a frag: often contiguous. */
		if (skb_frag_page(f) == page && skb_frag_off(f) + skb_frag_size(f) == off) {
			skb_coalesce_rx_frag(skb, n - 1, len, truesize);
			/* The frag already holds a reference to this page. */
			put_page(page);
			return true;
		}
	}
	if (n >= MAX_SKB_FRAGS)
		return false;
	skb_add_rx_frag(skb, n, page, off, len, truesize);
	return true;
}

/* Starts an skb from the first buffer of a frame: @len bytes after the header. */
static struct sk_buff *pvnet_skb_start(struct pvnet_rq *rq, struct page *page, void *data,
				       unsigned int len, unsigned int truesize)
{
	unsigned int copy = min_t(unsigned int, len, PVNET_COPY_LEN);
	struct sk_buff *skb;

	skb = napi_alloc_skb(&rq->napi, PVNET_COPY_LEN);
	if (unlikely(!skb))
		return NULL;
	skb_put_data(skb, data, copy);
	if (len > copy) {
		pvnet_skb_add(skb, page, data + copy, len - copy, truesize);
	} else {
		skb->truesize += truesize;
		put_page(page);
	}
	return skb;
}

/* Drops the @n remaining buffers of a frame. */
static void pvnet_rx_skip(struct pvnet_rq *rq, unsigned int n)
{
	struct pvnet_rx_slot *s;
	u32 len;

	while (n--) {
		s = pvring_drv_get_used(&rq->vq->ring, &len);
		if (!s)
			return;
		pvnet_rx_unmap(rq, s);
		put_page(s->page);
	}
}

/* A big buffer (page chain) of @len bytes: one frame. */
static struct sk_buff *pvnet_rx_big(struct pvnet_rq *rq, struct pvnet_rx_slot *s, u32 len,
				    struct pvio_net_hdr *hdr)
{
	unsigned int i, used, off;
	struct sk_buff *skb;

	/* The header and the bytes to copy are in the first page. */
	dma_unmap_page(pvnet_dma(rq), s->dmas[0], PAGE_SIZE, DMA_FROM_DEVICE);
	memcpy(hdr, s->buf, PVNET_HDR_LEN);
	used = DIV_ROUND_UP(len, PAGE_SIZE);
	skb = napi_alloc_skb(&rq->napi, PVNET_COPY_LEN);
	if (unlikely(!skb)) {
		put_page(s->pages[0]);
		pvnet_big_release(rq, s, 1);
		return NULL;
	}
	off = min_t(u32, len, PVNET_HDR_LEN + PVNET_COPY_LEN);
	skb_put_data(skb, s->buf + PVNET_HDR_LEN, off - PVNET_HDR_LEN);
	if (len > off && off < PAGE_SIZE)
		skb_add_rx_frag(skb, 0, s->pages[0], off, min_t(u32, len, PAGE_SIZE) - off,
				PAGE_SIZE);
	else
		put_page(s->pages[0]);
	for (i = 1; i < s->npages; i++) {
		dma_unmap_page(pvnet_dma(rq), s->dmas[i], PAGE_SIZE, DMA_FROM_DEVICE);
		if (i < used && skb_shinfo(skb)->nr_frags < MAX_SKB_FRAGS)
			skb_add_rx_frag(skb, skb_shinfo(skb)->nr_frags, s->pages[i], 0,
					min_t(u32, len - i * PAGE_SIZE, PAGE_SIZE), PAGE_SIZE);
		else
			put_page(s->pages[i]);
	}
	return skb;
}

/*
 * Builds the skb of the frame starting with buffer @s (@len bytes used) and,
 * when mergeable, the num_buffers - 1 buffers after it.  Copies the header
 * into @hdr.  Returns NULL (frame dropped, buffers released) on error.
 */
static struct sk_buff *pvnet_rx_frame(struct pvnet_rq *rq, struct pvnet_rx_slot *s, u32 len,
				      struct pvio_net_hdr *hdr)
{
	struct pvnet *net = rq->net;
	unsigned int truesize = net->rx_buf_len, nbufs = 1;
	struct sk_buff *skb;

	if (s->npages) {
		pvnet_slot_put(rq, s);
		if (unlikely(len < PVNET_HDR_LEN + ETH_HLEN)) {
			pvnet_big_release(rq, s, 0);
			return NULL;
		}
		return pvnet_rx_big(rq, s, len, hdr);
	}

	pvnet_rx_unmap(rq, s);
	if (unlikely(len < PVNET_HDR_LEN))
		goto err_drop;
	memcpy(hdr, s->buf, PVNET_HDR_LEN);
	if (net->mergeable) {
		nbufs = le16_to_cpu(hdr->num_buffers);
		/* A frame cannot span more buffers than the ring holds. */
		if (unlikely(!nbufs || nbufs > rq->vq->num)) {
			netdev_dbg(net->dev, "rx: bad num_buffers %u\n", nbufs);
			goto err_drop;
		}
	}
	if (unlikely(nbufs == 1 && len < PVNET_HDR_LEN + ETH_HLEN))
		goto err_drop;

	skb = pvnet_skb_start(rq, s->page, s->buf + PVNET_HDR_LEN, len - PVNET_HDR_LEN, truesize);
	if (unlikely(!skb)) {
		put_page(s->page);
		pvnet_rx_skip(rq, nbufs - 1);
		return NULL;
	}
	while (--nbufs) {
		s = pvring_drv_get_used(&rq->vq->ring, &len);
		if (unlikely(!s)) {
			netdev_dbg(net->dev, "rx: %u buffers of a frame missing\n", nbufs);
			dev_kfree_skb(skb);
			return NULL;
		}
		pvnet_rx_unmap(rq, s);
		if (unlikely(!len)) {
			put_page(s->page);
			continue;
		}
		if (unlikely(!pvnet_skb_add(skb, s->page, s->buf, len, truesize))) {
			/* More fragments than an skb holds: not a frame we take. */
			put_page(s->page);
			pvnet_rx_skip(rq, nbufs - 1);
			dev_kfree_skb(skb);
			return NULL;
		}
	}
	return skb;

err_drop:
	put_page(s->page);
	return NULL;
}

/* One received frame, starting at buffer @s: to the stack or dropped. */
static void pvnet_rx_one(struct pvnet_rq *rq, struct pvnet_rx_slot *s, u32 len,
			 unsigned int *packets, unsigned int *bytes)
{
	struct net_device *dev = rq->net->dev;
	struct pvio_net_hdr hdr;
	struct sk_buff *skb;

	skb = pvnet_rx_frame(rq, s, len, &hdr);
	if (unlikely(!skb))
		goto err_count;
	if (unlikely(skb->len < ETH_HLEN))
		goto err_free;
	if (hdr.flags & PVIO_NET_HDR_F_DATA_VALID)
		skb->ip_summed = CHECKSUM_UNNECESSARY;
	if (unlikely(virtio_net_hdr_to_skb(skb, (struct virtio_net_hdr *)&hdr, true))) {
		net_dbg_ratelimited("%s: rx: bad header (flags %#x gso %#x)\n", dev->name,
				    hdr.flags, hdr.gso_type);
		goto err_free;
	}
	skb_record_rx_queue(skb, rq->index);
	skb->protocol = eth_type_trans(skb, dev);
	*bytes += skb->len + ETH_HLEN;
	(*packets)++;
	napi_gro_receive(&rq->napi, skb);
	return;

err_free:
	dev_kfree_skb(skb);
err_count:
	pvnet_stats_inc_drops(&rq->stats);
}

/**
 * pvnet_rx_poll - NAPI poll of a receive queue
 * @napi: the queue's NAPI context
 * @budget: most frames to take
 *
 * Return: frames taken; @budget when more work is pending.
 */
int pvnet_rx_poll(struct napi_struct *napi, int budget)
{
	struct pvnet_rq *rq = container_of(napi, struct pvnet_rq, napi);
	struct pvring_drv *ring = &rq->vq->ring;
	unsigned int packets = 0, bytes = 0;
	struct pvnet_rx_slot *s;
	int done = 0;
	u32 len;

	/* Sent frames first: the ACKs below may let TCP send more (pvnet_tx_clean()). */
	if (rq->index < rq->net->dev->real_num_tx_queues)
		pvnet_tx_clean(&rq->net->sqs[rq->index], budget);
	while (done < budget && (s = pvring_drv_get_used(ring, &len)) != NULL) {
		pvnet_rx_one(rq, s, len, &packets, &bytes);
		done++;
	}
	if (packets)
		pvnet_stats_add(&rq->stats, packets, bytes);
	if (unlikely(pvring_drv_broken(ring))) {
		pvio_device_broken(rq->net->pdev, "bad entry in a receive used ring");
		/* Completed: must not claim the whole budget. */
		napi_complete_done(napi, done);
		return min(done, budget - 1);
	}
	/*
	 * Refill once a few polls' worth is free, not half the ring: with
	 * GUEST_TSO a 64 KiB frame takes 16 page buffers, so half of a 256
	 * ring is only 8 frames, and a device that finds the ring empty
	 * stops reading its source until the next kick.
	 */
	if (pvring_drv_num_free(ring) > min_t(unsigned int, budget, rq->vq->num) / 2 &&
	    !pvnet_rx_refill(rq, GFP_ATOMIC))
		pvnet_refill_schedule(rq->net, 0);

	if (done < budget) {
		/*
		 * Re-enable the interrupt while we still own the ring: if
		 * buffers came meanwhile, poll again rather than miss them.
		 */
		if (!pvring_drv_enable_cb(ring)) {
			pvring_drv_disable_cb(ring);
			return budget;
		}
		napi_complete_done(napi, done);
	}
	return done;
}

/**
 * pvnet_rx_done - used-buffer interrupt of a receive queue (hard-irq)
 * @vq: the queue
 */
void pvnet_rx_done(struct pvio_vq *vq)
{
	struct pvnet_rq *rq = vq->priv;

	/* Winning napi_schedule_prep() makes us the ring's owner until the poll. */
	if (napi_schedule_prep(&rq->napi)) {
		pvring_drv_disable_cb(&vq->ring);
		__napi_schedule(&rq->napi);
	}
}
