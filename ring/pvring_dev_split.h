/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * pvring_dev_split.h - the device side of a split virtqueue (virtio 1.2
 * §2.7): the inline fast paths behind pvring_dev.h's API.  Include
 * pvring_dev.h, never this file.
 *
 * The driver is hostile.  avail->idx is read once per batch and may move by at
 * most the ring size; each head and each descriptor is copied once into a
 * local before use (no double fetch); every address goes through the memory
 * table with its length; a chain is at most as long as its table (longer means
 * a loop: -ELOOP); an indirect table is refused inside another, when not
 * negotiated, when its length is not a non-zero multiple of 16, or when it
 * does not lie inside one region; a readable descriptor after a writable one
 * is refused.
 *
 * Memory ordering (Documentation/ring.rst):
 *   V1 device pop:     avail->idx  --acquire-->  avail->ring[], descriptors
 *   V2 device push:    used->ring[], buffer contents  --release-->  used->idx
 *   V3 device notify:  used->idx store  --full mb-->  used_event/avail->flags load
 *   V4 device enable:  avail_event/used->flags store  --full mb-->  avail->idx load
 * pairing with D1..D4 on the driver side (pvring_drv_split.h).
 */
#ifndef PVRING_DEV_SPLIT_H
#define PVRING_DEV_SPLIT_H

#ifndef PVRING_DEV_H
#error "include pvring_dev.h, not pvring_dev_split.h"
#endif

int pvring_dev_init_split(struct pvring_dev *vr, const struct pvring_dev_config *cfg);

static inline pvring_always_inline int pvring_dev_avail_split(struct pvring_dev *vr)
{
	struct pvring_dev_split *s = &vr->split;
	u16 idx, n;

	/*
	 * V1: the ring entries and descriptors are read only after the index.
	 * Pairs with D1, the driver's store-release in pvring_drv_publish_split().
	 */
	idx = le16_to_cpu(pvring_load_acquire(&s->avail->idx));
	n = (u16)(idx - s->last_avail);
	if (unlikely(n > vr->num)) {
		vr->broken = true;
		return -EIO;
	}
	s->avail_idx = idx;
	return n;
}

static inline pvring_always_inline bool pvring_dev_has_avail_split(struct pvring_dev *vr)
{
	return vr->split.last_avail != vr->split.avail_idx || pvring_dev_avail_split(vr) > 0;
}

/*
 * The head the pop @ahead chains from now will take, or -1 when that far
 * is past the avail index last read.  For prefetching only: pop reads the
 * entry again and checks it.
 */
static inline pvring_always_inline int pvring_dev_peek_head_split(const struct pvring_dev *vr,
								  unsigned int ahead)
{
	const struct pvring_dev_split *s = &vr->split;
	u16 slot = (u16)(s->last_avail + ahead), head;

	if ((u16)(s->avail_idx - s->last_avail) <= ahead)
		return -1;
	head = le16_to_cpu(READ_ONCE(s->avail->ring[slot & vr->mask]));
	return head < vr->num ? head : -1;
}

static inline pvring_always_inline void pvring_dev_prefetch_desc_split(const struct pvring_dev *vr,
								       unsigned int ahead)
{
	int head = pvring_dev_peek_head_split(vr, ahead);

	if (head >= 0)
		pvring_prefetch(&vr->split.desc[head]);
}

static inline pvring_always_inline void pvring_dev_prefetch_used_split(const struct pvring_dev *vr,
								       unsigned int n)
{
	const struct pvring_dev_split *s = &vr->split;
	unsigned int i;

	for (i = 0; i < n; i += 64 / sizeof(struct pvring_used_elem))
		pvring_prefetchw(&s->used->ring[(u16)(s->used_idx + i) & vr->mask]);
	if (n)
		pvring_prefetchw(&s->used->ring[(u16)(s->used_idx + n - 1) & vr->mask]);
}

/* Copy one descriptor out of shared memory, each field read exactly once. */
static inline pvring_always_inline void pvring_desc_copy(struct pvring_desc *dst,
							 const struct pvring_desc *src)
{
	dst->addr = READ_ONCE(src->addr);
	dst->len = READ_ONCE(src->len);
	dst->flags = READ_ONCE(src->flags);
	dst->next = READ_ONCE(src->next);
}

/*
 * __pvring_dev_walk_split - turn the chain at @c->head into host segments
 * @vr: the ring
 * @c: in: the head; out: the chain
 * @seg: out: its host segments
 * @max_seg: room in @seg
 * @first: the head descriptor already copied out of the table, or NULL
 *
 * Return: 0 or pvring_dev_pop()'s chain errors.
 */
