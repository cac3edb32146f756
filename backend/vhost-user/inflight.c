// SPDX-License-Identifier: GPL-2.0
/*
 * inflight.c - GET_INFLIGHT_FD / SET_INFLIGHT_FD and crash recovery.
 *
 * QEMU asks once per device life (GET_INFLIGHT_FD, with its queue count and
 * size, after SET_FEATURES); we create a memfd laid out as the spec's regions
 * for the negotiated ring format (split or packed), one per queue,
 * VHOST_USER_INFLIGHT_ALIGN apart, and reply with its fd.  Before every
 * start of the rings QEMU sends it back (SET_INFLIGHT_FD): after a reconnect
 * that is the area a dead pviod left behind.
 *
 * When a queue starts with a region, vu_inflight_queue_recover() reads it
 * before the worker gets the queue.  Split: it finishes an interrupted
 * used-batch update, lists the heads still in flight in counter order for
 * pviod_queue_pop() to hand out again before anything new, and resumes
 * popping at used->idx + that count (the front-end's SET_VRING_BASE after a
 * crash is its used->idx, which would lose nothing but re-pop chains we are
 * resubmitting anyway; after a clean stop both agree).  Packed:
 * core/inflight.c, which takes both positions from the region.
 *
 * Threads: the control thread's, with the queues concerned stopped; a
 * running queue keeps its region up to date itself (core/queue.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/mman.h>

#include "core/peermem.h"
#include "vhost-user/inflight.h"
#include "vhost_user_inflight.h"

/* Bytes a queue's region takes for the ring format negotiated. */
static uint64_t vu_inflight_stride(const struct vu_dev *vu, uint16_t queue_size)
{
	if (vu->s.features & PVIO_BIT(PVIO_F_RING_PACKED))
		return vhost_user_inflight_region_size_packed(queue_size);
	return vhost_user_inflight_region_size(queue_size);
}

/* Queue @index's region, split or packed; NULL when the area has none for it. */
static void *vu_inflight_region_of(const struct vu_dev *vu, unsigned int index)
{
	const struct vu_inflight_area *a = &vu->s.inflight;
	uint64_t stride = vu_inflight_stride(vu, a->queue_size);

	if (!a->addr || index >= a->num_queues || (index + 1) * stride > a->size)
		return NULL;
	return (char *)a->addr + index * stride;
}

/**
 * vu_inflight_clear - unmap the device's area (the session ended)
 * @vu: the device's vhost-user side, every queue stopped
 */
void vu_inflight_clear(struct vu_dev *vu)
{
	struct vu_inflight_area *a = &vu->s.inflight;
	unsigned int i;

	for (i = 0; i < vu->dev->nqueues; i++) {
		pviod_queue_resubmit_free(&vu->dev->queues[i]);
		pviod_inflight_packed_forget(&vu->dev->queues[i]);
		vu->dev->queues[i].ifl = NULL;
	}
	if (a->addr) {
		pviod_peermem_unwatch(a->addr);
		munmap(a->addr, a->size);
	}
	memset(a, 0, sizeof(*a));
}

static int vu_inflight_map(struct vu_dev *vu, int fd, uint64_t size, uint64_t offset,
			   uint16_t num_queues, uint16_t queue_size)
{
	void *addr;
	int ret;

	addr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)offset);
	if (addr == MAP_FAILED)
		return -errno;
	/* A file its peer may still shrink: a fault there breaks only this device. */
	ret = pviod_peermem_watch(addr, size, &vu->dev->mem_lost);
	if (ret) {
		munmap(addr, size);
		return ret;
	}
	vu_queues_stop(vu);
	vu_inflight_clear(vu);
	vu->s.inflight.addr = addr;
	vu->s.inflight.size = size;
	vu->s.inflight.num_queues = num_queues;
	vu->s.inflight.queue_size = queue_size;
	return vu_queues_resume(vu);
}

static int vu_inflight_geometry_check(struct vu_dev *vu, const char *what,
				      const struct vhost_user_inflight *inf)
{
	if (!inf->num_queues || inf->num_queues > vu->dev->nqueues ||
	    !pvring_size_valid(inf->queue_size)) {
		pr_err("%s: %s: %u queues of %u entries: expected 1..%u queues of a power of two up to %u",
		       vu->dev->name, what, inf->num_queues, inf->queue_size, vu->dev->nqueues,
		       PVRING_MAX_SIZE);
		return -EINVAL;
	}
	return 0;
}

