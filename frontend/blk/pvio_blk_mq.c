// SPDX-License-Identifier: GPL-2.0
/*
 * pvio_blk_mq.c - the data path of pvio_blk.ko: requests to chains
 * (queue_rq, commit_rqs), completions from the queue's interrupt, timeouts
 * and the broken device (reset, then every request in flight fails).  The
 * design and the locking rules are at the top of pvio_blk.h.
 */
#include <linux/blk-mq-pci.h>
#include <linux/dma-mapping.h>
#include <linux/slab.h>

#include "pvio_blk.h"

static blk_status_t pvblk_status(u8 status)
{
	switch (status) {
	case PVIO_BLK_S_OK:
		return BLK_STS_OK;
	case PVIO_BLK_S_UNSUPP:
		return BLK_STS_NOTSUPP;
	default: /* S_IOERR, and whatever else a device may write */
		return BLK_STS_IOERR;
	}
}

static void pvblk_unmap(struct pvblk *blk, struct pvblk_req *br)
{
	struct device *dma = pvio_dma_dev(blk->pdev);

	if (br->nents) {
		dma_unmap_sg(dma, br->sgt.sgl, br->nents, br->dir);
		sg_free_table_chained(&br->sgt, PVBLK_INLINE_SG);
		br->nents = 0;
	}
	if (br->payload) {
		dma_unmap_single(dma, br->payload_dma, br->payload_len, DMA_TO_DEVICE);
		kfree(br->payload);
		br->payload = NULL;
	}
}

static void pvblk_complete_rq(struct request *req)
{
	struct pvblk *blk = req->q->queuedata;
	struct pvblk_req *br = blk_mq_rq_to_pdu(req);

	pvblk_unmap(blk, br);
	blk_mq_end_request(req, br->status);
}

/* Builds the DISCARD / WRITE_ZEROES payload: one range per bio. */
static blk_status_t pvblk_setup_ranges(struct pvblk *blk, struct request *req, struct pvblk_req *br,
				       bool unmap)
{
	unsigned short segs = blk_rq_nr_discard_segments(req);
	struct pvio_blk_discard_wz_seg *range;
	u32 flags = unmap ? PVIO_BLK_WZ_F_UNMAP : 0;
	struct bio *bio;
	unsigned int n = 0;

	if (req_op(req) == REQ_OP_WRITE_ZEROES)
		segs = 1;
	range = kmalloc_array(segs, sizeof(*range), GFP_ATOMIC);
	if (!range)
		return BLK_STS_RESOURCE;
	if (segs == 1) {
		range[0].sector = cpu_to_le64(blk_rq_pos(req));
		range[0].num_sectors = cpu_to_le32(blk_rq_sectors(req));
		range[0].flags = cpu_to_le32(flags);
		n = 1;
	} else {
		__rq_for_each_bio(bio, req) {
			if (n == segs)
				break;
			range[n].sector = cpu_to_le64(bio->bi_iter.bi_sector);
			range[n].num_sectors = cpu_to_le32(bio_sectors(bio));
			range[n].flags = cpu_to_le32(flags);
			n++;
		}
	}
	br->payload_len = n * sizeof(*range);
	br->payload_dma =
		dma_map_single(pvio_dma_dev(blk->pdev), range, br->payload_len, DMA_TO_DEVICE);
	if (dma_mapping_error(pvio_dma_dev(blk->pdev), br->payload_dma)) {
		kfree(range);
		return BLK_STS_RESOURCE;
	}
	br->payload = range;
	return BLK_STS_OK;
}

static blk_status_t pvblk_map_data(struct pvblk *blk, struct request *req, struct pvblk_req *br)
{
	int nents;

	br->sgt.sgl = br->inline_sg;
	if (sg_alloc_table_chained(&br->sgt, blk_rq_nr_phys_segments(req), br->inline_sg,
				   PVBLK_INLINE_SG))
		return BLK_STS_RESOURCE;
	nents = blk_rq_map_sg(req->q, req, br->sgt.sgl);
	br->mapped = dma_map_sg(pvio_dma_dev(blk->pdev), br->sgt.sgl, nents, br->dir);
	if (!br->mapped) {
		sg_free_table_chained(&br->sgt, PVBLK_INLINE_SG);
		return BLK_STS_RESOURCE;
	}
	br->nents = nents;
	return BLK_STS_OK;
}

