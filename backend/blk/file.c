// SPDX-License-Identifier: GPL-2.0
/*
 * file.c - the file engine: a raw image file or block device on the
 * workers' io_uring (engine.h).
 *
 * READ and WRITE go straight between guest memory and the file: the
 * operation's segments are the iovec of one readv/writev, no bounce buffer.
 * The image is opened with O_DIRECT by default (direct=off: page cache).
 * O_DIRECT needs the buffers, lengths and offset aligned to the file's DIO
 * alignment (statx STATX_DIOALIGN, 512 when unknown); an operation that is
 * not (a guest may hand any 2-byte aligned buffer) goes through a second,
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
 * io_uring completes a read or write inline, in the submitting syscall, only
 * when the file can be told not to block (FMODE_NOWAIT, which preadv2()
 * reports as RWF_NOWAIT support).  tmpfs and hugetlbfs lack it, so io_uring
 * hands every operation on them to an io-wq thread: a second thread hop per
 * request, two wake-ups, for a copy that never waits for a device.  For such
 * an image (inline=auto, the default) READ and WRITE run with
 * preadv()/pwritev() on the worker instead, still straight between guest
 * memory and the file; FLUSH, DISCARD and WRITE_ZEROES keep going through
 * io_uring.
 *
 * io_uring's fixed resources (fixed=auto; fixed=off: none of them): each
 * queue registers the image's fds as fixed files of its worker's ring
 * (IOSQE_FIXED_FILE: no file-table lookup and reference per request), and,
 * for an O_DIRECT image, the guest's memory regions as fixed buffers, cut
 * into buffers of at most 1 GiB (worker.c).  A READ or WRITE of one segment then goes out as
 * READ_FIXED / WRITE_FIXED, whose pages were pinned once at registration,
 * instead of being pinned and released by the block layer on every request;
 * several segments still take readv / writev (io_uring has no fixed-buffer
 * vectored op before Linux 6.15).  Registration runs on the queue's worker
 * (its ring's tables are the worker's) when the queue starts, which it does
 * again after every memory-table change, and is dropped when the queue
 * stops, so unmapped guest memory is never kept pinned.  When it fails
 * (RLIMIT_MEMLOCK without CAP_IPC_LOCK, a full table, an old kernel) the
 * queue goes on without, and says so once.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
#include "blk/engine.h"
#include "core/worker.h"

/* One fallocate of a DISCARD / WRITE_ZEROES operation. */
struct pviod_blk_file_range {
	struct pviod_io io;
	struct pviod_blk_file_op *op;
	uint64_t off;
	uint64_t len;
	int mode; /* fallocate mode */
	bool relinked; /* the punch + allocate fallback already ran */
	struct pviod_sqe_wait wait; /* that fallback waits for room on the ring */
};

/* The engine's state of one operation in flight (its queue's slot). */
struct pviod_blk_file_op {
	struct pviod_io io; /* readv / writev / fsync completion */
	struct pviod_blk_io *bio;
	struct pviod_blk_file *f;
	int fd; /* which fd READ/WRITE uses */
	unsigned int pending; /* SQEs not yet completed */
	int err; /* the first failure */
	uint64_t done; /* READ/WRITE bytes transferred so far */
	unsigned int next_range; /* DISCARD/WRITE_ZEROES: the first range not yet submitted */
	/* Its next SQE (or range's SQEs) waits for room on the worker's ring. */
	struct pviod_sqe_wait wait;
	struct pviod_blk_file_range range[PVIOD_BLK_DISCARD_SEG_MAX];
};

/* One guest memory region registered as fixed buffers, from slot @first. */
struct pviod_blk_file_buf {
	const uint8_t *hva;
	uint64_t size;
	int first;
};

