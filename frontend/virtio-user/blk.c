// SPDX-License-Identifier: GPL-2.0
/*
 * blk.c - virtio-blk over the vhost-user front-end (virtio 1.2 §5.2).
 *
 * Each queue has a fixed pool of requests (its depth).  A request's header,
 * discard/write-zeroes segment and status byte live in guest memory next to
 * each other; the data buffer is the caller's, also in guest memory.  A
 * request is one chain: header (device-readable), data (readable for OUT,
 * DISCARD, WRITE_ZEROES; writable for IN, GET_ID), status (writable).  With
 * INDIRECT_DESC the chain takes one slot of the main ring, so a ring of
 * `depth` entries holds `depth` requests.
 *
 * Submission and reaping on one queue must come from one thread at a time;
 * different queues are independent.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vuser.h"

/* The device-visible part of a request, in guest memory. */
struct vuser_blk_shared {
	struct pvio_blk_req_hdr hdr; /* device-readable */
	struct pvio_blk_discard_wz_seg seg; /* device-readable, DISCARD / WRITE_ZEROES */
	uint8_t status; /* device-writable */
	uint8_t pad[31]; /* one cache line per request */
};

_Static_assert(sizeof(struct vuser_blk_shared) == 64, "one cache line per request");

#define VUSER_BLK_FEATURES                                                                        \
	(PVIO_BIT(PVIO_BLK_F_SIZE_MAX) | PVIO_BIT(PVIO_BLK_F_SEG_MAX) |                           \
	 PVIO_BIT(PVIO_BLK_F_BLK_SIZE) | PVIO_BIT(PVIO_BLK_F_FLUSH) |                             \
	 PVIO_BIT(PVIO_BLK_F_TOPOLOGY) | PVIO_BIT(PVIO_BLK_F_MQ) | PVIO_BIT(PVIO_BLK_F_DISCARD) | \
	 PVIO_BIT(PVIO_BLK_F_WRITE_ZEROES) | PVIO_BIT(PVIO_BLK_F_RO) |                            \
	 PVIO_BIT(PVIO_F_INDIRECT_DESC) | PVIO_BIT(PVIO_F_EVENT_IDX))

/*
 * Config bytes we read: up to the write-zeroes fields (60).  The secure-erase
 * fields after them are newer than some back-ends (QEMU 7.2 refuses a
 * GET_CONFIG larger than the struct it knows).
 */
#define VUSER_BLK_CONFIG_BYTES offsetof(struct pvio_blk_config, max_secure_erase_sectors)

/* What open and reconnect ask of the device layer; -EINVAL for a depth too deep. */
static int vuser_blk_dev_opts(const struct vuser_blk_opts *opts, struct vuser_dev_opts *dopts)
{
	unsigned int depth = opts->depth ? opts->depth : 32;
	unsigned int nq = opts->num_queues ? opts->num_queues : 1;
	unsigned int qsize = 1;

	memset(dopts, 0, sizeof(*dopts));
	dopts->socket_path = opts->socket_path;
	dopts->device_id = PVIO_ID_BLOCK;
	dopts->timeout_ms = opts->timeout_ms;
	dopts->hugetlb = opts->hugetlb;
	dopts->features = VUSER_BLK_FEATURES;
	dopts->num_queues = nq;
	dopts->indirect_max = opts->no_indirect ? 0 : 4;
	dopts->config_size = VUSER_BLK_CONFIG_BYTES;
	/* Without indirect tables a request takes up to 3 descriptors. */
	while (qsize < depth * (opts->no_indirect ? 3 : 1))
		qsize <<= 1;
	if (qsize > PVRING_MAX_SIZE)
		return -EINVAL;
	dopts->queue_size = qsize < 4 ? 4 : qsize;
	if (opts->no_indirect)
		dopts->features &= ~PVIO_BIT(PVIO_F_INDIRECT_DESC);
	if (opts->in_order)
		dopts->features |= PVIO_BIT(PVIO_F_IN_ORDER);
	if (opts->packed) {
		dopts->features |= PVIO_BIT(PVIO_F_RING_PACKED);
		dopts->required |= PVIO_BIT(PVIO_F_RING_PACKED);
	}
	dopts->mem_size =
		opts->buf_bytes + (size_t)nq * depth * sizeof(struct vuser_blk_shared) + (1u << 20);
	return 0;
}

