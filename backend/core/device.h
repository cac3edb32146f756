/* SPDX-License-Identifier: GPL-2.0 */
/*
 * device.h - a pviod device: what a device type (blk/, net/, console/)
 * plugs in, and what every device has (device.c).
 *
 * A device is reached through its own object only: the workers, the
 * control loop and the test faults it uses are in the struct pviod_env it
 * was created in, so devices can be created and destroyed while others
 * run.  The transport that connects it to a driver (vhost-user/) keeps its
 * state behind @vu.
 */
#ifndef PVIOD_CORE_DEVICE_H
#define PVIOD_CORE_DEVICE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/event.h"
#include "core/queue.h"
#include "virtio_config.h"

#define PVIOD_QUEUES_MAX 64 /* per device; GET_QUEUE_NUM answers at most this */
#define PVIOD_ID_MAX 32 /* a device's id=, with its NUL */

struct pviod_device;
struct pviod_workers;

#define PVIOD_DROP_REASONS_MAX 4

/*
 * One queue's counters, the same for every device type: what the control
 * socket's device_stats answers and what SIGUSR1 logs.  Gathered on the
 * queue's worker (pviod_device_counters()); they add up over sessions.
 */
struct pviod_queue_counters {
	uint64_t requests; /* chains served (blk: requests; net: frames; console: 0) */
	uint64_t bytes; /* data moved */
	uint64_t errors; /* requests completed with an error, bad chains or headers */
	/* The core's: kick reads, interrupts sent, polls that found work. */
	uint64_t kicks, calls, polls;
	uint64_t poll_misses; /* poll windows that ended with nothing (then kicks, sleep) */
	uint64_t poll_preempts; /* preemptions of the worker seen while it polled */
	uint64_t runs; /* times the queue was served (a kick, a poll hit, a retry) */
	uint64_t in_flight; /* popped, not yet given back */
	unsigned int ndrops;
	struct {
		const char *reason; /* a constant: "no_buffer" */
		uint64_t count;
	} drops[PVIOD_DROP_REASONS_MAX];
};

struct pviod_event_loop;
struct vu_dev;

/* What devices are created in: the daemon's threads and test settings. */
struct pviod_env {
	struct pviod_workers *workers; /* the data path */
	struct pviod_event_loop *loop; /* the control thread */
	const struct pviod_fault *fault; /* test-only corruption, NULL when off */
};

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
	/* Before the queue goes to its worker: set up per-queue state. */
	int (*queue_start)(struct pviod_device *dev, struct pviod_queue *q);
	/*
	 * Optional, asked only when VIRTIO_F_IN_ORDER was negotiated: may the
	 * ring of queue @index publish a run of puts as one used element
	 * (§2.8.23)?  Only where every driver in the field reads it so; NULL
	 * or false: one used element per chain.
	 */
	bool (*queue_batch_used)(struct pviod_device *dev, unsigned int index);
	/* After the worker drained it. */
	void (*queue_stop)(struct pviod_device *dev, struct pviod_queue *q);
	/*
	 * Worker: serve what the ring holds, through pviod_queue_pop() and
	 * pviod_queue_complete() / _put() + _publish(), and say why it
	 * stopped (core/queue.h).  Notifications are the core's business.
	 */
	enum pviod_serve (*queue_serve)(struct pviod_queue *q);
	/*
	 * SIGUSR1, worker: log the counters of @q, running or stopped.  Runs
	 * on q->worker, the one thread that writes a queue's data-path
	 * counters, so they need no lock and no atomics.
	 */
	void (*queue_stats)(struct pviod_queue *q);
	/*
	 * Worker (q->worker): fill in @c's requests, bytes, errors and drops
	 * for @q (the core fills in the rest).  NULL: only the core's.
	 */
	void (*queue_counters)(struct pviod_queue *q, struct pviod_queue_counters *c);
	/*
	 * SIGUSR1, the stats thread, after every queue_stats of the device:
	 * log what is not a queue's worker's alone (under the device's locks).
	 */
	void (*stats)(struct pviod_device *dev);
	/* Before the device goes away, every queue stopped: make data durable. */
	int (*flush)(struct pviod_device *dev);
	/*
	 * Optional: look again at what the config space reflects (a disk's
	 * size) after pviod_device_changed() or an operator's refresh.
	 * Return: 1 when the config space changed, 0 when not, -errno.
	 */
	int (*refresh)(struct pviod_device *dev);
	/*
	 * Optional: tell the network that the guest with address @mac (6
	 * bytes, unicast: checked) is reachable here now, after a migration
	 * (vhost-user SEND_RARP).  A device type that has it offers
	 * PROTOCOL_F_RARP.  Failures are the type's to log: the session goes on.
	 */
	void (*announce)(struct pviod_device *dev, const uint8_t *mac);
	/* Free the type's state (dev->priv); also after a failed create. */
	void (*destroy)(struct pviod_device *dev);
};

struct pviod_device {
	const struct pviod_device_ops *ops;
	const struct pviod_env *env;
	char *name; /* its id: "blk0", or id=NAME */
	char *spec; /* the --device SPEC it was created from (the daemon's) */
	char *socket_path; /* where the transport listens */
	unsigned int socket_mode; /* its mode (socket-mode=); 0: as created */
	bool socket_chgrp; /* give it to @socket_gid (socket-group=) */
	gid_t socket_gid;
	unsigned int nqueues;
	struct pviod_queue *queues;
	/* Set by a worker when a ring breaks; GET_STATUS reports it. */
	int needs_reset;
	/*
	 * Set by the SIGBUS handler when the front-end shrank memory pviod
	 * maps (core/peermem.c); the queue core then breaks every queue.
	 */
	int mem_lost;
	struct vu_dev *vu; /* the transport's state, NULL until it listens */
	/*
	 * The transport's: tell the driver the config space changed (control
	 * thread; NULL while nothing is attached).
	 */
	void (*config_notify)(struct pviod_device *dev);
	/* pviod_device_changed()'s wake-up of the control thread; -1 without a loop. */
	int changed_fd;
	struct pviod_io changed_io;
	void *priv; /* the device type's */
	struct pviod_device *next; /* the daemon's list */
};

int pviod_device_init(struct pviod_device *dev, const struct pviod_env *env,
		      const struct pviod_device_ops *ops, const char *name, const char *socket_path,
		      unsigned int nqueues);
void pviod_device_free(struct pviod_device *dev);
void pviod_device_stats_log(struct pviod_device *dev);
int pviod_device_counters(struct pviod_device *dev, unsigned int qi,
			  struct pviod_queue_counters *c);
void pviod_counters_drop(struct pviod_queue_counters *c, const char *reason, uint64_t count);
void pviod_device_changed(struct pviod_device *dev);
int pviod_device_refresh(struct pviod_device *dev);

/*
 * A device type: how `--device TYPE,...` creates one.  @name is the
 * device's ("blk0"), @opts what follows "TYPE,".  Return: 0; -EINVAL for a
 * bad option (a message says which); another -errno when the device could
 * not be set up (a message names the file and errno).
 */
struct pviod_device_type {
	const char *name;
	int (*create)(const struct pviod_env *env, const char *name, const char *opts,
		      struct pviod_device **out);
};

#endif /* PVIOD_CORE_DEVICE_H */
