// SPDX-License-Identifier: GPL-2.0
/*
 * inflight.c - GET_INFLIGHT_FD / SET_INFLIGHT_FD and crash recovery.
 *
 * QEMU asks once per device life (GET_INFLIGHT_FD, with its queue count and
 * size); we create a memfd laid out as the spec's split-ring regions, one per
 * queue, PVIOD_INFLIGHT_ALIGN apart, and reply with its fd.  Before every
 * start of the rings QEMU sends it back (SET_INFLIGHT_FD): after a reconnect
 * that is the area a dead pviod left behind.
 *
 * When a queue starts with a region, pviod_inflight_queue_recover() reads it
 * before the worker gets the queue: it finishes an interrupted used-batch
 * update, lists the heads still in flight in counter order for
 * pviod_queue_pop() to hand out again before anything new, and resumes
 * popping at used->idx + that count (the front-end's SET_VRING_BASE after a
 * crash is its used->idx, which would lose nothing but re-pop chains we are
 * resubmitting anyway; after a clean stop both agree).
 *
 * Threads: everything here but pviod_queue_pop() runs on the control thread
 * with the queue stopped; pviod_queue_pop() is the worker's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "vhost-user/inflight.h"

/**
 * pviod_inflight_region_size - bytes one queue's region takes in the area
 * @queue_size: the queue's size
 *
 * Return: the size, a multiple of PVIOD_INFLIGHT_ALIGN.
 */
uint64_t pviod_inflight_region_size(uint16_t queue_size)
{
	uint64_t n = sizeof(struct pviod_inflight_region) +
		     (uint64_t)queue_size * sizeof(struct pviod_inflight_desc);

	return (n + PVIOD_INFLIGHT_ALIGN - 1) & ~(uint64_t)(PVIOD_INFLIGHT_ALIGN - 1);
}

static struct pviod_inflight_region *pviod_inflight_region_of(const struct pviod_device *dev,
							      unsigned int index)
{
	const struct pviod_inflight_area *a = &dev->vu.inflight;

	if (!a->addr || index >= a->num_queues)
		return NULL;
	return (struct pviod_inflight_region *)((char *)a->addr +
						index * pviod_inflight_region_size(a->queue_size));
}

/**
 * pviod_inflight_clear - unmap the device's area (the session ended)
 * @dev: the device, every queue stopped
 */
void pviod_inflight_clear(struct pviod_device *dev)
{
	struct pviod_inflight_area *a = &dev->vu.inflight;
	unsigned int i;

	for (i = 0; i < dev->nqueues; i++)
		pviod_inflight_queue_release(&dev->queues[i]);
	if (a->addr)
		munmap(a->addr, a->size);
	memset(a, 0, sizeof(*a));
}

static int pviod_inflight_map(struct pviod_device *dev, int fd, uint64_t size, uint64_t offset,
			      uint16_t num_queues, uint16_t queue_size)
{
	void *addr;

	addr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)offset);
	if (addr == MAP_FAILED)
		return -errno;
	pviod_device_queues_stop(dev);
	pviod_inflight_clear(dev);
	dev->vu.inflight.addr = addr;
	dev->vu.inflight.size = size;
	dev->vu.inflight.num_queues = num_queues;
	dev->vu.inflight.queue_size = queue_size;
	return pviod_device_queues_resume(dev);
}

static int pviod_inflight_geometry_check(struct pviod_device *dev, const char *what,
					 const struct vhost_user_inflight *inf)
{
	if (!inf->num_queues || inf->num_queues > dev->nqueues ||
	    !pvring_size_valid(inf->queue_size)) {
		pr_err("%s: %s: %u queues of %u entries: expected 1..%u queues of a power of two up to %u",
		       dev->name, what, inf->num_queues, inf->queue_size, dev->nqueues,
		       PVRING_MAX_SIZE);
		return -EINVAL;
	}
	return 0;
}

/**
 * pviod_inflight_get - VHOST_USER_GET_INFLIGHT_FD: create the area
 * @dev: the device
 * @inf: in: num_queues and queue_size; out: mmap_size and mmap_offset
 * @fd: out: the area's memfd, for the reply (the caller closes it after)
 *
 * The new area is also made the device's own, as if SET_INFLIGHT_FD had
 * passed it: a front-end that never sends SET still gets tracking.
 *
 * Return: 0, -EINVAL for a queue count or size we cannot serve, or the
 * memfd / mmap error.
 */
