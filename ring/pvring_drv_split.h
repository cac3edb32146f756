/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * pvring_drv_split.h - the driver side of a split virtqueue (virtio 1.2
 * §2.7): the inline fast paths behind pvring_drv.h's API.  Include
 * pvring_drv.h, never this file.
 *
 * Shared memory is hostile.  The driver never reads back what it wrote into
 * the descriptor table (the free list lives in the private slot array), reads
 * used->idx once per batch, copies each used element, and checks the id
 * names a chain it has in flight.  Anything else marks the ring broken.
 *
 * Memory ordering (Documentation/ring.rst has the whole contract):
 *   D1 driver add:      descriptors, avail->ring[]  --release-->  avail->idx
 *   D2 driver reap:     used->idx  --acquire-->  used->ring[], buffer contents
 *   D3 driver kick:     avail->idx store  --full mb-->  avail_event/used->flags load
 *   D4 driver enable:   used_event/avail->flags store  --full mb-->  used->idx load
 * pairing with V1..V4 on the device side (pvring_dev_split.h).
 */
#ifndef PVRING_DRV_SPLIT_H
#define PVRING_DRV_SPLIT_H

#ifndef PVRING_DRV_H
#error "include pvring_drv.h, not pvring_drv_split.h"
#endif

int pvring_drv_init_split(struct pvring_drv *vr, const struct pvring_drv_config *cfg);
bool pvring_drv_enable_cb_delayed_split(struct pvring_drv *vr);

/*
 * __pvring_drv_fill - write one descriptor of a chain.  Unchecked: the caller
 * has reserved @d.
 */
static inline pvring_always_inline void
__pvring_drv_fill(struct pvring_desc *d, const struct pvring_sg *sg, u16 flags, u16 next)
{
	d->addr = cpu_to_le64(sg->addr);
	d->len = cpu_to_le32(sg->len);
	d->flags = cpu_to_le16(flags);
	d->next = cpu_to_le16(next);
}

static inline pvring_always_inline int pvring_drv_stage_split(struct pvring_drv *vr,
							      const struct pvring_sg *sg,
							      unsigned int out, unsigned int in,
							      void *token)
{
	struct pvring_drv_split *s = &vr->split;
	unsigned int total = out + in, i;
	struct pvring_drv_slot *slot = vr->slot;
	u32 in_len = 0;
	u16 head, idx;

	head = vr->free_head;
	if (total > 1 && vr->indirect && total <= vr->indirect_max) {
		struct pvring_desc *table = vr->indirect + (size_t)head * vr->indirect_max;

		if (unlikely(vr->num_free < 1))
			return -ENOSPC;
		for (i = 0; i < total; i++) {
			u16 flags = i >= out ? PVRING_DESC_F_WRITE : 0;

			if (i + 1 < total)
				flags |= PVRING_DESC_F_NEXT;
			if (i >= out)
				in_len += sg[i].len;
			__pvring_drv_fill(&table[i], &sg[i], flags, i + 1 < total ? i + 1 : 0);
		}
		s->desc[head].addr =
			cpu_to_le64(vr->indirect_addr +
				    (u64)head * vr->indirect_max * sizeof(struct pvring_desc));
		s->desc[head].len = cpu_to_le32(total * sizeof(struct pvring_desc));
		s->desc[head].flags = cpu_to_le16(PVRING_DESC_F_INDIRECT);
		s->desc[head].next = 0;
		vr->free_head = slot[head].next;
		vr->num_free--;
		slot[head].ndesc = 1;
	} else {
		if (unlikely(total > vr->num))
			return -EINVAL;
		if (unlikely(vr->num_free < total))
			return -ENOSPC;
		idx = head;
		for (i = 0; i < total; i++) {
			u16 flags = i >= out ? PVRING_DESC_F_WRITE : 0;
			u16 next = slot[idx].next;

			if (i + 1 < total)
				flags |= PVRING_DESC_F_NEXT;
			if (i >= out)
				in_len += sg[i].len;
			__pvring_drv_fill(&s->desc[idx], &sg[i], flags, i + 1 < total ? next : 0);
			idx = next;
		}
		vr->free_head = idx;
		vr->num_free -= total;
		slot[head].ndesc = total;
	}
	slot[head].token = token;
	slot[head].in_len = in_len;

	s->avail->ring[s->avail_idx & vr->mask] = cpu_to_le16(head);
	s->avail_idx++;
	return 0;
}