/**
 * vu_inflight_get - VHOST_USER_GET_INFLIGHT_FD: create the area
 * @vu: the device's vhost-user side
 * @inf: in: num_queues and queue_size; out: mmap_size and mmap_offset
 * @fd: out: the area's memfd, for the reply (the caller closes it after)
 *
 * The new area is also made the device's own, as if SET_INFLIGHT_FD had
 * passed it: a front-end that never sends SET still gets tracking.
 *
 * Return: 0, -EINVAL for a queue count or size we cannot serve, or the
 * memfd / mmap error.
 */
int vu_inflight_get(struct vu_dev *vu, struct vhost_user_inflight *inf, int *fd)
{
	uint64_t rsize, size;
	int mfd, ret;

	ret = vu_inflight_geometry_check(vu, "GET_INFLIGHT_FD", inf);
	if (ret)
		return ret;
	rsize = vu_inflight_stride(vu, inf->queue_size);
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
	/*
	 * A new memfd reads as zeroes: each region's version 0,
	 * "uninitialized" in the spec's words, until its queue first starts
	 * (vu_inflight_queue_recover()), so that a queue that never ran here
	 * resumes where SET_VRING_BASE says (a migration's destination).
	 */
	ret = vu_inflight_map(vu, mfd, size, 0, inf->num_queues, inf->queue_size);
	if (ret)
		goto err_close;
	inf->mmap_size = size;
	inf->mmap_offset = 0;
	*fd = mfd;
	pr_debug("%s: in-flight area of %llu bytes for %u queues of %u", vu->dev->name,
		 (unsigned long long)size, inf->num_queues, inf->queue_size);
	return 0;

err_close:
	close(mfd);
	return ret;
}

/**
 * vu_inflight_set - VHOST_USER_SET_INFLIGHT_FD: adopt the front-end's area
 * @vu: the device's vhost-user side
 * @inf: its geometry, as our GET_INFLIGHT_FD (or a previous pviod's) replied
 * @fd: the memfd (not taken: the mapping keeps the file)
 *
 * Return: 0, -EINVAL for a geometry or size that does not add up, or the
 * mmap error.
 */
int vu_inflight_set(struct vu_dev *vu, const struct vhost_user_inflight *inf, int fd)
{
	uint64_t need;
	int ret;

	ret = vu_inflight_geometry_check(vu, "SET_INFLIGHT_FD", inf);
	if (ret)
		return ret;
	need = vu_inflight_stride(vu, inf->queue_size) * inf->num_queues;
	if (inf->mmap_size < need || inf->mmap_offset % (uint64_t)sysconf(_SC_PAGESIZE) ||
	    inf->mmap_offset > UINT64_MAX - inf->mmap_size) {
		pr_err("%s: SET_INFLIGHT_FD: %llu bytes at offset %llu for %u queues of %u, need %llu page-aligned",
		       vu->dev->name, (unsigned long long)inf->mmap_size,
		       (unsigned long long)inf->mmap_offset, inf->num_queues, inf->queue_size,
		       (unsigned long long)need);
		return -EINVAL;
	}
	/* A short file would fault at the first access: SIGBUS for all of pviod. */
	ret = vu_mem_fd_check(fd, inf->mmap_offset, inf->mmap_size, "SET_INFLIGHT_FD");
	if (ret)
		return ret;
	ret = vu_inflight_map(vu, fd, inf->mmap_size, inf->mmap_offset, inf->num_queues,
			      inf->queue_size);
	if (ret)
		pr_err("%s: SET_INFLIGHT_FD: mapping %llu bytes: %s", vu->dev->name,
		       (unsigned long long)inf->mmap_size, strerror(-ret));
	return ret;
}

static int vu_inflight_cmp(const void *a, const void *b, void *arg)
{
	const struct vhost_user_inflight_region *r = arg;
	uint64_t ca = r->desc[*(const uint16_t *)a].counter;
	uint64_t cb = r->desc[*(const uint16_t *)b].counter;

	return ca < cb ? -1 : ca > cb;
}

