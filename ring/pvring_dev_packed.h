/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * pvring_dev_packed.h - the device side of a packed virtqueue (virtio 1.2
 * §2.8): the inline fast paths behind pvring_dev.h's API.  Include
 * pvring_dev.h, never this file.
 *
 * Chains are taken in ring order from last_avail; a chain is the run of
 * descriptors linked by NEXT, all of them marked available for their lap,
 * and its buffer id is the last one's.  Used descriptors are written in
 * order from used_seq, one per chain, each skipping as many descriptors as
 * the chain took (the device's private state remembers that per id).
 * Puts are kept in the private state until published: a put taken back
 * (pvring_dev_unput()) never touched the ring, so the chain can still be
 * given back to the driver's side (pvring_dev_unpop()) intact.
 *
 * The driver is hostile.  Each head's flags are read once with acquire and
 * every descriptor is copied once before use; every address goes through
 * the memory table; a chain may take at most the descriptors the driver can
 * have made available.  What breaks the ring (-EIO, nothing can be trusted
 * after, since the next chain's place is unknown): a chain that does not
 * end there, a descriptor of a chain that is not marked available for its
 * lap, a buffer id not below the ring size.  What is a bad chain (consumed,
 * head_valid, to complete with length 0): bad addresses, readable after
 * writable, an indirect table where none may be (not negotiated, beside
 * NEXT, not first) or that is malformed, too many segments.
 *
 * Memory ordering (Documentation/ring.rst, "packed"):
 *   PV1 device pop:     head's flags  --acquire-->  the chain, its tables
 *   PV2 device publish: used descriptors, buffer contents  --release-->  first one's flags
 *   PV3 device notify:  first used flags store  --full mb-->  driver event load
 *   PV4 device enable:  device event store  --full mb-->  next head's flags load
 * pairing with PD1..PD4 on the driver side (pvring_drv_packed.h).
 */
#ifndef PVRING_DEV_PACKED_H
#define PVRING_DEV_PACKED_H

#ifndef PVRING_DEV_H
#error "include pvring_dev.h, not pvring_dev_packed.h"
#endif

int pvring_dev_init_packed(struct pvring_dev *vr, const struct pvring_dev_config *cfg);

/*
 * Descriptors a chain starting at @seq may take: those not held by chains
 * popped and not yet published used (the driver cannot have reused them).
 */
static inline unsigned int __pvring_dev_room_packed(const struct pvring_dev *vr, u16 seq)
{
	u16 held = (u16)(seq - vr->packed.used_seq);

	return held >= vr->num ? 0 : vr->num - held;
}

/* How far pvring_dev_avail() has looked: avail_end means something only with a count. */
static inline pvring_always_inline u16
__pvring_dev_avail_end_packed(const struct pvring_dev_packed *p)
{
	return p->avail_cnt ? p->avail_end : p->last_avail;
}

/*
 * Is the descriptor at @seq a head the driver made available?  PV1's acquire.
 * The room test is __pvring_dev_room_packed() != 0, written as the
 * comparison it amounts to.
 */
static inline pvring_always_inline bool __pvring_dev_head_avail_packed(const struct pvring_dev *vr,
								       u16 seq, u16 *flags)
{
	/*
	 * PV1: the chain, its tables and the payload are read only after the
	 * head's flags.  Pairs with PD1, the driver's store-release in
	 * pvring_drv_publish_packed().
	 */
	*flags = le16_to_cpu(pvring_load_acquire(&vr->packed.desc[seq & vr->mask].flags));
	return pvring_packed_is_avail(*flags, seq, vr->num) &&
	       (u16)(seq - vr->packed.used_seq) < vr->num;
}

/*
 * Is the descriptor at @seq, the next to pop, a head the driver made
 * available?  As __pvring_dev_head_avail_packed(), with the lap's bits
 * kept in avail_bits instead of worked out from @seq, and the room test
 * against pop_end: pops and publishes keep last_avail within num of
 * used_seq, so "seq - used_seq < num" is "seq != pop_end" there.
 */
static inline pvring_always_inline bool __pvring_dev_head_next_packed(const struct pvring_dev *vr,
								      u16 seq, u16 *flags)
{
	const struct pvring_dev_packed *p = &vr->packed;

	/* PV1, as in __pvring_dev_head_avail_packed(). */
	*flags = le16_to_cpu(pvring_load_acquire(&p->desc[seq & vr->mask].flags));
	return (*flags & (PVRING_DESC_F_AVAIL | PVRING_DESC_F_USED)) == p->avail_bits &&
	       seq != p->pop_end;
}

/* Copy one descriptor out of shared memory, each field read exactly once. */
static inline void pvring_desc_copy_packed(struct pvring_desc_packed *dst,
					   const struct pvring_desc_packed *src)
{
	dst->addr = READ_ONCE(src->addr);
	dst->len = READ_ONCE(src->len);
	dst->id = READ_ONCE(src->id);
}

/* Running totals of a chain's walk. */
struct __pvring_walk {
	unsigned int nseg, nout, ndesc;
	u32 max_len;
	u64 out_len, in_len;
	bool seen_write;
};

/* One buffer of a chain (direct, or an entry of its table); errors as pop. */
static inline int __pvring_dev_buf_packed(struct pvring_dev *vr, struct __pvring_walk *w, u64 addr,
					  u32 len, bool write, struct pvring_seg *seg,
					  unsigned int max_seg)
{
	int n;

	if (write) {
		w->seen_write = true;
		w->in_len += len;
	} else {
		/* §2.8.18: readable elements come first. */
		if (unlikely(w->seen_write))
			return -EINVAL;
		w->out_len += len;
	}
	n = pvring_mem_xlate(vr->mem, addr, len, seg + w->nseg, max_seg - w->nseg);
	if (unlikely(n < 0))
		return n;
	w->nseg += n;
	w->ndesc++;
	if (len > w->max_len)
		w->max_len = len;
	if (!w->seen_write)
		w->nout = w->nseg;
	return 0;
}

/* The table an INDIRECT head names: its entries are buffers, only WRITE counts. */
static inline int __pvring_dev_table_packed(struct pvring_dev *vr, struct __pvring_walk *w,
					    u64 addr, u32 len, struct pvring_seg *seg,
					    unsigned int max_seg)
{
	const struct pvring_desc_packed *table;
	unsigned int i, n;
	int err;

	if (unlikely(len == 0 || len % sizeof(*table) || len / sizeof(*table) > PVRING_MAX_SIZE))
		return -EINVAL;
	/* Read as 8-byte fields: it must be aligned. */
	if (unlikely(addr % 8))
		return -EINVAL;
	table = pvring_mem_ptr(vr->mem, addr, len);
	if (unlikely(!table))
		return -EFAULT;
	/* A memory table may map it off the host's alignment. */
	if (unlikely((uintptr_t)table % 8))
		return -EINVAL;
	n = len / sizeof(*table);
	for (i = 0; i < n; i++) {
		struct pvring_desc_packed d;
		u16 flags;

		pvring_desc_copy_packed(&d, &table[i]);
		flags = le16_to_cpu(READ_ONCE(table[i].flags));
		err = __pvring_dev_buf_packed(vr, w, le64_to_cpu(d.addr), le32_to_cpu(d.len),
					      flags & PVRING_DESC_F_WRITE, seg, max_seg);
		if (err)
			return err;
	}
	return 0;
}

/* The walk's totals into @c. */
static inline void __pvring_walk_out(const struct __pvring_walk *w, struct pvring_chain *c)
{
	c->nseg = w->nseg;
	c->nout = w->nout;
	c->ndesc = w->ndesc;
	c->max_len = w->max_len;
	c->out_len = w->out_len;
	c->in_len = w->in_len;
}

/*
 * Descriptor @count of a chain (@d copied, its @flags read once): a buffer
 * or an indirect table.  The first error is kept in @err, after which no
 * more segments are taken (the walk goes on for the chain's end only).
 */
static inline void __pvring_dev_desc_packed(struct pvring_dev *vr, struct __pvring_walk *w,
					    const struct pvring_desc_packed *d, u16 flags,
					    unsigned int count, struct pvring_seg *seg,
					    unsigned int *max_seg, int *err)
{
	int e;

	if (flags & PVRING_DESC_F_INDIRECT) {
		/* §2.8.7: alone in its list, and negotiated. */
		if (unlikely(!vr->indirect || count || (flags & PVRING_DESC_F_NEXT)))
			e = -EINVAL;
		else
			e = __pvring_dev_table_packed(vr, w, le64_to_cpu(d->addr),
						      le32_to_cpu(d->len), seg, *max_seg);
	} else {
		e = __pvring_dev_buf_packed(vr, w, le64_to_cpu(d->addr), le32_to_cpu(d->len),
					    flags & PVRING_DESC_F_WRITE, seg, *max_seg);
	}
	if (unlikely(e) && !*err) {
		*err = e;
		*max_seg = w->nseg;
	}
}

/*
 * pvring_dev_walk_packed - the chain whose head is at @seq
 * @vr: the ring
 * @seq: where it starts
 * @flags: its head's flags, read once (available for @seq's lap)
 * @c: out: the chain, as pvring_dev_pop() (head not set)
 * @seg: out: its host segments
 * @max_seg: room in @seg
 * @ndesc: out: descriptors it takes in the ring
 * @id: out: its buffer id
 *
 * The whole chain is walked even after a bad buffer: its end says where
 * the next one starts.
 *
 * Return: 1, a bad chain's error (pop's), or -EIO when the ring is to break:
 * the chain does not end within the room, a later descriptor is not
 * available, or the id is out of range.
 */
static inline int pvring_dev_walk_packed(struct pvring_dev *vr, u16 seq, u16 flags,
					 struct pvring_chain *c, struct pvring_seg *seg,
					 unsigned int max_seg, u16 *ndesc, u16 *id)
{
	const struct pvring_desc_packed *ring = vr->packed.desc;
	struct __pvring_walk w = { 0 };
	unsigned int room = __pvring_dev_room_packed(vr, seq), count = 0;
	struct pvring_desc_packed d;
	int err = 0;

	for (;;) {
		u16 s = (u16)(seq + count);

		/* The head's flags were read above, once. */
		if (count) {
			flags = le16_to_cpu(READ_ONCE(ring[s & vr->mask].flags));
			if (unlikely(!pvring_packed_is_avail(flags, s, vr->num)))
				return -EIO;
		}
		pvring_desc_copy_packed(&d, &ring[s & vr->mask]);
		__pvring_dev_desc_packed(vr, &w, &d, flags, count++, seg, &max_seg, &err);
		if (!(flags & PVRING_DESC_F_NEXT))
			break;
		/* A chain that does not end where it may: the next one's place is lost. */
		if (unlikely(count >= room))
			return -EIO;
	}
	*id = le16_to_cpu(d.id);
	if (unlikely(*id >= vr->num))
		return -EIO;
	*ndesc = (u16)count;
	__pvring_walk_out(&w, c);
	return err ? err : 1;
}

/*
 * pvring_dev_walk_saved_packed - walk again a chain popped before, from
 * copies of its @n ring descriptors (pvring_dev_popped_desc()): the ring's
 * own may have been overwritten by used descriptors since.
 * @c: in: its buffer id; out: as pvring_dev_pop()
 *
 * The copies are checked as the ring's are: NEXT on all but the last, the
 * last one's id @c->head.  Its used descriptor will skip @n descriptors
 * (@c->head is below the ring size: pvring_dev_walk_head() checked).
 *
 * Return: 0, or pop's chain errors; -EINVAL also for copies that are not
 * one chain of that id.
 */
static inline int pvring_dev_walk_saved_packed(struct pvring_dev *vr, struct pvring_chain *c,
					       struct pvring_seg *seg, unsigned int max_seg,
					       const struct pvring_desc_packed *saved,
					       unsigned int n)
{
	struct __pvring_walk w = { 0 };
	unsigned int i;
	int err = 0;

	if (unlikely(!n || n > vr->num))
		return -EINVAL;
	vr->packed.id_ndesc[c->head] = (u16)n;
	if (n > 1)
		vr->packed.multi = true;
	if (unlikely(le16_to_cpu(saved[n - 1].id) != c->head))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		u16 flags = le16_to_cpu(saved[i].flags);

		if (unlikely(!(flags & PVRING_DESC_F_NEXT) != (i == n - 1)))
			return -EINVAL;
		__pvring_dev_desc_packed(vr, &w, &saved[i], flags, i, seg, &max_seg, &err);
	}
	__pvring_walk_out(&w, c);
	return err;
}

/*
 * The ring descriptor @i of the chain popped last, copied (each field read
 * once): what in-flight tracking records of it, since used descriptors may
 * overwrite it before it is used.  Return: how many it takes.
 */
static inline unsigned int pvring_dev_popped_desc_packed(const struct pvring_dev *vr,
							 unsigned int i,
							 struct pvring_desc_packed *d)
{
	const struct pvring_dev_packed *p = &vr->packed;
	u16 n = p->pop_ndesc[(u16)(p->last_avail - 1) & vr->mask];

	if (i < n) {
		const struct pvring_desc_packed *s =
			&p->desc[(u16)(p->last_avail - n + i) & vr->mask];

		pvring_desc_copy_packed(d, s);
		d->flags = READ_ONCE(s->flags);
	}
	return n;
}

/*
 * Count the chains waiting, extending what earlier calls found (a hint for
 * pop, which reads every descriptor again and has the last word).  A chain
 * that does not end within the room, or whose later descriptors are not
 * available, is not counted: pop finds it and breaks the ring.
 */
static inline int pvring_dev_avail_packed(struct pvring_dev *vr)
{
	struct pvring_dev_packed *p = &vr->packed;
	u16 seq = __pvring_dev_avail_end_packed(p), flags;
	unsigned int room = __pvring_dev_room_packed(vr, p->last_avail);
	unsigned int walked = (u16)(seq - p->last_avail), n;

	while (walked < room && __pvring_dev_head_avail_packed(vr, seq, &flags)) {
		for (n = 1; flags & PVRING_DESC_F_NEXT; n++) {
			u16 s = (u16)(seq + n);

			if (walked + n >= room)
				goto out;
			flags = le16_to_cpu(READ_ONCE(p->desc[s & vr->mask].flags));
			if (!pvring_packed_is_avail(flags, s, vr->num))
				goto out;
		}
		seq = (u16)(seq + n);
		walked += n;
		p->avail_cnt++;
	}
out:
	p->avail_end = seq;
	return p->avail_cnt;
}

static inline bool pvring_dev_has_avail_packed(struct pvring_dev *vr)
{
	return vr->packed.avail_cnt || pvring_dev_avail_packed(vr) > 0;
}

static inline void pvring_dev_prefetch_desc_packed(const struct pvring_dev *vr, unsigned int ahead)
{
	/* Where the chain @ahead from now starts when chains are one descriptor each. */
	pvring_prefetch(&vr->packed.desc[(u16)(vr->packed.last_avail + ahead) & vr->mask]);
}

static inline void pvring_dev_prefetch_used_packed(const struct pvring_dev *vr, unsigned int n)
{
	const struct pvring_dev_packed *p = &vr->packed;
	unsigned int i;

	for (i = 0; i < n; i += 64 / sizeof(struct pvring_desc_packed))
		pvring_prefetchw(&p->desc[(u16)(p->used_seq + i) & vr->mask]);
	if (n)
		pvring_prefetchw(&p->desc[(u16)(p->used_seq + n - 1) & vr->mask]);
}

/*
 * __pvring_dev_popped_packed - what a pop that took @ndesc descriptors at
 * @seq for buffer @id records, returning @ret: always inlined, so that the
 * common chain's path (@ret 1, @ndesc 1) carries constants, not tests.
 */
static inline pvring_always_inline int __pvring_dev_popped_packed(struct pvring_dev *vr,
								  struct pvring_chain *c, u16 seq,
								  u16 ndesc, u16 id, int ret,
								  bool in_order)
{
	struct pvring_dev_packed *p = &vr->packed;
	u16 end = (u16)(seq + ndesc);

	if (unlikely(p->pop_slow)) {
		u16 cnt = p->avail_cnt, walked;

		/* No count: avail_end is not looked at (__pvring_dev_avail_end_packed()). */
		if (cnt) {
			walked = (u16)(p->avail_end - seq);
			/*
			 * The count stays right only if this chain is the
			 * first it walked: the rest must still take at least
			 * a descriptor each, and exactly what was walked when
			 * it was the last one.
			 */
			if (ndesc <= walked && (unsigned int)(walked - ndesc) + 1 >= cnt &&
			    (cnt > 1 || ndesc == walked))
				p->avail_cnt = cnt - 1;
			else
				p->avail_cnt = 0;
		}
		/* Every chain one descriptor so far: both records hold 1 already. */
		if (p->multi) {
			p->id_ndesc[id] = ndesc;
			/* The pop log, by the chain's last descriptor: unpop walks back. */
			p->pop_ndesc[(u16)(end - 1) & vr->mask] = ndesc;
		}
	}
	p->last_avail = end;
	if (pvring_packed_lap_moved(seq, end, vr->num))
		p->avail_bits ^= PVRING_DESC_F_AVAIL | PVRING_DESC_F_USED;
	/* What a batch's used descriptor implies for it (IN_ORDER); u32 is all a put carries. */
	if (in_order)
		p->id_inlen[id] = c->in_len < 0xffffffffu ? (u32)c->in_len : 0xffffffffu;
	c->head = id;
	c->head_valid = true;
	return ret;
}

/*
 * @in_order: vr->in_order, a constant in each caller so that a ring
 * without it does not even test it.
 */
static inline pvring_always_inline int pvring_dev_pop_packed(struct pvring_dev *vr,
							     struct pvring_chain *c,
							     struct pvring_seg *seg,
							     unsigned int max_seg, bool in_order)
{
	struct pvring_dev_packed *p = &vr->packed;
	u16 seq = p->last_avail, id, flags;
	const struct pvring_desc_packed *d = &p->desc[seq & vr->mask];
	int ret;

	/* PV1 is in there: the chain is read below, after the head's flags. */
	if (!__pvring_dev_head_next_packed(vr, seq, &flags)) {
		/* Nothing there, whatever an earlier count said: start afresh. */
		p->avail_cnt = 0;
		return 0;
	}
	if (likely(!(flags & (PVRING_DESC_F_NEXT | PVRING_DESC_F_INDIRECT)))) {
		/* The common chain, one direct buffer: as the walk, inline. */
		bool write = flags & PVRING_DESC_F_WRITE;
		struct pvring_desc_packed one;
		u32 len;

		pvring_desc_copy_packed(&one, d);
		id = le16_to_cpu(one.id);
		if (unlikely(id >= vr->num))
			goto broken;
		len = le32_to_cpu(one.len);
		c->ndesc = 1;
		c->max_len = len;
		c->out_len = write ? 0 : len;
		c->in_len = write ? len : 0;
		/* Recorded before the buffer is translated: nothing is kept across that. */
		__pvring_dev_popped_packed(vr, c, seq, 1, id, 1, in_order);
		ret = pvring_mem_xlate(vr->mem, le64_to_cpu(one.addr), len, seg, max_seg);
		/* A bad buffer: the lengths as described, no segments (as the walk). */
		if (unlikely(ret < 0)) {
			c->nseg = 0;
			c->nout = 0;
			return ret;
		}
		c->nseg = ret;
		c->nout = write ? 0 : ret;
		return 1;
	}
	{
		/* Their own variables: the fast path's stay out of memory. */
		u16 walk_ndesc = 0, walk_id = 0;

		ret = pvring_dev_walk_packed(vr, seq, flags, c, seg, max_seg, &walk_ndesc,
					     &walk_id);
		if (unlikely(ret == -EIO))
			goto broken;
		if (walk_ndesc > 1)
			p->multi = true;
		return __pvring_dev_popped_packed(vr, c, seq, walk_ndesc, walk_id, ret, in_order);
	}
broken:
	vr->broken = true;
	return -EIO;
}

static inline void pvring_dev_unpop_packed(struct pvring_dev *vr, unsigned int n)
{
	struct pvring_dev_packed *p = &vr->packed;

	/*
	 * The chains given back lie before avail_end: the count takes them
	 * again.  Each one's length is logged at its last descriptor, which
	 * no later pop has overwritten: the chains popped after it are given
	 * back first, and all of them together hold at most num descriptors.
	 */
	if (!p->avail_cnt)
		p->avail_end = p->last_avail;
	while (n--) {
		p->last_avail =
			(u16)(p->last_avail - p->pop_ndesc[(u16)(p->last_avail - 1) & vr->mask]);
		p->avail_cnt++;
	}
	p->avail_bits = pvring_packed_avail_bits(p->last_avail, vr->num);
}

/*
 * __pvring_dev_used_write_packed - write the used descriptor at @seq for
 * staged put @st, all but its flags, which it returns.
 * Return: the flags that will make it used.
 */
static inline pvring_always_inline u16
__pvring_dev_used_write_packed(struct pvring_desc_packed *d, const struct pvring_dev_used_elem *st,
			       u16 seq, unsigned int num)
{
	WRITE_ONCE(d->id, st->id);
	WRITE_ONCE(d->len, st->len);
	return pvring_packed_used_bits(seq, num) | le16_to_cpu(st->flags);
}

/*
 * Write @n staged puts @st as used descriptors @d on, all with the lap's
 * @bits: length, id and flags in one store each, which the driver reads
 * only after the batch's first one says "used".
 */
static inline pvring_always_inline void
__pvring_dev_used_run_packed(struct pvring_desc_packed *d, const struct pvring_dev_used_elem *st,
			     unsigned int n, __le64 bits)
{
	unsigned int i;

	/* Two a round: the loop's own instructions are most of its cost. */
	for (i = 0; i + 1 < n; i += 2) {
		WRITE_ONCE(d[i].tail, st[i].tail | bits);
		WRITE_ONCE(d[i + 1].tail, st[i + 1].tail | bits);
	}
	if (i < n)
		WRITE_ONCE(d[i].tail, st[i].tail | bits);
}

/* How far the used descriptor of buffer @id moves the used position. */
static inline pvring_always_inline u16 __pvring_dev_id_ndesc_packed(const u16 *id_ndesc, u16 id,
								    unsigned int num)
{
	/* Ids come from pops, below num; a caller's bug must not read past the array. */
	return id < num ? id_ndesc[id] : 1;
}

/*
 * __pvring_dev_in_order_runs_packed - publish the staged puts under
 * IN_ORDER: the caller put them in pop order, so a run of them may go out
 * as one used descriptor naming the run's last id, at the run's first
 * place, skipping every chain of the run (§2.8.23).  The driver takes the
 * chains before the named one as used whole, so a put joins the next one's
 * descriptor only when its length is its chain's writable size (a sent
 * frame: 0 of 0; a read: all of it); any other ends a run.
 */
static inline pvring_always_inline void __pvring_dev_in_order_runs_packed(struct pvring_dev *vr,
									  bool multi)
{
	struct pvring_dev_packed *p = &vr->packed;
	struct pvring_desc_packed *ring = p->desc;
	const struct pvring_dev_used_elem *st = p->staged;
	const u16 *id_ndesc = p->id_ndesc;
	const u32 *id_inlen = p->id_inlen;
	unsigned int n = p->nstaged, num = vr->num, mask = vr->mask, i;
	u16 seq = p->used_seq, first = seq, pos = seq, first_flags = 0;

	for (i = 0; i < n; i++) {
		u16 sid = le16_to_cpu(st[i].id), id = sid < num ? sid : 0, flags;

		/* Until a longer chain was popped, id_ndesc holds 1 everywhere. */
		seq = (u16)(seq + (multi ? __pvring_dev_id_ndesc_packed(id_ndesc, sid, num) : 1));
		if (i + 1 < n && le32_to_cpu(st[i].len) == id_inlen[id])
			continue;
		flags = __pvring_dev_used_write_packed(&ring[pos & mask], &st[i], pos, num);
		/* The first one's flags are stored last, below. */
		if (pos == first)
			first_flags = flags;
		else
			WRITE_ONCE(ring[pos & mask].flags, cpu_to_le16(flags));
		pos = seq;
	}
	p->nstaged = 0;
	__pvring_dev_used_seq_packed(p, seq, num);
	/* PV2, as in pvring_dev_publish_packed(). */
	pvring_store_release(&ring[first & mask].flags, cpu_to_le16(first_flags));
}

/*
 * __pvring_dev_publish_in_order_packed - the above with @multi p->multi,
 * a constant in each copy, so that a ring whose chains are one descriptor
 * each does not look each put's chain up.
 */
static inline pvring_always_inline void __pvring_dev_publish_in_order_packed(struct pvring_dev *vr)
{
	if (unlikely(vr->packed.multi))
		__pvring_dev_in_order_runs_packed(vr, true);
	else
		__pvring_dev_in_order_runs_packed(vr, false);
}

/*
 * __pvring_dev_publish_one_packed - publish a batch of one put: its used
 * descriptor goes at used_seq whatever the ring (under IN_ORDER a run of
 * one is that same descriptor) and skips its chain's descriptors (1 until
 * a longer chain was popped).  Only what that needs is loaded, and before
 * the descriptor stores, which may alias the ring's u16 fields as far as
 * the compiler knows.
 */
static inline pvring_always_inline void __pvring_dev_publish_one_packed(struct pvring_dev *vr)
{
	struct pvring_dev_packed *p = &vr->packed;
	const struct pvring_dev_used_elem *st = p->staged;
	unsigned int num = vr->num;
	u16 seq = p->used_seq, flags;
	u16 next = (u16)(seq + __pvring_dev_id_ndesc_packed(p->id_ndesc, le16_to_cpu(st->id), num));
	struct pvring_desc_packed *d = &p->desc[seq & vr->mask];

	p->nstaged = 0;
	__pvring_dev_used_seq_packed(p, next, num);
	flags = __pvring_dev_used_write_packed(d, st, seq, num);
	/* PV2, as in pvring_dev_publish_packed(). */
	pvring_store_release(&d->flags, cpu_to_le16(flags));
}

static inline pvring_always_inline void pvring_dev_publish_packed(struct pvring_dev *vr)
{
	/*
	 * Everything in locals: the descriptor stores may alias the ring's
	 * u16/u32 fields as far as the compiler knows, and would make it
	 * reload each of them per element.
	 */
	struct pvring_dev_packed *p = &vr->packed;
	struct pvring_desc_packed *ring = p->desc;
	const struct pvring_dev_used_elem *st = p->staged;
	const u16 *id_ndesc = p->id_ndesc;
	unsigned int n = p->nstaged, num = vr->num, mask = vr->mask, i;
	u16 seq = p->used_seq, first_flags;
	struct pvring_desc_packed *first = &ring[seq & mask];

	if (!n)
		return;
	if (n == 1) {
		__pvring_dev_publish_one_packed(vr);
		return;
	}
	if (vr->in_order) {
		__pvring_dev_publish_in_order_packed(vr);
		return;
	}
	/* The first one's flags are stored last, below. */
	first_flags = __pvring_dev_used_write_packed(first, &st[0], seq, num);
	if (likely(!p->multi)) {
		/*
		 * Chains of one descriptor: the used ones follow each other,
		 * up to the ring's end with this lap's bits, then from its
		 * start with the next lap's: two runs without a test each.
		 */
		unsigned int at = (seq & mask) + 1, run = num - at;
		__le64 bits;

		if (n > 1) {
			bits = pvring_packed_tail_flags(pvring_packed_used_bits(seq, num));
			if (run > n - 1)
				run = n - 1;
			__pvring_dev_used_run_packed(ring + at, st + 1, run, bits);
			bits ^= pvring_packed_tail_flags(PVRING_DESC_F_AVAIL | PVRING_DESC_F_USED);
			__pvring_dev_used_run_packed(ring, st + 1 + run, n - 1 - run, bits);
		}
		seq = (u16)(seq + n);
		goto out;
	}
	seq = (u16)(seq + __pvring_dev_id_ndesc_packed(id_ndesc, le16_to_cpu(st[0].id), num));
	for (i = 1; i < n; i++) {
		__le64 bits = pvring_packed_tail_flags(pvring_packed_used_bits(seq, num));

		/*
		 * Length, id and flags in one store: the driver reads none of
		 * them before the first one's flags say "used".
		 */
		WRITE_ONCE(ring[seq & mask].tail, st[i].tail | bits);
		seq = (u16)(seq +
			    __pvring_dev_id_ndesc_packed(id_ndesc, le16_to_cpu(st[i].id), num));
	}
out:
	p->nstaged = 0;
	__pvring_dev_used_seq_packed(p, seq, num);
	/*
	 * PV2: the used descriptors after the first and every byte written
	 * into the buffers are visible before the first one says "used".
	 * Pairs with PD2, the driver's load-acquire in
	 * pvring_drv_more_used_packed().
	 */
	pvring_store_release(&first->flags, cpu_to_le16(first_flags));
}

static inline pvring_always_inline void pvring_dev_put_packed(struct pvring_dev *vr, u16 head,
							      u32 len)
{
	struct pvring_dev_packed *p = &vr->packed;
	struct pvring_dev_used_elem *st;

	/* More puts than chains can be popped: only a caller's bug; keep memory safe. */
	if (unlikely(p->nstaged == vr->num))
		pvring_dev_publish_packed(vr);
	st = &p->staged[p->nstaged++];
	/* The three fields as the tail word they become: one store. */
	st->tail = cpu_to_le64((u64)len | (u64)head << 32 |
			       (u64)(len ? PVRING_DESC_F_WRITE : 0) << 48);
}

static inline void pvring_dev_unput_packed(struct pvring_dev *vr, unsigned int n)
{
	struct pvring_dev_packed *p = &vr->packed;

	p->nstaged -= n < p->nstaged ? n : p->nstaged;
}

static inline bool pvring_dev_should_notify_packed(struct pvring_dev *vr)
{
	struct pvring_dev_packed *p = &vr->packed;
	u16 old_seq = p->signalled_seq, new_seq = p->used_seq;
	bool valid = p->signalled_valid;
	u32 ev;

	/*
	 * PV3: our used descriptors are visible before we read what the
	 * driver asked for.  Pairs with PD4, the full barrier in
	 * pvring_drv_enable_cb_packed().
	 */
	pvring_mb();
	ev = pvring_event_read(p->driver);
	if (!vr->event_idx)
		return pvring_event_flags(ev) != PVRING_EVENT_F_DISABLE;
	p->signalled_seq = new_seq;
	p->signalled_valid = true;
	switch (pvring_event_flags(ev)) {
	case PVRING_EVENT_F_DISABLE:
		return false;
	case PVRING_EVENT_F_DESC:
		return !valid || pvring_packed_need_event(pvring_event_off_wrap(ev), new_seq,
							  old_seq, vr->num);
	default:
		return true;
	}
}

static inline void pvring_dev_disable_notify_packed(struct pvring_dev *vr)
{
	struct pvring_dev_packed *p = &vr->packed;

	/* Once: the driver reads the word at every kick decision. */
	if (p->event_flags != PVRING_EVENT_F_DISABLE) {
		p->event_flags = PVRING_EVENT_F_DISABLE;
		pvring_event_write(p->device, 0, PVRING_EVENT_F_DISABLE);
	}
}

static inline pvring_always_inline bool pvring_dev_enable_notify_packed(struct pvring_dev *vr)
{
	struct pvring_dev_packed *p = &vr->packed;
	u16 flags;

	if (vr->event_idx) {
		p->event_flags = PVRING_EVENT_F_DESC;
		/* Without a count, where pop looks next, whose lap's bits are kept. */
		u16 off_wrap = p->avail_cnt ? pvring_packed_off_wrap(p->avail_end, vr->num) :
					      pvring_packed_off_wrap_bits(p->last_avail,
									  p->avail_bits, vr->num);

		pvring_event_write(p->device, off_wrap, PVRING_EVENT_F_DESC);
	} else {
		p->event_flags = PVRING_EVENT_F_ENABLE;
		pvring_event_write(p->device, 0, PVRING_EVENT_F_ENABLE);
	}
	/*
	 * PV4: our request for kicks is visible before we look at the next
	 * head again.  Pairs with PD3, the full barrier in
	 * pvring_drv_kick_prepare_packed(): either the driver sees our
	 * request or we see its head.
	 */
	pvring_mb();
	/*
	 * A chain counted before, or a head at last_avail, is work: what
	 * follows it is pop's to check, as for any head, so the re-check
	 * looks at one descriptor rather than counting.
	 */
	return !p->avail_cnt && !__pvring_dev_head_next_packed(vr, p->last_avail, &flags);
}

#endif /* PVRING_DEV_PACKED_H */
