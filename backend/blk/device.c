// SPDX-License-Identifier: GPL-2.0
/*
 * device.c - the virtio-blk device: a raw image file or block device served
 * with io_uring.
 *
 * IN and OUT go straight between guest memory and the file: the chain's
 * data segments are the iovec of one readv/writev, no bounce buffer.  The
 * image is opened with O_DIRECT by default (direct=off: page cache).
 * O_DIRECT needs the buffers, lengths and offset aligned to the file's DIO
 * alignment (statx STATX_DIOALIGN, 512 when unknown); a request that is not
 * (a guest may hand any 2-byte aligned buffer) goes through a second,
 * buffered fd of the same file instead.  Both fds share one inode: direct
 * I/O writes back and invalidates cached pages in its range, so the two
 * paths stay coherent, and fdatasync on either covers both.
 *
 * FLUSH completes only once IORING_OP_FSYNC with IORING_FSYNC_DATASYNC
 * completed.  DISCARD punches a hole (FALLOC_FL_PUNCH_HOLE), WRITE_ZEROES
 * uses FALLOC_FL_ZERO_RANGE, or a hole when UNMAP is set; both through
 * IORING_OP_FALLOCATE, which block devices also implement (as
 * BLKZEROOUT/discard), so no blocking ioctl runs on a worker.  When the
 * file system lacks ZERO_RANGE (tmpfs) the range is punched and then
 * re-allocated, linked, which reads back as zeroes too.
 *
 * In-flight requests per queue are bounded by a fixed pool (min(ring size,
 * 256)): a guest that never reaps completions stalls its own queue, not
 * pviod's memory.
 *
 * io_uring completes a read or write inline, in the submitting syscall, only
 * when the file can be told not to block (FMODE_NOWAIT, which preadv2()
 * reports as RWF_NOWAIT support).  tmpfs and hugetlbfs lack it, so io_uring
 * hands every request on them to an io-wq thread: a second thread hop per
 * request, two wake-ups, for a copy that never waits for a device.  For such
 * an image (inline=auto, the default) IN and OUT run with preadv()/pwritev()
 * on the worker instead, still straight between guest memory and the file;
 * FLUSH, DISCARD and WRITE_ZEROES keep going through io_uring.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/uio.h>

#include "blk/blk.h"
#include "core/options.h"
#include "core/worker.h"

#define PVIOD_BLK_INFLIGHT_MAX 256

struct pviod_blk;
struct pviod_blk_req;

/* One fallocate of a DISCARD / WRITE_ZEROES request. */
struct pviod_blk_range {
	struct pviod_io io;
	struct pviod_blk_req *req;
	uint64_t off;
	uint64_t len;
	int mode; /* fallocate mode */
	bool relinked; /* the punch + allocate fallback already ran */
};

struct pviod_blk_req {
	struct pviod_io io; /* readv / writev / fsync completion */
	struct pviod_queue *q;
	struct pviod_blk_req *next_free;
	uint16_t head;
	uint8_t status; /* PVIO_BLK_S_* so far */
	unsigned int pending; /* SQEs not yet completed */
	int fd; /* which fd IN/OUT uses */
	struct pviod_blk_parsed p;
	uint64_t done; /* IN/OUT bytes transferred so far */
	struct pviod_blk_range range[PVIOD_BLK_DISCARD_SEG_MAX];
	struct pvring_seg seg[PVIOD_BLK_SEGS];
};

struct pviod_blk_queue {
	struct pviod_blk_req *reqs;
	struct pviod_blk_req *free;
	unsigned int nreqs;
};

/*
 * Per queue, for SIGUSR1 and the exit log: written by the queue's worker
 * alone (plain stores, a few per request), read there (queue_stats) or once
 * the workers are joined.  Kept apart from struct pviod_blk_queue, which
 * queue_start may reallocate, so they add up across sessions.
 */
struct pviod_blk_stats {
	uint64_t requests; /* completed, whatever the outcome */
	uint64_t reads, read_bytes; /* IN that succeeded */
	uint64_t writes, write_bytes; /* OUT that succeeded */
	uint64_t flushes; /* FLUSH that succeeded */
	uint64_t other; /* GET_ID, DISCARD, WRITE_ZEROES that succeeded */
	uint64_t errors; /* IOERR or UNSUPP, or a chain given back empty */
};

