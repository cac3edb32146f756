// SPDX-License-Identifier: GPL-2.0
/*
 * inflight.c - in-flight tracking of a packed ring: QEMU's vhost-user spec,
 * "Inflight I/O tracking", QueueRegionPacked.
 *
 * A packed ring cannot give a chain in flight back by its id: the device
 * writes its used descriptors in order from its used position, over
 * descriptors of chains still in flight.  So the region keeps a copy of
 * every descriptor popped, one entry each, until the chain is used.  A pop
 * takes entries from the free list (the head entry carries the pop order,
 * the chain's length and its last entry, and is marked in flight first;
 * old_free_head moves last, which commits the pop); a publish gives the
 * batch's entries back and moves the used position, then the ring's
 * publish, then the heads are no longer in flight and the old_ fields catch
 * up, which commits the publish.  Entries go back at publish, not at put:
 * until the ring says "used", a recovery must still find the chain.
 *
 * Recovery rolls a batch that had not reached the ring back, or commits one
 * that had (the ring's first used descriptor says which), clears the free
 * list, and resubmits every head still in flight in pop order.  Where to
 * resume comes from the region, not from SET_VRING_BASE (QEMU cannot know
 * a packed ring's positions after its back-end died): used there, avail
 * that plus every descriptor still in flight, since each used descriptor
 * moves the used position by its own chain's length whatever the order.
 *
 * Threads: the queue's worker while it runs; pviod_inflight_packed_adopt()
 * and _forget() on the control thread with the queue stopped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/device.h"
#include "core/inflight.h"
#include "core/log.h"
#include "core/queue.h"

/* The off_wrap form of a region's used position. */
static uint16_t ifl_pos(uint16_t idx, uint8_t wrap)
{
	return (uint16_t)((idx & 0x7fff) | (wrap ? 0x8000 : 0));
}

/* Store the used position @pos (off_wrap), and with @old the one before the batch too. */
static void ifl_used_store(struct vhost_user_inflight_region_packed *r, uint16_t pos, bool old)
{
	r->used_idx = pos & 0x7fff;
	r->used_wrap_counter = pos >> 15;
	if (old) {
		r->old_used_idx = pos & 0x7fff;
		r->old_used_wrap_counter = pos >> 15;
	}
}

/*
 * The region cannot be kept up to date (a free list that ran out: only a
 * front-end writing into it does that): stop tracking, and leave it marked
 * new so that no recovery trusts it.
 */
static void ifl_packed_drop(struct pviod_queue *q, const char *why)
{
	struct pviod_inflight_packed *p = &q->iflp;

	pr_err("%s: queue %u: in-flight region: %s: no longer tracked", q->dev->name, q->index,
	       why);
	p->r->version = 0;
	p->r = NULL;
}

/* Push the entries of buffer @id's chain onto the free list (region and copy). */
static void ifl_packed_push(struct pviod_inflight_packed *p, uint16_t id)
{
	uint16_t last = p->last[id];

	p->r->desc[last].next = p->free;
	p->next[last] = p->free;
	p->free = p->head[id];
	p->r->free_head = p->free;
}

/**
 * __pviod_inflight_pop_packed - record the chain just popped
 * @q: the queue (worker), its ring's last pop gave buffer id @id
 * @id: the chain's buffer id
 *
 * The spec's steps for "receiving available buffers", over the chain's
 * ring descriptors: its head entry is marked (counter, then in flight),
 * each descriptor copied into the next free entry, and old_free_head
 * moved last: a pop cut short is not in flight for a recovery (the ring
 * still has it to pop again).
 */
void __pviod_inflight_pop_packed(struct pviod_queue *q, uint16_t id)
{
	struct pviod_inflight_packed *p = &q->iflp;
	struct vhost_user_inflight_region_packed *r = p->r;
	uint16_t e = p->free, f = e, last = e;
	struct pvring_desc_packed d;
	unsigned int n, i;

	n = pvring_dev_popped_desc(&q->ring, 0, &d);
	if (e >= p->num || !n) {
		ifl_packed_drop(q, "no free entry for a chain popped");
		return;
	}
	r->desc[e].num = 0;
	r->desc[e].counter = q->ifl_counter++;
	pviod_inflight_barrier();
	r->desc[e].inflight = 1;
	for (i = 0; i < n; i++) {
		if (f >= p->num) {
			ifl_packed_drop(q, "the free list ran out in a chain");
			return;
		}
		if (i)
			pvring_dev_popped_desc(&q->ring, i, &d);
		if (i == n - 1) {
			r->desc[e].last = f;
			last = f;
		}
		r->desc[e].num = (uint16_t)(i + 1);
		r->desc[f].addr = le64_to_cpu(d.addr);
		r->desc[f].len = le32_to_cpu(d.len);
		r->desc[f].id = le16_to_cpu(d.id);
		r->desc[f].flags = le16_to_cpu(d.flags);
		f = p->next[f];
		r->free_head = f;
	}
	pviod_inflight_barrier();
	r->old_free_head = f;
	p->free = f;
	p->head[id] = e;
	p->last[id] = last;
	p->ndesc[id] = (uint16_t)n;
}