static inline pvring_always_inline void pvring_drv_publish_split(struct pvring_drv *vr)
{
	struct pvring_drv_split *s = &vr->split;

	if (s->published_idx == s->avail_idx)
		return;
	s->published_idx = s->avail_idx;
	/*
	 * D1: the descriptors and ring entries written by the stage are
	 * visible before the new index.  Pairs with V1, the device's
	 * load-acquire of avail->idx in pvring_dev_avail_split().
	 */
	pvring_store_release(&s->avail->idx, cpu_to_le16(s->avail_idx));
}

static inline pvring_always_inline bool pvring_drv_kick_prepare_split(struct pvring_drv *vr)
{
	struct pvring_drv_split *s = &vr->split;
	u16 old_idx = s->kicked_idx, new_idx = s->avail_idx;
	bool kick;

	pvring_drv_publish_split(vr);

	/*
	 * D3: our avail->idx store is visible before we read what the device
	 * asked for.  Pairs with V4, the full barrier in
	 * pvring_dev_enable_notify_split() between its avail_event / flags
	 * store and its re-read of avail->idx: either it sees our index or we
	 * see its request for a kick.
	 */
	pvring_mb();
	if (vr->event_idx)
		kick = pvring_need_event(le16_to_cpu(READ_ONCE(*s->avail_event)), new_idx, old_idx);
	else
		kick = !(le16_to_cpu(READ_ONCE(s->used->flags)) & PVRING_USED_F_NO_NOTIFY);
	s->kicked_idx = new_idx;
	return kick;
}

/* __pvring_drv_detach_split - return chain @head's descriptors to the free list. */
static inline pvring_always_inline void __pvring_drv_detach_split(struct pvring_drv *vr, u16 head)
{
	struct pvring_drv_slot *slot = vr->slot;
	u16 tail = head, n = slot[head].ndesc;

	while (--n)
		tail = slot[tail].next;
	slot[tail].next = vr->free_head;
	vr->free_head = head;
	vr->num_free += slot[head].ndesc;
	slot[head].token = NULL;
}

/*
 * __pvring_drv_used_read_split - read used->idx now, check it and cache it.
 * Return: false when the device moved it by more than the ring size (the
 * ring is then broken).
 */
static inline pvring_always_inline bool __pvring_drv_used_read_split(struct pvring_drv *vr)
{
	struct pvring_drv_split *s = &vr->split;
	u16 idx;

	/*
	 * D2: the used entries and the data the device wrote are read only
	 * after the index.  Pairs with V2, the device's store-release of
	 * used->idx in pvring_dev_publish_split().
	 */
	idx = le16_to_cpu(pvring_load_acquire(&s->used->idx));
	if (unlikely((u16)(idx - s->last_used) > vr->num)) {
		vr->broken = true;
		return false;
	}
	s->used_idx = idx;
	return true;
}

static inline pvring_always_inline bool pvring_drv_more_used_split(struct pvring_drv *vr)
{
	struct pvring_drv_split *s = &vr->split;

	if (s->used_idx != s->last_used)
		return true;
	if (!__pvring_drv_used_read_split(vr))
		return false;
	return s->used_idx != s->last_used;
}

/*
 * __pvring_drv_batch_split - how many chains a used element naming @id
 * stands for under IN_ORDER: those from the oldest in flight up to @id
 * (§2.7.9), all of which must have been published used (used->idx moved
 * by as many).  @id is a head in flight: the run from ord_head reaches it.
 * Return: the count, or 0 when used->idx does not cover it.
 */
static inline u16 __pvring_drv_batch_split(const struct pvring_drv *vr, u16 id)
{
	u16 h = vr->ord_head, n = 1, ready = (u16)(vr->split.used_idx - vr->split.last_used);

	while (h != id) {
		h = (u16)((h + vr->slot[h].ndesc) & vr->mask);
		if (++n > ready)
			return 0;
	}
	return n;
}

