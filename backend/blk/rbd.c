// SPDX-License-Identifier: GPL-2.0
/*
 * rbd.c - the RBD engine: a Ceph RBD image through librbd's asynchronous
 * API, its completions delivered to the queues' workers (engine.h).
 *
 * One cluster connection and one open image per device, shared by its
 * queues: librbd is thread-safe, and one image handle keeps the image's
 * exclusive lock with one owner (handles of their own per queue would pass
 * it back and forth on every write).  Operations become rbd_aio_* calls
 * whose completions librbd runs on its own threads; a completion only
 * pushes its operation on the queue's list (lock-free, many producers, one
 * consumer) and, when the list was empty, writes the queue's eventfd.  The
 * worker waits for that eventfd with a struct pviod_watch, takes the whole
 * list and completes the operations: no call on a worker blocks, and a
 * queue's completions reach that queue's worker only.
 * (rbd_set_image_notification() + rbd_poll_io_events() give the same eventfd
 * hand-off, but per image: with several queues one worker would reap
 * another's completions.)
 *
 * The mapping: READ -> rbd_aio_read/readv, WRITE -> rbd_aio_write/writev
 * (straight between guest memory and librbd, no bounce buffer), FLUSH ->
 * rbd_aio_flush, DISCARD -> rbd_aio_discard, WRITE_ZEROES ->
 * rbd_aio_write_zeroes (thick-provisioned unless the driver allows
 * unmapping).
 *
 * librbd retries on its own when an OSD or a monitor goes away and comes
 * back; rados_osd_op_timeout (reconnect-timeout) bounds how long an
 * operation may wait for that, after which it fails with IOERR.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <rados/librados.h>
#include <rbd/librbd.h>

#include "blk/blk.h"
#include "blk/engine.h"
#include "core/worker.h"

struct pviod_rbd_queue;

/* The engine's state of one operation in flight (its queue's slot). */
struct pviod_rbd_op {
	struct pviod_blk_io *bio;
	struct pviod_rbd_queue *rq;
	unsigned int pending; /* commands in flight, +1 while issuing (atomic) */
	int err; /* the first error (atomic) */
	struct pviod_rbd_op *next; /* rq->done (atomic push) */
};

struct pviod_rbd_queue {
	struct pviod_blk_rbd *r;
	struct pviod_queue *q;
	int efd; /* eventfd: rq->done went from empty to not */
	struct pviod_watch watch;
	struct pviod_rbd_op *done; /* finished by librbd, for the worker (atomic) */
	unsigned int inflight; /* the worker's: operations not yet completed */
	unsigned int nslots;
	struct pviod_rbd_op op[];
};

struct pviod_blk_rbd {
	rados_t cluster;
	rados_ioctx_t ioctx;
	rbd_image_t image;
	bool connected, have_ioctx, have_image;
	bool readonly;
	/* rbd_update_watch(): the image's header changed (a resize among others). */
	bool watching;
	uint64_t watch_handle;
	void (*changed)(void *arg);
	void *changed_arg;
};

/* --- completions ----------------------------------------------------------------- */

/* librbd's thread: one command of @op finished. */
static void pviod_rbd_cmd_done(rbd_completion_t c, void *arg)
{
	struct pviod_rbd_op *op = arg, *head;
	struct pviod_rbd_queue *rq = op->rq;
	ssize_t ret = rbd_aio_get_return_value(c);
	int zero = 0;

	rbd_aio_release(c);
	if (ret < 0)
		__atomic_compare_exchange_n(&op->err, &zero, (int)ret, false, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED);
	if (__atomic_sub_fetch(&op->pending, 1, __ATOMIC_ACQ_REL))
		return;
	/* The last one: hand the operation to the worker (release: its err and data). */
	head = __atomic_load_n(&rq->done, __ATOMIC_RELAXED);
	do {
		op->next = head;
	} while (!__atomic_compare_exchange_n(&rq->done, &head, op, true, __ATOMIC_RELEASE,
					      __ATOMIC_RELAXED));
	if (!head)
		eventfd_write(rq->efd, 1);
}

