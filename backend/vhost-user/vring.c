// SPDX-License-Identifier: GPL-2.0
/*
 * vring.c - per-queue vhost-user state and the requests that set it.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/worker.h"
#include "vhost-user/dirty.h"
#include "vhost-user/inflight.h"
#include "vhost-user/msg.h"
#include "virtio_config.h"

static bool vu_vring_ready(const struct vu_dev *vu, unsigned int index)
{
	const struct vu_vring *vr = &vu->vring[index];

	return vu->dev->queues[index].kick_fd >= 0 && vr->enabled && vr->addr_set && vr->num;
}

static void vu_fd_replace(int *slot, int fd)
{
	if (*slot >= 0)
		close(*slot);
	*slot = fd;
}

/*
 * Kicks, calls and errors must be eventfds: a worker reads a kick fd for
 * 8-byte counts and re-arms at once, so /dev/zero, /dev/null or a pipe
 * whose writer is gone would have it spin.  An eventfd is the anonymous
 * inode the kernel names "[eventfd]".
 */
static bool vu_fd_is_eventfd(int fd)
{
	char path[32], target[32];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	return !strcmp(target, "anon_inode:[eventfd]");
}

/* The eventfd of a SET_VRING_KICK / CALL / ERR, or -EBADF (reported). */
static int vu_vring_fd_check(struct vu_dev *vu, const char *what, unsigned int index, int fd)
{
	if (vu_fd_is_eventfd(fd))
		return 0;
	pr_err("%s: queue %u: %s: the fd is not an eventfd", vu->dev->name, index, what);
	return -EBADF;
}

/*
 * Where the ring's three areas (desc, driver, device: vhost-user's desc,
 * avail and used addresses; for a packed ring the descriptor ring and the
 * driver's and the device's event suppression) of @num entries are mapped.
 * Return: 0, or -EFAULT when one is not wholly inside the memory table.
 */
static int vu_vring_areas(const struct vu_mem *mem, enum pvring_format format, unsigned int num,
			  uint64_t desc, uint64_t driver, uint64_t device, void **desc_hva,
			  void **driver_hva, void **device_hva)
{
	struct pvring_layout l;

	if (pvring_layout(format, num, &l))
		return -EINVAL;
	*desc_hva = vu_mem_uva_to_hva(mem, desc, l.desc_bytes);
	*driver_hva = vu_mem_uva_to_hva(mem, driver, l.driver_bytes);
	*device_hva = vu_mem_uva_to_hva(mem, device, l.device_bytes);
	return *desc_hva && *driver_hva && *device_hva ? 0 : -EFAULT;
}

/* The ring format the session negotiated. */
static enum pvring_format vu_vring_format(const struct vu_dev *vu)
{
	return (vu->s.features & PVIO_BIT(PVIO_F_RING_PACKED)) ? PVRING_PACKED : PVRING_SPLIT;
}

