/* SPDX-License-Identifier: GPL-2.0 */
/*
 * queue.h - one virtqueue of a pviod device: the data path every device type
 * shares (queue.c).
 *
 * A device type serves its queues through the calls below and nothing else:
 * it never touches the ring's notification state, never signals the driver
 * itself and never re-codes the "disable kicks, drain, enable, re-check"
 * loop.  That loop is pviod_queue_run()'s.  The queue's worker runs it on
 * every kick, on every busy-poll that finds chains and when a blocked queue
 * may go on; it calls the device's ->queue_serve, which pops with
 * pviod_queue_pop(), gives chains back with pviod_queue_complete() (or
 * pviod_queue_put() then pviod_queue_publish() for a burst), and says why it
 * stopped (enum pviod_serve).  The driver is signalled once per batch of the
 * worker, when it asked for it.
 *
 * In-flight tracking (VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD): while the queue
 * has a region (q->ifl, split; q->iflp.r, packed: core/inflight.c), every
 * pop and every publish updates it in the order the spec's steps give, so
 * that whatever instruction pviod dies at, the region says exactly which
 * chains to serve again (vhost-user/inflight.c reads it back).
 *
 * Threads: everything below runs on q->worker while the queue runs; the
 * transport (vhost-user/) sets up the fds and the ring while it is stopped,
 * and pviod_worker_queue_start() / _stop() hand it over.
 */
#ifndef PVIOD_CORE_QUEUE_H
#define PVIOD_CORE_QUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/time_types.h>

#include "pvring_dev.h"
#include "vhost_user_inflight.h"
#include "core/dirty.h"
#include "core/event.h"
#include "core/inflight.h"
#include "core/log.h"
#include "core/worker.h"

struct pviod_device;
struct pviod_worker;

/*
 * In q->popped: the chain came from the resubmit list, not the ring (heads
 * are below the largest ring size, 32768, so bit 15 is free).
 */
#define PVIOD_POPPED_RESUBMIT 0x8000u
#define PVIOD_POPPED_HEAD 0x7fffu

/* Why ->queue_serve returned. */
enum pviod_serve {
	/* The ring is empty: ask the driver for kicks (unless the worker polls). */
	PVIOD_SERVE_EMPTY,
	/* The budget ran out with chains left: the worker comes back soon. */
	PVIOD_SERVE_MORE,
	/*
	 * Out of something of the device's own (request slots, room in a
	 * buffer): the queue runs again on its next kick, or on the next
	 * pviod_queue_complete() of the queue.
	 */
	PVIOD_SERVE_BLOCKED,
	/*
	 * Nothing to do until an event of the device's (a frame, console
	 * input): neither kicks nor busy-polls of this ring are needed.
	 */
	PVIOD_SERVE_IDLE,
};

/*
 * Test-only fault injection (pviod --fault): after @after completions
 * every used element is corrupted, so that tests can watch a driver cope
 * with a lying device.
 */
enum pviod_fault_mode {
	PVIOD_FAULT_NONE,
	PVIOD_FAULT_USED_ID, /* an id past the ring size */
	PVIOD_FAULT_USED_DUP, /* each element put twice: then not in flight */
	PVIOD_FAULT_USED_LEN, /* len 0xffffffff */
	PVIOD_FAULT_WORKER_DIE, /* once: the queue's worker acts as if its io_uring failed */
	PVIOD_FAULT_DIE_AT_MSG, /* SIGKILL ourselves on receiving vhost-user request N */
	PVIOD_FAULT_SQ_FULL, /* every other SQE taken finds no room (struct pviod_worker) */
};

struct pviod_fault {
	enum pviod_fault_mode mode;
	unsigned long after; /* completions served honestly first; die-at-msg: the request */
	unsigned long count; /* completions so far (atomic: every worker adds) */
};

int pviod_fault_parse(struct pviod_fault *f, const char *spec);

