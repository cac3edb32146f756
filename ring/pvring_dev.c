// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * pvring_dev.c - the device side's set-up.  The fast paths, the chain walk
 * included, are inline in pvring_dev.h.
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
