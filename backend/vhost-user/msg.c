// SPDX-License-Identifier: GPL-2.0
/*
 * msg.c - vhost-user requests: the table, the central check, dispatch,
 * replies, and the device-wide handlers (the per-queue ones are in
 * vring.c).
 *
 * Every request goes through vu_msg_check() before any handler runs: known
 * request, payload size, fd count (surplus fds are closed there, so no
 * handler ever sees an fd it did not ask for), queue index below the queue
 * count, protocol feature negotiated, and the rule's payload check.  A
 * request that fails it is malformed and the connection is closed.
 *
 * Replies: a request with VU_MSG_REPLY is always answered by its handler's
 * payload and never acked on top; any other request is acked (u64 0 or a
 * positive errno) when REPLY_ACK was negotiated and the front-end set
 * NEED_REPLY.  A handler that fails without an ack to carry the error closes
 * the connection, since the front-end would otherwise carry on with a state
 * we refused.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "vhost-user/inflight.h"
#include "vhost-user/msg.h"
#include "vhost-user/vu.h"

#define VU_PROTOCOL_FEATURES                                                                     \
	(PVIO_BIT(VHOST_USER_PROTOCOL_F_MQ) | PVIO_BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK) |        \
	 PVIO_BIT(VHOST_USER_PROTOCOL_F_CONFIG) |                                                \
	 PVIO_BIT(VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS) |                                   \
	 PVIO_BIT(VHOST_USER_PROTOCOL_F_RESET_DEVICE) | PVIO_BIT(VHOST_USER_PROTOCOL_F_STATUS) | \
	 PVIO_BIT(VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD) |                                        \
	 PVIO_BIT(VHOST_USER_PROTOCOL_F_LOG_SHMFD) | PVIO_BIT(VHOST_USER_PROTOCOL_F_BACKEND_REQ))

/**
 * vu_msg_protocol_features - the protocol features pviod offers a device
 * @vu: the device's vhost-user side
 *
 * Every device gets VU_PROTOCOL_FEATURES; RARP only a device type that can
 * announce a guest (net).
 */
uint64_t vu_msg_protocol_features(const struct vu_dev *vu)
{
	return VU_PROTOCOL_FEATURES |
	       (vu->dev->ops->announce ? PVIO_BIT(VHOST_USER_PROTOCOL_F_RARP) : 0);
}

/*
 * The device's features, and the ring's own that every device type has:
 * the packed format (ring/ serves both), and dirty logging for migration.
 */
static uint64_t vu_features_offered(struct vu_dev *vu)
{
	return vu->dev->ops->features(vu->dev) | PVIO_BIT(PVIO_F_RING_PACKED) |
	       PVIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES) | PVIO_BIT(VHOST_F_LOG_ALL);
}

static void vu_reply_u64(struct vhost_user_msg *msg, uint64_t v)
{
	msg->hdr.size = sizeof(msg->payload.u64);
	msg->payload.u64 = v;
}

/* --- device-wide requests --------------------------------------------------- */

static int vu_get_features(struct vu_dev *vu, struct vhost_user_msg *msg, int *fds,
			   unsigned int nfds)
{
	vu_reply_u64(msg, vu_features_offered(vu));
	return 0;
}

static int vu_set_features(struct vu_dev *vu, struct vhost_user_msg *msg, int *fds,
			   unsigned int nfds)
{
	uint64_t f = msg->payload.u64, offered = vu_features_offered(vu);
	unsigned int i;
	int ret;

	if (f & ~offered) {
		pr_err("%s: SET_FEATURES 0x%llx: bits 0x%llx were not offered", vu->dev->name,
		       (unsigned long long)f, (unsigned long long)(f & ~offered));
		return -EINVAL;
	}
	pr_debug("%s: features 0x%llx", vu->dev->name, (unsigned long long)f);
	/* Running rings pick up EVENT_IDX / INDIRECT_DESC / RING_PACKED only at (re)start. */
	vu_queues_stop(vu);
	ret = vu->dev->ops->features_set ? vu->dev->ops->features_set(vu->dev, f) : 0;
	if (!ret) {
		vu->s.features = f;
		vu->s.features_set = true;
		/*
		 * Without VHOST_USER_F_PROTOCOL_FEATURES rings are enabled from
		 * the start (they run once their kick fd arrives); with it they
		 * wait for SET_VRING_ENABLE.
		 */
		if (!(f & PVIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES)))
			for (i = 0; i < vu->dev->nqueues; i++)
				vu->vring[i].enabled = true;
	}
	return ret ?: vu_queues_resume(vu);
}

