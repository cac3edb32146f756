// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * pvring_drv.c - slow paths of the driver side: set-up, teardown and
 * delayed callbacks, for every format.  The fast paths are inline in
 * pvring_drv.h and the format's header.
 */
#include "pvring_drv.h"

#ifdef __KERNEL__
#include <linux/export.h>
#define PVRING_EXPORT(sym) EXPORT_SYMBOL_GPL(sym)
#else
#define PVRING_EXPORT(sym)
#endif

/* The split format's set-up: zeroed areas, every descriptor free. */
int pvring_drv_init_split(struct pvring_drv *vr, const struct pvring_drv_config *cfg)
{
	struct pvring_drv_split *s = &vr->split;
	unsigned int i;

	s->desc = cfg->desc;
	s->avail = cfg->driver;
	s->used = cfg->device;
	s->used_event = pvring_used_event(s->avail, cfg->num);
	s->avail_event = pvring_avail_event(s->used, cfg->num);

	memset(s->desc, 0, pvring_desc_bytes(vr->num));
	memset(s->avail, 0, pvring_avail_bytes(vr->num));
	memset(s->used, 0, pvring_used_bytes(vr->num));
	for (i = 0; i < vr->num; i++) {
		vr->slot[i].token = NULL;
		vr->slot[i].in_len = 0;
		vr->slot[i].ndesc = 0;
		/* Ring order; the last link is followed only in order (back to 0). */
		vr->slot[i].next = (u16)((i + 1) & vr->mask);
	}
	return 0;
}

/* The packed format's set-up: zeroed ring and events, every id free. */
int pvring_drv_init_packed(struct pvring_drv *vr, const struct pvring_drv_config *cfg)
{
	struct pvring_drv_packed *p = &vr->packed;
	unsigned int i;

	p->desc = cfg->desc;
	p->driver = cfg->driver;
	p->device = cfg->device;
	/* Zeroed: no descriptor is available to a device whose counter is 1. */
	memset(p->desc, 0, (size_t)vr->num * sizeof(*p->desc));
	memset(p->driver, 0, sizeof(*p->driver));
	memset(p->device, 0, sizeof(*p->device));
	p->event_flags = PVRING_EVENT_F_ENABLE;
	__pvring_drv_packed_set_pos(vr, 0, 0);
	for (i = 0; i < vr->num; i++) {
		vr->slot[i].token = NULL;
		vr->slot[i].in_len = 0;
		vr->slot[i].ndesc = 0;
		/* Ring order; the last link is followed only in order (back to 0). */
		vr->slot[i].next = (u16)((i + 1) & vr->mask);
	}
	return 0;
}

/**
 * pvring_drv_init - set up the driver side of a ring on caller-owned memory
 * @vr: the ring state to fill in
 * @cfg: format, size and memory; the shared areas need not be zeroed
 *
 * Zeroes the shared areas, makes every descriptor free and enables
 * used-buffer notifications.  Must be done before the device is told where
 * the ring is (DRIVER_OK / queue_enable), so no barrier is needed.
 *
 * Return: 0, or -EINVAL for an unknown format, a size the format does not
 * allow, a missing area, or an indirect pool whose table size is out of
 * range.  A packed ring's tables hold packed descriptors, 16 bytes as well.
 */
int pvring_drv_init(struct pvring_drv *vr, const struct pvring_drv_config *cfg)
{
	struct pvring_layout l;

	if (pvring_layout(cfg->format, cfg->num, &l) || !cfg->desc || !cfg->driver ||
	    !cfg->device || !cfg->slot)
		return -EINVAL;
	if (cfg->indirect && (cfg->indirect_max < 2 || cfg->indirect_max > PVRING_MAX_SIZE))
		return -EINVAL;

	memset(vr, 0, sizeof(*vr));
	vr->format = cfg->format;
	vr->slot = cfg->slot;
	vr->indirect = cfg->indirect;
	vr->indirect_addr = cfg->indirect_addr;
	vr->indirect_max = cfg->indirect ? cfg->indirect_max : 0;
	vr->num = cfg->num;
	vr->mask = cfg->num - 1;
	vr->num_free = cfg->num;
	vr->event_idx = cfg->event_idx;
	vr->in_order = cfg->in_order;
	if (cfg->format == PVRING_PACKED)
		return pvring_drv_init_packed(vr, cfg);
	return pvring_drv_init_split(vr, cfg);
}

PVRING_EXPORT(pvring_drv_init);

/**
 * pvring_drv_detach_unused - take back a buffer the device never used
 * @vr: the ring, after the device was reset (it no longer touches the ring)
 *
 * Return: the token of one buffer still in flight, or NULL when none is left.
 * Call until NULL to release every buffer on teardown or after a device error.
 */
