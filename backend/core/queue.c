// SPDX-License-Identifier: GPL-2.0
/*
 * queue.c - the data path every device's queues share: kicks, the serve
 * loop with its race-free re-check, publishing used chains with in-flight
 * tracking, signalling the driver, breaking a queue, test faults.
 *
 * Runs on the queue's worker (worker.c calls in here), except
 * pviod_queue_init() and pviod_fault_parse(), which run before any worker
 * sees the queue.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>

#include "core/device.h"
#include "core/queue.h"
#include "core/worker.h"
#include "virtio_config.h"

/*
 * How often one run re-enables kicks and finds chains again before it lets
 * the worker's other queues have a turn (a driver that keeps adding just in
 * time could otherwise hold the worker).
 */
#define PVIOD_QUEUE_RECHECKS 4

static void pviod_queue_kick_arm(struct pviod_queue *q);

/**
 * pviod_fault_parse - --fault MODE[:N] (test only)
 * @f: where to put it
 * @spec: used-id, used-dup, used-len or worker-die, optionally ":N"
 *        completions first; or die-at-msg:N, N a vhost-user request number;
 *        or sq-full (the workers' submission queues, worker.c)
 *
 * Return: 0 or -EINVAL.
 */
int pviod_fault_parse(struct pviod_fault *f, const char *spec)
{
	static const char *const names[] = {
		[PVIOD_FAULT_USED_ID] = "used-id",	 [PVIOD_FAULT_USED_DUP] = "used-dup",
		[PVIOD_FAULT_USED_LEN] = "used-len",	 [PVIOD_FAULT_WORKER_DIE] = "worker-die",
		[PVIOD_FAULT_DIE_AT_MSG] = "die-at-msg", [PVIOD_FAULT_SQ_FULL] = "sq-full",
	};
	const char *colon = strchr(spec, ':');
	size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
	unsigned int i;
	char *end;

	for (i = 1; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strlen(names[i]) != n || strncmp(spec, names[i], n))
			continue;
		f->mode = i;
		f->after = 0;
		f->count = 0;
		if (colon) {
			errno = 0;
			f->after = strtoul(colon + 1, &end, 10);
			if (errno || !colon[1] || *end)
				return -EINVAL;
		}
		return 0;
	}
	return -EINVAL;
}

/*
 * Corrupt one used element once the honest completions are spent (the
 * fault is the daemon's, shared by every worker: its count is atomic).
 * Return: true when the element must be put a second time (used-dup).
 */
bool __pviod_queue_fault(struct pviod_queue *q, uint16_t *head, uint32_t *len)
{
	struct pviod_fault *f = (struct pviod_fault *)q->fault;
	unsigned long n;

	if (f->mode == PVIOD_FAULT_SQ_FULL)
		return false;
	n = __atomic_fetch_add(&f->count, 1, __ATOMIC_RELAXED);
	if (f->mode == PVIOD_FAULT_WORKER_DIE) {
		/* Once; this element itself is put honestly. */
		if (n == f->after) {
			pr_warn("%s: queue %u: --fault: failing worker %u", q->dev->name, q->index,
				q->worker->id);
			q->worker->fault_die = true;
		}
		return false;
	}
	if (n < f->after)
		return false;
	if (n == f->after)
		pr_warn("%s: queue %u: --fault: corrupting used elements from now on", q->dev->name,
			q->index);
	switch (f->mode) {
	case PVIOD_FAULT_USED_ID:
		/* The field is 32 bits wide; the ring holds size entries. */
		*head = (uint16_t)(pvring_dev_size(&q->ring) + (*head & 7));
		break;
	case PVIOD_FAULT_USED_DUP:
		/* The second copy names a head the driver no longer has in flight. */
		return true;
	case PVIOD_FAULT_USED_LEN:
		*len = UINT32_MAX;
		break;
	default:
		break;
	}
	return false;
}

static void pviod_queue_kick_done(struct pviod_io *io, int res)
{
	struct pviod_queue *q =
		(struct pviod_queue *)((char *)io - offsetof(struct pviod_queue, kick_io));

	q->kick_armed = false;
	if (q->stopping)
		return;
	if (res < 0 && res != -EINTR && res != -EAGAIN) {
		pviod_queue_break(q, "reading the kick eventfd failed", res);
		return;
	}
	/*
	 * An eventfd read gives 8 bytes or blocks: anything else is not a
	 * kick, and re-arming at once would spin.
	 */
	if (res >= 0 && res != sizeof(q->kick_val)) {
		pviod_queue_break(q, "the kick fd gave a short read", -EPROTO);
		return;
	}
	q->stats.kicks++;
	if (!q->broken) {
		pviod_queue_run(q);
		pviod_queue_kick_arm(q);
	}
}

