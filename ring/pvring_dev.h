/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * pvring_dev.h - the device side of a split virtqueue.
 *
 * The device pops chains the driver made available, turns each into host
 * segments (readable first, then writable) and pushes the chain's head to the
 * used ring when it is done.
 *
 * The driver is hostile.  avail->idx is read once per batch and may move by at
 * most the ring size; each head and each descriptor is copied once into a
 * local before use (no double fetch); every address goes through the memory
 * table with its length; a chain is at most as long as its table (longer means
 * a loop: -ELOOP); an indirect table is refused inside another, when not
 * negotiated, when its length is not a non-zero multiple of 16, or when it
 * does not lie inside one region; a readable descriptor after a writable one
 * is refused.  A bad chain is consumed and reported with its head so the
 * caller can complete it with an error; a bad head or a jumping index breaks
 * the ring (every later call gives -EIO), since nothing can be trusted after.
 *
 * Memory ordering (Documentation/ring.rst):
 *   V1 device pop:     avail->idx  --acquire-->  avail->ring[], descriptors
 *   V2 device push:    used->ring[], buffer contents  --release-->  used->idx
 *   V3 device notify:  used->idx store  --full mb-->  used_event/avail->flags load
 *   V4 device enable:  avail_event/used->flags store  --full mb-->  avail->idx load
 * pairing with D1..D4 on the driver side (pvring_drv.h).
 */
#ifndef PVRING_DEV_H
#define PVRING_DEV_H

#include "pvring_split.h"
#include "pvring_mem.h"

struct pvring_dev {
	/* Shared with the driver, as host pointers. */
	struct pvring_desc *desc;
	struct pvring_avail *avail;
	struct pvring_used *used;
	__le16 *used_event; /* in avail, written by the driver */
	__le16 *avail_event; /* in used, written by us */

	/* Private. */
	const struct pvring_mem *mem; /* translates descriptor addresses */
	u16 num;
	u16 mask; /* num - 1 */
	u16 last_avail; /* next avail entry to pop */
	u16 avail_idx; /* avail->idx as last read */
	u16 used_idx; /* shadow of used->idx (we are its only writer) */
	u16 signalled_used; /* used_idx when we last decided to notify */
	bool signalled_valid; /* signalled_used means something */
	bool event_idx; /* VIRTIO_F_EVENT_IDX negotiated */
	bool indirect; /* VIRTIO_F_INDIRECT_DESC negotiated */
	bool broken; /* the driver broke the protocol */
	bool no_notify; /* we wrote NO_NOTIFY to used->flags and nothing since */
};

struct pvring_dev_config {
	unsigned int num; /* power of two, 1..32768 */
	bool event_idx;
	bool indirect;
	void *desc; /* host addresses of the three areas */
	void *avail;
	void *used;
	const struct pvring_mem *mem;
	u16 last_avail; /* where to resume (VHOST_USER_SET_VRING_BASE) */
};

/* A popped chain: seg[0, nout) readable, seg[nout, nseg) writable. */
struct pvring_chain {
	u16 head; /* for pvring_dev_push_used() */
	bool head_valid; /* head may be pushed (also after an error) */
	unsigned int nseg;
	unsigned int nout;
	u64 out_len; /* readable bytes */
	u64 in_len; /* writable bytes */
};

int pvring_dev_init(struct pvring_dev *vr, const struct pvring_dev_config *cfg);

static inline bool pvring_dev_broken(const struct pvring_dev *vr)
{
	return vr->broken;
}

/**
 * pvring_dev_avail - how many chains are waiting
 * @vr: the ring
 *
 * Return: the count (0..num), or -EIO when the ring is broken (now or before):
 * the driver moved avail->idx by more than the ring size.
 */
static inline int pvring_dev_avail(struct pvring_dev *vr)
{
	u16 idx, n;

	if (unlikely(vr->broken))
		return -EIO;
	/*
	 * V1: the ring entries and descriptors are read only after the index.
	 * Pairs with D1, the driver's store-release in pvring_drv_add().
	 */
	idx = le16_to_cpu(pvring_load_acquire(&vr->avail->idx));
	n = (u16)(idx - vr->last_avail);
	if (unlikely(n > vr->num)) {
		vr->broken = true;
		return -EIO;
	}
	vr->avail_idx = idx;
	return n;
}

