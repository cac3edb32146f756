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
	p->line_skew = (u16)((uintptr_t)p->desc / sizeof(*p->desc) % PVRING_PACKED_LINE_DESCS);
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

/*
 * A resume walk counts each id in flight once: it marks it in bit 15 of
 * its slot's next, which an id in flight does not use (its free-list link
 * is rewritten when it is freed; in order it is (id + 1) & mask, below
 * 32768, and restored by clearing the bit).  False when already marked.
 */
#define PVRING_DRV_RESUME_MARK 0x8000

static bool pvring_drv_resume_mark(struct pvring_drv *vr, u16 id)
{
	if (vr->slot[id].next & PVRING_DRV_RESUME_MARK)
		return false;
	vr->slot[id].next |= PVRING_DRV_RESUME_MARK;
	return true;
}

/*
 * Parse the chains the driver made available from @s to @end (the unused
 * part of a packed ring): each descriptor available for its lap (a staged
 * head's flags are the ones held back), naming one id in flight and not
 * yet counted throughout, NEXT on all but its last one, as long as its
 * slot says.  Return: the chains found, or -1 where the descriptors are
 * not that.
 */
static const struct pvring_desc_packed *pvring_drv_resume_desc_packed(const struct pvring_drv *vr,
								      u16 s)
{
	const struct pvring_drv_packed *p = &vr->packed;
	u16 k = (u16)(s - p->first_seq);

	/* A staged batch's first line is still in held[]. */
	if (k < (u16)(p->avail_seq - p->first_seq) && k < p->held_n)
		return &p->held[k];
	return &p->desc[s & vr->mask];
}

static int pvring_drv_resume_chains_packed(struct pvring_drv *vr, u16 s, u16 end)
{
	int chains = 0;

	while (s != end) {
		const struct pvring_desc_packed *d = pvring_drv_resume_desc_packed(vr, s);
		u16 id = le16_to_cpu(READ_ONCE(d->id)), j, n, flags;

		if (id >= vr->num || !vr->slot[id].token || !pvring_drv_resume_mark(vr, id))
			return -1;
		n = vr->slot[id].ndesc;
		if (!n || n > (u16)(end - s))
			return -1;
		for (j = 0; j < n; j++, s++) {
			d = pvring_drv_resume_desc_packed(vr, s);
			flags = le16_to_cpu(READ_ONCE(d->flags));
			if (le16_to_cpu(READ_ONCE(d->id)) != id ||
			    !(flags & PVRING_DESC_F_NEXT) != (j == n - 1) ||
			    !pvring_packed_is_avail(flags, s, vr->num))
				return -1;
		}
		chains++;
	}
	return chains;
}

/*
 * The packed half of pvring_drv_resume_base(): follow the used descriptors
 * from last_used to the device's used position, then check (untracked) or
 * tidy (tracked) the rest.
 */