/*
 * Keep one 8-byte read of the kick eventfd in flight on the worker's ring.
 * With no room it waits: kicks meanwhile add up in the eventfd, which the
 * read takes once armed, so none is lost.
 */
static void pviod_queue_kick_arm(struct pviod_queue *q)
{
	struct io_uring_sqe *sqe = pviod_worker_sqe(q->worker);

	if (unlikely(!sqe)) {
		pviod_worker_sqe_wait(q->worker, &q->kick_wait);
		return;
	}
	io_uring_prep_read(sqe, q->kick_fd, &q->kick_val, sizeof(q->kick_val), 0);
	io_uring_sqe_set_data(sqe, &q->kick_io);
	q->kick_armed = true;
}

/**
 * pviod_queue_kick_cancel - cancel the kick read of a stopping queue
 * @q: the queue (worker), stopping, its kick read armed
 *
 * With no room the cancel waits: the stop is not done while the read is
 * in flight (worker.c).
 */
void pviod_queue_kick_cancel(struct pviod_queue *q)
{
	pviod_worker_cancel(q->worker, &q->kick_io, &q->kick_wait);
}

/* Room again: the kick read, or the cancel a stop needs. */
static void pviod_queue_kick_retry(struct pviod_sqe_wait *sw)
{
	struct pviod_queue *q =
		(struct pviod_queue *)((char *)sw - offsetof(struct pviod_queue, kick_wait));

	if (q->stopping) {
		if (q->kick_armed)
			pviod_queue_kick_cancel(q);
	} else if (!q->kick_armed && !q->broken) {
		pviod_queue_kick_arm(q);
	}
}

/**
 * pviod_queue_init - a queue's initial state, before any worker sees it
 * @q: zeroed
 * @dev: its device
 * @index: its index on the device
 */
void pviod_queue_init(struct pviod_queue *q, struct pviod_device *dev, unsigned int index)
{
	q->dev = dev;
	q->index = index;
	q->kick_fd = -1;
	q->call_fd = -1;
	q->err_fd = -1;
	q->kick_io.complete = pviod_queue_kick_done;
	q->kick_wait.retry = pviod_queue_kick_retry;
}

/**
 * pviod_queue_setup - size a queue's own state for a ring of @size entries
 * @q: the queue, stopped (control thread)
 * @size: the ring's size, a power of two
 *
 * Every head starts not held.
 *
 * Return: 0 or -ENOMEM.
 */
int pviod_queue_setup(struct pviod_queue *q, unsigned int size)
{
	unsigned int words = (size + 63) / 64;

	if (q->held_size != size) {
		pviod_queue_fini(q);
		q->held = calloc(words, sizeof(*q->held));
		q->popped = calloc(size, sizeof(*q->popped));
		q->staged = calloc(size, sizeof(*q->staged));
		if (!q->held || !q->popped || !q->staged) {
			pviod_queue_fini(q);
			return -ENOMEM;
		}
		q->held_size = size;
	}
	memset(q->held, 0, words * sizeof(*q->held));
	q->pop_seq = 0;
	q->nstaged = 0;
	return 0;
}

/**
 * pviod_queue_fini - free what pviod_queue_setup() allocated
 * @q: the queue, stopped
 */
void pviod_queue_fini(struct pviod_queue *q)
{
	pviod_queue_log_free(q);
	pviod_queue_resubmit_free(q);
	pviod_inflight_packed_forget(q);
	free(q->held);
	free(q->popped);
	free(q->staged);
	free(q->ring_state);
	q->ring_state = NULL;
	q->ring_state_bytes = 0;
	q->held = NULL;
	q->popped = NULL;
	q->staged = NULL;
	q->held_size = 0;
}

/*
 * pviod_queue_pop() found the head it popped already held: the driver made
 * a chain available again before it saw it used (virtio 1.2 §2.7.13: the
 * device owns it until then).  Serving it again would complete it twice.
 */
int __pviod_queue_pop_twice(struct pviod_queue *q, struct pvring_chain *c)
{
	if (pviod_ratelimit_ok(&q->rl))
		pr_err("%s: queue %u: head %u made available again while in flight", q->dev->name,
		       q->index, c->head);
	c->head_valid = false;
	pviod_queue_break(q, "a chain in flight was made available again", -EINVAL);
	return -EIO;
}

