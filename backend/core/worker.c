// SPDX-License-Identifier: GPL-2.0
/*
 * worker.c - the data-path threads, one io_uring each.
 *
 * A worker owns the queues handed to it: it keeps one 8-byte read of each
 * queue's kick eventfd in flight on its ring (kicks are read through
 * io_uring, never with a blocking read), runs the queue on each kick
 * (core/queue.c), completes the devices' I/O from the same ring, and after
 * each batch of completions publishes and signals every queue that put
 * something: one used-index store and at most one signal per queue and
 * batch, not per request.
 *
 * Other threads talk to a worker only through commands (start a queue, stop
 * one, run a function on a queue's thread, exit) on a mutex-protected list,
 * announced by an eventfd the worker also reads through its ring; the
 * poster waits on a condition variable until the command is done.  The
 * mutex hand-off orders everything the poster set up before the worker
 * touches it, and everything the worker did before the poster reuses it.
 *
 * Room on the ring: pviod_worker_sqe() submits when the submission queue
 * is full, which empties it unless the kernel takes nothing (out of memory,
 * or completions it cannot post).  What still finds no room waits for it
 * (pviod_worker_sqe_wait()) and is retried, in order, at the loop's next
 * turn; while anything waits the worker sleeps at most
 * PVIOD_WORKER_SQE_RETRY_NS, and reaps meanwhile, which is what frees the
 * kernel.  The command and kick reads wait like anything else: an eventfd
 * keeps its count, so a read armed late still sees every wake-up.
 *
 * Polling (--poll, ring/pvring_poll.h): once idle, the worker keeps
 * looking at its rings' avail indices and its completion queue, with no
 * system call unless it has SQEs to submit, for the worker's poll window;
 * then it sleeps in io_uring_submit_and_wait().  While it polls, its rings
 * ask the driver for no kicks (the queues leave them disabled after
 * serving: pviod_worker_polling()), so a driver that polls too exchanges
 * no eventfd signal at all; they are re-enabled, race-free (enable, full
 * barrier, re-check: pviod_worker_poll_stop()), just before the worker
 * sleeps.  The kick reads stay armed throughout, so no kick can be lost
 * across the switch.  --poll adaptive (the default) adapts the window after
 * every sleep to how long the worker was idle: it grows while events come
 * within --poll-max-us of the last work, and shrinks (to 0 by default) when
 * one comes later, so an idle worker sleeps and costs nothing; --poll on
 * pins it at --poll-max-us, --poll off at 0.  An adaptive worker whose
 * rings are empty while device requests are in flight in a storage engine
 * sleeps at once (pviod_worker_engine_wait()): it waits for the device;
 * unless a busy ring beside them has nothing in an engine, which it polls.
 * A worker whose windows keep finding nothing (PVRING_POLL_MISS_LIMIT in a
 * row) holds its window at 0 for a while, so polling that does not pay
 * costs no more kicks than --poll off: under a front-end that shares the
 * CPUs, the poll itself delays the requests it waits for.  So does a
 * worker whose windows are preempted PVRING_POLL_PREEMPT_LIMIT times in a
 * row (a gap between its reads of the clock, up to the work it finds:
 * pviod_worker_poll_gap()): on CPUs oversubscribed, polling takes the
 * time the storage server or the driver needs to make that work.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#ifdef PVIOD_HAVE_VALGRIND
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

#include "core/device.h"
#include "core/queue.h"
#include "core/worker.h"

#define PVIOD_WORKER_SQ_ENTRIES 256
#define PVIOD_WORKER_CQ_ENTRIES 4096
#define PVIOD_WORKER_REAP_BATCH 64 /* CQEs taken per look at the queue */
#define PVIOD_WORKER_SUBMIT_BATCH 8 /* SQEs pviod_worker_submit() lets queue up */
#define PVIOD_WORKER_IDLE_POLLS 64 /* empty polls between looks at the clock */
#define PVIOD_WORKER_STOP_WARN_S 10 /* a queue draining longer is reported */
#define PVIOD_WORKER_STOP_GRACE_S 5 /* the drain a pending SIGTERM still waits for */
#define PVIOD_WORKER_SQE_RETRY_NS 1000000 /* the longest sleep while something waits for room */

enum pviod_cmd_type { PVIOD_CMD_START, PVIOD_CMD_STOP, PVIOD_CMD_EXIT, PVIOD_CMD_CALL };

struct pviod_cmd {
	enum pviod_cmd_type type;
	struct pviod_queue *q;
	void (*fn)(struct pviod_queue *q, void *arg); /* PVIOD_CMD_CALL */
	void *arg;
	bool done; /* under the worker's lock */
	int ret;
	struct pviod_cmd *next;
};

static void pviod_worker_cmd_arm(struct pviod_worker *w);

/* --fault sq-full: every other call finds the submission queue full. */
static bool pviod_worker_fault_sq_full(struct pviod_worker *w)
{
	return w->fault_sq_full && (w->fault_sq_calls++ & 1);
}

/**
 * pviod_worker_sqe - an SQE on the worker's ring, submitting if it is full
 * @w: the worker (called on its thread)
 *
 * Return: the SQE, or NULL when even a submit freed none: the caller waits
 * for room with pviod_worker_sqe_wait() (or, for what may be dropped, drops
 * it), and never dereferences it.
 */
struct io_uring_sqe *pviod_worker_sqe(struct pviod_worker *w)
{
	struct io_uring_sqe *sqe;

	if (unlikely(pviod_worker_fault_sq_full(w))) {
		w->sqe_full++;
		return NULL;
	}
	sqe = io_uring_get_sqe(&w->ring);
	if (unlikely(!sqe)) {
		io_uring_submit(&w->ring);
		sqe = io_uring_get_sqe(&w->ring);
		if (!sqe)
			w->sqe_full++;
	}
	return sqe;
}

