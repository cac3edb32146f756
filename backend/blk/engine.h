/* SPDX-License-Identifier: GPL-2.0 */
/*
 * engine.h - where a virtio-blk device's data lives: the storage-engine
 * interface between the device (device.c: requests, status, counters) and
 * an engine that moves bytes (file.c: a raw image file or block device;
 * nbd.c: an NBD export; rbd.c: a Ceph RBD image).
 *
 * The device turns each request into one struct pviod_blk_io and submits
 * it; the engine completes it, now or later, by calling io->done on the
 * queue's worker.  An engine never sees a ring, a descriptor or a status
 * byte; the device never sees a file descriptor.
 *
 * Threads: submit and done run on the worker of io->q; queue_init on the
 * control thread while that queue is stopped; open, flush, queue_free and
 * close on the control thread with every queue stopped.
 */
#ifndef PVIOD_BLK_ENGINE_H
#define PVIOD_BLK_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/queue.h"

enum pviod_blk_op {
	PVIOD_BLK_READ, /* into io->seg */
	PVIOD_BLK_WRITE, /* from io->seg */
	PVIOD_BLK_FLUSH, /* make every completed write durable */
	PVIOD_BLK_DISCARD, /* io->range: may read back as anything after */
	PVIOD_BLK_WRITE_ZEROES, /* io->range: reads back as zeroes after */
};

/* A DISCARD / WRITE_ZEROES range, in bytes. */
struct pviod_blk_range {
	uint64_t offset;
	uint64_t len;
	bool unmap; /* WRITE_ZEROES may deallocate (VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) */
};

/**
 * struct pviod_blk_io - one operation the device asks of its engine
 * @op: what to do
 * @offset: READ / WRITE: where on the disk, in bytes
 * @seg: READ / WRITE: guest memory, an iovec in all but name; the engine may
 *       consume it as it goes (a short transfer moves its start)
 * @nseg: segments in @seg
 * @len: bytes in @seg
 * @range: DISCARD / WRITE_ZEROES: the ranges
 * @nrange: how many
 * @q: the queue whose worker submits and completes it
 * @eq: the engine's state for that queue (its ->queue_init's)
 * @slot: which of the queue's in-flight slots this is (< the slots given to
 *        ->queue_init): an engine keeps per-operation state there
 * @done: called once, on @q's worker, with 0 or -errno; the device may free
 *        or reuse @io from then on
 */
struct pviod_blk_io {
	enum pviod_blk_op op;
	uint64_t offset;
	struct pvring_seg *seg;
	unsigned int nseg;
	uint64_t len;
	const struct pviod_blk_range *range;
	unsigned int nrange;
	struct pviod_queue *q;
	void *eq;
	unsigned int slot;
	void (*done)(struct pviod_blk_io *io, int err);
};

struct pviod_blk_engine;

/* What an engine implements; int returns are 0 or -errno. */
struct pviod_blk_engine_ops {
	const char *name;
	/*
	 * Before the queue runs (again): per-queue state for @nslots operations
	 * in flight, in *@eq, which holds the last call's (NULL the first time).
	 */
	int (*queue_init)(struct pviod_blk_engine *e, struct pviod_queue *q, unsigned int nslots,
			  void **eq);
	/*
	 * Optional: the queue stopped (its worker drained it), before the
	 * memory its operations used may go: release what ->queue_init took
	 * for that memory.  ->queue_init comes again before it runs again.
	 */
	void (*queue_stop)(struct pviod_blk_engine *e, struct pviod_queue *q, void *eq);
	/* The device goes away: a queue's state from ->queue_init. */
	void (*queue_free)(struct pviod_blk_engine *e, void *eq);
	/* Optional, SIGUSR1, on the queue's worker: log the engine's counters of @q. */
	void (*queue_stats)(struct pviod_blk_engine *e, struct pviod_queue *q, void *eq);
	/* Worker: carry out @io; completes through io->done, maybe before returning. */
	void (*submit)(struct pviod_blk_engine *e, struct pviod_blk_io *io);
	/*
	 * Optional, control thread, operations in flight: the disk's size now
	 * (it may have been resized).  NULL: the engine cannot tell (NBD).
	 */
	int (*size)(struct pviod_blk_engine *e, uint64_t *bytes);
	/* Control thread, no operation in flight: make every write durable now. */
	int (*flush)(struct pviod_blk_engine *e);
	/* Release everything (also after a failed open). */
	void (*close)(struct pviod_blk_engine *e);
};

/**
 * struct pviod_blk_engine - an open engine, as the device sees it
 * @ops: the engine's operations
 * @size: the disk's size in bytes
 * @physical_block_size: a power of two >= 512 (the topology's physical block)
 * @readonly: writes are refused
 * @flush: PVIOD_BLK_FLUSH makes data durable (else the device offers no FLUSH)
 * @discard: PVIOD_BLK_DISCARD and PVIOD_BLK_WRITE_ZEROES are implemented
 * @priv: the engine's own
 */
struct pviod_blk_engine {
	const struct pviod_blk_engine_ops *ops;
	uint64_t size;
	uint32_t physical_block_size;
	bool readonly;
	bool flush;
	bool discard;
	void *priv;
};

/* file.c: a raw image file or block device, on the workers' io_uring. */
struct pviod_blk_file_opts {
	const char *path;
	bool readonly;
	bool direct; /* O_DIRECT, with a buffered fd for what it cannot take */
	bool inline_rw; /* reads and writes of an in-memory image on the worker */
	bool lock; /* take QEMU's image locks (lock.c) */
	bool fixed; /* io_uring fixed files, and guest memory as fixed buffers (O_DIRECT) */
};

int pviod_blk_file_open(struct pviod_blk_engine *e, const char *dev_name,
			const struct pviod_blk_file_opts *o);

/* nbd.c: an NBD export through libnbd, on the workers' event loop. */
struct pviod_blk_nbd_opts {
	const char *uri; /* nbd://HOST[:PORT]/EXPORT, nbd+unix:///EXPORT?socket=PATH, ... */
	bool readonly;
	unsigned int queues; /* one connection each: more than 1 needs multi-conn */
	unsigned int reconnect_s; /* how long to try to get a lost connection back */
};

int pviod_blk_nbd_open(struct pviod_blk_engine *e, const char *dev_name,
		       const struct pviod_blk_nbd_opts *o);

/* rbd.c: a Ceph RBD image through librbd, completions handed to the workers. */
struct pviod_blk_rbd_opts {
	const char *spec; /* POOL/IMAGE */
	const char *conf; /* ceph.conf; NULL: /etc/ceph/ceph.conf */
	const char *id; /* the client's id; NULL: admin */
	bool readonly;
	unsigned int timeout_s; /* how long an operation may wait for the cluster */
	/* Called on a librbd thread when the image changed (rbd resize); may be NULL. */
	void (*changed)(void *arg);
	void *changed_arg;
};

int pviod_blk_rbd_open(struct pviod_blk_engine *e, const char *dev_name,
		       const struct pviod_blk_rbd_opts *o);

#endif /* PVIOD_BLK_ENGINE_H */