void *pvring_drv_detach_unused(struct pvring_drv *vr)
{
	unsigned int i;
	void *token;

	for (i = 0; i < vr->num; i++) {
		token = vr->slot[i].token;
		if (!token)
			continue;
		if (vr->in_order) {
			/* Not relinked: the run from ord_head is all that is ever freed. */
			vr->num_free += vr->slot[i].ndesc;
			vr->slot[i].token = NULL;
			if (pvring_drv_is_packed(vr) && vr->num_free == vr->num)
				__pvring_drv_packed_set_pos(vr, vr->packed.avail_seq,
							    vr->packed.avail_seq);
		} else if (pvring_drv_is_packed(vr)) {
			__pvring_drv_detach_packed(vr, (u16)i);
			/* Nothing in flight: the next used one is the next made available. */
			if (vr->num_free == vr->num)
				__pvring_drv_packed_set_pos(vr, vr->packed.avail_seq,
							    vr->packed.avail_seq);
		} else {
			__pvring_drv_detach_split(vr, (u16)i);
		}
		/* In order: nothing in flight, the next chain is the oldest. */
		if (vr->num_free == vr->num) {
			vr->ord_head = vr->free_head;
			vr->batch_left = 0;
		}
		return token;
	}
	return NULL;
}

PVRING_EXPORT(pvring_drv_detach_unused);

bool pvring_drv_enable_cb_delayed_split(struct pvring_drv *vr)
{
	struct pvring_drv_split *s = &vr->split;
	u16 pending;

	s->avail_flags &= ~PVRING_AVAIL_F_NO_INTERRUPT;
	pending = (u16)(s->avail_idx - s->last_used);
	WRITE_ONCE(*s->used_event, cpu_to_le16((u16)(s->last_used + pending * 3 / 4)));
	/* D4, as in pvring_drv_enable_cb_split(). */
	pvring_mb();
	/*
	 * Read used->idx afresh even when unreaped entries are already known:
	 * the cached index may be from before the device crossed the new
	 * used_event, and then no notification will come.
	 */
	if (unlikely(vr->broken) || !__pvring_drv_used_read_split(vr))
		return true;
	return (u16)(s->used_idx - s->last_used) <= (u16)(pending * 3 / 4);
}

bool pvring_drv_enable_cb_delayed_packed(struct pvring_drv *vr)
{
	struct pvring_drv_packed *p = &vr->packed;
	u16 pending = (u16)(vr->num - vr->num_free), ahead = (u16)(pending * 3 / 4);
	u16 event = (u16)(p->last_used + ahead), seq = p->last_used, flags, ord = vr->ord_head;
	unsigned int i, steps = 0;
	u32 id;

	p->event_flags = PVRING_EVENT_F_DESC;
	pvring_event_write(p->driver, pvring_packed_off_wrap(event, vr->num), PVRING_EVENT_F_DESC);
	/* PD4, as in pvring_drv_enable_cb_packed(). */
	pvring_mb();
	if (unlikely(vr->broken))
		return true;
	/* A batch being reaped: its chains are there now. */
	if (vr->batch_left)
		return false;
	/*
	 * Has the device already used the descriptor at @event?  Not only when
	 * that descriptor reads used: a chain used at an earlier position may
	 * cover it.  So follow the used descriptors from last_used, as reaping
	 * would (reading, not reaping: an id not in flight is for get_used()
	 * to find and break on).
	 */
	for (i = 0; i < vr->num; i++) {
		struct pvring_desc_packed *d = &p->desc[seq & vr->mask];

		flags = le16_to_cpu(pvring_load_acquire(&d->flags));
		if (!pvring_packed_is_used(flags, seq, vr->num))
			return true;
		id = le16_to_cpu(READ_ONCE(d->id));
		if (id >= vr->num || !vr->slot[id].token)
			return false;
		if (vr->in_order) {
			/* A batch: every chain from the next one in order up to @id. */
			for (;;) {
				/* @id behind what was followed: get_used() breaks on it. */
				if (!vr->slot[ord].token || ++steps > vr->num)
					return false;
				seq = (u16)(seq + vr->slot[ord].ndesc);
				if (ord == id)
					break;
				ord = (u16)((ord + 1) & vr->mask);
			}
			ord = (u16)((ord + 1) & vr->mask);
		} else {
			seq = (u16)(seq + vr->slot[id].ndesc);
		}
		if ((u16)(seq - p->last_used) > ahead)
			return false;
	}
	return false;
}

/**
 * pvring_drv_enable_cb_delayed - re-enable notifications, but late
 * @vr: the ring
 *
 * With EVENT_IDX, asks to be notified only when about three quarters of the
 * buffers now in flight are used, to batch completions (a transmit queue
 * reaping sent frames is the typical user).  Without it, same as
 * pvring_drv_enable_cb().
 *
 * Return: true when it is safe to wait for the notification (also on a broken
 * ring: nothing to reap, see pvring_drv_broken()); false when the device is
 * already past the point, so no notification will come: reap now.
 */
bool pvring_drv_enable_cb_delayed(struct pvring_drv *vr)
{
	if (!vr->event_idx)
		return pvring_drv_enable_cb(vr);
	if (pvring_drv_is_packed(vr))
		return pvring_drv_enable_cb_delayed_packed(vr);
	return pvring_drv_enable_cb_delayed_split(vr);
}

PVRING_EXPORT(pvring_drv_enable_cb_delayed);