struct pviod_blk_file_queue {
	unsigned int nslots;
	/* Fixed resources on worker @w (NULL: none registered); the worker's. */
	struct pviod_worker *w;
	int file_slot[2]; /* of f->fd and, when it differs, f->fd_buffered; -1: none */
	unsigned int nbufs;
	struct pviod_blk_file_buf buf[PVRING_MEM_REGIONS_MAX];
	int buf_err; /* why the buffers are not registered, 0: they are or were not asked */
	/* Counters (the worker's). */
	uint64_t rw_fixed; /* READ_FIXED / WRITE_FIXED submitted */
	uint64_t rw_vec; /* readv / writev submitted */
	struct pviod_blk_file_op op[];
};

struct pviod_blk_file {
	char *path;
	int fd; /* O_DIRECT when direct, else buffered */
	int fd_buffered; /* for operations O_DIRECT cannot take; == fd when !direct */
	bool direct;
	bool readonly;
	bool is_blkdev;
	uint32_t dio_align; /* memory and offset alignment for O_DIRECT */
	bool no_zero_range; /* FALLOC_FL_ZERO_RANGE said EOPNOTSUPP (atomic) */
	bool rw_inline; /* READ/WRITE with preadv/pwritev on the worker */
	bool fixed_files; /* register the fds as fixed files (fixed=auto) */
	bool fixed_bufs; /* register guest memory as fixed buffers (fixed=auto, O_DIRECT) */
	bool fixed_warned; /* said once that registering failed (atomic: any worker) */
	char *dev_name; /* for messages */
	struct pviod_blk_lock *lock; /* NULL with locking=off */
};

static void pviod_blk_file_finish(struct pviod_blk_file_op *op)
{
	op->bio->done(op->bio, op->err);
}

static void pviod_blk_file_fail(struct pviod_blk_file_op *op, int err)
{
	if (!op->err)
		op->err = err;
}

/* --- READ / WRITE ------------------------------------------------------------- */

static void pviod_blk_file_rw_submit(struct pviod_blk_file_op *op);

/*
 * Account a transfer of @res bytes (or an error).  Return: true when the
 * operation is short and another readv/writev must move the rest (the
 * kernel may split at its own limits), false when it is finished or failed.
 */
static bool pviod_blk_file_rw_advance(struct pviod_blk_file_op *op, int res)
{
	struct pviod_blk_io *bio = op->bio;
	size_t n;

	if (res < 0) {
		pviod_blk_file_fail(op, res);
		return false;
	}
	if (res == 0) {
		/* The image shrank under us. */
		pviod_blk_file_fail(op, -EIO);
		return false;
	}
	op->done += (uint64_t)res;
	if (op->done >= bio->len)
		return false;
	n = (size_t)res;
	while (bio->nseg && n >= bio->seg->len) {
		n -= bio->seg->len;
		bio->seg++;
		bio->nseg--;
	}
	if (bio->nseg && n) {
		bio->seg->base = (char *)bio->seg->base + n;
		bio->seg->len -= n;
	}
	return true;
}

static void pviod_blk_file_rw_done(struct pviod_io *io, int res)
{
	struct pviod_blk_file_op *op = (struct pviod_blk_file_op *)io;

	op->pending--;
	if (pviod_blk_file_rw_advance(op, res)) {
		pviod_blk_file_rw_submit(op);
		return;
	}
	pviod_blk_file_finish(op);
}

/* A memory-backed image (see the top of the file): the copy, here and now. */
static void pviod_blk_file_rw_inline(struct pviod_blk_file_op *op)
{
	struct pviod_blk_io *bio = op->bio;
	ssize_t n;
	int res;

	do {
		off_t off = (off_t)(bio->offset + op->done);
		const struct iovec *iov = (const struct iovec *)bio->seg;

		do {
			if (bio->op == PVIOD_BLK_READ)
				n = preadv(op->fd, iov, (int)bio->nseg, off);
			else
				n = pwritev(op->fd, iov, (int)bio->nseg, off);
		} while (n < 0 && errno == EINTR);
		/* io_uring's results are ints too; an operation is bounded well below. */
		res = n < 0 ? -errno : (int)(n > INT_MAX ? INT_MAX : n);
	} while (pviod_blk_file_rw_advance(op, res));
	pviod_blk_file_finish(op);
}

