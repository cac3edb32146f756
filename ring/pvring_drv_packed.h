/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * pvring_drv_packed.h - the driver side of a packed virtqueue (virtio 1.2
 * §2.8): the inline fast paths behind pvring_drv.h's API.  Include
 * pvring_drv.h, never this file.
 *
 * The descriptor ring is filled in order from avail_seq; each buffer takes
 * a free buffer id (the slot array's free list, as a split ring's heads)
 * and the descriptors of its chain, or one descriptor naming its indirect
 * table.  The id is written into every descriptor of the chain (the spec
 * wants it in the last one; devices that read the first find it too).
 * Used descriptors are read in order from last_used; each names an id,
 * whose chain length says where the next one is.
 *
 * Shared memory is hostile.  The driver reads each used descriptor once
 * (flags, then id and len), accepts only ids it has in flight and clamps
 * the length to the writable bytes it offered; anything else breaks the
 * ring.  It never reads back what it wrote.
 *
 * Memory ordering (Documentation/ring.rst, "packed"):
 *   PD1 driver add:    descriptors, tables, payload  --release-->  first head's flags
 *   PD2 driver reap:   used descriptor's flags  --acquire-->  its id, len, buffers
 *   PD3 driver kick:   head flags store  --full mb-->  device event load
 *   PD4 driver enable: driver event store  --full mb-->  used descriptor's flags load
 * pairing with PV1..PV4 on the device side (pvring_dev_packed.h).
 */
#ifndef PVRING_DRV_PACKED_H
#define PVRING_DRV_PACKED_H

#ifndef PVRING_DRV_H
#error "include pvring_drv.h, not pvring_drv_packed.h"
#endif

int pvring_drv_init_packed(struct pvring_drv *vr, const struct pvring_drv_config *cfg);
bool pvring_drv_enable_cb_delayed_packed(struct pvring_drv *vr);

/*
 * __pvring_drv_packed_batch_at - the next batch starts at @seq: its
 * descriptors in @seq's cache line go to held[] as they are staged.
 */
static inline pvring_always_inline void __pvring_drv_packed_batch_at(struct pvring_drv_packed *p,
								     u16 seq)
{
	/*
	 * desc[] is 16-byte aligned: line_skew says where its line boundaries
	 * fall (in rings of fewer descriptors than a line, only roughly:
	 * any held_n from 1 to PVRING_PACKED_LINE_DESCS is correct).
	 */
	p->first_seq = seq;
	p->held_n =
		(u16)(PVRING_PACKED_LINE_DESCS - ((seq + p->line_skew) % PVRING_PACKED_LINE_DESCS));
}

/*
 * __pvring_drv_packed_set_pos - set both positions, nothing staged or in
 * flight: set-up, pvring_drv_detach_unused() and a test that starts a ring
 * elsewhere use it.  The fast paths keep avail_bits and used_bits along
 * themselves.
 */
static inline void __pvring_drv_packed_set_pos(struct pvring_drv *vr, u16 avail_seq, u16 last_used)
{
	struct pvring_drv_packed *p = &vr->packed;

	__pvring_drv_packed_batch_at(p, avail_seq);
	p->avail_seq = avail_seq;
	p->avail_bits = pvring_packed_avail_bits(avail_seq, vr->num);
	p->last_used = last_used;
	p->used_bits = pvring_packed_used_bits(last_used, vr->num);
}

static inline void __pvring_drv_fill_packed(struct pvring_desc_packed *d, u64 addr, u32 len, u16 id)
{
	d->addr = cpu_to_le64(addr);
	d->len = cpu_to_le32(len);
	d->id = cpu_to_le16(id);
}

/*
 * Where the driver stages the descriptor at @s: held[] for those in the
 * batch's first cache line, the ring for the rest.  held_n is at least 1,
 * so a batch's first descriptor always goes to held[].
 */
static inline pvring_always_inline struct pvring_desc_packed *
__pvring_drv_staged_desc_packed(struct pvring_drv_packed *p, struct pvring_desc_packed *ring, u16 s,
				unsigned int mask)
{
	u16 k = (u16)(s - p->first_seq);

	/* A branch, not a select: past the first line only the ring's address is worked out. */
	if (likely(k >= p->held_n))
		return &ring[s & mask];
	return &p->held[k];
}

