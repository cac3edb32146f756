// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_blk_req - libFuzzer target: pviod's virtio-blk request parser
 * (backend/blk/request.c) on chains of any shape.
 *
 * Input:
 *   byte 0      segment count (1..16)
 *   byte 1      how many of them are readable (mod count + 1)
 *   byte 2      limits: bit 0 read-only, bit 1 FLUSH, bit 2 DISCARD,
 *               bits 3-7 capacity = 2^n sectors (0: an empty disk)
 *   then        per segment a length byte (0..255) and that many content
 *               bytes (zero padded when the input runs out)
 *
 * Each segment is its own heap allocation of exactly its length, so ASan
 * catches any byte the parser touches outside the chain.  Checked: the
 * status byte is the last writable byte; the data segments lie inside the
 * chain; for IN/OUT the range is inside the disk; DISCARD/WRITE_ZEROES ranges
 * go through pviod_blk_ranges_parse() and each one is inside the disk.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blk/blk.h"

#define FUZZ_SEGS 16

static bool fuzz_inside(const struct pvring_seg *orig, unsigned int n, const struct pvring_seg *s)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		const char *b = orig[i].base;

		if ((const char *)s->base >= b && (const char *)s->base + s->len <= b + orig[i].len)
			return true;
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pvio_blk_discard_wz_seg ranges[PVIOD_BLK_DISCARD_SEG_MAX];
	struct pvring_seg seg[FUZZ_SEGS], orig[FUZZ_SEGS];
	struct pviod_blk_limits lim = { 0 };
	struct pvring_chain c = { 0 };
	struct pviod_blk_parsed p;
	unsigned int i, nseg, nr;
	size_t pos = 3;
	int st;

	if (size < 3)
		return 0;
	nseg = 1 + data[0] % FUZZ_SEGS;
	lim.readonly = data[2] & 1;
	lim.flush = data[2] & 2;
	lim.discard = data[2] & 4;
	lim.capacity = (data[2] >> 3) ? 1ull << (data[2] >> 3) : 0;

	for (i = 0; i < nseg; i++) {
		size_t len = pos < size ? data[pos++] : 0, n;

		/* malloc(0) may be NULL: keep one byte, but hand the parser len. */
		seg[i].base = malloc(len ? len : 1);
		if (!seg[i].base)
			abort();
		n = pos < size ? (size - pos < len ? size - pos : len) : 0;
		memset(seg[i].base, 0, len);
		memcpy(seg[i].base, data + pos, n);
		pos += n;
		seg[i].len = len;
		orig[i] = seg[i];
		if (i < (unsigned int)(data[1] % (nseg + 1)))
			c.out_len += len;
		else
			c.in_len += len;
	}
	c.nseg = nseg;
	c.nout = data[1] % (nseg + 1);
	c.head_valid = true;

	st = pviod_blk_req_parse(&p, seg, &c, &lim);
	if (st > 0 && st != PVIO_BLK_S_IOERR && st != PVIO_BLK_S_UNSUPP)
		abort();
	if (st >= 0) {
		/* The status byte: the last byte of the last (writable) segment. */
		const struct pvring_seg *last = &orig[nseg - 1];

		if (c.nout == nseg || !last->len ||
		    p.status != (uint8_t *)last->base + last->len - 1)
			abort();
		*p.status = 0xff;
	}
	if (st == 0) {
		uint64_t total = 0;

		for (i = 0; i < p.ndata; i++) {
			if (p.data[i].len && !fuzz_inside(orig, nseg, &p.data[i]))
				abort();
			total += p.data[i].len;
		}
		if (total != p.data_len)
			abort();
		if ((p.type == PVIO_BLK_T_IN || p.type == PVIO_BLK_T_OUT) &&
		    (p.sector > lim.capacity ||
		     (p.data_len >> PVIO_BLK_SECTOR_SHIFT) > lim.capacity - p.sector))
			abort();
		if (p.type == PVIO_BLK_T_OUT && lim.readonly)
			abort();
		if (p.type == PVIO_BLK_T_DISCARD || p.type == PVIO_BLK_T_WRITE_ZEROES) {
			st = pviod_blk_ranges_parse(&p, &lim, ranges, &nr);
			if (st == 0) {
				if (nr == 0 || nr > PVIOD_BLK_DISCARD_SEG_MAX)
					abort();
				for (i = 0; i < nr; i++)
					if (!ranges[i].num_sectors ||
					    ranges[i].sector > lim.capacity ||
					    ranges[i].num_sectors > lim.capacity - ranges[i].sector)
						abort();
			}
		}
	}

	for (i = 0; i < nseg; i++)
		free(orig[i].base);
	return 0;
}