/**
 * pviod_queue_started - the worker takes a queue over (worker.c)
 * @q: the queue, with its ring set up and its worker's flags copied
 *
 * Chains made available while the queue was stopped got no kick of their
 * own: they are served now.
 */
void pviod_queue_started(struct pviod_queue *q)
{
	q->stopping = false;
	q->dirty = false;
	q->ready = false;
	q->blocked = false;
	q->idle = false;
	q->notify_pending = false;
	/*
	 * None in flight after a stop (it drained); what says otherwise is a
	 * dead worker's, whose ring completes nothing again.  Busy from the
	 * start: the driver just set the ring up.
	 */
	q->engine_inflight = 0;
	q->busy_wake = q->worker->wakes;
	/*
	 * Not armed after a stop; what says otherwise is a dead worker's (the
	 * queue moved, pviod_worker_queue_start()), which runs nothing again.
	 */
	q->kick_armed = false;
	q->kick_wait.waiting = false;
	pviod_queue_kick_arm(q);
	if (!q->broken)
		pviod_queue_run(q);
}

/**
 * pviod_queue_run - serve the queue until it is empty, blocked or idle
 * @q: the queue (worker), after a kick, a busy-poll that found chains, or
 *     when what blocked it may have come back
 *
 * Kicks are off while the device serves.  When the ring was empty they are
 * asked for again and the ring looked at once more (the driver may have
 * added chains before it saw the request: no kick would come for those);
 * a polling worker (pviod_worker_polling()) leaves them off and asks only
 * before it sleeps.
 */
/*
 * Did the front-end's memory vanish under the device (core/peermem.c)?  Then
 * nothing read from it can be trusted: break the queue.
 */
static bool pviod_queue_mem_lost(struct pviod_queue *q)
{
	if (likely(!__atomic_load_n(&q->dev->mem_lost, __ATOMIC_ACQUIRE)))
		return false;
	pviod_queue_break(q, "the front-end's memory vanished under pviod (SIGBUS)", -EFAULT);
	return true;
}

void pviod_queue_run(struct pviod_queue *q)
{
	unsigned int i;

	q->stats.runs++;
	q->busy_wake = q->worker->wakes;
	q->blocked = false;
	for (i = 0; i < PVIOD_QUEUE_RECHECKS; i++) {
		enum pviod_serve r;

		if (q->stopping || q->broken || pviod_queue_mem_lost(q))
			return;
		pvring_dev_disable_notify(&q->ring);
		r = q->dev->ops->queue_serve(q);
		if (pviod_queue_mem_lost(q))
			return;
		q->idle = r == PVIOD_SERVE_IDLE;
		switch (r) {
		case PVIOD_SERVE_IDLE:
			return;
		case PVIOD_SERVE_BLOCKED:
			q->blocked = true;
			return;
		case PVIOD_SERVE_MORE:
			pviod_worker_ready(q->worker, q);
			return;
		case PVIOD_SERVE_EMPTY:
			break;
		}
		if (pviod_worker_polling(q->worker) || q->broken)
			return;
		if (pvring_dev_enable_notify(&q->ring))
			return;
		if (pvring_dev_broken(&q->ring)) {
			pviod_queue_break(q, "the avail index jumped", -EIO);
			return;
		}
	}
	/* Chains keep arriving just as kicks are asked for: others first. */
	pviod_worker_ready(q->worker, q);
}

/**
 * pviod_queue_break - the driver broke the ring: stop serving this queue
 * @q: the queue (worker thread)
 * @why: what was wrong, for the log
 * @err: the ring's errno
 *
 * Requests already in flight still complete.  The front-end learns of it
 * through the queue's error eventfd and DEVICE_NEEDS_RESET in the device
 * status; every other queue and device goes on.
 */
void pviod_queue_break(struct pviod_queue *q, const char *why, int err)
{
	struct pviod_device *dev = q->dev;

	if (q->broken)
		return;
	q->broken = true;
	if (pviod_ratelimit_ok(&q->rl))
		pr_err("%s: queue %u: %s (%s): queue stopped until the driver resets it", dev->name,
		       q->index, why, strerror(-err));
	/*
	 * The state first, then the notification: a front-end that answers
	 * the error eventfd with GET_STATUS must see DEVICE_NEEDS_RESET.
	 * Pairs with the acquire load of the transport's status read.
	 */
	__atomic_store_n(&dev->needs_reset, 1, __ATOMIC_RELEASE);
	if (q->err_fd >= 0)
		eventfd_write(q->err_fd, 1);
}

