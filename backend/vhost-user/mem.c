// SPDX-License-Identifier: GPL-2.0
/*
 * mem.c - mapping the front-end's memory regions and translating into them.
 *
 * The table is replaced only while every queue of the device is stopped
 * (vu_msg.c quiesces them), so the data path never sees a region vanish.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "core/log.h"
#include "core/peermem.h"
#include "vhost-user/mem.h"

/**
 * vu_mem_fd_check - may pviod map [@offset, @offset + @size) of a peer's fd?
 * @fd: the front-end's fd (a memory region, the in-flight area)
 * @offset: where the mapping starts in it
 * @size: its length
 * @what: for messages ("memory region gpa 0x...")
 *
 * A mapping past the end of its file maps fine, and raises SIGBUS in pviod
 * at the first access there: the range must lie within the file now.  A
 * file the peer may shrink later would raise it then, so a file that can
 * be sealed must be sealed against shrinking: pviod adds F_SEAL_SHRINK
 * itself when the peer allows seals (QEMU's memfd back-end seals already).
 * A file that cannot be sealed (hugetlbfs, a plain file, a memfd created
 * without MFD_ALLOW_SEALING) is mapped as before: its peer could still
 * shrink it under pviod (Documentation/reliability.rst).
 *
 * Return: 0, or -EINVAL when the range is not within the file (reported).
 */
int vu_mem_fd_check(int fd, uint64_t offset, uint64_t size, const char *what)
{
	struct stat st;
	int seals;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode) &&
	    (offset > (uint64_t)st.st_size || size > (uint64_t)st.st_size - offset)) {
		pr_err("%s: %llu bytes at offset 0x%llx run past the end of its file (%llu bytes)",
		       what, (unsigned long long)size, (unsigned long long)offset,
		       (unsigned long long)st.st_size);
		return -EINVAL;
	}
	seals = fcntl(fd, F_GET_SEALS);
	if (seals >= 0 && !(seals & F_SEAL_SHRINK) && !(seals & F_SEAL_SEAL) &&
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) < 0)
		pr_warn("%s: cannot seal its file against shrinking: %s", what, strerror(errno));
	return 0;
}

static void vu_mem_map_release(struct vu_mem_map *m)
{
	if (m->mmap_base) {
		pviod_peermem_unwatch(m->mmap_base);
		munmap(m->mmap_base, m->mmap_size);
	}
	m->mmap_base = NULL;
	m->mmap_size = 0;
}

/* Does [a, a + alen) overlap [b, b + blen)?  Both ranges are known not to wrap. */
static bool vu_mem_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/*
 * Check one region against the ones already in @mem and map it.  The fd is
 * not consumed: the mapping keeps the file alive, the caller closes the fd.
 */
static int vu_mem_region_map(struct vu_mem *mem, const struct vhost_user_mem_region *r, int fd)
{
	struct pvring_mem_region *pr;
	struct vu_mem_map *m;
	uint64_t map_off, skip, len;
	char what[80];
	struct stat st;
	unsigned int i;
	long page;
	void *p;
	int ret;

	if (mem->ring.nregions >= PVRING_MEM_REGIONS_MAX) {
		pr_err("memory table: more than %u regions", PVRING_MEM_REGIONS_MAX);
		return -E2BIG;
	}
	if (r->memory_size == 0 || r->guest_phys_addr + r->memory_size < r->guest_phys_addr ||
	    r->userspace_addr + r->memory_size < r->userspace_addr ||
	    r->mmap_offset + r->memory_size < r->mmap_offset) {
		pr_err("memory region gpa 0x%llx size 0x%llx: empty or wraps",
		       (unsigned long long)r->guest_phys_addr, (unsigned long long)r->memory_size);
		return -EINVAL;
	}
	for (i = 0; i < mem->ring.nregions; i++) {
		const struct pvring_mem_region *o = &mem->ring.region[i];

		if (vu_mem_overlap(r->guest_phys_addr, r->memory_size, o->gpa, o->size) ||
		    vu_mem_overlap(r->userspace_addr, r->memory_size, mem->map[i].uva, o->size)) {
			pr_err("memory region gpa 0x%llx size 0x%llx overlaps region %u",
			       (unsigned long long)r->guest_phys_addr,
			       (unsigned long long)r->memory_size, i);
			return -EINVAL;
		}
	}

	snprintf(what, sizeof(what), "memory region gpa 0x%llx size 0x%llx",
		 (unsigned long long)r->guest_phys_addr, (unsigned long long)r->memory_size);
	ret = vu_mem_fd_check(fd, r->mmap_offset, r->memory_size, what);
	if (ret)
		return ret;
	/*
	 * Map from the offset rounded down to the file's block size: hugetlbfs
	 * reports its page size there and refuses anything less aligned.
	 */
	if (fstat(fd, &st) < 0)
		return -errno;
	page = sysconf(_SC_PAGESIZE);
	if (st.st_blksize > page && S_ISREG(st.st_mode))
		page = st.st_blksize;
	map_off = r->mmap_offset & ~((uint64_t)page - 1);
	skip = r->mmap_offset - map_off;
	len = r->memory_size + skip;
#if SIZE_MAX < UINT64_MAX
	if (len > SIZE_MAX) /* a 32-bit pviod cannot map it */
		return -EINVAL;
#endif
	p = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd,
		 (off_t)map_off);
	if (p == MAP_FAILED) {
		int err = -errno;

		pr_err("memory region gpa 0x%llx size 0x%llx: mmap at offset 0x%llx: %s",
		       (unsigned long long)r->guest_phys_addr, (unsigned long long)r->memory_size,
		       (unsigned long long)r->mmap_offset, strerror(-err));
		return err;
	}
	/* Guest memory is never worth a core dump of its size. */
	madvise(p, (size_t)len, MADV_DONTDUMP);
	/* A file its peer may still shrink: a fault there breaks only this device. */
	ret = pviod_peermem_watch(p, (size_t)len, mem->lost);
	if (ret) {
		pr_err("memory region gpa 0x%llx: too many peer mappings in this pviod",
		       (unsigned long long)r->guest_phys_addr);
		munmap(p, (size_t)len);
		return ret;
	}

	i = mem->ring.nregions;
	pr = &mem->ring.region[i];
	m = &mem->map[i];
	pr->gpa = r->guest_phys_addr;
	pr->size = r->memory_size;
	pr->hva = (uint8_t *)p + skip;
	m->uva = r->userspace_addr;
	m->mmap_base = p;
	m->mmap_size = (size_t)len;
	mem->ring.nregions = i + 1;
	pr_debug("memory region %u: gpa 0x%llx size 0x%llx uva 0x%llx", i,
		 (unsigned long long)pr->gpa, (unsigned long long)pr->size,
		 (unsigned long long)m->uva);
	return 0;
}