static inline pvring_always_inline int pvring_drv_stage_packed(struct pvring_drv *vr,
							       const struct pvring_sg *sg,
							       unsigned int out, unsigned int in,
							       void *token)
{
	/*
	 * Locals: the descriptor stores may alias the ring's fields as far as
	 * the compiler knows, and would make it reload them after each.
	 */
	struct pvring_drv_packed *p = &vr->packed;
	struct pvring_desc_packed *ring = p->desc;
	struct pvring_drv_slot *slot = vr->slot;
	unsigned int total = out + in, i, num = vr->num, mask = vr->mask;
	u16 id = vr->free_head, seq = p->avail_seq, num_free = vr->num_free, head_flags, ndesc;
	struct pvring_desc_packed *hd;
	u32 in_len = 0;

	hd = __pvring_drv_staged_desc_packed(p, ring, seq, mask);
	if (total > 1 && vr->indirect && total <= vr->indirect_max) {
		struct pvring_desc_packed *table =
			(struct pvring_desc_packed *)vr->indirect + (size_t)id * vr->indirect_max;

		if (unlikely(num_free < 1))
			return -ENOSPC;
		/* In a table only WRITE counts (§2.8.7): no NEXT, no id. */
		for (i = 0; i < total; i++) {
			__pvring_drv_fill_packed(&table[i], sg[i].addr, sg[i].len, 0);
			table[i].flags = cpu_to_le16(i >= out ? PVRING_DESC_F_WRITE : 0);
			if (i >= out)
				in_len += sg[i].len;
		}
		__pvring_drv_fill_packed(hd,
					 vr->indirect_addr +
						 (u64)id * vr->indirect_max *
							 sizeof(struct pvring_desc_packed),
					 total * sizeof(struct pvring_desc_packed), id);
		head_flags = PVRING_DESC_F_INDIRECT | p->avail_bits;
		ndesc = 1;
	} else {
		/* num_free <= num: a chain that fits is never too long. */
		if (unlikely(num_free < total))
			return total > num ? -EINVAL : -ENOSPC;
		head_flags = p->avail_bits | (out ? 0 : PVRING_DESC_F_WRITE) |
			     (total > 1 ? PVRING_DESC_F_NEXT : 0);
		__pvring_drv_fill_packed(hd, sg[0].addr, sg[0].len, id);
		if (!out)
			in_len = sg[0].len;
		/* The rest of the chain first: the head's flags expose it all. */
		for (i = 1; i < total; i++) {
			u16 s = (u16)(seq + i), f = pvring_packed_avail_bits(s, num);
			struct pvring_desc_packed *d =
				__pvring_drv_staged_desc_packed(p, ring, s, mask);

			if (i >= out) {
				f |= PVRING_DESC_F_WRITE;
				in_len += sg[i].len;
			}
			if (i + 1 < total)
				f |= PVRING_DESC_F_NEXT;
			__pvring_drv_fill_packed(d, sg[i].addr, sg[i].len, id);
			WRITE_ONCE(d->flags, cpu_to_le16(f));
		}
		ndesc = (u16)total;
	}
	/*
	 * The first chain's head is in held[], published last; the later
	 * ones' heads may go out now, the device looks at none of them before
	 * the first.
	 */
	WRITE_ONCE(hd->flags, cpu_to_le16(head_flags));
	vr->free_head = slot[id].next;
	vr->num_free = (u16)(num_free - ndesc);
	slot[id].token = token;
	slot[id].in_len = in_len;
	slot[id].ndesc = ndesc;
	p->avail_seq = (u16)(seq + ndesc);
	if (pvring_packed_lap_moved(seq, p->avail_seq, num))
		p->avail_bits ^= PVRING_DESC_F_AVAIL | PVRING_DESC_F_USED;
	return 0;
}