/*
 * Publish what was put (the spec's steps 2-4 of "supplying used buffers"
 * with a split region: the used index, then the batch's heads no longer in
 * flight, then the region's used_idx; a packed region's steps go around
 * the ring's publish, core/inflight.c).
 */
static void __pviod_queue_publish(struct pviod_queue *q)
{
	struct vhost_user_inflight_region *r = q->ifl;
	unsigned int n = pvring_dev_staged(&q->ring), size, i;
	uint16_t head;

	if (!n)
		return;
	/* The chains' pages before the used index: the driver may read them from then on. */
	if (unlikely(q->log))
		__pviod_queue_log_staged(q);
	if (q->iflp.r)
		__pviod_inflight_publish_packed(q);
	pvring_dev_publish(&q->ring);
	if (q->iflp.r)
		__pviod_inflight_published_packed(q);
	/* The ring's pages after it, so that the index store is among what they stand for. */
	if (unlikely(q->log))
		pviod_queue_log_ring(q);
	q->notify_pending = true;
	/* The driver may reuse these heads from now on. */
	for (i = 0; i < q->nstaged; i++)
		q->held[q->staged[i] / 64] &= ~(1ULL << (q->staged[i] % 64));
	q->nstaged = 0;
	if (!r)
		return;
	pviod_inflight_barrier();
	/* The front-end can write the region: every link is bounded. */
	size = pvring_dev_size(&q->ring);
	head = r->last_batch_head;
	for (i = 0; i < n && head < size; i++) {
		r->desc[head].inflight = 0;
		head = r->desc[head].next;
	}
	pviod_inflight_barrier();
	r->used_idx = pvring_dev_used_index(&q->ring);
}

/**
 * pviod_queue_publish - make what was put visible to the driver now
 * @q: the queue (worker)
 *
 * The driver is signalled, if it wants it, once the worker's current
 * batch is done.
 */
void pviod_queue_publish(struct pviod_queue *q)
{
	__pviod_queue_publish(q);
	if (q->notify_pending && !q->dirty)
		__pviod_queue_dirty(q);
}

/* Signal the call eventfd through the worker's ring (see pviod_queue_flush()). */
static void pviod_queue_call(struct pviod_queue *q)
{
	static const uint64_t one = 1;
	struct io_uring_sqe *sqe = pviod_worker_sqe(q->worker);

	q->stats.calls++;
	if (unlikely(!sqe)) {
		eventfd_write(q->call_fd, 1);
		return;
	}
	io_uring_prep_write(sqe, q->call_fd, &one, sizeof(one), 0);
	io_uring_sqe_set_data(sqe, NULL);
}

/**
 * pviod_queue_notify - publish what was put and signal the driver now
 * @q: the queue (worker)
 *
 * For a device that hands the driver a batch in the middle of a long run
 * (a receive queue filled from a busy source) and wants it seen at once.
 */
void pviod_queue_notify(struct pviod_queue *q)
{
	__pviod_queue_publish(q);
	if (!q->notify_pending)
		return;
	q->notify_pending = false;
	if (q->call_fd >= 0 && pvring_dev_should_notify(&q->ring)) {
		q->stats.calls++;
		eventfd_write(q->call_fd, 1);
	}
}

/* Put @q on its worker's list of queues to flush after this batch. */
void __pviod_queue_dirty(struct pviod_queue *q)
{
	struct pviod_worker *w = q->worker;

	q->dirty = true;
	q->dirty_next = w->dirty;
	w->dirty = q;
}

/**
 * pviod_queue_flush - the end of a worker's batch, for a queue on its list
 * @q: the queue (worker.c, just taken off the dirty list)
 *
 * Publishes what was put, lets a blocked queue go on (a completion may
 * have freed what it waited for), and signals the driver once for all of
 * it, through the worker's ring: the write goes out with the io_uring_enter()
 * the worker makes next anyway (to submit, or to sleep), one system call
 * less than eventfd_write(); the used index was stored before, and that
 * system call orders it before the signal.
 */
