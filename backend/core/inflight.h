/* SPDX-License-Identifier: GPL-2.0 */
/*
 * inflight.h - in-flight tracking of a packed ring (inflight.c): the
 * region's steps as the queue core pops, gives back and publishes chains,
 * and the recovery of a region a dead pviod left behind.  The split ring's
 * steps are inline in queue.h; where the region comes from is
 * vhost-user/inflight.c's business.
 */
#ifndef PVIOD_CORE_INFLIGHT_H
#define PVIOD_CORE_INFLIGHT_H

#include <stdint.h>

#include "pvring_packed.h"
#include "vhost_user_inflight.h"

struct pviod_queue;

/*
 * The queue's own copy of what the region links: the region is the
 * front-end's memory, written as the steps go and read back only by a
 * recovery, so that a front-end writing into it can make no step go
 * astray.  Entries and buffer ids are below the ring size; NONE ends a list.
 */
struct pviod_inflight_packed {
	struct vhost_user_inflight_region_packed *r; /* NULL: untracked */
	unsigned int num; /* the ring size: entries in the region */
	uint16_t free; /* the free list's first entry (the region's free_head) */
	uint16_t *next; /* by entry: the next one, as in the region */
	uint16_t *head; /* by buffer id in flight: its chain's head entry, */
	uint16_t *last; /* its last entry, */
	uint16_t *ndesc; /* and how many ring descriptors it takes */
	struct pvring_desc_packed *saved; /* recovery: the chains to resubmit, in order */
	unsigned int saved_pos; /* the next one's first descriptor */
};

int pviod_inflight_packed_adopt(struct pviod_queue *q, struct vhost_user_inflight_region_packed *r);
void pviod_inflight_packed_forget(struct pviod_queue *q);
void __pviod_inflight_pop_packed(struct pviod_queue *q, uint16_t id);
void __pviod_inflight_unpop_packed(struct pviod_queue *q, unsigned int n);
void __pviod_inflight_publish_packed(struct pviod_queue *q);
void __pviod_inflight_published_packed(struct pviod_queue *q);
const struct pvring_desc_packed *__pviod_inflight_saved_packed(struct pviod_queue *q, uint16_t id,
							       unsigned int *n);

#endif /* PVIOD_CORE_INFLIGHT_H */
