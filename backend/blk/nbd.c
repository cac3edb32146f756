// SPDX-License-Identifier: GPL-2.0
/*
 * nbd.c - the NBD engine: a remote NBD export through libnbd's asynchronous
 * API, driven by the queues' workers (engine.h).
 *
 * Each queue has its own connection (multi-conn; queue 0 takes over the one
 * opened to probe the export), used by its worker alone.  Operations become
 * nbd_aio_* commands whose completion callbacks only record the result; the
 * worker waits for the connection's socket with a struct pviod_watch
 * (core/queue.h) in the direction libnbd asks for (nbd_aio_get_direction),
 * feeds it nbd_aio_notify_read/write, then completes what finished.  No
 * call on a worker blocks: a slow or dead server holds its own queue's
 * requests and nothing else.
 *
 * The mapping: READ -> NBD_CMD_READ, WRITE -> NBD_CMD_WRITE (a request of
 * one segment goes straight between guest memory and the socket; several
 * segments go through a bounce buffer, libnbd has no vectored I/O), FLUSH ->
 * NBD_CMD_FLUSH (offered only when the server can flush), DISCARD ->
 * NBD_CMD_TRIM (a no-op when the server cannot trim: a discard is a hint),
 * WRITE_ZEROES -> NBD_CMD_WRITE_ZEROES with NBD_CMD_FLAG_NO_HOLE unless the
 * driver allows unmapping (plain writes of zeroes when the server lacks
 * it).  Reads and writes larger than the server's maximum are split.
 *
 * A connection that drops (the server died, restarted, or closed it) is
 * re-established from the worker with a bounded retry: 100 ms apart at
 * first, doubling to 1 s, for reconnect-timeout seconds in all.  Every
 * operation that had not completed is issued again on the new connection
 * (reads, writes, trims, zeroes and flushes may all be repeated); when the
 * time runs out they fail with -EIO (IOERR for the guest), as do the
 * operations that arrive until a later attempt succeeds.  Nothing waits
 * forever.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <libnbd.h>

#include "blk/blk.h"
#include "blk/engine.h"
#include "core/worker.h"

#define PVIOD_NBD_CHUNK_MAX (32u << 20) /* bytes per command, at most */
#define PVIOD_NBD_ZERO_CHUNK (1u << 20) /* plain writes of zeroes, per command */
#define PVIOD_NBD_RETRY_MIN_NS 100000000ull
#define PVIOD_NBD_RETRY_MAX_NS 1000000000ull
#define PVIOD_NBD_CONNECT_MS 10000 /* the first connection, on the control thread */

enum pviod_nbd_state {
	PVIOD_NBD_IDLE, /* no connection: the next operation opens one */
	PVIOD_NBD_CONNECTING, /* nbd_aio_connect_uri() under way */
	PVIOD_NBD_READY, /* connected */
	PVIOD_NBD_BACKOFF, /* waiting to try again */
};

struct pviod_nbd_queue;

/* The engine's state of one operation in flight (its queue's slot). */
struct pviod_nbd_op {
	struct pviod_blk_io *bio; /* NULL: the slot is free */
	struct pviod_nbd_queue *nq;
	unsigned int pending; /* commands not yet completed */
	int err; /* the first error a command reported */
	bool lost; /* a command could not be issued: the connection went */
	bool queued; /* on nq->waiting */
	void *bounce; /* several segments: their bytes, in one buffer */
	size_t bounce_size;
	struct pviod_nbd_op *next; /* nq->waiting or nq->finished */
};

struct pviod_nbd_queue {
	struct pviod_blk_nbd *n;
	struct pviod_queue *q;
	struct nbd_handle *h;
	/*
	 * h's socket once READY, -1 before: it no longer changes then, and
	 * every libnbd call takes the handle's lock and sets its error
	 * context, several per request (callgrind: nbd_aio_get_fd() alone
	 * was ~400 instructions a request).
	 */
	int fd;
	/*
	 * Commands issued on h whose callback has not run: what
	 * nbd_aio_in_flight() says, without a call into libnbd.
	 */
	unsigned int cmds;
	enum pviod_nbd_state state;
	struct pviod_watch rd, wr, timer;
	uint64_t lost_ns; /* when the connection went; 0 while it is up */
	uint64_t retry_ns; /* the next back-off */
	bool failed_logged;
	uint64_t spurious; /* read wake-ups with nothing to read, not passed to libnbd */
	uint64_t read_wakeups; /* read wake-ups passed to libnbd */
	uint64_t replies; /* read notifications given to libnbd, in those wake-ups */
	struct pviod_nbd_op *waiting; /* operations for the next connection */
	struct pviod_nbd_op **waiting_tail;
	struct pviod_nbd_op *finished; /* commands done, not yet handed back */
	unsigned int nslots;
	struct pviod_nbd_op op[];
};