static inline int __pvring_dev_walk_split(struct pvring_dev *vr, struct pvring_chain *c,
					  struct pvring_seg *seg, unsigned int max_seg,
					  const struct pvring_desc *first)
{
	const struct pvring_desc *table = vr->split.desc;
	unsigned int table_num = vr->num, count = 0, nseg = 0, nout = 0, ndesc = 0;
	bool in_indirect = false, seen_write = false;
	u64 out_len = 0, in_len = 0;
	u32 max_len = 0;
	struct pvring_desc d;
	u16 i = c->head;
	int n;

	for (;;) {
		u16 flags;
		u64 addr;
		u32 len;

		/* More descriptors than the table holds: the chain loops. */
		if (unlikely(++count > table_num))
			return -ELOOP;
		if (first) {
			/* The head, copied once by the caller: not read again. */
			d = *first;
			first = NULL;
		} else {
			pvring_desc_copy(&d, &table[i]);
		}
		flags = le16_to_cpu(d.flags);
		addr = le64_to_cpu(d.addr);
		len = le32_to_cpu(d.len);

		if (flags & PVRING_DESC_F_INDIRECT) {
			/* virtio 1.2 §2.7.5.3.1: no nesting, no NEXT beside INDIRECT. */
			if (unlikely(!vr->indirect || in_indirect || (flags & PVRING_DESC_F_NEXT)))
				return -EINVAL;
			if (unlikely(len == 0 || len % sizeof(struct pvring_desc) ||
				     len / sizeof(struct pvring_desc) > PVRING_MAX_SIZE))
				return -EINVAL;
			/* Read as an array of 8-byte fields: it must be aligned. */
			if (unlikely(addr % 8))
				return -EINVAL;
			table = pvring_mem_ptr(vr->mem, addr, len);
			if (unlikely(!table))
				return -EFAULT;
			/* A memory table may map it off the host's alignment. */
			if (unlikely((uintptr_t)table % 8))
				return -EINVAL;
			table_num = len / sizeof(struct pvring_desc);
			in_indirect = true;
			count = 0;
			i = 0;
			continue;
		}

		if (flags & PVRING_DESC_F_WRITE) {
			seen_write = true;
			in_len += len;
		} else {
			/* virtio 1.2 §2.7.4.2: readable descriptors come first. */
			if (unlikely(seen_write))
				return -EINVAL;
			out_len += len;
		}
		n = pvring_mem_xlate(vr->mem, addr, len, seg + nseg, max_seg - nseg);
		if (unlikely(n < 0))
			return n;
		nseg += n;
		ndesc++;
		if (len > max_len)
			max_len = len;
		if (!seen_write)
			nout = nseg;

		if (!(flags & PVRING_DESC_F_NEXT))
			break;
		i = le16_to_cpu(d.next);
		if (unlikely(i >= table_num))
			return -EINVAL;
	}
	c->nseg = nseg;
	c->nout = nout;
	c->ndesc = ndesc;
	c->max_len = max_len;
	c->out_len = out_len;
	c->in_len = in_len;
	return 0;
}

/* Turn the chain at @c->head into host segments; errors as pvring_dev_pop(). */
static inline int pvring_dev_walk_split(struct pvring_dev *vr, struct pvring_chain *c,
					struct pvring_seg *seg, unsigned int max_seg)
{
	return __pvring_dev_walk_split(vr, c, seg, max_seg, NULL);
}

/*
 * The common chain, one direct descriptor @d (copied), inline: as
 * __pvring_dev_walk_split() for a head without NEXT or INDIRECT.
 */
static inline pvring_always_inline int
__pvring_dev_one_split(struct pvring_dev *vr, const struct pvring_desc *d, struct pvring_chain *c,
		       struct pvring_seg *seg, unsigned int max_seg)
{
	bool write = le16_to_cpu(d->flags) & PVRING_DESC_F_WRITE;
	u32 len = le32_to_cpu(d->len);
	int n;

	n = pvring_mem_xlate(vr->mem, le64_to_cpu(d->addr), len, seg, max_seg);
	if (unlikely(n < 0))
		return n;
	c->nseg = n;
	c->nout = write ? 0 : n;
	c->ndesc = 1;
	c->max_len = len;
	c->out_len = write ? 0 : len;
	c->in_len = write ? len : 0;
	return 0;
}

