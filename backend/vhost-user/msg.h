/* SPDX-License-Identifier: GPL-2.0 */
/*
 * msg.h - the vhost-user message table and its one central check (msg.c),
 * and the per-queue requests (vring.c).
 */
#ifndef PVIOD_VU_MSG_H
#define PVIOD_VU_MSG_H

#include "vhost-user/vu.h"

/* Rule flags. */
/* A table aligned by hand, values and comments in columns. */
/* clang-format off */
#define VU_MSG_SIZE_MIN		0x01	/* .size is a minimum, .check sees the rest */
#define VU_MSG_QUEUE_STATE	0x02	/* payload starts with a u32 queue index */
#define VU_MSG_QUEUE_FD		0x04	/* u64 index | NOFD: one fd unless NOFD */
#define VU_MSG_REPLY		0x08	/* always answered: never an extra REPLY_ACK */
#define VU_MSG_REPLY_FD		0x10	/* the handler leaves the reply's fd in fds[0] */
/* clang-format on */

#define VU_MSG_NO_PROTO (-1)

/**
 * struct vu_msg_rule - what one request must look like
 * @name: for messages
 * @size: payload bytes, exact (or the minimum with VU_MSG_SIZE_MIN)
 * @flags: VU_MSG_*
 * @fds_max: how many fds it may carry; more are closed and the message refused
 * @proto: protocol feature that must have been negotiated, or VU_MSG_NO_PROTO
 * @check: payload-dependent rules (counts inside the payload), or NULL
 * @handle: the handler; runs only when every rule above held.  Takes the
 *          fds it keeps by setting their slot to -1.  For VU_MSG_REPLY rules
 *          it rewrites @msg's payload and hdr.size into the reply.
 */
struct vu_msg_rule {
	const char *name;
	uint16_t size;
	uint8_t flags;
	uint8_t fds_max;
	int8_t proto;
	int (*check)(const struct vu_dev *vu, const struct vhost_user_msg *msg, unsigned int nfds);
	int (*handle)(struct vu_dev *vu, struct vhost_user_msg *msg, int *fds, unsigned int nfds);
};

const struct vu_msg_rule *vu_msg_rule_get(uint32_t request);
int vu_msg_check(const struct vu_dev *vu, const struct vhost_user_msg *msg, int *fds,
		 unsigned int nfds, const struct vu_msg_rule **rule);
int vu_msg_dispatch(struct vu_dev *vu, struct vhost_user_msg *msg, int *fds, unsigned int nfds);
uint64_t vu_msg_protocol_features(const struct vu_dev *vu);

/* vu_vring.c: the per-queue requests. */
int vu_vring_set_num(struct vu_dev *vu, struct vhost_user_msg *msg, int *fds, unsigned int nfds);
int vu_vring_set_addr(struct vu_dev *vu, struct vhost_user_msg *msg, int *fds, unsigned int nfds);
int vu_vring_set_base(struct vu_dev *vu, struct vhost_user_msg *msg, int *fds, unsigned int nfds);
int vu_vring_get_base(struct vu_dev *vu, struct vhost_user_msg *msg, int *fds, unsigned int nfds);
int vu_vring_set_kick(struct vu_dev *vu, struct vhost_user_msg *msg, int *fds, unsigned int nfds);
int vu_vring_set_call(struct vu_dev *vu, struct vhost_user_msg *msg, int *fds, unsigned int nfds);
int vu_vring_set_err(struct vu_dev *vu, struct vhost_user_msg *msg, int *fds, unsigned int nfds);
int vu_vring_set_enable(struct vu_dev *vu, struct vhost_user_msg *msg, int *fds, unsigned int nfds);
int vu_vring_update(struct vu_dev *vu, unsigned int index);
void vu_vring_stop(struct vu_dev *vu, unsigned int index);
void vu_vring_reset(struct vu_dev *vu, unsigned int index);

#endif /* PVIOD_VU_MSG_H */
