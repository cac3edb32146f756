/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dirty.h - the front-end's dirty log during live migration (vhost-user's
 * VHOST_F_LOG_ALL): every guest page pviod writes is marked in it, so the
 * migration sends it again.  dirty.c holds the queue core's part.
 *
 * The log is a bitmap over guest-physical address space from address 0,
 * one bit per VHOST_LOG_PAGE: page p is bit p % 8 of byte p / 8.  The
 * front-end reads and clears it while the workers set bits, so a bit is set
 * with an atomic OR, and with release order: the guest memory write it
 * stands for must be visible before the bit is (the front-end clears the
 * bit, then copies the page; a bit seen before the data would let it copy
 * the old contents and forget the page).
 *
 * Where a queue marks (core/queue.h, core/dirty.c): the writable part of a
 * chain, up to the length it is given back with, when it is published (a
 * device may still write into a chain it put, such as net's num_buffers,
 * until then), before the used index; the ring's own areas the device
 * writes (split: the used ring; packed: the descriptor ring and the
 * device's event area) after the used index, and once more when the ring
 * stops.  A device that writes bytes past that length (a status byte at
 * the chain's end) marks them with pviod_queue_log_write().
 *
 * Cost when off: q->log is NULL and each hook is one predictable branch.
 */
#ifndef PVIOD_CORE_DIRTY_H
#define PVIOD_CORE_DIRTY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vhost_user.h"

struct pvring_chain;
struct pvring_mem;
struct pvring_seg;
struct pviod_queue;

/* The log as pviod maps it (vhost-user/dirty.c); read-only while queues run. */
struct pviod_dirty_log {
	uint8_t *bitmap; /* NULL: no log */
	uint64_t size; /* bytes: pages below size * 8 can be marked */
};

/* A guest-physical range a chain's device may write. */
struct pviod_dirty_range {
	uint64_t gpa;
	uint64_t len;
};

/* The writable part of one popped chain, recorded while logging (by head). */
struct pviod_dirty_chain {
	struct pviod_dirty_range *r;
	unsigned int n; /* ranges, in the chain's order */
	unsigned int cap; /* room in @r */
	uint32_t written; /* the length it was put with */
};

/**
 * pviod_dirty_mark - mark the pages of [@gpa, @gpa + @len) dirty
 * @log: the log
 * @gpa: first guest-physical address written
 * @len: bytes written; 0 marks nothing
 *
 * Return: the pages that lie past the end of the log (not marked): 0 unless
 * the front-end gave a log too small for its memory.
 */
static inline uint64_t pviod_dirty_mark(const struct pviod_dirty_log *log, uint64_t gpa,
					uint64_t len)
{
	uint64_t page, last, missed = 0;

	if (!len)
		return 0;
	page = gpa / VHOST_LOG_PAGE;
	/* A range that wraps stops at the top of the address space. */
	last = (gpa + len - 1 < gpa ? UINT64_MAX : gpa + len - 1) / VHOST_LOG_PAGE;
	for (;; page++) {
		if (page / 8 < log->size)
			/* Release: the write this stands for is visible first (see above). */
			__atomic_fetch_or(&log->bitmap[page / 8], (uint8_t)(1u << (page % 8)),
					  __ATOMIC_RELEASE);
		else
			missed++;
		if (page == last)
			break;
	}
	return missed;
}

int pviod_queue_log_start(struct pviod_queue *q, const struct pviod_dirty_log *log,
			  const struct pvring_mem *mem, const struct pviod_dirty_range *ring,
			  unsigned int nring);
void pviod_queue_log_stop(struct pviod_queue *q);
void pviod_queue_log_free(struct pviod_queue *q);
void pviod_queue_log_ring(struct pviod_queue *q);
void __pviod_queue_log_pop(struct pviod_queue *q, const struct pvring_chain *c,
			   const struct pvring_seg *seg);
void __pviod_queue_log_staged(struct pviod_queue *q);
void __pviod_queue_log_hva(struct pviod_queue *q, const void *hva, size_t len);

#endif /* PVIOD_CORE_DIRTY_H */
