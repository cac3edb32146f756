// SPDX-License-Identifier: GPL-2.0
/*
 * device.c - the virtio-blk device (virtio 1.2 §5.2): features, config
 * space, counters, and requests turned into storage-engine operations.
 *
 * Each chain is taken apart by request.c (header, data segments, status
 * byte; every bound checked there), then becomes one struct pviod_blk_io
 * for the device's engine (engine.h; file.c is the raw image file or block
 * device): IN -> READ, OUT -> WRITE, FLUSH -> FLUSH, DISCARD and
 * WRITE_ZEROES with their ranges.  GET_ID is answered here.  When the
 * engine calls back, the status byte is written and the chain completed.
 *
 * In-flight requests per queue are bounded by a fixed pool (min(ring size,
 * 256)): a guest that never reaps completions stalls its own queue, not
 * pviod's memory.  The pool's slot numbers are the engine's too, so an
 * engine keeps per-operation state without allocating.
 *
 * in-order=on offers VIRTIO_F_IN_ORDER (§2.7.9, §2.8.23): once it is
 * negotiated, a queue gives chains back in the order it popped them (from
 * the in-flight region first after a restart, then the ring), a request
 * done early waiting, its slot held, behind an earlier one still in its
 * engine.  The driver may then reap used buffers in batches.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blk/blk.h"
#include "blk/engine.h"
#include "core/options.h"

#define PVIOD_BLK_INFLIGHT_MAX 256

struct pviod_blk_req {
	struct pviod_blk_io io; /* what the engine does for it */
	struct pviod_queue *q;
	struct pviod_blk_req *next_free;
	uint16_t head;
	bool finished; /* in order: done, waiting for the requests popped before it */
	uint32_t used_len; /* what its used element says, once finished */
	uint8_t status; /* PVIO_BLK_S_* so far */
	uint64_t done; /* data bytes moved: the used length beside the status byte */
	struct pviod_blk_parsed p;
	struct pviod_blk_range range[PVIOD_BLK_DISCARD_SEG_MAX];
	struct pvring_seg seg[PVIOD_BLK_SEGS];
};

