// SPDX-License-Identifier: GPL-2.0
/*
 * vu_vring.c - per-queue vhost-user state and the requests that set it.
 *
 * A queue runs (belongs to a worker) exactly when it has a kick fd, is
 * enabled, and has a size and addresses: vu_vring_update() moves it to that
 * state after every request that changes one of them.  Requests that change
 * what a running worker reads (addresses, fds) stop the queue first, which
 * completes its in-flight requests, and restart it after.
 *
 * Enabling follows the spec: without VHOST_USER_F_PROTOCOL_FEATURES a ring is
 * enabled from the start (vu_set_features() marks them), with it a ring
 * starts disabled and waits for SET_VRING_ENABLE; either way it starts only
 * when its kick fd arrives, and GET_VRING_BASE stops it again.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "vhost-user/inflight.h"
#include "core/pviod.h"
#include "vhost-user/msg.h"

static bool vu_vring_ready(const struct pviod_queue *q)
{
	return q->kick_fd >= 0 && q->enabled && q->addr_set && q->num;
}

static void vu_fd_replace(int *slot, int fd)
{
	if (*slot >= 0)
		close(*slot);
	*slot = fd;
}

/*
 * Where the ring's three areas (desc, driver, device: vhost-user's desc,
 * avail and used addresses) of the queue's size are mapped.
 * Return: 0, or -EFAULT when one is not wholly inside the memory table.
 */
static int vu_vring_areas(const struct vu_mem *mem, const struct pviod_queue *q, uint64_t desc,
			  uint64_t driver, uint64_t device, void **desc_hva, void **driver_hva,
			  void **device_hva)
{
	struct pvring_layout l;

	if (pvring_layout(PVRING_SPLIT, q->num, &l))
		return -EINVAL;
	*desc_hva = vu_mem_uva_to_hva(mem, desc, l.desc_bytes);
	*driver_hva = vu_mem_uva_to_hva(mem, driver, l.driver_bytes);
	*device_hva = vu_mem_uva_to_hva(mem, device, l.device_bytes);
	return *desc_hva && *driver_hva && *device_hva ? 0 : -EFAULT;
}

/* Translate the ring's front-end addresses and set up the device side. */
static int vu_vring_start(struct pviod_queue *q)
{
	struct pviod_device *dev = q->dev;
	const struct vu_mem *mem = &dev->vu.mem;
	struct pvring_dev_config cfg = {
		.num = q->num,
		.event_idx = dev->vu.features & PVIO_BIT(PVIO_F_EVENT_IDX),
		.indirect = dev->vu.features & PVIO_BIT(PVIO_F_INDIRECT_DESC),
		.mem = &mem->ring,
		.base = q->base,
	};
	int ret;

	/* The event fields are accessed only with EVENT_IDX, but QEMU always maps them. */
	ret = vu_vring_areas(mem, q, q->desc_uaddr, q->avail_uaddr, q->used_uaddr, &cfg.desc,
			     &cfg.driver, &cfg.device);
	if (ret) {
		pr_err("%s: queue %u: ring addresses (desc 0x%llx avail 0x%llx used 0x%llx, %u entries) are not in the memory table",
		       dev->name, q->index, (unsigned long long)q->desc_uaddr,
		       (unsigned long long)q->avail_uaddr, (unsigned long long)q->used_uaddr,
		       q->num);
		return -EFAULT;
	}
	ret = pvring_dev_init(&q->ring, &cfg);
	if (ret) {
		pr_err("%s: queue %u: misaligned ring", dev->name, q->index);
		return ret;
	}
	q->broken = false;
	q->throttled = false;
	q->poll_skip = false;
	q->inflight = 0;
	/* Before the worker pops: where to resume and what to resubmit. */
	ret = pviod_inflight_queue_recover(q);
	if (ret)
		return ret;
	ret = dev->ops->queue_start ? dev->ops->queue_start(dev, q) : 0;
	if (ret)
		return ret;
	ret = pviod_worker_queue_start(q);
	if (ret)
		goto err_device_stop;
	q->running = true;
	pr_debug("%s: queue %u started at %u", dev->name, q->index, pvring_dev_base(&q->ring));
	return 0;

err_device_stop:
	if (dev->ops->queue_stop)
		dev->ops->queue_stop(dev, q);
	return ret;
}

/**
 * vu_vring_stop - take a running queue back from its worker
 * @q: the queue
 *
 * Returns once every request of the queue completed; q->base then holds the
 * next avail index to process.
 */