/* The fixed buffer that holds all of [@p, @p + @len), or -1. */
static int pviod_blk_file_buf_index(const struct pviod_blk_file_queue *fq, const void *p,
				    uint64_t len)
{
	unsigned int i;

	for (i = 0; i < fq->nbufs; i++) {
		const struct pviod_blk_file_buf *b = &fq->buf[i];
		uint64_t off = (uint64_t)((const uint8_t *)p - b->hva);

		if ((const uint8_t *)p < b->hva || off >= b->size || len > b->size - off)
			continue;
		/* Inside one of its 1 GiB buffers? */
		if (off / PVIOD_WORKER_BUF_MAX != (off + len - 1) / PVIOD_WORKER_BUF_MAX)
			return -1;
		return b->first + (int)(off / PVIOD_WORKER_BUF_MAX);
	}
	return -1;
}

static void pviod_blk_file_rw_submit(struct pviod_blk_file_op *op)
{
	struct pviod_blk_io *bio = op->bio;
	struct pviod_blk_file_queue *fq = bio->eq;
	uint64_t off = bio->offset + op->done;
	struct io_uring_sqe *sqe;
	int fd = op->fd, buf = -1;

	if (op->f->rw_inline) {
		pviod_blk_file_rw_inline(op);
		return;
	}
	sqe = pviod_worker_sqe(bio->q->worker);
	if (!sqe) {
		pviod_worker_sqe_wait(bio->q->worker, &op->wait);
		return;
	}
	/* The slots are of the ring they were registered on: a moved queue has none. */
	if (fq->w == bio->q->worker) {
		int slot = fd == op->f->fd ? fq->file_slot[0] : fq->file_slot[1];

		if (slot >= 0)
			fd = slot;
		if (bio->nseg == 1)
			buf = pviod_blk_file_buf_index(fq, bio->seg[0].base, bio->seg[0].len);
	}
	if (buf >= 0 && bio->op == PVIOD_BLK_READ)
		io_uring_prep_read_fixed(sqe, fd, bio->seg[0].base, (unsigned int)bio->seg[0].len,
					 off, buf);
	else if (buf >= 0)
		io_uring_prep_write_fixed(sqe, fd, bio->seg[0].base, (unsigned int)bio->seg[0].len,
					  off, buf);
	else if (bio->op == PVIOD_BLK_READ)
		io_uring_prep_readv(sqe, fd, (const struct iovec *)bio->seg, bio->nseg, off);
	else
		io_uring_prep_writev(sqe, fd, (const struct iovec *)bio->seg, bio->nseg, off);
	if (fd != op->fd)
		sqe->flags |= IOSQE_FIXED_FILE;
	if (buf >= 0)
		fq->rw_fixed++;
	else
		fq->rw_vec++;
	io_uring_sqe_set_data(sqe, &op->io);
	op->io.complete = pviod_blk_file_rw_done;
	op->pending++;
	/*
	 * Soon, not with the whole batch: one io_uring_enter() for a batch
	 * plugs the block layer until every request of it is set up, so the
	 * device starts on the first only after the last (4 KiB randread at
	 * QD32 on a virtio disk, interrupt mode: 51k IOPS with ~30 requests
	 * per enter, 65k with one).  One per request costs a system call and
	 * a plug flush each, on top of the block layer's submission (2/3 of
	 * pviod's CPU per I/O): groups of a few (worker.c) keep the device
	 * fed at a fraction of that.
	 */
	pviod_worker_submit(bio->q->worker);
}

/* May O_DIRECT take this operation as it is? */
static bool pviod_blk_file_dio_ok(const struct pviod_blk_file *f, const struct pviod_blk_io *bio)
{
	uint64_t mask = f->dio_align - 1;
	unsigned int i;

	if (bio->offset & mask)
		return false;
	for (i = 0; i < bio->nseg; i++) {
		if (((uintptr_t)bio->seg[i].base | bio->seg[i].len) & mask)
			return false;
	}
	return true;
}

/* --- FLUSH ---------------------------------------------------------------------- */

