/* SPDX-License-Identifier: GPL-2.0 */
/*
 * worker.h - the data-path threads (worker.c), one io_uring each.
 *
 * A running queue belongs to exactly one worker, which reads its kicks,
 * runs it (core/queue.h), submits and completes its device's I/O and
 * signals its driver.  The control thread talks to a worker only through
 * synchronous commands: start a queue, stop one (returns once every chain
 * it popped was put), run a function on a queue's thread (the counters'
 * dump), exit.
 */
#ifndef PVIOD_CORE_WORKER_H
#define PVIOD_CORE_WORKER_H

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <liburing.h>

#include "core/event.h"
#include "pvring_poll.h"

#define PVIOD_WORKERS_MAX 64
#define PVIOD_WORKER_FILES 64 /* registered files per worker (io_uring's fixed files) */
#define PVIOD_WORKER_BUFS 128 /* registered buffers per worker */
#define PVIOD_WORKER_BUF_MAX (1ull << 30) /* bytes per registered buffer: io_uring's limit */

struct pviod_queue;
struct pviod_cmd;

/**
 * struct pviod_sqe_wait - something that found no room on its worker's ring
 * @retry: run on the worker at its loop's next turn, after a submit: takes
 *         its SQE with pviod_worker_sqe() again and, finding none again,
 *         waits again with pviod_worker_sqe_wait()
 * @next: the worker's list of waiters, in the order they came
 * @waiting: on that list
 *
 * A read that must stay armed (a command, a kick), a cancel, a watch or a
 * request: each would be lost, or fail, if the caller gave up on a full
 * submission queue, so it waits for room instead.  Embedded in what waits,
 * which must live until @retry ran.
 */
struct pviod_sqe_wait {
	void (*retry)(struct pviod_sqe_wait *sw);
	struct pviod_sqe_wait *next;
	bool waiting;
};

struct pviod_worker_config {
	unsigned int nworkers;
	enum pvring_poll_mode poll; /* --poll: adaptive (the default), on or off */
	unsigned int poll_max_us; /* --poll-max-us: the longest an idle worker polls */
	unsigned int poll_grow; /* --poll-grow: factor (0: the default, 2) */
	unsigned int poll_shrink; /* --poll-shrink: divisor (0: back to 0) */
	/* --cpus: worker i runs on cpus[i % ncpus]; ncpus 0: where the scheduler likes */
	cpu_set_t *cpus;
	unsigned int ncpus;
	bool fault_sq_full; /* --fault sq-full (test only) */
};

struct pviod_worker {
	unsigned int id;
	pthread_t thread;
	struct io_uring ring;
	/*
	 * How long the worker polls its rings and completions once idle
	 * (ring/pvring_poll.h), adapted after each sleep; the worker's.
	 */
	struct pvring_poll poll;
	uint64_t sleeps; /* io_uring waits (the worker's) */
	/*
	 * Device requests in flight in a storage engine, over all its queues
	 * (the worker's: pviod_queue_engine_start()), and the sleeps that
	 * waited for nothing but them (pviod_worker_main()).
	 */
	unsigned int engine_inflight;
	uint64_t engine_sleeps;
	/*
	 * Wake-ups from the worker's sleeps (the worker's): a queue that ran
	 * since the last-but-one (q->busy_wake) is busy.
	 */
	uint64_t wakes;

	/*
	 * io_uring's fixed resources, the worker's (register them on its
	 * thread: pviod_worker_queue_call()): sparse tables set up with the
	 * ring, or not at all (then every register call fails).  A slot is
	 * shared by whoever registers the same fd or memory range, counted.
	 */
	bool files_ok, bufs_ok;
	int file_fd[PVIOD_WORKER_FILES]; /* -1: free */
	unsigned int file_refs[PVIOD_WORKER_FILES];
	struct pviod_worker_buf {
		void *base; /* NULL: free */
		uint64_t len;
		unsigned int nslots; /* base, base + 1 GiB, ... */
		unsigned int refs;
	} buf[PVIOD_WORKER_BUFS]; /* by first slot */