/*
 * The head the pop @ahead chains from now will take, or -1 when that far
 * is past the avail index last read.  For prefetching only: pop reads the
 * entry again and checks it.
 */
static inline int pvring_dev_peek_head(const struct pvring_dev *vr, unsigned int ahead)
{
	u16 slot = (u16)(vr->last_avail + ahead), head;

	if ((u16)(vr->avail_idx - vr->last_avail) <= ahead)
		return -1;
	head = le16_to_cpu(READ_ONCE(vr->avail->ring[slot & vr->mask]));
	return head < vr->num ? head : -1;
}

/**
 * pvring_dev_prefetch_desc - start loading the head descriptor of a later pop
 * @vr: the ring, after pvring_dev_avail()
 * @ahead: 0 for the next pop, 1 for the one after, ...
 *
 * A hint for a device that pops a burst: issue it for the whole burst
 * first, so the descriptors' cache misses overlap instead of coming one
 * per pop.  Nothing it reads is trusted.
 */
static inline void pvring_dev_prefetch_desc(const struct pvring_dev *vr, unsigned int ahead)
{
	int head = pvring_dev_peek_head(vr, ahead);

	if (head >= 0)
		pvring_prefetch(&vr->desc[head]);
}

/**
 * pvring_dev_prefetch_used - start owning the used entries of the next @n pushes
 * @vr: the ring
 * @n: pushes about to come
 *
 * The driver reads those lines, so each first store to one misses; taking
 * them early lets a burst's stores go out without waiting in turn.
 */
static inline void pvring_dev_prefetch_used(const struct pvring_dev *vr, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i += 64 / sizeof(struct pvring_used_elem))
		pvring_prefetchw(&vr->used->ring[(u16)(vr->used_idx + i) & vr->mask]);
	if (n)
		pvring_prefetchw(&vr->used->ring[(u16)(vr->used_idx + n - 1) & vr->mask]);
}

/* Copy one descriptor out of shared memory, each field read exactly once. */
static inline void pvring_desc_copy(struct pvring_desc *dst, const struct pvring_desc *src)
{
	dst->addr = READ_ONCE(src->addr);
	dst->len = READ_ONCE(src->len);
	dst->flags = READ_ONCE(src->flags);
	dst->next = READ_ONCE(src->next);
}

/**
 * pvring_dev_walk - turn the chain at @c->head into host segments
 * @vr: the ring
 * @c: in: head; out: segment counts and byte totals
 * @seg: out: the segments
 * @max_seg: room in @seg
 *
 * Return: 0, or the errors listed at pvring_dev_pop().
 */
static inline int pvring_dev_walk(struct pvring_dev *vr, struct pvring_chain *c,
				  struct pvring_seg *seg, unsigned int max_seg)
{
	const struct pvring_desc *table = vr->desc;
	unsigned int table_num = vr->num, count = 0, nseg = 0, nout = 0;
	bool in_indirect = false, seen_write = false;
	u64 out_len = 0, in_len = 0;
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
		pvring_desc_copy(&d, &table[i]);
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
	c->out_len = out_len;
	c->in_len = in_len;
	return 0;
}

/**
 * pvring_dev_pop - take the next available chain
 * @vr: the ring
 * @c: out: the chain
 * @seg: out: its host segments
 * @max_seg: room in @seg
 *
 * Return: 1 with a chain, 0 when none is waiting, or a negative errno.  On
 * error the avail entry is consumed; when @c->head_valid the caller must
 * still complete the head (pvring_dev_push_used() with len 0) or the driver
 * leaks it: -ELOOP (loop or overlong chain), -EFAULT (address outside guest
 * memory), -EINVAL (bad flags, indirect table, next index or order),
 * -ENOBUFS (more segments than @max_seg).  -EIO: the ring is broken.
 */
static inline int pvring_dev_pop(struct pvring_dev *vr, struct pvring_chain *c,
				 struct pvring_seg *seg, unsigned int max_seg)
{
	u16 head;
	int n;

	c->head_valid = false;
	if (vr->last_avail == vr->avail_idx) {
		n = pvring_dev_avail(vr);
		if (n <= 0)
			return n;
	} else if (unlikely(vr->broken)) {
		return -EIO;
	}
	head = le16_to_cpu(READ_ONCE(vr->avail->ring[vr->last_avail & vr->mask]));
	vr->last_avail++;
	if (unlikely(head >= vr->num)) {
		vr->broken = true;
		return -EIO;
	}
	c->head = head;
	c->head_valid = true;
	n = pvring_dev_walk(vr, c, seg, max_seg);
	return n < 0 ? n : 1;
}