static void pviod_rbd_complete(struct pviod_rbd_op *op)
{
	struct pviod_blk_io *bio = op->bio;

	op->rq->inflight--;
	op->bio = NULL;
	bio->done(bio, __atomic_load_n(&op->err, __ATOMIC_RELAXED));
}

/*
 * A multishot poll of the eventfd: armed once, it fires on every write
 * (every push onto an empty list) with no system call on the worker, where
 * a one-shot poll costs a submission and an eventfd read per request.  The
 * count is never read back: a multishot poll fires on wake-ups, not on
 * the count, and one fire takes the whole list.  (At 2^64 - 2 writes the
 * count would be full: 500,000 years at a million requests a second.)  When
 * the kernel ends the poll (the watch fires disarmed), the next call arms
 * it again, and a count left over from before makes it fire at once.
 */
static void pviod_rbd_arm(struct pviod_rbd_queue *rq)
{
	if (rq->inflight && !rq->watch.armed)
		pviod_watch_poll_multi(&rq->watch, rq->efd, POLLIN);
}

/* The worker: the eventfd was written, or the watch was cancelled or ended. */
static void pviod_rbd_fire(struct pviod_watch *w, int res)
{
	struct pviod_rbd_queue *rq =
		(struct pviod_rbd_queue *)((char *)w - offsetof(struct pviod_rbd_queue, watch));
	struct pviod_rbd_op *op, *list;

	/* Acquire: pairs with the release push of pviod_rbd_cmd_done(). */
	list = __atomic_exchange_n(&rq->done, NULL, __ATOMIC_ACQUIRE);
	while ((op = list)) {
		list = op->next;
		pviod_rbd_complete(op);
	}
	pviod_rbd_arm(rq);
}

/* --- issuing -------------------------------------------------------------------- */

static rbd_completion_t pviod_rbd_comp(struct pviod_rbd_op *op)
{
	rbd_completion_t c;

	if (rbd_aio_create_completion(op, pviod_rbd_cmd_done, &c) < 0)
		return NULL;
	__atomic_add_fetch(&op->pending, 1, __ATOMIC_RELAXED);
	return c;
}

/* A command could not be issued: @ret is its error, @c is released. */
static void pviod_rbd_not_issued(struct pviod_rbd_op *op, rbd_completion_t c, int ret)
{
	int zero = 0;

	if (c) {
		rbd_aio_release(c);
		__atomic_sub_fetch(&op->pending, 1, __ATOMIC_RELAXED);
	}
	__atomic_compare_exchange_n(&op->err, &zero, ret, false, __ATOMIC_RELAXED,
				    __ATOMIC_RELAXED);
}

static void pviod_rbd_issue(struct pviod_blk_rbd *r, struct pviod_rbd_op *op)
{
	struct pviod_blk_io *bio = op->bio;
	const struct iovec *iov = (const struct iovec *)bio->seg;
	rbd_completion_t c;
	unsigned int i;
	int ret, zflags;

	switch (bio->op) {
	case PVIOD_BLK_READ:
	case PVIOD_BLK_WRITE:
	case PVIOD_BLK_FLUSH:
		c = pviod_rbd_comp(op);
		if (!c) {
			pviod_rbd_not_issued(op, NULL, -ENOMEM);
			break;
		}
		if (bio->op == PVIOD_BLK_FLUSH)
			ret = rbd_aio_flush(r->image, c);
		else if (bio->op == PVIOD_BLK_READ && bio->nseg == 1)
			ret = rbd_aio_read(r->image, bio->offset, bio->len, bio->seg[0].base, c);
		else if (bio->op == PVIOD_BLK_READ)
			ret = rbd_aio_readv(r->image, iov, (int)bio->nseg, bio->offset, c);
		else if (bio->nseg == 1)
			ret = rbd_aio_write(r->image, bio->offset, bio->len, bio->seg[0].base, c);
		else
			ret = rbd_aio_writev(r->image, iov, (int)bio->nseg, bio->offset, c);
		if (ret < 0)
			pviod_rbd_not_issued(op, c, ret);
		break;
	case PVIOD_BLK_DISCARD:
	case PVIOD_BLK_WRITE_ZEROES:
		for (i = 0; i < bio->nrange; i++) {
			const struct pviod_blk_range *rg = &bio->range[i];

			c = pviod_rbd_comp(op);
			if (!c) {
				pviod_rbd_not_issued(op, NULL, -ENOMEM);
				break;
			}
			zflags = rg->unmap ? 0 : RBD_WRITE_ZEROES_FLAG_THICK_PROVISION;
			if (bio->op == PVIOD_BLK_DISCARD)
				ret = rbd_aio_discard(r->image, rg->offset, rg->len, c);
			else
				ret = rbd_aio_write_zeroes(r->image, rg->offset, rg->len, c, zflags,
							   0);
			if (ret < 0) {
				pviod_rbd_not_issued(op, c, ret);
				break;
			}
		}
		break;
	}
}