struct pviod_blk {
	char *path;
	char serial[PVIO_BLK_ID_BYTES];
	int fd; /* O_DIRECT when direct, else buffered */
	int fd_buffered; /* for requests O_DIRECT cannot take; == fd when !direct */
	bool direct;
	bool readonly;
	bool is_blkdev;
	uint32_t dio_align; /* memory and offset alignment for O_DIRECT */
	bool no_zero_range; /* FALLOC_FL_ZERO_RANGE said EOPNOTSUPP */
	bool inline_opt; /* inline=auto (true) or off */
	bool rw_inline; /* IN/OUT with preadv/pwritev on the worker */
	struct pviod_blk_limits lim;
	struct pvio_blk_config config;
	struct pviod_blk_stats *stats; /* [dev->nqueues] */
};

static struct pviod_blk *pviod_blk_of(struct pviod_device *dev)
{
	return dev->priv;
}

/* --- completion ----------------------------------------------------------- */

/* Worker: a request of @q completed with @status, @bytes of data moved. */
static void pviod_blk_count(struct pviod_queue *q, uint32_t type, uint8_t status, uint64_t bytes)
{
	struct pviod_blk_stats *st = &pviod_blk_of(q->dev)->stats[q->index];

	st->requests++;
	if (status != PVIO_BLK_S_OK) {
		st->errors++;
		return;
	}
	switch (type) {
	case PVIO_BLK_T_IN:
		st->reads++;
		st->read_bytes += bytes;
		break;
	case PVIO_BLK_T_OUT:
		st->writes++;
		st->write_bytes += bytes;
		break;
	case PVIO_BLK_T_FLUSH:
		st->flushes++;
		break;
	default:
		st->other++;
		break;
	}
}

static void pviod_blk_req_finish(struct pviod_blk_req *req)
{
	struct pviod_queue *q = req->q;
	struct pviod_blk_queue *bq = q->priv;
	uint32_t len = 1;

	/* The data and the status byte are written before the used entry (V2). */
	WRITE_ONCE(*req->p.status, req->status);
	if (req->status == PVIO_BLK_S_OK &&
	    (req->p.type == PVIO_BLK_T_IN || req->p.type == PVIO_BLK_T_GET_ID))
		len += (uint32_t)req->done;
	pr_debug("%s: queue %u: head %u type %u sector %llu len %u: status %u", q->dev->name,
		 q->index, req->head, req->p.type, (unsigned long long)req->p.sector, len,
		 req->status);
	pviod_blk_count(q, req->p.type, req->status, req->done);
	req->next_free = bq->free;
	bq->free = req;
	pviod_queue_complete(q, req->head, len);
}

static void pviod_blk_req_fail(struct pviod_blk_req *req, const char *what, int err)
{
	if (pviod_ratelimit_ok(&req->q->rl))
		pr_err("%s: queue %u: %s at sector %llu: %s", req->q->dev->name, req->q->index,
		       what, (unsigned long long)req->p.sector, strerror(-err));
	req->status = PVIO_BLK_S_IOERR;
}

/* --- IN / OUT --------------------------------------------------------------- */

static void pviod_blk_rw_submit(struct pviod_blk_req *req);

/*
 * Account a transfer of @res bytes (or an error).  Return: true when the
 * request is short and another readv/writev must move the rest (the kernel
 * may split at its own limits), false when it is finished, failed or not.
 */
static bool pviod_blk_rw_advance(struct pviod_blk_req *req, int res)
{
	struct pviod_blk_parsed *p = &req->p;
	size_t n;

	if (res < 0) {
		pviod_blk_req_fail(req, p->type == PVIO_BLK_T_IN ? "read" : "write", res);
		return false;
	}
	if (res == 0) {
		/* The image shrank under us. */
		pviod_blk_req_fail(req, "short transfer", -EIO);
		return false;
	}
	req->done += (uint64_t)res;
	if (req->done >= p->data_len)
		return false;
	n = (size_t)res;
	while (p->ndata && n >= p->data->len) {
		n -= p->data->len;
		p->data++;
		p->ndata--;
	}
	if (p->ndata && n) {
		p->data->base = (char *)p->data->base + n;
		p->data->len -= n;
	}
	return true;
}

static void pviod_blk_rw_done(struct pviod_io *io, int res)
{
	struct pviod_blk_req *req = (struct pviod_blk_req *)io;

	req->pending--;
	if (pviod_blk_rw_advance(req, res)) {
		pviod_blk_rw_submit(req);
		return;
	}
	pviod_blk_req_finish(req);
}

