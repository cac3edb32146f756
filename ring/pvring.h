/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * pvring.h - what both sides of a virtqueue and every ring format share.
 *
 * A virtqueue has one of the formats of virtio 1.2 §2.6: split (§2.7) or
 * packed (§2.8).  The driver side (pvring_drv.h) and the device side
 * (pvring_dev.h) each offer one API whatever the format; code outside ring/
 * never sees indices, flags or the layout of the shared areas.  What it does
 * need to know is how much memory the three areas take and where the
 * transport says they are, which pvring_layout() answers:
 *
 *   area      split (§2.7)          packed (§2.8)
 *   desc      descriptor table      descriptor ring
 *   driver    available ring        driver event suppression
 *   device    used ring             device event suppression
 *
 * virtio-pci's queue_desc / queue_driver / queue_device and vhost-user's
 * SET_VRING_ADDR carry the three addresses in that order.
 */
#ifndef PVRING_H
#define PVRING_H

#include "pvring_compat.h"
#include "pvring_split.h"
#include "pvring_packed.h"

/* The ring formats; a struct pvring_*_config left zeroed means split. */
enum pvring_format {
	PVRING_SPLIT = 0, /* virtio 1.2 §2.7 */
	PVRING_PACKED = 1, /* virtio 1.2 §2.8, VIRTIO_F_RING_PACKED */
};

/* Sizes and alignments of the three shared areas of a ring. */
struct pvring_layout {
	size_t desc_bytes;
	size_t driver_bytes; /* including the used_event field (split) */
	size_t device_bytes; /* including the avail_event field (split) */
	size_t desc_align;
	size_t driver_align;
	size_t device_align;
	/*
	 * The device side's private state (pvring_dev_config.state): what a
	 * packed ring's device must remember per buffer id that the shared
	 * ring does not keep.  0 for split.
	 */
	size_t dev_state_bytes;
};

/**
 * pvring_layout - how much memory each area of a ring takes
 * @format: the ring format
 * @num: the queue size
 * @l: out: sizes and the alignments the spec requires
 *
 * Return: 0, or -EINVAL for a size the format does not allow (a power of two
 * in 1..32768: the spec allows any packed size up to 32768, pvio takes the
 * powers of two, which every driver and device in the field uses) or an
 * unknown format.
 */
static inline int pvring_layout(enum pvring_format format, unsigned int num,
				struct pvring_layout *l)
{
	if (!pvring_size_valid(num))
		return -EINVAL;
	switch (format) {
	case PVRING_SPLIT:
		l->desc_bytes = pvring_desc_bytes(num);
		l->driver_bytes = pvring_avail_bytes(num);
		l->device_bytes = pvring_used_bytes(num);
		l->desc_align = PVRING_DESC_ALIGN;
		l->driver_align = PVRING_AVAIL_ALIGN;
		l->device_align = PVRING_USED_ALIGN;
		l->dev_state_bytes = 0;
		return 0;
	case PVRING_PACKED:
		l->desc_bytes = (size_t)num * sizeof(struct pvring_desc_packed);
		l->driver_bytes = sizeof(struct pvring_event);
		l->device_bytes = sizeof(struct pvring_event);
		l->desc_align = PVRING_PACKED_DESC_ALIGN;
		l->driver_align = PVRING_EVENT_ALIGN;
		l->device_align = PVRING_EVENT_ALIGN;
		/* staged (8 bytes), id_inlen (u32), id_ndesc, pop_ndesc (u16 each): num each. */
		l->dev_state_bytes = (size_t)num * 16;
		return 0;
	}
	return -EINVAL;
}

/*
 * Bytes of an indirect table of @n descriptors; the same 16-byte entries in
 * both formats.
 */
static inline size_t pvring_indirect_bytes(unsigned int n)
{
	return (size_t)n * sizeof(struct pvring_desc);
}

#endif /* PVRING_H */
