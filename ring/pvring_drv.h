/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * pvring_drv.h - the driver side of a split virtqueue.
 *
 * The driver offers buffers (chains of device-readable then device-writable
 * segments) and reaps them when the device has used them.  The ring owns no
 * memory: the caller hands it the three shared areas, a private slot array and
 * optionally a pool of indirect tables, so it can run in atomic context in the
 * kernel and in a busy loop in userspace alike.
 *
 * Shared memory is hostile.  The driver never reads back what it wrote into
 * the descriptor table (the free list lives in the private slot array), reads
 * used->idx once per batch, copies each used element, and checks the id
 * names a chain it has in flight.  Anything else marks the ring broken: every
 * later call fails with -EIO and the caller reports it (the ring does not log).
 *
 * Memory ordering (Documentation/ring.rst has the whole contract):
 *   D1 driver add:      descriptors, avail->ring[]  --release-->  avail->idx
 *   D2 driver reap:     used->idx  --acquire-->  used->ring[], buffer contents
 *   D3 driver kick:     avail->idx store  --full mb-->  avail_event/used->flags load
 *   D4 driver enable:   used_event/avail->flags store  --full mb-->  used->idx load
 * pairing with V1..V4 on the device side (pvring_dev.h).
 *
 * Concurrency: one caller at a time per ring (the caller's lock or queue
 * ownership); driver and device sides run concurrently on different CPUs.
 */
#ifndef PVRING_DRV_H
#define PVRING_DRV_H

#include "pvring_split.h"

/* One segment of a buffer, as the device will address it. */
struct pvring_sg {
	u64 addr; /* device-visible (DMA / guest-physical) address */
	u32 len; /* bytes */
};

/* Private per-descriptor state; never shared with the device. */
struct pvring_drv_slot {
	void *token; /* caller's cookie while this head is in flight, else NULL */
	u32 in_len; /* writable bytes in the chain: the bound for used len */
	u16 ndesc; /* descriptors the chain takes in the main table */
	u16 next; /* free-list / chain link: the truth, not desc[].next */
};

struct pvring_drv {
	/* Shared with the device. */
	struct pvring_desc *desc;
	struct pvring_avail *avail;
	struct pvring_used *used;
	__le16 *used_event; /* in avail, written by us */
	__le16 *avail_event; /* in used, written by the device */

	/* Private. */
	struct pvring_drv_slot *slot; /* num entries */
	struct pvring_desc *indirect; /* num * indirect_max entries, or NULL */
	u64 indirect_addr; /* device address of indirect[0] */
	u16 indirect_max; /* descriptors per indirect table */
	u16 num;
	u16 mask; /* num - 1 */
	u16 free_head; /* first free descriptor */
	u16 num_free; /* free descriptors in the main table */
	u16 avail_idx; /* next avail->idx: entries staged so far */
	u16 published_idx; /* avail->idx as last stored (we are its only writer) */
	u16 kicked_idx; /* avail_idx when we last decided about a kick */
	u16 last_used; /* next used entry to reap */
	u16 used_idx; /* used->idx as last read */
	u16 avail_flags; /* shadow of avail->flags */
	bool event_idx; /* VIRTIO_F_EVENT_IDX negotiated */
	bool broken; /* the device broke the protocol: all calls fail */
};

struct pvring_drv_config {
	unsigned int num; /* power of two, 1..32768 */
	bool event_idx;
	void *desc; /* pvring_desc_bytes(num), 16-byte aligned */
	void *avail; /* pvring_avail_bytes(num), 2-byte aligned */
	void *used; /* pvring_used_bytes(num), 4-byte aligned */
	struct pvring_drv_slot *slot; /* num entries */
	/* Optional (VIRTIO_F_INDIRECT_DESC): num tables of indirect_max entries. */
	struct pvring_desc *indirect;
	u64 indirect_addr;
	unsigned int indirect_max; /* 2..PVRING_MAX_SIZE */
};

int pvring_drv_init(struct pvring_drv *vr, const struct pvring_drv_config *cfg);
void *pvring_drv_detach_unused(struct pvring_drv *vr);
bool pvring_drv_enable_cb_delayed(struct pvring_drv *vr);

static inline bool pvring_drv_broken(const struct pvring_drv *vr)
{
	return vr->broken;
}

static inline unsigned int pvring_drv_num_free(const struct pvring_drv *vr)
{
	return vr->num_free;
}

/*
 * __pvring_drv_fill - write one descriptor of a chain.  Unchecked: the caller
 * has reserved @d.
 */
static inline void __pvring_drv_fill(struct pvring_desc *d, const struct pvring_sg *sg, u16 flags,
				     u16 next)
{
	d->addr = cpu_to_le64(sg->addr);
	d->len = cpu_to_le32(sg->len);
	d->flags = cpu_to_le16(flags);
	d->next = cpu_to_le16(next);
}