/**
 * pviod_worker_sqe_room - room for @n SQEs in a row, submitting if need be
 * @w: the worker (called on its thread)
 * @n: how many, at most the ring's size
 *
 * For a linked chain, whose SQEs must all go on the ring together: a link
 * cut by a full queue would run its second half unordered.
 *
 * Return: true when the next @n io_uring_get_sqe() on the worker's ring
 * all succeed; false when even a submit freed too few (the caller waits
 * with pviod_worker_sqe_wait(), having taken none).
 */
bool pviod_worker_sqe_room(struct pviod_worker *w, unsigned int n)
{
	if (unlikely(pviod_worker_fault_sq_full(w)))
		goto full;
	if (io_uring_sq_space_left(&w->ring) >= n)
		return true;
	io_uring_submit(&w->ring);
	if (io_uring_sq_space_left(&w->ring) >= n)
		return true;
full:
	w->sqe_full++;
	return false;
}

/**
 * pviod_worker_sqe_wait - wait for room on the worker's ring
 * @w: the worker (on its thread)
 * @sw: what waits, its ->retry set; not waiting already
 *
 * @sw->retry runs at the worker loop's next turn, after everything that
 * waited before it, and before the worker sleeps for long.
 */
void pviod_worker_sqe_wait(struct pviod_worker *w, struct pviod_sqe_wait *sw)
{
	if (sw->waiting)
		return;
	sw->waiting = true;
	sw->next = NULL;
	*w->sqe_wait_tail = sw;
	w->sqe_wait_tail = &sw->next;
}

/**
 * pviod_worker_cancel - ask for the request of @io to be cancelled
 * @w: the worker (on its thread)
 * @io: what the request completes to
 * @sw: what waits for room when there is none; its ->retry cancels again
 *
 * The cancel's own completion has no handler.
 *
 * Return: true when the cancel is on the ring, false when @sw waits.
 */
bool pviod_worker_cancel(struct pviod_worker *w, struct pviod_io *io, struct pviod_sqe_wait *sw)
{
	struct io_uring_sqe *sqe = pviod_worker_sqe(w);

	if (unlikely(!sqe)) {
		pviod_worker_sqe_wait(w, sw);
		return false;
	}
	io_uring_prep_cancel64(sqe, (uintptr_t)io, 0);
	io_uring_sqe_set_data(sqe, NULL);
	return true;
}

/*
 * Retry what waits for room, in order; the first that finds none again
 * goes back to the head of the list, and the rest stay behind it.
 */
static void pviod_worker_sqe_retry(struct pviod_worker *w)
{
	struct pviod_sqe_wait *list = w->sqe_wait, *sw;

	if (io_uring_sq_ready(&w->ring))
		io_uring_submit(&w->ring);
	w->sqe_wait = NULL;
	w->sqe_wait_tail = &w->sqe_wait;
	while ((sw = list)) {
		list = sw->next;
		sw->next = NULL;
		sw->waiting = false;
		sw->retry(sw);
		if (sw->waiting && list) {
			/* Still full: the rest keep their turn behind it. */
			*w->sqe_wait_tail = list;
			while (*w->sqe_wait_tail)
				w->sqe_wait_tail = &(*w->sqe_wait_tail)->next;
			break;
		}
	}
}

/**
 * pviod_worker_submit - submit what is queued on the worker's ring, in groups
 * @w: the worker (called on its thread)
 *
 * For requests that should not wait for the end of the batch: once
 * PVIOD_WORKER_SUBMIT_BATCH SQEs are queued they go out now, the rest with
 * the loop's next submit (before it polls again or sleeps).  One
 * io_uring_enter() per request costs a system call, a ring-fd lookup and,
 * for a block device, a plug flush each; one per batch plugs the block
 * layer until every request of it is set up, so the device starts on the
 * first only after the last.  Groups bound that wait and still share the
 * rest.
 */
void pviod_worker_submit(struct pviod_worker *w)
{
	if (io_uring_sq_ready(&w->ring) >= PVIOD_WORKER_SUBMIT_BATCH)
		io_uring_submit(&w->ring);
}

/**
 * pviod_worker_ready - run a queue again before the worker sleeps
 * @w: the worker (called on its thread)
 * @q: one of its queues, that stopped with work left
 */
void pviod_worker_ready(struct pviod_worker *w, struct pviod_queue *q)
{
	if (q->ready)
		return;
	q->ready = true;
	q->ready_next = w->ready;
	w->ready = q;
}

/**
 * pviod_worker_file_register - a fixed-file slot of the worker's ring for @fd
 * @w: the worker (on its thread)
 * @fd: an open file
 *
 * IOSQE_FIXED_FILE with the slot spares the kernel a file-table lookup and
 * reference per request.  Registering an fd registered already shares its
 * slot.
 *
 * Return: the slot, or -errno (-EOPNOTSUPP: no table; -ENOSPC: table full).
 */
