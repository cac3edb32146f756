// SPDX-License-Identifier: GPL-2.0
/*
 * pvio_blk_main.c - the virtio block frontend (virtio 1.2 §5.2) on pvio_core.
 *
 * One blk-mq hardware queue per virtqueue.  A request is one chain:
 *
 *   header (readable) | data or DISCARD/WRITE_ZEROES ranges | status (writable)
 *
 * The header and status byte of each tag live in a per-queue DMA-coherent
 * array (struct pvblk_cmd), so the hot path maps only the data.
 *
 * Locking: pvblk_vq.lock serializes everything done to one ring (add, kick
 * decision, reaping, taking back buffers after a reset); it is taken from
 * queue_rq, commit_rqs, the queue's interrupt and the broken/remove paths.
 *
 * When the device misbehaves (a used id that is not in flight, a reset that
 * does not finish, a request that times out) it is marked broken: new
 * requests fail at once, broken_work resets the device and fails every
 * request still in flight with BLK_STS_IOERR.  Nothing the device writes can
 * crash the guest.
 */
#include <linux/blk-mq-pci.h>
#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/dma-mapping.h>
#include <linux/hdreg.h>
#include <linux/idr.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include "pvio.h"
#include "virtio_blk.h"

#define PVBLK_PART_BITS 4
/* Most data segments per request: an indirect table is then 2 KiB. */
#define PVBLK_MAX_SEGS 126
/* Scatterlist entries kept in the request itself; more come from a pool. */
#define PVBLK_INLINE_SG 2
#define PVBLK_CFG(field) offsetof(struct pvio_blk_config, field)

static unsigned int num_request_queues;
module_param(num_request_queues, uint, 0644);
MODULE_PARM_DESC(num_request_queues, "most request queues per device (0: one per CPU)");

static unsigned int queue_depth;
module_param(queue_depth, uint, 0444);
MODULE_PARM_DESC(queue_depth, "requests per hardware queue (0: the ring size)");

static unsigned int io_timeout = 30;
module_param(io_timeout, uint, 0644);
MODULE_PARM_DESC(io_timeout,
		 "seconds before a request times out and the device is reset (0: never)");

static int pvblk_major;
static DEFINE_IDA(pvblk_index_ida);

/* Header and status of one request, in DMA-coherent memory. */
struct pvblk_cmd {
	struct pvio_blk_req_hdr hdr; /* read by the device */
	u8 status; /* written by the device: PVIO_BLK_S_* */
	u8 pad[15]; /* keeps each command on its own 32 bytes */
};

/**
 * struct pvblk_vq - a request queue: one virtqueue, one blk-mq hw queue
 * @lock: serializes every use of @vq's ring (see the top of the file)
 * @vq: the virtqueue
 * @blk: the disk this queue belongs to
 * @cmds: header/status per tag, DMA-coherent
 * @cmds_dma: device address of @cmds
 * @sg: scratch for building a chain, max_segs + 2 entries, under @lock
 * @name: "req.N"
 */
struct pvblk_vq {
	spinlock_t lock; /* the ring of @vq, @sg */
	struct pvio_vq *vq;
	struct pvblk *blk;
	struct pvblk_cmd *cmds;
	dma_addr_t cmds_dma;
	struct pvring_sg *sg;
	char name[16];
};

/**
 * struct pvblk - one disk
 * @pdev: the pvio device
 * @disk: the gendisk; owns this structure once added (free_disk)
 * @tag_set: blk-mq tags
 * @vqs: request queues, @nvqs of them
 * @nvqs: number of request queues
 * @depth: tags per hardware queue, entries in each pvblk_vq.cmds
 * @max_segs: data segments per request
 * @index: instance number (disk name, minors)
 * @geo: geometry reported by HDIO_GETGEO
 * @broken_work: resets a broken device and fails its requests
 */
struct pvblk {
	struct pvio_device *pdev;
	struct gendisk *disk;
	struct blk_mq_tag_set tag_set;
	struct pvblk_vq *vqs;
	unsigned int nvqs;
	unsigned int depth;
	unsigned int max_segs;
	int index;
	struct hd_geometry geo;
	struct work_struct broken_work;
};

/**
 * struct pvblk_req - per-request driver data (blk-mq PDU)
 * @sgt: the data scatterlist
 * @nents: entries given to dma_map_sg(), 0 when no data is mapped
 * @mapped: entries dma_map_sg() returned
 * @dir: DMA direction of the data
 * @payload: DISCARD/WRITE_ZEROES ranges, or NULL
 * @payload_dma: device address of @payload
 * @payload_len: bytes of @payload
 * @status: result given to blk_mq_end_request()
 * @inline_sg: first scatterlist entries (@sgt chains to a pool beyond them)
 */
