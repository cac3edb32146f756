/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * pvring_drv.h - the driver side of a virtqueue, whatever its format.
 *
 * The driver offers buffers (chains of device-readable then device-writable
 * segments) and reaps them when the device has used them.  The ring owns no
 * memory: the caller hands it the three shared areas (pvring_layout() says
 * how large), a private slot array and optionally a pool of indirect tables,
 * so it can run in atomic context in the kernel and in a busy loop in
 * userspace alike.
 *
 * Every call below goes to the implementation of the ring's format
 * (pvring_drv_split.h, virtio 1.2 §2.7; pvring_drv_packed.h, §2.8); callers
 * see no index, flag or layout of the shared areas.  Shared memory is
 * hostile: a device that breaks the protocol marks the ring broken, and every
 * later call fails with -EIO or NULL (the ring does not log: the caller
 * reports it).
 *
 * Concurrency: one caller at a time per ring (the caller's lock or queue
 * ownership); driver and device sides run concurrently on different CPUs.
 */
#ifndef PVRING_DRV_H
#define PVRING_DRV_H

#include "pvring.h"

/* One segment of a buffer, as the device will address it. */
struct pvring_sg {
	u64 addr; /* device-visible (DMA / guest-physical) address */
	u32 len; /* bytes */
};

/*
 * Private per-chain state; never shared with the device.  Split: one per
 * descriptor, indexed by head.  Packed: one per buffer id.
 */
struct pvring_drv_slot {
	void *token; /* caller's cookie while this head / id is in flight, else NULL */
	u32 in_len; /* writable bytes in the chain: the bound for used len */
	u16 ndesc; /* descriptors the chain takes in the main table / ring */
	u16 next; /* free-list link (split: also the chain): the truth, not desc[] */
};

/* The split format's shared areas and indices (pvring_drv_split.h). */
struct pvring_drv_split {
	struct pvring_desc *desc;
	struct pvring_avail *avail;
	struct pvring_used *used;
	__le16 *used_event; /* in avail, written by us */
	__le16 *avail_event; /* in used, written by the device */
	u16 avail_idx; /* next avail->idx: entries staged so far */
	u16 published_idx; /* avail->idx as last stored (we are its only writer) */
	u16 kicked_idx; /* avail_idx when we last decided about a kick */
	u16 last_used; /* next used entry to reap */
	u16 used_idx; /* used->idx as last read */
	u16 avail_flags; /* shadow of avail->flags */
};

/* The packed format's shared areas and positions (pvring_drv_packed.h). */
struct pvring_drv_packed {
	struct pvring_desc_packed *desc; /* the descriptor ring */
	struct pvring_event *driver; /* driver event suppression, written by us */
	struct pvring_event *device; /* device event suppression, written by the device */
	u16 avail_seq; /* next descriptor to fill (pvring_packed.h: sequence numbers) */
	u16 avail_bits; /* pvring_packed_avail_bits(avail_seq), kept as it moves */
	u16 used_bits; /* pvring_packed_used_bits(last_used), kept as it moves */
	u16 kicked_seq; /* avail_seq when we last decided about a kick */
	u16 last_used; /* next used descriptor to reap */
	/*
	 * Where the next batch starts: the head of the first chain staged and
	 * not yet published, or avail_seq when nothing is staged.
	 */
	u16 first_seq;
	u16 held_n; /* descriptors from first_seq to the end of its cache line */
	u16 line_skew; /* desc's offset in its cache line, in descriptors */
	u16 event_flags; /* shadow of driver->flags */
	/*
	 * The staged descriptors in first_seq's cache line, first_seq's own
	 * flags included.  A device waiting for work polls that line for the
	 * head, so the ring gets them when the batch is published, in one
	 * burst: written one by one as they are staged, the line would go back
	 * and forth between the two CPUs at every store.
	 */
	struct pvring_desc_packed held[PVRING_PACKED_LINE_DESCS];
};