/* What the core counts for every queue (the worker's; read on its thread). */
/**
 * struct pviod_watch - an event a device or engine waits for on a queue's
 * worker: a descriptor becoming readable or writable, or a timer
 * @io: the worker's completion (core's)
 * @q: the queue it belongs to
 * @fire: run on the worker with the poll's revents, 0 for a timer that
 *        expired, or -errno (-ECANCELED: cancelled); the watch is disarmed
 *        by then and may be armed again from @fire
 * @ts: the timer's interval (core's)
 * @wait: its SQE, or its cancel's, waits for room on the ring (core's)
 * @fd: what a poll watches (core's)
 * @events: for which events
 * @timer: a timer, not a poll
 * @armed: in flight on the worker's ring, or waiting to be
 * @queued: armed, its SQE waiting for room (not on the ring yet)
 * @cancelled: a cancel was asked for
 * @cancel_queued: the cancel's SQE waits for room
 * @multishot: armed by pviod_watch_poll_multi()
 * @next: the queue's armed watches
 *
 * One-shot: armed with pviod_watch_poll() or pviod_watch_timer(), it fires
 * once.  Armed with pviod_watch_poll_multi(), it fires on every wake-up of
 * the descriptor and stays armed (@armed still true in @fire), with no
 * system call to re-arm it, until it is cancelled or the kernel ends it
 * (then it fires disarmed, like a one-shot watch).  The queue does not
 * finish stopping while a watch is armed: once its last request completed,
 * the core cancels the watches that are left and waits for their
 * completions, so the memory of a watch may be freed once the queue is
 * stopped.  While the queue stops with nothing in flight, arming fails.
 */
struct pviod_watch {
	struct pviod_io io;
	struct pviod_queue *q;
	void (*fire)(struct pviod_watch *w, int res);
	struct __kernel_timespec ts;
	struct pviod_sqe_wait wait;
	int fd;
	unsigned int events;
	bool timer;
	bool armed;
	bool queued;
	bool cancelled;
	bool cancel_queued;
	bool multishot;
	struct pviod_watch *next;
};

void pviod_watch_init(struct pviod_watch *w, struct pviod_queue *q,
		      void (*fire)(struct pviod_watch *w, int res));
int pviod_watch_poll(struct pviod_watch *w, int fd, unsigned int events);
int pviod_watch_poll_multi(struct pviod_watch *w, int fd, unsigned int events);
int pviod_watch_timer(struct pviod_watch *w, uint64_t ns);
void pviod_watch_cancel(struct pviod_watch *w);
void __pviod_queue_watches_cancel(struct pviod_queue *q);

struct pviod_queue_stats {
	uint64_t kicks; /* kick eventfd reads */
	uint64_t calls; /* used-buffer notifications sent */
	uint64_t poll_hits; /* polls of the ring that found chains (no kick needed) */
	uint64_t poll_misses; /* poll windows that ended with nothing: kicks asked for, slept */
	uint64_t poll_preempts; /* preemptions of the worker seen while it polled */
	uint64_t runs; /* pviod_queue_run() calls */
};

struct pviod_queue {
	struct pviod_device *dev;
	unsigned int index;
	/*
	 * Fixed at creation; moved (release store) only when its worker died,
	 * by the control thread in pviod_worker_queue_start().
	 */
	struct pviod_worker *worker;

	/* Set up by the transport while stopped; read by the worker while running. */
	int kick_fd; /* -1: none (the queue cannot run) */
	int call_fd; /* -1: never notify */
	int err_fd; /* -1: none */
	struct pvring_dev ring;
	void *ring_state; /* the ring's private state (packed), ring_state_bytes */
	size_t ring_state_bytes;
	const struct pviod_fault *fault; /* NULL unless --fault is on */
	bool running; /* handed to the worker (control thread's view) */