void pviod_queue_flush(struct pviod_queue *q)
{
	q->dirty = false;
	__pviod_queue_publish(q);
	if (q->blocked && !q->stopping && !q->broken)
		pviod_queue_run(q);
	if (!q->notify_pending)
		return;
	q->notify_pending = false;
	if (q->call_fd >= 0 && pvring_dev_should_notify(&q->ring))
		pviod_queue_call(q);
}

/**
 * pviod_queue_resubmit_free - forget the chains left to serve again
 * @q: the queue (stopped, or its worker)
 */
void pviod_queue_resubmit_free(struct pviod_queue *q)
{
	free(q->resubmit);
	free(q->iflp.saved);
	q->iflp.saved = NULL;
	q->iflp.saved_pos = 0;
	q->resubmit = NULL;
	q->resubmit_num = 0;
	q->resubmit_pos = 0;
}

/*
 * pviod_queue_pop() for a chain a dead pviod left in flight: walked again
 * from the descriptor table (the driver cannot have reused it: it never
 * saw it completed) or, packed, from the region's copy of its descriptors,
 * still marked in flight with its old counter.
 */
int __pviod_queue_pop_resubmit(struct pviod_queue *q, struct pvring_chain *c,
			       struct pvring_seg *seg, unsigned int max_seg)
{
	const struct pvring_desc_packed *saved = NULL;
	unsigned int nsaved = 0;
	int ret;

	c->head = q->resubmit[q->resubmit_pos++];
	if (q->iflp.saved)
		saved = __pviod_inflight_saved_packed(q, c->head, &nsaved);
	ret = pvring_dev_walk_head(&q->ring, c, seg, max_seg, saved, nsaved);
	if (c->head_valid) {
		q->held[c->head / 64] |= 1ULL << (c->head % 64);
		q->popped[q->pop_seq++ & (q->held_size - 1)] = c->head | PVIOD_POPPED_RESUBMIT;
		q->inflight++;
		if (q->log)
			__pviod_queue_log_pop(q, c, ret >= 0 ? seg : NULL);
	}
	return ret < 0 ? ret : 1;
}

/*
 * pviod_queue_unpop() for a chain __pviod_queue_pop_resubmit() gave: the
 * list takes it back (the last taken first), and a packed region's copy of
 * its descriptors is where the next resubmission reads it again.
 */
void __pviod_queue_unpop_resubmit(struct pviod_queue *q, uint16_t head)
{
	unsigned int nsaved;

	q->resubmit_pos--;
	if (q->iflp.saved) {
		nsaved = head < q->iflp.num ? q->iflp.ndesc[head] : 0;
		q->iflp.saved_pos -= nsaved;
	}
}

/* --- watches: what a device or engine waits for on the queue's worker -------- */