struct pvring_drv {
	/* Private, every format. */
	struct pvring_drv_slot *slot; /* num entries */
	struct pvring_desc *indirect; /* num * indirect_max entries, or NULL */
	u64 indirect_addr; /* device address of indirect[0] */
	u16 indirect_max; /* descriptors per indirect table */
	u16 num;
	u16 mask; /* num - 1 */
	u16 free_head; /* first free descriptor (split) / buffer id (packed) */
	u16 num_free; /* free descriptors in the main table / ring */
	u8 format; /* enum pvring_format */
	bool event_idx; /* VIRTIO_F_EVENT_IDX negotiated */
	/*
	 * The two things that take a call off its fast path, read together
	 * (off_fast != 0) where a call tests both: a ring that is neither
	 * broken nor in order pays the one test it paid for broken alone.
	 */
	union {
		struct {
			bool broken; /* the device broke the protocol: all calls fail */
			/*
			 * VIRTIO_F_IN_ORDER (§2.7.9, §2.8.23): descriptors (split)
			 * and buffer ids (packed) are handed out in ring order and
			 * never relinked, so the chains in flight are one run from
			 * ord_head; one used element may stand for every chain up
			 * to the one it names (a batch).
			 */
			bool in_order;
		};
		u16 off_fast;
	};
	u16 ord_head; /* in order: the oldest chain in flight (split head / packed id) */
	u16 batch_left; /* in order: chains of a batch still to reap before its named one */
	u32 batch_len; /* in order: the length the named one was used with */
	/* The format's view of the shared areas. */
	union {
		struct pvring_drv_split split;
		struct pvring_drv_packed packed;
	};
};

struct pvring_drv_config {
	enum pvring_format format;
	unsigned int num; /* queue size the format allows (pvring_layout()) */
	bool event_idx;
	bool in_order; /* VIRTIO_F_IN_ORDER negotiated */
	void *desc; /* the three areas, as pvring_layout() sizes and aligns them */
	void *driver;
	void *device;
	struct pvring_drv_slot *slot; /* num entries */
	/*
	 * Optional (VIRTIO_F_INDIRECT_DESC): num tables of indirect_max entries
	 * (16 bytes each, in the format's own descriptor layout).
	 */
	struct pvring_desc *indirect;
	u64 indirect_addr;
	unsigned int indirect_max; /* 2..PVRING_MAX_SIZE */
};

/*
 * IN_ORDER (§2.7.9, §2.8.23) reaping, shared by both formats.  A used
 * element names the oldest chain in flight, or a later one: then it stands
 * for the batch of every chain up to that one, reaped one by one without
 * looking at the ring again (batch_left); the chains before the named one
 * report the writable length they were offered ("used whole"), the named
 * one the length of the element.
 */

/* A used element naming a later chain: start a batch of @n; the oldest's length. */
static inline u32 __pvring_drv_batch_start(struct pvring_drv *vr, u16 n, u32 l)
{
	vr->batch_left = n - 1;
	vr->batch_len = l;
	return vr->slot[vr->ord_head].in_len;
}

/* The length of the next chain of the batch being reaped (batch_left != 0). */
static inline pvring_always_inline u32 __pvring_drv_batch_next(struct pvring_drv *vr)
{
	return --vr->batch_left ? vr->slot[vr->ord_head].in_len : vr->batch_len;
}

/*
 * Take chain @id, used with length @l: its descriptors (split) or id
 * (packed) go back as a run, never relinked (they stay in ring order).
 */
static inline pvring_always_inline void *__pvring_drv_take_in_order(struct pvring_drv *vr, u16 id,
								    u32 l, u32 *len)
{
	struct pvring_drv_slot *s = &vr->slot[id];
	void *token = s->token;

	*len = l < s->in_len ? l : s->in_len;
	vr->num_free += s->ndesc;
	s->token = NULL;
	return token;
}

#include "pvring_drv_split.h"
#include "pvring_drv_packed.h"

static inline pvring_always_inline bool pvring_drv_is_packed(const struct pvring_drv *vr)
{
	return vr->format == PVRING_PACKED;
}

int pvring_drv_init(struct pvring_drv *vr, const struct pvring_drv_config *cfg);
void *pvring_drv_detach_unused(struct pvring_drv *vr);
bool pvring_drv_enable_cb_delayed(struct pvring_drv *vr);
int pvring_drv_resume_base(struct pvring_drv *vr, bool tracked, u32 *base);

static inline pvring_always_inline bool pvring_drv_broken(const struct pvring_drv *vr)
{
	return vr->broken;
}

/* Descriptors free: a chain of n segments fits when n <= this (or 1 with indirect). */
static inline pvring_always_inline unsigned int pvring_drv_num_free(const struct pvring_drv *vr)
{
	return vr->num_free;
}

