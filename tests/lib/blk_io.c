// SPDX-License-Identifier: GPL-2.0
/*
 * blk_io.c - a front-end that keeps a disk busy with verified I/O while a
 * test does something else to the back-end (adds and removes other
 * devices, sends it bad requests): a thread of the userspace driver
 * (frontend/virtio-user) writes a block, reads it back and compares, over
 * and over.  A test that uses it links libvuser.a too.
 */
#include <errno.h>
#include <string.h>

#include "pvtest.h"
#include "vuser.h"

#define PVT_BLK_IO_BLOCK 4096u

static void *pvt_blk_io_main(void *arg)
{
	struct pvt_blk_io *t = arg;
	struct vuser_blk_opts o = { .socket_path = t->sock,
				    .depth = 4,
				    .buf_bytes = 2 * PVT_BLK_IO_BLOCK,
				    .timeout_ms = 10000 };
	struct vuser_blk blk;
	unsigned long r = 0;
	uint8_t *w, *rd;
	int ret;

	ret = vuser_blk_open(&blk, &o);
	if (ret) {
		t->err = ret;
		return NULL;
	}
	w = vuser_blk_alloc(&blk, PVT_BLK_IO_BLOCK);
	rd = vuser_blk_alloc(&blk, PVT_BLK_IO_BLOCK);
	while (!__atomic_load_n(&t->stop, __ATOMIC_RELAXED)) {
		uint64_t off = (r % (t->bytes / PVT_BLK_IO_BLOCK)) * PVT_BLK_IO_BLOCK;

		memset(w, (int)(r * 7 + 1), PVT_BLK_IO_BLOCK);
		memset(rd, 0, PVT_BLK_IO_BLOCK);
		ret = vuser_blk_sync(&blk, 0, PVIO_BLK_T_OUT, off, w, PVT_BLK_IO_BLOCK);
		if (!ret)
			ret = vuser_blk_sync(&blk, 0, PVIO_BLK_T_IN, off, rd, PVT_BLK_IO_BLOCK);
		if (!ret && memcmp(w, rd, PVT_BLK_IO_BLOCK))
			ret = -EILSEQ;
		if (ret) {
			t->err = ret;
			break;
		}
		__atomic_store_n(&t->rounds, ++r, __ATOMIC_RELAXED);
	}
	vuser_blk_close(&blk);
	return NULL;
}

/**
 * pvt_blk_io_start - start the thread
 * @t: sock and bytes set (the disk's socket; the span it writes, from 0, a
 *     multiple of 4 KiB); the rest zero
 *
 * Each round writes a 4 KiB pattern at the next offset, reads it back and
 * compares; the first failure (vuser's -errno, -EILSEQ for different data)
 * ends the thread with @t->err set.
 *
 * Return: 0, or pthread_create()'s -errno.
 */
int pvt_blk_io_start(struct pvt_blk_io *t)
{
	if (t->bytes < PVT_BLK_IO_BLOCK)
		return -EINVAL;
	return -pthread_create(&t->thread, NULL, pvt_blk_io_main, t);
}

/**
 * pvt_blk_io_stop - stop the thread after its current round, and join it
 * @t: started
 *
 * Return: @t->err: 0 when every round was verified.
 */
int pvt_blk_io_stop(struct pvt_blk_io *t)
{
	__atomic_store_n(&t->stop, true, __ATOMIC_RELAXED);
	pthread_join(t->thread, NULL);
	return t->err;
}
