// SPDX-License-Identifier: GPL-2.0
/*
 * pvio_blk_main.c - pvio_blk.ko, the virtio block frontend (virtio 1.2 §5.2)
 * on pvio_core: probe and remove, queue limits from the configuration space,
 * capacity changes, sysfs, the module.  The data path is in pvio_blk_mq.c;
 * the design and the locking rules are at the top of pvio_blk.h.
 */
#include <linux/dma-mapping.h>
#include <linux/idr.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "pvio_blk.h"
#include "pvio_compat.h"

#define PVBLK_PART_BITS 4
/* Most data segments per request: an indirect table is then 2 KiB. */
#define PVBLK_MAX_SEGS 126
#define PVBLK_CFG(field) offsetof(struct pvio_blk_config, field)

static unsigned int num_request_queues;
module_param(num_request_queues, uint, 0644);
MODULE_PARM_DESC(num_request_queues, "most request queues per device (0: one per CPU)");

static unsigned int queue_depth;
module_param(queue_depth, uint, 0444);
MODULE_PARM_DESC(queue_depth, "requests per hardware queue (0: the ring size)");

unsigned int pvblk_io_timeout = 30;
module_param_named(io_timeout, pvblk_io_timeout, uint, 0644);
MODULE_PARM_DESC(io_timeout,
		 "seconds before a request times out and the device is reset (0: never)");

static int pvblk_major;
static DEFINE_IDA(pvblk_index_ida);

static void pvblk_broken(struct pvio_device *pdev)
{
	struct pvblk *blk = dev_get_drvdata(&pdev->dev);

	/* NULL while probe has not finished: its error path resets the device. */
	if (blk)
		schedule_work(&blk->broken_work);
}

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

/*
 * Tags per queue and data segments per request that the queues found take.
 * A chain is header + data + status.  With indirect tables it takes one
 * descriptor and may be as long as a table; without, it takes its length in
 * the ring, so allow two requests' worth at least.
 */
static void pvblk_vq_limits(struct pvblk *blk, unsigned int *depth, unsigned int *max_segs)
{
	unsigned int i;

	*max_segs = blk->sg_elems;
	*depth = UINT_MAX;
	for (i = 0; i < blk->nvqs; i++) {
		struct pvio_vq *vq = blk->vqs[i].vq;

		if (pvring_drv_has_indirect(&vq->ring)) {
			*depth = min(*depth, vq->num);
		} else {
			*max_segs = min(*max_segs, max(vq->num / 2, 3U) - 2);
			*depth = min(*depth, max(vq->num / 2, 1U));
		}
	}
	if (queue_depth)
		*depth = min(*depth, queue_depth);
}

/*
 * Queue limits from the configuration space, before the disk exists (the
 * block layer takes them at allocation, pvio_compat_alloc_disk()).
 *
 * Return: whether the device has a volatile write cache.
 */
static bool pvblk_read_limits(struct pvblk *blk, struct queue_limits *lim)
{
	struct pvio_device *pdev = blk->pdev;
	u32 lbs = PVIO_BLK_SECTOR_SIZE, v;
	size_t max_dma = dma_max_mapping_size(pvio_dma_dev(pdev));
	u32 max_seg_size = min_t(size_t, max_dma, U32_MAX);
	bool wc = false;

	memset(lim, 0, sizeof(*lim));
	lim->max_segments = blk->max_segs;
	lim->max_hw_sectors = min_t(size_t, max_dma >> SECTOR_SHIFT, UINT_MAX);
	if (pvio_has_feature(pdev, PVIO_BLK_F_SIZE_MAX)) {
		v = pvio_cread32(pdev, PVBLK_CFG(size_max));
		if (v)
			max_seg_size = min(max_seg_size, v);
	}
	max_seg_size = max_t(u32, max_seg_size, PAGE_SIZE);
	lim->max_segment_size = max_seg_size;
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
	lim->logical_block_size = lbs;

	if (pvio_has_feature(pdev, PVIO_BLK_F_TOPOLOGY)) {
		u8 exp = pvio_cread8(pdev, PVBLK_CFG(topology.physical_block_exp));
		u8 align = pvio_cread8(pdev, PVBLK_CFG(topology.alignment_offset));
		u16 min_io = pvio_cread16(pdev, PVBLK_CFG(topology.min_io_size));
		u32 opt_io = pvio_cread32(pdev, PVBLK_CFG(topology.opt_io_size));

		if (exp < 16)
			lim->physical_block_size = lbs << exp;
		lim->alignment_offset = (unsigned int)align * lbs;
		if (min_io)
			lim->io_min = (unsigned int)min_io * lbs;
		if (opt_io && opt_io <= UINT_MAX / lbs)
			lim->io_opt = opt_io * lbs;
	}

	if (pvio_has_feature(pdev, PVIO_BLK_F_FLUSH)) {
		wc = true;
		if (pvio_has_feature(pdev, PVIO_BLK_F_CONFIG_WCE))
			wc = pvio_cread8(pdev, PVBLK_CFG(writeback));
	}

	if (pvio_has_feature(pdev, PVIO_BLK_F_DISCARD)) {
		u32 segs = pvio_cread32(pdev, PVBLK_CFG(max_discard_seg));
		u32 align = pvio_cread32(pdev, PVBLK_CFG(discard_sector_alignment));

		v = pvio_cread32(pdev, PVBLK_CFG(max_discard_sectors));
		lim->max_hw_discard_sectors = v ? v : UINT_MAX;
		lim->max_discard_segments = clamp_t(u32, segs, 1, blk->max_segs);
		lim->discard_granularity = align ? align << SECTOR_SHIFT : lbs;
	}
	if (pvio_has_feature(pdev, PVIO_BLK_F_WRITE_ZEROES)) {
		v = pvio_cread32(pdev, PVBLK_CFG(max_write_zeroes_sectors));
		lim->max_write_zeroes_sectors = v ? v : UINT_MAX;
	}
	return wc;
}

