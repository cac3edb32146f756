/* SPDX-License-Identifier: GPL-2.0 */
/*
 * blk.h - the virtio-blk device of pviod: request parsing (blk_req.c, no
 * I/O, unit-tested and fuzzable) and the device on io_uring (blk.c).
 */
#ifndef PVIOD_BLK_H
#define PVIOD_BLK_H

#include <sys/uio.h>

#include "core/device.h"
#include "virtio_blk.h"
#include "virtio_config.h"

/* Segments the driver may use for data (config seg_max). */
/* A table aligned by hand, values and comments in columns. */
/* clang-format off */
#define PVIOD_BLK_SEG_MAX		254
/* Room for the header, data and status, and for buffers split at region edges. */
#define PVIOD_BLK_SEGS			(PVIOD_BLK_SEG_MAX + 10)
#define PVIOD_BLK_SIZE_MAX		(1u << 20)	/* config size_max, per segment */
#define PVIOD_BLK_DISCARD_SEG_MAX	16
#define PVIOD_BLK_DISCARD_SECTORS_MAX	(1u << 22)	/* 2 GiB per range */
/* clang-format on */

/*
 * The data segments go to readv/writev as they are: a pvring_seg must be an
 * iovec in all but name.
 */
static_assert(sizeof(struct pvring_seg) == sizeof(struct iovec), "pvring_seg is an iovec");
static_assert(offsetof(struct pvring_seg, base) == offsetof(struct iovec, iov_base),
	      "pvring_seg.base is iov_base");
static_assert(offsetof(struct pvring_seg, len) == offsetof(struct iovec, iov_len),
	      "pvring_seg.len is iov_len");

/* One request, taken apart. */
struct pviod_blk_parsed {
	uint32_t type; /* PVIO_BLK_T_* */
	uint64_t sector;
	uint8_t *status; /* the status byte, in guest memory */
	struct pvring_seg *data; /* the data segments (inside the chain's array) */
	unsigned int ndata;
	uint64_t data_len; /* bytes in data[] */
};

/* What the parser needs to know about the disk. */
struct pviod_blk_limits {
	uint64_t capacity; /* sectors */
	bool readonly;
	bool flush; /* FLUSH offered */
	bool discard; /* DISCARD and WRITE_ZEROES offered */
};

int pviod_blk_req_parse(struct pviod_blk_parsed *p, struct pvring_seg *seg,
			const struct pvring_chain *c, const struct pviod_blk_limits *lim);
int pviod_blk_ranges_parse(const struct pviod_blk_parsed *p, const struct pviod_blk_limits *lim,
			   struct pvio_blk_discard_wz_seg *out, unsigned int *n);
size_t pviod_seg_copy_from(void *dst, const struct pvring_seg *seg, unsigned int nseg, size_t len);

/* lock.c: image locks, QEMU's, shared by every device of a pviod. */
struct pviod_blk_lock;

int pviod_blk_lock_take(const char *path, int fd, bool write, struct pviod_blk_lock **out);
void pviod_blk_lock_release(struct pviod_blk_lock *l);

/* device.c */
int pviod_blk_create(const struct pviod_env *env, const char *name, const char *opts,
		     struct pviod_device **out);

#endif /* PVIOD_BLK_H */