struct pviod_blk_nbd {
	char *uri;
	char *dev_name;
	bool readonly;
	bool can_flush, can_trim, can_zero;
	uint64_t size;
	uint32_t chunk; /* bytes per read/write command, at most */
	uint64_t reconnect_ns;
	struct nbd_handle *first; /* the probe's connection, for queue 0 */
	void *zeroes; /* PVIOD_NBD_ZERO_CHUNK bytes, for servers without WRITE_ZEROES */
	struct pviod_nbd_queue *queues[PVIOD_QUEUES_MAX];
};

static uint64_t pviod_nbd_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int pviod_nbd_errno(void)
{
	int e = nbd_get_errno();

	return e > 0 ? -e : -EIO;
}

/*
 * A new handle.  libnbd zeroes every read's buffer before the read by
 * default, so that a program that ignores a failed read leaks no old heap
 * contents; here that is a 4 KiB memset per 4 KiB read, half the worker's
 * instructions per request at QD32 (callgrind).  The engine needs none of
 * it: a read's buffer is guest memory (the guest's own bytes), a failed
 * read completes with IOERR, and a bounce buffer is zeroed when it grows
 * and copied to the guest only after a read that succeeded
 * (pviod_nbd_buf(), pviod_nbd_complete()).
 */
static struct nbd_handle *pviod_nbd_create(void)
{
	struct nbd_handle *h = nbd_create();

	if (h)
		nbd_set_pread_initialize(h, false);
	return h;
}

/*
 * Close the queue's handle: no socket, no command in flight (callbacks
 * libnbd still runs in nbd_close() only count down).
 */
static void pviod_nbd_drop(struct pviod_nbd_queue *nq)
{
	nbd_close(nq->h);
	nq->h = NULL;
	nq->fd = -1;
	nq->cmds = 0;
}

/* Is the connection gone for good (it must be replaced)? */
static bool pviod_nbd_gone(struct nbd_handle *h)
{
	return nbd_aio_is_dead(h) || nbd_aio_is_closed(h);
}

static void pviod_nbd_process(struct pviod_nbd_queue *nq);

/* --- commands ------------------------------------------------------------------ */

/* libnbd's completion callback: the worker, inside nbd_aio_notify_*(). */
/* cppcheck-suppress constParameter ; libnbd's callback type */
static int pviod_nbd_cmd_done(void *user_data, int *error)
{
	struct pviod_nbd_op *op = user_data;

	op->nq->cmds--;
	if (*error && !op->err)
		op->err = -*error;
	if (--op->pending == 0) {
		op->next = op->nq->finished;
		op->nq->finished = op;
	}
	return 1; /* retire the command */
}

/* One command issued (@cookie from nbd_aio_*), or why not. */
static void pviod_nbd_issued(struct pviod_nbd_op *op, int64_t cookie)
{
	if (cookie >= 0) {
		op->pending++;
		op->nq->cmds++;
		return;
	}
	if (pviod_nbd_gone(op->nq->h) || !nbd_aio_is_ready(op->nq->h))
		op->lost = true;
	else if (!op->err)
		op->err = pviod_nbd_errno();
}

static void pviod_nbd_rw(struct pviod_nbd_op *op, void *buf)
{
	struct pviod_blk_io *bio = op->bio;
	struct nbd_handle *h = op->nq->h;
	uint32_t chunk = op->nq->n->chunk;
	uint64_t done;

	for (done = 0; done < bio->len && !op->lost && !op->err; done += chunk) {
		size_t n = bio->len - done < chunk ? (size_t)(bio->len - done) : chunk;
		nbd_completion_callback cb = { .callback = pviod_nbd_cmd_done, .user_data = op };
		int64_t c;

		if (bio->op == PVIOD_BLK_READ)
			c = nbd_aio_pread(h, (char *)buf + done, n, bio->offset + done, cb, 0);
		else
			c = nbd_aio_pwrite(h, (char *)buf + done, n, bio->offset + done, cb, 0);
		pviod_nbd_issued(op, c);
	}
}

static void pviod_nbd_range(struct pviod_nbd_op *op, const struct pviod_blk_range *r)
{
	struct pviod_blk_nbd *n = op->nq->n;
	struct nbd_handle *h = op->nq->h;
	nbd_completion_callback cb = { .callback = pviod_nbd_cmd_done, .user_data = op };
	uint64_t done;

	if (op->bio->op == PVIOD_BLK_DISCARD) {
		/* A hint: a server that cannot trim keeps the data, which is allowed. */
		if (n->can_trim)
			pviod_nbd_issued(op, nbd_aio_trim(h, r->len, r->offset, cb, 0));
		return;
	}
	if (n->can_zero) {
		pviod_nbd_issued(op, nbd_aio_zero(h, r->len, r->offset, cb,
						  r->unmap ? 0 : LIBNBD_CMD_FLAG_NO_HOLE));
		return;
	}
	for (done = 0; done < r->len && !op->lost && !op->err; done += PVIOD_NBD_ZERO_CHUNK) {
		size_t len = r->len - done < PVIOD_NBD_ZERO_CHUNK ? (size_t)(r->len - done) :
								    PVIOD_NBD_ZERO_CHUNK;

		pviod_nbd_issued(op, nbd_aio_pwrite(h, n->zeroes, len, r->offset + done, cb, 0));
	}
}