/* Translate the ring's front-end addresses and set up the device side. */
static int vu_vring_start(struct vu_dev *vu, unsigned int index)
{
	struct pviod_device *dev = vu->dev;
	struct pviod_queue *q = &dev->queues[index];
	struct vu_vring *vr = &vu->vring[index];
	const struct vu_mem *mem = &vu->s.mem;
	struct pvring_dev_config cfg = {
		.format = vu_vring_format(vu),
		.num = vr->num,
		.event_idx = vu->s.features & PVIO_BIT(PVIO_F_EVENT_IDX),
		.indirect = vu->s.features & PVIO_BIT(PVIO_F_INDIRECT_DESC),
		.mem = &mem->ring,
		.base = vr->base,
	};
	int ret;

	struct pvring_layout l = { 0 };

	/* The event fields are accessed only with EVENT_IDX, but QEMU always maps them. */
	ret = vu_vring_areas(mem, cfg.format, vr->num, vr->desc_uaddr, vr->avail_uaddr,
			     vr->used_uaddr, &cfg.desc, &cfg.driver, &cfg.device);
	if (ret) {
		pr_err("%s: queue %u: ring addresses (desc 0x%llx avail 0x%llx used 0x%llx, %u entries) are not in the memory table",
		       dev->name, index, (unsigned long long)vr->desc_uaddr,
		       (unsigned long long)vr->avail_uaddr, (unsigned long long)vr->used_uaddr,
		       vr->num);
		return -EFAULT;
	}
	/* IN_ORDER is offered only by devices that complete in order. */
	cfg.in_order = (vu->s.features & PVIO_BIT(PVIO_F_IN_ORDER)) && dev->ops->queue_batch_used &&
		       dev->ops->queue_batch_used(dev, index);
	ret = pviod_queue_setup(q, vr->num);
	if (ret)
		return ret;
	/* A packed ring's private state (pvring_layout() sized it). */
	pvring_layout(cfg.format, vr->num, &l);
	if (l.dev_state_bytes > q->ring_state_bytes) {
		free(q->ring_state);
		q->ring_state_bytes = 0;
		q->ring_state = malloc(l.dev_state_bytes);
		if (!q->ring_state)
			return -ENOMEM;
		q->ring_state_bytes = l.dev_state_bytes;
	}
	cfg.state = q->ring_state;
	ret = pvring_dev_init(&q->ring, &cfg);
	if (ret) {
		pr_err("%s: queue %u: misaligned ring or bad base 0x%x", dev->name, index,
		       cfg.base);
		return ret;
	}
	q->broken = false;
	q->inflight = 0;
	q->fault = dev->env->fault;
	/* Before the worker pops: where to resume and what to resubmit. */
	ret = vu_inflight_queue_recover(vu, index);
	if (ret)
		return ret;
	ret = dev->ops->queue_start ? dev->ops->queue_start(dev, q) : 0;
	if (ret)
		return ret;
	ret = vu_dirty_queue_start(vu, index, cfg.format, cfg.desc);
	if (ret)
		goto err_device_stop;
	ret = pviod_worker_queue_start(dev->env->workers, q);
	if (ret)
		goto err_device_stop;
	q->running = true;
	pr_debug("%s: queue %u started at 0x%x (%s%s)", dev->name, index, pvring_dev_base(&q->ring),
		 cfg.format == PVRING_PACKED ? "packed" : "split",
		 cfg.in_order && cfg.format == PVRING_PACKED ? ", used in order batches" : "");
	return 0;

err_device_stop:
	if (dev->ops->queue_stop)
		dev->ops->queue_stop(dev, q);
	pviod_queue_log_free(q);
	return ret;
}

/**
 * vu_vring_stop - take a running queue back from its worker
 * @vu: the device's vhost-user side
 * @index: the queue
 *
 * Returns once every request of the queue completed; the vring's base then
 * holds where a restart resumes.
 */
void vu_vring_stop(struct vu_dev *vu, unsigned int index)
{
	struct pviod_device *dev = vu->dev;
	struct pviod_queue *q = &dev->queues[index];

	if (!q->running)
		return;
	pviod_worker_queue_stop(q);
	q->running = false;
	/* Every write of the ring is done: the log has them all before any reply. */
	pviod_queue_log_stop(q);
	vu->vring[index].base = pvring_dev_base(&q->ring);
	if (dev->ops->queue_stop)
		dev->ops->queue_stop(dev, q);
	pr_debug("%s: queue %u stopped at %u", dev->name, index, vu->vring[index].base);
}

/**
 * vu_vring_update - start or stop the queue to match its state
 * @vu: the device's vhost-user side
 * @index: the queue
 *
 * Return: 0, or the start error (the queue stays stopped).
 */
int vu_vring_update(struct vu_dev *vu, unsigned int index)
{
	bool running = vu->dev->queues[index].running;

	if (vu_vring_ready(vu, index) && !running)
		return vu_vring_start(vu, index);
	if (!vu_vring_ready(vu, index) && running)
		vu_vring_stop(vu, index);
	return 0;
}

/**
 * vu_vring_reset - stop the queue and return it to its initial state
 * @vu: the device's vhost-user side
 * @index: the queue
 */
void vu_vring_reset(struct vu_dev *vu, unsigned int index)
{
	struct pviod_queue *q = &vu->dev->queues[index];

	vu_vring_stop(vu, index);
	vu_fd_replace(&q->kick_fd, -1);
	vu_fd_replace(&q->call_fd, -1);
	vu_fd_replace(&q->err_fd, -1);
	memset(&vu->vring[index], 0, sizeof(vu->vring[index]));
	q->broken = false;
}

/**
 * vu_queues_stop - stop every running queue (in-flight requests complete)
 * @vu: the device's vhost-user side
 *
 * The queues' state is kept; vu_queues_resume() starts again the ones that
 * are ready.
 */
void vu_queues_stop(struct vu_dev *vu)
{
	unsigned int i;

	for (i = 0; i < vu->dev->nqueues; i++)
		vu_vring_stop(vu, i);
}

/**
 * vu_queues_resume - start every queue that is ready to run
 * @vu: the device's vhost-user side
 *
 * Return: 0, or the first start error (the other queues are still started).
 */
int vu_queues_resume(struct vu_dev *vu)
{
	unsigned int i;
	int ret = 0, r;

	for (i = 0; i < vu->dev->nqueues; i++) {
		r = vu_vring_update(vu, i);
		if (r && !ret)
			ret = r;
	}
	return ret;
}