/**
 * vu_inflight_queue_recover - adopt the queue's region before it runs
 * @vu: the device's vhost-user side
 * @index: the queue, stopped, its ring initialised (its used index read from
 *         the ring)
 *
 * The spec's "when reconnecting" steps: if used_idx lags used->idx, the
 * last batch reached the used ring but its heads were not yet cleared, so
 * clear the (used->idx - used_idx) heads of the list from last_batch_head;
 * then collect every head still in flight, sorted by counter, and resume
 * popping at used->idx plus their count.  The region is ours from here:
 * a region we cannot use (new, wrong size, nonsense contents) is reset so
 * that tracking starts afresh instead of resubmitting garbage, and the ring
 * resumes where SET_VRING_BASE said.
 *
 * Return: 0 or -ENOMEM.
 */
int vu_inflight_queue_recover(struct vu_dev *vu, unsigned int index)
{
	struct pviod_device *dev = vu->dev;
	struct pviod_queue *q = &dev->queues[index];
	struct vhost_user_inflight_region *r = vu_inflight_region_of(vu, index);
	unsigned int i, n = 0, num = pvring_dev_size(&q->ring);
	uint16_t used = pvring_dev_used_index(&q->ring), batch, head;
	uint64_t max = 0;

	pviod_queue_resubmit_free(q);
	pviod_inflight_packed_forget(q);
	q->ifl = NULL;
	if (!vu->s.inflight.addr)
		return 0;
	if (!r || vu->s.inflight.queue_size != num) {
		pr_warn("%s: queue %u: %u entries (%s), the in-flight area was made for %u queues of %u in %llu bytes: not tracked",
			dev->name, index, num, pvring_dev_is_packed(&q->ring) ? "packed" : "split",
			vu->s.inflight.num_queues, vu->s.inflight.queue_size,
			(unsigned long long)vu->s.inflight.size);
		return 0;
	}
	/* DescStatePacked: core/inflight.c. */
	if (pvring_dev_is_packed(&q->ring))
		return pviod_inflight_packed_adopt(q, (void *)r);
	if (r->version != VHOST_USER_INFLIGHT_VERSION || r->desc_num != num) {
		/*
		 * A new area (a fresh session, the destination of a migration)
		 * records nothing: SET_VRING_BASE says where to resume, not
		 * used->idx.  They differ when the front-end took chains the
		 * ring has not seen used (a source that stopped mid-batch):
		 * popping from used->idx would serve those a second time.
		 */
		memset(r, 0, vhost_user_inflight_region_size(num));
		r->version = VHOST_USER_INFLIGHT_VERSION;
		r->desc_num = num;
		r->used_idx = used;
		q->ifl_counter = 1;
		q->ifl = r;
		return 0;
	}
	if (r->used_idx != used) {
		/* Died between used->idx and the end of the batch's accounting. */
		batch = (uint16_t)(used - r->used_idx);
		head = r->last_batch_head;
		if (batch > num) {
			pr_warn("%s: queue %u: in-flight used_idx %u is %u behind used->idx: area reset",
				dev->name, index, r->used_idx, batch);
			memset(r->desc, 0, num * sizeof(r->desc[0]));
		} else {
			for (i = 0; i < batch && head < num; i++) {
				r->desc[head].inflight = 0;
				head = r->desc[head].next;
			}
		}
		pviod_inflight_barrier();
		r->used_idx = used;
		pr_info("%s: queue %u: completed the last used batch of %u (used %u)", dev->name,
			index, batch, used);
	}
	for (i = 0; i < num; i++) {
		if (r->desc[i].inflight == 1)
			n++;
		else
			r->desc[i].inflight = 0; /* anything else is noise */
	}
	if (n) {
		q->resubmit = calloc(n, sizeof(*q->resubmit));
		if (!q->resubmit)
			return -ENOMEM;
		for (i = 0; i < num; i++) {
			if (!r->desc[i].inflight)
				continue;
			q->resubmit[q->resubmit_num++] = (uint16_t)i;
			if (r->desc[i].counter > max)
				max = r->desc[i].counter;
		}
		qsort_r(q->resubmit, n, sizeof(*q->resubmit), vu_inflight_cmp, r);
		pr_info("%s: queue %u: resubmitting %u request%s left in flight (used %u)",
			dev->name, index, n, n == 1 ? "" : "s", used);
	} else {
		/* Every counter may be stale: restart the order above all of them. */
		for (i = 0; i < num; i++)
			if (r->desc[i].counter > max)
				max = r->desc[i].counter;
	}
	q->ifl_counter = max + 1;
	pvring_dev_set_base(&q->ring, (uint16_t)(used + n));
	q->ifl = r;
	return 0;
}
