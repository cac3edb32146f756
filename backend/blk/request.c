// SPDX-License-Identifier: GPL-2.0
/*
 * request.c - taking a virtio-blk request apart (virtio 1.2 §5.2.6).
 *
 * Input is a chain the ring already walked and translated: readable segments
 * then writable ones, each inside guest memory.  Nothing here assumes the
 * driver put the header, data and status byte in separate descriptors (the
 * spec does not require it): the header is gathered from the first 16
 * readable bytes wherever they lie, the status byte is the last writable
 * byte.  Guest memory is shared and hostile: the header and the discard
 * ranges are copied out once and only the copies are used.
 */
#include <string.h>

#include "blk/blk.h"

/**
 * pviod_seg_copy_from - gather bytes from segments into a local buffer
 * @dst: where to
 * @seg: the segments
 * @nseg: how many
 * @len: bytes wanted
 *
 * Return: bytes copied (less than @len when the segments are shorter).
 */
size_t pviod_seg_copy_from(void *dst, const struct pvring_seg *seg, unsigned int nseg, size_t len)
{
	size_t done = 0;
	unsigned int i;

	for (i = 0; i < nseg && done < len; i++) {
		size_t n = seg[i].len < len - done ? seg[i].len : len - done;

		memcpy((char *)dst + done, seg[i].base, n);
		done += n;
	}
	return done;
}

/* Drop @skip bytes from the front of seg[0, *n), in place. */
static struct pvring_seg *pviod_seg_skip(struct pvring_seg *seg, unsigned int *n, size_t skip)
{
	while (*n && skip >= seg->len) {
		skip -= seg->len;
		seg++;
		(*n)--;
	}
	if (*n && skip) {
		seg->base = (char *)seg->base + skip;
		seg->len -= skip;
	}
	return seg;
}

static uint64_t pviod_seg_bytes(const struct pvring_seg *seg, unsigned int n)
{
	uint64_t len = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		len += seg[i].len;
	return len;
}

/*
 * Is [sector, sector + len bytes) inside the disk?  Free of overflow.  The
 * capacity is read once: the control thread changes it when the disk is
 * resized (device.c's refresh).
 */
static bool pviod_blk_in_range(uint64_t sector, uint64_t len, const uint64_t *capacity_p)
{
	uint64_t n = len >> PVIO_BLK_SECTOR_SHIFT;
	uint64_t capacity = __atomic_load_n(capacity_p, __ATOMIC_RELAXED);

	return sector <= capacity && n <= capacity - sector;
}

/**
 * pviod_blk_req_parse - split a chain into header, data and status byte
 * @p: out: the request
 * @seg: the chain's segments; adjusted in place (header and status trimmed)
 * @c: the chain (counts and byte totals)
 * @lim: the disk's size and what it offers
 *
 * Return: 0 when the request may go ahead; PVIO_BLK_S_IOERR or
 * PVIO_BLK_S_UNSUPP when it must be completed at once with that status
 * (@p->status is then valid); -EINVAL when there is no writable byte for a
 * status, so the chain can only be returned with length 0.
 */