/* The queue a QUEUE_STATE request names (vu_msg_check() bounded it). */
static unsigned int vu_vring_index(const struct vhost_user_msg *msg)
{
	return msg->payload.state.index;
}

/**
 * vu_vring_set_num - VHOST_USER_SET_VRING_NUM
 * @vu: the device's vhost-user side
 * @msg: the request
 * @fds: none
 * @nfds: 0
 *
 * Return: 0, -EINVAL for a size that is not a power of two up to 32768,
 * -EBUSY while the ring runs.
 */
int vu_vring_set_num(struct vu_dev *vu, struct vhost_user_msg *msg, int *fds, unsigned int nfds)
{
	unsigned int i = vu_vring_index(msg);

	if (!pvring_size_valid(msg->payload.state.num)) {
		pr_err("%s: queue %u: size %u is not a power of two in 1..%u", vu->dev->name, i,
		       msg->payload.state.num, PVRING_MAX_SIZE);
		return -EINVAL;
	}
	if (vu->dev->queues[i].running)
		return -EBUSY;
	vu->vring[i].num = msg->payload.state.num;
	return 0;
}

/**
 * vu_vring_set_addr - VHOST_USER_SET_VRING_ADDR
 * @vu: the device's vhost-user side
 * @msg: the request: front-end virtual addresses of the three areas
 * @fds: none
 * @nfds: 0
 *
 * With VHOST_VRING_F_LOG the device's writes to the ring are logged at
 * log_guest_addr while VHOST_F_LOG_ALL is on (vhost-user/dirty.c); the
 * front-end turns it on and off with this request while the ring runs.
 *
 * Return: 0, -EINVAL for unknown flags, -EFAULT when the memory table is
 * there and the areas are not in it.
 */
int vu_vring_set_addr(struct vu_dev *vu, struct vhost_user_msg *msg, int *fds, unsigned int nfds)
{
	struct vhost_user_vring_addr addr, *a = &addr;
	struct vu_vring *vr;
	void *area[3];

	/* An aligned copy: the payload sits at offset 12 of a packed message. */
	memcpy(&addr, &msg->payload.addr, sizeof(addr));
	vr = &vu->vring[a->index];

	if (a->flags & ~VHOST_USER_VRING_F_LOG)
		return -EINVAL;
	if (vr->num && vu->s.mem.ring.nregions &&
	    vu_vring_areas(&vu->s.mem, vu_vring_format(vu), vr->num, a->desc_user_addr,
			   a->avail_user_addr, a->used_user_addr, &area[0], &area[1], &area[2])) {
		pr_err("%s: queue %u: SET_VRING_ADDR outside the memory table", vu->dev->name,
		       a->index);
		return -EFAULT;
	}
	vu_vring_stop(vu, a->index);
	vr->desc_uaddr = a->desc_user_addr;
	vr->avail_uaddr = a->avail_user_addr;
	vr->used_uaddr = a->used_user_addr;
	vr->log = a->flags & VHOST_USER_VRING_F_LOG;
	vr->log_gpa = a->log_guest_addr;
	vr->addr_set = true;
	return vu_vring_update(vu, a->index);
}

/**
 * vu_vring_set_base - VHOST_USER_SET_VRING_BASE: where to resume popping
 * @vu: the device's vhost-user side
 * @msg: the request
 * @fds: none
 * @nfds: 0
 *
 * A split ring's base is the next avail index; a packed ring's is QEMU's
 * encoding (bits 0-14 the next descriptor, bit 15 the driver's wrap counter,
 * bits 16-31 the same for the next used descriptor, or 0: as the avail
 * half), checked against the ring size when the ring starts.
 *
 * Return: 0, -EINVAL for a split index over 16 bits, -EBUSY while the ring
 * runs.
 */
int vu_vring_set_base(struct vu_dev *vu, struct vhost_user_msg *msg, int *fds, unsigned int nfds)
{
	unsigned int i = vu_vring_index(msg);

	if (msg->payload.state.num > 0xffff && vu_vring_format(vu) == PVRING_SPLIT)
		return -EINVAL;
	if (vu->dev->queues[i].running)
		return -EBUSY;
	vu->vring[i].base = msg->payload.state.num;
	return 0;
}

/**
 * vu_vring_get_base - VHOST_USER_GET_VRING_BASE: stop the ring
 * @vu: the device's vhost-user side
 * @msg: the request, rewritten into the reply {index, base}: the next avail
 *       index (split), or the packed encoding of vu_vring_set_base()
 * @fds: none
 * @nfds: 0
 *
 * Every popped request is completed first, so the index returned is exactly
 * where a restart must resume.  The ring stays stopped until a new kick fd.
 *
 * Return: 0.
 */