static void pviod_blk_file_flush_done(struct pviod_io *io, int res)
{
	struct pviod_blk_file_op *op = (struct pviod_blk_file_op *)io;

	op->pending--;
	if (res < 0)
		pviod_blk_file_fail(op, res);
	pviod_blk_file_finish(op);
}

static void pviod_blk_file_flush_submit(struct pviod_blk_file_op *op)
{
	struct io_uring_sqe *sqe = pviod_worker_sqe(op->bio->q->worker);

	if (!sqe) {
		pviod_worker_sqe_wait(op->bio->q->worker, &op->wait);
		return;
	}
	io_uring_prep_fsync(sqe, op->f->fd, IORING_FSYNC_DATASYNC);
	io_uring_sqe_set_data(sqe, &op->io);
	op->io.complete = pviod_blk_file_flush_done;
	op->pending++;
}

/* --- DISCARD, WRITE_ZEROES ------------------------------------------------------ */

/*
 * A range is one fallocate, or, where the file system has no ZERO_RANGE, a
 * punch linked to an allocate: both SQEs go on the ring together
 * (pviod_worker_sqe_room()), so the allocate never runs unordered.  What
 * finds no room waits for it: the operation's next range on the
 * operation, a range's fallback pair on the range.
 */

static void pviod_blk_file_range_done(struct pviod_io *io, int res);

/* @r's fallocate in @mode, linked to an allocate when @pair; room was made. */
static void pviod_blk_file_range_prep(struct pviod_blk_file_range *r, int mode, bool pair)
{
	struct pviod_blk_file_op *op = r->op;
	struct pviod_worker *w = op->bio->q->worker;
	struct io_uring_sqe *sqe = pviod_worker_sqe_reserved(w);

	io_uring_prep_fallocate(sqe, op->f->fd, mode, (off_t)r->off, (off_t)r->len);
	io_uring_sqe_set_data(sqe, &r->io);
	r->io.complete = pviod_blk_file_range_done;
	r->mode = mode;
	op->pending++;
	if (!pair)
		return;
	sqe->flags |= IOSQE_IO_LINK;
	sqe = pviod_worker_sqe_reserved(w);
	io_uring_prep_fallocate(sqe, op->f->fd, FALLOC_FL_KEEP_SIZE, (off_t)r->off, (off_t)r->len);
	io_uring_sqe_set_data(sqe, &r->io);
	op->pending++;
}

/* No ZERO_RANGE after all: a hole, then allocate it again, in order. */
static void pviod_blk_file_range_relink(struct pviod_blk_file_range *r)
{
	if (pviod_worker_sqe_room(r->op->bio->q->worker, 2)) {
		pviod_blk_file_range_prep(r, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, true);
		return;
	}
	r->op->pending++; /* the pair to come: the operation is not done */
	pviod_worker_sqe_wait(r->op->bio->q->worker, &r->wait);
}

static void pviod_blk_file_range_retry(struct pviod_sqe_wait *sw)
{
	struct pviod_blk_file_range *r =
		(struct pviod_blk_file_range *)((char *)sw -
						offsetof(struct pviod_blk_file_range, wait));

	r->op->pending--;
	pviod_blk_file_range_relink(r);
}

static void pviod_blk_file_range_done(struct pviod_io *io, int res)
{
	struct pviod_blk_file_range *r = (struct pviod_blk_file_range *)io;
	struct pviod_blk_file_op *op = r->op;

	op->pending--;
	if (res == -EOPNOTSUPP && op->bio->op == PVIOD_BLK_DISCARD) {
		/* DISCARD is a hint: a file system without holes simply keeps the data. */
		res = 0;
	} else if (res == -EOPNOTSUPP && (r->mode & FALLOC_FL_ZERO_RANGE) && !r->relinked) {
		__atomic_store_n(&op->f->no_zero_range, true, __ATOMIC_RELAXED);
		r->relinked = true;
		pviod_blk_file_range_relink(r);
		return;
	} else if (res == -ECANCELED && r->relinked) {
		/* The allocate half of a failed link: the punch reported the error. */
		res = 0;
	}
	if (res < 0)
		pviod_blk_file_fail(op, res);
	if (!op->pending && op->next_range == op->bio->nrange)
		pviod_blk_file_finish(op);
}