	/* The worker's while running. */
	struct pviod_io kick_io; /* the read on kick_fd */
	uint64_t kick_val; /* its buffer */
	bool kick_armed; /* kick_io is in flight */
	/* The kick read, or its cancel when stopping, waits for room on the ring. */
	struct pviod_sqe_wait kick_wait;
	bool stopping; /* draining for pviod_worker_queue_stop() */
	bool broken; /* the ring or a request broke the protocol */
	bool blocked; /* ->queue_serve said PVIOD_SERVE_BLOCKED */
	bool idle; /* ->queue_serve said PVIOD_SERVE_IDLE: not polled */
	bool notify_pending; /* published since the last signal */
	bool dirty; /* on the worker's dirty list */
	bool ready; /* on the worker's ready list */
	unsigned int inflight; /* chains popped and not yet put */
	/* Of those, device requests in a storage engine (pviod_queue_engine_start()). */
	unsigned int engine_inflight;
	/*
	 * The worker's wake-up (w->wakes) at the queue's last run: a kick, a
	 * poll hit, work left over, room back (pviod_worker_engine_wait()).
	 */
	uint64_t busy_wake;
	struct pviod_watch *watches; /* armed watches (struct pviod_watch) */
	struct pviod_queue *worker_next; /* the worker's running queues */
	struct pviod_queue *dirty_next; /* to publish and signal after the batch */
	struct pviod_queue *ready_next; /* to run again before the worker sleeps */
	struct pviod_ratelimit rl;
	struct pviod_queue_stats stats;
	void *priv; /* the device's per-queue state */

	/*
	 * In-flight tracking: set up by the transport while the queue is
	 * stopped (vhost-user/inflight.c), then the worker's.
	 */
	struct vhost_user_inflight_region *ifl; /* split; NULL: untracked */
	struct pviod_inflight_packed iflp; /* packed */
	uint64_t ifl_counter; /* the next pop's counter */
	/*
	 * Heads (packed: buffer ids) to serve again first, by counter; kept
	 * until the queue stops, since pviod_queue_unpop() may give some back.
	 */
	uint16_t *resubmit;
	unsigned int resubmit_num;
	unsigned int resubmit_pos; /* next one to pop */

	/*
	 * The heads the driver may not make available again yet: popped and
	 * not yet published as used (a bit each).  The driver reuses a head
	 * only after it saw it used, so one popped while its bit is set breaks
	 * the queue instead of completing twice.  @popped keeps the heads in
	 * pop order for pviod_queue_unpop(), each with PVIOD_POPPED_RESUBMIT
	 * when it came from @resubmit rather than the ring; @staged the heads
	 * put and not yet published.  Sized by pviod_queue_setup() for the
	 * ring, the worker's.
	 */
	uint64_t *held;
	uint16_t *popped; /* held_size entries, by @pop_seq */
	uint16_t *staged;
	unsigned int held_size; /* entries of @popped and @staged; a power of two */
	unsigned int pop_seq;
	unsigned int nstaged;

	/*
	 * Dirty logging (core/dirty.h): set up by the transport while the
	 * queue is stopped (pviod_queue_log_start()), then the worker's.
	 */
	const struct pviod_dirty_log *log; /* NULL: not logging */
	const struct pvring_mem *log_mem; /* translates what chains wrote back to gpa */
	struct pviod_dirty_chain *log_chain; /* by head: what a chain may have written */
	unsigned int log_nchain; /* entries of @log_chain: the ring's size */
	struct pviod_dirty_range log_ring[2]; /* the ring areas the device writes */
	unsigned int log_nring;
	uint64_t log_missed; /* pages past the end of the log (not marked) */
};

void pviod_queue_init(struct pviod_queue *q, struct pviod_device *dev, unsigned int index);
int pviod_queue_setup(struct pviod_queue *q, unsigned int size);
void pviod_queue_fini(struct pviod_queue *q);
int __pviod_queue_pop_twice(struct pviod_queue *q, struct pvring_chain *c);
void pviod_queue_started(struct pviod_queue *q);
void pviod_queue_kick_cancel(struct pviod_queue *q);
void pviod_queue_run(struct pviod_queue *q);
void pviod_queue_break(struct pviod_queue *q, const char *why, int err);
void pviod_queue_publish(struct pviod_queue *q);
void pviod_queue_notify(struct pviod_queue *q);
void pviod_queue_flush(struct pviod_queue *q);
void pviod_queue_resubmit_free(struct pviod_queue *q);
int __pviod_queue_pop_resubmit(struct pviod_queue *q, struct pvring_chain *c,
			       struct pvring_seg *seg, unsigned int max_seg);
void __pviod_queue_unpop_resubmit(struct pviod_queue *q, uint16_t head);
bool __pviod_queue_fault(struct pviod_queue *q, uint16_t *head, uint32_t *len);
void __pviod_queue_dirty(struct pviod_queue *q);

