// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * pvring_dev.c - the device side's set-up and descriptor-chain walk.
 */
#include "pvring_dev.h"

/**
 * pvring_dev_init - set up the device side of a ring
 * @vr: the ring state to fill in
 * @cfg: where the driver put the ring (host addresses), and where to resume
 *
 * The used index is taken from the ring itself, as vhost does: after a
 * reconnect the driver's view of used->idx is the truth.
 *
 * Return: 0, or -EINVAL for a size that is not a power of two up to 32768, a
 * missing or misaligned area, or no memory table.
 */
int pvring_dev_init(struct pvring_dev *vr, const struct pvring_dev_config *cfg)
{
	if (!pvring_size_valid(cfg->num) || !cfg->desc || !cfg->avail || !cfg->used || !cfg->mem)
		return -EINVAL;
	if ((uintptr_t)cfg->desc % PVRING_DESC_ALIGN ||
	    (uintptr_t)cfg->avail % PVRING_AVAIL_ALIGN || (uintptr_t)cfg->used % PVRING_USED_ALIGN)
		return -EINVAL;

	memset(vr, 0, sizeof(*vr));
	vr->desc = cfg->desc;
	vr->avail = cfg->avail;
	vr->used = cfg->used;
	vr->used_event = pvring_used_event(vr->avail, cfg->num);
	vr->avail_event = pvring_avail_event(vr->used, cfg->num);
	vr->mem = cfg->mem;
	vr->num = cfg->num;
	vr->mask = cfg->num - 1;
	vr->last_avail = cfg->last_avail;
	vr->avail_idx = cfg->last_avail;
	vr->used_idx = le16_to_cpu(READ_ONCE(vr->used->idx));
	vr->event_idx = cfg->event_idx;
	vr->indirect = cfg->indirect;
	return 0;
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
int pvring_dev_walk(struct pvring_dev *vr, struct pvring_chain *c, struct pvring_seg *seg,
		    unsigned int max_seg)
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