/* Submit the ranges from op->next_range on, waiting for room where there is none. */
static void pviod_blk_file_discard(struct pviod_blk_file_op *op)
{
	struct pviod_blk_io *bio = op->bio;
	bool zero_range = !__atomic_load_n(&op->f->no_zero_range, __ATOMIC_RELAXED);

	for (; op->next_range < bio->nrange; op->next_range++) {
		unsigned int i = op->next_range;
		struct pviod_blk_file_range *r = &op->range[i];
		int mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
		bool pair = false;

		if (bio->op == PVIOD_BLK_WRITE_ZEROES && !bio->range[i].unmap) {
			if (zero_range)
				mode = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
			else
				pair = true;
		}
		if (!pviod_worker_sqe_room(bio->q->worker, pair ? 2 : 1)) {
			pviod_worker_sqe_wait(bio->q->worker, &op->wait);
			return;
		}
		r->op = op;
		r->off = bio->range[i].offset;
		r->len = bio->range[i].len;
		r->relinked = pair;
		r->wait.retry = pviod_blk_file_range_retry;
		pviod_blk_file_range_prep(r, mode, pair);
	}
	if (!op->pending)
		pviod_blk_file_finish(op);
}

/* --- the engine ------------------------------------------------------------------ */

/* Put the operation's (next) SQEs on the ring: at the start, and when room comes. */
static void pviod_blk_file_op_go(struct pviod_blk_file_op *op)
{
	switch (op->bio->op) {
	case PVIOD_BLK_READ:
	case PVIOD_BLK_WRITE:
		pviod_blk_file_rw_submit(op);
		break;
	case PVIOD_BLK_FLUSH:
		pviod_blk_file_flush_submit(op);
		break;
	case PVIOD_BLK_DISCARD:
	case PVIOD_BLK_WRITE_ZEROES:
		pviod_blk_file_discard(op);
		break;
	}
}

/* Room on the ring again: the operation that found none goes on. */
static void pviod_blk_file_op_retry(struct pviod_sqe_wait *sw)
{
	struct pviod_blk_file_op *op =
		(struct pviod_blk_file_op *)((char *)sw - offsetof(struct pviod_blk_file_op, wait));

	pviod_blk_file_op_go(op);
}

static void pviod_blk_file_submit(struct pviod_blk_engine *e, struct pviod_blk_io *bio)
{
	struct pviod_blk_file *f = e->priv;
	struct pviod_blk_file_queue *fq = bio->eq;
	struct pviod_blk_file_op *op = &fq->op[bio->slot];

	op->bio = bio;
	op->f = f;
	op->wait.retry = pviod_blk_file_op_retry;
	op->pending = 0;
	op->err = 0;
	op->done = 0;
	op->next_range = 0;
	if (bio->op == PVIOD_BLK_READ || bio->op == PVIOD_BLK_WRITE)
		op->fd = f->direct && !pviod_blk_file_dio_ok(f, bio) ? f->fd_buffered : f->fd;
	pviod_blk_file_op_go(op);
}

/* On the queue's worker: drop what pviod_blk_file_register() took. */
static void pviod_blk_file_unregister(struct pviod_queue *q, void *arg)
{
	struct pviod_blk_file_queue *fq = arg;
	unsigned int i;

	if (!fq->w)
		return;
	for (i = 0; i < fq->nbufs; i++)
		pviod_worker_buf_unregister(fq->w, fq->buf[i].first);
	for (i = 0; i < 2; i++)
		pviod_worker_file_unregister(fq->w, fq->file_slot[i]);
	fq->nbufs = 0;
	fq->file_slot[0] = -1;
	fq->file_slot[1] = -1;
	fq->w = NULL;
}

