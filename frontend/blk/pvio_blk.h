/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pvio_blk.h - private state of pvio_blk.ko, the virtio block frontend
 * (virtio 1.2 §5.2) on pvio_core.
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
 * System sleep: freeze waits for the requests in flight (blk-mq freeze),
 * quiesces the queue, resets the device and frees the virtqueues; restore
 * finds them again (they must still fit the depth and segments the disk was
 * set up with), unquiesces and unfreezes.  A device that cannot be restored is
 * marked broken before the queue restarts, so its requests fail.
 *
 * When the device misbehaves (a used id that is not in flight, a reset that
 * does not finish, a request that times out) it is marked broken: new
 * requests fail at once, broken_work resets the device and fails every
 * request still in flight with BLK_STS_IOERR.  Nothing the device writes can
 * crash the guest.
 *
 * Files: pvio_blk_mq.c the blk-mq data path, completions and the broken
 * device; pvio_blk_main.c probe and remove, queue limits from the
 * configuration space, sysfs, the module.
 */
#ifndef PVIO_BLK_H
#define PVIO_BLK_H

#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/hdreg.h>
#include <linux/scatterlist.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>

#include "pvio.h"
#include "virtio_blk.h"

/* Scatterlist entries kept in the request itself; more come from a pool. */
#define PVBLK_INLINE_SG 2

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
 * @sg_elems: data segments the device takes (SEG_MAX), for pvio_find_vqs()
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
	unsigned int sg_elems;
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

/* pvio_blk_main.c: the io_timeout parameter, seconds (0: never) */
extern unsigned int pvblk_io_timeout;

/* pvio_blk_mq.c */
extern const struct blk_mq_ops pvblk_mq_ops;
void pvblk_vq_done(struct pvio_vq *vq);
void pvblk_fail_inflight(struct pvblk *blk);
void pvblk_broken_work(struct work_struct *work);

#endif /* PVIO_BLK_H */
