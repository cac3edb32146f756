// SPDX-License-Identifier: GPL-2.0
/*
 * badinput_drv.c - badinput's raw front-end set up for a disk (tests/lib/raw.c
 * does the protocol), the chains it writes by hand, and the outcomes the
 * tests expect of a chain.
 */
#include <string.h>

#include "badinput.h"

/* --- the raw protocol, set up for a disk ------------------------------------------------- */

/**
 * raw_alive - the connection lives: GET_FEATURES is answered, with the
 * features badinput wants
 * @r: the front-end
 *
 * Return: true when it does.
 */
bool raw_alive(struct raw *r)
{
	uint64_t v;

	return raw_get_u64(r, VHOST_USER_GET_FEATURES, &v) == 0 && (v & F_WANTED) == F_WANTED;
}

/**
 * raw_negotiate_blk - raw_negotiate() with badinput's protocol features and
 * device features
 * @r: the front-end
 *
 * Return: 0, or -EPROTO when they are refused.
 */
int raw_negotiate_blk(struct raw *r)
{
	return raw_negotiate(r, PF_WANTED, F_WANTED);
}

/**
 * raw_setup - connect, negotiate, map memory and start queue 0 with kick,
 * call and err eventfds
 * @r: the front-end
 * @path: the disk's socket
 *
 * Return: 0, or a negative number when a step failed.
 */
int raw_setup(struct raw *r, const char *path)
{
	if (raw_connect(r, path) || raw_negotiate_blk(r) || raw_mem(r, GUEST_SIZE, 1))
		return -1;
	return raw_vring(r, 0, NUM, 0, DESC_GPA, AVAIL_GPA, USED_GPA);
}

/* --- hand-made chains ---------------------------------------------------------------- */

/**
 * hdr_set - the request header at HDR_GPA, and the status byte marked
 * "untouched" (0xee)
 * @r: the front-end
 * @type: PVIO_BLK_T_*
 * @sector: the request's sector
 */
void hdr_set(struct raw *r, uint32_t type, uint64_t sector)
{
	struct pvio_blk_req_hdr *h = (void *)(r->mem + HDR_GPA);

	h->type = cpu_to_le32(type);
	h->ioprio = 0;
	h->sector = cpu_to_le64(sector);
	r->mem[STATUS_GPA] = 0xee; /* "untouched" */
}

/**
 * chain3 - the usual three descriptors at 0..2: header, data, status
 * @r: the front-end
 * @type: as for hdr_set()
 * @sector: as for hdr_set()
 * @data: the data buffer's guest-physical address
 * @len: its length
 * @data_write: device-writable (a read)
 */
void chain3(struct raw *r, uint32_t type, uint64_t sector, uint64_t data, uint32_t len,
	    bool data_write)
{
	hdr_set(r, type, sector);
	raw_desc_set(&r->vq[0].desc[0], HDR_GPA, 16, PVRING_DESC_F_NEXT, 1);
	raw_desc_set(&r->vq[0].desc[1], data, len,
		     PVRING_DESC_F_NEXT | (data_write ? PVRING_DESC_F_WRITE : 0), 2);
	raw_desc_set(&r->vq[0].desc[2], STATUS_GPA, 1, PVRING_DESC_F_WRITE, 0);
}

/**
 * avail_push - make @head available, moving avail->idx by @step, and kick
 * @r: the front-end
 * @head: any value
 * @step: 1, or more to jump the index
 */
void avail_push(struct raw *r, uint16_t head, uint16_t step)
{
	raw_avail_add(&r->vq[0], head);
	r->vq[0].avail_idx += step - 1;
	raw_avail_publish(&r->vq[0]);
	raw_kick(&r->vq[0]);
}

/**
 * used_wait - wait for used->idx to reach @n
 * @r: the front-end
 * @n: the used index
 *
 * Return: the len of the last used element, or -1 when it did not come.
 */
long used_wait(struct raw *r, uint16_t n)
{
	if (!raw_used_wait(&r->vq[0], n))
		return -1;
	return le32_to_cpu(r->vq[0].used->ring[(n - 1) % NUM].len);
}

/* --- outcomes ------------------------------------------------------------------------ */

/**
 * expect_empty - a bad chain with a good head: returned with length 0,
 * status untouched, and the ring goes on (a good request after it)
 * @r: the front-end
 *
 * Return: NULL, or what went wrong.
 */
const char *expect_empty(struct raw *r)
{
	if (used_wait(r, 1))
		return "bad chain not returned with used len 0";
	if (r->mem[STATUS_GPA] != 0xee)
		return "status byte written for a bad chain";
	/* The queue goes on: a good request after it. */
	chain3(r, PVIO_BLK_T_IN, 0, DATA_GPA, 512, true);
	avail_push(r, 0, 1);
	if (used_wait(r, 2) != 513)
		return "the ring did not go on after the bad chain";
	if (r->mem[STATUS_GPA] != PVIO_BLK_S_OK)
		return "good request after a bad chain failed";
	return NULL;
}

/**
 * expect_status - the request completed with used len @len and status @st
 * @r: the front-end
 * @st: PVIO_BLK_S_*
 * @len: the used element's len
 *
 * Return: NULL, or what went wrong.
 */
const char *expect_status(struct raw *r, uint8_t st, long len)
{
	if (used_wait(r, 1) != len)
		return "wrong used len";
	if (r->mem[STATUS_GPA] != st)
		return "wrong status byte";
	return NULL;
}

/**
 * expect_broken - the queue broke: its error eventfd fired, GET_STATUS says
 * DEVICE_NEEDS_RESET
 * @r: the front-end
 *
 * Return: NULL, or what went wrong.
 */
const char *expect_broken(struct raw *r)
{
	if (!raw_fired(r->vq[0].err, WAIT_MS))
		return "error eventfd not signalled";
	if (!raw_needs_reset(r))
		return "GET_STATUS lacks DEVICE_NEEDS_RESET";
	return NULL;
}