static void pviod_watch_done(struct pviod_io *io, int res)
{
	struct pviod_watch *w = (struct pviod_watch *)io, **pp;

	if (w->multishot && (w->q->worker->cqe_flags & IORING_CQE_F_MORE)) {
		/* Still armed; an event that beat the cancel is not wanted any more. */
		if (!w->cancelled)
			w->fire(w, res);
		return;
	}
	for (pp = &w->q->watches; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
	w->armed = false;
	w->cancelled = false;
	w->cancel_queued = false;
	w->multishot = false;
	/* A timer that ran its course completes with -ETIME. */
	if (res == -ETIME)
		res = 0;
	w->fire(w, res);
}

/* The watch's own SQE; false when there is no room (it waits for some). */
static bool pviod_watch_submit(struct pviod_watch *w)
{
	struct io_uring_sqe *sqe = pviod_worker_sqe(w->q->worker);

	if (unlikely(!sqe)) {
		w->queued = true;
		pviod_worker_sqe_wait(w->q->worker, &w->wait);
		return false;
	}
	w->queued = false;
	if (w->timer)
		io_uring_prep_timeout(sqe, &w->ts, 0, 0);
	else if (w->multishot)
		io_uring_prep_poll_multishot(sqe, w->fd, w->events);
	else
		io_uring_prep_poll_add(sqe, w->fd, w->events);
	io_uring_sqe_set_data(sqe, &w->io);
	return true;
}

/* The cancel's SQE; with no room it waits for some. */
static void pviod_watch_cancel_submit(struct pviod_watch *w)
{
	w->cancel_queued = !pviod_worker_cancel(w->q->worker, &w->io, &w->wait);
}

/*
 * Room again: a watch not on the ring yet goes there (or fires cancelled,
 * never having been), a cancel waiting goes out.
 */
static void pviod_watch_retry(struct pviod_sqe_wait *sw)
{
	struct pviod_watch *w =
		(struct pviod_watch *)((char *)sw - offsetof(struct pviod_watch, wait));

	if (w->queued) {
		if (!w->cancelled) {
			pviod_watch_submit(w);
			return;
		}
		w->queued = false;
		pviod_watch_done(&w->io, -ECANCELED);
	} else if (w->cancel_queued && w->armed) {
		pviod_watch_cancel_submit(w);
	}
}

/**
 * pviod_watch_init - a watch of a queue, not armed
 * @w: the watch
 * @q: its queue
 * @fire: what runs when it fires (struct pviod_watch)
 */
void pviod_watch_init(struct pviod_watch *w, struct pviod_queue *q,
		      void (*fire)(struct pviod_watch *w, int res))
{
	memset(w, 0, sizeof(*w));
	w->io.complete = pviod_watch_done;
	w->wait.retry = pviod_watch_retry;
	w->q = q;
	w->fire = fire;
}

/*
 * Arm the watch as set up: on the ring now, or as soon as it has room
 * (armed either way: it fires once).
 */
static int pviod_watch_arm(struct pviod_watch *w)
{
	struct pviod_queue *q = w->q;

	if (q->stopping && !q->inflight)
		return -ESHUTDOWN;
	w->armed = true;
	w->cancelled = false;
	w->next = q->watches;
	q->watches = w;
	pviod_watch_submit(w);
	return 0;
}

static int __pviod_watch_poll(struct pviod_watch *w, int fd, unsigned int events, bool multishot)
{
	if (w->armed)
		return -EBUSY;
	w->timer = false;
	w->fd = fd;
	w->events = events;
	w->multishot = multishot;
	return pviod_watch_arm(w);
}

/**
 * pviod_watch_poll - fire once @fd has one of @events (POLLIN, POLLOUT)
 * @w: the watch, not armed (its queue's worker)
 * @fd: the descriptor
 * @events: poll(2) events
 *
 * A full ring delays the poll, never loses it.
 *
 * Return: 0; -EBUSY when it is armed already; -ESHUTDOWN when the queue is
 * stopping with nothing in flight.
 */
int pviod_watch_poll(struct pviod_watch *w, int fd, unsigned int events)
{
	return __pviod_watch_poll(w, fd, events, false);
}

/**
 * pviod_watch_poll_multi - fire whenever @fd is woken with one of @events
 * @w: the watch, not armed (its queue's worker)
 * @fd: the descriptor
 * @events: poll(2) events
 *
 * For a descriptor waited on for every request (a socket's replies, a
 * completion eventfd): one io_uring poll serves them all, where a one-shot
 * watch costs a submission per request.  It fires on wake-ups, not on a
 * level: @fire must take everything that is ready (read the socket until it
 * would block, take the whole completion list), and one wake-up may come
 * after what it announced was taken already.
 *
 * Return: pviod_watch_poll()'s.
 */
int pviod_watch_poll_multi(struct pviod_watch *w, int fd, unsigned int events)
{
	return __pviod_watch_poll(w, fd, events, true);
}

/**
 * pviod_watch_timer - fire once, @ns nanoseconds from now
 * @w: the watch, not armed (its queue's worker)
 * @ns: the delay
 *
 * Return: pviod_watch_poll()'s.
 */
int pviod_watch_timer(struct pviod_watch *w, uint64_t ns)
{
	if (w->armed)
		return -EBUSY;
	w->timer = true;
	w->ts.tv_sec = (long long)(ns / 1000000000u);
	w->ts.tv_nsec = (long long)(ns % 1000000000u);
	return pviod_watch_arm(w);
}

/**
 * pviod_watch_cancel - ask for an armed watch to fire with -ECANCELED
 * @w: the watch (its queue's worker); nothing happens when it is not armed
 *
 * It may still fire with its event if that came first.  One still waiting
 * for room on the ring fires cancelled at the worker's next turn.
 */
void pviod_watch_cancel(struct pviod_watch *w)
{
	if (!w->armed || w->cancelled)
		return;
	w->cancelled = true;
	if (!w->queued)
		pviod_watch_cancel_submit(w);
}

/* The queue stops with nothing in flight: every watch left is cancelled (worker.c). */
void __pviod_queue_watches_cancel(struct pviod_queue *q)
{
	struct pviod_watch *w;

	for (w = q->watches; w; w = w->next)
		pviod_watch_cancel(w);
}