/**
 * vuser_blk_open - connect to a vhost-user-blk back-end and set up its queues
 * @blk: filled in
 * @opts: socket, queues, depth and how much data buffer memory to reserve
 *
 * Return: 0 or -errno; vuser_dev_errmsg(&blk->dev) says why.
 */
int vuser_blk_open(struct vuser_blk *blk, const struct vuser_blk_opts *opts)
{
	unsigned int depth = opts->depth ? opts->depth : 32;
	unsigned int nq = opts->num_queues ? opts->num_queues : 1;
	struct vuser_dev_opts dopts;
	unsigned int i, j;
	int r;

	memset(blk, 0, sizeof(*blk));
	r = vuser_blk_dev_opts(opts, &dopts);
	if (r)
		return r;
	r = vuser_dev_open(&blk->dev, &dopts);
	if (r)
		return r;
	/* Without INDIRECT_DESC from the back-end, three descriptors per request. */
	if (!vuser_dev_has(&blk->dev, PVIO_F_INDIRECT_DESC) && blk->dev.queues[0].num < depth * 3) {
		/* One greppable line; clang-format would end a line with "(" (checkpatch). */
		/* clang-format off */
		r = vuser_dev_err(&blk->dev, -EINVAL,
				  "back-end lacks INDIRECT_DESC; retry with the no_indirect option");
		/* clang-format on */
		goto err_close_dev;
	}

	memcpy(&blk->cfg, blk->dev.config, blk->dev.config_len);
	blk->capacity_bytes = le64_to_cpu(blk->cfg.capacity) << PVIO_BLK_SECTOR_SHIFT;
	blk->blk_size = vuser_dev_has(&blk->dev, PVIO_BLK_F_BLK_SIZE) ?
				le32_to_cpu(blk->cfg.blk_size) :
				PVIO_BLK_SECTOR_SIZE;
	if (blk->blk_size < PVIO_BLK_SECTOR_SIZE || blk->blk_size > 65536)
		blk->blk_size = PVIO_BLK_SECTOR_SIZE;

	blk->bq = calloc(nq, sizeof(*blk->bq));
	if (!blk->bq) {
		r = vuser_dev_err(&blk->dev, -ENOMEM, "out of memory");
		goto err_close_dev;
	}
	blk->nqueues = nq;
	for (i = 0; i < nq; i++) {
		struct vuser_blk_queue *bq = &blk->bq[i];
		struct vuser_blk_shared *sh;

		bq->q = &blk->dev.queues[i];
		bq->depth = depth;
		bq->reqs = calloc(depth, sizeof(*bq->reqs));
		sh = vuser_mem_alloc(&blk->dev.mem, depth * sizeof(*sh), 64);
		if (!bq->reqs || !sh) {
			r = vuser_dev_err(&blk->dev, -ENOMEM, "out of memory for queue %u", i);
			goto err_free_queues;
		}
		for (j = 0; j < depth; j++) {
			bq->reqs[j].shared = &sh[j];
			bq->reqs[j].next_free = bq->free;
			bq->free = &bq->reqs[j];
		}
	}
	return 0;

err_free_queues:
	for (i = 0; i < nq; i++)
		free(blk->bq[i].reqs);
	free(blk->bq);
	blk->bq = NULL;
err_close_dev:
	vuser_dev_close(&blk->dev);
	return r;
}

/**
 * vuser_blk_reconnect - carry on with a restarted back-end
 * @blk: an open block device whose back-end went away
 * @opts: the options it was opened with
 * @wait_ms: how long to wait for the new back-end to listen
 *
 * Requests in flight stay in flight: the new back-end serves them (again,
 * or from its in-flight region) and they complete through
 * vuser_blk_reap() / vuser_blk_wait() as if nothing happened
 * (vuser_dev_reconnect()).
 *
 * Return: 0 or -errno; vuser_dev_errmsg(&blk->dev) says why.
 */