/* Geometry, read-only flag and capacity, once the disk exists. */
static void pvblk_setup_disk(struct pvblk *blk)
{
	struct pvio_device *pdev = blk->pdev;

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
	struct queue_limits lim;
	struct pvblk *blk;
	unsigned int sg_elems = 1;
	bool wc;
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
	blk->sg_elems = sg_elems;
	err = pvblk_find_vqs(blk, sg_elems);
	if (err)
		goto err_free_vqs;
	pvblk_vq_limits(blk, &blk->depth, &blk->max_segs);
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

	wc = pvblk_read_limits(blk, &lim);
	blk->disk = pvio_compat_alloc_disk(&blk->tag_set, &lim, wc, blk);
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
	blk_queue_rq_timeout(blk->disk->queue, pvblk_io_timeout ? pvblk_io_timeout * HZ : 30 * HZ);
	pvblk_setup_disk(blk);

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

/* See "System sleep" at the top of pvio_blk.h. */
static int pvblk_freeze(struct pvio_device *pdev)
{
	struct pvblk *blk = dev_get_drvdata(&pdev->dev);
	unsigned int i;

	/* Waits until every request in flight completed (or timed out). */
	blk_mq_freeze_queue(blk->disk->queue);
	blk_mq_quiesce_queue(blk->disk->queue);
	pvio_device_reset(pdev);
	cancel_work_sync(&blk->broken_work);
	/* A broken device may have kept some: they fail. */
	pvblk_fail_inflight(blk);
	pvio_del_vqs(pdev);
	for (i = 0; i < blk->nvqs; i++)
		blk->vqs[i].vq = NULL;
	return 0;
}

static int pvblk_restore(struct pvio_device *pdev)
{
	struct pvblk *blk = dev_get_drvdata(&pdev->dev);
	unsigned int depth, max_segs, i;
	int err;

	err = pvblk_find_vqs(blk, blk->sg_elems);
	if (!err) {
		pvblk_vq_limits(blk, &depth, &max_segs);
		if (depth < blk->depth || max_segs < blk->max_segs) {
			dev_err(&pdev->dev,
				"%s: queues shrank across suspend (depth %u < %u or %u < %u segments)\n",
				blk->disk->disk_name, depth, blk->depth, max_segs, blk->max_segs);
			pvio_del_vqs(pdev);
			for (i = 0; i < blk->nvqs; i++)
				blk->vqs[i].vq = NULL;
			err = -ENOSPC;
		}
	}
	if (err)
		/* Before the queue restarts: queue_rq then fails every request. */
		pvio_device_broken(pdev, "cannot resume");
	else
		pvio_device_ready(pdev);
	blk_mq_unquiesce_queue(blk->disk->queue);
	blk_mq_unfreeze_queue(blk->disk->queue);
	return err;
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
		    PVIO_BIT(PVIO_F_EVENT_IDX) | PVIO_BIT(PVIO_F_IN_ORDER),
	.probe = pvblk_probe,
	.remove = pvblk_remove,
	.config_changed = pvblk_config_changed,
	.broken = pvblk_broken,
	.freeze = pvblk_freeze,
	.restore = pvblk_restore,
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