int pviod_inflight_get(struct pviod_device *dev, struct vhost_user_inflight *inf, int *fd)
{
	uint64_t rsize, size;
	unsigned int i;
	char *addr;
	int mfd, ret;

	ret = pviod_inflight_geometry_check(dev, "GET_INFLIGHT_FD", inf);
	if (ret)
		return ret;
	rsize = pviod_inflight_region_size(inf->queue_size);
	size = rsize * inf->num_queues;
	mfd = memfd_create("pviod-inflight", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0)
		return -errno;
	if (ftruncate(mfd, (off_t)size) < 0) {
		ret = -errno;
		goto err_close;
	}
	/* It never changes size: whoever maps it later may trust mmap_size. */
	fcntl(mfd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
	addr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	if (addr == MAP_FAILED) {
		ret = -errno;
		goto err_close;
	}
	/* A new memfd reads as zeroes: only the headers need writing. */
	for (i = 0; i < inf->num_queues; i++) {
		struct pviod_inflight_region *r = (void *)(addr + i * rsize);

		r->version = PVIOD_INFLIGHT_VERSION;
		r->desc_num = inf->queue_size;
	}
	munmap(addr, size);
	ret = pviod_inflight_map(dev, mfd, size, 0, inf->num_queues, inf->queue_size);
	if (ret)
		goto err_close;
	inf->mmap_size = size;
	inf->mmap_offset = 0;
	*fd = mfd;
	pr_debug("%s: in-flight area of %llu bytes for %u queues of %u", dev->name,
		 (unsigned long long)size, inf->num_queues, inf->queue_size);
	return 0;

err_close:
	close(mfd);
	return ret;
}

/**
 * pviod_inflight_set - VHOST_USER_SET_INFLIGHT_FD: adopt the front-end's area
 * @dev: the device
 * @inf: its geometry, as our GET_INFLIGHT_FD (or a previous pviod's) replied
 * @fd: the memfd (not taken: the mapping keeps the file)
 *
 * Return: 0, -EINVAL for a geometry or size that does not add up, or the
 * mmap error.
 */
int pviod_inflight_set(struct pviod_device *dev, const struct vhost_user_inflight *inf, int fd)
{
	uint64_t need;
	int ret;

	ret = pviod_inflight_geometry_check(dev, "SET_INFLIGHT_FD", inf);
	if (ret)
		return ret;
	need = pviod_inflight_region_size(inf->queue_size) * inf->num_queues;
	if (inf->mmap_size < need || inf->mmap_offset % (uint64_t)sysconf(_SC_PAGESIZE) ||
	    inf->mmap_offset > UINT64_MAX - inf->mmap_size) {
		pr_err("%s: SET_INFLIGHT_FD: %llu bytes at offset %llu for %u queues of %u, need %llu page-aligned",
		       dev->name, (unsigned long long)inf->mmap_size,
		       (unsigned long long)inf->mmap_offset, inf->num_queues, inf->queue_size,
		       (unsigned long long)need);
		return -EINVAL;
	}
	ret = pviod_inflight_map(dev, fd, inf->mmap_size, inf->mmap_offset, inf->num_queues,
				 inf->queue_size);
	if (ret)
		pr_err("%s: SET_INFLIGHT_FD: mapping %llu bytes: %s", dev->name,
		       (unsigned long long)inf->mmap_size, strerror(-ret));
	return ret;
}

/**
 * pviod_inflight_queue_release - forget the queue's region and resubmit list
 * @q: the queue, stopped
 */
void pviod_inflight_queue_release(struct pviod_queue *q)
{
	free(q->resubmit);
	q->resubmit = NULL;
	q->resubmit_num = 0;
	q->resubmit_pos = 0;
	q->ifl = NULL;
}

static int pviod_inflight_cmp(const void *a, const void *b, void *arg)
{
	const struct pviod_inflight_region *r = arg;
	uint64_t ca = r->desc[*(const uint16_t *)a].counter;
	uint64_t cb = r->desc[*(const uint16_t *)b].counter;

	return ca < cb ? -1 : ca > cb;
}

/**
 * pviod_inflight_queue_recover - adopt the queue's region before it runs
 * @q: the queue, stopped, q->ring initialised (its used_idx read from the ring)
 *
 * The spec's "when reconnecting" steps: if used_idx lags used->idx, the
 * last batch reached the used ring but its heads were not yet cleared, so
 * clear the (used->idx - used_idx) heads of the list from last_batch_head;
 * then collect every head still in flight, sorted by counter, and set
 * last_avail to used->idx plus their count.  The region is ours from here:
 * a region we cannot use (wrong size, nonsense contents) is reset so that
 * tracking starts afresh instead of resubmitting garbage.
 *
 * Return: 0 or -ENOMEM.
 */
int pviod_inflight_queue_recover(struct pviod_queue *q)
{
	struct pviod_device *dev = q->dev;
	struct pviod_inflight_region *r = pviod_inflight_region_of(dev, q->index);
	uint16_t used = pvring_dev_used_index(&q->ring), batch, head;
	unsigned int i, n = 0;
	uint64_t max = 0;

	pviod_inflight_queue_release(q);
	if (!r)
		return 0;
	if (dev->vu.inflight.queue_size != q->num) {
		pr_warn("%s: queue %u: %u entries, the in-flight area was made for %u: not tracked",
			dev->name, q->index, q->num, dev->vu.inflight.queue_size);
		return 0;
	}
	if (r->version != PVIOD_INFLIGHT_VERSION || r->desc_num != q->num) {
		memset(r, 0, pviod_inflight_region_size(q->num));
		r->version = PVIOD_INFLIGHT_VERSION;
		r->desc_num = q->num;
		r->used_idx = used;
	}
	if (r->used_idx != used) {
		/* Died between used->idx and the end of pviod_inflight_put(). */
		batch = (uint16_t)(used - r->used_idx);
		head = r->last_batch_head;
		if (batch > q->num) {
			pr_warn("%s: queue %u: in-flight used_idx %u is %u behind used->idx: area reset",
				dev->name, q->index, r->used_idx, batch);
			memset(r->desc, 0, q->num * sizeof(r->desc[0]));
		} else {
			for (i = 0; i < batch && head < q->num; i++) {
				r->desc[head].inflight = 0;
				head = r->desc[head].next;
			}
		}
		pviod_inflight_barrier();
		r->used_idx = used;
		pr_info("%s: queue %u: completed the last used batch of %u (used %u)", dev->name,
			q->index, batch, used);
	}
	for (i = 0; i < q->num; i++) {
		if (r->desc[i].inflight == 1)
			n++;
		else
			r->desc[i].inflight = 0; /* anything else is noise */
	}
	if (n) {
		q->resubmit = calloc(n, sizeof(*q->resubmit));
		if (!q->resubmit)
			return -ENOMEM;
		for (i = 0; i < q->num; i++) {
			if (!r->desc[i].inflight)
				continue;
			q->resubmit[q->resubmit_num++] = (uint16_t)i;
			if (r->desc[i].counter > max)
				max = r->desc[i].counter;
		}
		qsort_r(q->resubmit, n, sizeof(*q->resubmit), pviod_inflight_cmp, r);
		pr_info("%s: queue %u: resubmitting %u request%s left in flight (used %u)",
			dev->name, q->index, n, n == 1 ? "" : "s", used);
	} else {
		/* Every counter may be stale: restart the order above all of them. */
		for (i = 0; i < q->num; i++)
			if (r->desc[i].counter > max)
				max = r->desc[i].counter;
	}
	q->ifl_counter = max + 1;
	pvring_dev_set_base(&q->ring, (uint16_t)(used + n));
	q->ifl = r;
	return 0;
}

/**
 * pviod_queue_pop - the next chain to serve: resubmissions first
 * @q: the queue (worker)
 * @c: out: the chain
 * @seg: out: its segments
 * @max_seg: room in @seg
 *
 * The same contract as pvring_dev_pop().  A resubmitted head is walked
 * again from the descriptor table (the driver cannot have reused it: it
 * never saw it completed) and stays marked in flight with its old counter;
 * a new head is marked in flight as it is popped.
 *
 * Return: 1 with a chain, 0 when none is waiting, or a negative errno.
 */
int pviod_queue_pop(struct pviod_queue *q, struct pvring_chain *c, struct pvring_seg *seg,
		    unsigned int max_seg)
{
	int ret;

	if (unlikely(q->resubmit_pos < q->resubmit_num)) {
		c->head = q->resubmit[q->resubmit_pos++];
		if (q->resubmit_pos == q->resubmit_num) {
			free(q->resubmit);
			q->resubmit = NULL;
			q->resubmit_num = 0;
			q->resubmit_pos = 0;
		}
		ret = pvring_dev_walk_head(&q->ring, c, seg, max_seg);
		return ret < 0 ? ret : 1;
	}
	ret = pvring_dev_pop(&q->ring, c, seg, max_seg);
	if (c->head_valid)
		pviod_inflight_get_head(q, c->head);
	return ret;
}