struct pviod_blk_queue {
	struct pviod_blk_req *reqs;
	struct pviod_blk_req *free;
	unsigned int nreqs;
	void *eq; /* the engine's state for this queue */
	/*
	 * VIRTIO_F_IN_ORDER negotiated: the requests popped and not yet given
	 * back, oldest first (nreqs entries, a ring from @order_first).
	 */
	bool in_order;
	struct pviod_blk_req **order;
	unsigned int order_first, order_num;
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
	char serial[PVIO_BLK_ID_BYTES];
	struct pviod_blk_engine engine;
	bool engine_open;
	bool offer_in_order; /* in-order=on */
	bool in_order; /* VIRTIO_F_IN_ORDER negotiated (control thread) */
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

/* The request's chain goes back to the driver, @len bytes used, and its slot to the pool. */
static void pviod_blk_req_release(struct pviod_blk_req *req, uint32_t len)
{
	struct pviod_queue *q = req->q;
	struct pviod_blk_queue *bq = q->priv;

	req->finished = false;
	req->next_free = bq->free;
	bq->free = req;
	pviod_queue_complete(q, req->head, len);
	/* The data, if any, from the chain's start; the status byte was marked already. */
	if (len)
		pviod_queue_log_prefix(q, req->head, len - 1);
}

/*
 * Worker: the request is done, @len bytes used.  In order, it goes back
 * only with, and after, every request popped before it.
 */
static void pviod_blk_req_used(struct pviod_blk_req *req, uint32_t len)
{
	struct pviod_blk_queue *bq = req->q->priv;
	struct pviod_blk_req *first;

	if (!bq->in_order) {
		pviod_blk_req_release(req, len);
		return;
	}
	req->used_len = len;
	req->finished = true;
	while (bq->order_num && (first = bq->order[bq->order_first])->finished) {
		bq->order_first = (bq->order_first + 1) % bq->nreqs;
		bq->order_num--;
		pviod_blk_req_release(first, first->used_len);
	}
}

static void pviod_blk_req_finish(struct pviod_blk_req *req)
{
	struct pviod_queue *q = req->q;
	uint32_t len = 1;

	/* The data and the status byte are written before the used entry (V2). */
	WRITE_ONCE(*req->p.status, req->status);
	/* The status byte ends the chain: a length of 1 does not cover it. */
	pviod_queue_log_write(q, req->p.status, 1);
	if (req->status == PVIO_BLK_S_OK &&
	    (req->p.type == PVIO_BLK_T_IN || req->p.type == PVIO_BLK_T_GET_ID))
		len += (uint32_t)req->done;
	pr_debug("%s: queue %u: head %u type %u sector %llu len %u: status %u", q->dev->name,
		 q->index, req->head, req->p.type, (unsigned long long)req->p.sector, len,
		 req->status);
	pviod_blk_count(q, req->p.type, req->status, req->done);
	pviod_blk_req_used(req, len);
}

static void pviod_blk_req_fail(struct pviod_blk_req *req, const char *what, int err)
{
	if (pviod_ratelimit_ok(&req->q->rl))
		pr_err("%s: queue %u: %s at sector %llu: %s", req->q->dev->name, req->q->index,
		       what, (unsigned long long)req->p.sector, strerror(-err));
	req->status = PVIO_BLK_S_IOERR;
}

/* The engine is done with the request's operation: worker of req->q. */
static void pviod_blk_io_done(struct pviod_blk_io *io, int err)
{
	static const char *const what[] = {
		[PVIOD_BLK_READ] = "read",
		[PVIOD_BLK_WRITE] = "write",
		[PVIOD_BLK_FLUSH] = "flush",
		[PVIOD_BLK_DISCARD] = "discard",
		[PVIOD_BLK_WRITE_ZEROES] = "write zeroes",
	};
	struct pviod_blk_req *req = (struct pviod_blk_req *)io;

	pviod_queue_engine_done(req->q);
	if (err)
		pviod_blk_req_fail(req, what[io->op], err);
	else if (io->op == PVIOD_BLK_READ || io->op == PVIOD_BLK_WRITE)
		req->done = req->p.data_len;
	pviod_blk_req_finish(req);
}

static void pviod_blk_submit(struct pviod_blk *blk, struct pviod_blk_req *req, enum pviod_blk_op op)
{
	struct pviod_blk_io *io = &req->io;

	io->op = op;
	io->q = req->q;
	io->eq = ((struct pviod_blk_queue *)req->q->priv)->eq;
	pviod_queue_engine_start(req->q);
	blk->engine.ops->submit(&blk->engine, io);
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

/* DISCARD / WRITE_ZEROES: the ranges copied out and checked, in bytes. */
static void pviod_blk_discard(struct pviod_blk *blk, struct pviod_blk_req *req)
{
	struct pvio_blk_discard_wz_seg seg[PVIOD_BLK_DISCARD_SEG_MAX];
	unsigned int i, n;
	int st;

	st = pviod_blk_ranges_parse(&req->p, &blk->lim, seg, &n);
	if (st) {
		req->status = (uint8_t)st;
		pviod_blk_req_finish(req);
		return;
	}
	for (i = 0; i < n; i++) {
		req->range[i].offset = seg[i].sector << PVIO_BLK_SECTOR_SHIFT;
		req->range[i].len = (uint64_t)seg[i].num_sectors << PVIO_BLK_SECTOR_SHIFT;
		req->range[i].unmap = seg[i].flags & PVIO_BLK_WZ_F_UNMAP;
	}
	req->io.range = req->range;
	req->io.nrange = n;
	pviod_blk_submit(blk, req,
			 req->p.type == PVIO_BLK_T_DISCARD ? PVIOD_BLK_DISCARD :
							     PVIOD_BLK_WRITE_ZEROES);
}

/* --- the queue ------------------------------------------------------------------ */

static void pviod_blk_req_start(struct pviod_blk *blk, struct pviod_blk_req *req,
				const struct pvring_chain *c)
{
	int st;

	req->head = c->head;
	req->status = PVIO_BLK_S_OK;
	req->done = 0;
	st = pviod_blk_req_parse(&req->p, req->seg, c, &blk->lim);
	if (st < 0) {
		/* No byte to put a status in: give the chain back empty. */
		if (pviod_ratelimit_ok(&req->q->rl))
			pr_err("%s: queue %u: request without a status byte", req->q->dev->name,
			       req->q->index);
		pviod_blk_count(req->q, 0, PVIO_BLK_S_IOERR, 0);
		pviod_blk_req_used(req, 0);
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
		req->io.offset = req->p.sector << PVIO_BLK_SECTOR_SHIFT;
		req->io.seg = req->p.data;
		req->io.nseg = req->p.ndata;
		req->io.len = req->p.data_len;
		pviod_blk_submit(blk, req,
				 req->p.type == PVIO_BLK_T_IN ? PVIOD_BLK_READ : PVIOD_BLK_WRITE);
		break;
	case PVIO_BLK_T_FLUSH:
		pviod_blk_submit(blk, req, PVIOD_BLK_FLUSH);
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
		req->q = q;
		req->head = c.head;
		if (bq->in_order)
			bq->order[(bq->order_first + bq->order_num++) % bq->nreqs] = req;
		if (ret < 0) {
			/* A bad chain with a good head: return it empty, go on. */
			if (pviod_ratelimit_ok(&q->rl))
				pr_err("%s: queue %u: bad descriptor chain at head %u: %s",
				       q->dev->name, q->index, c.head, strerror(-ret));
			pviod_blk_count(q, 0, PVIO_BLK_S_IOERR, 0);
			pviod_blk_req_used(req, 0);
			continue;
		}
		pviod_blk_req_start(blk, req, &c);
	}
	/* Every request slot is taken: a completion gives one back and runs us again. */
	return PVIOD_SERVE_BLOCKED;
}

static int pviod_blk_queue_start(struct pviod_device *dev, struct pviod_queue *q)
{
	struct pviod_blk *blk = pviod_blk_of(dev);
	struct pviod_blk_queue *bq = q->priv;
	unsigned int i, n = pviod_min_u64(pvring_dev_size(&q->ring), PVIOD_BLK_INFLIGHT_MAX);

	/* Kept across restarts (a queue restarts on every SET_VRING_CALL). */
	if (!bq) {
		bq = calloc(1, sizeof(*bq));
		if (!bq)
			return -ENOMEM;
		/* SIGUSR1's dump may look at the queue from its worker meanwhile. */
		__atomic_store_n(&q->priv, bq, __ATOMIC_RELEASE);
	}
	if (bq->nreqs != n) {
		free(bq->reqs);
		free(bq->order);
		bq->nreqs = 0;
		bq->reqs = calloc(n, sizeof(*bq->reqs));
		bq->order = calloc(n, sizeof(*bq->order));
		if (!bq->reqs || !bq->order)
			return -ENOMEM;
		bq->nreqs = n;
	}
	/* Stopped, the queue had drained: nothing is waiting for its turn. */
	bq->in_order = blk->in_order;
	bq->order_first = 0;
	bq->order_num = 0;
	bq->free = NULL;
	for (i = 0; i < n; i++) {
		struct pviod_blk_req *req = &bq->reqs[i];

		req->finished = false;
		req->io.slot = i;
		req->io.done = pviod_blk_io_done;
		req->next_free = bq->free;
		bq->free = req;
	}
	return blk->engine.ops->queue_init(&blk->engine, q, n, &bq->eq);
}

static void pviod_blk_queue_stop(struct pviod_device *dev, struct pviod_queue *q)
{
	struct pviod_blk *blk = pviod_blk_of(dev);
	struct pviod_blk_queue *bq = q->priv;

	/* The pool and the engine's state are kept for the next start. */
	if (bq && blk->engine.ops->queue_stop)
		blk->engine.ops->queue_stop(&blk->engine, q, bq->eq);
}

/* --- features and config ---------------------------------------------------------- */

static uint64_t pviod_blk_features(struct pviod_device *dev)
{
	struct pviod_blk *blk = pviod_blk_of(dev);
	uint64_t f = PVIO_BIT(PVIO_F_VERSION_1) | PVIO_BIT(PVIO_F_EVENT_IDX) |
		     PVIO_BIT(PVIO_F_INDIRECT_DESC) | PVIO_BIT(PVIO_BLK_F_SIZE_MAX) |
		     PVIO_BIT(PVIO_BLK_F_SEG_MAX) | PVIO_BIT(PVIO_BLK_F_BLK_SIZE) |
		     PVIO_BIT(PVIO_BLK_F_TOPOLOGY) | PVIO_BIT(PVIO_BLK_F_MQ);

	if (blk->offer_in_order)
		f |= PVIO_BIT(PVIO_F_IN_ORDER);
	if (blk->lim.flush)
		f |= PVIO_BIT(PVIO_BLK_F_FLUSH);
	if (blk->lim.readonly)
		f |= PVIO_BIT(PVIO_BLK_F_RO);
	else if (blk->lim.discard)
		f |= PVIO_BIT(PVIO_BLK_F_DISCARD) | PVIO_BIT(PVIO_BLK_F_WRITE_ZEROES);
	return f;
}

/* The driver's features: in order, the queues started from now on give chains back in order. */
static int pviod_blk_features_set(struct pviod_device *dev, uint64_t f)
{
	pviod_blk_of(dev)->in_order = f & PVIO_BIT(PVIO_F_IN_ORDER);
	return 0;
}

static int pviod_blk_config_read(struct pviod_device *dev, uint32_t off, void *buf, uint32_t len)
{
	memcpy(buf, (const char *)&pviod_blk_of(dev)->config + off, len);
	return 0;
}

static int pviod_blk_flush(struct pviod_device *dev)
{
	struct pviod_blk *blk = pviod_blk_of(dev);
	int ret = blk->engine.ops->flush(&blk->engine);

	if (ret)
		pr_err("%s: making the data durable: %s", dev->name, strerror(-ret));
	return ret;
}

/*
 * The disk's size, looked at again (a grown image file, `rbd resize`, an
 * operator's device_refresh): the bounds checks take the new capacity at
 * once, the config space says it for the driver's next read.  A shrunk disk
 * is served too: requests past its new end fail with IOERR (request.c's
 * bounds check, and a read the engine finds past the end of the file).
 */
static int pviod_blk_refresh(struct pviod_device *dev)
{
	struct pviod_blk *blk = pviod_blk_of(dev);
	uint64_t bytes, cap, old = blk->lim.capacity;
	int ret;

	if (!blk->engine.ops->size) {
		pr_warn("%s: the %s engine cannot tell a resize (its protocol does not say); the size stays %llu sectors",
			dev->name, blk->engine.ops->name, (unsigned long long)old);
		return -EOPNOTSUPP;
	}
	ret = blk->engine.ops->size(&blk->engine, &bytes);
	if (ret)
		return ret;
	cap = bytes >> PVIO_BLK_SECTOR_SHIFT;
	if (cap == old)
		return 0;
	blk->engine.size = bytes;
	/* The workers' bounds checks read it once per request (request.c). */
	__atomic_store_n(&blk->lim.capacity, cap, __ATOMIC_RELAXED);
	blk->config.capacity = cpu_to_le64(cap);
	if (cap < old)
		pr_warn("%s: the disk shrank from %llu to %llu sectors: requests past the new end fail",
			dev->name, (unsigned long long)old, (unsigned long long)cap);
	else
		pr_info("%s: the disk grew from %llu to %llu sectors", dev->name,
			(unsigned long long)old, (unsigned long long)cap);
	return 1;
}

/* librbd's thread: the image may have been resized. */
static void pviod_blk_engine_changed(void *arg)
{
	pviod_device_changed(arg);
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
	struct pviod_blk *blk = pviod_blk_of(q->dev);
	/* Pairs with the first start's release: the queue may be starting now. */
	struct pviod_blk_queue *bq = __atomic_load_n(&q->priv, __ATOMIC_ACQUIRE);

	pviod_blk_stats_print(q->dev, q->index);
	if (bq && blk->engine.ops->queue_stats)
		blk->engine.ops->queue_stats(&blk->engine, q, bq->eq);
}

/* device_stats and SIGUSR1, on the queue's worker. */
static void pviod_blk_queue_counters(struct pviod_queue *q, struct pviod_queue_counters *c)
{
	const struct pviod_blk_stats *st = &pviod_blk_of(q->dev)->stats[q->index];

	c->requests = st->requests;
	c->bytes = st->read_bytes + st->write_bytes;
	c->errors = st->errors;
}

static void pviod_blk_destroy(struct pviod_device *dev)
{
	struct pviod_blk *blk = pviod_blk_of(dev);
	unsigned int i;

	if (!blk)
		return;
	/* The workers are joined (or never had the queues): the totals. */
	for (i = 0; blk->stats && i < dev->nqueues; i++)
		if (blk->stats[i].requests)
			pviod_blk_stats_print(dev, i);
	for (i = 0; i < dev->nqueues; i++) {
		struct pviod_blk_queue *bq = dev->queues[i].priv;

		if (!bq)
			continue;
		if (bq->eq)
			blk->engine.ops->queue_free(&blk->engine, bq->eq);
		free(bq->reqs);
		free(bq->order);
		free(bq);
		dev->queues[i].priv = NULL;
	}
	if (blk->engine_open)
		blk->engine.ops->close(&blk->engine);
	free(blk->stats);
	free(blk);
	dev->priv = NULL;
}

static const struct pviod_device_ops pviod_blk_ops = {
	.name = "blk",
	.features = pviod_blk_features,
	.features_set = pviod_blk_features_set,
	.config_read = pviod_blk_config_read,
	.config_size = sizeof(struct pvio_blk_config),
	.queue_start = pviod_blk_queue_start,
	.queue_stop = pviod_blk_queue_stop,
	.queue_serve = pviod_blk_queue_serve,
	.queue_stats = pviod_blk_queue_stats,
	.queue_counters = pviod_blk_queue_counters,
	.flush = pviod_blk_flush,
	.refresh = pviod_blk_refresh,
	.destroy = pviod_blk_destroy,
};

/* --- creation ------------------------------------------------------------------------ */

/* The device's limits and config space, from what its engine can do. */
static void pviod_blk_config_init(struct pviod_device *dev, struct pviod_blk *blk)
{
	const struct pviod_blk_engine *e = &blk->engine;
	struct pvio_blk_config *cfg = &blk->config;

	blk->lim.capacity = e->size >> PVIO_BLK_SECTOR_SHIFT;
	blk->lim.readonly = e->readonly;
	blk->lim.flush = e->flush;
	blk->lim.discard = e->discard && !e->readonly;
	if (e->size % PVIO_BLK_SECTOR_SIZE)
		pr_warn("%s: the disk is not a multiple of 512 bytes; the tail is not exposed",
			dev->name);

	memset(cfg, 0, sizeof(*cfg));
	cfg->capacity = cpu_to_le64(blk->lim.capacity);
	cfg->size_max = cpu_to_le32(PVIOD_BLK_SIZE_MAX);
	cfg->seg_max = cpu_to_le32(PVIOD_BLK_SEG_MAX);
	cfg->blk_size = cpu_to_le32(PVIO_BLK_SECTOR_SIZE);
	cfg->topology.physical_block_exp =
		(uint8_t)(__builtin_ctz(e->physical_block_size) - PVIO_BLK_SECTOR_SHIFT);
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
}

#define PVIOD_BLK_OPTIONS                                                                \
	"socket, file, nbd, rbd, ceph-conf, ceph-id, queues, readonly, direct, inline, " \
	"fixed, locking, reconnect-timeout, serial, in-order"

/**
 * pviod_blk_create - a block device from its --device options
 * @env: what it is created in
 * @name: its name, for messages
 * @opts: "socket=PATH,file=IMAGE|nbd=URI|rbd=POOL/IMAGE[,ceph-conf=FILE][,ceph-id=ID]
 *        [,queues=N][,readonly=on][,direct=on|off][,inline=auto|off][,fixed=auto|off]
 *        [,reconnect-timeout=SECS][,serial=ID][,in-order=on]"
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
	char *nbd = NULL, *rbd = NULL, *ceph_conf = NULL, *ceph_id = NULL;
	const char *serial = "";
	unsigned long queues = 1, reconnect = 15;
	bool readonly = false, direct = true, inline_rw = true, locking = true, fixed = true;
	bool in_order = false;
	struct pviod_blk_file_opts fo;
	struct pviod_blk_nbd_opts no;
	struct pviod_blk_rbd_opts ro;
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
		} else if (!strcmp(tok, "nbd")) {
			nbd = val;
		} else if (!strcmp(tok, "rbd")) {
			rbd = val;
		} else if (!strcmp(tok, "ceph-conf")) {
			ceph_conf = val;
		} else if (!strcmp(tok, "ceph-id")) {
			ceph_id = val;
		} else if (!strcmp(tok, "reconnect-timeout")) {
			if (pviod_opt_uint("blk", tok, val, 1, 3600, &reconnect))
				goto err_free_copy;
		} else if (!strcmp(tok, "queues")) {
			if (pviod_opt_uint("blk", tok, val, 1, PVIOD_QUEUES_MAX, &queues))
				goto err_free_copy;
		} else if (!strcmp(tok, "readonly")) {
			if (pviod_opt_bool("blk", tok, val, &readonly))
				goto err_free_copy;
		} else if (!strcmp(tok, "direct")) {
			if (pviod_opt_bool("blk", tok, val, &direct))
				goto err_free_copy;
		} else if (!strcmp(tok, "locking")) {
			if (pviod_opt_bool("blk", tok, val, &locking))
				goto err_free_copy;
		} else if (!strcmp(tok, "in-order")) {
			if (pviod_opt_bool("blk", tok, val, &in_order))
				goto err_free_copy;
		} else if (!strcmp(tok, "inline")) {
			if (!strcmp(val, "auto")) {
				inline_rw = true;
			} else if (!strcmp(val, "off")) {
				inline_rw = false;
			} else {
				pviod_opt_err("blk", "inline=%s: expected auto or off", val);
				goto err_free_copy;
			}
		} else if (!strcmp(tok, "fixed")) {
			if (!strcmp(val, "auto")) {
				fixed = true;
			} else if (!strcmp(val, "off")) {
				fixed = false;
			} else {
				pviod_opt_err("blk", "fixed=%s: expected auto or off", val);
				goto err_free_copy;
			}
		} else if (!strcmp(tok, "serial")) {
			if (strlen(val) > PVIO_BLK_ID_BYTES) {
				pviod_opt_err("blk", "serial=%s: at most %d bytes", val,
					      PVIO_BLK_ID_BYTES);
				goto err_free_copy;
			}
			serial = val;
		} else {
			pviod_opt_err("blk", "unknown option '%s' (%s)", tok, PVIOD_BLK_OPTIONS);
			goto err_free_copy;
		}
	}
	if (!socket_path || !*socket_path) {
		pviod_opt_err("blk", "socket=PATH is required");
		goto err_free_copy;
	}
	if (!!file + !!nbd + !!rbd != 1 || (file && !*file) || (nbd && !*nbd) || (rbd && !*rbd)) {
		pviod_opt_err("blk",
			      "exactly one of file=IMAGE, nbd=URI, rbd=POOL/IMAGE is required");
		goto err_free_copy;
	}
	if ((ceph_conf || ceph_id) && !rbd) {
		pviod_opt_err("blk", "ceph-conf= and ceph-id= go with rbd=");
		goto err_free_copy;
	}

	dev = calloc(1, sizeof(*dev));
	blk = calloc(1, sizeof(*blk));
	if (!dev || !blk) {
		free(blk);
		ret = -ENOMEM;
		goto err_free_dev;
	}
	dev->priv = blk;
	blk->offer_in_order = in_order;
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
	if (nbd) {
		no = (struct pviod_blk_nbd_opts){ .uri = nbd,
						  .readonly = readonly,
						  .queues = (unsigned int)queues,
						  .reconnect_s = (unsigned int)reconnect };
		ret = pviod_blk_nbd_open(&blk->engine, dev->name, &no);
	} else if (rbd) {
		ro = (struct pviod_blk_rbd_opts){ .spec = rbd,
						  .conf = ceph_conf,
						  .id = ceph_id,
						  .readonly = readonly,
						  .timeout_s = (unsigned int)reconnect,
						  .changed = pviod_blk_engine_changed,
						  .changed_arg = dev };
		ret = pviod_blk_rbd_open(&blk->engine, dev->name, &ro);
	} else {
		fo = (struct pviod_blk_file_opts){ .path = file,
						   .readonly = readonly,
						   .direct = direct,
						   .inline_rw = inline_rw,
						   .fixed = fixed,
						   .lock = locking };
		ret = pviod_blk_file_open(&blk->engine, dev->name, &fo);
	}
	if (ret)
		goto err_free_dev;
	blk->engine_open = true;
	pviod_blk_config_init(dev, blk);
	free(copy);
	*out = dev;
	return 0;

err_free_dev:
	if (dev) {
		if (!dev->ops)
			pviod_blk_destroy(dev);
		pviod_device_free(dev);
	}
err_free_copy:
	free(copy);
	return ret;
}