/**
 * __pviod_inflight_unpop_packed - the last @n chains popped go back to the ring
 * @q: the queue (worker), before pviod_queue_unpop() forgets them
 * @n: how many
 *
 * Their entries are freed as a publish frees them, committed at once: a
 * recovery pops them from the ring again, or (dying before the commit)
 * resubmits them: either way once.
 */
void __pviod_inflight_unpop_packed(struct pviod_queue *q, unsigned int n)
{
	struct pviod_inflight_packed *p = &q->iflp;
	unsigned int i, mask = q->held_size - 1;

	for (i = 0; i < n; i++)
		ifl_packed_push(p, q->popped[(q->pop_seq - 1 - i) & mask]);
	pviod_inflight_barrier();
	p->r->old_free_head = p->free;
	pviod_inflight_barrier();
	for (i = 0; i < n; i++)
		p->r->desc[p->head[q->popped[(q->pop_seq - 1 - i) & mask]]].inflight = 0;
}

/**
 * __pviod_inflight_publish_packed - the region's steps before the ring's publish
 * @q: the queue (worker), with chains put (q->staged)
 *
 * Each chain's entries back onto the free list, then the used position
 * past the batch: a recovery that finds it ahead of old_used_idx looks at
 * the ring to learn whether the batch got there.
 */
void __pviod_inflight_publish_packed(struct pviod_queue *q)
{
	struct pviod_inflight_packed *p = &q->iflp;
	unsigned int i, num = p->num;
	int seq = pvring_packed_seq(pvring_dev_used_index(&q->ring), num);
	uint16_t pos;

	for (i = 0; i < q->nstaged; i++) {
		ifl_packed_push(p, q->staged[i]);
		seq += p->ndesc[q->staged[i]];
	}
	pos = pvring_packed_off_wrap((uint16_t)seq, num);
	ifl_used_store(p->r, pos, false);
	pviod_inflight_barrier();
}

/**
 * __pviod_inflight_published_packed - the region's steps after the ring's publish
 * @q: the queue (worker), its batch still in q->staged
 */
void __pviod_inflight_published_packed(struct pviod_queue *q)
{
	struct pviod_inflight_packed *p = &q->iflp;
	struct vhost_user_inflight_region_packed *r = p->r;
	uint16_t pos = pvring_dev_used_index(&q->ring);
	unsigned int i;

	pviod_inflight_barrier();
	for (i = 0; i < q->nstaged; i++)
		r->desc[p->head[q->staged[i]]].inflight = 0;
	/*
	 * Where the ring really is: a driver that made an id available twice
	 * can have made the ring's count of a chain's descriptors differ from
	 * ours (the queue is broken then; the region stays the ring's).
	 */
	ifl_used_store(r, pos, false);
	pviod_inflight_barrier();
	r->old_free_head = p->free;
	ifl_used_store(r, pos, true);
}

/**
 * __pviod_inflight_saved_packed - the descriptors of the next chain to resubmit
 * @q: the queue (worker), resubmitting buffer id @id
 * @id: the chain's buffer id, the next of q->resubmit
 * @n: out: how many
 *
 * Return: the chain's descriptors as the region recorded them.
 */
const struct pvring_desc_packed *__pviod_inflight_saved_packed(struct pviod_queue *q, uint16_t id,
							       unsigned int *n)
{
	struct pviod_inflight_packed *p = &q->iflp;
	const struct pvring_desc_packed *d = p->saved + p->saved_pos;

	*n = id < p->num ? p->ndesc[id] : 0;
	p->saved_pos += *n;
	return d;
}

/**
 * pviod_inflight_packed_forget - stop tracking, free the queue's copy
 * @q: the queue, stopped
 */