void vu_vring_stop(struct pviod_queue *q)
{
	if (!q->running)
		return;
	pviod_worker_queue_stop(q);
	q->running = false;
	q->base = pvring_dev_base(&q->ring);
	if (q->dev->ops->queue_stop)
		q->dev->ops->queue_stop(q->dev, q);
	pr_debug("%s: queue %u stopped at avail %u", q->dev->name, q->index, q->base);
}

/**
 * vu_vring_update - start or stop the queue to match its state
 * @q: the queue
 *
 * Return: 0, or the start error (the queue stays stopped).
 */
int vu_vring_update(struct pviod_queue *q)
{
	if (vu_vring_ready(q) && !q->running)
		return vu_vring_start(q);
	if (!vu_vring_ready(q) && q->running)
		vu_vring_stop(q);
	return 0;
}

/**
 * vu_vring_reset - stop the queue and return it to its initial state
 * @q: the queue
 */
void vu_vring_reset(struct pviod_queue *q)
{
	vu_vring_stop(q);
	vu_fd_replace(&q->kick_fd, -1);
	vu_fd_replace(&q->call_fd, -1);
	vu_fd_replace(&q->err_fd, -1);
	q->num = 0;
	q->addr_set = false;
	q->desc_uaddr = 0;
	q->avail_uaddr = 0;
	q->used_uaddr = 0;
	q->base = 0;
	q->enabled = false;
	q->broken = false;
}

static struct pviod_queue *vu_vring_of(struct pviod_device *dev, const struct vhost_user_msg *msg)
{
	/* vu_msg_check() bounded the index. */
	return &dev->queues[msg->payload.state.index];
}

/**
 * vu_vring_set_num - VHOST_USER_SET_VRING_NUM
 * @dev: the device
 * @msg: the request
 * @fds: none
 * @nfds: 0
 *
 * Return: 0, -EINVAL for a size that is not a power of two up to 32768,
 * -EBUSY while the ring runs.
 */
int vu_vring_set_num(struct pviod_device *dev, struct vhost_user_msg *msg, int *fds,
		     unsigned int nfds)
{
	struct pviod_queue *q = vu_vring_of(dev, msg);

	if (!pvring_size_valid(msg->payload.state.num)) {
		pr_err("%s: queue %u: size %u is not a power of two in 1..%u", dev->name, q->index,
		       msg->payload.state.num, PVRING_MAX_SIZE);
		return -EINVAL;
	}
	if (q->running)
		return -EBUSY;
	q->num = msg->payload.state.num;
	return 0;
}

/**
 * vu_vring_set_addr - VHOST_USER_SET_VRING_ADDR
 * @dev: the device
 * @msg: the request: front-end virtual addresses of the three areas
 * @fds: none
 * @nfds: 0
 *
 * Return: 0, -EOPNOTSUPP for dirty logging (not offered), -EFAULT when the
 * memory table is there and the areas are not in it.
 */
int vu_vring_set_addr(struct pviod_device *dev, struct vhost_user_msg *msg, int *fds,
		      unsigned int nfds)
{
	struct vhost_user_vring_addr addr, *a = &addr;
	struct pviod_queue *q;
	void *area[3];

	/* An aligned copy: the payload sits at offset 12 of a packed message. */
	memcpy(&addr, &msg->payload.addr, sizeof(addr));
	q = &dev->queues[a->index];

	if (a->flags & ~VHOST_USER_VRING_F_LOG)
		return -EINVAL;
	if (a->flags & VHOST_USER_VRING_F_LOG)
		return -EOPNOTSUPP;
	if (q->num && dev->vu.mem.ring.nregions &&
	    vu_vring_areas(&dev->vu.mem, q, a->desc_user_addr, a->avail_user_addr,
			   a->used_user_addr, &area[0], &area[1], &area[2])) {
		pr_err("%s: queue %u: SET_VRING_ADDR outside the memory table", dev->name,
		       q->index);
		return -EFAULT;
	}
	vu_vring_stop(q);
	q->desc_uaddr = a->desc_user_addr;
	q->avail_uaddr = a->avail_user_addr;
	q->used_uaddr = a->used_user_addr;
	q->addr_set = true;
	return vu_vring_update(q);
}

/**
 * vu_vring_set_base - VHOST_USER_SET_VRING_BASE: where to resume popping
 * @dev: the device
 * @msg: the request
 * @fds: none
 * @nfds: 0
 *
 * Return: 0, -EINVAL for an index over 16 bits (split rings only), -EBUSY
 * while the ring runs.
 */