/**
 * pviod_queue_engine_start - a device request went to its storage engine
 * @q: the request's queue (worker)
 *
 * Until the matching pviod_queue_engine_done(), the queue's next event is
 * that completion: an idle adaptive worker whose busy rings all wait for
 * one sleeps instead of polling (pviod_worker_engine_wait(), worker.c),
 * which would spin through the whole of the device's latency.
 */
static inline void pviod_queue_engine_start(struct pviod_queue *q)
{
	q->engine_inflight++;
	q->worker->engine_inflight++;
}

/**
 * pviod_queue_engine_done - the engine completed a request
 * @q: the request's queue (worker)
 */
static inline void pviod_queue_engine_done(struct pviod_queue *q)
{
	q->engine_inflight--;
	q->worker->engine_inflight--;
}

/*
 * The area is read only by the next back-end process, after we died: what
 * matters is the order our stores reach memory, and a process that dies has
 * every store it executed in the page cache.  A compiler barrier between the
 * steps is therefore all the ordering the spec's steps need (x86-TSO and, on
 * weaker CPUs, the kernel's full barrier on exit drain the store buffer).
 */
#define pviod_inflight_barrier() __atomic_signal_fence(__ATOMIC_SEQ_CST)

/**
 * pviod_queue_pop - the next chain to serve: resubmissions first
 * @q: the queue (worker)
 * @c: out: the chain
 * @seg: out: its segments
 * @max_seg: room in @seg
 *
 * pvring_dev_pop()'s contract, and: a chain with a valid head (also a bad
 * one) is in flight until pviod_queue_put() or pviod_queue_unpop(); with a
 * region, it is marked there (counter first, flag second: an entry marked
 * in flight always carries its pop order).  A broken ring breaks the queue.
 *
 * Return: 1 with a chain, 0 when none is waiting, or a negative errno
 * (-EIO: the queue is broken; others: a bad chain to complete with len 0).
 */
static inline pvring_always_inline int pviod_queue_pop(struct pviod_queue *q,
						       struct pvring_chain *c,
						       struct pvring_seg *seg, unsigned int max_seg)
{
	int ret;

	if (unlikely(q->resubmit_pos < q->resubmit_num))
		return __pviod_queue_pop_resubmit(q, c, seg, max_seg);
	ret = pvring_dev_pop(&q->ring, c, seg, max_seg);
	if (likely(c->head_valid)) {
		struct vhost_user_inflight_region *r = q->ifl;
		uint64_t *held = &q->held[c->head / 64], bit = 1ULL << (c->head % 64);

		if (unlikely(*held & bit))
			return __pviod_queue_pop_twice(q, c);
		*held |= bit;
		q->popped[q->pop_seq++ & (q->held_size - 1)] = c->head;
		q->inflight++;
		if (r) {
			r->desc[c->head].counter = q->ifl_counter++;
			pviod_inflight_barrier();
			r->desc[c->head].inflight = 1;
		} else if (q->iflp.r) {
			__pviod_inflight_pop_packed(q, c->head);
		}
		if (unlikely(q->log))
			__pviod_queue_log_pop(q, c, ret > 0 ? seg : NULL);
	} else if (unlikely(ret < 0)) {
		pviod_queue_break(q, "the avail ring is corrupt", ret);
	}
	return ret;
}

/**
 * pviod_queue_unpop - give back the last @n chains popped, none of them put
 * @q: the queue (worker)
 * @n: how many
 *
 * The next pops take them again, in the same order.  Each goes back where
 * it came from: a chain popped from the ring to the ring, a resubmitted
 * one (in-flight recovery) to the resubmit list, which is served first
 * again, so the ring is rewound only by the chains it gave.  Resubmitted
 * chains come before any chain of the ring in pop order, so the last @n
 * are some of the list's, then the ring's.  A split region keeps them all
 * marked in flight: they are exactly the chains recovery would resume
 * with.  A packed one gives the ring's chains' entries back (the next pops
 * record them afresh) and keeps the resubmitted ones': the ring no longer
 * has those to pop again.
 */