/* A memory-backed image (see the top of the file): the copy, here and now. */
static void pviod_blk_rw_inline(struct pviod_blk_req *req)
{
	struct pviod_blk_parsed *p = &req->p;
	ssize_t n;
	int res;

	do {
		off_t off = (off_t)((p->sector << PVIO_BLK_SECTOR_SHIFT) + req->done);
		const struct iovec *iov = (const struct iovec *)p->data;

		do {
			if (p->type == PVIO_BLK_T_IN)
				n = preadv(req->fd, iov, (int)p->ndata, off);
			else
				n = pwritev(req->fd, iov, (int)p->ndata, off);
		} while (n < 0 && errno == EINTR);
		/* io_uring's results are ints too; the request is bounded well below. */
		res = n < 0 ? -errno : (int)(n > INT_MAX ? INT_MAX : n);
	} while (pviod_blk_rw_advance(req, res));
	pviod_blk_req_finish(req);
}

static void pviod_blk_rw_submit(struct pviod_blk_req *req)
{
	struct io_uring_sqe *sqe;
	struct pviod_blk_parsed *p = &req->p;
	uint64_t off = (p->sector << PVIO_BLK_SECTOR_SHIFT) + req->done;

	if (pviod_blk_of(req->q->dev)->rw_inline) {
		pviod_blk_rw_inline(req);
		return;
	}
	sqe = pviod_worker_sqe(req->q->worker);
	if (!sqe) {
		pviod_blk_req_fail(req, "submission queue full", -EBUSY);
		pviod_blk_req_finish(req);
		return;
	}
	if (p->type == PVIO_BLK_T_IN)
		io_uring_prep_readv(sqe, req->fd, (const struct iovec *)p->data, p->ndata, off);
	else
		io_uring_prep_writev(sqe, req->fd, (const struct iovec *)p->data, p->ndata, off);
	io_uring_sqe_set_data(sqe, &req->io);
	req->io.complete = pviod_blk_rw_done;
	req->pending++;
	/*
	 * Now, not with the batch: one io_uring_enter() for a batch plugs the
	 * block layer until every request of it is set up, so the device
	 * starts on the first only after the last (fio submits one by one
	 * too).  4 KiB randread at QD32 on a virtio disk: 51k -> 65k IOPS.
	 */
	pviod_worker_submit(req->q->worker);
}

/* May O_DIRECT take this request as it is? */
static bool pviod_blk_dio_ok(const struct pviod_blk *blk, const struct pviod_blk_parsed *p)
{
	uint64_t mask = blk->dio_align - 1;
	unsigned int i;

	if ((p->sector << PVIO_BLK_SECTOR_SHIFT) & mask)
		return false;
	for (i = 0; i < p->ndata; i++) {
		if (((uintptr_t)p->data[i].base | p->data[i].len) & mask)
			return false;
	}
	return true;
}

/* --- FLUSH, GET_ID ------------------------------------------------------------ */

static void pviod_blk_flush_done(struct pviod_io *io, int res)
{
	struct pviod_blk_req *req = (struct pviod_blk_req *)io;

	req->pending--;
	if (res < 0)
		pviod_blk_req_fail(req, "fdatasync", res);
	pviod_blk_req_finish(req);
}

static void pviod_blk_flush_submit(struct pviod_blk *blk, struct pviod_blk_req *req)
{
	struct io_uring_sqe *sqe = pviod_worker_sqe(req->q->worker);

	if (!sqe) {
		pviod_blk_req_fail(req, "submission queue full", -EBUSY);
		pviod_blk_req_finish(req);
		return;
	}
	io_uring_prep_fsync(sqe, blk->fd, IORING_FSYNC_DATASYNC);
	io_uring_sqe_set_data(sqe, &req->io);
	req->io.complete = pviod_blk_flush_done;
	req->pending++;
}

static void pviod_blk_get_id(struct pviod_blk *blk, struct pviod_blk_req *req)
{
	struct pviod_blk_parsed *p = &req->p;
	size_t want = pviod_min_u64(p->data_len, PVIO_BLK_ID_BYTES);
	size_t done = 0;
	unsigned int i;

	for (i = 0; i < p->ndata && done < want; i++) {
		size_t n = p->data[i].len < want - done ? p->data[i].len : want - done;

		memcpy(p->data[i].base, blk->serial + done, n);
		done += n;
	}
	req->done = done;
	pviod_blk_req_finish(req);
}

/* --- DISCARD, WRITE_ZEROES ------------------------------------------------------ */

static bool pviod_blk_range_submit(struct pviod_blk_range *r, int mode, bool link);