struct pvblk_req {
	struct sg_table sgt;
	int nents;
	int mapped;
	enum dma_data_direction dir;
	struct pvio_blk_discard_wz_seg *payload;
	dma_addr_t payload_dma;
	unsigned int payload_len;
	blk_status_t status;
	struct scatterlist inline_sg[PVBLK_INLINE_SG];
};

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

/* Used-buffer notification of one queue: hard-irq context. */
static void pvblk_vq_done(struct pvio_vq *vq)
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

/* Takes back every request the device holds and fails it.  After a reset. */
static void pvblk_fail_inflight(struct pvblk *blk)
{
	struct request *req;
	unsigned int i;

	for (i = 0; i < blk->nvqs; i++) {
		struct pvblk_vq *bvq = &blk->vqs[i];

		spin_lock_irq(&bvq->lock);
		while ((req = pvring_drv_detach_unused(&bvq->vq->ring)) != NULL) {
			struct pvblk_req *br = blk_mq_rq_to_pdu(req);

			br->status = BLK_STS_IOERR;
			blk_mq_complete_request(req);
		}
		spin_unlock_irq(&bvq->lock);
	}
}

static void pvblk_broken_work(struct work_struct *work)
{
	struct pvblk *blk = container_of(work, struct pvblk, broken_work);

	pvio_device_reset(blk->pdev);
	pvblk_fail_inflight(blk);
	/* Stopped queues would never restart: let them fail their requests. */
	blk_mq_start_stopped_hw_queues(blk->disk->queue, true);
}

static void pvblk_broken(struct pvio_device *pdev)
{
	struct pvblk *blk = dev_get_drvdata(&pdev->dev);

	/* NULL while probe has not finished: its error path resets the device. */
	if (blk)
		schedule_work(&blk->broken_work);
}

static enum blk_eh_timer_return pvblk_timeout(struct request *req)
{
	struct pvblk *blk = req->q->queuedata;

	if (!io_timeout)
		return BLK_EH_RESET_TIMER;
	dev_err_ratelimited(&blk->pdev->dev, "%s: request %#x (op %u) timed out after %us\n",
			    blk->disk->disk_name, req->tag, req_op(req), io_timeout);
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

static const struct blk_mq_ops pvblk_mq_ops = {
	.queue_rq = pvblk_queue_rq,
	.commit_rqs = pvblk_commit_rqs,
	.complete = pvblk_complete_rq,
	.init_hctx = pvblk_init_hctx,
	.map_queues = pvblk_map_queues,
	.timeout = pvblk_timeout,
};

static int pvblk_getgeo(struct block_device *bdev, struct hd_geometry *geo)
{
	struct pvblk *blk = bdev->bd_disk->private_data;

	*geo = blk->geo;
	if (!geo->heads) {
		/* No GEOMETRY feature: the usual 255 heads, 63 sectors. */
		geo->heads = 255;
		geo->sectors = 63;
		geo->cylinders = get_capacity(bdev->bd_disk) >> 14;
	}
	return 0;
}

static void pvblk_free_disk(struct gendisk *disk)
{
	struct pvblk *blk = disk->private_data;

	ida_free(&pvblk_index_ida, blk->index);
	kfree(blk);
}

static const struct block_device_operations pvblk_fops = {
	.owner = THIS_MODULE,
	.getgeo = pvblk_getgeo,
	.free_disk = pvblk_free_disk,
};

/* GET_ID: the device's serial, up to 20 bytes into @id. */
static int pvblk_get_id(struct pvblk *blk, char *id)
{
	struct request_queue *q = blk->disk->queue;
	struct request *req;
	int err;

	req = blk_mq_alloc_request(q, REQ_OP_DRV_IN, 0);
	if (IS_ERR(req))
		return PTR_ERR(req);
	err = blk_rq_map_kern(q, req, id, PVIO_BLK_ID_BYTES, GFP_KERNEL);
	if (!err)
		err = blk_status_to_errno(blk_execute_rq(req, false));
	blk_mq_free_request(req);
	return err;
}

static ssize_t serial_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct pvblk *blk = dev_to_disk(dev)->private_data;
	ssize_t ret;
	char *id;
	int err;