int pviod_worker_file_register(struct pviod_worker *w, int fd)
{
	int i, free_slot = -1, ret;

	if (!w->files_ok)
		return -EOPNOTSUPP;
	for (i = 0; i < PVIOD_WORKER_FILES; i++) {
		if (w->file_fd[i] == fd) {
			w->file_refs[i]++;
			return i;
		}
		if (w->file_fd[i] < 0 && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0)
		return -ENOSPC;
	ret = io_uring_register_files_update(&w->ring, (unsigned int)free_slot, &fd, 1);
	if (ret < 0)
		return ret;
	w->file_fd[free_slot] = fd;
	w->file_refs[free_slot] = 1;
	return free_slot;
}

/**
 * pviod_worker_file_unregister - drop a reference to a fixed-file slot
 * @w: the worker (on its thread)
 * @slot: from pviod_worker_file_register()
 *
 * Requests in flight keep the file; the slot is free once the last user
 * dropped it.
 */
void pviod_worker_file_unregister(struct pviod_worker *w, int slot)
{
	int none = -1;

	if (slot < 0 || slot >= PVIOD_WORKER_FILES || w->file_fd[slot] < 0)
		return;
	if (--w->file_refs[slot])
		return;
	io_uring_register_files_update(&w->ring, (unsigned int)slot, &none, 1);
	w->file_fd[slot] = -1;
}

static void pviod_worker_buf_clear(struct pviod_worker *w, unsigned int first, unsigned int n);

/**
 * pviod_worker_buf_register - register memory as fixed buffers of the ring
 * @w: the worker (on its thread)
 * @base: the first byte
 * @len: bytes
 *
 * The range is cut into buffers of PVIOD_WORKER_BUF_MAX bytes (io_uring
 * takes no more per buffer), in consecutive slots: the byte at @base + o is
 * in slot first + o / PVIOD_WORKER_BUF_MAX.  Registering pins the pages
 * (against RLIMIT_MEMLOCK without CAP_IPC_LOCK) for as long as the slots
 * are registered, so READ_FIXED / WRITE_FIXED need not pin them per
 * request.  A range registered already shares its slots.
 *
 * Return: the first slot, or -errno (-EOPNOTSUPP: no table; -ENOSPC: not
 * enough consecutive free slots; -ENOMEM: the pages could not be pinned).
 */
int pviod_worker_buf_register(struct pviod_worker *w, void *base, uint64_t len)
{
	unsigned int n = (unsigned int)((len + PVIOD_WORKER_BUF_MAX - 1) / PVIOD_WORKER_BUF_MAX);
	struct iovec iov[PVIOD_WORKER_BUFS];
	__u64 tags[PVIOD_WORKER_BUFS];
	bool taken[PVIOD_WORKER_BUFS];
	unsigned int i, j, run = 0;
	int first = -1, ret;

	if (!w->bufs_ok)
		return -EOPNOTSUPP;
	if (!len || n > PVIOD_WORKER_BUFS)
		return -ENOSPC;
	for (i = 0; i < PVIOD_WORKER_BUFS; i++) {
		if (w->buf[i].base == base && w->buf[i].len == len) {
			w->buf[i].refs++;
			return (int)i;
		}
	}
	/* Free slots: neither a first slot nor inside another range. */
	memset(taken, 0, sizeof(taken));
	for (j = 0; j < PVIOD_WORKER_BUFS; j++)
		for (i = j; w->buf[j].base && i < j + w->buf[j].nslots; i++)
			taken[i] = true;
	for (i = 0; i < PVIOD_WORKER_BUFS && first < 0; i++) {
		run = taken[i] ? 0 : run + 1;
		if (run == n)
			first = (int)(i + 1 - n);
	}
	if (first < 0)
		return -ENOSPC;
	for (i = 0; i < n; i++) {
		uint64_t off = (uint64_t)i * PVIOD_WORKER_BUF_MAX;

		iov[i].iov_base = (char *)base + off;
		iov[i].iov_len = len - off < PVIOD_WORKER_BUF_MAX ? len - off :
								    PVIOD_WORKER_BUF_MAX;
		tags[i] = 0;
	}
	ret = io_uring_register_buffers_update_tag(&w->ring, (unsigned int)first, iov, tags, n);
	if (ret < 0)
		return ret;
	if ((unsigned int)ret != n) {
		/* Some went in, not all: take them out again. */
		pviod_worker_buf_clear(w, (unsigned int)first, (unsigned int)ret);
		return -ENOMEM;
	}
	w->buf[first] = (struct pviod_worker_buf){ base, len, n, 1 };
	return first;
}

/* Empty @n slots from @first: their pages are unpinned once no request uses them. */
static void pviod_worker_buf_clear(struct pviod_worker *w, unsigned int first, unsigned int n)
{
	struct iovec iov[PVIOD_WORKER_BUFS] = { { NULL, 0 } };
	__u64 tags[PVIOD_WORKER_BUFS] = { 0 };

	if (n)
		io_uring_register_buffers_update_tag(&w->ring, first, iov, tags, n);
}

/**
 * pviod_worker_buf_unregister - drop a reference to registered memory
 * @w: the worker (on its thread)
 * @first: from pviod_worker_buf_register()
 *
 * The last reference unpins it (requests in flight keep what they use).
 */
void pviod_worker_buf_unregister(struct pviod_worker *w, int first)
{
	struct pviod_worker_buf *b;

	if (first < 0 || first >= PVIOD_WORKER_BUFS || !w->buf[first].base)
		return;
	b = &w->buf[first];
	if (--b->refs)
		return;
	pviod_worker_buf_clear(w, (unsigned int)first, b->nslots);
	*b = (struct pviod_worker_buf){ 0 };
}

/* After a batch: publish and signal every queue that put something. */
static void pviod_worker_flush_dirty(struct pviod_worker *w)
{
	struct pviod_queue *q;

	while ((q = w->dirty)) {
		w->dirty = q->dirty_next;
		pviod_queue_flush(q);
	}
}

/* The queues that stopped with work left get their next turn. */
static void pviod_worker_run_ready(struct pviod_worker *w)
{
	struct pviod_queue *q, *list = w->ready;

	w->ready = NULL;
	while ((q = list)) {
		list = q->ready_next;
		q->ready = false;
		if (!q->stopping && !q->broken)
			pviod_queue_run(q);
	}
}

static void pviod_worker_cmd_finish(struct pviod_worker *w, struct pviod_cmd *c, int ret)
{
	pthread_mutex_lock(&w->lock);
	c->ret = ret;
	c->done = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

static void pviod_worker_queue_unlink(struct pviod_worker *w, struct pviod_queue *q)
{
	struct pviod_queue **pp;

	for (pp = &w->queues; *pp; pp = &(*pp)->worker_next) {
		if (*pp == q) {
			*pp = q->worker_next;
			break;
		}
	}
	q->worker_next = NULL;
}

/*
 * Finish every stop command whose queue has nothing left in flight.  Runs
 * after the dirty and ready lists were emptied, so a stopped queue is on
 * no list of the worker's any more.
 */
static void pviod_worker_reap_stops(struct pviod_worker *w)
{
	struct pviod_cmd **pp = &w->stopping, *c;

	while ((c = *pp)) {
		struct pviod_queue *q = c->q;

		if (q->inflight || q->kick_armed || q->kick_wait.waiting || q->dirty || q->ready ||
		    q->watches) {
			/* Nothing in flight: what the device still waits for is moot. */
			if (!q->inflight && q->watches)
				__pviod_queue_watches_cancel(q);
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		/*
		 * The control thread may close the call fd once the stop is done:
		 * a signal still queued for it (pviod_queue_flush()) goes out now.
		 */
		io_uring_submit(&w->ring);
		pviod_worker_queue_unlink(w, q);
		/* A last signal so the driver sees the final completions. */
		if (q->call_fd >= 0 && pvring_dev_should_notify(&q->ring))
			eventfd_write(q->call_fd, 1);
		pviod_worker_cmd_finish(w, c, 0);
	}
}

static void pviod_worker_cmd_run(struct pviod_worker *w, struct pviod_cmd *c)
{
	struct pviod_queue *q = c->q;

	switch (c->type) {
	case PVIOD_CMD_START:
		q->worker_next = w->queues;
		w->queues = q;
		pviod_queue_started(q);
		pviod_worker_cmd_finish(w, c, 0);
		break;
	case PVIOD_CMD_STOP:
		q->stopping = true;
		if (q->kick_armed)
			pviod_queue_kick_cancel(q);
		c->next = w->stopping;
		w->stopping = c;
		break;
	case PVIOD_CMD_EXIT:
		w->exit = true;
		pviod_worker_cmd_finish(w, c, 0);
		break;
	case PVIOD_CMD_CALL:
		/* Here, on the one thread that writes the queue's counters. */
		c->fn(q, c->arg);
		pviod_worker_cmd_finish(w, c, 0);
		break;
	}
}

static void pviod_worker_cmd_done(struct pviod_io *io, int res)
{
	struct pviod_worker *w =
		(struct pviod_worker *)((char *)io - offsetof(struct pviod_worker, cmd_io));
	struct pviod_cmd *list, *c, *rev = NULL;

	pthread_mutex_lock(&w->lock);
	list = w->cmds;
	w->cmds = NULL;
	pthread_mutex_unlock(&w->lock);
	/* Posted newest first: run them in the order they were posted. */
	while (list) {
		c = list;
		list = c->next;
		c->next = rev;
		rev = c;
	}
	while (rev) {
		c = rev;
		rev = c->next;
		c->next = NULL;
		pviod_worker_cmd_run(w, c);
	}
	if (!w->exit)
		pviod_worker_cmd_arm(w);
}

/*
 * Keep the read of the command eventfd in flight.  With no room it waits:
 * a command posted meanwhile leaves its count in the eventfd, which the
 * read takes as soon as it is armed.
 */
static void pviod_worker_cmd_arm(struct pviod_worker *w)
{
	struct io_uring_sqe *sqe = pviod_worker_sqe(w);

	if (unlikely(!sqe)) {
		pviod_worker_sqe_wait(w, &w->cmd_wait);
		return;
	}
	io_uring_prep_read(sqe, w->cmd_fd, &w->cmd_val, sizeof(w->cmd_val), 0);
	io_uring_sqe_set_data(sqe, &w->cmd_io);
}

static void pviod_worker_cmd_retry(struct pviod_sqe_wait *sw)
{
	struct pviod_worker *w =
		(struct pviod_worker *)((char *)sw - offsetof(struct pviod_worker, cmd_wait));

	if (!w->exit)
		pviod_worker_cmd_arm(w);
}

/*
 * Run every completion, including those that the handlers' own submissions
 * post meanwhile, until the completion queue is empty.  Return: how many
 * had a handler (those without, a call's write or a cancel, are no work).
 */
static unsigned int pviod_worker_reap(struct pviod_worker *w)
{
	struct io_uring_cqe *cqes[PVIOD_WORKER_REAP_BATCH];
	unsigned int i, got, n = 0;

	while ((got = io_uring_peek_batch_cqe(&w->ring, cqes, PVIOD_WORKER_REAP_BATCH))) {
		for (i = 0; i < got; i++) {
			struct pviod_io *io = io_uring_cqe_get_data(cqes[i]);

			if (io) {
				w->cqe_flags = cqes[i]->flags;
				io->complete(io, cqes[i]->res);
				n++;
			}
		}
		io_uring_cq_advance(&w->ring, got);
	}
	return n;
}

static uint64_t pviod_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* May the busy-polling worker look at this ring? */
static bool pviod_worker_pollable(const struct pviod_queue *q)
{
	return !q->stopping && !q->broken && !q->blocked && !q->idle;
}

/*
 * A gap between two reads of the clock while polling: one that shows the
 * worker preempted (pvring_poll_gap()) is counted on every ring it polls.
 */
static void pviod_worker_poll_gap(struct pviod_worker *w, uint64_t gap_ns)
{
	struct pviod_queue *q;

	if (likely(!pvring_poll_gap(&w->poll, gap_ns)))
		return;
	for (q = w->queues; q; q = q->worker_next)
		if (pviod_worker_pollable(q))
			q->stats.poll_preempts++;
}

/*
 * One poll: did any ring or the completion queue have work?  @last: the
 * worker's last read of the clock in this idle stretch; the first work
 * found is timed against it before it runs (pviod_worker_poll_gap()): a
 * preemption that let the other side make that work shows there.
 */
static bool pviod_worker_poll_once(struct pviod_worker *w, uint64_t last)
{
	struct pviod_queue *q;
	bool busy = false, timed = false;
	int n;

	/* Rings first, so what they add is submitted in this same pass. */
	for (q = w->queues; q; q = q->worker_next) {
		if (!pviod_worker_pollable(q))
			continue;
		n = pvring_dev_avail(&q->ring);
		if (n > 0) {
			if (!timed) {
				pviod_worker_poll_gap(w, pviod_now_ns() - last);
				timed = true;
			}
			q->stats.poll_hits++;
			pviod_queue_run(q);
			busy = true;
		} else if (n < 0) {
			pviod_queue_break(q, "the avail index jumped", n);
		}
	}
	/*
	 * Two loads when the io_uring is idle, as it mostly is for net: an
	 * empty poll stays short, and so does the time to see new chains.
	 */
	if (io_uring_sq_ready(&w->ring))
		io_uring_submit(&w->ring);
	if (io_uring_cq_ready(&w->ring)) {
		if (!timed)
			pviod_worker_poll_gap(w, pviod_now_ns() - last);
		if (pviod_worker_reap(w))
			busy = true;
	}
	if (busy)
		pvring_poll_hit(&w->poll);
	return busy;
}

/*
 * Before an idle polling worker sleeps: ask every ring for kicks again,
 * each re-checked after a full barrier (pvring_dev_enable_notify()).
 * Return: false when a ring got chains meanwhile (no kick will come for
 * them): poll on instead.  True: every ring polled this window found
 * nothing and asks for kicks; when @missed (the window ran out, rather
 * than ending for an engine: pviod_worker_engine_wait()), a miss each.
 */
static bool pviod_worker_poll_stop(struct pviod_worker *w, bool missed)
{
	struct pviod_queue *q;
	bool idle = true;

	for (q = w->queues; q; q = q->worker_next) {
		if (!pviod_worker_pollable(q))
			continue;
		if (!pvring_dev_enable_notify(&q->ring)) {
			pvring_dev_disable_notify(&q->ring);
			idle = false;
		}
	}
	if (!idle || !missed)
		return idle;
	for (q = w->queues; q; q = q->worker_next)
		if (pviod_worker_pollable(q))
			q->stats.poll_misses++;
	return true;
}

/*
 * Is all the idle worker waits for its engines' completions, so that it
 * sleeps rather than poll on?  Its rings were just found empty, while
 * device requests are in flight in an engine (pviod_queue_engine_start()):
 * for a queue with such requests the next event is most likely their
 * completion (at depth 1 always: the driver waits for it), and polling for
 * one spins through the device's whole latency: at depth 1 on a virtio
 * disk (4 KiB randread, O_DIRECT) 1.7x the CPU time per request of a
 * sleep, for no more IOPS on a shared machine, and against an NBD server
 * sharing the CPUs the spin delayed the server itself.  The sleep is an
 * ordinary one, kicks on: a chain the driver adds meanwhile wakes the
 * worker as a completion does.  The window still serves the driver: once
 * the completions are in, the worker polls for its next requests as
 * before.  --poll on polls through.
 *
 * Only when every busy ring the worker polls waits for its engine: a ring
 * beside them with nothing in an engine (a net or console queue, a disk
 * queue served inline) that ran since the worker's last-but-one wake-up
 * (pviod_queue_run(): kicked, polled, re-run) keeps the window, or it
 * would pay a kick and a wake-up for every chain while the disk works.  A
 * ring quiet for longer does not: a connected, idle net device must not
 * make its worker spin for the disk beside it.
 */
static bool pviod_worker_engine_wait(const struct pviod_worker *w)
{
	const struct pviod_queue *q;

	if (!w->engine_inflight || w->poll.mode != PVRING_POLL_ADAPTIVE)
		return false;
	for (q = w->queues; q; q = q->worker_next)
		if (pviod_worker_pollable(q) && !q->engine_inflight && w->wakes - q->busy_wake <= 1)
			return false;
	return true;
}

/*
 * The worker's io_uring failed and it leaves its loop: answer every command
 * posted or waiting for a queue to drain with -EIO, and every later one at
 * once (pviod_worker_cmd()), so no other thread ever waits on a worker that
 * is gone.
 */
static void pviod_worker_die(struct pviod_worker *w)
{
	struct pviod_cmd *c, *list;

	pthread_mutex_lock(&w->lock);
	w->dead = true;
	list = w->cmds;
	w->cmds = NULL;
	pthread_mutex_unlock(&w->lock);
	while ((c = list)) {
		list = c->next;
		pviod_worker_cmd_finish(w, c, -EIO);
	}
	while ((c = w->stopping)) {
		w->stopping = c->next;
		pviod_worker_cmd_finish(w, c, -EIO);
	}
}

/*
 * Under valgrind: submit, then sleep in poll() on the ring's fd (readable
 * while completions wait), for @ms at most (-1: no bound).  Valgrind
 * (3.19) runs one thread at a time and lets go of its lock only around the
 * system calls it knows may block; io_uring_enter() is not one of them, so
 * a worker asleep in it would hold every other thread of pviod (the
 * control thread never got to open its socket).  poll() is, and a task_work
 * completion interrupts it as it would io_uring_enter().  Never taken
 * outside valgrind: it costs a system call more per sleep.
 */
static int pviod_worker_wait_valgrind(struct pviod_worker *w, int ms)
{
	struct pollfd pfd = { .fd = w->ring.ring_fd, .events = POLLIN };
	int ret;

	ret = io_uring_submit(&w->ring);
	if (ret < 0)
		return ret;
	if (io_uring_cq_ready(&w->ring))
		return 0;
	if (poll(&pfd, 1, ms) < 0 && errno != EINTR)
		return -errno;
	/* Completions the kernel could not post in the ring (CQ overflow) come in now. */
	io_uring_get_events(&w->ring);
	return 0;
}

/* Sleep, but not past the next retry of what waits for room (-ETIME is no error). */
static int pviod_worker_wait_short(struct pviod_worker *w)
{
	struct __kernel_timespec ts = { 0, PVIOD_WORKER_SQE_RETRY_NS };
	struct io_uring_cqe *cqe;
	int ret;

	if (unlikely(w->valgrind))
		return pviod_worker_wait_valgrind(w, PVIOD_WORKER_SQE_RETRY_NS / 1000000 + 1);
	ret = io_uring_submit_and_wait_timeout(&w->ring, &cqe, 1, &ts, NULL);
	return ret == -ETIME ? 0 : ret;
}

/*
 * Did the wait end with an event: a completion with a handler (a kick, a
 * device's I/O, a command)?  Those without one are the worker's own writes
 * (a call to a driver, a cancel): submitted by the wait itself, they end
 * it at once and say nothing of how soon work comes.
 */
static bool pviod_worker_woke_for_work(struct pviod_worker *w)
{
	struct io_uring_cqe *cqes[PVIOD_WORKER_REAP_BATCH];
	unsigned int i, n;

	/* Looked at, not taken; past the first batch, the reap below tells. */
	n = io_uring_peek_batch_cqe(&w->ring, cqes, PVIOD_WORKER_REAP_BATCH);
	for (i = 0; i < n; i++)
		if (io_uring_cqe_get_data(cqes[i]))
			return true;
	return false;
}

/*
 * Submit what is queued and sleep until an event.  Without this loop the
 * call written after the last request would end the sleep it was submitted
 * with, and an adaptive window at 0 would grow on it (an idle time of a few
 * microseconds) after every request, to poll for nothing.  While something
 * waits for room on the ring, the sleep is short and ends the loop.
 */
static int pviod_worker_sleep(struct pviod_worker *w)
{
	int ret;

	for (;;) {
		w->sleeps++;
		if (unlikely(w->fault_die))
			return -EIO;
		if (unlikely(w->sqe_wait))
			return pviod_worker_wait_short(w);
		if (unlikely(w->valgrind))
			ret = pviod_worker_wait_valgrind(w, -1);
		else
			ret = io_uring_submit_and_wait(&w->ring, 1);
		if (ret < 0 || pviod_worker_woke_for_work(w))
			return ret;
		/* A handler among what it takes: its work comes first. */
		if (pviod_worker_reap(w))
			return 0;
	}
}

static void *pviod_worker_main(void *arg)
{
	struct pviod_worker *w = arg;
	uint64_t idle_since = 0, poll_last = 0, now;
	unsigned int idle_polls = 0;
	int ret;

	pviod_worker_cmd_arm(w);
	while (!w->exit) {
		bool engine_wait;

		if (unlikely(w->sqe_wait))
			pviod_worker_sqe_retry(w);
		pviod_worker_flush_dirty(w);
		pviod_worker_run_ready(w);
		pviod_worker_flush_dirty(w);
		pviod_worker_reap_stops(w);
		if (w->exit)
			break;
		if (w->ready) {
			/* Work left: a look at the completions, no sleep. */
			io_uring_submit(&w->ring);
			pviod_worker_reap(w);
			idle_since = 0;
			poll_last = 0;
			idle_polls = 0;
			continue;
		}
		if (pviod_worker_polling(w) && w->queues) {
			/* Idle counts from the first look, and so do the gaps. */
			if (!poll_last) {
				poll_last = pviod_now_ns();
				idle_since = poll_last;
			}
			if (pviod_worker_poll_once(w, poll_last)) {
				idle_since = 0;
				poll_last = 0;
				idle_polls = 0;
				continue;
			}
			/*
			 * The clock once per PVIOD_WORKER_IDLE_POLLS empty
			 * polls: a clock_gettime() per poll would make the
			 * empty poll, and so our reaction to new chains, several
			 * times slower.  A window that ends at once (after
			 * windows preempted in a row) waits for none.
			 */
			if (++idle_polls < PVIOD_WORKER_IDLE_POLLS &&
			    !pvring_poll_expired(&w->poll, 0))
				continue;
			idle_polls = 0;
			now = pviod_now_ns();
			pviod_worker_poll_gap(w, now - poll_last);
			poll_last = now;
			engine_wait = pviod_worker_engine_wait(w);
			if (!engine_wait && !pvring_poll_expired(&w->poll, now - idle_since))
				continue;
			if (!pviod_worker_poll_stop(w, !engine_wait))
				continue;
			/*
			 * Kicks are on again for every ring: the window may go
			 * to 0 (held there after windows that found nothing
			 * in a row, or one preempted), as it may only before
			 * a sleep.  A window cut short for an engine is no
			 * miss: it says nothing of the driver.
			 */
			if (!engine_wait)
				pvring_poll_missed(&w->poll);
		}
		/* Polling or not: does this sleep wait for an engine? */
		engine_wait = pviod_worker_engine_wait(w);
		w->engine_sleeps += engine_wait;
		if (!idle_since)
			idle_since = pviod_now_ns();
		ret = pviod_worker_sleep(w);
		w->wakes++;
		if (ret < 0 && ret != -EINTR && ret != -EBUSY && ret != -EAGAIN) {
			pr_err("worker %u: io_uring_submit_and_wait: %s; its queues stop being served",
			       w->id, strerror(-ret));
			pviod_worker_die(w);
			break;
		}
		/*
		 * Before the completions run: the queues they run serve under
		 * the window they will be polled with.  The time an engine
		 * took is no measure of the driver's: after a sleep for one,
		 * the window stays as it was.
		 */
		if (!engine_wait)
			pvring_poll_woke(&w->poll, pviod_now_ns() - idle_since);
		idle_since = 0;
		poll_last = 0;
		idle_polls = 0;
		pviod_worker_reap(w);
	}
	return NULL;
}

/* Is SIGTERM or SIGINT waiting for the control loop's signalfd? */
static bool pviod_worker_exit_pending(void)
{
	sigset_t set;

	if (sigpending(&set))
		return false;
	return sigismember(&set, SIGTERM) == 1 || sigismember(&set, SIGINT) == 1;
}

/*
 * Wait, lock held, for a stop command: the queue drains as fast as the
 * engine completes what it has in flight, which may take long (an NBD
 * server that is being reconnected), so there is no bound on it as such;
 * but the control thread waiting here is the one that reads SIGTERM, and
 * a request that never completes would make pviod deaf to it.  So: a
 * warning once the drain has taken PVIOD_WORKER_STOP_WARN_S, and once a
 * SIGTERM or SIGINT is pending (blocked in every thread, it stays pending
 * until the signalfd reads it), at most PVIOD_WORKER_STOP_GRACE_S more
 * before pviod exits with an error rather than hang.
 */
static void pviod_worker_stop_wait(struct pviod_worker *w, struct pviod_cmd *c)
{
	uint64_t start = pviod_now_ns(), now, signalled = 0;
	bool warned = false;
	const struct pviod_queue *q = c->q;
	struct timespec ts;

	while (!c->done) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += 1;
		/* Woken: done, or another command's; looked at again above. */
		if (pthread_cond_timedwait(&w->cond, &w->lock, &ts) != ETIMEDOUT)
			continue;
		now = pviod_now_ns();
		if (!warned && now - start >= PVIOD_WORKER_STOP_WARN_S * 1000000000ull) {
			pr_warn("%s: queue %u has not drained in %u s (worker %u): requests stuck in the engine?",
				q->dev->name, q->index, PVIOD_WORKER_STOP_WARN_S, w->id);
			warned = true;
		}
		if (!signalled && pviod_worker_exit_pending())
			signalled = now;
		if (!c->done && signalled &&
		    now - signalled >= PVIOD_WORKER_STOP_GRACE_S * 1000000000ull) {
			pr_err("%s: queue %u still has requests in flight %u s after SIGTERM (worker %u); exiting without draining it",
			       q->dev->name, q->index, PVIOD_WORKER_STOP_GRACE_S, w->id);
			_exit(EXIT_FAILURE);
		}
	}
}

/* Post a command and wait until the worker has done it. */
static int pviod_worker_cmd(struct pviod_worker *w, struct pviod_cmd *c)
{
	pthread_mutex_lock(&w->lock);
	if (w->dead) {
		pthread_mutex_unlock(&w->lock);
		return -EIO;
	}
	c->next = w->cmds;
	w->cmds = c;
	pthread_mutex_unlock(&w->lock);
	eventfd_write(w->cmd_fd, 1);
	pthread_mutex_lock(&w->lock);
	if (c->type == PVIOD_CMD_STOP)
		pviod_worker_stop_wait(w, c);
	while (!c->done)
		pthread_cond_wait(&w->cond, &w->lock);
	pthread_mutex_unlock(&w->lock);
	return c->ret;
}

/**
 * pviod_worker_queue_start - hand a set-up queue to its worker
 * @ws: the workers, for a queue whose worker died
 * @q: the queue; q->ring initialised (control thread)
 *
 * A queue whose worker died moves to a live one.
 *
 * Return: 0, or -EIO when no worker is alive.
 */
int pviod_worker_queue_start(struct pviod_workers *ws, struct pviod_queue *q)
{
	struct pviod_cmd c = { .type = PVIOD_CMD_START, .q = q };
	int ret;

	ret = pviod_worker_cmd(q->worker, &c);
	if (ret == -EIO) {
		/*
		 * Its worker is dead (pviod_worker_die()): move to one alive.
		 * Pairs with the acquire load in pviod_worker_queue_call().
		 */
		__atomic_store_n(&q->worker, pviod_worker_pick(ws), __ATOMIC_RELEASE);
		c = (struct pviod_cmd){ .type = PVIOD_CMD_START, .q = q };
		ret = pviod_worker_cmd(q->worker, &c);
	}
	return ret;
}

/**
 * pviod_worker_queue_stop - take a queue back once it has drained
 * @q: a running queue (control thread)
 *
 * Stops reading its kicks and waits until every chain it popped has been
 * put and published.
 */
void pviod_worker_queue_stop(struct pviod_queue *q)
{
	struct pviod_cmd c = { .type = PVIOD_CMD_STOP, .q = q };

	pviod_worker_cmd(q->worker, &c);
}

/**
 * pviod_worker_queue_call - run @fn on the queue's worker and wait for it
 * @q: a queue, running or not (any thread but the worker's)
 * @fn: what to run, with @q and @arg
 * @arg: for @fn
 *
 * The worker is the one thread that writes the queue's counters, so @fn
 * reads them without a lock; when the queue moved away from a dead worker,
 * the release store in pviod_worker_queue_start() orders the dead worker's
 * last stores (its pviod_worker_die()) before this load.
 *
 * Return: 0, or -EIO when the queue's worker is gone (@fn did not run).
 */
int pviod_worker_queue_call(struct pviod_queue *q, void (*fn)(struct pviod_queue *q, void *arg),
			    void *arg)
{
	struct pviod_cmd c = { .type = PVIOD_CMD_CALL, .q = q, .fn = fn, .arg = arg };

	return pviod_worker_cmd(__atomic_load_n(&q->worker, __ATOMIC_ACQUIRE), &c);
}

/**
 * pviod_worker_pick - the worker for the next queue created (round-robin,
 * skipping workers whose io_uring failed)
 * @ws: the workers
 */
struct pviod_worker *pviod_worker_pick(struct pviod_workers *ws)
{
	struct pviod_worker *w = &ws->w[0];
	unsigned int i;
	bool dead;

	/* Round robin over the workers still alive; a dead one fails the start. */
	for (i = 0; i < ws->n; i++) {
		w = &ws->w[ws->next++ % ws->n];
		pthread_mutex_lock(&w->lock);
		dead = w->dead;
		pthread_mutex_unlock(&w->lock);
		if (!dead)
			return w;
	}
	return w;
}

/**
 * pviod_cpus_parse - --cpus LIST: a CPU set per worker
 * @list: comma-separated entries, one per worker, each a CPU ("3"), a range
 *        ("2-3") or several joined by '+' ("0+2-3")
 * @sets: out: the sets, malloc()ed (the caller frees them)
 * @n: out: how many
 *
 * Return: 0, or -EINVAL (nothing reported: the caller names the option).
 */
int pviod_cpus_parse(const char *list, cpu_set_t **sets, unsigned int *n)
{
	const char *p = list;
	unsigned int count = 1, i = 0;
	unsigned long lo, hi, c;
	cpu_set_t *s;
	char *end;

	for (; *p; p++)
		count += *p == ',';
	if (!*list || count > PVIOD_WORKERS_MAX)
		return -EINVAL;
	s = calloc(count, sizeof(*s));
	if (!s)
		return -EINVAL;
	for (p = list;; p = end + 1) {
		if (*p < '0' || *p > '9')
			goto err;
		lo = strtoul(p, &end, 10);
		hi = lo;
		if (*end == '-') {
			if (end[1] < '0' || end[1] > '9')
				goto err;
			hi = strtoul(end + 1, &end, 10);
		}
		if (hi < lo || hi >= CPU_SETSIZE)
			goto err;
		for (c = lo; c <= hi; c++)
			CPU_SET(c, &s[i]);
		if (*end == '+')
			continue;
		i++;
		if (!*end)
			break;
		if (*end != ',')
			goto err;
	}
	*sets = s;
	*n = count;
	return 0;

err:
	free(s);
	return -EINVAL;
}

/* "0-1,3" for a message. */
static void pviod_cpus_format(const cpu_set_t *set, char *buf, size_t len)
{
	size_t off = 0;
	int c, start = -1;

	buf[0] = '\0';
	for (c = 0; c <= CPU_SETSIZE; c++) {
		bool in = c < CPU_SETSIZE && CPU_ISSET(c, set);

		if (in && start < 0)
			start = c;
		if (in || start < 0)
			continue;
		if (off < len)
			off += (size_t)snprintf(buf + off, len - off, "%s%d", off ? "," : "",
						start);
		if (off < len && c - 1 > start)
			off += (size_t)snprintf(buf + off, len - off, "-%d", c - 1);
		start = -1;
	}
}

static void pviod_worker_destroy(struct pviod_worker *w)
{
	io_uring_queue_exit(&w->ring);
	close(w->cmd_fd);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
}

/**
 * pviod_workers_start - create the worker threads
 * @ws: where to keep them (zeroed)
 * @cfg: how many, how they poll, and on which CPUs
 *
 * A worker with a CPU set is created on it (it never runs elsewhere); its
 * io_uring, and so the memory of its rings, is set up by that thread's
 * first touch there.  Workers are named "pviod-wN" (top -H, ps -L).
 *
 * Return: 0 or -errno (reported).
 */
int pviod_workers_start(struct pviod_workers *ws, const struct pviod_worker_config *cfg)
{
	struct io_uring_params p;
	pthread_condattr_t cattr;
	pthread_attr_t attr;
	char name[24], cpus[128];
	unsigned int i;
	int ret;

	if (!cfg->nworkers || cfg->nworkers > PVIOD_WORKERS_MAX)
		return -EINVAL;
	ws->w = calloc(cfg->nworkers, sizeof(*ws->w));
	if (!ws->w)
		return -ENOMEM;
	for (i = 0; i < cfg->nworkers; i++) {
		struct pviod_worker *w = &ws->w[i];

		w->id = i;
		pvring_poll_init(&w->poll, cfg->poll, cfg->poll_max_us * 1000u, cfg->poll_grow,
				 cfg->poll_shrink);
		w->cmd_io.complete = pviod_worker_cmd_done;
		w->cmd_wait.retry = pviod_worker_cmd_retry;
		w->sqe_wait_tail = &w->sqe_wait;
		w->fault_sq_full = cfg->fault_sq_full;
		w->valgrind = RUNNING_ON_VALGRIND;
		pthread_mutex_init(&w->lock, NULL);
		/* Timed waits (pviod_worker_stop_wait()) count on the monotonic clock. */
		pthread_condattr_init(&cattr);
		pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
		pthread_cond_init(&w->cond, &cattr);
		pthread_condattr_destroy(&cattr);
		w->cmd_fd = eventfd(0, EFD_CLOEXEC);
		if (w->cmd_fd < 0) {
			ret = -errno;
			goto err_destroy;
		}
		memset(&p, 0, sizeof(p));
		p.flags = IORING_SETUP_CQSIZE;
		p.cq_entries = PVIOD_WORKER_CQ_ENTRIES;
		ret = io_uring_queue_init_params(PVIOD_WORKER_SQ_ENTRIES, &w->ring, &p);
		if (ret) {
			close(w->cmd_fd);
			goto err_destroy;
		}
		/* Sparse tables, filled as devices register (file.c); fine without. */
		memset(w->file_fd, -1, sizeof(w->file_fd));
		w->files_ok = !io_uring_register_files_sparse(&w->ring, PVIOD_WORKER_FILES);
		w->bufs_ok = !io_uring_register_buffers_sparse(&w->ring, PVIOD_WORKER_BUFS);
		pthread_attr_init(&attr);
		if (cfg->ncpus)
			pthread_attr_setaffinity_np(&attr, sizeof(cpu_set_t),
						    &cfg->cpus[i % cfg->ncpus]);
		ret = -pthread_create(&w->thread, &attr, pviod_worker_main, w);
		pthread_attr_destroy(&attr);
		if (ret) {
			if (cfg->ncpus) {
				pviod_cpus_format(&cfg->cpus[i % cfg->ncpus], cpus, sizeof(cpus));
				pr_err("worker %u: cannot run on CPUs %s (offline, or not ours?)",
				       i, cpus);
			}
			pviod_worker_destroy(w);
			goto err_destroy;
		}
		snprintf(name, sizeof(name), "pviod-w%u", i % 100u);
		pthread_setname_np(w->thread, name);
		if (cfg->ncpus) {
			pviod_cpus_format(&cfg->cpus[i % cfg->ncpus], cpus, sizeof(cpus));
			pr_info("worker %u on CPUs %s", i, cpus);
		}
		ws->n = i + 1;
	}
	return 0;

err_destroy:
	pr_err("starting worker %u: %s", i, strerror(-ret));
	pviod_workers_stop(ws);
	return ret;
}

/**
 * pviod_workers_stop - end and join every worker (their queues are stopped)
 * @ws: the workers
 */
void pviod_workers_stop(struct pviod_workers *ws)
{
	unsigned int i;

	for (i = 0; i < ws->n; i++) {
		struct pviod_cmd c = { .type = PVIOD_CMD_EXIT };

		pviod_worker_cmd(&ws->w[i], &c);
		pthread_join(ws->w[i].thread, NULL);
		pviod_worker_destroy(&ws->w[i]);
	}
	free(ws->w);
	ws->w = NULL;
	ws->n = 0;
}