/* Does the operation need its segments in one buffer?  Then it has one. */
static void *pviod_nbd_buf(struct pviod_nbd_op *op)
{
	struct pviod_blk_io *bio = op->bio;
	size_t off = 0;
	unsigned int i;

	if (bio->nseg == 1)
		return bio->seg[0].base;
	if (op->bounce_size < bio->len) {
		void *b = realloc(op->bounce, bio->len);

		if (!b)
			return NULL;
		/* What the heap gave is no business of the guest's (pviod_nbd_create()). */
		memset((char *)b + op->bounce_size, 0, bio->len - op->bounce_size);
		op->bounce = b;
		op->bounce_size = bio->len;
	}
	if (bio->op == PVIOD_BLK_WRITE) {
		for (i = 0; i < bio->nseg; i++) {
			memcpy((char *)op->bounce + off, bio->seg[i].base, bio->seg[i].len);
			off += bio->seg[i].len;
		}
	}
	return op->bounce;
}

/* Issue every command of @op on the queue's connection (READY). */
static void pviod_nbd_issue(struct pviod_nbd_op *op)
{
	struct pviod_blk_io *bio = op->bio;
	nbd_completion_callback cb = { .callback = pviod_nbd_cmd_done, .user_data = op };
	unsigned int i;
	void *buf;

	op->pending = 0;
	op->err = 0;
	op->lost = false;
	switch (bio->op) {
	case PVIOD_BLK_READ:
	case PVIOD_BLK_WRITE:
		buf = pviod_nbd_buf(op);
		if (!buf)
			op->err = -ENOMEM;
		else
			pviod_nbd_rw(op, buf);
		break;
	case PVIOD_BLK_FLUSH:
		pviod_nbd_issued(op, nbd_aio_flush(op->nq->h, cb, 0));
		break;
	case PVIOD_BLK_DISCARD:
	case PVIOD_BLK_WRITE_ZEROES:
		for (i = 0; i < bio->nrange && !op->lost && !op->err; i++)
			pviod_nbd_range(op, &bio->range[i]);
		break;
	}
	/*
	 * Nothing in flight (all issued commands done already, or none was):
	 * it is finished now; the commands already issued still hold it
	 * otherwise, and the last one's callback finishes it.
	 */
	if (!op->pending) {
		op->next = op->nq->finished;
		op->nq->finished = op;
	}
}

static void pviod_nbd_wait(struct pviod_nbd_queue *nq, struct pviod_nbd_op *op)
{
	op->queued = true;
	op->next = NULL;
	*nq->waiting_tail = op;
	nq->waiting_tail = &op->next;
}

/* Hand a finished operation back to the device. */
static void pviod_nbd_complete(struct pviod_nbd_op *op, int err)
{
	struct pviod_blk_io *bio = op->bio;
	size_t off = 0;
	unsigned int i;

	if (!err && bio->op == PVIOD_BLK_READ && bio->nseg > 1) {
		for (i = 0; i < bio->nseg; i++) {
			memcpy(bio->seg[i].base, (char *)op->bounce + off, bio->seg[i].len);
			off += bio->seg[i].len;
		}
	}
	op->bio = NULL;
	bio->done(bio, err);
}

/* --- the connection -------------------------------------------------------------- */

static void pviod_nbd_connect(struct pviod_nbd_queue *nq);

/* Fail everything waiting for a connection. */
static void pviod_nbd_fail_waiting(struct pviod_nbd_queue *nq, int err)
{
	struct pviod_nbd_op *op, *list = nq->waiting;

	nq->waiting = NULL;
	nq->waiting_tail = &nq->waiting;
	while ((op = list)) {
		list = op->next;
		op->queued = false;
		pviod_nbd_complete(op, err);
	}
}

/*
 * The connection is gone (or an attempt failed): every operation not yet
 * completed waits for the next one, which is tried after a back-off, until
 * reconnect-timeout has passed since the connection went.
 */