int vuser_blk_reconnect(struct vuser_blk *blk, const struct vuser_blk_opts *opts, int wait_ms)
{
	struct vuser_dev_opts dopts;
	int r;

	r = vuser_blk_dev_opts(opts, &dopts);
	if (r)
		return r;
	return vuser_dev_reconnect(&blk->dev, &dopts, wait_ms);
}

/**
 * vuser_blk_close - disconnect and free; requests still in flight are dropped
 * @blk: an open block device
 */
void vuser_blk_close(struct vuser_blk *blk)
{
	unsigned int i;

	vuser_dev_close(&blk->dev);
	for (i = 0; i < blk->nqueues; i++)
		free(blk->bq[i].reqs);
	free(blk->bq);
	blk->bq = NULL;
	blk->nqueues = 0;
}

/**
 * vuser_blk_alloc - a data buffer in guest memory
 * @blk: the device
 * @size: bytes; 4 KiB aligned (O_DIRECT back-ends need aligned buffers)
 *
 * Return: the buffer, or NULL when buf_bytes in the open options was too small.
 */
void *vuser_blk_alloc(struct vuser_blk *blk, size_t size)
{
	return vuser_mem_alloc(&blk->dev.mem, size, 4096);
}

/**
 * vuser_blk_req_get - take a free request of a queue
 * @blk: the device
 * @qi: queue number
 *
 * Return: the request, or NULL when all @depth are in flight.
 */
struct vuser_blk_req *vuser_blk_req_get(struct vuser_blk *blk, unsigned int qi)
{
	struct vuser_blk_queue *bq = &blk->bq[qi];
	struct vuser_blk_req *req = bq->free;

	if (req) {
		bq->free = req->next_free;
		req->next_free = NULL;
	}
	return req;
}

/**
 * vuser_blk_req_put - give a completed (or never submitted) request back
 * @blk: the device
 * @qi: the queue it came from
 * @req: the request
 */
void vuser_blk_req_put(struct vuser_blk *blk, unsigned int qi, struct vuser_blk_req *req)
{
	struct vuser_blk_queue *bq = &blk->bq[qi];

	req->next_free = bq->free;
	bq->free = req;
}

static int vuser_blk_build(struct vuser_blk *blk, struct vuser_blk_req *req, struct pvring_sg *sg,
			   unsigned int *out, unsigned int *in)
{
	struct vuser_blk_shared *sh = req->shared;
	const struct vuser_mem *mem = &blk->dev.mem;
	unsigned int n = 0;

	if (req->offset & (PVIO_BLK_SECTOR_SIZE - 1))
		return -EINVAL;
	sh->hdr.type = cpu_to_le32(req->type);
	sh->hdr.ioprio = 0;
	sh->hdr.sector = cpu_to_le64(req->offset >> PVIO_BLK_SECTOR_SHIFT);
	sh->status = 0xff; /* anything the device does not overwrite reads as an error */
	sg[n].addr = vuser_mem_gpa(mem, &sh->hdr);
	sg[n++].len = sizeof(sh->hdr);

	switch (req->type) {
	case PVIO_BLK_T_IN:
	case PVIO_BLK_T_OUT:
	case PVIO_BLK_T_GET_ID:
		if (!req->len || !vuser_mem_contains(mem, req->buf, req->len))
			return -EFAULT;
		sg[n].addr = vuser_mem_gpa(mem, req->buf);
		sg[n++].len = req->len;
		*out = req->type == PVIO_BLK_T_OUT ? 2 : 1;
		break;
	case PVIO_BLK_T_FLUSH:
		sh->hdr.sector = 0;
		*out = 1;
		break;
	case PVIO_BLK_T_DISCARD:
	case PVIO_BLK_T_WRITE_ZEROES:
		if (req->len & (PVIO_BLK_SECTOR_SIZE - 1) || !req->len)
			return -EINVAL;
		sh->hdr.sector = 0;
		sh->seg.sector = cpu_to_le64(req->offset >> PVIO_BLK_SECTOR_SHIFT);
		sh->seg.num_sectors = cpu_to_le32(req->len >> PVIO_BLK_SECTOR_SHIFT);
		sh->seg.flags = cpu_to_le32(req->type == PVIO_BLK_T_WRITE_ZEROES && req->unmap ?
						    PVIO_BLK_WZ_F_UNMAP :
						    0);
		sg[n].addr = vuser_mem_gpa(mem, &sh->seg);
		sg[n++].len = sizeof(sh->seg);
		*out = 2;
		break;
	default:
		return -EINVAL;
	}
	sg[n].addr = vuser_mem_gpa(mem, &sh->status);
	sg[n++].len = 1;
	*in = n - *out;
	return 0;
}

