/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * pvring_mem.h - translating guest-physical addresses for the device side.
 *
 * The device side of a ring sees the driver's memory as a small set of
 * regions (vhost-user's memory table; a test's buffer pool), each a range of
 * guest-physical addresses mapped at some host address.  Every address a
 * descriptor carries goes through here, with its length, before it is used:
 * an address outside every region, a length that runs off the end or wraps
 * the 64-bit space is refused.
 */
#ifndef PVRING_MEM_H
#define PVRING_MEM_H

#include "pvring_compat.h"

/* vhost-user's historic limit; GET_MAX_MEM_SLOTS may not answer more. */
#define PVRING_MEM_REGIONS_MAX 32

struct pvring_mem_region {
	u64 gpa; /* first guest-physical address */
	u64 size; /* bytes, > 0 */
	u8 *hva; /* where gpa is mapped in this process */
};

struct pvring_mem {
	unsigned int nregions;
	struct pvring_mem_region region[PVRING_MEM_REGIONS_MAX];
};

/* One host segment of a buffer: the layout of struct iovec / struct kvec. */
struct pvring_seg {
	void *base;
	size_t len;
};

static inline const struct pvring_mem_region *pvring_mem_find(const struct pvring_mem *mem, u64 gpa)
{
	unsigned int i;

	for (i = 0; i < mem->nregions; i++) {
		const struct pvring_mem_region *r = &mem->region[i];

		if (gpa - r->gpa < r->size)
			return r;
	}
	return NULL;
}

/**
 * pvring_mem_ptr - translate a range that must lie inside one region
 * @mem: the memory table
 * @gpa: first guest-physical address
 * @len: bytes, > 0
 *
 * For structures the device reads as a whole (rings, indirect tables).
 * Return: the host address, or NULL when the range is not inside one region.
 */
static inline void *pvring_mem_ptr(const struct pvring_mem *mem, u64 gpa, u64 len)
{
	const struct pvring_mem_region *r = pvring_mem_find(mem, gpa);

	if (!r || len == 0 || len > r->size - (gpa - r->gpa))
		return NULL;
	return r->hva + (gpa - r->gpa);
}

/**
 * pvring_mem_xlate - translate a buffer into host segments
 * @mem: the memory table
 * @gpa: first guest-physical address
 * @len: bytes; 0 gives no segment
 * @seg: where to put the segments
 * @max: room in @seg
 *
 * A buffer that straddles two regions which are adjacent in guest-physical
 * space becomes two segments (virtio allows any buffer the driver can
 * address; QEMU's RAM is often split at 4 GiB).
 *
 * Return: the number of segments, -EFAULT when part of the buffer is in no
 * region (or it wraps the address space), -ENOBUFS when @seg is too small.
 */
static inline int pvring_mem_xlate(const struct pvring_mem *mem, u64 gpa, u64 len,
				   struct pvring_seg *seg, unsigned int max)
{
	unsigned int n = 0;

	/* The last byte, not the end, must not wrap: [2^64 - 1, 2^64) is fine. */
	if (unlikely(len && gpa + len - 1 < gpa))
		return -EFAULT;
	while (len) {
		const struct pvring_mem_region *r = pvring_mem_find(mem, gpa);
		u64 chunk;

		if (unlikely(!r))
			return -EFAULT;
		if (unlikely(n == max))
			return -ENOBUFS;
		chunk = r->size - (gpa - r->gpa);
		seg[n].base = r->hva + (gpa - r->gpa);
		/* The rest fits in this region: the common case, one segment. */
		if (likely(chunk >= len)) {
			seg[n].len = (size_t)len;
			return (int)n + 1;
		}
		seg[n].len = (size_t)chunk;
		n++;
		gpa += chunk;
		len -= chunk;
	}
	return (int)n;
}

#endif /* PVRING_MEM_H */
