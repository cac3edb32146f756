/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * pvring_split.h - memory layout of the virtio 1.2 split virtqueue (§2.7).
 *
 * A split virtqueue is three areas in memory shared by driver and device:
 *
 *   descriptor table   num x 16 bytes, 16-byte aligned, written by the driver
 *   available ring     4 + 2*num (+2 used_event) bytes, 2-byte aligned,
 *                      written by the driver
 *   used ring          4 + 8*num (+2 avail_event) bytes, 4-byte aligned,
 *                      written by the device
 *
 * All fields are little-endian (virtio 1.x).  num is a power of two from 1 to
 * 32768.  The avail and used indices run freely from 0 to 65535 and wrap;
 * entry i of a ring lives at ring[i & (num - 1)].
 */
#ifndef PVRING_SPLIT_H
#define PVRING_SPLIT_H

#include "pvring_compat.h"

#define PVRING_MAX_SIZE 32768

/* Descriptor flags (virtio 1.2 §2.7.5). */
#define PVRING_DESC_F_NEXT 1 /* the chain continues at .next */
#define PVRING_DESC_F_WRITE 2 /* device-writable (else device-readable) */
#define PVRING_DESC_F_INDIRECT 4 /* .addr/.len is a table of descriptors */

/* avail->flags: the driver does not want used-buffer notifications. */
#define PVRING_AVAIL_F_NO_INTERRUPT 1
/* used->flags: the device does not want available-buffer notifications. */
#define PVRING_USED_F_NO_NOTIFY 1

/* Feature bits the ring itself implements (virtio 1.2 §6). */
#define PVRING_F_INDIRECT_DESC 28
#define PVRING_F_EVENT_IDX 29

struct pvring_desc {
	__le64 addr; /* guest-physical (bus) address of the buffer */
	__le32 len; /* bytes */
	__le16 flags; /* PVRING_DESC_F_* */
	__le16 next; /* next descriptor when flags has F_NEXT */
};

struct pvring_avail {
	__le16 flags; /* PVRING_AVAIL_F_* */
	__le16 idx; /* where the driver puts the next entry (free-running) */
	__le16 ring[]; /* heads of chains; then __le16 used_event */
};

struct pvring_used_elem {
	__le32 id; /* head of the chain the device is done with */
	__le32 len; /* bytes the device wrote into the chain's writable part */
};

struct pvring_used {
	__le16 flags; /* PVRING_USED_F_* */
	__le16 idx; /* where the device puts the next entry (free-running) */
	struct pvring_used_elem ring[]; /* then __le16 avail_event */
};

_Static_assert(sizeof(struct pvring_desc) == 16, "virtq_desc is 16 bytes");
_Static_assert(sizeof(struct pvring_avail) == 4, "virtq_avail header is 4 bytes");
_Static_assert(sizeof(struct pvring_used_elem) == 8, "virtq_used_elem is 8 bytes");
_Static_assert(sizeof(struct pvring_used) == 4, "virtq_used header is 4 bytes");

#define PVRING_DESC_ALIGN 16
#define PVRING_AVAIL_ALIGN 2
#define PVRING_USED_ALIGN 4

static inline size_t pvring_desc_bytes(unsigned int num)
{
	return (size_t)num * sizeof(struct pvring_desc);
}

/* Includes the trailing used_event field. */
static inline size_t pvring_avail_bytes(unsigned int num)
{
	return sizeof(struct pvring_avail) + (size_t)num * sizeof(__le16) + sizeof(__le16);
}

/* Includes the trailing avail_event field. */
static inline size_t pvring_used_bytes(unsigned int num)
{
	return sizeof(struct pvring_used) + (size_t)num * sizeof(struct pvring_used_elem) +
	       sizeof(__le16);
}

/* Written by the driver: "notify me when used->idx passes this". */
static inline __le16 *pvring_used_event(struct pvring_avail *avail, unsigned int num)
{
	return &avail->ring[num];
}

/* Written by the device: "kick me when avail->idx passes this". */
static inline __le16 *pvring_avail_event(struct pvring_used *used, unsigned int num)
{
	return (__le16 *)&used->ring[num];
}

/*
 * pvring_need_event - the EVENT_IDX test of virtio 1.2 §2.7.10.
 * @event: the index the other side asked to be told about
 * @new_idx: our index after the update
 * @old_idx: our index when we last notified
 *
 * True when @event lies in [old_idx, new_idx): moving from @old_idx to @new_idx
 * crossed the point the other side is waiting for.  All arithmetic is modulo
 * 2^16, so it holds across the 65535 -> 0 wrap.
 */
static inline bool pvring_need_event(u16 event, u16 new_idx, u16 old_idx)
{
	return (u16)(new_idx - event - 1) < (u16)(new_idx - old_idx);
}

static inline bool pvring_size_valid(unsigned int num)
{
	return num >= 1 && num <= PVRING_MAX_SIZE && (num & (num - 1)) == 0;
}

#endif /* PVRING_SPLIT_H */