/**
 * pvring_drv_stage - prepare a buffer for the device, without publishing it
 * @vr: the ring
 * @sg: @out device-readable segments followed by @in device-writable ones
 * @out: number of readable segments
 * @in: number of writable segments
 * @token: non-NULL cookie returned by pvring_drv_get_used()
 *
 * Uses one indirect table when the ring has them and the chain has more than
 * one segment; otherwise takes out + in descriptors of the main table.  The
 * device does not see the buffer until pvring_drv_publish() or
 * pvring_drv_kick_prepare(): staging a batch and publishing it once moves the
 * avail index's cache line to the device once per batch, not per buffer.
 *
 * Return: 0, -ENOSPC when the ring is full, -EINVAL for an empty or oversized
 * chain or a NULL token, -EIO when the ring is broken.
 */
static inline int pvring_drv_stage(struct pvring_drv *vr, const struct pvring_sg *sg,
				   unsigned int out, unsigned int in, void *token)
{
	unsigned int total = out + in, i;
	struct pvring_drv_slot *slot = vr->slot;
	u32 in_len = 0;
	u16 head, idx;

	if (unlikely(vr->broken))
		return -EIO;
	if (unlikely(total == 0 || !token))
		return -EINVAL;

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
		vr->desc[head].addr =
			cpu_to_le64(vr->indirect_addr +
				    (u64)head * vr->indirect_max * sizeof(struct pvring_desc));
		vr->desc[head].len = cpu_to_le32(total * sizeof(struct pvring_desc));
		vr->desc[head].flags = cpu_to_le16(PVRING_DESC_F_INDIRECT);
		vr->desc[head].next = 0;
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
			__pvring_drv_fill(&vr->desc[idx], &sg[i], flags, i + 1 < total ? next : 0);
			idx = next;
		}
		vr->free_head = idx;
		vr->num_free -= total;
		slot[head].ndesc = total;
	}
	slot[head].token = token;
	slot[head].in_len = in_len;

	vr->avail->ring[vr->avail_idx & vr->mask] = cpu_to_le16(head);
	vr->avail_idx++;
	return 0;
}

/**
 * pvring_drv_publish - make every staged buffer visible to the device
 * @vr: the ring
 */
static inline void pvring_drv_publish(struct pvring_drv *vr)
{
	if (vr->published_idx == vr->avail_idx)
		return;
	vr->published_idx = vr->avail_idx;
	/*
	 * D1: the descriptors and ring entries written by pvring_drv_stage() are
	 * visible before the new index.  Pairs with V1, the device's
	 * load-acquire of avail->idx in pvring_dev_avail().
	 */
	pvring_store_release(&vr->avail->idx, cpu_to_le16(vr->avail_idx));
}

/**
 * pvring_drv_add - offer a buffer to the device, visible on return
 * @vr: the ring
 * @sg: @out device-readable segments followed by @in device-writable ones
 * @out: number of readable segments
 * @in: number of writable segments
 * @token: non-NULL cookie returned by pvring_drv_get_used()
 *
 * pvring_drv_stage() then pvring_drv_publish().  Whether to notify the device
 * is pvring_drv_kick_prepare()'s decision, so several adds can share one kick.
 *
 * Return: as pvring_drv_stage().
 */
static inline int pvring_drv_add(struct pvring_drv *vr, const struct pvring_sg *sg,
				 unsigned int out, unsigned int in, void *token)
{
	int ret = pvring_drv_stage(vr, sg, out, in, token);

	if (likely(!ret))
		pvring_drv_publish(vr);
	return ret;
}

/**
 * pvring_drv_kick_prepare - decide whether the device needs a notification
 * @vr: the ring
 *
 * Call after one or more pvring_drv_add() or pvring_drv_stage(); publishes
 * what is staged, then true means "notify the device now".  With EVENT_IDX the
 * device's avail_event decides, otherwise its NO_NOTIFY flag.
 */
static inline bool pvring_drv_kick_prepare(struct pvring_drv *vr)
{
	u16 old_idx = vr->kicked_idx, new_idx = vr->avail_idx;
	bool kick;

	pvring_drv_publish(vr);

	/*
	 * D3: our avail->idx store is visible before we read what the device
	 * asked for.  Pairs with V4, the full barrier in
	 * pvring_dev_enable_notify() between its avail_event / flags store and
	 * its re-read of avail->idx: either it sees our index or we see its
	 * request for a kick.
	 */
	pvring_mb();
	if (vr->event_idx)
		kick = pvring_need_event(le16_to_cpu(READ_ONCE(*vr->avail_event)), new_idx,
					 old_idx);
	else
		kick = !(le16_to_cpu(READ_ONCE(vr->used->flags)) & PVRING_USED_F_NO_NOTIFY);
	vr->kicked_idx = new_idx;
	return kick;
}

