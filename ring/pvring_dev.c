// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * pvring_dev.c - the device side's set-up, for every format.  The fast
 * paths, the chain walk included, are inline in pvring_dev.h and the
 * format's header.
 */
#include "pvring_dev.h"

/* The split format: the used index is the ring's own. */
int pvring_dev_init_split(struct pvring_dev *vr, const struct pvring_dev_config *cfg)
{
	struct pvring_dev_split *s = &vr->split;

	if ((uintptr_t)cfg->desc % PVRING_DESC_ALIGN ||
	    (uintptr_t)cfg->driver % PVRING_AVAIL_ALIGN ||
	    (uintptr_t)cfg->device % PVRING_USED_ALIGN || cfg->base > 0xffff)
		return -EINVAL;
	s->desc = cfg->desc;
	s->avail = cfg->driver;
	s->used = cfg->device;
	s->used_event = pvring_used_event(s->avail, cfg->num);
	s->avail_event = pvring_avail_event(s->used, cfg->num);
	s->last_avail = (u16)cfg->base;
	s->avail_idx = (u16)cfg->base;
	s->used_idx = le16_to_cpu(READ_ONCE(s->used->idx));
	s->published_used = s->used_idx;
	return 0;
}

/*
 * The packed format: positions come from @cfg->base (the ring has no index
 * to read them from); its upper half, the used position, is the avail
 * position when absent (a front-end that sends only the low 16 bits, or a
 * ring stopped with nothing in flight).
 */
int pvring_dev_init_packed(struct pvring_dev *vr, const struct pvring_dev_config *cfg)
{
	struct pvring_dev_packed *p = &vr->packed;
	int avail = pvring_packed_seq((u16)cfg->base, cfg->num);
	int used = cfg->base >> 16 ? pvring_packed_seq((u16)(cfg->base >> 16), cfg->num) : avail;
	unsigned int i;
	u16 held;

	if ((uintptr_t)cfg->desc % PVRING_PACKED_DESC_ALIGN ||
	    (uintptr_t)cfg->driver % PVRING_EVENT_ALIGN ||
	    (uintptr_t)cfg->device % PVRING_EVENT_ALIGN || !cfg->state ||
	    (uintptr_t)cfg->state % 8 || avail < 0 || used < 0)
		return -EINVAL;
	/* Avail may have wrapped past the end of the sequence space, used not. */
	held = pvring_packed_held(avail, used, cfg->num);
	if (held > cfg->num)
		return -EINVAL;
	avail = (u16)(used + held);
	p->desc = cfg->desc;
	p->driver = cfg->driver;
	p->device = cfg->device;
	p->last_avail = (u16)avail;
	p->avail_bits = pvring_packed_avail_bits((u16)avail, cfg->num);
	p->avail_end = (u16)avail;
	__pvring_dev_used_seq_packed(p, (u16)used, cfg->num);
	p->event_flags = 0xffff;
	/* The widest first: each array stays aligned whatever num is. */
	p->staged = cfg->state;
	p->id_inlen = (u32 *)(p->staged + cfg->num);
	p->id_ndesc = (u16 *)(p->id_inlen + cfg->num);
	p->pop_ndesc = p->id_ndesc + cfg->num;
	for (i = 0; i < cfg->num; i++) {
		p->id_ndesc[i] = 1;
		p->pop_ndesc[i] = 1;
		p->id_inlen[i] = 0;
	}
	return 0;
}

/**
 * pvring_dev_init - set up the device side of a ring
 * @vr: the ring state to fill in
 * @cfg: format, where the driver put the ring (host addresses), and where
 *       to resume
 *
 * The used index is taken from the ring itself, as vhost does: after a
 * reconnect the driver's view of it is the truth.
 *
 * Return: 0, or -EINVAL for an unknown format, a size the format does not
 * allow, a missing or misaligned area, a base the format cannot encode, no
 * memory table, or (packed) no private state.
 */
int pvring_dev_init(struct pvring_dev *vr, const struct pvring_dev_config *cfg)
{
	struct pvring_layout l;

	if (pvring_layout(cfg->format, cfg->num, &l) || !cfg->desc || !cfg->driver ||
	    !cfg->device || !cfg->mem)
		return -EINVAL;

	memset(vr, 0, sizeof(*vr));
	vr->format = cfg->format;
	vr->mem = cfg->mem;
	vr->num = cfg->num;
	vr->mask = cfg->num - 1;
	vr->event_idx = cfg->event_idx;
	vr->indirect = cfg->indirect;
	vr->in_order = cfg->in_order;
	if (cfg->format == PVRING_PACKED)
		return pvring_dev_init_packed(vr, cfg);
	return pvring_dev_init_split(vr, cfg);
}