struct pviod_blk_file_reg {
	struct pviod_blk_file *f;
	struct pviod_blk_file_queue *fq;
};

/*
 * On the queue's worker, the queue stopped: when asked, the image's fds as
 * fixed files and every guest memory region as fixed buffers.  Whatever
 * fails is done without.
 */
static void pviod_blk_file_register(struct pviod_queue *q, void *arg)
{
	struct pviod_blk_file_reg *r = arg;
	struct pviod_blk_file_queue *fq = r->fq;
	const struct pvring_mem *mem = q->ring.mem;
	struct pviod_blk_file *f = r->f;
	unsigned int i;
	int first;

	fq->w = q->worker;
	fq->file_slot[0] = -1;
	fq->file_slot[1] = -1;
	if (f->fixed_files)
		fq->file_slot[0] = pviod_worker_file_register(fq->w, f->fd);
	if (f->fixed_files && f->fd_buffered != f->fd)
		fq->file_slot[1] = pviod_worker_file_register(fq->w, f->fd_buffered);
	fq->buf_err = 0;
	for (i = 0; f->fixed_bufs && mem && i < mem->nregions; i++) {
		first = pviod_worker_buf_register(fq->w, mem->region[i].hva, mem->region[i].size);
		if (first < 0) {
			fq->buf_err = first;
			break;
		}
		fq->buf[fq->nbufs++] = (struct pviod_blk_file_buf){ mem->region[i].hva,
								    mem->region[i].size, first };
	}
	if (fq->buf_err) {
		while (fq->nbufs)
			pviod_worker_buf_unregister(fq->w, fq->buf[--fq->nbufs].first);
		if (!__atomic_exchange_n(&f->fixed_warned, true, __ATOMIC_RELAXED))
			pr_warn("%s: queue %u: guest memory not registered as fixed buffers (%s%s); each O_DIRECT request pins its pages",
				f->dev_name, q->index, strerror(-fq->buf_err),
				fq->buf_err == -ENOMEM ? ": RLIMIT_MEMLOCK?" : "");
	}
}

static int pviod_blk_file_queue_init(struct pviod_blk_engine *e, struct pviod_queue *q,
				     unsigned int nslots, void **eq)
{
	struct pviod_blk_file_queue *fq = *eq;
	struct pviod_blk_file_reg r = { e->priv, NULL };

	/* Kept across restarts (a queue restarts on every SET_VRING_CALL). */
	if (!fq || fq->nslots != nslots) {
		/* Registered slots belong to the old state: ->queue_stop dropped them. */
		free(fq);
		fq = calloc(1, sizeof(*fq) + nslots * sizeof(fq->op[0]));
		*eq = fq;
		if (!fq)
			return -ENOMEM;
		fq->nslots = nslots;
		fq->file_slot[0] = -1;
		fq->file_slot[1] = -1;
	}
	/* Anew each start: the memory table may have changed while it was stopped. */
	r.fq = fq;
	if (!fq->w && pviod_worker_queue_call(q, pviod_blk_file_register, &r))
		fq->w = NULL; /* its worker is gone: the queue moves, without */
	return 0;
}

static void pviod_blk_file_queue_stop(struct pviod_blk_engine *e, struct pviod_queue *q, void *eq)
{
	struct pviod_blk_file_queue *fq = eq;

	/* On the ring's worker; if it died, its ring (and its pins) stay its own. */
	if (fq && fq->w && pviod_worker_queue_call(q, pviod_blk_file_unregister, fq)) {
		fq->nbufs = 0;
		fq->w = NULL;
	}
}

static void pviod_blk_file_queue_free(struct pviod_blk_engine *e, void *eq)
{
	free(eq);
}