static void pviod_rbd_submit(struct pviod_blk_engine *e, struct pviod_blk_io *bio)
{
	struct pviod_rbd_queue *rq = bio->eq;
	struct pviod_rbd_op *op = &rq->op[bio->slot];

	op->bio = bio;
	op->rq = rq;
	op->err = 0;
	/* The bias: no completion finishes it while commands are still being issued. */
	op->pending = 1;
	rq->inflight++;
	pviod_rbd_issue(e->priv, op);
	if (__atomic_sub_fetch(&op->pending, 1, __ATOMIC_ACQ_REL) == 0) {
		/* Every command finished already (or none was issued). */
		pviod_rbd_complete(op);
		return;
	}
	pviod_rbd_arm(rq);
}

/* --- the engine ------------------------------------------------------------------ */

static int pviod_rbd_queue_init(struct pviod_blk_engine *e, struct pviod_queue *q,
				unsigned int nslots, void **eq)
{
	struct pviod_rbd_queue *rq = *eq;
	unsigned int i;

	/* Kept across restarts; stopped, nothing is in flight. */
	if (rq && rq->nslots == nslots)
		return 0;
	if (rq) {
		close(rq->efd);
		free(rq);
		*eq = NULL;
	}
	rq = calloc(1, sizeof(*rq) + nslots * sizeof(rq->op[0]));
	if (!rq)
		return -ENOMEM;
	rq->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (rq->efd < 0) {
		free(rq);
		return -errno;
	}
	rq->r = e->priv;
	rq->q = q;
	rq->nslots = nslots;
	pviod_watch_init(&rq->watch, q, pviod_rbd_fire);
	for (i = 0; i < nslots; i++)
		rq->op[i].rq = rq;
	*eq = rq;
	return 0;
}

static void pviod_rbd_queue_free(struct pviod_blk_engine *e, void *eq)
{
	struct pviod_rbd_queue *rq = eq;

	if (!rq)
		return;
	close(rq->efd);
	free(rq);
}

static int pviod_rbd_flush(struct pviod_blk_engine *e)
{
	struct pviod_blk_rbd *r = e->priv;

	return r->readonly ? 0 : rbd_flush(r->image);
}

/* librbd's thread: the image's header changed; the device looks at its size. */
static void pviod_rbd_updated(void *arg)
{
	struct pviod_blk_rbd *r = arg;

	r->changed(r->changed_arg);
}

static int pviod_rbd_size(struct pviod_blk_engine *e, uint64_t *bytes)
{
	struct pviod_blk_rbd *r = e->priv;

	return rbd_get_size(r->image, bytes);
}

static void pviod_rbd_close(struct pviod_blk_engine *e)
{
	struct pviod_blk_rbd *r = e->priv;

	if (!r)
		return;
	/* Waits for a callback that is running: none comes after. */
	if (r->watching)
		rbd_update_unwatch(r->image, r->watch_handle);
	if (r->have_image)
		rbd_close(r->image);
	if (r->have_ioctx)
		rados_ioctx_destroy(r->ioctx);
	if (r->cluster)
		rados_shutdown(r->cluster);
	free(r);
	e->priv = NULL;
}

static const struct pviod_blk_engine_ops pviod_blk_rbd_ops = {
	.name = "rbd",
	.queue_init = pviod_rbd_queue_init,
	.queue_free = pviod_rbd_queue_free,
	.submit = pviod_rbd_submit,
	.size = pviod_rbd_size,
	.flush = pviod_rbd_flush,
	.close = pviod_rbd_close,
};