static int vu_get_protocol_features(struct vu_dev *vu, struct vhost_user_msg *msg, int *fds,
				    unsigned int nfds)
{
	vu_reply_u64(msg, vu_msg_protocol_features(vu));
	return 0;
}

static int vu_set_protocol_features(struct vu_dev *vu, struct vhost_user_msg *msg, int *fds,
				    unsigned int nfds)
{
	uint64_t f = msg->payload.u64, offered = vu_msg_protocol_features(vu);

	if (f & ~offered) {
		pr_err("%s: SET_PROTOCOL_FEATURES 0x%llx: bits 0x%llx were not offered",
		       vu->dev->name, (unsigned long long)f, (unsigned long long)(f & ~offered));
		return -EINVAL;
	}
	vu->s.protocol_features = f;
	return 0;
}

static int vu_set_owner(struct vu_dev *vu, struct vhost_user_msg *msg, int *fds, unsigned int nfds)
{
	vu->s.owner = true;
	return 0;
}

/*
 * RESET_OWNER (deprecated) and RESET_DEVICE: every ring stopped and back to
 * its initial state, features and status forgotten.  The memory table and
 * the protocol features stay: the session itself goes on.
 */
static int vu_reset_device(struct vu_dev *vu, struct vhost_user_msg *msg, int *fds,
			   unsigned int nfds)
{
	unsigned int i;

	for (i = 0; i < vu->dev->nqueues; i++)
		vu_vring_reset(vu, i);
	vu->s.features = 0;
	vu->s.features_set = false;
	vu->s.status = 0;
	__atomic_store_n(&vu->dev->needs_reset, 0, __ATOMIC_RELAXED);
	if (vu->dev->ops->features_set)
		vu->dev->ops->features_set(vu->dev, 0);
	return 0;
}

static int vu_set_mem_table_check(const struct vu_dev *vu, const struct vhost_user_msg *msg,
				  unsigned int nfds)
{
	uint32_t n = msg->payload.memory.nregions;

	if (n == 0 || n > VHOST_USER_MEM_REGIONS_MAX || msg->hdr.size != 8 + n * 32 || nfds != n)
		return -EINVAL;
	return 0;
}

static int vu_set_mem_table(struct vu_dev *vu, struct vhost_user_msg *msg, int *fds,
			    unsigned int nfds)
{
	struct vhost_user_memory table;
	int ret;

	/* An aligned copy: the payload sits at offset 12 of a packed message. */
	memcpy(&table, &msg->payload.memory, sizeof(table));
	/* The data path reads the table: nothing may run while it changes. */
	vu_queues_stop(vu);
	ret = vu_mem_table_set(&vu->s.mem, &table, fds, nfds);
	if (ret)
		pr_err("%s: SET_MEM_TABLE: %s", vu->dev->name, strerror(-ret));
	/* The mappings hold the files; the fds are closed by the dispatcher. */
	return ret ?: vu_queues_resume(vu);
}

static int vu_get_max_mem_slots(struct vu_dev *vu, struct vhost_user_msg *msg, int *fds,
				unsigned int nfds)
{
	vu_reply_u64(msg, PVRING_MEM_REGIONS_MAX);
	return 0;
}

static int vu_add_mem_reg(struct vu_dev *vu, struct vhost_user_msg *msg, int *fds,
			  unsigned int nfds)
{
	struct vhost_user_mem_region_single reg;
	int ret;

	memcpy(&reg, &msg->payload.mem_reg, sizeof(reg));
	vu_queues_stop(vu);
	ret = vu_mem_region_add(&vu->s.mem, &reg.region, fds[0]);
	if (ret)
		pr_err("%s: ADD_MEM_REG: %s", vu->dev->name, strerror(-ret));
	return ret ?: vu_queues_resume(vu);
}