/* Header, payload and data mapping of @req; 0 in *@type for unsupported ops. */
static blk_status_t pvblk_setup_req(struct pvblk *blk, struct request *req, struct pvblk_req *br,
				    u32 *type)
{
	br->nents = 0;
	br->payload = NULL;
	br->dir = DMA_NONE;
	switch (req_op(req)) {
	case REQ_OP_READ:
		*type = PVIO_BLK_T_IN;
		br->dir = DMA_FROM_DEVICE;
		break;
	case REQ_OP_WRITE:
		*type = PVIO_BLK_T_OUT;
		br->dir = DMA_TO_DEVICE;
		break;
	case REQ_OP_FLUSH:
		*type = PVIO_BLK_T_FLUSH;
		return BLK_STS_OK;
	case REQ_OP_DISCARD:
		*type = PVIO_BLK_T_DISCARD;
		return pvblk_setup_ranges(blk, req, br, false);
	case REQ_OP_WRITE_ZEROES:
		*type = PVIO_BLK_T_WRITE_ZEROES;
		return pvblk_setup_ranges(blk, req, br, !(req->cmd_flags & REQ_NOUNMAP));
	case REQ_OP_DRV_IN: /* GET_ID, from pvblk_get_id() */
		*type = PVIO_BLK_T_GET_ID;
		br->dir = DMA_FROM_DEVICE;
		break;
	default:
		return BLK_STS_NOTSUPP;
	}
	if (!blk_rq_nr_phys_segments(req))
		return BLK_STS_OK;
	return pvblk_map_data(blk, req, br);
}

/* Fills bvq->sg with the chain of @req; returns out and in counts. Under lock. */
static void pvblk_build_chain(struct pvblk_vq *bvq, struct request *req, struct pvblk_req *br,
			      unsigned int *out, unsigned int *in)
{
	dma_addr_t cmd = bvq->cmds_dma + (size_t)req->tag * sizeof(struct pvblk_cmd);
	struct pvring_sg *sg = bvq->sg;
	struct scatterlist *s;
	unsigned int n = 0;
	int i;

	sg[n].addr = cmd + offsetof(struct pvblk_cmd, hdr);
	sg[n++].len = sizeof(struct pvio_blk_req_hdr);
	if (br->payload) {
		sg[n].addr = br->payload_dma;
		sg[n++].len = br->payload_len;
	}
	if (br->nents && br->dir == DMA_TO_DEVICE)
		for_each_sg(br->sgt.sgl, s, br->mapped, i) {
			sg[n].addr = sg_dma_address(s);
			sg[n++].len = sg_dma_len(s);
		}
	*out = n;
	if (br->nents && br->dir == DMA_FROM_DEVICE)
		for_each_sg(br->sgt.sgl, s, br->mapped, i) {
			sg[n].addr = sg_dma_address(s);
			sg[n++].len = sg_dma_len(s);
		}
	sg[n].addr = cmd + offsetof(struct pvblk_cmd, status);
	sg[n++].len = sizeof(u8);
	*in = n - *out;
}

static blk_status_t pvblk_queue_rq(struct blk_mq_hw_ctx *hctx, const struct blk_mq_queue_data *bd)
{
	struct pvblk *blk = hctx->queue->queuedata;
	struct pvblk_vq *bvq = hctx->driver_data;
	struct request *req = bd->rq;
	struct pvblk_req *br = blk_mq_rq_to_pdu(req);
	struct pvblk_cmd *cmd = &bvq->cmds[req->tag];
	unsigned int out, in;
	unsigned long flags;
	blk_status_t status;
	bool notify = false;
	u32 type = 0;
	int err;

	if (unlikely(pvio_device_is_broken(blk->pdev)))
		return BLK_STS_IOERR;
	status = pvblk_setup_req(blk, req, br, &type);
	if (unlikely(status != BLK_STS_OK))
		return status;

	cmd->hdr.type = cpu_to_le32(type);
	cmd->hdr.ioprio = 0;
	cmd->hdr.sector =
		cpu_to_le64(type == PVIO_BLK_T_IN || type == PVIO_BLK_T_OUT ? blk_rq_pos(req) : 0);
	/* Anything but a status the device wrote reads as an error. */
	cmd->status = 0xff;
	br->status = BLK_STS_IOERR;
	blk_mq_start_request(req);

	spin_lock_irqsave(&bvq->lock, flags);
	/* Checked again under the lock: broken_work takes buffers back under it. */
	if (unlikely(pvio_device_is_broken(blk->pdev))) {
		err = -EIO;
	} else {
		pvblk_build_chain(bvq, req, br, &out, &in);
		err = pvring_drv_add(&bvq->vq->ring, bvq->sg, out, in, req);
	}
	if (unlikely(err)) {
		if (err == -ENOSPC) {
			/* Restarted by pvblk_vq_done() when buffers come back. */
			blk_mq_stop_hw_queue(hctx);
			notify = pvio_vq_kick_prepare(bvq->vq);
		}
		spin_unlock_irqrestore(&bvq->lock, flags);
		if (notify)
			pvio_vq_notify(bvq->vq);
		pvblk_unmap(blk, br);
		if (err == -ENOSPC)
			return BLK_STS_DEV_RESOURCE;
		if (err == -EIO)
			pvio_device_broken(blk->pdev, "ring broken");
		return BLK_STS_IOERR;
	}
	/* Batch kicks: blk-mq says which request is the last of a batch. */
	if (bd->last)
		notify = pvio_vq_kick_prepare(bvq->vq);
	spin_unlock_irqrestore(&bvq->lock, flags);
	if (notify)
		pvio_vq_notify(bvq->vq);
	return BLK_STS_OK;
}