	/* A separate buffer: the device writes it by DMA. */
	id = kzalloc(PVIO_BLK_ID_BYTES, GFP_KERNEL);
	if (!id)
		return -ENOMEM;
	err = pvblk_get_id(blk, id);
	if (err)
		ret = err == -EOPNOTSUPP ? -ENOENT : err;
	else
		ret = sysfs_emit(buf, "%.*s\n", PVIO_BLK_ID_BYTES, id);
	kfree(id);
	return ret;
}
static DEVICE_ATTR_RO(serial);

static ssize_t queues_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct pvblk *blk = dev_to_disk(dev)->private_data;

	return sysfs_emit(buf, "%u\n", blk->nvqs);
}
static DEVICE_ATTR_RO(queues);

static struct attribute *pvblk_attrs[] = {
	&dev_attr_serial.attr,
	&dev_attr_queues.attr,
	NULL,
};

static const struct attribute_group pvblk_attr_group = {
	.attrs = pvblk_attrs,
};

static const struct attribute_group *pvblk_attr_groups[] = {
	&pvblk_attr_group,
	NULL,
};

/* "pvda".."pvdz", "pvdaa"..: like sd and vd, in base 26 without a zero. */
static int pvblk_name_format(int index, char *buf, size_t len)
{
	char suffix[8];
	int p = sizeof(suffix) - 1;

	suffix[p] = '\0';
	do {
		if (p == 0)
			return -EINVAL;
		suffix[--p] = 'a' + index % 26;
		index = index / 26 - 1;
	} while (index >= 0);
	snprintf(buf, len, "pvd%s", &suffix[p]);
	return 0;
}

static unsigned int pvblk_nr_queues(struct pvio_device *pdev)
{
	unsigned int n = 1;

	if (pvio_has_feature(pdev, PVIO_BLK_F_MQ))
		n = pvio_cread16(pdev, PVBLK_CFG(num_queues));
	if (!n)
		n = 1; /* a device claiming MQ with 0 queues still has one */
	n = min_t(unsigned int, n, nr_cpu_ids);
	if (num_request_queues)
		n = min(n, num_request_queues);
	return n;
}

static void pvblk_free_vq_memory(struct pvblk *blk)
{
	unsigned int i;

	for (i = 0; i < blk->nvqs; i++) {
		struct pvblk_vq *bvq = &blk->vqs[i];

		if (bvq->cmds)
			dma_free_coherent(pvio_dma_dev(blk->pdev),
					  blk->depth * sizeof(struct pvblk_cmd), bvq->cmds,
					  bvq->cmds_dma);
		kfree(bvq->sg);
		bvq->cmds = NULL;
		bvq->sg = NULL;
	}
}

static int pvblk_alloc_vq_memory(struct pvblk *blk)
{
	unsigned int i;

	for (i = 0; i < blk->nvqs; i++) {
		struct pvblk_vq *bvq = &blk->vqs[i];

		bvq->cmds = dma_alloc_coherent(pvio_dma_dev(blk->pdev),
					       blk->depth * sizeof(struct pvblk_cmd),
					       &bvq->cmds_dma, GFP_KERNEL);
		bvq->sg = kmalloc_array(blk->max_segs + 2, sizeof(*bvq->sg), GFP_KERNEL);
		if (!bvq->cmds || !bvq->sg) {
			pvblk_free_vq_memory(blk);
			return -ENOMEM;
		}
	}
	return 0;
}

static int pvblk_find_vqs(struct pvblk *blk, unsigned int sg_elems)
{
	struct irq_affinity desc = { .pre_vectors = 1 };
	struct pvio_vq_info *info;
	struct pvio_vq **vqs;
	unsigned int i;
	int err = -ENOMEM;

	info = kcalloc(blk->nvqs, sizeof(*info), GFP_KERNEL);
	vqs = kcalloc(blk->nvqs, sizeof(*vqs), GFP_KERNEL);
	if (!info || !vqs)
		goto out_free;
	for (i = 0; i < blk->nvqs; i++) {
		struct pvblk_vq *bvq = &blk->vqs[i];

		spin_lock_init(&bvq->lock);
		bvq->blk = blk;
		snprintf(bvq->name, sizeof(bvq->name), "req.%u", i);
		info[i].callback = pvblk_vq_done;
		info[i].name = bvq->name;
		info[i].priv = bvq;
	}
	err = pvio_find_vqs(blk->pdev, blk->nvqs, vqs, info, sg_elems + 2, &desc);
	if (err)
		goto out_free;
	for (i = 0; i < blk->nvqs; i++)
		blk->vqs[i].vq = vqs[i];
out_free:
	kfree(vqs);
	kfree(info);
	return err;
}

