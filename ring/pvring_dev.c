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
 * allow, a missing or misaligned area, a base the format cannot encode, or
 * no memory table.
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
	return pvring_dev_init_split(vr, cfg);
}
