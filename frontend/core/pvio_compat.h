/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pvio_compat.h - kernel APIs that changed between the guest kernels pvio
 * builds for: Debian 12's 6.1 and bookworm-backports' 6.12 (2026-12).
 *
 * One entry per API change, each with the release that changed it, so an
 * entry can go once the oldest supported kernel has the new form.  Code
 * outside this file never tests LINUX_VERSION_CODE.
 */
#ifndef PVIO_COMPAT_H
#define PVIO_COMPAT_H

#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/device.h>
#include <linux/version.h>

/* 6.3: bus_type.uevent takes a const struct device. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
#define pvio_compat_uevent_const const
#else
#define pvio_compat_uevent_const
#endif

/* 6.11: bus_type.match takes a const struct device_driver. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
#define pvio_compat_match_const const
#else
#define pvio_compat_match_const
#endif

/* 6.4: class_create() lost its owner argument. */
static inline struct class *pvio_compat_class_create(const char *name)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
	return class_create(name);
#else
	return class_create(THIS_MODULE, name);
#endif
}

/**
 * pvio_compat_alloc_disk - blk_mq_alloc_disk() with queue limits
 * @set: the tag set
 * @lim: the limits; zero fields keep the block layer's defaults
 * @write_cache: the device has a volatile write cache (flush needed)
 * @queuedata: the queue's private data
 *
 * 6.9 made the limits an argument of blk_mq_alloc_disk() (6.10 removed the
 * blk_queue_*() setters) and 6.11 moved the write cache flag into
 * lim->features; before, the limits are applied with the setters after the
 * disk is allocated.  Either way the caller fills one struct queue_limits.
 *
 * Return: the disk or an ERR_PTR().
 */
static inline struct gendisk *pvio_compat_alloc_disk(struct blk_mq_tag_set *set,
						     struct queue_limits *lim, bool write_cache,
						     void *queuedata)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
	if (write_cache)
		lim->features |= BLK_FEAT_WRITE_CACHE;
	return blk_mq_alloc_disk(set, lim, queuedata);
#else
	struct gendisk *disk = blk_mq_alloc_disk(set, queuedata);
	struct request_queue *q;

	if (IS_ERR(disk))
		return disk;
	q = disk->queue;
	if (lim->max_segments)
		blk_queue_max_segments(q, lim->max_segments);
	if (lim->max_hw_sectors)
		blk_queue_max_hw_sectors(q, lim->max_hw_sectors);
	if (lim->max_segment_size)
		blk_queue_max_segment_size(q, lim->max_segment_size);
	if (lim->logical_block_size)
		blk_queue_logical_block_size(q, lim->logical_block_size);
	if (lim->physical_block_size)
		blk_queue_physical_block_size(q, lim->physical_block_size);
	if (lim->alignment_offset)
		blk_queue_alignment_offset(q, lim->alignment_offset);
	if (lim->io_min)
		blk_queue_io_min(q, lim->io_min);
	if (lim->io_opt)
		blk_queue_io_opt(q, lim->io_opt);
	if (lim->max_hw_discard_sectors)
		blk_queue_max_discard_sectors(q, lim->max_hw_discard_sectors);
	if (lim->max_discard_segments)
		blk_queue_max_discard_segments(q, lim->max_discard_segments);
	if (lim->discard_granularity)
		q->limits.discard_granularity = lim->discard_granularity;
	if (lim->max_write_zeroes_sectors)
		blk_queue_max_write_zeroes_sectors(q, lim->max_write_zeroes_sectors);
	blk_queue_write_cache(q, write_cache, false);
	return disk;
#endif
}

#endif /* PVIO_COMPAT_H */