int vu_vring_set_base(struct pviod_device *dev, struct vhost_user_msg *msg, int *fds,
		      unsigned int nfds)
{
	struct pviod_queue *q = vu_vring_of(dev, msg);

	if (msg->payload.state.num > 0xffff)
		return -EINVAL;
	if (q->running)
		return -EBUSY;
	q->base = (uint16_t)msg->payload.state.num;
	return 0;
}

/**
 * vu_vring_get_base - VHOST_USER_GET_VRING_BASE: stop the ring
 * @dev: the device
 * @msg: the request, rewritten into the reply {index, next avail index}
 * @fds: none
 * @nfds: 0
 *
 * Every popped request is completed first, so the index returned is exactly
 * where a restart must resume.  The ring stays stopped until a new kick fd.
 *
 * Return: 0.
 */
int vu_vring_get_base(struct pviod_device *dev, struct vhost_user_msg *msg, int *fds,
		      unsigned int nfds)
{
	struct pviod_queue *q = vu_vring_of(dev, msg);

	vu_vring_stop(q);
	vu_fd_replace(&q->kick_fd, -1);
	q->broken = false;
	msg->hdr.size = sizeof(msg->payload.state);
	msg->payload.state.num = q->base;
	return 0;
}

static struct pviod_queue *vu_vring_of_fd_msg(struct pviod_device *dev,
					      const struct vhost_user_msg *msg)
{
	return &dev->queues[msg->payload.u64 & VHOST_USER_VRING_IDX_MASK];
}

/**
 * vu_vring_set_kick - VHOST_USER_SET_VRING_KICK: the ring may start
 * @dev: the device
 * @msg: the request
 * @fds: the kick eventfd (taken)
 * @nfds: 1 (0 with NOFD)
 *
 * Return: 0, -EOPNOTSUPP for NOFD (polling without a kick fd is not
 * offered), or the start error.
 */
int vu_vring_set_kick(struct pviod_device *dev, struct vhost_user_msg *msg, int *fds,
		      unsigned int nfds)
{
	struct pviod_queue *q = vu_vring_of_fd_msg(dev, msg);

	if (!nfds) {
		pr_err("%s: queue %u: SET_VRING_KICK without an fd is not supported", dev->name,
		       q->index);
		return -EOPNOTSUPP;
	}
	vu_vring_stop(q);
	vu_fd_replace(&q->kick_fd, fds[0]);
	fds[0] = -1;
	return vu_vring_update(q);
}

/**
 * vu_vring_set_call - VHOST_USER_SET_VRING_CALL
 * @dev: the device
 * @msg: the request
 * @fds: the call eventfd (taken), none with NOFD (then never signalled)
 * @nfds: 0 or 1
 *
 * The worker writes the fd without a lock, so a running ring is stopped
 * around the swap.
 *
 * Return: 0 or the restart error.
 */
int vu_vring_set_call(struct pviod_device *dev, struct vhost_user_msg *msg, int *fds,
		      unsigned int nfds)
{
	struct pviod_queue *q = vu_vring_of_fd_msg(dev, msg);

	vu_vring_stop(q);
	vu_fd_replace(&q->call_fd, nfds ? fds[0] : -1);
	if (nfds)
		fds[0] = -1;
	return vu_vring_update(q);
}

/**
 * vu_vring_set_err - VHOST_USER_SET_VRING_ERR: signalled when the ring breaks
 * @dev: the device
 * @msg: the request
 * @fds: the eventfd (taken), none with NOFD
 * @nfds: 0 or 1
 *
 * Return: 0 or the restart error.
 */
int vu_vring_set_err(struct pviod_device *dev, struct vhost_user_msg *msg, int *fds,
		     unsigned int nfds)
{
	struct pviod_queue *q = vu_vring_of_fd_msg(dev, msg);

	vu_vring_stop(q);
	vu_fd_replace(&q->err_fd, nfds ? fds[0] : -1);
	if (nfds)
		fds[0] = -1;
	return vu_vring_update(q);
}

/**
 * vu_vring_set_enable - VHOST_USER_SET_VRING_ENABLE
 * @dev: the device
 * @msg: the request; num 1 enables, 0 disables (in-flight requests complete)
 * @fds: none
 * @nfds: 0
 *
 * Return: 0, -EINVAL for another value, or the start error.
 */
int vu_vring_set_enable(struct pviod_device *dev, struct vhost_user_msg *msg, int *fds,
			unsigned int nfds)
{
	struct pviod_queue *q = vu_vring_of(dev, msg);

	if (msg->payload.state.num > 1)
		return -EINVAL;
	q->enabled = msg->payload.state.num;
	return vu_vring_update(q);
}
