/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pviod.h - the vhost-user back-end daemon: devices, queues, workers.
 *
 * Threads and ownership:
 *
 *   control thread   the listening and connection sockets, every vhost-user
 *                    message, the memory table and every queue's set-up
 *                    state (event.c, vu_*.c).
 *   workers          one io_uring each; a running queue belongs to exactly one
 *                    worker, which reads its kicks, pops its chains, submits
 *                    and completes its I/O and signals its call eventfd
 *                    (worker.c, the device's queue_kick).
 *   stats thread     waits for SIGUSR1 and has every device log its
 *                    counters (device.c): a queue's are read by its worker.
 *
 * A queue moves between the two by pviod_worker_queue_start() and
 * pviod_worker_queue_stop(), both called by the control thread and both
 * synchronous: stop returns only once the worker has completed every request
 * of that queue.  Anything a worker reads (memory table, ring addresses, fds)
 * is therefore changed by the control thread only while the queue is stopped,
 * which is why no lock protects it.
 *
 * A queue's data-path counters are written by its worker with plain stores
 * and read only by that worker (the queue_stats op, on a command the stats
 * thread posts), or once every worker has been joined.
 */
#ifndef PVIOD_H
#define PVIOD_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <liburing.h>

#include "pvring_dev.h"
#include "vhost_user.h"
#include "virtio_config.h"
#include "vhost-user/mem.h"
#include "vhost-user/socket.h"

#define PVIOD_VERSION "0.1.0"
#define PVIOD_QUEUES_MAX 64 /* per device; GET_QUEUE_NUM answers at most this */
#define PVIOD_WORKERS_MAX 64

/* The smaller of two sizes (a function: both arguments evaluated once). */
static inline uint64_t pviod_min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* --- logging (log.c) ------------------------------------------------------ */

enum pviod_log_level { PVIOD_LOG_ERR, PVIOD_LOG_WARN, PVIOD_LOG_INFO, PVIOD_LOG_DEBUG };

extern int pviod_log_level;

void pviod_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int pviod_log_level_parse(const char *s);

#define pr_err(...) pviod_log(PVIOD_LOG_ERR, __VA_ARGS__)
#define pr_warn(...) pviod_log(PVIOD_LOG_WARN, __VA_ARGS__)
#define pr_info(...) pviod_log(PVIOD_LOG_INFO, __VA_ARGS__)
#define pr_debug(...)                                            \
	do {                                                     \
		if (pviod_log_level >= PVIOD_LOG_DEBUG)          \
			pviod_log(PVIOD_LOG_DEBUG, __VA_ARGS__); \
	} while (0)

/*
 * A rate limit for messages a hostile guest can trigger at will: at most
 * burst messages per interval, then one "suppressed" count.
 */
struct pviod_ratelimit {
	uint64_t begin_ns;
	unsigned int printed;
	unsigned int missed;
};

bool pviod_ratelimit_ok(struct pviod_ratelimit *rl);

/* --- asynchronous completions ---------------------------------------------- */

/*
 * Every SQE a worker or the control thread submits carries a pointer to one
 * of these as user_data (0 for SQEs whose completion is ignored, such as
 * cancels); the CQE's result goes to ->complete.
 */
struct pviod_io {
	void (*complete)(struct pviod_io *io, int res);
};

/* --- queues ---------------------------------------------------------------- */

struct pviod_device;
struct pviod_worker;
struct pviod_inflight_region;

struct pviod_queue {
	struct pviod_device *dev;
	unsigned int index;
	/*
	 * Fixed at creation; moved (release store) only when its worker died,
	 * by the control thread in pviod_worker_queue_start().
	 */
	struct pviod_worker *worker;

	/* vhost-user set-up state: control thread; read by the worker while running. */
	unsigned int num; /* SET_VRING_NUM */
	uint64_t desc_uaddr; /* SET_VRING_ADDR, front-end addresses */
	uint64_t avail_uaddr;
	uint64_t used_uaddr;
	bool addr_set;
	uint16_t base; /* SET_VRING_BASE; last_avail while stopped */
	int kick_fd; /* -1: none (the ring is not started) */
	int call_fd; /* -1: never notify */
	int err_fd; /* -1: none */
	bool enabled; /* SET_VRING_ENABLE, or implied */
	bool running; /* handed to the worker */

	/* Data path: the worker's while running. */
	struct pvring_dev ring;
	struct pviod_io kick_io; /* the read on kick_fd */
	uint64_t kick_val; /* its buffer */
	bool kick_armed; /* kick_io is in flight */
	bool stopping; /* draining for pviod_worker_queue_stop() */
	bool broken; /* the ring or a request broke the protocol */
	bool throttled; /* stopped popping: no free request slot */
	bool notify_pending; /* used entries pushed since the last signal */
	bool polled; /* the worker busy-polls the ring: kicks stay off */
	/*
	 * The device set it: the busy-polling worker need not look at this
	 * ring (a net rx ring the device takes buffers from when it has a
	 * frame); cleared at every start.  Kicks are read as always.
	 */
	bool poll_skip;
	unsigned int inflight; /* requests popped and not yet pushed */
	struct pviod_queue *worker_next; /* the worker's list of running queues */
	struct pviod_queue *dirty_next; /* the worker's list to signal after a batch */
	bool dirty;
	struct pviod_ratelimit rl;
	void *priv; /* the device's per-queue state */

	/*
	 * In-flight tracking (inflight.c): set up by the control thread while
	 * the queue is stopped, then the worker's.
	 */
	struct pviod_inflight_region *ifl; /* this queue's region; NULL: untracked */
	uint64_t ifl_counter; /* the next pop's counter */
	uint16_t *resubmit; /* heads to pop again first, by counter */
	unsigned int resubmit_num;
	unsigned int resubmit_pos; /* next one to pop */
};

/* --- devices --------------------------------------------------------------- */

/**
 * struct pviod_device_ops - what a device type plugs into pviod
 *
 * Called on the control thread unless marked "worker".  Functions returning
 * int return 0 or -errno.
 */
struct pviod_device_ops {
	const char *name;
	/* Device-type and ring feature bits offered (not VHOST_USER_F_PROTOCOL_FEATURES). */
	uint64_t (*features)(struct pviod_device *dev);
	/* The driver's choice, already checked to be a subset of features(). */
	int (*features_set)(struct pviod_device *dev, uint64_t features);
	/* Read or write @len bytes of config space at @off (bounds already checked). */
	int (*config_read)(struct pviod_device *dev, uint32_t off, void *buf, uint32_t len);
	int (*config_write)(struct pviod_device *dev, uint32_t off, const void *buf, uint32_t len);
	uint32_t config_size;
	/* Before the queue goes to its worker: allocate per-queue state. */
	int (*queue_start)(struct pviod_device *dev, struct pviod_queue *q);
	/* After the worker drained it. */
	void (*queue_stop)(struct pviod_device *dev, struct pviod_queue *q);
	/*
	 * Worker: pop and submit what the ring holds (after a kick or a
	 * completion).  Unless q->polled, re-enable kicks before returning with
	 * an empty ring; when polled, the worker does that before it sleeps.
	 */
	void (*queue_kick)(struct pviod_queue *q);
	/*
	 * SIGUSR1 (pviod_device_stats_log()), worker: log the counters of @q,
	 * running or stopped.  Runs on q->worker, the one thread that writes a
	 * queue's data-path counters, so they need no lock and no atomics.
	 */
	void (*queue_stats)(struct pviod_queue *q);
	/*
	 * SIGUSR1, the stats thread, after every queue_stats of the device:
	 * log what is not a queue's worker's alone (under the device's locks).
	 */
	void (*stats)(struct pviod_device *dev);
	/* On exit, after every queue stopped: make data durable. */
	int (*flush)(struct pviod_device *dev);
	void (*destroy)(struct pviod_device *dev);
};

/**
 * struct pviod_inflight_area - the device's mapping of the in-flight area
 * @addr: the mapping (GET/SET_INFLIGHT_FD), NULL when none; changed only
 *        while every queue is stopped
 * @size: its length
 * @num_queues: regions in it
 * @queue_size: desc_num of each region
 */
struct pviod_inflight_area {
	void *addr;
	uint64_t size;
	uint16_t num_queues;
	uint16_t queue_size;
};

/* The vhost-user session with one front-end (reset on disconnect). */
struct vu_session {
	uint64_t features; /* SET_FEATURES */
	uint64_t protocol_features; /* SET_PROTOCOL_FEATURES */
	bool features_set;
	bool owner;
	uint8_t status; /* SET_STATUS */
	struct vu_mem mem;
	struct pviod_inflight_area inflight;
};

struct pviod_device {
	const struct pviod_device_ops *ops;
	char *name; /* for messages: "blk0" */
	char *socket_path;
	int listen_fd;
	int conn_fd; /* -1: waiting for a front-end */
	struct pviod_io listen_io; /* control thread's polls */
	struct pviod_io conn_io;
	struct vu_rx rx; /* the message being received on conn_fd */
	unsigned int nqueues;
	struct pviod_queue *queues;
	struct vu_session vu;
	/* Set by a worker when a ring breaks; GET_STATUS reports it. */
	int needs_reset;
	void *priv;
	struct pviod_device *next;
};

/* --- workers (worker.c) ---------------------------------------------------- */

struct pviod_worker_config {
	unsigned int nworkers;
	bool poll; /* busy-poll rings before sleeping */
	unsigned int poll_budget_us; /* how long to poll an idle worker */
};

int pviod_workers_start(const struct pviod_worker_config *cfg);
void pviod_workers_stop(void);
struct pviod_worker *pviod_worker_pick(void);
int pviod_worker_queue_start(struct pviod_queue *q);
void pviod_worker_queue_stop(struct pviod_queue *q);
int pviod_worker_queue_stats(struct pviod_queue *q);
struct io_uring_sqe *pviod_worker_sqe(struct pviod_worker *w);
void pviod_worker_submit(struct pviod_worker *w);
void pviod_queue_complete(struct pviod_queue *q, uint16_t head, uint32_t len);
void pviod_queue_break(struct pviod_queue *q, const char *why, int err);

/*
 * Test-only fault injection (--fault, worker.c): after @after completions
 * every used element is corrupted, so that tests can watch the guest's
 * driver cope with a lying device.
 */
enum pviod_fault_mode {
	PVIOD_FAULT_NONE,
	PVIOD_FAULT_USED_ID, /* an id past the ring size */
	PVIOD_FAULT_USED_DUP, /* each element pushed twice: then not in flight */
	PVIOD_FAULT_USED_LEN, /* len 0xffffffff */
	PVIOD_FAULT_WORKER_DIE, /* once: the queue's worker acts as if its io_uring failed */
};

struct pviod_fault {
	enum pviod_fault_mode mode;
	unsigned long after; /* completions served honestly first */
	unsigned long count; /* completions so far (atomic) */
};

extern struct pviod_fault pviod_fault;
int pviod_fault_parse(const char *spec);

/* --- --device options (options.c) ------------------------------------------- */

int pviod_opt_split(const char *type, char *tok, char **val);
int pviod_opt_uint(const char *type, const char *key, const char *val, unsigned long lo,
		   unsigned long hi, unsigned long *out);
int pviod_opt_bool(const char *type, const char *key, const char *val, bool *out);

/* --- devices (device.c) ---------------------------------------------------- */

int pviod_device_parse(const char *spec, struct pviod_device **out);
int pviod_device_init(struct pviod_device *dev, const struct pviod_device_ops *ops,
		      const char *socket_path, unsigned int nqueues);
int pviod_device_listen(struct pviod_device *dev);
void pviod_device_free(struct pviod_device *dev);
void pviod_device_queues_stop(struct pviod_device *dev);
int pviod_device_queues_resume(struct pviod_device *dev);
void pviod_device_stats_log(struct pviod_device *devices);
int pviod_device_stats_start(struct pviod_device *devices);
void pviod_device_stats_stop(void);

/* --- the block device (blk.c) ---------------------------------------------- */

int pviod_blk_create(const char *opts, struct pviod_device **out);

/* --- the console device (console.c) --------------------------------------- */

int pviod_console_create(const char *opts, struct pviod_device **out);

/* --- the network device (net.c) ------------------------------------------- */

int pviod_net_create(const char *opts, struct pviod_device **out);

/* --- control loop (event.c) ------------------------------------------------ */

int pviod_event_run(struct pviod_device *devices);
void pviod_conn_close(struct pviod_device *dev);
int pviod_conn_handle(struct pviod_device *dev);

#endif /* PVIOD_H */