/**
 * vuser_blk_submit - put a request on a queue (no notification yet)
 * @blk: the device
 * @qi: queue number
 * @req: from vuser_blk_req_get(), with type, offset, buf, len filled in
 *
 * The back-end is notified by vuser_blk_kick(), or by vuser_blk_reap()/vuser_blk_wait()
 * which kick first, so a batch of submissions costs one notification.
 *
 * Return: 0, -EINVAL/-EFAULT for a malformed request, -ENOSPC when the ring
 * is full, -EIO when the back-end broke the ring.
 */
int vuser_blk_submit(struct vuser_blk *blk, unsigned int qi, struct vuser_blk_req *req)
{
	struct vuser_blk_queue *bq = &blk->bq[qi];
	struct pvring_sg sg[3];
	unsigned int out, in;
	int r;

	r = vuser_blk_build(blk, req, sg, &out, &in);
	if (r)
		return r;
	r = pvring_drv_add(&bq->q->ring, sg, out, in, req);
	if (r == -EIO)
		return vuser_dev_err(&blk->dev, r, "queue %u is broken", qi);
	if (r)
		return r;
	bq->inflight++;
	return 0;
}

/**
 * vuser_blk_kick - notify the back-end of submitted requests if it wants that
 * @blk: the device
 * @qi: queue number
 */
void vuser_blk_kick(struct vuser_blk *blk, unsigned int qi)
{
	vuser_queue_kick(blk->bq[qi].q);
}

static void vuser_blk_complete(struct vuser_blk_req *req, uint32_t len)
{
	/* The status byte is the device's: read it once, trust nothing else. */
	uint8_t status = READ_ONCE(req->shared->status);

	req->done_len = len;
	switch (status) {
	case PVIO_BLK_S_OK:
		req->result = 0;
		break;
	case PVIO_BLK_S_UNSUPP:
		req->result = -EOPNOTSUPP;
		break;
	case PVIO_BLK_S_IOERR:
		req->result = -EIO;
		break;
	default:
		req->result = -EPROTO; /* never written, or garbage */
		break;
	}
	/* No status byte written (len 0) is a protocol error for a chain with one. */
	if (len == 0 && req->result == 0)
		req->result = -EPROTO;
}

/**
 * vuser_blk_reap - collect completed requests without sleeping
 * @blk: the device
 * @qi: queue number
 * @done: filled with up to @max completed requests (result set)
 * @max: capacity of @done
 *
 * Kicks first if submissions are pending.
 *
 * Return: the number reaped, or -EIO when the back-end broke the ring.
 */
int vuser_blk_reap(struct vuser_blk *blk, unsigned int qi, struct vuser_blk_req **done,
		   unsigned int max)
{
	struct vuser_blk_queue *bq = &blk->bq[qi];
	struct pvring_drv *ring = &bq->q->ring;
	unsigned int n = 0;
	struct vuser_blk_req *req;
	uint32_t len;

	vuser_queue_kick(bq->q);
	while (n < max) {
		req = pvring_drv_get_used(ring, &len);
		if (!req)
			break;
		vuser_blk_complete(req, len);
		bq->inflight--;
		done[n++] = req;
	}
	if (!n && pvring_drv_broken(ring))
		return vuser_dev_err(&blk->dev, -EIO,
				     "back-end broke queue %u (used index or id out of range)", qi);
	return (int)n;
}