	/* Commands from other threads. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct pviod_cmd *cmds; /* posted, not yet taken (lock) */
	int cmd_fd; /* eventfd: a command was posted */
	struct pviod_io cmd_io;
	uint64_t cmd_val;
	struct pviod_sqe_wait cmd_wait; /* the read of cmd_fd, waiting for room */

	/* The worker's own. */
	struct pviod_cmd *stopping; /* stop commands waiting for their queue to drain */
	struct pviod_queue *queues; /* running queues */
	struct pviod_queue *dirty; /* queues to publish and signal after this batch */
	struct pviod_queue *ready; /* queues to run again before sleeping */
	/* What found the submission queue full, retried in order (pviod_worker_sqe_wait()). */
	struct pviod_sqe_wait *sqe_wait, **sqe_wait_tail;
	uint64_t sqe_full; /* times pviod_worker_sqe() found no room */
	/*
	 * The flags of the CQE whose completion runs now (IORING_CQE_F_MORE:
	 * a multishot request stays armed), for the completions that ask.
	 */
	unsigned int cqe_flags;
	bool exit;
	/* Its io_uring failed: every command fails at once with -EIO (lock). */
	bool dead;
	/* --fault worker-die: fail the next wait as if the ring had (test only). */
	bool fault_die;
	/*
	 * --fault sq-full (test only): every other pviod_worker_sqe() finds no
	 * room, as when a submit cannot empty the submission queue.
	 */
	bool fault_sq_full;
	unsigned int fault_sq_calls;
	/* Under valgrind: sleep in poll(), not io_uring_enter() (pviod_worker_sleep()). */
	bool valgrind;
};

/* Every worker of a daemon; queues are spread over them round-robin. */
struct pviod_workers {
	struct pviod_worker *w;
	unsigned int n;
	unsigned int next; /* the next one pviod_worker_pick() tries */
};

int pviod_cpus_parse(const char *list, cpu_set_t **sets, unsigned int *n);
int pviod_workers_start(struct pviod_workers *ws, const struct pviod_worker_config *cfg);
void pviod_workers_stop(struct pviod_workers *ws);
struct pviod_worker *pviod_worker_pick(struct pviod_workers *ws);
int pviod_worker_queue_start(struct pviod_workers *ws, struct pviod_queue *q);
void pviod_worker_queue_stop(struct pviod_queue *q);
int pviod_worker_queue_call(struct pviod_queue *q, void (*fn)(struct pviod_queue *q, void *arg),
			    void *arg);
struct io_uring_sqe *pviod_worker_sqe(struct pviod_worker *w);
bool pviod_worker_sqe_room(struct pviod_worker *w, unsigned int n);
void pviod_worker_sqe_wait(struct pviod_worker *w, struct pviod_sqe_wait *sw);
bool pviod_worker_cancel(struct pviod_worker *w, struct pviod_io *io, struct pviod_sqe_wait *sw);
void pviod_worker_submit(struct pviod_worker *w);
void pviod_worker_ready(struct pviod_worker *w, struct pviod_queue *q);
int pviod_worker_file_register(struct pviod_worker *w, int fd);
void pviod_worker_file_unregister(struct pviod_worker *w, int slot);
int pviod_worker_buf_register(struct pviod_worker *w, void *base, uint64_t len);
void pviod_worker_buf_unregister(struct pviod_worker *w, int first);

/**
 * pviod_worker_sqe_reserved - one of the SQEs pviod_worker_sqe_room() made room for
 * @w: the worker (on its thread), right after pviod_worker_sqe_room() said true
 */
static inline struct io_uring_sqe *pviod_worker_sqe_reserved(struct pviod_worker *w)
{
	return io_uring_get_sqe(&w->ring);
}

/**
 * pviod_worker_polling - does the worker poll its rings when idle?
 * @w: the worker (on its thread)
 *
 * While it does, its queues leave the driver's kicks off after serving:
 * the worker asks for them again, race-free, before it sleeps.  The
 * answer changes only when the worker wakes from a sleep, and before it
 * sleeps every queue asked for kicks again.
 */
static inline bool pviod_worker_polling(const struct pviod_worker *w)
{
	return pvring_poll_window(&w->poll) != 0;
}

#endif /* PVIOD_CORE_WORKER_H */
