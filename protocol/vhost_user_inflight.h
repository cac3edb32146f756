/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * vhost_user_inflight.h - the shared in-flight area of
 * VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD (QEMU docs/interop/vhost-user.rst,
 * "Inflight I/O tracking"), split and packed virtqueues.
 *
 * The back-end creates the area on GET_INFLIGHT_FD and hands its fd to the
 * front-end, which keeps it across the back-end's death and gives it back
 * with SET_INFLIGHT_FD to the next back-end.  It holds one region per
 * queue, each starting on a VHOST_USER_INFLIGHT_ALIGN boundary, laid out
 * for the ring format the front-end negotiated.  A split region says which
 * heads were popped and not yet given back, in which order they were
 * popped, and what used->idx was after the last batch was accounted.  A
 * packed region keeps a copy of every descriptor of the chains in flight
 * (the device's used descriptors go over them in the ring), its entries
 * taken from and given back to a free list, and the device's used position
 * with its wrap counter, each also as it was before the batch being
 * published.  Like every vhost-user structure it is in the host's byte
 * order: only back-ends on this machine read it.
 */
#ifndef PVIO_VHOST_USER_INFLIGHT_H
#define PVIO_VHOST_USER_INFLIGHT_H

#include <linux/types.h>

#define VHOST_USER_INFLIGHT_VERSION 1
#define VHOST_USER_INFLIGHT_ALIGN 64 /* each queue's region starts on a cache line */

/* DescStateSplit: the state of one head descriptor. */
struct vhost_user_inflight_desc {
	__u8 inflight; /* popped, not yet in the used ring */
	__u8 padding[5];
	__u16 next; /* the last batch of used heads, as a list */
	__u64 counter; /* pop order: resubmit in increasing counter */
};

/* QueueRegionSplit: one queue's region, desc_num descriptors after the header. */
struct vhost_user_inflight_region {
	__u64 features; /* 0 */
	__u16 version; /* VHOST_USER_INFLIGHT_VERSION; 0: never initialised */
	__u16 desc_num; /* the queue size */
	__u16 last_batch_head; /* head of the list of the last used batch */
	__u16 used_idx; /* used->idx once the last batch was accounted */
	struct vhost_user_inflight_desc desc[];
};

_Static_assert(sizeof(struct vhost_user_inflight_desc) == 16, "DescStateSplit is 16 bytes");
_Static_assert(sizeof(struct vhost_user_inflight_region) == 16,
	       "QueueRegionSplit header is 16 bytes");

/*
 * DescStatePacked: one entry of a packed region, a copy of one descriptor of
 * a chain in flight.  A chain takes as many entries as it has descriptors,
 * linked by @next from its head entry; a free entry is linked by @next into
 * the free list.
 */
struct vhost_user_inflight_desc_packed {
	__u8 inflight; /* head entry: its chain popped, not yet used */
	__u8 padding;
	__u16 next; /* the next entry of the chain, or of the free list */
	__u16 last; /* head entry: the chain's last entry */
	__u16 num; /* head entry: the chain's descriptors */
	__u64 counter; /* head entry: pop order: resubmit in increasing counter */
	__u16 id; /* the descriptor as popped: its buffer id, */
	__u16 flags; /* flags, */
	__u32 len; /* length */
	__u64 addr; /* and address */
};

/*
 * QueueRegionPacked: one queue's region, desc_num entries after the header.
 * The old_ fields are what the others were before the batch being
 * published: a back-end that died in the middle of one rolls back to them
 * unless the batch reached the ring.
 */
struct vhost_user_inflight_region_packed {
	__u64 features; /* 0 */
	__u16 version; /* VHOST_USER_INFLIGHT_VERSION; 0: never initialised */
	__u16 desc_num; /* the queue size */
	__u16 free_head; /* first entry of the free list */
	__u16 old_free_head;
	__u16 used_idx; /* the next used descriptor's offset in the ring */
	__u16 old_used_idx;
	__u8 used_wrap_counter; /* the device's ring wrap counter there */
	__u8 old_used_wrap_counter;
	__u8 padding[10]; /* the spec's 7, and the 3 before its 8-byte-aligned desc[] */
	struct vhost_user_inflight_desc_packed desc[];
};

_Static_assert(sizeof(struct vhost_user_inflight_desc_packed) == 32, "DescStatePacked is 32 bytes");
_Static_assert(sizeof(struct vhost_user_inflight_region_packed) == 32,
	       "QueueRegionPacked header is 32 bytes");

static inline __u64 __vhost_user_inflight_align(__u64 n)
{
	return (n + VHOST_USER_INFLIGHT_ALIGN - 1) & ~(__u64)(VHOST_USER_INFLIGHT_ALIGN - 1);
}

/* Bytes one queue's split region takes in the area, alignment included. */
static inline __u64 vhost_user_inflight_region_size(__u16 queue_size)
{
	return __vhost_user_inflight_align(sizeof(struct vhost_user_inflight_region) +
					   (__u64)queue_size *
						   sizeof(struct vhost_user_inflight_desc));
}

/* Bytes one queue's packed region takes in the area, alignment included. */
static inline __u64 vhost_user_inflight_region_size_packed(__u16 queue_size)
{
	return __vhost_user_inflight_align(sizeof(struct vhost_user_inflight_region_packed) +
					   (__u64)queue_size *
						   sizeof(struct vhost_user_inflight_desc_packed));
}

#endif /* PVIO_VHOST_USER_INFLIGHT_H */