void pviod_inflight_packed_forget(struct pviod_queue *q)
{
	struct pviod_inflight_packed *p = &q->iflp;

	free(p->next);
	free(p->saved);
	memset(p, 0, sizeof(*p));
}

/* A region never used (or not to be trusted): every entry free, used where the ring is. */
static void ifl_packed_fresh(struct pviod_queue *q, struct vhost_user_inflight_region_packed *r)
{
	struct pviod_inflight_packed *p = &q->iflp;
	uint16_t pos = pvring_dev_used_index(&q->ring);
	unsigned int i;

	memset(r, 0, vhost_user_inflight_region_size_packed(p->num));
	for (i = 0; i < p->num; i++) {
		r->desc[i].next = (uint16_t)(i + 1);
		p->next[i] = (uint16_t)(i + 1);
	}
	p->free = 0;
	ifl_used_store(r, pos, true);
	r->desc_num = (uint16_t)p->num;
	pviod_inflight_barrier();
	r->version = VHOST_USER_INFLIGHT_VERSION;
	q->ifl_counter = 1;
}

struct ifl_head {
	uint64_t counter;
	uint16_t entry;
	uint16_t id;
};

static int ifl_head_cmp(const void *a, const void *b)
{
	const struct ifl_head *x = a, *y = b;

	return x->counter < y->counter ? -1 : x->counter > y->counter;
}

/*
 * Walk the chain of head entry @e, marking its entries in @mark.  Return:
 * its buffer id, or -EINVAL when it is not a chain of its own.
 */
static int ifl_packed_chain(struct pviod_inflight_packed *p, uint16_t e, uint8_t *mark)
{
	const struct vhost_user_inflight_region_packed *r = p->r;
	unsigned int n = r->desc[e].num, k;
	uint16_t f = e, id;

	if (!n || n > p->num)
		return -EINVAL;
	for (k = 0;; k++) {
		if (f >= p->num || mark[f])
			return -EINVAL;
		mark[f] = 1;
		if (k)
			p->r->desc[f].inflight = 0; /* only a head's counts: the rest is noise */
		if (k == n - 1)
			break;
		p->next[f] = r->desc[f].next;
		f = p->next[f];
	}
	id = r->desc[f].id;
	if (f != r->desc[e].last || id >= p->num || p->ndesc[id])
		return -EINVAL;
	p->head[id] = e;
	p->last[id] = f;
	p->ndesc[id] = (uint16_t)n;
	return id;
}

/*
 * Adopt a region a previous pviod kept: the spec's "when reconnecting"
 * steps, and a check that its entries are exactly the free list and the
 * chains in flight, each once.  Return: 0, -EINVAL for a region that does
 * not add up, or -ENOMEM.
 */