/**
 * vu_mem_clear - unmap every region
 * @mem: the table, empty afterwards
 */
void vu_mem_clear(struct vu_mem *mem)
{
	unsigned int i;

	int *lost = mem->lost;

	for (i = 0; i < mem->ring.nregions; i++)
		vu_mem_map_release(&mem->map[i]);
	memset(mem, 0, sizeof(*mem));
	mem->lost = lost;
}

/**
 * vu_mem_table_set - replace the whole table (VHOST_USER_SET_MEM_TABLE)
 * @mem: the table
 * @table: the message payload (nregions already checked against its size)
 * @fds: one fd per region, not consumed
 * @nfds: must equal @table->nregions
 *
 * All or nothing: the new table is built aside and swapped in only when every
 * region mapped, so a failure leaves the old one in place.
 *
 * Return: 0 or -errno.
 */
int vu_mem_table_set(struct vu_mem *mem, const struct vhost_user_memory *table, const int *fds,
		     unsigned int nfds)
{
	struct vu_mem tmp;
	unsigned int i;
	int ret;

	if (table->nregions > VHOST_USER_MEM_REGIONS_MAX || table->nregions != nfds)
		return -EINVAL;
	memset(&tmp, 0, sizeof(tmp));
	tmp.lost = mem->lost;
	for (i = 0; i < table->nregions; i++) {
		ret = vu_mem_region_map(&tmp, &table->regions[i], fds[i]);
		if (ret)
			goto err_unmap;
	}
	vu_mem_clear(mem);
	*mem = tmp;
	return 0;

err_unmap:
	vu_mem_clear(&tmp);
	return ret;
}

/**
 * vu_mem_region_add - add one region (VHOST_USER_ADD_MEM_REG)
 * @mem: the table
 * @r: the region
 * @fd: its fd, not consumed
 *
 * Return: 0, -E2BIG when every slot is used, -EINVAL on overlap, or the
 * mmap error.
 */
int vu_mem_region_add(struct vu_mem *mem, const struct vhost_user_mem_region *r, int fd)
{
	return vu_mem_region_map(mem, r, fd);
}

/**
 * vu_mem_region_remove - remove one region (VHOST_USER_REM_MEM_REG)
 * @mem: the table
 * @r: the region: matched on guest address, size and front-end address as
 *     the spec says (mmap_offset is not compared)
 *
 * Return: 0, or -ENOENT when no region matches.
 */
int vu_mem_region_remove(struct vu_mem *mem, const struct vhost_user_mem_region *r)
{
	unsigned int i, last;

	for (i = 0; i < mem->ring.nregions; i++) {
		if (mem->ring.region[i].gpa == r->guest_phys_addr &&
		    mem->ring.region[i].size == r->memory_size &&
		    mem->map[i].uva == r->userspace_addr)
			break;
	}
	if (i == mem->ring.nregions)
		return -ENOENT;
	vu_mem_map_release(&mem->map[i]);
	last = mem->ring.nregions - 1;
	mem->ring.region[i] = mem->ring.region[last];
	mem->map[i] = mem->map[last];
	memset(&mem->ring.region[last], 0, sizeof(mem->ring.region[last]));
	memset(&mem->map[last], 0, sizeof(mem->map[last]));
	mem->ring.nregions = last;
	return 0;
}

/**
 * vu_mem_uva_to_hva - translate a front-end virtual address range
 * @mem: the table
 * @uva: front-end address (SET_VRING_ADDR)
 * @len: bytes, > 0; the range must lie inside one region
 *
 * Return: our address for @uva, or NULL.
 */
void *vu_mem_uva_to_hva(const struct vu_mem *mem, uint64_t uva, uint64_t len)
{
	unsigned int i;

	for (i = 0; i < mem->ring.nregions; i++) {
		const struct pvring_mem_region *r = &mem->ring.region[i];
		uint64_t off = uva - mem->map[i].uva;

		if (off < r->size) {
			if (len == 0 || len > r->size - off)
				return NULL;
			return r->hva + off;
		}
	}
	return NULL;
}
