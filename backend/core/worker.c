// SPDX-License-Identifier: GPL-2.0
/*
 * worker.c - the data-path threads, one io_uring each.
 *
 * A worker owns the queues handed to it: it keeps one 8-byte read of each
 * queue's kick eventfd in flight on its ring (kicks are read through
 * io_uring, never with a blocking read), lets the device pop and submit on
 * each kick, completes the device's I/O from the same ring, and after each
 * batch of completions signals the call eventfd of every queue whose
 * pvring_dev_should_notify() says so: one signal per batch, not per request.
 *
 * The control thread talks to a worker only through commands (start a
 * queue, stop one, exit; the stats thread's: log a queue's counters) on a
 * mutex-protected list, announced by an eventfd the worker also reads
 * through its ring; the poster waits on a condition variable until the
 * command is done.  The mutex hand-off orders
 * everything the control thread set up before the worker touches it, and
 * everything the worker did before the control thread reuses it.
 *
 * Busy-poll (--poll=on): the worker keeps looking at its rings' avail
 * indices and its completion queue, with no system call unless it has SQEs
 * to submit, until it has been idle for poll_budget_us; then it sleeps in
 * io_uring_submit_and_wait().  While it polls, its rings ask the driver for
 * no kicks (q->polled: the device leaves notifications disabled), so a
 * driver that polls too exchanges no eventfd signal at all; they are
 * re-enabled, race-free, just before the worker sleeps.  The kick reads stay
 * armed throughout, so no kick can be lost across the switch.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "vhost-user/inflight.h"
#include "core/pviod.h"

#define PVIOD_WORKER_SQ_ENTRIES 256
#define PVIOD_WORKER_CQ_ENTRIES 4096
#define PVIOD_WORKER_REAP_BATCH 64 /* CQEs taken per look at the queue */
#define PVIOD_WORKER_IDLE_POLLS 64 /* empty busy-polls between looks at the clock */

enum pviod_cmd_type { PVIOD_CMD_START, PVIOD_CMD_STOP, PVIOD_CMD_EXIT, PVIOD_CMD_STATS };

struct pviod_cmd {
	enum pviod_cmd_type type;
	struct pviod_queue *q;
	bool done; /* under the worker's lock */
	int ret;
	struct pviod_cmd *next;
};

struct pviod_worker {
	unsigned int id;
	pthread_t thread;
	struct io_uring ring;
	bool poll;
	unsigned int poll_budget_us;

	/* Commands from the control thread. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct pviod_cmd *cmds; /* posted, not yet taken (lock) */
	int cmd_fd; /* eventfd: a command was posted */
	struct pviod_io cmd_io;
	uint64_t cmd_val;

	/* The worker's own. */
	struct pviod_cmd *stopping; /* stop commands waiting for their queue to drain */
	struct pviod_queue *queues; /* running queues */
	struct pviod_queue *dirty; /* queues with pushes (or a stall) this batch */
	bool exit;
	/* Its io_uring failed: every command fails at once with -EIO (lock). */
	bool dead;
	/* --fault worker-die: fail the next wait as if the ring had (test only). */
	bool fault_die;
};

static struct pviod_worker *pviod_workers;
static unsigned int pviod_nworkers;
static unsigned int pviod_worker_next;

static void pviod_worker_cmd_arm(struct pviod_worker *w);
static void pviod_queue_kick_arm(struct pviod_queue *q);

/**
 * pviod_worker_sqe - an SQE on the worker's ring, submitting if it is full
 * @w: the worker (called on its thread)
 *
 * Return: the SQE, or NULL when even a submit freed none (the caller fails
 * the request).
 */
struct io_uring_sqe *pviod_worker_sqe(struct pviod_worker *w)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);

	if (unlikely(!sqe)) {
		io_uring_submit(&w->ring);
		sqe = io_uring_get_sqe(&w->ring);
	}
	return sqe;
}

/**
 * pviod_worker_submit - submit what is queued on the worker's ring now
 * @w: the worker (called on its thread)
 *
 * For requests that should not wait for the end of the batch.
 */
void pviod_worker_submit(struct pviod_worker *w)
{
	io_uring_submit(&w->ring);
}

struct pviod_fault pviod_fault;