/* Chains of more than one segment take one descriptor each (indirect tables). */
static inline pvring_always_inline bool pvring_drv_has_indirect(const struct pvring_drv *vr)
{
	return vr->indirect;
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
 * index's cache line to the device once per batch, not per buffer.
 *
 * Return: 0, -ENOSPC when the ring is full, -EINVAL for an empty or oversized
 * chain or a NULL token, -EIO when the ring is broken.
 */
static inline pvring_always_inline int pvring_drv_stage(struct pvring_drv *vr,
							const struct pvring_sg *sg,
							unsigned int out, unsigned int in,
							void *token)
{
	if (unlikely(vr->broken))
		return -EIO;
	if (unlikely(out + in == 0 || !token))
		return -EINVAL;
	if (pvring_drv_is_packed(vr))
		return pvring_drv_stage_packed(vr, sg, out, in, token);
	return pvring_drv_stage_split(vr, sg, out, in, token);
}

/**
 * pvring_drv_publish - make every staged buffer visible to the device
 * @vr: the ring
 */
static inline pvring_always_inline void pvring_drv_publish(struct pvring_drv *vr)
{
	if (pvring_drv_is_packed(vr))
		pvring_drv_publish_packed(vr);
	else
		pvring_drv_publish_split(vr);
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
static inline pvring_always_inline int pvring_drv_add(struct pvring_drv *vr,
						      const struct pvring_sg *sg, unsigned int out,
						      unsigned int in, void *token)
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
 * device's event index decides, otherwise its no-notify flag.
 */
static inline pvring_always_inline bool pvring_drv_kick_prepare(struct pvring_drv *vr)
{
	if (pvring_drv_is_packed(vr))
		return pvring_drv_kick_prepare_packed(vr);
	return pvring_drv_kick_prepare_split(vr);
}

/**
 * pvring_drv_notify_pos - where the driver has published up to, for a kick
 * @vr: the ring, after pvring_drv_kick_prepare() (which publishes)
 *
 * VIRTIO_F_NOTIFICATION_DATA (virtio 1.2 §2.9) sends this with the queue
 * number: split, the next available index (next_idx); packed, the offset
 * of the next descriptor to be made available in bits 0-14 (next_off) and
 * the driver's ring wrap counter there in bit 15 (next_wrap).
 */
static inline pvring_always_inline u16 pvring_drv_notify_pos(const struct pvring_drv *vr)
{
	const struct pvring_drv_packed *p = &vr->packed;

	/* Packed: the first head staged and not published is where it stops. */
	if (pvring_drv_is_packed(vr))
		return pvring_packed_off_wrap(p->first_seq, vr->num);
	return vr->split.published_idx;
}

/**
 * pvring_drv_more_used - are there used buffers to reap?
 * @vr: the ring
 *
 * Looks at the shared area when everything seen so far has been reaped.
 * Marks the ring broken when the device moved further than the ring size.
 * Return: false on a broken ring.
 */
static inline pvring_always_inline bool pvring_drv_more_used(struct pvring_drv *vr)
{
	/*
	 * Broken first: entries seen before the ring broke are not to be
	 * trusted either, and "more" on a broken ring would keep a caller's
	 * reap / enable_cb loop spinning forever.
	 */
	if (unlikely(vr->broken))
		return false;
	if (pvring_drv_is_packed(vr))
		return pvring_drv_more_used_packed(vr);
	return pvring_drv_more_used_split(vr);
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
static inline pvring_always_inline void *pvring_drv_get_used(struct pvring_drv *vr, u32 *len)
{
	*len = 0;
	/* One test for broken and in order: the common ring goes straight on. */
	if (unlikely(vr->off_fast)) {
		if (vr->broken)
			return NULL;
		if (pvring_drv_is_packed(vr))
			return __pvring_drv_get_used_in_order_packed(vr, len);
		return __pvring_drv_get_used_in_order_split(vr, len);
	}
	if (pvring_drv_is_packed(vr))
		return pvring_drv_get_used_packed(vr, len);
	return pvring_drv_get_used_split(vr, len);
}

/**
 * pvring_drv_disable_cb - ask the device not to send used-buffer notifications
 * @vr: the ring
 *
 * A hint: the device may still notify (with EVENT_IDX, at most once more).
 */
static inline pvring_always_inline void pvring_drv_disable_cb(struct pvring_drv *vr)
{
	if (pvring_drv_is_packed(vr))
		pvring_drv_disable_cb_packed(vr);
	else
		pvring_drv_disable_cb_split(vr);
}

/**
 * pvring_drv_enable_cb - re-enable used-buffer notifications, race-free
 * @vr: the ring
 *
 * Return: true when nothing is pending, so it is safe to wait for the next
 * notification; false when used buffers arrived meanwhile, which the caller
 * must reap (no notification will come for them).  True on a broken ring:
 * there is nothing to reap, the caller checks pvring_drv_broken().
 */
static inline pvring_always_inline bool pvring_drv_enable_cb(struct pvring_drv *vr)
{
	if (pvring_drv_is_packed(vr))
		return pvring_drv_enable_cb_packed(vr);
	return pvring_drv_enable_cb_split(vr);
}

#endif /* PVRING_DRV_H */