static void pviod_blk_range_done(struct pviod_io *io, int res)
{
	struct pviod_blk_range *r = (struct pviod_blk_range *)io;
	struct pviod_blk_req *req = r->req;
	struct pviod_blk *blk = pviod_blk_of(req->q->dev);

	req->pending--;
	if (res == -EOPNOTSUPP && req->p.type == PVIO_BLK_T_DISCARD) {
		/* DISCARD is a hint: a file system without holes simply keeps the data. */
		res = 0;
	} else if (res == -EOPNOTSUPP && (r->mode & FALLOC_FL_ZERO_RANGE) && !r->relinked) {
		/* No ZERO_RANGE here: a hole, then allocate it again, in order. */
		__atomic_store_n(&blk->no_zero_range, true, __ATOMIC_RELAXED);
		r->relinked = true;
		if (pviod_blk_range_submit(r, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, true) &&
		    pviod_blk_range_submit(r, FALLOC_FL_KEEP_SIZE, false))
			return;
		res = -EBUSY;
	} else if (res == -ECANCELED && r->relinked) {
		/* The allocate half of a failed link: the punch reported the error. */
		res = 0;
	}
	if (res < 0) {
		const char *what = req->p.type == PVIO_BLK_T_DISCARD ? "discard" : "write zeroes";

		pviod_blk_req_fail(req, what, res);
	}
	if (!req->pending)
		pviod_blk_req_finish(req);
}

static bool pviod_blk_range_submit(struct pviod_blk_range *r, int mode, bool link)
{
	struct pviod_blk_req *req = r->req;
	struct pviod_blk *blk = pviod_blk_of(req->q->dev);
	struct io_uring_sqe *sqe = pviod_worker_sqe(req->q->worker);

	if (!sqe)
		return false;
	io_uring_prep_fallocate(sqe, blk->fd, mode, (off_t)r->off, (off_t)r->len);
	io_uring_sqe_set_data(sqe, &r->io);
	if (link)
		sqe->flags |= IOSQE_IO_LINK;
	r->io.complete = pviod_blk_range_done;
	r->mode = mode;
	req->pending++;
	return true;
}

static void pviod_blk_discard(struct pviod_blk *blk, struct pviod_blk_req *req)
{
	struct pvio_blk_discard_wz_seg seg[PVIOD_BLK_DISCARD_SEG_MAX];
	bool zero_range = !__atomic_load_n(&blk->no_zero_range, __ATOMIC_RELAXED);
	unsigned int i, n;
	int st;

	st = pviod_blk_ranges_parse(&req->p, &blk->lim, seg, &n);
	if (st) {
		req->status = (uint8_t)st;
		pviod_blk_req_finish(req);
		return;
	}
	for (i = 0; i < n; i++) {
		struct pviod_blk_range *r = &req->range[i];
		int mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
		bool ok;

		r->req = req;
		r->off = seg[i].sector << PVIO_BLK_SECTOR_SHIFT;
		r->len = (uint64_t)seg[i].num_sectors << PVIO_BLK_SECTOR_SHIFT;
		r->relinked = false;
		if (req->p.type == PVIO_BLK_T_WRITE_ZEROES &&
		    !(seg[i].flags & PVIO_BLK_WZ_F_UNMAP)) {
			if (zero_range) {
				mode = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
				ok = pviod_blk_range_submit(r, mode, false);
			} else {
				r->relinked = true;
				ok = pviod_blk_range_submit(r, mode, true) &&
				     pviod_blk_range_submit(r, FALLOC_FL_KEEP_SIZE, false);
			}
		} else {
			ok = pviod_blk_range_submit(r, mode, false);
		}
		if (!ok) {
			pviod_blk_req_fail(req, "submission queue full", -EBUSY);
			break;
		}
	}
	if (!req->pending)
		pviod_blk_req_finish(req);
}

/* --- the queue ------------------------------------------------------------------ */

static void pviod_blk_req_start(struct pviod_blk *blk, struct pviod_blk_req *req,
				const struct pvring_chain *c)
{
	int st;

	req->head = c->head;
	req->status = PVIO_BLK_S_OK;
	req->pending = 0;
	req->done = 0;
	st = pviod_blk_req_parse(&req->p, req->seg, c, &blk->lim);
	if (st < 0) {
		/* No byte to put a status in: give the chain back empty. */
		struct pviod_blk_queue *bq = req->q->priv;

		if (pviod_ratelimit_ok(&req->q->rl))
			pr_err("%s: queue %u: request without a status byte", req->q->dev->name,
			       req->q->index);
		pviod_blk_count(req->q, 0, PVIO_BLK_S_IOERR, 0);
		req->next_free = bq->free;
		bq->free = req;
		pviod_queue_complete(req->q, c->head, 0);
		return;
	}
	if (st) {
		req->status = (uint8_t)st;
		pviod_blk_req_finish(req);
		return;
	}
	switch (req->p.type) {
	case PVIO_BLK_T_IN:
	case PVIO_BLK_T_OUT:
		if (!req->p.data_len) {
			pviod_blk_req_finish(req);
			return;
		}
		req->fd = blk->direct && !pviod_blk_dio_ok(blk, &req->p) ? blk->fd_buffered :
									   blk->fd;
		pviod_blk_rw_submit(req);
		break;
	case PVIO_BLK_T_FLUSH:
		pviod_blk_flush_submit(blk, req);
		break;
	case PVIO_BLK_T_GET_ID:
		pviod_blk_get_id(blk, req);
		break;
	default:
		pviod_blk_discard(blk, req);
		break;
	}
}