static int64_t vuser_blk_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/**
 * vuser_blk_wait - collect at least one completed request
 * @blk: the device
 * @qi: queue number
 * @done: filled with up to @max completed requests
 * @max: capacity of @done
 * @timeout_ms: at most this long (<0: the device's timeout)
 *
 * Waits with vuser_queue_wait(): the used ring polled for the queue's
 * window (adaptive by default; vuser_queue_set_poll()), then a sleep on the
 * call eventfd.  Gives up after the timeout, and notices a back-end that
 * closed its socket.
 *
 * Return: the number reaped (>0), -ETIMEDOUT, -ECONNRESET or -EIO.
 */
int vuser_blk_wait(struct vuser_blk *blk, unsigned int qi, struct vuser_blk_req **done,
		   unsigned int max, int timeout_ms)
{
	struct vuser_blk_queue *bq = &blk->bq[qi];
	int64_t deadline;
	int r;

	if (timeout_ms < 0)
		timeout_ms = blk->dev.timeout_ms;
	r = vuser_blk_reap(blk, qi, done, max);
	if (r)
		return r;
	if (!bq->inflight)
		return vuser_dev_err(&blk->dev, -EINVAL, "queue %u: waiting with nothing in flight",
				     qi);
	deadline = vuser_blk_now_ms() + timeout_ms;
	for (;;) {
		r = vuser_queue_wait(bq->q, (int)(deadline - vuser_blk_now_ms()));
		if (r == -ETIMEDOUT)
			return vuser_dev_err(&blk->dev, r,
					     "queue %u: %u requests not completed within %d ms", qi,
					     bq->inflight, timeout_ms);
		if (r)
			return r;
		r = vuser_blk_reap(blk, qi, done, max);
		if (r)
			return r;
	}
}

/**
 * vuser_blk_sync - submit one request and wait for it
 * @blk: the device
 * @qi: queue number (must have nothing else in flight from another thread)
 * @type: PVIO_BLK_T_*
 * @offset: byte offset (sector multiple)
 * @buf: data in guest memory, or NULL for FLUSH / DISCARD / WRITE_ZEROES
 * @len: data bytes, or the range for DISCARD / WRITE_ZEROES
 *
 * Return: the request's result (0, -EIO, -EOPNOTSUPP, -EPROTO) or the
 * transport's error (-ETIMEDOUT, -ECONNRESET, -EBUSY with no free request).
 */
int vuser_blk_sync(struct vuser_blk *blk, unsigned int qi, unsigned int type, uint64_t offset,
		   void *buf, uint32_t len)
{
	struct vuser_blk_req *req = vuser_blk_req_get(blk, qi), *done;
	int r;

	if (!req)
		return -EBUSY;
	req->type = type;
	req->offset = offset;
	req->buf = buf;
	req->len = len;
	req->unmap = false;
	r = vuser_blk_submit(blk, qi, req);
	if (r) {
		vuser_blk_req_put(blk, qi, req);
		return r;
	}
	/* Other requests of this thread may complete first; wait for ours. */
	for (;;) {
		r = vuser_blk_wait(blk, qi, &done, 1, -1);
		if (r < 0)
			return r;
		r = done->result;
		vuser_blk_req_put(blk, qi, done);
		if (done == req)
			return r;
	}
}

/**
 * vuser_blk_get_id - read the device's serial (GET_ID)
 * @blk: the device
 * @id: filled with a NUL-terminated string
 * @len: at least PVIO_BLK_ID_BYTES + 1
 *
 * Return: 0, -EOPNOTSUPP when the back-end has no id, or a transport error.
 */
int vuser_blk_get_id(struct vuser_blk *blk, char *id, size_t len)
{
	char *buf = vuser_mem_alloc(&blk->dev.mem, PVIO_BLK_ID_BYTES, 64);
	int r;

	if (len < PVIO_BLK_ID_BYTES + 1)
		return -EINVAL;
	if (!buf)
		return -ENOMEM;
	memset(buf, 0, PVIO_BLK_ID_BYTES);
	r = vuser_blk_sync(blk, 0, PVIO_BLK_T_GET_ID, 0, buf, PVIO_BLK_ID_BYTES);
	if (r)
		return r;
	memcpy(id, buf, PVIO_BLK_ID_BYTES);
	id[PVIO_BLK_ID_BYTES] = '\0';
	return 0;
}
