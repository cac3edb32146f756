/* SPDX-License-Identifier: GPL-2.0 */
/*
 * inflight.h - in-flight I/O tracking for back-end crash recovery
 * (VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD, QEMU docs/interop/vhost-user.rst,
 * "Inflight I/O tracking", split virtqueues).
 *
 * pviod allocates one shared area per device on GET_INFLIGHT_FD and hands its
 * fd to the front-end, which keeps it across our death and gives it back with
 * SET_INFLIGHT_FD after it reconnected to a new pviod.  The area holds, for
 * each queue, a struct pviod_inflight_region: which heads were popped and not
 * yet given back, in which order they were popped, and what used->idx was
 * after our last completion.  The worker updates it in an order that leaves
 * it recoverable whatever instruction we die at (see pviod_inflight_put()).
 *
 * The area is host-endian: only back-ends on this host read it.
 */
#ifndef PVIOD_INFLIGHT_H
#define PVIOD_INFLIGHT_H

#include <stdint.h>

#include "core/pviod.h"

#define PVIOD_INFLIGHT_VERSION 1
#define PVIOD_INFLIGHT_ALIGN 64 /* each queue's region starts on a cache line */

/* DescStateSplit of the spec: the state of one head descriptor. */
struct pviod_inflight_desc {
	uint8_t inflight; /* popped, not yet in the used ring */
	uint8_t padding[5];
	uint16_t next; /* the last batch of used heads, as a list */
	uint64_t counter; /* pop order: resubmit in increasing counter */
};

/* QueueRegionSplit of the spec: one queue's region. */
struct pviod_inflight_region {
	uint64_t features; /* 0 */
	uint16_t version; /* PVIOD_INFLIGHT_VERSION; 0: never initialised */
	uint16_t desc_num; /* the queue size */
	uint16_t last_batch_head; /* head of the list of the last used batch */
	uint16_t used_idx; /* used->idx once the last batch was accounted */
	struct pviod_inflight_desc desc[];
};

_Static_assert(sizeof(struct pviod_inflight_desc) == 16, "DescStateSplit is 16 bytes");
_Static_assert(sizeof(struct pviod_inflight_region) == 16, "QueueRegionSplit header is 16 bytes");

uint64_t pviod_inflight_region_size(uint16_t queue_size);
int pviod_inflight_get(struct pviod_device *dev, struct vhost_user_inflight *inf, int *fd);
int pviod_inflight_set(struct pviod_device *dev, const struct vhost_user_inflight *inf, int fd);
void pviod_inflight_clear(struct pviod_device *dev);
int pviod_inflight_queue_recover(struct pviod_queue *q);
void pviod_inflight_queue_release(struct pviod_queue *q);
int pviod_queue_pop(struct pviod_queue *q, struct pvring_chain *c, struct pvring_seg *seg,
		    unsigned int max_seg);

/*
 * The area is read only by the next back-end process, after we died: what
 * matters is the order our stores reach memory, and a process that dies has
 * every store it executed in the page cache.  A compiler barrier between the
 * steps is therefore all the ordering the spec's steps need (x86-TSO and, on
 * weaker CPUs, the kernel's full barrier on exit drain the store buffer).
 */
#define pviod_inflight_barrier() __atomic_signal_fence(__ATOMIC_SEQ_CST)

/**
 * pviod_inflight_get_head - the spec's "receiving available buffers" steps
 * @q: the queue (worker)
 * @head: the head just popped
 *
 * counter first, inflight second: an entry marked in flight always carries
 * its pop order.  A crash before inflight is set loses nothing: the chain is
 * then neither used nor in flight, and recovery resumes popping at
 * used_idx + in-flight count, which is exactly this chain.
 */
static inline void pviod_inflight_get_head(struct pviod_queue *q, uint16_t head)
{
	struct pviod_inflight_region *r = q->ifl;

	if (!r)
		return;
	r->desc[head].counter = q->ifl_counter++;
	pviod_inflight_barrier();
	r->desc[head].inflight = 1;
}

/**
 * pviod_inflight_put - push one used element, keeping the area recoverable
 * @q: the queue (worker)
 * @head: the chain's head
 * @len: bytes written into it
 *
 * The spec's "supplying used buffers" steps for a batch of one:
 *   1. desc[head].next = last_batch_head; last_batch_head = head
 *   2. the used element, then used->idx (release: V2 of the ring contract)
 *   3. desc[head].inflight = 0
 *   4. used_idx = used->idx
 * Dying before 2 leaves head in flight: it is resubmitted.  Dying between 2
 * and 4 leaves used_idx behind used->idx: recovery clears the heads of the
 * last batch (the list from last_batch_head) and catches used_idx up.
 */
static inline void pviod_inflight_put(struct pviod_queue *q, uint16_t head, uint32_t len)
{
	struct pviod_inflight_region *r = q->ifl;

	if (!r) {
		pvring_dev_push_used(&q->ring, head, len);
		return;
	}
	r->desc[head].next = r->last_batch_head;
	r->last_batch_head = head;
	pviod_inflight_barrier();
	pvring_dev_push_used(&q->ring, head, len);
	pviod_inflight_barrier();
	r->desc[head].inflight = 0;
	pviod_inflight_barrier();
	r->used_idx = pvring_dev_used_index(&q->ring);
}

#endif /* PVIOD_INFLIGHT_H */