static void pviod_nbd_lost(struct pviod_nbd_queue *nq, const char *why)
{
	struct pviod_blk_nbd *n = nq->n;
	uint64_t now = pviod_nbd_now_ns();
	const char *err = nbd_get_error();
	unsigned int i;

	if (nq->h) {
		pviod_watch_cancel(&nq->rd);
		pviod_watch_cancel(&nq->wr);
		/* Callbacks libnbd still runs here only count down; every op is requeued below. */
		pviod_nbd_drop(nq);
	}
	nq->finished = NULL;
	for (i = 0; i < nq->nslots; i++) {
		struct pviod_nbd_op *op = &nq->op[i];

		if (op->bio && !op->queued)
			pviod_nbd_wait(nq, op);
	}
	if (!nq->lost_ns) {
		nq->lost_ns = now;
		nq->retry_ns = PVIOD_NBD_RETRY_MIN_NS;
		nq->failed_logged = false;
		pr_warn("%s: queue %u: nbd=%s: %s%s%s; reconnecting", n->dev_name, nq->q->index,
			n->uri, why, err ? ": " : "", err ? err : "");
	}
	if (!nq->waiting) {
		/* Nothing waits: the next operation connects. */
		nq->state = PVIOD_NBD_IDLE;
		nq->lost_ns = 0;
		return;
	}
	if (now - nq->lost_ns >= n->reconnect_ns) {
		if (!nq->failed_logged)
			pr_err("%s: queue %u: nbd=%s: no connection for %llu s%s%s; failing its I/O",
			       n->dev_name, nq->q->index, n->uri,
			       (unsigned long long)(n->reconnect_ns / 1000000000u), err ? ": " : "",
			       err ? err : "");
		nq->failed_logged = true;
		nq->state = PVIOD_NBD_IDLE;
		nq->lost_ns = 0;
		pviod_nbd_fail_waiting(nq, -EIO);
		return;
	}
	nq->state = PVIOD_NBD_BACKOFF;
	if (pviod_watch_timer(&nq->timer, nq->retry_ns)) {
		/* No room on the ring: try at once rather than never. */
		pviod_nbd_connect(nq);
		return;
	}
	nq->retry_ns = nq->retry_ns * 2 > PVIOD_NBD_RETRY_MAX_NS ? PVIOD_NBD_RETRY_MAX_NS :
								   nq->retry_ns * 2;
}

/* The queue a watch of it belongs to: @off is the watch's offsetof(). */
static struct pviod_nbd_queue *pviod_nbd_queue_of(struct pviod_watch *w, size_t off)
{
	return (struct pviod_nbd_queue *)((char *)w - off);
}

static void pviod_nbd_timer_fire(struct pviod_watch *w, int res)
{
	struct pviod_nbd_queue *nq = pviod_nbd_queue_of(w, offsetof(struct pviod_nbd_queue, timer));

	if (nq->state != PVIOD_NBD_BACKOFF)
		return;
	if (res == -ECANCELED) {
		/* Only a queue with nothing in flight is cancelled: nothing waits. */
		nq->state = PVIOD_NBD_IDLE;
		nq->lost_ns = 0;
		return;
	}
	pviod_nbd_connect(nq);
}

/* Create a handle and start connecting; the watches drive it on. */
static void pviod_nbd_connect(struct pviod_nbd_queue *nq)
{
	struct pviod_blk_nbd *n = nq->n;

	nq->state = PVIOD_NBD_CONNECTING;
	nq->h = pviod_nbd_create();
	if (!nq->h) {
		pviod_nbd_lost(nq, "cannot create a libnbd handle");
		return;
	}
	if (nbd_aio_connect_uri(nq->h, n->uri) < 0) {
		pviod_nbd_lost(nq, "cannot connect");
		return;
	}
	pviod_nbd_process(nq);
}

/* A new connection is up: is it the same export? */
static bool pviod_nbd_check(struct pviod_nbd_queue *nq)
{
	struct pviod_blk_nbd *n = nq->n;
	int64_t size = nbd_get_size(nq->h);

	if (size < 0 || (uint64_t)size < n->size) {
		pr_err("%s: queue %u: nbd=%s: the export is now %lld bytes, was %llu", n->dev_name,
		       nq->q->index, n->uri, (long long)size, (unsigned long long)n->size);
		return false;
	}
	if (!n->readonly && nbd_is_read_only(nq->h) == 1) {
		pr_err("%s: queue %u: nbd=%s: the export is read-only now", n->dev_name,
		       nq->q->index, n->uri);
		return false;
	}
	return true;
}

static void pviod_nbd_ready(struct pviod_nbd_queue *nq)
{
	struct pviod_nbd_op *op, *list = nq->waiting;

	if (nq->lost_ns)
		pr_info("%s: queue %u: nbd=%s: reconnected after %llu ms", nq->n->dev_name,
			nq->q->index, nq->n->uri,
			(unsigned long long)((pviod_nbd_now_ns() - nq->lost_ns) / 1000000u));
	nq->state = PVIOD_NBD_READY;
	nq->fd = nbd_aio_get_fd(nq->h);
	nq->lost_ns = 0;
	nq->waiting = NULL;
	nq->waiting_tail = &nq->waiting;
	while ((op = list)) {
		list = op->next;
		op->queued = false;
		pviod_nbd_issue(op);
	}
}