/* pvring_drv_get_used_split() under IN_ORDER: chains come back oldest first. */
static inline pvring_always_inline void *__pvring_drv_get_used_in_order_split(struct pvring_drv *vr,
									      u32 *len)
{
	struct pvring_drv_split *s = &vr->split;
	u16 h = vr->ord_head, n;
	u32 id, l;

	if (!pvring_drv_more_used_split(vr))
		return NULL;
	if (vr->batch_left) {
		l = __pvring_drv_batch_next(vr);
	} else {
		struct pvring_used_elem *e = &s->used->ring[s->last_used & vr->mask];

		id = le32_to_cpu(READ_ONCE(e->id));
		l = le32_to_cpu(READ_ONCE(e->len));
		if (unlikely(id >= vr->num || !vr->slot[id].token)) {
			vr->broken = true;
			return NULL;
		}
		if (id != h) {
			n = __pvring_drv_batch_split(vr, (u16)id);
			if (unlikely(!n)) {
				vr->broken = true;
				return NULL;
			}
			l = __pvring_drv_batch_start(vr, n, l);
		}
	}
	s->last_used++;
	vr->ord_head = (u16)((h + vr->slot[h].ndesc) & vr->mask);
	return __pvring_drv_take_in_order(vr, h, l, len);
}

/* Without IN_ORDER: pvring_drv_get_used() sends an in-order ring to the function above. */
static inline pvring_always_inline void *pvring_drv_get_used_split(struct pvring_drv *vr, u32 *len)
{
	struct pvring_drv_split *s = &vr->split;
	struct pvring_used_elem *e;
	void *token;
	u32 id, l;

	if (!pvring_drv_more_used_split(vr))
		return NULL;
	e = &s->used->ring[s->last_used & vr->mask];
	id = le32_to_cpu(READ_ONCE(e->id));
	l = le32_to_cpu(READ_ONCE(e->len));
	if (unlikely(id >= vr->num || !vr->slot[id].token)) {
		vr->broken = true;
		return NULL;
	}
	s->last_used++;
	token = vr->slot[id].token;
	/*
	 * A device may report more than it was offered (some do, by the size of a
	 * header); never let the caller read past its buffer.
	 */
	*len = l < vr->slot[id].in_len ? l : vr->slot[id].in_len;
	__pvring_drv_detach_split(vr, (u16)id);
	return token;
}

static inline pvring_always_inline void pvring_drv_disable_cb_split(struct pvring_drv *vr)
{
	struct pvring_drv_split *s = &vr->split;

	if (!(s->avail_flags & PVRING_AVAIL_F_NO_INTERRUPT)) {
		s->avail_flags |= PVRING_AVAIL_F_NO_INTERRUPT;
		/*
		 * Under EVENT_IDX the flags stay 0 (virtio 1.2 §2.7.7.1: the
		 * driver MUST set them to 0) and used_event is not moved: the
		 * shadow alone remembers.  A store here would also dirty the
		 * line of avail->idx, which the device polls.
		 */
		if (!vr->event_idx)
			WRITE_ONCE(s->avail->flags, cpu_to_le16(s->avail_flags));
	}
}

static inline pvring_always_inline bool pvring_drv_enable_cb_split(struct pvring_drv *vr)
{
	struct pvring_drv_split *s = &vr->split;

	if (s->avail_flags & PVRING_AVAIL_F_NO_INTERRUPT) {
		s->avail_flags &= ~PVRING_AVAIL_F_NO_INTERRUPT;
		if (!vr->event_idx)
			WRITE_ONCE(s->avail->flags, cpu_to_le16(s->avail_flags));
	}
	if (vr->event_idx)
		WRITE_ONCE(*s->used_event, cpu_to_le16(s->last_used));
	/*
	 * D4: the request for a notification is visible before we look at
	 * used->idx again.  Pairs with V3, the full barrier in
	 * pvring_dev_should_notify_split(): either the device sees our request
	 * or we see its entries.
	 */
	pvring_mb();
	return vr->broken || !pvring_drv_more_used_split(vr);
}

#endif /* PVRING_DRV_SPLIT_H */