/* Queue limits and disk flags from the configuration space. */
static void pvblk_setup_limits(struct pvblk *blk)
{
	struct pvio_device *pdev = blk->pdev;
	struct request_queue *q = blk->disk->queue;
	u32 lbs = PVIO_BLK_SECTOR_SIZE, v;
	size_t max_dma = dma_max_mapping_size(pvio_dma_dev(pdev));
	u32 max_seg_size = min_t(size_t, max_dma, U32_MAX);

	blk_queue_max_segments(q, blk->max_segs);
	blk_queue_max_hw_sectors(q, min_t(size_t, max_dma >> SECTOR_SHIFT, UINT_MAX));
	if (pvio_has_feature(pdev, PVIO_BLK_F_SIZE_MAX)) {
		v = pvio_cread32(pdev, PVBLK_CFG(size_max));
		if (v)
			max_seg_size = min(max_seg_size, v);
	}
	max_seg_size = max_t(u32, max_seg_size, PAGE_SIZE);
	blk_queue_max_segment_size(q, max_seg_size);
	dma_set_max_seg_size(pvio_dma_dev(pdev), max_seg_size);

	if (pvio_has_feature(pdev, PVIO_BLK_F_BLK_SIZE)) {
		v = pvio_cread32(pdev, PVBLK_CFG(blk_size));
		if (v >= SECTOR_SIZE && v <= PAGE_SIZE && is_power_of_2(v))
			lbs = v;
		else
			dev_warn(&pdev->dev,
				 "ignoring block size %u: not a power of two in 512..%lu\n", v,
				 PAGE_SIZE);
	}
	blk_queue_logical_block_size(q, lbs);

	if (pvio_has_feature(pdev, PVIO_BLK_F_TOPOLOGY)) {
		u8 exp = pvio_cread8(pdev, PVBLK_CFG(topology.physical_block_exp));
		u8 align = pvio_cread8(pdev, PVBLK_CFG(topology.alignment_offset));
		u16 min_io = pvio_cread16(pdev, PVBLK_CFG(topology.min_io_size));
		u32 opt_io = pvio_cread32(pdev, PVBLK_CFG(topology.opt_io_size));

		if (exp < 16)
			blk_queue_physical_block_size(q, lbs << exp);
		blk_queue_alignment_offset(q, (unsigned int)align * lbs);
		if (min_io)
			blk_queue_io_min(q, (unsigned int)min_io * lbs);
		if (opt_io && opt_io <= UINT_MAX / lbs)
			blk_queue_io_opt(q, opt_io * lbs);
	}

	if (pvio_has_feature(pdev, PVIO_BLK_F_FLUSH)) {
		bool wc = true;

		if (pvio_has_feature(pdev, PVIO_BLK_F_CONFIG_WCE))
			wc = pvio_cread8(pdev, PVBLK_CFG(writeback));
		blk_queue_write_cache(q, wc, false);
	} else {
		blk_queue_write_cache(q, false, false);
	}

	if (pvio_has_feature(pdev, PVIO_BLK_F_DISCARD)) {
		u32 segs = pvio_cread32(pdev, PVBLK_CFG(max_discard_seg));
		u32 align = pvio_cread32(pdev, PVBLK_CFG(discard_sector_alignment));

		v = pvio_cread32(pdev, PVBLK_CFG(max_discard_sectors));
		blk_queue_max_discard_sectors(q, v ? v : UINT_MAX);
		blk_queue_max_discard_segments(q, clamp_t(u32, segs, 1, blk->max_segs));
		q->limits.discard_granularity = align ? align << SECTOR_SHIFT : lbs;
	}
	if (pvio_has_feature(pdev, PVIO_BLK_F_WRITE_ZEROES)) {
		v = pvio_cread32(pdev, PVBLK_CFG(max_write_zeroes_sectors));
		blk_queue_max_write_zeroes_sectors(q, v ? v : UINT_MAX);
	}

	if (pvio_has_feature(pdev, PVIO_BLK_F_GEOMETRY)) {
		blk->geo.cylinders = pvio_cread16(pdev, PVBLK_CFG(geometry.cylinders));
		blk->geo.heads = pvio_cread8(pdev, PVBLK_CFG(geometry.heads));
		blk->geo.sectors = pvio_cread8(pdev, PVBLK_CFG(geometry.sectors));
	}
	if (pvio_has_feature(pdev, PVIO_BLK_F_RO))
		set_disk_ro(blk->disk, true);
	set_capacity(blk->disk, pvio_cread64(pdev, PVBLK_CFG(capacity)));
}