static void pviod_blk_file_queue_stats(struct pviod_blk_engine *e, struct pviod_queue *q, void *eq)
{
	const struct pviod_blk_file_queue *fq = eq;
	uint64_t bytes = 0;
	unsigned int i;

	if (!fq)
		return;
	for (i = 0; i < fq->nbufs; i++)
		bytes += fq->buf[i].size;
	pr_info("%s: queue %u: file engine: %llu fixed-buffer reads/writes, %llu vectored; fixed files %s, %u regions (%llu MiB) registered%s%s",
		q->dev->name, q->index, (unsigned long long)fq->rw_fixed,
		(unsigned long long)fq->rw_vec, fq->w && fq->file_slot[0] >= 0 ? "yes" : "no",
		fq->nbufs, (unsigned long long)(bytes >> 20), fq->buf_err ? ": " : "",
		fq->buf_err ? strerror(-fq->buf_err) : "");
}

static int pviod_blk_file_flush(struct pviod_blk_engine *e)
{
	struct pviod_blk_file *f = e->priv;

	if (f->readonly || fdatasync(f->fd) == 0)
		return 0;
	return -errno;
}

static void pviod_blk_file_close(struct pviod_blk_engine *e)
{
	struct pviod_blk_file *f = e->priv;

	if (!f)
		return;
	pviod_blk_lock_release(f->lock);
	if (f->fd_buffered >= 0 && f->fd_buffered != f->fd)
		close(f->fd_buffered);
	if (f->fd >= 0)
		close(f->fd);
	free(f->path);
	free(f->dev_name);
	free(f);
	e->priv = NULL;
}

/* The image's size now: a file may have grown (truncate -s), a device been resized. */
static int pviod_blk_file_size(struct pviod_blk_engine *e, uint64_t *bytes)
{
	struct pviod_blk_file *f = e->priv;
	struct stat st;

	if (f->is_blkdev)
		return ioctl(f->fd_buffered, BLKGETSIZE64, bytes) < 0 ? -errno : 0;
	if (fstat(f->fd_buffered, &st))
		return -errno;
	*bytes = (uint64_t)st.st_size;
	return 0;
}

static const struct pviod_blk_engine_ops pviod_blk_file_ops = {
	.name = "file",
	.queue_init = pviod_blk_file_queue_init,
	.queue_stop = pviod_blk_file_queue_stop,
	.queue_free = pviod_blk_file_queue_free,
	.queue_stats = pviod_blk_file_queue_stats,
	.submit = pviod_blk_file_submit,
	.size = pviod_blk_file_size,
	.flush = pviod_blk_file_flush,
	.close = pviod_blk_file_close,
};

/* --- opening -------------------------------------------------------------------- */

/* The DIO alignment of the file (6.1+ reports it), else the logical block size. */
static uint32_t pviod_blk_file_dio_align(int fd, bool is_blkdev)
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
 * Would io_uring hand every READ/WRITE on this image to an io-wq thread, for
 * data that is in memory anyway?  Then they run on the worker (top of the
 * file).  The RWF_NOWAIT probe keeps io_uring for kernels whose tmpfs
 * completes inline by itself.
 */
static bool pviod_blk_file_inline_probe(const struct pviod_blk_file *f)
{
	struct statfs sfs;
	struct iovec iov;
	void *buf;
	bool ret;

	if (f->is_blkdev || fstatfs(f->fd, &sfs) < 0)
		return false;
	if (sfs.f_type != TMPFS_MAGIC && sfs.f_type != HUGETLBFS_MAGIC)
		return false;
	/* Aligned for an O_DIRECT fd (tmpfs has O_DIRECT since Linux 6.6). */
	if (posix_memalign(&buf, 4096, 4096))
		return false;
	iov.iov_base = buf;
	iov.iov_len = 4096;
	ret = preadv2(f->fd, &iov, 1, 0, RWF_NOWAIT) < 0 && errno == EOPNOTSUPP;
	free(buf);
	return ret;
}

/**
 * pviod_blk_file_open - open a raw image file or block device as an engine
 * @e: the engine to fill in
 * @dev_name: the device's name, for messages
 * @o: the image and how to open it
 *
 * Return: 0, or -errno (reported: the file and why).
 */