static enum pviod_serve pviod_blk_queue_serve(struct pviod_queue *q)
{
	struct pviod_blk *blk = pviod_blk_of(q->dev);
	struct pviod_blk_queue *bq = q->priv;
	struct pvring_chain c;
	struct pviod_blk_req *req;
	int ret;

	while ((req = bq->free)) {
		ret = pviod_queue_pop(q, &c, req->seg, PVIOD_BLK_SEGS);
		if (ret == 0)
			return PVIOD_SERVE_EMPTY;
		if (ret == -EIO)
			return PVIOD_SERVE_EMPTY; /* the queue broke */
		bq->free = req->next_free;
		if (ret < 0) {
			/* A bad chain with a good head: return it empty, go on. */
			if (pviod_ratelimit_ok(&q->rl))
				pr_err("%s: queue %u: bad descriptor chain at head %u: %s",
				       q->dev->name, q->index, c.head, strerror(-ret));
			pviod_blk_count(q, 0, PVIO_BLK_S_IOERR, 0);
			req->next_free = bq->free;
			bq->free = req;
			pviod_queue_complete(q, c.head, 0);
			continue;
		}
		req->q = q;
		pviod_blk_req_start(blk, req, &c);
	}
	/* Every request slot is taken: a completion gives one back and runs us again. */
	return PVIOD_SERVE_BLOCKED;
}

static int pviod_blk_queue_start(struct pviod_device *dev, struct pviod_queue *q)
{
	struct pviod_blk_queue *bq = q->priv;
	unsigned int i, n = pviod_min_u64(pvring_dev_size(&q->ring), PVIOD_BLK_INFLIGHT_MAX);

	if (!bq || bq->nreqs != n) {
		if (bq) {
			free(bq->reqs);
			free(bq);
			q->priv = NULL;
		}
		bq = calloc(1, sizeof(*bq));
		if (!bq)
			return -ENOMEM;
		bq->reqs = calloc(n, sizeof(*bq->reqs));
		if (!bq->reqs) {
			free(bq);
			q->priv = NULL;
			return -ENOMEM;
		}
		bq->nreqs = n;
		q->priv = bq;
	}
	bq->free = NULL;
	for (i = 0; i < n; i++) {
		bq->reqs[i].next_free = bq->free;
		bq->free = &bq->reqs[i];
	}
	return 0;
}

static void pviod_blk_queue_stop(struct pviod_device *dev, struct pviod_queue *q)
{
	/* The pool is kept for the next start (a queue restarts on every SET_VRING_CALL). */
}

/* --- features and config ---------------------------------------------------------- */

static uint64_t pviod_blk_features(struct pviod_device *dev)
{
	struct pviod_blk *blk = pviod_blk_of(dev);
	uint64_t f = PVIO_BIT(PVIO_F_VERSION_1) | PVIO_BIT(PVIO_F_EVENT_IDX) |
		     PVIO_BIT(PVIO_F_INDIRECT_DESC) | PVIO_BIT(PVIO_BLK_F_SIZE_MAX) |
		     PVIO_BIT(PVIO_BLK_F_SEG_MAX) | PVIO_BIT(PVIO_BLK_F_BLK_SIZE) |
		     PVIO_BIT(PVIO_BLK_F_TOPOLOGY) | PVIO_BIT(PVIO_BLK_F_FLUSH) |
		     PVIO_BIT(PVIO_BLK_F_MQ);

	if (blk->readonly)
		f |= PVIO_BIT(PVIO_BLK_F_RO);
	else
		f |= PVIO_BIT(PVIO_BLK_F_DISCARD) | PVIO_BIT(PVIO_BLK_F_WRITE_ZEROES);
	return f;
}