static int pvblk_probe(struct pvio_device *pdev)
{
	struct pvblk *blk;
	unsigned int sg_elems = 1, i;
	int err;

	blk = kzalloc(sizeof(*blk), GFP_KERNEL);
	if (!blk)
		return -ENOMEM;
	blk->pdev = pdev;
	INIT_WORK(&blk->broken_work, pvblk_broken_work);
	blk->index = ida_alloc_max(&pvblk_index_ida, (1 << (MINORBITS - PVBLK_PART_BITS)) - 1,
				   GFP_KERNEL);
	if (blk->index < 0) {
		err = blk->index;
		goto err_free_blk;
	}

	if (pvio_has_feature(pdev, PVIO_BLK_F_SEG_MAX))
		sg_elems = pvio_cread32(pdev, PVBLK_CFG(seg_max));
	sg_elems = clamp_t(u32, sg_elems, 1, PVBLK_MAX_SEGS);

	blk->nvqs = pvblk_nr_queues(pdev);
	blk->vqs = kcalloc(blk->nvqs, sizeof(*blk->vqs), GFP_KERNEL);
	if (!blk->vqs) {
		err = -ENOMEM;
		goto err_free_index;
	}
	err = pvblk_find_vqs(blk, sg_elems);
	if (err)
		goto err_free_vqs;

	/*
	 * A chain is header + data + status.  With indirect tables it takes one
	 * descriptor and may be as long as a table; without, it takes its length
	 * in the ring, so allow two requests' worth at least.
	 */
	blk->max_segs = sg_elems;
	blk->depth = UINT_MAX;
	for (i = 0; i < blk->nvqs; i++) {
		struct pvio_vq *vq = blk->vqs[i].vq;

		if (pvring_drv_has_indirect(&vq->ring)) {
			blk->depth = min(blk->depth, vq->num);
		} else {
			blk->max_segs = min(blk->max_segs, max(vq->num / 2, 3U) - 2);
			blk->depth = min(blk->depth, max(vq->num / 2, 1U));
		}
	}
	if (queue_depth)
		blk->depth = min(blk->depth, queue_depth);
	err = pvblk_alloc_vq_memory(blk);
	if (err)
		goto err_del_vqs;

	blk->tag_set.ops = &pvblk_mq_ops;
	blk->tag_set.nr_hw_queues = blk->nvqs;
	blk->tag_set.nr_maps = 1;
	blk->tag_set.queue_depth = blk->depth;
	blk->tag_set.numa_node = dev_to_node(&pdev->pci->dev);
	blk->tag_set.flags = BLK_MQ_F_SHOULD_MERGE;
	blk->tag_set.cmd_size = sizeof(struct pvblk_req);
	blk->tag_set.driver_data = blk;
	err = blk_mq_alloc_tag_set(&blk->tag_set);
	if (err)
		goto err_free_vq_memory;

	blk->disk = blk_mq_alloc_disk(&blk->tag_set, blk);
	if (IS_ERR(blk->disk)) {
		err = PTR_ERR(blk->disk);
		goto err_free_tag_set;
	}
	blk->disk->major = pvblk_major;
	blk->disk->first_minor = blk->index << PVBLK_PART_BITS;
	blk->disk->minors = 1 << PVBLK_PART_BITS;
	blk->disk->fops = &pvblk_fops;
	blk->disk->private_data = blk;
	err = pvblk_name_format(blk->index, blk->disk->disk_name, DISK_NAME_LEN);
	if (err)
		goto err_put_disk;
	blk_queue_rq_timeout(blk->disk->queue, io_timeout ? io_timeout * HZ : 30 * HZ);
	pvblk_setup_limits(blk);

	dev_set_drvdata(&pdev->dev, blk);
	/* The partition scan in device_add_disk() does I/O. */
	pvio_device_ready(pdev);
	err = device_add_disk(&pdev->dev, blk->disk, pvblk_attr_groups);
	if (err)
		goto err_reset;
	dev_info(&pdev->dev,
		 "%s: %llu sectors, %u queue(s) of depth %u, %u segments, features %#llx\n",
		 blk->disk->disk_name, get_capacity(blk->disk), blk->nvqs, blk->depth,
		 blk->max_segs, pdev->features);
	return 0;

err_reset:
	pvio_device_reset(pdev);
	cancel_work_sync(&blk->broken_work);
	dev_set_drvdata(&pdev->dev, NULL);
err_put_disk:
	/* Before the tag set: an unadded disk's release uses it. */
	put_disk(blk->disk);
err_free_tag_set:
	blk_mq_free_tag_set(&blk->tag_set);
err_free_vq_memory:
	pvblk_free_vq_memory(blk);
err_del_vqs:
	pvio_device_reset(pdev);
	pvio_del_vqs(pdev);
err_free_vqs:
	kfree(blk->vqs);
err_free_index:
	ida_free(&pvblk_index_ida, blk->index);
err_free_blk:
	kfree(blk);
	return err;
}