/**
 * pviod_fault_parse - --fault MODE[:N] (test only)
 * @spec: used-id, used-dup or used-len, optionally ":N" completions first
 *
 * Return: 0 or -EINVAL.
 */
int pviod_fault_parse(const char *spec)
{
	static const char *const names[] = {
		[PVIOD_FAULT_USED_ID] = "used-id",
		[PVIOD_FAULT_USED_DUP] = "used-dup",
		[PVIOD_FAULT_USED_LEN] = "used-len",
		[PVIOD_FAULT_WORKER_DIE] = "worker-die",
	};
	const char *colon = strchr(spec, ':');
	size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
	unsigned int i;
	char *end;

	for (i = 1; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strlen(names[i]) != n || strncmp(spec, names[i], n))
			continue;
		pviod_fault.mode = i;
		pviod_fault.after = 0;
		if (colon) {
			errno = 0;
			pviod_fault.after = strtoul(colon + 1, &end, 10);
			if (errno || !colon[1] || *end)
				return -EINVAL;
		}
		return 0;
	}
	return -EINVAL;
}

/*
 * Corrupt one used element once the honest completions are spent.
 * Return: true when the element must be pushed a second time (used-dup).
 */
static bool pviod_fault_apply(struct pviod_queue *q, uint16_t *head, uint32_t *len)
{
	unsigned long n = __atomic_fetch_add(&pviod_fault.count, 1, __ATOMIC_RELAXED);

	if (pviod_fault.mode == PVIOD_FAULT_WORKER_DIE) {
		/* Once; this element itself is pushed honestly. */
		if (n == pviod_fault.after) {
			pr_warn("%s: queue %u: --fault: failing worker %u", q->dev->name, q->index,
				q->worker->id);
			q->worker->fault_die = true;
		}
		return false;
	}
	if (n >= pviod_fault.after) {
		if (n == pviod_fault.after)
			pr_warn("%s: queue %u: --fault: corrupting used elements from now on",
				q->dev->name, q->index);
		switch (pviod_fault.mode) {
		case PVIOD_FAULT_USED_ID:
			/* The field is 32 bits wide; the ring holds num entries. */
			*head = (uint16_t)(q->num + (*head & 7));
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
	}
	return false;
}

static void pviod_queue_dirty(struct pviod_queue *q)
{
	struct pviod_worker *w = q->worker;

	if (!q->dirty) {
		q->dirty = true;
		q->dirty_next = w->dirty;
		w->dirty = q;
	}
}

/**
 * pviod_queue_complete - push a finished chain to the used ring
 * @q: the queue (worker thread)
 * @head: the chain's head
 * @len: bytes written into its writable part
 *
 * The call eventfd is signalled after the current batch of completions.
 */
void pviod_queue_complete(struct pviod_queue *q, uint16_t head, uint32_t len)
{
	bool twice = false;

	if (unlikely(pviod_fault.mode != PVIOD_FAULT_NONE))
		twice = pviod_fault_apply(q, &head, &len);
	pviod_inflight_put(q, head, len);
	if (unlikely(twice))
		pvring_dev_push_used(&q->ring, head, len);
	q->inflight--;
	q->notify_pending = true;
	pviod_queue_dirty(q);
}

/**
 * pviod_queue_break - the driver broke the ring: stop serving this queue
 * @q: the queue (worker thread)
 * @why: what was wrong, for the log
 * @err: the ring's errno
 *
 * Requests already in flight still complete.  The front-end learns of it
 * through the queue's error eventfd and, with the STATUS protocol feature,
 * DEVICE_NEEDS_RESET in GET_STATUS; every other queue and device goes on.
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
	 * Pairs with the acquire load in vu_get_status().
	 */
	if (dev->vu.protocol_features & PVIO_BIT(VHOST_USER_PROTOCOL_F_STATUS))
		__atomic_store_n(&dev->needs_reset, 1, __ATOMIC_RELEASE);
	if (q->err_fd >= 0)
		eventfd_write(q->err_fd, 1);
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
	if (!q->broken) {
		q->dev->ops->queue_kick(q);
		pviod_queue_kick_arm(q);
	}
}

