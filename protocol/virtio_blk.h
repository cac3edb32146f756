/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * virtio_blk.h - the virtio block device (virtio 1.2 §5.2): feature bits,
 * configuration space and request layout.
 *
 * A request is one chain: a device-readable header (struct pvio_blk_req_hdr),
 * then the data (readable for OUT, DISCARD and WRITE_ZEROES, writable for IN
 * and GET_ID), then one device-writable status byte.  Sectors are 512 bytes
 * whatever blk_size says.
 */
#ifndef PVIO_VIRTIO_BLK_H
#define PVIO_VIRTIO_BLK_H

#include <linux/types.h>

/*
 * The wire tables below are aligned by hand, one column for values and one
 * for comments, to read like the spec; clang-format would collapse them.
 */
/* clang-format off */
/* Feature bits (§5.2.3). */
#define PVIO_BLK_F_SIZE_MAX		1	/* size_max is valid */
#define PVIO_BLK_F_SEG_MAX		2	/* seg_max is valid */
#define PVIO_BLK_F_GEOMETRY		4	/* geometry is valid */
#define PVIO_BLK_F_RO			5	/* the device is read-only */
#define PVIO_BLK_F_BLK_SIZE		6	/* blk_size is valid */
#define PVIO_BLK_F_FLUSH		9	/* FLUSH is supported */
#define PVIO_BLK_F_TOPOLOGY		10	/* topology is valid */
#define PVIO_BLK_F_CONFIG_WCE		11	/* writeback is writable */
#define PVIO_BLK_F_MQ			12	/* num_queues is valid */
#define PVIO_BLK_F_DISCARD		13	/* DISCARD is supported */
#define PVIO_BLK_F_WRITE_ZEROES		14	/* WRITE_ZEROES is supported */
#define PVIO_BLK_F_LIFETIME		15
#define PVIO_BLK_F_SECURE_ERASE		16

#define PVIO_BLK_SECTOR_SHIFT		9
#define PVIO_BLK_SECTOR_SIZE		512
#define PVIO_BLK_ID_BYTES		20	/* GET_ID answer, not NUL-terminated if 20 */

/* Configuration space (§5.2.4). */
struct pvio_blk_config {
	__le64 capacity;		/* in 512-byte sectors */
	__le32 size_max;		/* largest segment, bytes */
	__le32 seg_max;			/* most segments in a request */
	struct {
		__le16 cylinders;
		__u8 heads;
		__u8 sectors;
	} geometry;
	__le32 blk_size;		/* logical block size, bytes */
	struct {
		__u8 physical_block_exp;	/* physical = logical << exp */
		__u8 alignment_offset;		/* in logical blocks */
		__le16 min_io_size;		/* in logical blocks */
		__le32 opt_io_size;		/* in logical blocks */
	} topology;
	__u8 writeback;			/* 1: write-back cache, 0: write-through */
	__u8 unused0;
	__le16 num_queues;		/* with F_MQ */
	__le32 max_discard_sectors;
	__le32 max_discard_seg;
	__le32 discard_sector_alignment;
	__le32 max_write_zeroes_sectors;
	__le32 max_write_zeroes_seg;
	__u8 write_zeroes_may_unmap;
	__u8 unused1[3];
	__le32 max_secure_erase_sectors;
	__le32 max_secure_erase_seg;
	__le32 secure_erase_sector_alignment;
};

/* Request types (§5.2.6). */
#define PVIO_BLK_T_IN			0
#define PVIO_BLK_T_OUT			1
#define PVIO_BLK_T_FLUSH		4
#define PVIO_BLK_T_GET_ID		8
#define PVIO_BLK_T_GET_LIFETIME		10
#define PVIO_BLK_T_DISCARD		11
#define PVIO_BLK_T_WRITE_ZEROES		13
#define PVIO_BLK_T_SECURE_ERASE		14

/* Status byte, the last byte of every request. */
#define PVIO_BLK_S_OK			0
#define PVIO_BLK_S_IOERR		1
#define PVIO_BLK_S_UNSUPP		2

struct pvio_blk_req_hdr {
	__le32 type;			/* PVIO_BLK_T_* */
	__le32 ioprio;			/* "reserved" in the spec */
	__le64 sector;			/* first 512-byte sector (IN / OUT) */
};

/* The payload of DISCARD / WRITE_ZEROES / SECURE_ERASE: an array of these. */
struct pvio_blk_discard_wz_seg {
	__le64 sector;
	__le32 num_sectors;
	__le32 flags;			/* PVIO_BLK_WZ_F_UNMAP */
};

#define PVIO_BLK_WZ_F_UNMAP		1	/* WRITE_ZEROES may deallocate */

/* clang-format on */

_Static_assert(sizeof(struct pvio_blk_config) == 72, "virtio_blk_config is 72 bytes");
_Static_assert(__builtin_offsetof(struct pvio_blk_config, writeback) == 32, "writeback at 32");
_Static_assert(__builtin_offsetof(struct pvio_blk_config, num_queues) == 34, "num_queues at 34");
_Static_assert(__builtin_offsetof(struct pvio_blk_config, write_zeroes_may_unmap) == 56,
	       "write_zeroes_may_unmap at 56");
_Static_assert(sizeof(struct pvio_blk_req_hdr) == 16, "virtio_blk_outhdr is 16 bytes");
_Static_assert(sizeof(struct pvio_blk_discard_wz_seg) == 16, "discard segment is 16 bytes");

#endif /* PVIO_VIRTIO_BLK_H */