int vu_vring_get_base(struct vu_dev *vu, struct vhost_user_msg *msg, int *fds, unsigned int nfds)
{
	unsigned int i = vu_vring_index(msg);
	struct pviod_queue *q = &vu->dev->queues[i];

	vu_vring_stop(vu, i);
	vu_fd_replace(&q->kick_fd, -1);
	q->broken = false;
	msg->hdr.size = sizeof(msg->payload.state);
	msg->payload.state.num = vu->vring[i].base;
	return 0;
}

/* The queue an fd request names (vu_msg_check() bounded it). */
static unsigned int vu_vring_fd_index(const struct vhost_user_msg *msg)
{
	return msg->payload.u64 & VHOST_USER_VRING_IDX_MASK;
}

/**
 * vu_vring_set_kick - VHOST_USER_SET_VRING_KICK: the ring may start
 * @vu: the device's vhost-user side
 * @msg: the request
 * @fds: the kick eventfd (taken)
 * @nfds: 1 (0 with NOFD)
 *
 * Return: 0, -EOPNOTSUPP for NOFD (polling without a kick fd is not
 * offered), -EBADF when the fd is not an eventfd, or the start error.
 */
int vu_vring_set_kick(struct vu_dev *vu, struct vhost_user_msg *msg, int *fds, unsigned int nfds)
{
	unsigned int i = vu_vring_fd_index(msg);

	if (!nfds) {
		pr_err("%s: queue %u: SET_VRING_KICK without an fd is not supported", vu->dev->name,
		       i);
		return -EOPNOTSUPP;
	}
	if (vu_vring_fd_check(vu, "SET_VRING_KICK", i, fds[0]))
		return -EBADF;
	vu_vring_stop(vu, i);
	vu_fd_replace(&vu->dev->queues[i].kick_fd, fds[0]);
	fds[0] = -1;
	return vu_vring_update(vu, i);
}

/**
 * vu_vring_set_call - VHOST_USER_SET_VRING_CALL
 * @vu: the device's vhost-user side
 * @msg: the request
 * @fds: the call eventfd (taken), none with NOFD (then never signalled)
 * @nfds: 0 or 1
 *
 * The worker writes the fd without a lock, so a running ring is stopped
 * around the swap.
 *
 * Return: 0, -EBADF when the fd is not an eventfd, or the restart error.
 */
int vu_vring_set_call(struct vu_dev *vu, struct vhost_user_msg *msg, int *fds, unsigned int nfds)
{
	unsigned int i = vu_vring_fd_index(msg);

	if (nfds && vu_vring_fd_check(vu, "SET_VRING_CALL", i, fds[0]))
		return -EBADF;
	vu_vring_stop(vu, i);
	vu_fd_replace(&vu->dev->queues[i].call_fd, nfds ? fds[0] : -1);
	if (nfds)
		fds[0] = -1;
	return vu_vring_update(vu, i);
}

/**
 * vu_vring_set_err - VHOST_USER_SET_VRING_ERR: signalled when the ring breaks
 * @vu: the device's vhost-user side
 * @msg: the request
 * @fds: the eventfd (taken), none with NOFD
 * @nfds: 0 or 1
 *
 * Return: 0, -EBADF when the fd is not an eventfd, or the restart error.
 */
int vu_vring_set_err(struct vu_dev *vu, struct vhost_user_msg *msg, int *fds, unsigned int nfds)
{
	unsigned int i = vu_vring_fd_index(msg);

	if (nfds && vu_vring_fd_check(vu, "SET_VRING_ERR", i, fds[0]))
		return -EBADF;
	vu_vring_stop(vu, i);
	vu_fd_replace(&vu->dev->queues[i].err_fd, nfds ? fds[0] : -1);
	if (nfds)
		fds[0] = -1;
	return vu_vring_update(vu, i);
}

/**
 * vu_vring_set_enable - VHOST_USER_SET_VRING_ENABLE
 * @vu: the device's vhost-user side
 * @msg: the request; num 1 enables, 0 disables (in-flight requests complete)
 * @fds: none
 * @nfds: 0
 *
 * Return: 0, -EINVAL for another value, or the start error.
 */
int vu_vring_set_enable(struct vu_dev *vu, struct vhost_user_msg *msg, int *fds, unsigned int nfds)
{
	unsigned int i = vu_vring_index(msg);

	if (msg->payload.state.num > 1)
		return -EINVAL;
	vu->vring[i].enabled = msg->payload.state.num;
	return vu_vring_update(vu, i);
}