/* __pvring_drv_detach - return chain @head's descriptors to the free list. */
static inline void __pvring_drv_detach(struct pvring_drv *vr, u16 head)
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
 * __pvring_drv_used_read - read used->idx now, check it and cache it.
 * Return: false when the device moved it by more than the ring size (the
 * ring is then broken).
 */
static inline bool __pvring_drv_used_read(struct pvring_drv *vr)
{
	u16 idx;

	/*
	 * D2: the used entries and the data the device wrote are read only
	 * after the index.  Pairs with V2, the device's store-release of
	 * used->idx in pvring_dev_push_used().
	 */
	idx = le16_to_cpu(pvring_load_acquire(&vr->used->idx));
	if (unlikely((u16)(idx - vr->last_used) > vr->num)) {
		vr->broken = true;
		return false;
	}
	vr->used_idx = idx;
	return true;
}

/**
 * pvring_drv_more_used - are there used entries to reap?
 * @vr: the ring
 *
 * Reads used->idx (acquire) when everything seen so far has been reaped.
 * Marks the ring broken when the device moved it by more than the ring size.
 * Return: false on a broken ring.
 */
static inline bool pvring_drv_more_used(struct pvring_drv *vr)
{
	/*
	 * Broken first: entries seen before the ring broke are not to be
	 * trusted either, and "more" on a broken ring would keep a caller's
	 * reap / enable_cb loop spinning forever.
	 */
	if (unlikely(vr->broken))
		return false;
	if (vr->used_idx != vr->last_used)
		return true;
	if (!__pvring_drv_used_read(vr))
		return false;
	return vr->used_idx != vr->last_used;
}

/**
 * pvring_drv_get_used - reap one buffer the device has used
 * @vr: the ring
 * @len: out: bytes the device wrote, clamped to the writable size offered
 *
 * Return: the token given to pvring_drv_add(), or NULL when there is nothing
 * to reap or the device sent an id that is not a chain in flight (the ring is
 * then broken: see pvring_drv_broken()).
 */
static inline void *pvring_drv_get_used(struct pvring_drv *vr, u32 *len)
{
	struct pvring_used_elem *e;
	void *token;
	u32 id, l;

	*len = 0;
	if (!pvring_drv_more_used(vr))
		return NULL;
	e = &vr->used->ring[vr->last_used & vr->mask];
	id = le32_to_cpu(READ_ONCE(e->id));
	l = le32_to_cpu(READ_ONCE(e->len));
	if (unlikely(id >= vr->num || !vr->slot[id].token)) {
		vr->broken = true;
		return NULL;
	}
	vr->last_used++;
	token = vr->slot[id].token;
	/*
	 * A device may report more than it was offered (some do, by the size of a
	 * header); never let the caller read past its buffer.
	 */
	*len = l < vr->slot[id].in_len ? l : vr->slot[id].in_len;
	__pvring_drv_detach(vr, (u16)id);
	return token;
}

/**
 * pvring_drv_disable_cb - ask the device not to send used-buffer notifications
 * @vr: the ring
 *
 * A hint: the device may still notify (with EVENT_IDX, at most once more).
 */
static inline void pvring_drv_disable_cb(struct pvring_drv *vr)
{
	if (!(vr->avail_flags & PVRING_AVAIL_F_NO_INTERRUPT)) {
		vr->avail_flags |= PVRING_AVAIL_F_NO_INTERRUPT;
		/* Ignored by the device under EVENT_IDX; used_event is not moved. */
		WRITE_ONCE(vr->avail->flags, cpu_to_le16(vr->avail_flags));
	}
}

/**
 * pvring_drv_enable_cb - re-enable used-buffer notifications, race-free
 * @vr: the ring
 *
 * Return: true when nothing is pending, so it is safe to wait for the next
 * notification; false when used entries arrived meanwhile, which the caller
 * must reap (no notification will come for them).  True on a broken ring:
 * there is nothing to reap, the caller checks pvring_drv_broken().
 */
static inline bool pvring_drv_enable_cb(struct pvring_drv *vr)
{
	if (vr->avail_flags & PVRING_AVAIL_F_NO_INTERRUPT) {
		vr->avail_flags &= ~PVRING_AVAIL_F_NO_INTERRUPT;
		if (!vr->event_idx)
			WRITE_ONCE(vr->avail->flags, cpu_to_le16(vr->avail_flags));
	}
	if (vr->event_idx)
		WRITE_ONCE(*vr->used_event, cpu_to_le16(vr->last_used));
	/*
	 * D4: the request for a notification is visible before we look at
	 * used->idx again.  Pairs with V3, the full barrier in
	 * pvring_dev_should_notify(): either the device sees our request or we
	 * see its entries.
	 */
	pvring_mb();
	return !pvring_drv_more_used(vr);
}

#endif /* PVRING_DRV_H */