static int vu_rem_mem_reg(struct vu_dev *vu, struct vhost_user_msg *msg, int *fds,
			  unsigned int nfds)
{
	struct vhost_user_mem_region_single reg;
	int ret;

	memcpy(&reg, &msg->payload.mem_reg, sizeof(reg));
	vu_queues_stop(vu);
	ret = vu_mem_region_remove(&vu->s.mem, &reg.region);
	if (ret)
		pr_err("%s: REM_MEM_REG gpa 0x%llx: no such region", vu->dev->name,
		       (unsigned long long)reg.region.guest_phys_addr);
	/* Resume even on failure: the table is unchanged then. */
	return vu_queues_resume(vu) ?: ret;
}

static int vu_get_queue_num(struct vu_dev *vu, struct vhost_user_msg *msg, int *fds,
			    unsigned int nfds)
{
	vu_reply_u64(msg, vu->dev->nqueues);
	return 0;
}

static int vu_config_check(const struct vu_dev *vu, const struct vhost_user_msg *msg,
			   unsigned int nfds)
{
	uint32_t size = msg->payload.config.size;

	if (size > VHOST_USER_CONFIG_SIZE_MAX || msg->hdr.size != 12 + size)
		return -EINVAL;
	return 0;
}

static int vu_get_config(struct vu_dev *vu, struct vhost_user_msg *msg, int *fds, unsigned int nfds)
{
	uint32_t have = vu->dev->ops->config_size;
	struct vhost_user_config c;
	int ret = 0;

	/* An aligned copy: the payload sits at offset 12 of a packed message. */
	memcpy(&c, &msg->payload.config, sizeof(c));
	/*
	 * Bytes past the device's config space read as zero (QEMU may ask
	 * for its own, differently sized struct).  An offset out of range is
	 * answered, as the spec says, with an empty payload.
	 */
	if (c.offset > VHOST_USER_CONFIG_SIZE_MAX ||
	    c.size > VHOST_USER_CONFIG_SIZE_MAX - c.offset) {
		pr_err("%s: GET_CONFIG offset %u size %u: out of range", vu->dev->name, c.offset,
		       c.size);
		msg->hdr.size = 0;
		return 0;
	}
	memset(c.payload, 0, sizeof(c.payload));
	if (c.offset < have && vu->dev->ops->config_read) {
		uint32_t len = c.size < have - c.offset ? c.size : have - c.offset;

		ret = vu->dev->ops->config_read(vu->dev, c.offset, c.payload, len);
	}
	memcpy(&msg->payload.config, &c, sizeof(c));
	if (ret)
		msg->hdr.size = 0;
	return 0;
}

static int vu_set_config(struct vu_dev *vu, struct vhost_user_msg *msg, int *fds, unsigned int nfds)
{
	struct vhost_user_config c;

	memcpy(&c, &msg->payload.config, sizeof(c));
	if (!vu->dev->ops->config_write || c.offset >= vu->dev->ops->config_size ||
	    c.size > vu->dev->ops->config_size - c.offset)
		return -EPERM;
	return vu->dev->ops->config_write(vu->dev, c.offset, c.payload, c.size);
}

static int vu_set_status(struct vu_dev *vu, struct vhost_user_msg *msg, int *fds, unsigned int nfds)
{
	if (msg->payload.u64 > 0xff)
		return -EINVAL;
	vu->s.status = (uint8_t)msg->payload.u64;
	/* Writing 0 is the driver's reset: a past ring error is forgotten. */
	if (!vu->s.status)
		__atomic_store_n(&vu->dev->needs_reset, 0, __ATOMIC_RELAXED);
	return 0;
}

static int vu_get_status(struct vu_dev *vu, struct vhost_user_msg *msg, int *fds, unsigned int nfds)
{
	uint64_t st = vu->s.status;

	/* Pairs with the release store in pviod_queue_break(). */
	if (__atomic_load_n(&vu->dev->needs_reset, __ATOMIC_ACQUIRE))
		st |= PVIO_STATUS_DEVICE_NEEDS_RESET;
	vu_reply_u64(msg, st);
	return 0;
}

/*
 * GET_INFLIGHT_FD: the reply carries the new area's fd in fds[0]
 * (VU_MSG_REPLY_FD), which the dispatcher closes once it is sent.
 */