static inline pvring_always_inline int pvring_dev_pop_split(struct pvring_dev *vr,
							    struct pvring_chain *c,
							    struct pvring_seg *seg,
							    unsigned int max_seg)
{
	struct pvring_dev_split *s = &vr->split;
	struct pvring_desc d;
	u16 head;
	int n;

	if (s->last_avail == s->avail_idx) {
		n = pvring_dev_avail_split(vr);
		if (n <= 0)
			return n;
	}
	head = le16_to_cpu(READ_ONCE(s->avail->ring[s->last_avail & vr->mask]));
	s->last_avail++;
	if (unlikely(head >= vr->num)) {
		vr->broken = true;
		return -EIO;
	}
	c->head = head;
	c->head_valid = true;
	/* The head is copied once here; a longer chain's walk goes on from the copy. */
	pvring_desc_copy(&d, &vr->split.desc[head]);
	if (likely(!(le16_to_cpu(d.flags) & (PVRING_DESC_F_NEXT | PVRING_DESC_F_INDIRECT))))
		n = __pvring_dev_one_split(vr, &d, c, seg, max_seg);
	else
		n = __pvring_dev_walk_split(vr, c, seg, max_seg, &d);
	return n < 0 ? n : 1;
}

static inline pvring_always_inline void pvring_dev_unpop_split(struct pvring_dev *vr,
							       unsigned int n)
{
	vr->split.last_avail -= (u16)n;
}

static inline pvring_always_inline void pvring_dev_put_split(struct pvring_dev *vr, u16 head,
							     u32 len)
{
	struct pvring_dev_split *s = &vr->split;
	struct pvring_used_elem *e = &s->used->ring[s->used_idx & vr->mask];

	WRITE_ONCE(e->id, cpu_to_le32(head));
	WRITE_ONCE(e->len, cpu_to_le32(len));
	s->used_idx++;
}

static inline pvring_always_inline void pvring_dev_unput_split(struct pvring_dev *vr,
							       unsigned int n)
{
	vr->split.used_idx -= (u16)n;
}

static inline pvring_always_inline unsigned int pvring_dev_staged_split(const struct pvring_dev *vr)
{
	return (u16)(vr->split.used_idx - vr->split.published_used);
}

static inline pvring_always_inline void pvring_dev_publish_split(struct pvring_dev *vr)
{
	struct pvring_dev_split *s = &vr->split;

	s->published_used = s->used_idx;
	/*
	 * V2: the used elements and the data written into the buffers are
	 * visible before the index.  Pairs with D2, the driver's load-acquire
	 * in __pvring_drv_used_read_split().
	 */
	pvring_store_release(&s->used->idx, cpu_to_le16(s->used_idx));
}

static inline pvring_always_inline bool pvring_dev_should_notify_split(struct pvring_dev *vr)
{
	struct pvring_dev_split *s = &vr->split;
	u16 old_idx = s->signalled_used, new_idx = s->published_used;
	bool valid = s->signalled_valid;

	/*
	 * V3: our used->idx store is visible before we read what the driver
	 * asked for.  Pairs with D4, the full barrier in
	 * pvring_drv_enable_cb_split().
	 */
	pvring_mb();
	if (!vr->event_idx)
		return !(le16_to_cpu(READ_ONCE(s->avail->flags)) & PVRING_AVAIL_F_NO_INTERRUPT);
	s->signalled_used = new_idx;
	s->signalled_valid = true;
	return !valid ||
	       pvring_need_event(le16_to_cpu(READ_ONCE(*s->used_event)), new_idx, old_idx);
}

static inline pvring_always_inline void pvring_dev_disable_notify_split(struct pvring_dev *vr)
{
	struct pvring_dev_split *s = &vr->split;

	/*
	 * Once: the flags share a cache line with used->idx, which the
	 * driver reads all the time; a store per poll would pull it back.
	 * Under EVENT_IDX, avail_event is simply left behind.
	 */
	if (!vr->event_idx && !s->no_notify) {
		WRITE_ONCE(s->used->flags, cpu_to_le16(PVRING_USED_F_NO_NOTIFY));
		s->no_notify = true;
	}
}

static inline pvring_always_inline bool pvring_dev_enable_notify_split(struct pvring_dev *vr)
{
	struct pvring_dev_split *s = &vr->split;

	if (vr->event_idx)
		WRITE_ONCE(*s->avail_event, cpu_to_le16(s->last_avail));
	else
		WRITE_ONCE(s->used->flags, 0);
	s->no_notify = false;
	/*
	 * V4: our request for kicks is visible before we look at avail->idx
	 * again.  Pairs with D3, the full barrier in
	 * pvring_drv_kick_prepare_split(): either the driver sees our request
	 * or we see its entries.
	 */
	pvring_mb();
	return pvring_dev_avail_split(vr) == 0;
}

#endif /* PVRING_DEV_SPLIT_H */