static inline pvring_always_inline void pvring_drv_publish_packed(struct pvring_drv *vr)
{
	struct pvring_drv_packed *p = &vr->packed;
	u16 first = p->first_seq, n = (u16)(p->avail_seq - first), i;
	struct pvring_desc_packed *d;

	if (!n)
		return;
	if (n > p->held_n)
		n = p->held_n;
	/*
	 * The held line in one burst, its first head last: the device reads
	 * none of the others before that one's flags.
	 */
	for (i = n - 1; i > 0; i--) {
		d = &p->desc[(u16)(first + i) & vr->mask];
		WRITE_ONCE(d->addr, p->held[i].addr);
		WRITE_ONCE(d->tail, p->held[i].tail);
	}
	d = &p->desc[first & vr->mask];
	WRITE_ONCE(d->addr, p->held[0].addr);
	WRITE_ONCE(d->len, p->held[0].len);
	WRITE_ONCE(d->id, p->held[0].id);
	/*
	 * PD1: every descriptor, table and byte of payload of the batch is
	 * visible before the first head says "available".  Pairs with PV1,
	 * the device's load-acquire of a head's flags.
	 */
	pvring_store_release(&d->flags, p->held[0].flags);
	__pvring_drv_packed_batch_at(p, p->avail_seq);
}

static inline pvring_always_inline bool pvring_drv_kick_prepare_packed(struct pvring_drv *vr)
{
	struct pvring_drv_packed *p = &vr->packed;
	u16 old_seq = p->kicked_seq, new_seq = p->avail_seq;
	u32 ev;

	pvring_drv_publish_packed(vr);
	/*
	 * PD3: the heads are visible before we read what the device asked
	 * for.  Pairs with PV4, the full barrier in
	 * pvring_dev_enable_notify_packed(): either it sees our heads or we
	 * see its request for a kick.
	 */
	pvring_mb();
	ev = pvring_event_read(p->device);
	p->kicked_seq = new_seq;
	switch (pvring_event_flags(ev)) {
	case PVRING_EVENT_F_DISABLE:
		return false;
	case PVRING_EVENT_F_DESC:
		if (vr->event_idx)
			return pvring_packed_need_event(pvring_event_off_wrap(ev), new_seq, old_seq,
							vr->num);
		return true;
	default:
		return true;
	}
}

/* __pvring_drv_detach_packed - give buffer @id's id and descriptors back. */
static inline pvring_always_inline void __pvring_drv_detach_packed(struct pvring_drv *vr, u16 id)
{
	struct pvring_drv_slot *slot = vr->slot;

	vr->num_free += slot[id].ndesc;
	slot[id].token = NULL;
	slot[id].next = vr->free_head;
	vr->free_head = id;
}

/*
 * Is @d, the descriptor at last_used, used?  PD2's acquire is here; the
 * bits that say "used" for last_used's lap are kept in used_bits.
 */
static inline pvring_always_inline bool
__pvring_drv_used_next_packed(const struct pvring_drv *vr, const struct pvring_desc_packed *d)
{
	/*
	 * PD2: the id, the length and the data the device wrote are read
	 * only after the flags.  Pairs with PV2, the device's store-release
	 * of the first used descriptor's flags in pvring_dev_publish_packed().
	 */
	u16 flags = le16_to_cpu(pvring_load_acquire(&d->flags));

	return (flags & (PVRING_DESC_F_AVAIL | PVRING_DESC_F_USED)) == vr->packed.used_bits;
}

/*
 * Is the descriptor at last_used used, or (IN_ORDER) a batch's chains
 * left to reap?  batch_left is 0 without IN_ORDER.
 */
static inline pvring_always_inline bool pvring_drv_more_used_packed(struct pvring_drv *vr)
{
	const struct pvring_drv_packed *p = &vr->packed;

	return vr->batch_left ||
	       __pvring_drv_used_next_packed(vr, &p->desc[p->last_used & vr->mask]);
}

/*
 * __pvring_drv_used_read_packed - read the used descriptor at last_used,
 * once: false when there is none, or when its id is not a chain in flight
 * (the ring is then broken).
 */
static inline pvring_always_inline bool __pvring_drv_used_read_packed(struct pvring_drv *vr,
								      u32 *id, u32 *l)
{
	const struct pvring_drv_packed *p = &vr->packed;
	const struct pvring_desc_packed *d = &p->desc[p->last_used & vr->mask];

	if (!__pvring_drv_used_next_packed(vr, d))
		return false;
	*id = le16_to_cpu(READ_ONCE(d->id));
	*l = le32_to_cpu(READ_ONCE(d->len));
	if (unlikely(*id >= vr->num || !vr->slot[*id].token)) {
		vr->broken = true;
		return false;
	}
	return true;
}

