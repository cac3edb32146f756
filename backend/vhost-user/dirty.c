// SPDX-License-Identifier: GPL-2.0
/*
 * dirty.c - the front-end's dirty log (VHOST_USER_PROTOCOL_F_LOG_SHMFD):
 * SET_LOG_BASE maps it, VHOST_F_LOG_ALL and each ring's VHOST_VRING_F_LOG
 * turn the marking on (core/dirty.h says what is marked and when).
 *
 * The log is a peer's file like guest memory: the range must lie within
 * it, it is sealed against shrinking where it can be, and its mapping is
 * watched for SIGBUS (core/peermem.c).  A log is mapped whole or not at all:
 * a request that fails leaves the previous log (if any) in place.  The
 * front-end replaces the log while rings run (it grows with guest memory),
 * so the swap happens with every queue stopped.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "core/peermem.h"
#include "vhost-user/dirty.h"
#include "vhost-user/vu.h"

/*
 * The largest log pviod maps: 1 GiB covers 32 TiB of guest-physical space,
 * more than any front-end gives one device.
 */
#define VU_DIRTY_LOG_MAX (1ULL << 30)

static void vu_dirty_unmap(struct vu_dirty *d)
{
	if (d->map) {
		pviod_peermem_unwatch(d->map);
		munmap(d->map, d->map_len);
	}
	d->map = NULL;
	d->map_len = 0;
	d->log.bitmap = NULL;
	d->log.size = 0;
}

/* The highest guest-physical address of the memory table, plus one. */
static uint64_t vu_dirty_mem_end(const struct vu_mem *mem)
{
	uint64_t end = 0;
	unsigned int i;

	for (i = 0; i < mem->ring.nregions; i++) {
		const struct pvring_mem_region *r = &mem->ring.region[i];

		if (r->gpa + r->size > end)
			end = r->gpa + r->size;
	}
	return end;
}

/**
 * vu_dirty_set - adopt the log of a SET_LOG_BASE
 * @vu: the device's vhost-user side
 * @l: the log's size and offset in @fd
 * @fd: the log's file (not taken: the mapping keeps it)
 *
 * Checked before anything changes: a size that is 0, over 1 GiB or too small
 * for the memory table; an offset that is not page-aligned or overflows; a
 * range past the end of the file.
 *
 * Return: 0, -EINVAL for such a log, or the mmap error (all reported).
 */
int vu_dirty_set(struct vu_dev *vu, const struct vhost_user_log *l, int fd)
{
	uint64_t mem_end = vu_dirty_mem_end(&vu->s.mem), need;
	const char *name = vu->dev->name;
	long page = sysconf(_SC_PAGESIZE);
	void *p;
	int ret;

	/* Bytes of bitmap for [0, mem_end): a bit per page, rounded up. */
	need = (mem_end / VHOST_LOG_PAGE + 7) / 8;
	if (!l->mmap_size || l->mmap_size > VU_DIRTY_LOG_MAX) {
		pr_err("%s: SET_LOG_BASE: a log of %llu bytes; give 1 to %llu", name,
		       (unsigned long long)l->mmap_size, (unsigned long long)VU_DIRTY_LOG_MAX);
		return -EINVAL;
	}
	if (l->mmap_offset % (uint64_t)page || l->mmap_offset > UINT64_MAX - l->mmap_size) {
		pr_err("%s: SET_LOG_BASE: offset 0x%llx is not a multiple of the page size (%ld) or overflows",
		       name, (unsigned long long)l->mmap_offset, page);
		return -EINVAL;
	}
	if (l->mmap_size < need) {
		pr_err("%s: SET_LOG_BASE: a log of %llu bytes covers %llu MiB of guest memory, the memory table reaches %llu MiB: %llu bytes needed",
		       name, (unsigned long long)l->mmap_size,
		       (unsigned long long)(l->mmap_size * 8 * VHOST_LOG_PAGE >> 20),
		       (unsigned long long)(mem_end >> 20), (unsigned long long)need);
		return -EINVAL;
	}
	ret = vu_mem_fd_check(fd, l->mmap_offset, l->mmap_size, "SET_LOG_BASE");
	if (ret)
		return ret;
	p = mmap(NULL, (size_t)l->mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 (off_t)l->mmap_offset);
	if (p == MAP_FAILED) {
		ret = -errno;
		pr_err("%s: SET_LOG_BASE: mapping %llu bytes at offset 0x%llx: %s", name,
		       (unsigned long long)l->mmap_size, (unsigned long long)l->mmap_offset,
		       strerror(-ret));
		return ret;
	}
	ret = pviod_peermem_watch(p, (size_t)l->mmap_size, &vu->dev->mem_lost);
	if (ret) {
		pr_err("%s: SET_LOG_BASE: too many peer mappings to watch", name);
		munmap(p, (size_t)l->mmap_size);
		return ret;
	}
	/* The workers read the log: none runs while it changes. */
	vu_queues_stop(vu);
	vu_dirty_unmap(&vu->s.dirty);
	vu->s.dirty.map = p;
	vu->s.dirty.map_len = (size_t)l->mmap_size;
	vu->s.dirty.log.bitmap = p;
	vu->s.dirty.log.size = l->mmap_size;
	pr_info("%s: dirty log of %llu bytes (guest memory up to %llu MiB)", name,
		(unsigned long long)l->mmap_size,
		(unsigned long long)(l->mmap_size * 8 * VHOST_LOG_PAGE >> 20));
	return vu_queues_resume(vu);
}