static void pviod_nbd_arm(struct pviod_nbd_queue *nq)
{
	unsigned int dir = nbd_aio_get_direction(nq->h);
	int fd = nq->fd >= 0 ? nq->fd : nbd_aio_get_fd(nq->h);

	if (fd < 0)
		return;
	if ((dir & LIBNBD_AIO_DIRECTION_READ) && !nq->rd.armed)
		pviod_watch_poll(&nq->rd, fd, POLLIN);
	if ((dir & LIBNBD_AIO_DIRECTION_WRITE) && !nq->wr.armed)
		pviod_watch_poll(&nq->wr, fd, POLLOUT);
}

/*
 * After every call into libnbd: complete what finished, follow the
 * connection's state, and wait in the direction it needs.
 */
static void pviod_nbd_process(struct pviod_nbd_queue *nq)
{
	for (;;) {
		struct pviod_nbd_op *op, *list = nq->finished;
		/* A READY connection is alive: one call into libnbd, not two. */
		bool gone = nq->h && nbd_aio_is_ready(nq->h) != 1 && pviod_nbd_gone(nq->h);

		nq->finished = NULL;
		while ((op = list)) {
			list = op->next;
			if (op->lost || (op->err && gone)) {
				/* The connection went under it: it waits for the next. */
				pviod_nbd_wait(nq, op);
				continue;
			}
			pviod_nbd_complete(op, op->err);
		}
		if (!nq->h)
			return;
		if (gone) {
			pviod_nbd_lost(nq, nq->state == PVIOD_NBD_CONNECTING ?
						   "cannot connect" :
						   "the server closed the connection");
			return;
		}
		if (nq->state == PVIOD_NBD_CONNECTING && nbd_aio_is_ready(nq->h)) {
			if (!pviod_nbd_check(nq)) {
				pviod_nbd_drop(nq);
				nq->lost_ns = nq->lost_ns ? nq->lost_ns : pviod_nbd_now_ns();
				pviod_nbd_lost(nq, "the export changed");
				return;
			}
			pviod_nbd_ready(nq);
			/* What was issued may have finished already. */
			if (nq->finished)
				continue;
		}
		break;
	}
	pviod_nbd_arm(nq);
}

/*
 * A read wake-up with no reply awaited: is the socket empty after all?
 * libnbd starts reading a new reply on every read notification it gets
 * when idle, and when that read would block it stays at the start of a
 * reply (REPLY.START, not READY) until the socket is readable; a command
 * issued meanwhile waits for READY unsent, so no reply comes to end the
 * wait, and the queue hangs.  Such wake-ups come (a poll completes with
 * the wake-up's events, and the bytes that woke it may have been read
 * since), rarely: the peek costs a system call only then.  A hang-up or
 * bytes the server sent unasked go to libnbd as usual.
 */
static bool pviod_nbd_spurious(struct pviod_nbd_queue *nq)
{
	char c;

	if (nq->cmds || nq->fd < 0 || nbd_aio_is_ready(nq->h) != 1 || nbd_aio_in_flight(nq->h) != 0)
		return false;
	if (recv(nq->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) >= 0 ||
	    (errno != EAGAIN && errno != EWOULDBLOCK))
		return false;
	nq->spurious++;
	return true;
}

/*
 * Another reply to read at once, with the last one done?  libnbd reads one
 * reply per read notification and then waits in READY; at a queue depth
 * above one the next replies are often in the socket already.  Reading
 * them now, in the same pass, completes them under one used-ring publish
 * and one signal of the driver, where a poll re-armed per reply would cost
 * an io_uring round, a signal and a wake-up of the driver each.  The peek
 * is needed: libnbd, told to read from an empty socket, would leave READY
 * and hold every new command unsent until the next reply
 * (pviod_nbd_spurious()).
 */