/*
 * __pvring_drv_batch_packed - how many chains a used descriptor naming @id
 * stands for under IN_ORDER: ids are handed out in ring order, so those
 * in flight are the run from ord_head, and @id (in flight) ends a batch of
 * (@id - ord_head) mod num + 1 (§2.8.23).
 */
static inline pvring_always_inline u16 __pvring_drv_batch_packed(const struct pvring_drv *vr,
								 u16 id)
{
	return (u16)(((id - vr->ord_head) & vr->mask) + 1);
}

/* pvring_drv_get_used_packed() under IN_ORDER: chains come back oldest first. */
static inline pvring_always_inline void *
__pvring_drv_get_used_in_order_packed(struct pvring_drv *vr, u32 *len)
{
	struct pvring_drv_packed *p = &vr->packed;
	u16 seq = p->last_used, h = vr->ord_head;
	u32 id, l;

	if (vr->batch_left) {
		/* The batch's used descriptor was read and checked already. */
		l = __pvring_drv_batch_next(vr);
	} else {
		/* In flight: within the run from ord_head, so the batch is all in flight. */
		if (!__pvring_drv_used_read_packed(vr, &id, &l))
			return NULL;
		if (id != h)
			l = __pvring_drv_batch_start(vr, __pvring_drv_batch_packed(vr, (u16)id), l);
	}
	/* The device skipped the batch's chains: so do we, one by one (§2.8.23). */
	p->last_used = (u16)(seq + vr->slot[h].ndesc);
	if (pvring_packed_lap_moved(seq, p->last_used, vr->num))
		p->used_bits ^= PVRING_DESC_F_AVAIL | PVRING_DESC_F_USED;
	vr->ord_head = (u16)((h + 1) & vr->mask);
	return __pvring_drv_take_in_order(vr, h, l, len);
}

/* Without IN_ORDER: pvring_drv_get_used() sends an in-order ring to the function above. */
static inline pvring_always_inline void *pvring_drv_get_used_packed(struct pvring_drv *vr, u32 *len)
{
	struct pvring_drv_packed *p = &vr->packed;
	u16 seq = p->last_used;
	struct pvring_drv_slot *s;
	void *token;
	u32 id, l;

	if (!__pvring_drv_used_read_packed(vr, &id, &l))
		return NULL;
	s = &vr->slot[id];
	/* The device skipped the rest of the chain: so do we (§2.8.6). */
	p->last_used = (u16)(seq + s->ndesc);
	if (pvring_packed_lap_moved(seq, p->last_used, vr->num))
		p->used_bits ^= PVRING_DESC_F_AVAIL | PVRING_DESC_F_USED;
	token = s->token;
	/*
	 * The length whatever the WRITE flag says (QEMU never sets it);
	 * clamped, as for split, to what was offered.
	 */
	*len = l < s->in_len ? l : s->in_len;
	__pvring_drv_detach_packed(vr, (u16)id);
	return token;
}

static inline pvring_always_inline void pvring_drv_disable_cb_packed(struct pvring_drv *vr)
{
	struct pvring_drv_packed *p = &vr->packed;

	if (p->event_flags != PVRING_EVENT_F_DISABLE) {
		p->event_flags = PVRING_EVENT_F_DISABLE;
		pvring_event_write(p->driver, 0, PVRING_EVENT_F_DISABLE);
	}
}

static inline pvring_always_inline bool pvring_drv_enable_cb_packed(struct pvring_drv *vr)
{
	struct pvring_drv_packed *p = &vr->packed;

	if (vr->event_idx) {
		p->event_flags = PVRING_EVENT_F_DESC;
		pvring_event_write(p->driver,
				   pvring_packed_off_wrap_bits(p->last_used, p->used_bits, vr->num),
				   PVRING_EVENT_F_DESC);
	} else if (p->event_flags != PVRING_EVENT_F_ENABLE) {
		p->event_flags = PVRING_EVENT_F_ENABLE;
		pvring_event_write(p->driver, 0, PVRING_EVENT_F_ENABLE);
	}
	/*
	 * PD4: the request for a notification is visible before we look at
	 * the next used descriptor again.  Pairs with PV3, the full barrier in
	 * pvring_dev_should_notify_packed(): either the device sees our
	 * request or we see its descriptor.
	 */
	pvring_mb();
	return vr->broken || !pvring_drv_more_used_packed(vr);
}

#endif /* PVRING_DRV_PACKED_H */