/* --- opening -------------------------------------------------------------------- */

/*
 * rbd_cache=false on the client does not bind the image: librbd (16.2)
 * applies the pool's and the image's own config over it, as an admin sets
 * them with `rbd config pool|image set ... rbd_cache true` (or `rbd
 * image-meta set IMG conf_rbd_cache true`), and the image then has the
 * cache the client turned off.  There is no turning it off again once the
 * image is open, so such an image is refused, writable at least (a
 * read-only one has no writes to lose), with what set it and how to undo
 * it.  Return: 0, or -EOPNOTSUPP (reported), -ENOMEM.
 */
static int pviod_rbd_check_cache(struct pviod_blk_rbd *r, const char *dev_name, const char *spec,
				 const char *pool, const char *image)
{
	rbd_config_option_t *opts = NULL;
	int n = 256, i, ret;

	for (;;) {
		opts = calloc((size_t)n, sizeof(*opts));
		if (!opts)
			return -ENOMEM;
		ret = rbd_config_image_list(r->image, opts, &n);
		if (ret != -ERANGE)
			break;
		free(opts);
	}
	if (ret < 0) {
		/* Listed since librbd 14: nothing to check against otherwise. */
		pr_warn("%s: rbd=%s: cannot list the image's config to check rbd_cache: %s",
			dev_name, spec, strerror(-ret));
		free(opts);
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (strcmp(opts[i].name, "rbd_cache") || strcmp(opts[i].value, "true"))
			continue;
		if (opts[i].source == RBD_CONFIG_SOURCE_IMAGE)
			pr_err("%s: rbd=%s: the image's config turns librbd's cache on (rbd_cache=true); pviod completes a write only once the OSDs have it: remove it with 'rbd config image remove %s/%s rbd_cache'",
			       dev_name, spec, pool, image);
		else if (opts[i].source == RBD_CONFIG_SOURCE_POOL)
			pr_err("%s: rbd=%s: the pool's config turns librbd's cache on (rbd_cache=true); pviod completes a write only once the OSDs have it: remove it with 'rbd config pool remove %s rbd_cache'",
			       dev_name, spec, pool);
		else
			pr_err("%s: rbd=%s: librbd's cache is on (rbd_cache=true) although pviod turned it off",
			       dev_name, spec);
		ret = -EOPNOTSUPP;
	}
	rbd_config_image_list_cleanup(opts, n);
	free(opts);
	return ret < 0 ? ret : 0;
}

/**
 * pviod_blk_rbd_open - open a Ceph RBD image as an engine
 * @e: the engine to fill in
 * @dev_name: the device's name, for messages
 * @o: the image and the cluster
 *
 * Return: 0, or -errno (reported: the option, the cluster and what it said).
 */