static bool pviod_nbd_more(struct pviod_nbd_queue *nq)
{
	char c;

	if (!nq->h || nq->state != PVIOD_NBD_READY || !nq->cmds || nbd_aio_is_ready(nq->h) != 1)
		return false;
	return recv(nq->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

static void pviod_nbd_notify(struct pviod_nbd_queue *nq, bool write, int res)
{
	unsigned int n;

	if (!nq->h)
		return;
	if (res == -ECANCELED) {
		/* The poll of a connection that went: the new one's, if any. */
		pviod_nbd_arm(nq);
		return;
	}
	if (res < 0) {
		pr_err("%s: queue %u: polling the NBD socket: %s", nq->n->dev_name, nq->q->index,
		       strerror(-res));
		return;
	}
	if (write) {
		nbd_aio_notify_write(nq->h);
		pviod_nbd_process(nq);
		return;
	}
	if (pviod_nbd_spurious(nq)) {
		pviod_nbd_process(nq);
		return;
	}
	nq->read_wakeups++;
	/* At most a ring's worth per wake-up: the worker's other queues wait meanwhile. */
	n = 0;
	do {
		nbd_aio_notify_read(nq->h);
		pviod_nbd_process(nq);
		nq->replies++;
	} while (++n < nq->nslots && pviod_nbd_more(nq));
}

static void pviod_nbd_rd_fire(struct pviod_watch *w, int res)
{
	pviod_nbd_notify(pviod_nbd_queue_of(w, offsetof(struct pviod_nbd_queue, rd)), false, res);
}

static void pviod_nbd_wr_fire(struct pviod_watch *w, int res)
{
	pviod_nbd_notify(pviod_nbd_queue_of(w, offsetof(struct pviod_nbd_queue, wr)), true, res);
}

/* --- the engine ------------------------------------------------------------------ */

static void pviod_nbd_submit(struct pviod_blk_engine *e, struct pviod_blk_io *bio)
{
	struct pviod_nbd_queue *nq = bio->eq;
	struct pviod_nbd_op *op = &nq->op[bio->slot];

	op->bio = bio;
	op->nq = nq;
	switch (nq->state) {
	case PVIOD_NBD_READY:
		pviod_nbd_issue(op);
		pviod_nbd_process(nq);
		break;
	case PVIOD_NBD_IDLE:
		pviod_nbd_wait(nq, op);
		pviod_nbd_connect(nq);
		break;
	case PVIOD_NBD_CONNECTING:
	case PVIOD_NBD_BACKOFF:
		pviod_nbd_wait(nq, op);
		break;
	}
}

static int pviod_nbd_queue_init(struct pviod_blk_engine *e, struct pviod_queue *q,
				unsigned int nslots, void **eq)
{
	struct pviod_blk_nbd *n = e->priv;
	struct pviod_nbd_queue *nq = *eq, *old = nq;
	struct nbd_handle *h = NULL;
	unsigned int i;

	/* Kept across restarts (a queue restarts on every SET_VRING_CALL), with its connection. */
	if (nq && nq->nslots == nslots)
		return 0;
	if (old) {
		/*
		 * A new ring size: the connection moves to the new state (a
		 * server such as qemu-nbd may serve one client and exit after).
		 * The queue is stopped: no watch of it is armed, nothing waits.
		 */
		if (old->h && old->state == PVIOD_NBD_READY)
			h = old->h;
		else if (old->h)
			nbd_close(old->h);
		for (i = 0; i < old->nslots; i++)
			free(old->op[i].bounce);
		free(old);
		*eq = NULL;
	}
	nq = calloc(1, sizeof(*nq) + nslots * sizeof(nq->op[0]));
	*eq = nq;
	if (!nq) {
		if (h)
			nbd_close(h);
		return -ENOMEM;
	}
	nq->n = n;
	nq->q = q;
	nq->nslots = nslots;
	nq->fd = -1;
	nq->waiting_tail = &nq->waiting;
	pviod_watch_init(&nq->rd, q, pviod_nbd_rd_fire);
	pviod_watch_init(&nq->wr, q, pviod_nbd_wr_fire);
	pviod_watch_init(&nq->timer, q, pviod_nbd_timer_fire);
	for (i = 0; i < nslots; i++)
		nq->op[i].nq = nq;
	if (!h && n->first && q->index == 0) {
		h = n->first;
		n->first = NULL;
	}
	if (h) {
		nq->h = h;
		nq->state = PVIOD_NBD_READY;
		nq->fd = nbd_aio_get_fd(h);
	}
	if (q->index < PVIOD_QUEUES_MAX)
		n->queues[q->index] = nq;
	return 0;
}

static void pviod_nbd_queue_free(struct pviod_blk_engine *e, void *eq)
{
	struct pviod_blk_nbd *n = e->priv;
	struct pviod_nbd_queue *nq = eq;
	unsigned int i;

	if (!nq)
		return;
	if (nq->q->index < PVIOD_QUEUES_MAX && n->queues[nq->q->index] == nq)
		n->queues[nq->q->index] = NULL;
	for (i = 0; i < nq->nslots; i++)
		free(nq->op[i].bounce);
	if (nq->h)
		nbd_close(nq->h);
	free(nq);
}

/* SIGUSR1, the queue's worker: where its connection stands. */
static void pviod_nbd_queue_stats(struct pviod_blk_engine *e, struct pviod_queue *q, void *eq)
{
	static const char *const state[] = { "idle", "connecting", "ready", "backoff" };
	struct pviod_nbd_queue *nq = eq;
	unsigned int dir;

	if (!nq)
		return;
	if (!nq->h) {
		pr_info("%s: queue %u: nbd: %s, no connection", nq->n->dev_name, q->index,
			state[nq->state]);
		return;
	}
	dir = nbd_aio_get_direction(nq->h);
	pr_info("%s: queue %u: nbd: %s, libnbd %s with %lld commands in flight, waiting to%s%s; watches%s%s; %llu empty read wake-ups, %llu reads in %llu wake-ups",
		nq->n->dev_name, q->index, state[nq->state],
		nbd_aio_is_ready(nq->h) == 1	  ? "ready" :
		nbd_aio_is_processing(nq->h) == 1 ? "processing" :
						    "not ready",
		(long long)nbd_aio_in_flight(nq->h), dir & LIBNBD_AIO_DIRECTION_READ ? " read" : "",
		dir & LIBNBD_AIO_DIRECTION_WRITE ? " write" : "", nq->rd.armed ? " read" : "",
		nq->wr.armed ? " write" : "", (unsigned long long)nq->spurious,
		(unsigned long long)nq->replies, (unsigned long long)nq->read_wakeups);
}

/* Control thread: run @h until command @cookie completed, @ms at most. */
static int pviod_nbd_wait_cmd(struct nbd_handle *h, int64_t cookie, int ms)
{
	uint64_t deadline = pviod_nbd_now_ns() + (uint64_t)ms * 1000000u;

	for (;;) {
		int r = nbd_aio_command_completed(h, cookie);
		struct pollfd pfd;
		unsigned int dir;
		uint64_t now;

		if (r == 1)
			return 0;
		if (r < 0)
			return pviod_nbd_errno();
		now = pviod_nbd_now_ns();
		if (now >= deadline)
			return -ETIMEDOUT;
		dir = nbd_aio_get_direction(h);
		pfd.fd = nbd_aio_get_fd(h);
		pfd.events = ((dir & LIBNBD_AIO_DIRECTION_READ) ? POLLIN : 0) |
			     ((dir & LIBNBD_AIO_DIRECTION_WRITE) ? POLLOUT : 0);
		pfd.revents = 0;
		if (pfd.fd < 0 || poll(&pfd, 1, (int)((deadline - now) / 1000000u) + 1) < 0)
			return -EIO;
		if (pfd.revents & (POLLOUT))
			nbd_aio_notify_write(h);
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR))
			nbd_aio_notify_read(h);
	}
}