static void pvblk_commit_rqs(struct blk_mq_hw_ctx *hctx)
{
	struct pvblk_vq *bvq = hctx->driver_data;
	unsigned long flags;
	bool notify;

	/* Broken: nothing to kick, maybe no queue (a failed resume). */
	if (unlikely(pvio_device_is_broken(bvq->blk->pdev)))
		return;
	spin_lock_irqsave(&bvq->lock, flags);
	notify = pvio_vq_kick_prepare(bvq->vq);
	spin_unlock_irqrestore(&bvq->lock, flags);
	if (notify)
		pvio_vq_notify(bvq->vq);
}

/* Completes @req with the status the device wrote.  Under bvq->lock. */
static void pvblk_complete_used(struct pvblk_vq *bvq, struct request *req)
{
	struct pvblk_req *br = blk_mq_rq_to_pdu(req);

	br->status = pvblk_status(READ_ONCE(bvq->cmds[req->tag].status));
	if (likely(!blk_should_fake_timeout(req->q)))
		blk_mq_complete_request(req);
}

/**
 * pvblk_vq_done - used-buffer notification of one request queue
 * @vq: the queue (hard-irq context)
 *
 * Completes every request the device used, restarts stopped hardware
 * queues, and marks the device broken on a bad used-ring entry.
 */
void pvblk_vq_done(struct pvio_vq *vq)
{
	struct pvblk_vq *bvq = vq->priv;
	struct pvblk *blk = bvq->blk;
	bool done = false, broken;
	struct request *req;
	unsigned long flags;
	u32 len;

	spin_lock_irqsave(&bvq->lock, flags);
	do {
		pvring_drv_disable_cb(&vq->ring);
		while ((req = pvring_drv_get_used(&vq->ring, &len)) != NULL) {
			pvblk_complete_used(bvq, req);
			done = true;
		}
		/* enable_cb() is true at once on a broken ring: nothing more to reap. */
	} while (!pvring_drv_enable_cb(&vq->ring));
	broken = pvring_drv_broken(&vq->ring);
	spin_unlock_irqrestore(&bvq->lock, flags);

	if (unlikely(broken))
		pvio_device_broken(blk->pdev, "bad used ring entry");
	if (done)
		blk_mq_start_stopped_hw_queues(blk->disk->queue, true);
}

/**
 * pvblk_fail_inflight - take back every request the device holds and fail it
 * @blk: the disk, after a reset of its device
 */
void pvblk_fail_inflight(struct pvblk *blk)
{
	struct request *req;
	unsigned int i;

	for (i = 0; i < blk->nvqs; i++) {
		struct pvblk_vq *bvq = &blk->vqs[i];

		/* No queue while suspended, or after a failed resume. */
		if (!bvq->vq)
			continue;
		spin_lock_irq(&bvq->lock);
		while ((req = pvring_drv_detach_unused(&bvq->vq->ring)) != NULL) {
			struct pvblk_req *br = blk_mq_rq_to_pdu(req);

			br->status = BLK_STS_IOERR;
			blk_mq_complete_request(req);
		}
		spin_unlock_irq(&bvq->lock);
	}
}

/**
 * pvblk_broken_work - reset a broken device and fail its requests
 * @work: pvblk.broken_work, scheduled by pvblk_broken()
 */
void pvblk_broken_work(struct work_struct *work)
{
	struct pvblk *blk = container_of(work, struct pvblk, broken_work);

	pvio_device_reset(blk->pdev);
	pvblk_fail_inflight(blk);
	/* Stopped queues would never restart: let them fail their requests. */
	blk_mq_start_stopped_hw_queues(blk->disk->queue, true);
}

static enum blk_eh_timer_return pvblk_timeout(struct request *req)
{
	struct pvblk *blk = req->q->queuedata;

	if (!pvblk_io_timeout)
		return BLK_EH_RESET_TIMER;
	dev_err_ratelimited(&blk->pdev->dev, "%s: request %#x (op %u) timed out after %us\n",
			    blk->disk->disk_name, req->tag, req_op(req), pvblk_io_timeout);
	/* broken_work resets the device and completes this request with an error. */
	pvio_device_broken(blk->pdev, "request timed out");
	return BLK_EH_DONE;
}

static int pvblk_init_hctx(struct blk_mq_hw_ctx *hctx, void *data, unsigned int index)
{
	struct pvblk *blk = data;

	hctx->driver_data = &blk->vqs[index];
	return 0;
}

static void pvblk_map_queues(struct blk_mq_tag_set *set)
{
	struct pvblk *blk = set->driver_data;
	int offset = pvio_vq_irq_offset(blk->pdev);

	if (offset < 0)
		blk_mq_map_queues(&set->map[HCTX_TYPE_DEFAULT]);
	else
		blk_mq_pci_map_queues(&set->map[HCTX_TYPE_DEFAULT], blk->pdev->pci, offset);
}

const struct blk_mq_ops pvblk_mq_ops = {
	.queue_rq = pvblk_queue_rq,
	.commit_rqs = pvblk_commit_rqs,
	.complete = pvblk_complete_rq,
	.init_hctx = pvblk_init_hctx,
	.map_queues = pvblk_map_queues,
	.timeout = pvblk_timeout,
};
