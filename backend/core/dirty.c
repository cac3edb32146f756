// SPDX-License-Identifier: GPL-2.0
/*
 * dirty.c - the queue core's part of dirty logging (core/dirty.h): what a
 * popped chain may write, marked once it is published, and the ring's own
 * areas.
 *
 * A chain's writable segments are recorded when it is popped, as
 * guest-physical ranges, because a put names only the head: the segments
 * are not the ring's to give again (a packed chain cannot be walked again
 * by its id, and the driver may rewrite a split descriptor).  Recording
 * costs an allocation the first time a head has more ranges than before;
 * it happens only while logging.
 *
 * Runs on the queue's worker, except pviod_queue_log_start() and
 * pviod_queue_log_stop(), which run on the control thread while the queue
 * is stopped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/device.h"
#include "core/dirty.h"
#include "core/queue.h"

/* Where @hva is in guest-physical space; false when in no region. */
static bool pviod_dirty_gpa(const struct pvring_mem *mem, const void *hva, uint64_t *gpa)
{
	unsigned int i;

	for (i = 0; i < mem->nregions; i++) {
		const struct pvring_mem_region *r = &mem->region[i];
		uintptr_t off = (uintptr_t)hva - (uintptr_t)r->hva;

		if (off < r->size) {
			*gpa = r->gpa + off;
			return true;
		}
	}
	return false;
}

/* Mark and count what fell past the end of the log (a front-end's mistake). */
static void pviod_queue_log_mark(struct pviod_queue *q, uint64_t gpa, uint64_t len)
{
	uint64_t missed = pviod_dirty_mark(q->log, gpa, len);

	if (likely(!missed))
		return;
	q->log_missed += missed;
	if (pviod_ratelimit_ok(&q->rl))
		pr_err("%s: queue %u: guest page 0x%llx is past the end of the dirty log (%llu bytes): the migration may lose it",
		       q->dev->name, q->index, (unsigned long long)(gpa / VHOST_LOG_PAGE),
		       (unsigned long long)q->log->size);
}

/**
 * __pviod_queue_log_pop - record what a chain just popped may write
 * @q: the queue (worker), logging
 * @c: the chain, its head valid
 * @seg: its segments; NULL for a bad chain (nothing to record: it is given
 *       back with length 0)
 */
void __pviod_queue_log_pop(struct pviod_queue *q, const struct pvring_chain *c,
			   const struct pvring_seg *seg)
{
	struct pviod_dirty_chain *ch = &q->log_chain[c->head];
	unsigned int i, nin = seg ? c->nseg - c->nout : 0;

	ch->n = 0;
	ch->written = 0;
	if (nin > ch->cap) {
		struct pviod_dirty_range *r = realloc(ch->r, nin * sizeof(*r));

		if (!r) {
			pviod_queue_break(q, "no memory to record a chain for the dirty log",
					  -ENOMEM);
			return;
		}
		ch->r = r;
		ch->cap = nin;
	}
	for (i = 0; i < nin; i++) {
		const struct pvring_seg *s = &seg[c->nout + i];

		/* Every segment came from the table: it is in a region. */
		if (!pviod_dirty_gpa(q->log_mem, s->base, &ch->r[ch->n].gpa))
			continue;
		ch->r[ch->n++].len = s->len;
	}
}

/**
 * __pviod_queue_log_staged - mark what the chains about to be published wrote
 * @q: the queue (worker), logging, before the used index moves
 *
 * The first @written bytes of each chain's writable part.
 */
void __pviod_queue_log_staged(struct pviod_queue *q)
{
	unsigned int i, j;

	for (i = 0; i < q->nstaged; i++) {
		const struct pviod_dirty_chain *ch = &q->log_chain[q->staged[i]];
		uint64_t left = ch->written;

		for (j = 0; j < ch->n && left; j++) {
			uint64_t k = ch->r[j].len < left ? ch->r[j].len : left;

			pviod_queue_log_mark(q, ch->r[j].gpa, k);
			left -= k;
		}
	}
}

/**
 * __pviod_queue_log_hva - mark guest memory the device wrote, by host address
 * @q: the queue (worker), logging
 * @hva: where (inside the memory table)
 * @len: bytes
 */
void __pviod_queue_log_hva(struct pviod_queue *q, const void *hva, size_t len)
{
	uint64_t gpa;

	if (pviod_dirty_gpa(q->log_mem, hva, &gpa))
		pviod_queue_log_mark(q, gpa, len);
}

/**
 * pviod_queue_log_ring - mark the ring areas the device writes
 * @q: the queue, logging (its worker; or the control thread, stopped)
 */
void pviod_queue_log_ring(struct pviod_queue *q)
{
	unsigned int i;

	for (i = 0; i < q->log_nring; i++)
		pviod_queue_log_mark(q, q->log_ring[i].gpa, q->log_ring[i].len);
}

/**
 * pviod_queue_log_start - log every write of the queue from its start
 * @q: the queue, stopped, its ring set up
 * @log: the front-end's log (mapped)
 * @mem: the memory table its chains are translated with
 * @ring: the ring areas the device writes (guest-physical)
 * @nring: how many (at most 2)
 *
 * Return: 0, -EINVAL for too many areas, or -ENOMEM.
 */
int pviod_queue_log_start(struct pviod_queue *q, const struct pviod_dirty_log *log,
			  const struct pvring_mem *mem, const struct pviod_dirty_range *ring,
			  unsigned int nring)
{
	unsigned int num = pvring_dev_size(&q->ring);

	pviod_queue_log_free(q);
	if (nring > sizeof(q->log_ring) / sizeof(q->log_ring[0]))
		return -EINVAL;
	q->log_chain = calloc(num, sizeof(*q->log_chain));
	if (!q->log_chain)
		return -ENOMEM;
	q->log_nchain = num;
	memcpy(q->log_ring, ring, nring * sizeof(*ring));
	q->log_nring = nring;
	q->log_mem = mem;
	q->log = log;
	return 0;
}

/**
 * pviod_queue_log_free - forget what logging recorded, marking nothing
 * @q: the queue, stopped (control thread)
 */
void pviod_queue_log_free(struct pviod_queue *q)
{
	unsigned int i;

	for (i = 0; q->log_chain && i < q->log_nchain; i++)
		free(q->log_chain[i].r);
	free(q->log_chain);
	q->log_chain = NULL;
	q->log_nchain = 0;
	q->log = NULL;
	q->log_nring = 0;
}

/**
 * pviod_queue_log_stop - stop logging, the ring areas marked a last time
 * @q: the queue, stopped (control thread), its memory still mapped;
 *     nothing happens when not logging
 *
 * A stopped ring changes no more, but what it wrote last (an event index
 * after the last publish) is in the log when GET_VRING_BASE answers.
 */
void pviod_queue_log_stop(struct pviod_queue *q)
{
	if (q->log)
		pviod_queue_log_ring(q);
	pviod_queue_log_free(q);
}