static int pviod_nbd_connect_sync(struct nbd_handle *h, const char *uri, int ms);

static int pviod_nbd_flush_on(struct nbd_handle *h)
{
	int64_t c = nbd_aio_flush(h, NBD_NULL_COMPLETION, 0);

	return c < 0 ? pviod_nbd_errno() : pviod_nbd_wait_cmd(h, c, 5000);
}

/*
 * Control thread, no operation in flight: make every completed write
 * durable.  One NBD_CMD_FLUSH covers the writes of every connection when
 * the server allows multi-conn (and there is one connection without it),
 * so the first connection that takes it is enough; when none is alive (the
 * server restarted), a new one is opened for it.
 */
static int pviod_nbd_flush(struct pviod_blk_engine *e)
{
	struct pviod_blk_nbd *n = e->priv;
	struct nbd_handle *h;
	unsigned int i;
	int ret = -ENOTCONN;

	if (n->readonly || !n->can_flush)
		return 0;
	for (i = 0; i < PVIOD_QUEUES_MAX && ret; i++) {
		struct pviod_nbd_queue *nq = n->queues[i];

		if (nq && nq->h && nq->state == PVIOD_NBD_READY && nbd_aio_is_ready(nq->h))
			ret = pviod_nbd_flush_on(nq->h);
	}
	if (!ret)
		return 0;
	h = nbd_create();
	if (!h)
		return -ENOMEM;
	ret = pviod_nbd_connect_sync(h, n->uri, 5000);
	if (!ret)
		ret = pviod_nbd_flush_on(h);
	nbd_close(h);
	return ret;
}

static void pviod_nbd_close(struct pviod_blk_engine *e)
{
	struct pviod_blk_nbd *n = e->priv;

	if (!n)
		return;
	if (n->first)
		nbd_close(n->first);
	free(n->zeroes);
	free(n->uri);
	free(n->dev_name);
	free(n);
	e->priv = NULL;
}

static const struct pviod_blk_engine_ops pviod_blk_nbd_ops = {
	.name = "nbd",
	.queue_init = pviod_nbd_queue_init,
	.queue_free = pviod_nbd_queue_free,
	.queue_stats = pviod_nbd_queue_stats,
	.submit = pviod_nbd_submit,
	.flush = pviod_nbd_flush,
	.close = pviod_nbd_close,
};

/* --- opening -------------------------------------------------------------------- */

/* Control thread: connect @h to @uri within @ms. */
static int pviod_nbd_connect_sync(struct nbd_handle *h, const char *uri, int ms)
{
	uint64_t deadline = pviod_nbd_now_ns() + (uint64_t)ms * 1000000u;

	if (nbd_aio_connect_uri(h, uri) < 0)
		return pviod_nbd_errno();
	while (nbd_aio_is_connecting(h)) {
		uint64_t now = pviod_nbd_now_ns();
		unsigned int dir = nbd_aio_get_direction(h);
		struct pollfd pfd = { .fd = nbd_aio_get_fd(h) };

		if (now >= deadline)
			return -ETIMEDOUT;
		pfd.events = ((dir & LIBNBD_AIO_DIRECTION_READ) ? POLLIN : 0) |
			     ((dir & LIBNBD_AIO_DIRECTION_WRITE) ? POLLOUT : 0);
		if (pfd.fd < 0 || poll(&pfd, 1, (int)((deadline - now) / 1000000u) + 1) < 0)
			return -EIO;
		if (pfd.revents & POLLOUT)
			nbd_aio_notify_write(h);
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR))
			nbd_aio_notify_read(h);
	}
	return nbd_aio_is_ready(h) ? 0 : pviod_nbd_errno();
}