static int pviod_blk_config_read(struct pviod_device *dev, uint32_t off, void *buf, uint32_t len)
{
	memcpy(buf, (const char *)&pviod_blk_of(dev)->config + off, len);
	return 0;
}

static int pviod_blk_flush(struct pviod_device *dev)
{
	struct pviod_blk *blk = pviod_blk_of(dev);

	if (blk->readonly || fdatasync(blk->fd) == 0)
		return 0;
	pr_err("%s: fdatasync '%s': %s", dev->name, blk->path, strerror(errno));
	return -errno;
}

static void pviod_blk_stats_print(struct pviod_device *dev, unsigned int qi)
{
	const struct pviod_blk_stats *st = &pviod_blk_of(dev)->stats[qi];

	pr_info("%s: queue %u: %llu requests: %llu reads %llu bytes, %llu writes %llu bytes, %llu flushes, %llu other, %llu errors",
		dev->name, qi, (unsigned long long)st->requests, (unsigned long long)st->reads,
		(unsigned long long)st->read_bytes, (unsigned long long)st->writes,
		(unsigned long long)st->write_bytes, (unsigned long long)st->flushes,
		(unsigned long long)st->other, (unsigned long long)st->errors);
}

/* SIGUSR1, on the queue's worker (the counters' one writer). */
static void pviod_blk_queue_stats(struct pviod_queue *q)
{
	pviod_blk_stats_print(q->dev, q->index);
}

static void pviod_blk_destroy(struct pviod_device *dev)
{
	struct pviod_blk *blk = pviod_blk_of(dev);
	unsigned int i;

	/* The workers are joined (or never had the queues): the totals. */
	for (i = 0; blk && blk->stats && i < dev->nqueues; i++)
		if (blk->stats[i].requests)
			pviod_blk_stats_print(dev, i);
	for (i = 0; i < dev->nqueues; i++) {
		struct pviod_blk_queue *bq = dev->queues[i].priv;

		if (bq) {
			free(bq->reqs);
			free(bq);
		}
		dev->queues[i].priv = NULL;
	}
	if (!blk)
		return;
	if (blk->fd_buffered >= 0 && blk->fd_buffered != blk->fd)
		close(blk->fd_buffered);
	if (blk->fd >= 0)
		close(blk->fd);
	free(blk->stats);
	free(blk->path);
	free(blk);
	dev->priv = NULL;
}

static const struct pviod_device_ops pviod_blk_ops = {
	.name = "blk",
	.features = pviod_blk_features,
	.config_read = pviod_blk_config_read,
	.config_size = sizeof(struct pvio_blk_config),
	.queue_start = pviod_blk_queue_start,
	.queue_stop = pviod_blk_queue_stop,
	.queue_serve = pviod_blk_queue_serve,
	.queue_stats = pviod_blk_queue_stats,
	.flush = pviod_blk_flush,
	.destroy = pviod_blk_destroy,
};

/* --- creation ------------------------------------------------------------------------ */

/* The DIO alignment of the file (6.1+ reports it), else the logical block size. */
static uint32_t pviod_blk_dio_align(int fd, bool is_blkdev)
{
#ifdef STATX_DIOALIGN
	struct statx stx;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) == 0 &&
	    (stx.stx_mask & STATX_DIOALIGN) && stx.stx_dio_offset_align) {
		uint32_t a = stx.stx_dio_offset_align;

		return a > stx.stx_dio_mem_align ? a : stx.stx_dio_mem_align;
	}
#endif
	if (is_blkdev) {
		int ssz;

		if (ioctl(fd, BLKSSZGET, &ssz) == 0 && ssz > 0)
			return (uint32_t)ssz;
	}
	return PVIO_BLK_SECTOR_SIZE;
}

/*
 * Would io_uring hand every IN/OUT on this image to an io-wq thread, for data
 * that is in memory anyway?  Then IN/OUT run on the worker (top of the file).
 * The RWF_NOWAIT probe keeps io_uring for kernels whose tmpfs completes
 * inline by itself.
 */
static bool pviod_blk_inline_probe(const struct pviod_blk *blk)
{
	struct statfs sfs;
	struct iovec iov;
	void *buf;
	bool ret;

	if (blk->is_blkdev || fstatfs(blk->fd, &sfs) < 0)
		return false;
	if (sfs.f_type != TMPFS_MAGIC && sfs.f_type != HUGETLBFS_MAGIC)
		return false;
	/* Aligned for an O_DIRECT fd (tmpfs has O_DIRECT since Linux 6.6). */
	if (posix_memalign(&buf, 4096, 4096))
		return false;
	iov.iov_base = buf;
	iov.iov_len = 4096;
	ret = preadv2(blk->fd, &iov, 1, 0, RWF_NOWAIT) < 0 && errno == EOPNOTSUPP;
	free(buf);
	return ret;
}