static int vu_get_inflight_fd(struct vu_dev *vu, struct vhost_user_msg *msg, int *fds,
			      unsigned int nfds)
{
	struct vhost_user_inflight inf;
	int ret;

	memcpy(&inf, &msg->payload.inflight, sizeof(inf));
	ret = vu_inflight_get(vu, &inf, &fds[0]);
	if (ret)
		return ret;
	memcpy(&msg->payload.inflight, &inf, sizeof(inf));
	msg->hdr.size = sizeof(inf);
	return 0;
}

static int vu_set_inflight_fd(struct vu_dev *vu, struct vhost_user_msg *msg, int *fds,
			      unsigned int nfds)
{
	struct vhost_user_inflight inf;

	if (nfds != 1)
		return -EBADF;
	memcpy(&inf, &msg->payload.inflight, sizeof(inf));
	/* The mapping holds the file; the dispatcher closes the fd. */
	return vu_inflight_set(vu, &inf, fds[0]);
}

/*
 * SET_LOG_BASE: QEMU waits for a reply whatever REPLY_ACK says, so it has
 * one, as a REPLY_ACK would carry it: u64 0, or the errno of a log refused
 * (the previous log stays; VHOST_F_LOG_ALL then fails on a queue with no
 * log, which fails the migration instead of losing pages).
 */
static int vu_set_log_base(struct vu_dev *vu, struct vhost_user_msg *msg, int *fds,
			   unsigned int nfds)
{
	struct vhost_user_log l;
	int ret = -EBADF;

	memcpy(&l, &msg->payload.log, sizeof(l));
	if (nfds == 1)
		ret = vu_dirty_set(vu, &l, fds[0]);
	else
		pr_err("%s: SET_LOG_BASE without the log's fd", vu->dev->name);
	vu_reply_u64(msg, ret < 0 ? (uint64_t)-ret : 0);
	return 0;
}

/*
 * SEND_RARP: the guest's MAC in the payload's first 6 bytes (the u64's
 * bytes in memory order; the last two are padding).  Only a unicast
 * address names one guest: anything else is a malformed request.
 */