/**
 * vu_dirty_clear - unmap the log (the session ends)
 * @vu: the device's vhost-user side, every queue stopped
 */
void vu_dirty_clear(struct vu_dev *vu)
{
	vu_dirty_unmap(&vu->s.dirty);
}

/**
 * vu_dirty_logging - does the session ask for dirty logging?
 * @vu: the device's vhost-user side
 */
bool vu_dirty_logging(const struct vu_dev *vu)
{
	return vu->s.features & PVIO_BIT(VHOST_F_LOG_ALL);
}

/**
 * vu_dirty_queue_start - log the writes of a queue about to start
 * @vu: the device's vhost-user side
 * @index: the queue, stopped, its ring set up
 * @format: the ring's format
 * @desc: the host address of its descriptor area
 *
 * Nothing without VHOST_F_LOG_ALL.  The ring areas the device writes are
 * logged only with the ring's VHOST_VRING_F_LOG, at its log_guest_addr
 * (split: the used ring; packed: the device's event area, and the
 * descriptor ring the device writes used descriptors into).
 *
 * Return: 0; -EINVAL when logging is asked for without a log, or -ENOMEM.
 */
int vu_dirty_queue_start(struct vu_dev *vu, unsigned int index, enum pvring_format format,
			 const void *desc)
{
	struct pviod_queue *q = &vu->dev->queues[index];
	const struct vu_vring *vr = &vu->vring[index];
	struct pviod_dirty_range ring[2];
	struct pvring_layout l;
	unsigned int n = 0, i;

	if (!vu_dirty_logging(vu))
		return 0;
	if (!vu->s.dirty.log.bitmap) {
		pr_err("%s: queue %u: VHOST_F_LOG_ALL without a log (SET_LOG_BASE): cannot log its writes",
		       vu->dev->name, index);
		return -EINVAL;
	}
	if (pvring_layout(format, vr->num, &l))
		return -EINVAL;
	if (vr->log) {
		ring[n].gpa = vr->log_gpa;
		ring[n++].len = l.device_bytes;
		/* Packed rings write used descriptors over available ones. */
		for (i = 0; format == PVRING_PACKED && i < vu->s.mem.ring.nregions; i++) {
			const struct pvring_mem_region *r = &vu->s.mem.ring.region[i];
			uintptr_t off = (uintptr_t)desc - (uintptr_t)r->hva;

			if (off < r->size) {
				ring[n].gpa = r->gpa + off;
				ring[n++].len = l.desc_bytes;
				break;
			}
		}
	}
	for (i = 0; i < n; i++) {
		if (ring[i].gpa + ring[i].len < ring[i].gpa ||
		    (ring[i].gpa + ring[i].len - 1) / VHOST_LOG_PAGE / 8 >= vu->s.dirty.log.size) {
			pr_err("%s: queue %u: its ring at gpa 0x%llx (%llu bytes) is past the end of the dirty log (%llu bytes)",
			       vu->dev->name, index, (unsigned long long)ring[i].gpa,
			       (unsigned long long)ring[i].len,
			       (unsigned long long)vu->s.dirty.log.size);
			return -EINVAL;
		}
	}
	return pviod_queue_log_start(q, &vu->s.dirty.log, &vu->s.mem.ring, ring, n);
}