static void pvblk_remove(struct pvio_device *pdev)
{
	struct pvblk *blk = dev_get_drvdata(&pdev->dev);

	/*
	 * Surprise removal: nothing will complete, so fail the I/O now rather
	 * than wait for it in del_gendisk().
	 */
	if (!pci_device_is_present(pdev->pci)) {
		blk_mark_disk_dead(blk->disk);
		pvio_device_broken(pdev, "device removed");
		flush_work(&blk->broken_work);
	}
	/* Drains the I/O in flight and stops new I/O. */
	del_gendisk(blk->disk);
	pvio_device_reset(pdev);
	cancel_work_sync(&blk->broken_work);
	/* Nothing should be left; if the device held buffers, fail them. */
	pvblk_fail_inflight(blk);
	pvio_del_vqs(pdev);
	pvblk_free_vq_memory(blk);
	kfree(blk->vqs);
	blk->vqs = NULL;
	blk->nvqs = 0;
	blk_mq_free_tag_set(&blk->tag_set);
	dev_set_drvdata(&pdev->dev, NULL);
	/* blk is freed with the disk (pvblk_free_disk), maybe after an open fd closes. */
	put_disk(blk->disk);
}

static void pvblk_config_changed(struct pvio_device *pdev)
{
	struct pvblk *blk = dev_get_drvdata(&pdev->dev);
	u64 capacity = pvio_cread64(pdev, PVBLK_CFG(capacity));

	if (capacity != get_capacity(blk->disk))
		dev_info(&pdev->dev, "%s: capacity changed to %llu sectors\n", blk->disk->disk_name,
			 capacity);
	set_capacity_and_notify(blk->disk, capacity);
}

static struct pvio_driver pvblk_driver = {
	.driver.name = "pvio_blk",
	.type = PVIO_ID_BLOCK,
	.features = PVIO_BIT(PVIO_BLK_F_SIZE_MAX) | PVIO_BIT(PVIO_BLK_F_SEG_MAX) |
		    PVIO_BIT(PVIO_BLK_F_GEOMETRY) | PVIO_BIT(PVIO_BLK_F_RO) |
		    PVIO_BIT(PVIO_BLK_F_BLK_SIZE) | PVIO_BIT(PVIO_BLK_F_FLUSH) |
		    PVIO_BIT(PVIO_BLK_F_TOPOLOGY) | PVIO_BIT(PVIO_BLK_F_CONFIG_WCE) |
		    PVIO_BIT(PVIO_BLK_F_MQ) | PVIO_BIT(PVIO_BLK_F_DISCARD) |
		    PVIO_BIT(PVIO_BLK_F_WRITE_ZEROES) | PVIO_BIT(PVIO_F_INDIRECT_DESC) |
		    PVIO_BIT(PVIO_F_EVENT_IDX),
	.probe = pvblk_probe,
	.remove = pvblk_remove,
	.config_changed = pvblk_config_changed,
	.broken = pvblk_broken,
};

static int __init pvblk_init(void)
{
	int err;

	pvblk_major = register_blkdev(0, "pvblk");
	if (pvblk_major < 0)
		return pvblk_major;
	err = pvio_register_driver(&pvblk_driver);
	if (err)
		goto err_unregister_blkdev;
	return 0;

err_unregister_blkdev:
	unregister_blkdev(pvblk_major, "pvblk");
	return err;
}

static void __exit pvblk_exit(void)
{
	pvio_unregister_driver(&pvblk_driver);
	unregister_blkdev(pvblk_major, "pvblk");
	ida_destroy(&pvblk_index_ida);
}

module_init(pvblk_init);
module_exit(pvblk_exit);

MODULE_ALIAS("pvio:d00000002");
MODULE_DESCRIPTION("pvio: virtio block frontend");
MODULE_LICENSE("GPL");
