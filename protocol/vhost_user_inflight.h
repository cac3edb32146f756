/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * vhost_user_inflight.h - the shared in-flight area of
 * VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD (QEMU docs/interop/vhost-user.rst,
 * "Inflight I/O tracking"), split virtqueues.
 *
 * The back-end creates the area on GET_INFLIGHT_FD and hands its fd to the
 * front-end, which keeps it across the back-end's death and gives it back
 * with SET_INFLIGHT_FD to the next back-end.  It holds one region per
 * queue, each starting on a VHOST_USER_INFLIGHT_ALIGN boundary: which heads
 * were popped and not yet given back, in which order they were popped, and
 * what used->idx was after the last batch was accounted.  Like every
 * vhost-user structure it is in the host's byte order: only back-ends on
 * this machine read it.
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

/* Bytes one queue's region takes in the area, alignment included. */
static inline __u64 vhost_user_inflight_region_size(__u16 queue_size)
{
	__u64 n = sizeof(struct vhost_user_inflight_region) +
		  (__u64)queue_size * sizeof(struct vhost_user_inflight_desc);

	return (n + VHOST_USER_INFLIGHT_ALIGN - 1) & ~(__u64)(VHOST_USER_INFLIGHT_ALIGN - 1);
}

#endif /* PVIO_VHOST_USER_INFLIGHT_H */