/**
 * pviod_blk_nbd_open - connect to an NBD export as an engine
 * @e: the engine to fill in
 * @dev_name: the device's name, for messages
 * @o: the export and how to use it
 *
 * Return: 0, or -errno (reported: the option, the server and what it said).
 */
int pviod_blk_nbd_open(struct pviod_blk_engine *e, const char *dev_name,
		       const struct pviod_blk_nbd_opts *o)
{
	struct pviod_blk_nbd *n;
	struct nbd_handle *h;
	int64_t size, pref, max;
	uint32_t pbs = 4096;
	int ret;

	memset(e, 0, sizeof(*e));
	e->ops = &pviod_blk_nbd_ops;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	e->priv = n;
	n->uri = strdup(o->uri);
	n->dev_name = strdup(dev_name);
	n->readonly = o->readonly;
	n->reconnect_ns = (uint64_t)o->reconnect_s * 1000000000u;
	if (!n->uri || !n->dev_name) {
		ret = -ENOMEM;
		goto err_close;
	}
	h = pviod_nbd_create();
	if (!h) {
		pr_err("%s: nbd=%s: %s", dev_name, o->uri, nbd_get_error());
		ret = -ENOMEM;
		goto err_close;
	}
	n->first = h;
	if (!nbd_supports_uri(h)) {
		pr_err("%s: nbd=%s: this libnbd was built without URI support", dev_name, o->uri);
		ret = -EINVAL;
		goto err_close;
	}
	ret = pviod_nbd_connect_sync(h, o->uri, PVIOD_NBD_CONNECT_MS);
	if (ret) {
		const char *why = nbd_get_error();

		if (ret == -ETIMEDOUT)
			why = "no answer within 10 s";
		pr_err("%s: nbd=%s: cannot connect to the server: %s", dev_name, o->uri,
		       why ? why : strerror(-ret));
		goto err_close;
	}
	size = nbd_get_size(h);
	if (size < 0) {
		pr_err("%s: nbd=%s: the server gave no size: %s", dev_name, o->uri,
		       nbd_get_error());
		ret = -EIO;
		goto err_close;
	}
	if (!o->readonly && nbd_is_read_only(h) == 1) {
		pr_err("%s: nbd=%s: the server exports it read-only: add readonly=on", dev_name,
		       o->uri);
		ret = -EROFS;
		goto err_close;
	}
	if (o->queues > 1 && !o->readonly && nbd_can_multi_conn(h) != 1) {
		pr_err("%s: nbd=%s: %u queues need one connection each, and the server does not allow multi-conn (NBD_FLAG_CAN_MULTI_CONN): use queues=1",
		       dev_name, o->uri, o->queues);
		ret = -EOPNOTSUPP;
		goto err_close;
	}
	n->size = (uint64_t)size;
	n->can_flush = nbd_can_flush(h) == 1;
	n->can_trim = nbd_can_trim(h) == 1;
	n->can_zero = nbd_can_zero(h) == 1;
	pref = nbd_get_block_size(h, LIBNBD_SIZE_PREFERRED);
	if (pref >= 512 && pref <= 65536 && !(pref & (pref - 1)))
		pbs = (uint32_t)pref;
	max = nbd_get_block_size(h, LIBNBD_SIZE_MAXIMUM);
	n->chunk = max >= 4096 && max < PVIOD_NBD_CHUNK_MAX ? (uint32_t)(max & ~4095) :
							      PVIOD_NBD_CHUNK_MAX;
	if (!n->can_zero && !o->readonly) {
		n->zeroes = calloc(1, PVIOD_NBD_ZERO_CHUNK);
		if (!n->zeroes) {
			ret = -ENOMEM;
			goto err_close;
		}
	}

	e->size = n->size;
	e->physical_block_size = pbs;
	e->readonly = o->readonly;
	e->flush = n->can_flush;
	e->discard = !o->readonly;
	pr_info("%s: nbd=%s: %llu sectors%s, %s replies, flush %s, trim %s, zero %s, multi-conn %s",
		dev_name, o->uri, (unsigned long long)(n->size >> PVIO_BLK_SECTOR_SHIFT),
		o->readonly ? ", read-only" : "",
		nbd_get_structured_replies_negotiated(h) == 1 ? "structured" : "simple",
		n->can_flush ? "yes" : "no", n->can_trim ? "yes" : "no", n->can_zero ? "yes" : "no",
		nbd_can_multi_conn(h) == 1 ? "yes" : "no");
	return 0;

err_close:
	pviod_nbd_close(e);
	return ret;
}