static int pvring_drv_resume_packed(struct pvring_drv *vr, bool tracked, u32 *base)
{
	struct pvring_drv_packed *p = &vr->packed;
	u16 pos = p->last_used, h = vr->ord_head, left, id, n, c;
	/* A staged batch's first head is held back: the device saw nothing from there. */
	u16 seen = p->first_seq;
	int used = 0, avail, inflight = 0, ret = 0;
	unsigned int i;

	/* A batch half reaped (in order): its used descriptor is behind last_used. */
	for (i = 0; i < vr->batch_left; i++, h = (u16)((h + 1) & vr->mask)) {
		pvring_drv_resume_mark(vr, h);
		pos = (u16)(pos + vr->slot[h].ndesc);
		used++;
	}
	left = (u16)(seen - pos);
	if (left > vr->num) {
		ret = -EIO;
		goto out;
	}
	/*
	 * The used descriptors the device wrote, in order (PD2's acquire on
	 * each one's flags), each moving the used position by its chain's
	 * descriptors, or (in order) by those of every chain up to it.  An id
	 * not in flight, named twice, or a chain past what was made available
	 * breaks the ring, as reaping it would.
	 */
	while (left) {
		const struct pvring_desc_packed *d = &p->desc[pos & vr->mask];
		u16 flags = le16_to_cpu(pvring_load_acquire(&d->flags));

		if (!pvring_packed_is_used(flags, pos, vr->num))
			break;
		id = le16_to_cpu(READ_ONCE(d->id));
		ret = -EIO;
		if (id >= vr->num || !vr->slot[id].token)
			goto out;
		c = 1;
		if (vr->in_order) {
			c = (u16)(((id - h) & vr->mask) + 1);
			for (i = 0, n = 0; i < c; i++, h = (u16)((h + 1) & vr->mask)) {
				if (!vr->slot[h].token || !pvring_drv_resume_mark(vr, h))
					goto out;
				n = (u16)(n + vr->slot[h].ndesc);
			}
		} else {
			if (!pvring_drv_resume_mark(vr, id))
				goto out;
			n = vr->slot[id].ndesc;
		}
		if (n > left)
			goto out;
		ret = 0;
		pos = (u16)(pos + n);
		left = (u16)(left - n);
		used += c;
	}
	*base = pvring_packed_off_wrap(pos, vr->num) | (u32)pvring_packed_off_wrap(pos, vr->num)
							       << 16;
	if (tracked) {
		/*
		 * The device resumes popping past every chain its region
		 * holds, whose descriptors it kept: the ring there is never
		 * read again.  But a used batch torn by the crash (its later
		 * descriptors written, its first not) would read as used once
		 * last_used gets there: make those read as the last lap's.
		 */
		for (n = pos; n != seen; n++) {
			struct pvring_desc_packed *d = &p->desc[n & vr->mask];
			u16 last_lap = pvring_packed_used_bits((u16)(n + vr->num), vr->num);

			if (pvring_packed_is_used(le16_to_cpu(READ_ONCE(d->flags)), n, vr->num))
				WRITE_ONCE(d->flags, cpu_to_le16(last_lap));
		}
		goto out;
	}
	/*
	 * Untracked, the device pops again from the used position: right only
	 * when the chains from there are whole, as made available, none of
	 * them used already, and with those used they are every chain in
	 * flight.  A device that used chains out of order wrote its used
	 * descriptors over the heads of others, and one torn by the crash
	 * left some over chains still available: neither can be resumed from
	 * the ring alone.
	 */
	avail = pvring_drv_resume_chains_packed(vr, pos, p->avail_seq);
	for (i = 0; i < vr->num; i++)
		inflight += !!vr->slot[i].token;
	if (avail < 0 || used + avail != inflight)
		ret = -ESTALE;
out:
	for (i = 0; i < vr->num; i++)
		vr->slot[i].next &= PVRING_DRV_RESUME_MARK - 1;
	if (ret == -EIO)
		vr->broken = true;
	return ret;
}

/**
 * pvring_drv_resume_base - where a device that lost its state resumes
 * @vr: the ring, its device gone (nothing writes the ring meanwhile)
 * @tracked: the new device recovers what was in flight from an in-flight
 *           region the old one kept (vhost-user INFLIGHT_SHMFD)
 * @base: out: vhost-user's SET_VRING_BASE value
 *
 * Split: the used index, so chains made available after it are popped
 * again, as QEMU resumes after a back-end crash (chains the device
 * completed out of order before it died are served twice: only a region
 * removes that doubt).  Packed: the position after the last used
 * descriptor the device wrote, found by following them from last_used,
 * for both halves of the packed encoding (bits 0-14 the offset, bit 15 the
 * wrap counter; the next avail descriptor in bits 0-15, the next used one
 * in bits 16-31).  Used descriptors not yet reaped stay where they are,
 * reaped once; a device with a region resumes where its region says and
 * resubmits the rest.
 *
 * Return: 0; -ESTALE when (untracked, packed) the ring no longer holds the
 * chains in flight whole, so no device could resume from it; -EIO when the
 * used descriptors name ids not in flight, or one twice (the ring is then
 * broken).
 */
int pvring_drv_resume_base(struct pvring_drv *vr, bool tracked, u32 *base)
{
	if (vr->broken)
		return -EIO;
	if (pvring_drv_is_packed(vr))
		return pvring_drv_resume_packed(vr, tracked, base);
	/* Acquire: pairs with the dead device's release store of used->idx (D2). */
	*base = le16_to_cpu(pvring_load_acquire(&vr->split.used->idx));
	return 0;
}

PVRING_EXPORT(pvring_drv_resume_base);