static int ifl_packed_recover(struct pviod_queue *q, struct vhost_user_inflight_region_packed *r)
{
	struct pviod_inflight_packed *p = &q->iflp;
	uint16_t pos = ifl_pos(r->old_used_idx, r->old_used_wrap_counter);
	uint16_t now = ifl_pos(r->used_idx, r->used_wrap_counter), f, id;
	unsigned int num = p->num, i, n = 0, total = 0, k = 0;
	struct ifl_head *heads = NULL;
	uint64_t max = 0;
	uint8_t *mark;
	int seq, ret = -EINVAL;

	seq = pvring_packed_seq(pos, num);
	if (seq < 0)
		return -EINVAL;
	if (now != pos) {
		/* Died publishing a batch: did it reach the ring? */
		if (pvring_packed_seq(now, num) >= 0 && pvring_dev_used_published(&q->ring, pos)) {
			r->old_free_head = r->free_head;
			pos = now;
			seq = pvring_packed_seq(pos, num);
			pr_info("%s: queue %u: committed the last used batch (used 0x%x)",
				q->dev->name, q->index, pos);
		} else {
			pr_info("%s: queue %u: rolled back a used batch that never reached the ring (used 0x%x)",
				q->dev->name, q->index, pos);
		}
	}
	mark = calloc(num, 1);
	heads = calloc(num, sizeof(*heads));
	if (!mark || !heads) {
		ret = -ENOMEM;
		goto out;
	}
	/* The free list (after a rollback: the one before the batch), none in flight. */
	for (f = r->old_free_head; f < num; f = p->next[f]) {
		if (mark[f])
			goto out;
		mark[f] = 1;
		r->desc[f].inflight = 0;
		p->next[f] = r->desc[f].next;
	}
	p->free = r->old_free_head;
	/* Every other entry in flight belongs to a chain, and the chains to the ring. */
	for (i = 0; i < num; i++) {
		int c;

		if (mark[i] || r->desc[i].inflight != 1)
			continue;
		c = ifl_packed_chain(p, (uint16_t)i, mark);
		if (c < 0)
			goto out;
		total += p->ndesc[c];
		heads[n].counter = r->desc[i].counter;
		heads[n].entry = (uint16_t)i;
		heads[n++].id = (uint16_t)c;
	}
	for (i = 0; i < num; i++) {
		if (!mark[i])
			goto out;
		if (r->desc[i].counter > max)
			max = r->desc[i].counter;
	}
	if (n) {
		qsort(heads, n, sizeof(*heads), ifl_head_cmp);
		q->resubmit = calloc(n, sizeof(*q->resubmit));
		p->saved = calloc(total, sizeof(*p->saved));
		if (!q->resubmit || !p->saved) {
			ret = -ENOMEM;
			goto out;
		}
		/* Copied out once: the front-end may write the region. */
		for (i = 0; i < n; i++) {
			unsigned int j;

			id = heads[i].id;
			f = heads[i].entry;
			for (j = 0; j < p->ndesc[id]; j++, f = p->next[f]) {
				const struct vhost_user_inflight_desc_packed *e = &r->desc[f];

				p->saved[k].addr = cpu_to_le64(e->addr);
				p->saved[k].len = cpu_to_le32(e->len);
				p->saved[k].id = cpu_to_le16(e->id);
				p->saved[k++].flags = cpu_to_le16(e->flags);
			}
			q->resubmit[q->resubmit_num++] = id;
		}
		pr_info("%s: queue %u: resubmitting %u request%s left in flight (used 0x%x)",
			q->dev->name, q->index, n, n == 1 ? "" : "s", pos);
	}
	/* The region as a finished publish leaves it. */
	r->free_head = p->free;
	r->old_free_head = p->free;
	ifl_used_store(r, pos, true);
	q->ifl_counter = max + 1;
	/* Popping resumes past every descriptor in flight; publishing at the region's used. */
	pvring_dev_set_base(&q->ring, pvring_packed_off_wrap((uint16_t)(seq + total), num) |
					      (uint32_t)pos << 16);
	ret = 0;
out:
	free(mark);
	free(heads);
	return ret;
}

/**
 * pviod_inflight_packed_adopt - take the queue's packed region before it runs
 * @q: the queue, stopped, its packed ring initialised from SET_VRING_BASE
 * @r: its region in the area (desc_num entries' room, the front-end's memory)
 *
 * A region never used starts afresh where SET_VRING_BASE says; one that a
 * previous pviod kept is recovered: q->resubmit lists the chains to serve
 * again, in pop order, and the ring resumes where the region says.  One
 * that does not add up is started afresh, with a warning: resubmitting
 * from it could complete a request twice.
 *
 * Return: 0 or -ENOMEM.
 */
int pviod_inflight_packed_adopt(struct pviod_queue *q, struct vhost_user_inflight_region_packed *r)
{
	struct pviod_inflight_packed *p = &q->iflp;
	unsigned int num = pvring_dev_size(&q->ring);
	int ret;

	pviod_inflight_packed_forget(q);
	p->next = calloc(4 * (size_t)num, sizeof(*p->next));
	if (!p->next)
		return -ENOMEM;
	p->head = p->next + num;
	p->last = p->head + num;
	p->ndesc = p->last + num;
	p->num = num;
	p->r = r;
	if (r->version != VHOST_USER_INFLIGHT_VERSION || r->desc_num != num) {
		ifl_packed_fresh(q, r);
		return 0;
	}
	ret = ifl_packed_recover(q, r);
	if (ret == -EINVAL) {
		pr_warn("%s: queue %u: the in-flight region does not add up: reset, resuming at SET_VRING_BASE",
			q->dev->name, q->index);
		pviod_queue_resubmit_free(q);
		memset(p->head, 0, 3 * (size_t)num * sizeof(*p->head));
		ifl_packed_fresh(q, r);
		return 0;
	}
	if (ret) {
		pviod_queue_resubmit_free(q);
		pviod_inflight_packed_forget(q);
	}
	return ret;
}