static void pviod_queue_kick_arm(struct pviod_queue *q)
{
	struct io_uring_sqe *sqe = pviod_worker_sqe(q->worker);

	if (!sqe) {
		pviod_queue_break(q, "no room to read the kick eventfd", -EBUSY);
		return;
	}
	io_uring_prep_read(sqe, q->kick_fd, &q->kick_val, sizeof(q->kick_val), 0);
	io_uring_sqe_set_data(sqe, &q->kick_io);
	q->kick_armed = true;
}

/*
 * Signal a queue's call eventfd through the ring: the write goes out with the
 * io_uring_enter() the worker makes next anyway (to submit, or to sleep), one
 * system call less per batch than eventfd_write().  The used index was stored
 * before, and that system call orders it before the signal.
 */
static void pviod_queue_call(struct pviod_queue *q)
{
	static const uint64_t one = 1;
	struct io_uring_sqe *sqe = pviod_worker_sqe(q->worker);

	if (unlikely(!sqe)) {
		eventfd_write(q->call_fd, 1);
		return;
	}
	io_uring_prep_write(sqe, q->call_fd, &one, sizeof(one), 0);
	io_uring_sqe_set_data(sqe, NULL);
}

/* After a batch: one call per queue that pushed, and resume stalled queues. */
static void pviod_worker_flush_dirty(struct pviod_worker *w)
{
	struct pviod_queue *q;

	while ((q = w->dirty)) {
		w->dirty = q->dirty_next;
		q->dirty = false;
		if (q->throttled && !q->stopping && !q->broken) {
			q->throttled = false;
			q->dev->ops->queue_kick(q);
		}
		if (q->notify_pending) {
			q->notify_pending = false;
			if (q->call_fd >= 0 && pvring_dev_should_notify(&q->ring))
				pviod_queue_call(q);
		}
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

/* Finish every stop command whose queue has nothing left in flight. */
static void pviod_worker_reap_stops(struct pviod_worker *w)
{
	struct pviod_cmd **pp = &w->stopping, *c;

	while ((c = *pp)) {
		struct pviod_queue *q = c->q;

		if (q->inflight || q->kick_armed) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		/*
		 * The control thread may close the call fd once the stop is done:
		 * a signal still queued for it (pviod_queue_call()) goes out now.
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
	struct io_uring_sqe *sqe;

	switch (c->type) {
	case PVIOD_CMD_START:
		q->stopping = false;
		q->dirty = false;
		q->polled = w->poll;
		q->worker_next = w->queues;
		w->queues = q;
		pviod_queue_kick_arm(q);
		/* Chains made available while the queue was stopped got no kick of their own. */
		if (!q->broken)
			q->dev->ops->queue_kick(q);
		pviod_worker_cmd_finish(w, c, 0);
		break;
	case PVIOD_CMD_STOP:
		q->stopping = true;
		if (q->kick_armed) {
			sqe = pviod_worker_sqe(w);
			if (sqe) {
				io_uring_prep_cancel64(sqe, (uintptr_t)&q->kick_io, 0);
				io_uring_sqe_set_data(sqe, NULL);
			}
		}
		c->next = w->stopping;
		w->stopping = c;
		break;
	case PVIOD_CMD_EXIT:
		w->exit = true;
		pviod_worker_cmd_finish(w, c, 0);
		break;
	case PVIOD_CMD_STATS:
		/* Here, on the one thread that writes the queue's counters. */
		q->dev->ops->queue_stats(q);
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

static void pviod_worker_cmd_arm(struct pviod_worker *w)
{
	struct io_uring_sqe *sqe = pviod_worker_sqe(w);

	/* The ring was just submitted by pviod_worker_sqe(): there is room. */
	io_uring_prep_read(sqe, w->cmd_fd, &w->cmd_val, sizeof(w->cmd_val), 0);
	io_uring_sqe_set_data(sqe, &w->cmd_io);
}

/*
 * Run every completion, including those that the handlers' own submissions
 * post meanwhile, until the completion queue is empty.
 */
static unsigned int pviod_worker_reap(struct pviod_worker *w)
{
	struct io_uring_cqe *cqes[PVIOD_WORKER_REAP_BATCH];
	unsigned int i, got, n = 0;

	while ((got = io_uring_peek_batch_cqe(&w->ring, cqes, PVIOD_WORKER_REAP_BATCH))) {
		for (i = 0; i < got; i++) {
			struct pviod_io *io = io_uring_cqe_get_data(cqes[i]);

			if (io)
				io->complete(io, cqes[i]->res);
		}
		io_uring_cq_advance(&w->ring, got);
		n += got;
	}
	return n;
}

static uint64_t pviod_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Busy-poll: did any ring or the completion queue have work? */
static bool pviod_worker_poll_once(struct pviod_worker *w)
{
	struct pviod_queue *q;
	bool busy = false;
	int n;

	/* Rings first, so what they add is submitted in this same pass. */
	for (q = w->queues; q; q = q->worker_next) {
		if (q->stopping || q->broken || q->throttled || q->poll_skip)
			continue;
		n = pvring_dev_avail(&q->ring);
		if (n > 0) {
			q->dev->ops->queue_kick(q);
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
	if (io_uring_cq_ready(&w->ring) && pviod_worker_reap(w))
		busy = true;
	return busy;
}

/*
 * Before an idle polling worker sleeps: ask every ring for kicks again.
 * Return: false when a ring got chains meanwhile (no kick will come for
 * them): poll on instead.
 */
static bool pviod_worker_poll_stop(struct pviod_worker *w)
{
	struct pviod_queue *q;
	bool idle = true;

	for (q = w->queues; q; q = q->worker_next) {
		if (q->stopping || q->broken || q->throttled || q->poll_skip)
			continue;
		if (!pvring_dev_enable_notify(&q->ring)) {
			pvring_dev_disable_notify(&q->ring);
			idle = false;
		}
	}
	return idle;
}

/*
 * The worker's io_uring failed and it leaves its loop: answer every command
 * posted or waiting for a queue to drain with -EIO, and every later one at
 * once (pviod_worker_cmd()), so the control thread never waits on a worker
 * that is gone.
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

static void *pviod_worker_main(void *arg)
{
	struct pviod_worker *w = arg;
	uint64_t idle_since = 0;
	unsigned int idle_polls = 0;
	int ret;

	pviod_worker_cmd_arm(w);
	while (!w->exit) {
		pviod_worker_flush_dirty(w);
		pviod_worker_reap_stops(w);
		if (w->exit)
			break;
		if (w->poll && w->queues) {
			if (pviod_worker_poll_once(w)) {
				idle_since = 0;
				idle_polls = 0;
				continue;
			}
			/*
			 * The clock once per PVIOD_WORKER_IDLE_POLLS empty
			 * polls: a clock_gettime() per poll would make the
			 * empty poll, and so our reaction to new chains, several
			 * times slower.
			 */
			if (++idle_polls < PVIOD_WORKER_IDLE_POLLS)
				continue;
			idle_polls = 0;
			if (!idle_since)
				idle_since = pviod_now_us();
			if (pviod_now_us() - idle_since < w->poll_budget_us)
				continue;
			idle_since = 0;
			if (!pviod_worker_poll_stop(w))
				continue;
		}
		if (unlikely(w->fault_die))
			ret = -EIO;
		else
			ret = io_uring_submit_and_wait(&w->ring, 1);
		if (ret < 0 && ret != -EINTR && ret != -EBUSY && ret != -EAGAIN) {
			pr_err("worker %u: io_uring_submit_and_wait: %s; its queues stop being served",
			       w->id, strerror(-ret));
			pviod_worker_die(w);
			break;
		}
		pviod_worker_reap(w);
	}
	return NULL;
}

/* Post a command and wait until the worker has done it. */
static int pviod_worker_cmd(struct pviod_worker *w, enum pviod_cmd_type type, struct pviod_queue *q)
{
	struct pviod_cmd c = { .type = type, .q = q };

	pthread_mutex_lock(&w->lock);
	if (w->dead) {
		pthread_mutex_unlock(&w->lock);
		return -EIO;
	}
	c.next = w->cmds;
	w->cmds = &c;
	pthread_mutex_unlock(&w->lock);
	eventfd_write(w->cmd_fd, 1);
	pthread_mutex_lock(&w->lock);
	while (!c.done)
		pthread_cond_wait(&w->cond, &w->lock);
	pthread_mutex_unlock(&w->lock);
	return c.ret;
}

/**
 * pviod_worker_queue_start - hand a set-up queue to its worker
 * @q: the queue; q->ring initialised (control thread)
 *
 * A queue whose worker died moves to a live one.
 *
 * Return: 0, or -EIO when no worker is alive.
 */
int pviod_worker_queue_start(struct pviod_queue *q)
{
	int ret;

	q->kick_io.complete = pviod_queue_kick_done;
	ret = pviod_worker_cmd(q->worker, PVIOD_CMD_START, q);
	if (ret == -EIO) {
		/*
		 * Its worker is dead (pviod_worker_die()): move to one alive.
		 * Pairs with the acquire load in pviod_worker_queue_stats().
		 */
		__atomic_store_n(&q->worker, pviod_worker_pick(), __ATOMIC_RELEASE);
		ret = pviod_worker_cmd(q->worker, PVIOD_CMD_START, q);
	}
	return ret;
}

/**
 * pviod_worker_queue_stop - take a queue back once it has drained
 * @q: a running queue (control thread)
 *
 * Stops reading its kicks and waits until every request it popped has been
 * completed and pushed.
 */
void pviod_worker_queue_stop(struct pviod_queue *q)
{
	pviod_worker_cmd(q->worker, PVIOD_CMD_STOP, q);
}

/**
 * pviod_worker_queue_stats - have the queue's worker log its counters
 * @q: a queue whose device has ->queue_stats, running or not (the stats
 *     thread, while every worker runs)
 *
 * Synchronous.  The worker is the one thread that writes the queue's
 * counters, so it reads them without a lock; when the queue moved away from
 * a dead worker, the release store in pviod_worker_queue_start() orders the
 * dead worker's last stores (its pviod_worker_die()) before this load.
 *
 * Return: 0, or -EIO when the queue's worker is gone (nothing logged).
 */
int pviod_worker_queue_stats(struct pviod_queue *q)
{
	return pviod_worker_cmd(__atomic_load_n(&q->worker, __ATOMIC_ACQUIRE), PVIOD_CMD_STATS, q);
}

/**
 * pviod_worker_pick - the worker for the next queue created (round-robin,
 * skipping workers whose io_uring failed)
 */
struct pviod_worker *pviod_worker_pick(void)
{
	struct pviod_worker *w = &pviod_workers[0];
	unsigned int i;
	bool dead;

	/* Round robin over the workers still alive; a dead one fails the start. */
	for (i = 0; i < pviod_nworkers; i++) {
		w = &pviod_workers[pviod_worker_next++ % pviod_nworkers];
		pthread_mutex_lock(&w->lock);
		dead = w->dead;
		pthread_mutex_unlock(&w->lock);
		if (!dead)
			return w;
	}
	return w;
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
 * @cfg: how many, and whether they busy-poll
 *
 * Return: 0 or -errno.
 */
int pviod_workers_start(const struct pviod_worker_config *cfg)
{
	struct io_uring_params p;
	unsigned int i;
	int ret;

	if (!cfg->nworkers || cfg->nworkers > PVIOD_WORKERS_MAX)
		return -EINVAL;
	pviod_workers = calloc(cfg->nworkers, sizeof(*pviod_workers));
	if (!pviod_workers)
		return -ENOMEM;
	for (i = 0; i < cfg->nworkers; i++) {
		struct pviod_worker *w = &pviod_workers[i];

		w->id = i;
		w->poll = cfg->poll;
		w->poll_budget_us = cfg->poll_budget_us;
		w->cmd_io.complete = pviod_worker_cmd_done;
		pthread_mutex_init(&w->lock, NULL);
		pthread_cond_init(&w->cond, NULL);
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
		ret = -pthread_create(&w->thread, NULL, pviod_worker_main, w);
		if (ret) {
			pviod_worker_destroy(w);
			goto err_destroy;
		}
		pviod_nworkers = i + 1;
	}
	return 0;

err_destroy:
	pr_err("starting worker %u: %s", i, strerror(-ret));
	pviod_workers_stop();
	return ret;
}

/**
 * pviod_workers_stop - end and join every worker (their queues are stopped)
 */
void pviod_workers_stop(void)
{
	unsigned int i;

	for (i = 0; i < pviod_nworkers; i++) {
		pviod_worker_cmd(&pviod_workers[i], PVIOD_CMD_EXIT, NULL);
		pthread_join(pviod_workers[i].thread, NULL);
		pviod_worker_destroy(&pviod_workers[i]);
	}
	free(pviod_workers);
	pviod_workers = NULL;
	pviod_nworkers = 0;
}