int pviod_blk_rbd_open(struct pviod_blk_engine *e, const char *dev_name,
		       const struct pviod_blk_rbd_opts *o)
{
	const char *conf = o->conf ? o->conf : "/etc/ceph/ceph.conf";
	char name[128], mons[256] = "", tmo[16], *pool, *image;
	struct pviod_blk_rbd *r;
	uint64_t size;
	int ret;

	memset(e, 0, sizeof(*e));
	e->ops = &pviod_blk_rbd_ops;
	pool = strdup(o->spec);
	if (!pool)
		return -ENOMEM;
	image = strchr(pool, '/');
	if (!image || image == pool || !image[1] || strchr(image + 1, '/')) {
		fprintf(stderr, "pviod: --device blk: rbd=%s: expected POOL/IMAGE\n", o->spec);
		free(pool);
		return -EINVAL;
	}
	*image++ = '\0';
	r = calloc(1, sizeof(*r));
	if (!r) {
		free(pool);
		return -ENOMEM;
	}
	e->priv = r;
	r->readonly = o->readonly;
	snprintf(name, sizeof(name), "client.%s", o->id ? o->id : "admin");
	ret = rados_create2(&r->cluster, "ceph", name, 0);
	if (ret < 0) {
		r->cluster = NULL;
		pr_err("%s: rbd=%s: cannot create a cluster handle for %s: %s", dev_name, o->spec,
		       name, strerror(-ret));
		goto err;
	}
	ret = rados_conf_read_file(r->cluster, conf);
	if (ret < 0) {
		pr_err("%s: rbd=%s: ceph-conf=%s: cannot read it: %s", dev_name, o->spec, conf,
		       strerror(-ret));
		goto err;
	}
	/* Bounded waits: for the monitors at start-up, for the OSDs on every operation. */
	snprintf(tmo, sizeof(tmo), "%u", o->timeout_s);
	rados_conf_set(r->cluster, "client_mount_timeout", "10");
	rados_conf_set(r->cluster, "rados_osd_op_timeout", tmo);
	rados_conf_set(r->cluster, "rados_mon_op_timeout", tmo);
	/*
	 * No librbd cache, whatever ceph.conf says: a write completes once
	 * the OSDs have it.  librbd's default (rbd_cache on, write-through
	 * until the first flush, then write-around) would complete writes
	 * that live only in this process; a pviod that crashes or is killed
	 * under a running guest, which never learns of it (pviod restarts
	 * and resubmits only what had not completed), would lose them, and
	 * the guest's next FLUSH would vouch for them all the same.
	 */
	ret = rados_conf_set(r->cluster, "rbd_cache", "false");
	if (ret < 0) {
		pr_err("%s: rbd=%s: cannot turn librbd's cache off (rbd_cache): %s", dev_name,
		       o->spec, strerror(-ret));
		goto err;
	}
	rados_conf_get(r->cluster, "mon_host", mons, sizeof(mons));
	ret = rados_connect(r->cluster);
	if (ret < 0) {
		pr_err("%s: rbd=%s: cannot connect to the cluster (monitors %s, as %s, ceph-conf=%s): %s%s",
		       dev_name, o->spec, mons[0] ? mons : "none configured", name, conf,
		       strerror(-ret),
		       ret == -EACCES || ret == -EPERM ? " (authentication failed)" : "");
		goto err;
	}
	r->connected = true;
	ret = rados_ioctx_create(r->cluster, pool, &r->ioctx);
	if (ret < 0) {
		pr_err("%s: rbd=%s: pool '%s' on the cluster at %s: %s", dev_name, o->spec, pool,
		       mons, ret == -ENOENT ? "no such pool" : strerror(-ret));
		goto err;
	}
	r->have_ioctx = true;
	if (o->readonly)
		ret = rbd_open_read_only(r->ioctx, image, &r->image, NULL);
	else
		ret = rbd_open(r->ioctx, image, &r->image, NULL);
	if (ret < 0) {
		pr_err("%s: rbd=%s: image '%s' in pool '%s' on the cluster at %s: %s", dev_name,
		       o->spec, image, pool, mons,
		       ret == -ENOENT ? "no such image" : strerror(-ret));
		goto err;
	}
	r->have_image = true;
	if (!o->readonly) {
		ret = pviod_rbd_check_cache(r, dev_name, o->spec, pool, image);
		if (ret < 0)
			goto err;
	}
	ret = rbd_get_size(r->image, &size);
	if (ret < 0) {
		pr_err("%s: rbd=%s: its size: %s", dev_name, o->spec, strerror(-ret));
		goto err;
	}
	if (o->changed) {
		r->changed = o->changed;
		r->changed_arg = o->changed_arg;
		ret = rbd_update_watch(r->image, &r->watch_handle, pviod_rbd_updated, r);
		if (ret < 0) {
			pr_err("%s: rbd=%s: watching the image for resizes: %s", dev_name, o->spec,
			       strerror(-ret));
			goto err;
		}
		r->watching = true;
	}
	e->size = size;
	e->physical_block_size = 4096;
	e->readonly = o->readonly;
	e->flush = true;
	e->discard = !o->readonly;
	pr_info("%s: rbd=%s: %llu sectors%s, cluster at %s as %s", dev_name, o->spec,
		(unsigned long long)(size >> PVIO_BLK_SECTOR_SHIFT),
		o->readonly ? ", read-only" : "", mons, name);
	free(pool);
	return 0;

err:
	free(pool);
	pviod_rbd_close(e);
	return ret;
}
