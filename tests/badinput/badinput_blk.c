// SPDX-License-Identifier: GPL-2.0
/*
 * badinput_blk.c - badinput's block requests that pviod must fail or drop:
 * a short header, a read-only status byte, sectors past the capacity or
 * wrapping, a write to the read-only disk, too many discard segments.
 */
#include "badinput.h"

const char *t_header_too_short(struct raw *r)
{
	if (raw_setup(r, sock_a))
		return "set-up of device a failed";
	chain3(r, PVIO_BLK_T_IN, 0, DATA_GPA, 512, true);
	raw_desc_set(&r->vq[0].desc[0], HDR_GPA, 8, PVRING_DESC_F_NEXT, 1);
	avail_push(r, 0, 1);
	return expect_status(r, PVIO_BLK_S_IOERR, 1);
}

const char *t_status_readonly(struct raw *r)
{
	if (raw_setup(r, sock_a))
		return "set-up of device a failed";
	chain3(r, PVIO_BLK_T_OUT, 0, DATA_GPA, 512, false);
	raw_desc_set(&r->vq[0].desc[2], STATUS_GPA, 1, 0, 0); /* not device-writable */
	avail_push(r, 0, 1);
	return expect_empty(r);
}

const char *t_sectors_beyond_capacity(struct raw *r)
{
	if (raw_setup(r, sock_a))
		return "set-up of device a failed";
	chain3(r, PVIO_BLK_T_IN, DISK_SECTORS, DATA_GPA, 512, true);
	avail_push(r, 0, 1);
	return expect_status(r, PVIO_BLK_S_IOERR, 1);
}

const char *t_sectors_wrap(struct raw *r)
{
	if (raw_setup(r, sock_a))
		return "set-up of device a failed";
	chain3(r, PVIO_BLK_T_OUT, ~0ull - 1, DATA_GPA, 4096, false);
	avail_push(r, 0, 1);
	return expect_status(r, PVIO_BLK_S_IOERR, 1);
}

const char *t_write_readonly_disk(struct raw *r)
{
	if (raw_setup(r, sock_ro))
		return "set-up of device ro failed";
	chain3(r, PVIO_BLK_T_OUT, 0, DATA_GPA, 512, false);
	avail_push(r, 0, 1);
	return expect_status(r, PVIO_BLK_S_IOERR, 1);
}

const char *t_discard_too_many(struct raw *r)
{
	struct pvio_blk_discard_wz_seg *s;
	int i;

	if (raw_setup(r, sock_a))
		return "set-up of device a failed";
	s = (void *)(r->mem + DATA_GPA);
	for (i = 0; i < DISCARD_SEG_MAX + 1; i++) {
		s[i].sector = cpu_to_le64(i * 8);
		s[i].num_sectors = cpu_to_le32(8);
		s[i].flags = 0;
	}
	chain3(r, PVIO_BLK_T_DISCARD, 0, DATA_GPA, (DISCARD_SEG_MAX + 1) * 16, false);
	avail_push(r, 0, 1);
	return expect_status(r, PVIO_BLK_S_IOERR, 1);
}