static int pviod_blk_open(struct pviod_device *dev, struct pviod_blk *blk)
{
	int flags = (blk->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	struct pvio_blk_config *cfg = &blk->config;
	uint32_t pbs = 4096;
	uint64_t bytes;
	struct stat st;
	int ret;

	blk->fd_buffered = open(blk->path, flags);
	if (blk->fd_buffered < 0) {
		ret = -errno;
		pr_err("%s: cannot open image '%s': %s (errno %d)", dev->name, blk->path,
		       strerror(-ret), -ret);
		return ret;
	}
	blk->fd = blk->fd_buffered;
	if (fstat(blk->fd_buffered, &st) < 0) {
		ret = -errno;
		goto err_close;
	}
	blk->is_blkdev = S_ISBLK(st.st_mode);
	if (!blk->is_blkdev && !S_ISREG(st.st_mode)) {
		pr_err("%s: image '%s' is neither a regular file nor a block device", dev->name,
		       blk->path);
		ret = -EINVAL;
		goto err_close;
	}
	if (blk->direct) {
		blk->fd = open(blk->path, flags | O_DIRECT);
		if (blk->fd < 0) {
			/* tmpfs (/dev/shm) before Linux 6.6 has no O_DIRECT. */
			pr_warn("%s: '%s' does not support O_DIRECT (%s); using the page cache",
				dev->name, blk->path, strerror(errno));
			blk->fd = blk->fd_buffered;
			blk->direct = false;
		}
	}
	if (blk->is_blkdev) {
		unsigned int v;

		if (ioctl(blk->fd_buffered, BLKGETSIZE64, &bytes) < 0) {
			ret = -errno;
			goto err_close;
		}
		if (ioctl(blk->fd_buffered, BLKPBSZGET, &v) == 0 && v)
			pbs = v;
	} else {
		bytes = (uint64_t)st.st_size;
	}
	blk->rw_inline = blk->inline_opt && pviod_blk_inline_probe(blk);
	blk->dio_align = pviod_blk_dio_align(blk->fd, blk->is_blkdev);
	if (blk->dio_align < PVIO_BLK_SECTOR_SIZE || blk->dio_align & (blk->dio_align - 1))
		blk->dio_align = PVIO_BLK_SECTOR_SIZE;

	blk->lim.capacity = bytes >> PVIO_BLK_SECTOR_SHIFT;
	blk->lim.readonly = blk->readonly;
	blk->lim.flush = true;
	blk->lim.discard = !blk->readonly;
	if (bytes % PVIO_BLK_SECTOR_SIZE)
		pr_warn("%s: '%s' is not a multiple of 512 bytes; the tail is not exposed",
			dev->name, blk->path);

	memset(cfg, 0, sizeof(*cfg));
	cfg->capacity = cpu_to_le64(blk->lim.capacity);
	cfg->size_max = cpu_to_le32(PVIOD_BLK_SIZE_MAX);
	cfg->seg_max = cpu_to_le32(PVIOD_BLK_SEG_MAX);
	cfg->blk_size = cpu_to_le32(PVIO_BLK_SECTOR_SIZE);
	cfg->topology.physical_block_exp = (uint8_t)(__builtin_ctz(pbs) - PVIO_BLK_SECTOR_SHIFT);
	cfg->topology.min_io_size = cpu_to_le16(1);
	cfg->topology.opt_io_size = cpu_to_le32(0);
	cfg->writeback = 1;
	cfg->num_queues = cpu_to_le16((uint16_t)dev->nqueues);
	cfg->max_discard_sectors = cpu_to_le32(PVIOD_BLK_DISCARD_SECTORS_MAX);
	cfg->max_discard_seg = cpu_to_le32(PVIOD_BLK_DISCARD_SEG_MAX);
	cfg->discard_sector_alignment = cpu_to_le32(4096 >> PVIO_BLK_SECTOR_SHIFT);
	cfg->max_write_zeroes_sectors = cpu_to_le32(PVIOD_BLK_DISCARD_SECTORS_MAX);
	cfg->max_write_zeroes_seg = cpu_to_le32(PVIOD_BLK_DISCARD_SEG_MAX);
	cfg->write_zeroes_may_unmap = 1;
	pr_info("%s: '%s': %llu sectors, %s%s%s, DIO alignment %u", dev->name, blk->path,
		(unsigned long long)blk->lim.capacity, blk->direct ? "O_DIRECT" : "buffered",
		blk->readonly ? ", read-only" : "",
		blk->rw_inline ? ", in-memory: reads and writes on the worker" : "",
		blk->dio_align);
	return 0;

err_close:
	pr_err("%s: image '%s': %s", dev->name, blk->path, strerror(-ret));
	if (blk->fd != blk->fd_buffered)
		close(blk->fd);
	close(blk->fd_buffered);
	blk->fd = -1;
	blk->fd_buffered = -1;
	return ret;
}

/**
 * pviod_blk_create - a block device from its --device options
 * @env: what it is created in
 * @name: its name, for messages
 * @opts: "socket=PATH,file=IMAGE[,queues=N][,readonly=on][,direct=on|off][,inline=auto|off]
 *        [,serial=ID]"
 *        (what follows "blk,")
 * @out: the device, listening on its socket
 *
 * Return: 0; -EINVAL for a bad option (the message says which); the open
 * or socket error otherwise (the message names the file and errno).
 */
int pviod_blk_create(const struct pviod_env *env, const char *name, const char *opts,
		     struct pviod_device **out)
{
	char *copy = strdup(opts), *tok, *save = NULL, *socket_path = NULL, *file = NULL;
	const char *serial = "";
	unsigned long queues = 1;
	bool readonly = false, direct = true, inline_rw = true;
	struct pviod_device *dev = NULL;
	struct pviod_blk *blk;
	int ret = -EINVAL;

	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *val;

		if (pviod_opt_split("blk", tok, &val))
			goto err_free_copy;
		if (!strcmp(tok, "socket")) {
			socket_path = val;
		} else if (!strcmp(tok, "file")) {
			file = val;
		} else if (!strcmp(tok, "queues")) {
			if (pviod_opt_uint("blk", tok, val, 1, PVIOD_QUEUES_MAX, &queues))
				goto err_free_copy;
		} else if (!strcmp(tok, "readonly")) {
			if (pviod_opt_bool("blk", tok, val, &readonly))
				goto err_free_copy;
		} else if (!strcmp(tok, "direct")) {
			if (pviod_opt_bool("blk", tok, val, &direct))
				goto err_free_copy;
		} else if (!strcmp(tok, "inline")) {
			if (!strcmp(val, "auto")) {
				inline_rw = true;
			} else if (!strcmp(val, "off")) {
				inline_rw = false;
			} else {
				fprintf(stderr,
					"pviod: --device blk: inline=%s: expected auto or off\n",
					val);
				goto err_free_copy;
			}
		} else if (!strcmp(tok, "serial")) {
			if (strlen(val) > PVIO_BLK_ID_BYTES) {
				fprintf(stderr,
					"pviod: --device blk: serial=%s: at most %d bytes\n", val,
					PVIO_BLK_ID_BYTES);
				goto err_free_copy;
			}
			serial = val;
		} else {
			fprintf(stderr,
				"pviod: --device blk: unknown option '%s' (socket, file, queues, readonly, direct, inline, serial)\n",
				tok);
			goto err_free_copy;
		}
	}
	if (!socket_path || !*socket_path || !file || !*file) {
		fprintf(stderr, "pviod: --device blk: socket=PATH and file=IMAGE are required\n");
		goto err_free_copy;
	}

	dev = calloc(1, sizeof(*dev));
	blk = calloc(1, sizeof(*blk));
	if (!dev || !blk) {
		free(blk);
		ret = -ENOMEM;
		goto err_free_dev;
	}
	blk->fd = -1;
	blk->fd_buffered = -1;
	dev->priv = blk;
	blk->path = strdup(file);
	blk->readonly = readonly;
	blk->direct = direct;
	blk->inline_opt = inline_rw;
	/* Not NUL-terminated when it fills all 20 bytes, as the spec has it. */
	strncpy(blk->serial, serial, sizeof(blk->serial));
	ret = pviod_device_init(dev, env, &pviod_blk_ops, name, socket_path, (unsigned int)queues);
	if (ret)
		goto err_free_dev;
	blk->stats = calloc(dev->nqueues, sizeof(*blk->stats));
	if (!blk->stats) {
		ret = -ENOMEM;
		goto err_free_dev;
	}
	ret = pviod_blk_open(dev, blk);
	if (ret)
		goto err_free_dev;
	free(copy);
	*out = dev;
	return 0;

err_free_dev:
	if (dev) {
		pviod_blk_destroy(dev);
		pviod_device_free(dev);
	}
err_free_copy:
	free(copy);
	return ret;
}