static int vu_send_rarp_check(const struct vu_dev *vu, const struct vhost_user_msg *msg,
			      unsigned int nfds)
{
	static const uint8_t zero[6];
	uint8_t mac[6];

	memcpy(mac, &msg->payload.u64, sizeof(mac));
	if (!(mac[0] & 1) && memcmp(mac, zero, sizeof(mac)))
		return 0;
	pr_err("%s: SEND_RARP for %02x:%02x:%02x:%02x:%02x:%02x: not a unicast address, nothing to announce",
	       vu->dev->name, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	return -EINVAL;
}

static int vu_send_rarp(struct vu_dev *vu, struct vhost_user_msg *msg, int *fds, unsigned int nfds)
{
	uint8_t mac[6];

	memcpy(mac, &msg->payload.u64, sizeof(mac));
	vu->dev->ops->announce(vu->dev, mac);
	return 0;
}

/* --- the table ---------------------------------------------------------------- */

#define VU_RULE(req, sz, fl, nfd, pf, chk, fn)   \
	[VHOST_USER_##req] = { .name = #req,     \
			       .size = (sz),     \
			       .flags = (fl),    \
			       .fds_max = (nfd), \
			       .proto = (pf),    \
			       .check = (chk),   \
			       .handle = (fn) }

static const struct vu_msg_rule vu_msg_rules[VHOST_USER_REQUEST_MAX] = {
	VU_RULE(GET_FEATURES, 0, VU_MSG_REPLY, 0, VU_MSG_NO_PROTO, NULL, vu_get_features),
	VU_RULE(SET_FEATURES, 8, 0, 0, VU_MSG_NO_PROTO, NULL, vu_set_features),
	VU_RULE(SET_OWNER, 0, 0, 0, VU_MSG_NO_PROTO, NULL, vu_set_owner),
	VU_RULE(RESET_OWNER, 0, 0, 0, VU_MSG_NO_PROTO, NULL, vu_reset_device),
	VU_RULE(SET_MEM_TABLE, 8, VU_MSG_SIZE_MIN, VHOST_USER_MEM_REGIONS_MAX, VU_MSG_NO_PROTO,
		vu_set_mem_table_check, vu_set_mem_table),
	VU_RULE(SET_VRING_NUM, 8, VU_MSG_QUEUE_STATE, 0, VU_MSG_NO_PROTO, NULL, vu_vring_set_num),
	VU_RULE(SET_VRING_ADDR, 40, VU_MSG_QUEUE_STATE, 0, VU_MSG_NO_PROTO, NULL,
		vu_vring_set_addr),
	VU_RULE(SET_VRING_BASE, 8, VU_MSG_QUEUE_STATE, 0, VU_MSG_NO_PROTO, NULL, vu_vring_set_base),
	VU_RULE(GET_VRING_BASE, 8, VU_MSG_QUEUE_STATE | VU_MSG_REPLY, 0, VU_MSG_NO_PROTO, NULL,
		vu_vring_get_base),
	VU_RULE(SET_VRING_KICK, 8, VU_MSG_QUEUE_FD, 1, VU_MSG_NO_PROTO, NULL, vu_vring_set_kick),
	VU_RULE(SET_VRING_CALL, 8, VU_MSG_QUEUE_FD, 1, VU_MSG_NO_PROTO, NULL, vu_vring_set_call),
	VU_RULE(SET_VRING_ERR, 8, VU_MSG_QUEUE_FD, 1, VU_MSG_NO_PROTO, NULL, vu_vring_set_err),
	VU_RULE(GET_PROTOCOL_FEATURES, 0, VU_MSG_REPLY, 0, VU_MSG_NO_PROTO, NULL,
		vu_get_protocol_features),
	VU_RULE(SET_PROTOCOL_FEATURES, 8, 0, 0, VU_MSG_NO_PROTO, NULL, vu_set_protocol_features),
	VU_RULE(GET_QUEUE_NUM, 0, VU_MSG_REPLY, 0, VHOST_USER_PROTOCOL_F_MQ, NULL,
		vu_get_queue_num),
	/*
	 * "Sent only when VHOST_USER_F_PROTOCOL_FEATURES has been
	 * negotiated": some front-ends send it before SET_FEATURES, and we
	 * always offer the bit, so it is not made a rule.
	 */
	VU_RULE(SET_VRING_ENABLE, 8, VU_MSG_QUEUE_STATE, 0, VU_MSG_NO_PROTO, NULL,
		vu_vring_set_enable),
	/* The back-end channel: a Unix socket (backreq.c checks it). */
	/* After a migration, for a guest without GUEST_ANNOUNCE (only net offers RARP). */
	VU_RULE(SEND_RARP, 8, 0, 0, VHOST_USER_PROTOCOL_F_RARP, vu_send_rarp_check, vu_send_rarp),
	VU_RULE(SET_BACKEND_REQ_FD, 0, VU_MSG_SIZE_MIN, 1, VHOST_USER_PROTOCOL_F_BACKEND_REQ, NULL,
		vu_backreq_set_fd),
	VU_RULE(GET_CONFIG, 12, VU_MSG_SIZE_MIN | VU_MSG_REPLY, 0, VHOST_USER_PROTOCOL_F_CONFIG,
		vu_config_check, vu_get_config),
	VU_RULE(SET_CONFIG, 12, VU_MSG_SIZE_MIN, 0, VHOST_USER_PROTOCOL_F_CONFIG, vu_config_check,
		vu_set_config),
	VU_RULE(RESET_DEVICE, 0, 0, 0, VHOST_USER_PROTOCOL_F_RESET_DEVICE, NULL, vu_reset_device),
	VU_RULE(GET_MAX_MEM_SLOTS, 0, VU_MSG_REPLY, 0, VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS,
		NULL, vu_get_max_mem_slots),
	VU_RULE(ADD_MEM_REG, 40, 0, 1, VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS, NULL,
		vu_add_mem_reg),
	/* The spec lets the front-end pass the region's fd along; it is closed unused. */
	VU_RULE(REM_MEM_REG, 40, 0, 1, VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS, NULL,
		vu_rem_mem_reg),
	VU_RULE(SET_STATUS, 8, 0, 0, VHOST_USER_PROTOCOL_F_STATUS, NULL, vu_set_status),
	VU_RULE(GET_STATUS, 0, VU_MSG_REPLY, 0, VHOST_USER_PROTOCOL_F_STATUS, NULL, vu_get_status),
	VU_RULE(GET_INFLIGHT_FD, 24, VU_MSG_REPLY | VU_MSG_REPLY_FD, 0,
		VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD, NULL, vu_get_inflight_fd),
	VU_RULE(SET_INFLIGHT_FD, 24, 0, 1, VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD, NULL,
		vu_set_inflight_fd),
	VU_RULE(SET_LOG_BASE, 16, VU_MSG_REPLY, 1, VHOST_USER_PROTOCOL_F_LOG_SHMFD, NULL,
		vu_set_log_base),
};

/**
 * vu_msg_rule_get - the rule for a request code
 * @request: hdr.request
 *
 * Return: the rule, or NULL for a request pviod does not implement.
 */
const struct vu_msg_rule *vu_msg_rule_get(uint32_t request)
{
	if (request >= VHOST_USER_REQUEST_MAX || !vu_msg_rules[request].handle)
		return NULL;
	return &vu_msg_rules[request];
}

/**
 * vu_msg_check - the central check every request passes before its handler
 * @vu: the device's vhost-user side (queue count, negotiated protocol features)
 * @msg: the request
 * @fds: the fds that came with it
 * @nfds: how many
 * @rule: out: the request's rule
 *
 * On failure every fd is closed; on success those beyond the rule's count
 * cannot exist (that is a failure too), so the handler sees only fds it
 * expects.
 *
 * Return: 0; -EOPNOTSUPP for an unknown request or one whose protocol
 * feature was not negotiated; -EMSGSIZE for a wrong payload size; -EBADF for
 * a wrong fd count; -ERANGE for a queue index out of range; -EINVAL when the
 * rule's payload check fails.
 */
int vu_msg_check(const struct vu_dev *vu, const struct vhost_user_msg *msg, int *fds,
		 unsigned int nfds, const struct vu_msg_rule **rule)
{
	const struct vu_msg_rule *r = vu_msg_rule_get(msg->hdr.request);
	const char *name = r ? r->name : "unknown";
	uint64_t idx = 0;
	int ret;

	*rule = r;
	if (!r) {
		pr_err("%s: vhost-user request %u is not supported", vu->dev->name,
		       msg->hdr.request);
		ret = -EOPNOTSUPP;
		goto err_close_fds;
	}
	if (r->proto != VU_MSG_NO_PROTO && !vu_proto_has(vu, (unsigned int)r->proto)) {
		pr_err("%s: %s without its protocol feature (bit %d) negotiated", vu->dev->name,
		       name, r->proto);
		ret = -EOPNOTSUPP;
		goto err_close_fds;
	}
	if ((r->flags & VU_MSG_SIZE_MIN) ? msg->hdr.size < r->size : msg->hdr.size != r->size) {
		pr_err("%s: %s with a payload of %u bytes, expected %s%u", vu->dev->name, name,
		       msg->hdr.size, (r->flags & VU_MSG_SIZE_MIN) ? "at least " : "", r->size);
		ret = -EMSGSIZE;
		goto err_close_fds;
	}
	if (nfds > r->fds_max) {
		pr_err("%s: %s with %u fds, at most %u", vu->dev->name, name, nfds, r->fds_max);
		ret = -EBADF;
		goto err_close_fds;
	}
	if (r->flags & VU_MSG_QUEUE_STATE)
		idx = msg->payload.state.index;
	if (r->flags & VU_MSG_QUEUE_FD) {
		uint64_t v = msg->payload.u64;
		bool nofd = v & VHOST_USER_VRING_NOFD_MASK;

		if (v & ~(VHOST_USER_VRING_IDX_MASK | VHOST_USER_VRING_NOFD_MASK)) {
			pr_err("%s: %s: reserved bits set in 0x%llx", vu->dev->name, name,
			       (unsigned long long)v);
			ret = -EINVAL;
			goto err_close_fds;
		}
		if (nfds != (nofd ? 0u : 1u)) {
			pr_err("%s: %s with %u fds and NOFD %s", vu->dev->name, name, nfds,
			       nofd ? "set" : "clear");
			ret = -EBADF;
			goto err_close_fds;
		}
		idx = v & VHOST_USER_VRING_IDX_MASK;
	}
	if ((r->flags & (VU_MSG_QUEUE_STATE | VU_MSG_QUEUE_FD)) && idx >= vu->dev->nqueues) {
		pr_err("%s: %s for queue %llu, the device has %u", vu->dev->name, name,
		       (unsigned long long)idx, vu->dev->nqueues);
		ret = -ERANGE;
		goto err_close_fds;
	}
	if (r->check) {
		ret = r->check(vu, msg, nfds);
		if (ret) {
			pr_err("%s: %s: malformed payload (%u bytes, %u fds)", vu->dev->name, name,
			       msg->hdr.size, nfds);
			goto err_close_fds;
		}
	}
	return 0;

err_close_fds:
	vu_fds_close(fds, nfds);
	return ret;
}

/**
 * vu_msg_dispatch - check, handle and answer one request
 * @vu: the device's vhost-user side, connected (replies go to vu->conn_fd)
 * @msg: the request; rewritten into the reply
 * @fds: its fds; every one is closed or taken by the time this returns
 * @nfds: how many
 *
 * Return: 0 to keep the connection; -errno to close it (malformed request,
 * a failure that no ack could report, or the reply could not be sent).
 */
int vu_msg_dispatch(struct vu_dev *vu, struct vhost_user_msg *msg, int *fds, unsigned int nfds)
{
	const struct vu_msg_rule *r;
	uint32_t flags = msg->hdr.flags;
	bool ack;
	int ret;

	ret = vu_msg_check(vu, msg, fds, nfds, &r);
	if (ret) {
		if (ret == -EOPNOTSUPP && (flags & VHOST_USER_FLAG_NEED_REPLY) &&
		    vu_proto_has(vu, VHOST_USER_PROTOCOL_F_REPLY_ACK) && !r)
			goto send_ack;
		return ret;
	}
	pr_debug("%s: %s (%u bytes, %u fds)", vu->dev->name, r->name, msg->hdr.size, nfds);
	if (unlikely(vu->dev->env->fault && vu->dev->env->fault->mode == PVIOD_FAULT_DIE_AT_MSG &&
		     vu->dev->env->fault->after == msg->hdr.request)) {
		/* A crash at this step of the handshake (the crash-recovery test). */
		pr_warn("%s: --fault die-at-msg: killed on %s", vu->dev->name, r->name);
		raise(SIGKILL);
	}
	ret = r->handle(vu, msg, fds, nfds);
	vu_fds_close(fds, nfds);
	if (r->flags & VU_MSG_REPLY) {
		int rfd = -1;

		if (r->flags & VU_MSG_REPLY_FD) {
			/* The handler's fd for the reply: sent, then closed here. */
			rfd = fds[0];
			fds[0] = -1;
		}
		if (!ret) {
			msg->hdr.flags = VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY;
			ret = vu_socket_send(vu->conn_fd, msg, rfd >= 0 ? &rfd : NULL,
					     rfd >= 0 ? 1 : 0);
		}
		if (rfd >= 0)
			close(rfd);
		return ret;
	}
	/* Checked after the handler: SET_PROTOCOL_FEATURES may just have enabled it. */
	ack = (flags & VHOST_USER_FLAG_NEED_REPLY) &&
	      vu_proto_has(vu, VHOST_USER_PROTOCOL_F_REPLY_ACK);
	if (!ack)
		return ret;
send_ack:
	msg->hdr.flags = VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY;
	vu_reply_u64(msg, ret < 0 ? (uint64_t)-ret : 0);
	return vu_socket_send(vu->conn_fd, msg, NULL, 0);
}

/**
 * vu_session_reset - forget everything a front-end set up (it disconnected)
 * @vu: the device's vhost-user side
 *
 * Stops every ring (completing what is in flight), closes their fds, unmaps
 * the memory and clears the negotiated features.
 */
void vu_session_reset(struct vu_dev *vu)
{
	struct pviod_device *dev = vu->dev;
	unsigned int i;

	for (i = 0; i < dev->nqueues; i++)
		vu_vring_reset(vu, i);
	vu_backreq_close(vu, NULL);
	vu_mem_clear(&vu->s.mem);
	vu_inflight_clear(vu);
	vu_dirty_clear(vu);
	memset(&vu->s, 0, sizeof(vu->s));
	vu->s.mem.lost = &dev->mem_lost;
	__atomic_store_n(&dev->needs_reset, 0, __ATOMIC_RELAXED);
	/* The next front-end brings memory of its own. */
	__atomic_store_n(&dev->mem_lost, 0, __ATOMIC_RELAXED);
	if (dev->ops->features_set)
		dev->ops->features_set(dev, 0);
}