static inline void pviod_queue_unpop(struct pviod_queue *q, unsigned int n)
{
	unsigned int i, nring = 0, mask = q->held_size - 1;

	for (i = 0; i < n; i++)
		if (!(q->popped[(q->pop_seq - 1 - i) & mask] & PVIOD_POPPED_RESUBMIT))
			nring++;
	if (nring && q->iflp.r)
		__pviod_inflight_unpop_packed(q, nring);
	for (i = 0; i < n; i++) {
		uint16_t e = q->popped[--q->pop_seq & mask], head = e & PVIOD_POPPED_HEAD;

		q->held[head / 64] &= ~(1ULL << (head % 64));
		if (e & PVIOD_POPPED_RESUBMIT)
			__pviod_queue_unpop_resubmit(q, head);
	}
	if (nring)
		pvring_dev_unpop(&q->ring, nring);
	q->inflight -= n;
}

/**
 * pviod_queue_put - put a finished chain in the used ring, not yet visible
 * @q: the queue (worker)
 * @head: the chain's head
 * @len: bytes written into its writable part
 *
 * pviod_queue_publish() makes what was put visible; pviod_queue_complete()
 * does both, at the end of the worker's batch.  With a split region, @head
 * joins the batch list first (the spec's step 1 of "supplying used
 * buffers"); a packed region takes the whole batch when it is published.
 */
static inline void pviod_queue_put(struct pviod_queue *q, uint16_t head, uint32_t len)
{
	struct vhost_user_inflight_region *r = q->ifl;
	bool twice = false;

	/* Held until published: the driver cannot have seen it used before. */
	q->staged[q->nstaged++] = head;
	/* Marked in the dirty log when published: the device may write on till then. */
	if (unlikely(q->log))
		q->log_chain[head].written = len;
	if (unlikely(q->fault))
		twice = __pviod_queue_fault(q, &head, &len);
	if (r) {
		r->desc[head].next = r->last_batch_head;
		r->last_batch_head = head;
		pviod_inflight_barrier();
	}
	pvring_dev_put(&q->ring, head, len);
	if (unlikely(twice))
		pvring_dev_put(&q->ring, head, len);
	q->inflight--;
}

/**
 * pviod_queue_log_write - mark bytes the device wrote outside the used length
 * @q: the queue (worker)
 * @hva: where, in guest memory
 * @len: how many
 *
 * For what the length a chain is put with does not cover: a status byte at
 * the end of a chain given back with length 1.  Nothing when not logging.
 */
static inline void pviod_queue_log_write(struct pviod_queue *q, const void *hva, size_t len)
{
	if (unlikely(q->log))
		__pviod_queue_log_hva(q, hva, len);
}

/**
 * pviod_queue_log_prefix - how much of a chain's writable part, from its
 * start, the device wrote, when the used length says otherwise
 * @q: the queue (worker)
 * @head: a chain put and not yet published
 * @bytes: the prefix written
 *
 * A length that counts a trailer written elsewhere (a status byte at the
 * chain's end, marked with pviod_queue_log_write()) would mark the start
 * of the next page instead.  Nothing when not logging.
 */
static inline void pviod_queue_log_prefix(struct pviod_queue *q, uint16_t head, uint32_t bytes)
{
	if (unlikely(q->log))
		q->log_chain[head].written = bytes;
}

/**
 * pviod_queue_unput - take back the last @n chains put and not published
 * @q: the queue (worker)
 * @n: how many
 *
 * They are in flight again (give them back with pviod_queue_unpop()).
 */
static inline void pviod_queue_unput(struct pviod_queue *q, unsigned int n)
{
	struct vhost_user_inflight_region *r = q->ifl;
	unsigned int i;

	pvring_dev_unput(&q->ring, n);
	q->nstaged -= n;
	q->inflight += n;
	for (i = 0; r && i < n; i++)
		r->last_batch_head = r->desc[r->last_batch_head].next;
}

/**
 * pviod_queue_complete - give a finished chain back to the driver
 * @q: the queue (worker)
 * @head: the chain's head
 * @len: bytes written into its writable part
 *
 * Published, and the driver signalled if it wants it, once the worker's
 * current batch of completions is done: one index store and at most one
 * signal per batch.
 */
static inline void pviod_queue_complete(struct pviod_queue *q, uint16_t head, uint32_t len)
{
	pviod_queue_put(q, head, len);
	if (!q->dirty)
		__pviod_queue_dirty(q);
}

#endif /* PVIOD_CORE_QUEUE_H */