int pviod_blk_req_parse(struct pviod_blk_parsed *p, struct pvring_seg *seg,
			const struct pvring_chain *c, const struct pviod_blk_limits *lim)
{
	struct pvio_blk_req_hdr hdr;
	struct pvring_seg *last, *rd, *wr;
	unsigned int nrd = c->nout, nwr = c->nseg - c->nout;

	memset(p, 0, sizeof(*p));
	if (c->nseg > PVIOD_BLK_SEGS || c->nout > c->nseg || !nwr)
		return -EINVAL;
	last = &seg[c->nseg - 1];
	if (!last->len)
		return -EINVAL;
	p->status = (uint8_t *)last->base + last->len - 1;
	/*
	 * The limits pviod advertises hold for every request: seg_max data
	 * buffers (the header and the status byte may come in buffers of
	 * their own) of size_max bytes at most each.
	 */
	if (c->ndesc > PVIOD_BLK_SEG_MAX + 2 || c->max_len > PVIOD_BLK_SIZE_MAX)
		return PVIO_BLK_S_IOERR;
	/* The status byte is not data. */
	last->len--;
	if (!last->len)
		nwr--;
	wr = &seg[c->nout];

	if (pviod_seg_copy_from(&hdr, seg, nrd, sizeof(hdr)) < sizeof(hdr))
		return PVIO_BLK_S_IOERR;
	rd = pviod_seg_skip(seg, &nrd, sizeof(hdr));
	p->type = le32_to_cpu(hdr.type);
	p->sector = le64_to_cpu(hdr.sector);

	switch (p->type) {
	case PVIO_BLK_T_IN:
	case PVIO_BLK_T_GET_ID:
		p->data = wr;
		p->ndata = nwr;
		break;
	case PVIO_BLK_T_OUT:
	case PVIO_BLK_T_DISCARD:
	case PVIO_BLK_T_WRITE_ZEROES:
		p->data = rd;
		p->ndata = nrd;
		break;
	case PVIO_BLK_T_FLUSH:
		if (!lim->flush)
			return PVIO_BLK_S_UNSUPP;
		return 0;
	default:
		return PVIO_BLK_S_UNSUPP;
	}
	p->data_len = pviod_seg_bytes(p->data, p->ndata);

	switch (p->type) {
	case PVIO_BLK_T_IN:
	case PVIO_BLK_T_OUT:
		if (p->type == PVIO_BLK_T_OUT && lim->readonly)
			return PVIO_BLK_S_IOERR;
		if (p->data_len % PVIO_BLK_SECTOR_SIZE ||
		    !pviod_blk_in_range(p->sector, p->data_len, &lim->capacity))
			return PVIO_BLK_S_IOERR;
		if (p->ndata > PVIOD_BLK_SEGS)
			return PVIO_BLK_S_IOERR;
		break;
	case PVIO_BLK_T_GET_ID:
		break;
	case PVIO_BLK_T_DISCARD:
	case PVIO_BLK_T_WRITE_ZEROES:
		if (!lim->discard)
			return PVIO_BLK_S_UNSUPP;
		if (lim->readonly)
			return PVIO_BLK_S_IOERR;
		if (!p->data_len || p->data_len % sizeof(struct pvio_blk_discard_wz_seg))
			return PVIO_BLK_S_IOERR;
		break;
	}
	return 0;
}

/**
 * pviod_blk_ranges_parse - copy out and check DISCARD / WRITE_ZEROES ranges
 * @p: a parsed DISCARD or WRITE_ZEROES request
 * @lim: the disk
 * @out: the ranges, in CPU byte order, PVIOD_BLK_DISCARD_SEG_MAX slots
 * @n: out: how many
 *
 * Return: 0, PVIO_BLK_S_UNSUPP for flags the spec forbids (UNMAP on a
 * DISCARD, reserved bits), PVIO_BLK_S_IOERR for too many ranges or a range
 * that is empty, too long or outside the disk.
 */
int pviod_blk_ranges_parse(const struct pviod_blk_parsed *p, const struct pviod_blk_limits *lim,
			   struct pvio_blk_discard_wz_seg *out, unsigned int *n)
{
	uint64_t count = p->data_len / sizeof(*out);
	unsigned int i;

	*n = 0;
	if (count == 0 || count > PVIOD_BLK_DISCARD_SEG_MAX)
		return PVIO_BLK_S_IOERR;
	if (pviod_seg_copy_from(out, p->data, p->ndata, count * sizeof(*out)) !=
	    count * sizeof(*out))
		return PVIO_BLK_S_IOERR;
	for (i = 0; i < count; i++) {
		uint64_t sector = le64_to_cpu(out[i].sector);
		uint32_t num = le32_to_cpu(out[i].num_sectors);
		uint32_t flags = le32_to_cpu(out[i].flags);

		/* §5.2.6.2: UNMAP is for WRITE_ZEROES only; other bits are reserved. */
		if (flags & ~PVIO_BLK_WZ_F_UNMAP)
			return PVIO_BLK_S_UNSUPP;
		if (p->type == PVIO_BLK_T_DISCARD && flags)
			return PVIO_BLK_S_UNSUPP;
		if (!num || num > PVIOD_BLK_DISCARD_SECTORS_MAX ||
		    !pviod_blk_in_range(sector, (uint64_t)num << PVIO_BLK_SECTOR_SHIFT,
					&lim->capacity))
			return PVIO_BLK_S_IOERR;
		out[i].sector = sector;
		out[i].num_sectors = num;
		out[i].flags = flags;
	}
	*n = (unsigned int)count;
	return 0;
}