/* __pvring_dev_put - write one used element; not yet visible. */
static inline void __pvring_dev_put(struct pvring_dev *vr, u16 head, u32 len)
{
	struct pvring_used_elem *e = &vr->used->ring[vr->used_idx & vr->mask];

	WRITE_ONCE(e->id, cpu_to_le32(head));
	WRITE_ONCE(e->len, cpu_to_le32(len));
	vr->used_idx++;
}

/* __pvring_dev_publish - make every element put so far visible. */
static inline void __pvring_dev_publish(struct pvring_dev *vr)
{
	/*
	 * V2: the used elements and the data written into the buffers are
	 * visible before the index.  Pairs with D2, the driver's load-acquire
	 * in pvring_drv_more_used().
	 */
	pvring_store_release(&vr->used->idx, cpu_to_le16(vr->used_idx));
}

/**
 * pvring_dev_push_used - give a chain back to the driver
 * @vr: the ring
 * @head: the chain's head from pvring_dev_pop()
 * @len: bytes written into the chain's writable part
 */
static inline void pvring_dev_push_used(struct pvring_dev *vr, u16 head, u32 len)
{
	__pvring_dev_put(vr, head, len);
	__pvring_dev_publish(vr);
}

/**
 * pvring_dev_push_used_batch - give several chains back with one index update
 * @vr: the ring
 * @e: @n elements, in CPU byte order
 * @n: how many
 */
static inline void pvring_dev_push_used_batch(struct pvring_dev *vr,
					      const struct pvring_used_elem *e, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		__pvring_dev_put(vr, (u16)e[i].id, e[i].len);
	__pvring_dev_publish(vr);
}

/**
 * pvring_dev_should_notify - does the driver want a used-buffer notification?
 * @vr: the ring, after one or more pushes
 */
static inline bool pvring_dev_should_notify(struct pvring_dev *vr)
{
	u16 old_idx = vr->signalled_used, new_idx = vr->used_idx;
	bool valid = vr->signalled_valid;

	/*
	 * V3: our used->idx store is visible before we read what the driver
	 * asked for.  Pairs with D4, the full barrier in pvring_drv_enable_cb().
	 */
	pvring_mb();
	if (!vr->event_idx)
		return !(le16_to_cpu(READ_ONCE(vr->avail->flags)) & PVRING_AVAIL_F_NO_INTERRUPT);
	vr->signalled_used = new_idx;
	vr->signalled_valid = true;
	return !valid ||
	       pvring_need_event(le16_to_cpu(READ_ONCE(*vr->used_event)), new_idx, old_idx);
}

/**
 * pvring_dev_disable_notify - ask the driver not to kick while we poll
 * @vr: the ring
 *
 * A hint.  Under EVENT_IDX, avail_event is simply left behind.
 */
static inline void pvring_dev_disable_notify(struct pvring_dev *vr)
{
	/*
	 * Once: the flags share a cache line with used->idx, which the
	 * driver reads all the time; a store per poll would pull it back.
	 */
	if (!vr->event_idx && !vr->no_notify) {
		WRITE_ONCE(vr->used->flags, cpu_to_le16(PVRING_USED_F_NO_NOTIFY));
		vr->no_notify = true;
	}
}

/**
 * pvring_dev_enable_notify - ask for kicks again, race-free
 * @vr: the ring
 *
 * Return: true when the ring is empty so it is safe to wait for a kick; false
 * when chains arrived meanwhile (pop them: no kick will come for them) or the
 * ring is broken.
 */
static inline bool pvring_dev_enable_notify(struct pvring_dev *vr)
{
	if (vr->event_idx)
		WRITE_ONCE(*vr->avail_event, cpu_to_le16(vr->last_avail));
	else
		WRITE_ONCE(vr->used->flags, 0);
	vr->no_notify = false;
	/*
	 * V4: our request for kicks is visible before we look at avail->idx
	 * again.  Pairs with D3, the full barrier in pvring_drv_kick_prepare():
	 * either the driver sees our request or we see its entries.
	 */
	pvring_mb();
	return pvring_dev_avail(vr) == 0;
}

#endif /* PVRING_DEV_H */