int pviod_blk_file_open(struct pviod_blk_engine *e, const char *dev_name,
			const struct pviod_blk_file_opts *o)
{
	int flags = (o->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	struct pviod_blk_file *f;
	uint32_t pbs = 4096;
	uint64_t bytes;
	struct stat st;
	int ret;

	memset(e, 0, sizeof(*e));
	e->ops = &pviod_blk_file_ops;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	e->priv = f;
	f->fd = -1;
	f->fd_buffered = -1;
	f->readonly = o->readonly;
	f->direct = o->direct;
	f->path = strdup(o->path);
	f->dev_name = strdup(dev_name);
	if (!f->path || !f->dev_name) {
		ret = -ENOMEM;
		goto err_close;
	}
	f->fd_buffered = open(o->path, flags);
	if (f->fd_buffered < 0) {
		ret = -errno;
		pr_err("%s: cannot open image '%s': %s (errno %d)", dev_name, o->path,
		       strerror(-ret), -ret);
		goto err_close;
	}
	f->fd = f->fd_buffered;
	if (fstat(f->fd_buffered, &st) < 0) {
		ret = -errno;
		goto err_report;
	}
	f->is_blkdev = S_ISBLK(st.st_mode);
	if (!f->is_blkdev && !S_ISREG(st.st_mode)) {
		pr_err("%s: image '%s' is neither a regular file nor a block device", dev_name,
		       o->path);
		ret = -EINVAL;
		goto err_report;
	}
	if (o->lock) {
		ret = pviod_blk_lock_take(o->path, f->fd_buffered, !o->readonly, &f->lock);
		if (ret == -EBUSY) {
			pr_err("%s: image '%s' is in use: another process %s it (its locks say so: QEMU, qemu-storage-daemon and pviod take the same); locking=off overrides",
			       dev_name, o->path, o->readonly ? "writes" : "reads or writes");
			goto err_close;
		}
		if (ret)
			goto err_report;
	}
	if (f->direct) {
		f->fd = open(o->path, flags | O_DIRECT);
		if (f->fd < 0) {
			/* tmpfs (/dev/shm) before Linux 6.6 has no O_DIRECT. */
			pr_warn("%s: '%s' does not support O_DIRECT (%s); using the page cache",
				dev_name, o->path, strerror(errno));
			f->fd = f->fd_buffered;
			f->direct = false;
		}
	}
	if (f->is_blkdev) {
		unsigned int v;

		if (ioctl(f->fd_buffered, BLKGETSIZE64, &bytes) < 0) {
			ret = -errno;
			goto err_report;
		}
		if (ioctl(f->fd_buffered, BLKPBSZGET, &v) == 0 && v)
			pbs = v;
	} else {
		bytes = (uint64_t)st.st_size;
	}
	f->rw_inline = o->inline_rw && pviod_blk_file_inline_probe(f);
	/* Buffered I/O copies without pinning: fixed buffers pay for O_DIRECT only. */
	f->fixed_files = o->fixed;
	f->fixed_bufs = o->fixed && f->direct && !f->rw_inline;
	f->dio_align = pviod_blk_file_dio_align(f->fd, f->is_blkdev);
	if (f->dio_align < PVIO_BLK_SECTOR_SIZE || f->dio_align & (f->dio_align - 1))
		f->dio_align = PVIO_BLK_SECTOR_SIZE;

	e->size = bytes;
	e->physical_block_size = pbs;
	e->readonly = o->readonly;
	e->flush = true;
	e->discard = !o->readonly;
	pr_info("%s: '%s': %llu sectors, %s%s%s%s, DIO alignment %u", dev_name, o->path,
		(unsigned long long)(bytes >> PVIO_BLK_SECTOR_SHIFT),
		f->direct ? "O_DIRECT" : "buffered", o->readonly ? ", read-only" : "",
		f->rw_inline ? ", in-memory: reads and writes on the worker" : "",
		f->fixed_bufs ? ", guest memory as fixed buffers" : "", f->dio_align);
	return 0;

err_report:
	pr_err("%s: image '%s': %s", dev_name, o->path, strerror(-ret));
err_close:
	pviod_blk_file_close(e);
	return ret;
}
