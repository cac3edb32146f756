// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_mem - libFuzzer target: the memory-table and region messages
 * (SET_MEM_TABLE, ADD_MEM_REG, REM_MEM_REG; vhost-user/mem.c) and the
 * translations the data path makes through the table (ring/pvring_mem.h,
 * vu_mem_uva_to_hva()).
 *
 * The input is a list of operations, each an opcode byte and its operands:
 *   0 table   u8 n, then n regions      SET_MEM_TABLE (n taken modulo 10)
 *   1 add     a region                  ADD_MEM_REG
 *   2 remove  u8 i | a region           REM_MEM_REG of region i of the table
 *                                       (i < nregions) or of the one given
 *   3 xlate   u64 gpa, u32 len          pvring_mem_xlate(), 8 segments
 *   4 uva     u64 uva, u32 len          vu_mem_uva_to_hva()
 * A region is u8 flags, then either (flags bit 0) four raw u64s (gpa, size,
 * uva, mmap_offset) and a u8 file size in pages, or u16 gpa, u8 size,
 * u16 uva, u8 mmap_offset (pages each) and a u8 file size in pages; each
 * comes with a memfd of that size.  The memfds are made once a process, one
 * a size, and lent to every region of that size: pviod never consumes the
 * fd, nothing writes their contents, and a memfd_create() and close() a
 * region were most of an input's time.
 *
 * Checked after every operation: regions never overlap, each lies inside
 * its own mapping, and its first and last byte can be read and written
 * (a mapping past the end of its file would fault: vu_mem_fd_check() must
 * have refused it); every translation lies inside one region and adds up
 * to the length asked for.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "core/log.h"
#include "vhost-user/mem.h"

#define PAGE 4096ull

struct fuzz_in {
	const uint8_t *p;
	size_t left;
};

static uint64_t fuzz_u(struct fuzz_in *in, unsigned int bytes)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < bytes && in->left; i++, in->left--)
		v |= (uint64_t)*in->p++ << (8 * i);
	return v;
}

/* The memfd of 1..256 pages each region of that size is lent; made on first use. */
static int fuzz_memfd[256];

/* A region and a memfd of the size the input asks for (fuzz_memfd's: never closed). */
static int fuzz_region(struct fuzz_in *in, struct vhost_user_mem_region *r)
{
	uint8_t flags = (uint8_t)fuzz_u(in, 1);
	uint64_t pages;
	int *fd;

	if (flags & 1) {
		r->guest_phys_addr = fuzz_u(in, 8);
		r->memory_size = fuzz_u(in, 8);
		r->userspace_addr = fuzz_u(in, 8);
		r->mmap_offset = fuzz_u(in, 8);
	} else {
		r->guest_phys_addr = fuzz_u(in, 2) * PAGE;
		r->memory_size = (fuzz_u(in, 1) + 1) * PAGE;
		r->userspace_addr = fuzz_u(in, 2) * PAGE;
		r->mmap_offset = fuzz_u(in, 1) * PAGE;
	}
	pages = fuzz_u(in, 1) + 1;
	fd = &fuzz_memfd[pages - 1];
	if (*fd > 0)
		return *fd;
	*fd = memfd_create("fuzz-mem", MFD_CLOEXEC);
	if (*fd <= 0 || ftruncate(*fd, (off_t)(pages * PAGE)))
		abort();
	return *fd;
}

static void fuzz_check_table(const struct vu_mem *mem)
{
	unsigned int i, j;

	if (mem->ring.nregions > PVRING_MEM_REGIONS_MAX)
		abort();
	for (i = 0; i < mem->ring.nregions; i++) {
		const struct pvring_mem_region *a = &mem->ring.region[i];
		const struct vu_mem_map *m = &mem->map[i];

		if (!a->size || a->hva < (uint8_t *)m->mmap_base ||
		    a->hva + a->size > (uint8_t *)m->mmap_base + m->mmap_size) {
			fprintf(stderr, "region %u outside its mapping\n", i);
			abort();
		}
		/* A read and a write of each end, which the compiler keeps. */
		__atomic_fetch_or(a->hva, 0, __ATOMIC_RELAXED);
		__atomic_fetch_or(a->hva + a->size - 1, 0, __ATOMIC_RELAXED);
		for (j = 0; j < i; j++) {
			const struct pvring_mem_region *b = &mem->ring.region[j];

			if (a->gpa < b->gpa + b->size && b->gpa < a->gpa + a->size) {
				fprintf(stderr, "regions %u and %u overlap\n", j, i);
				abort();
			}
		}
	}
}

/* @p .. @p + @len lies inside one region's host range. */
static void fuzz_check_inside(const struct vu_mem *mem, const uint8_t *p, uint64_t len)
{
	unsigned int i;

	for (i = 0; i < mem->ring.nregions; i++) {
		const struct pvring_mem_region *r = &mem->ring.region[i];

		if (p >= r->hva && len <= r->size && p - r->hva <= (ptrdiff_t)(r->size - len))
			return;
	}
	fprintf(stderr, "translation outside every region\n");
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct vu_mem mem;

	pviod_log_level = getenv("FUZZ_VU_LOG") ? PVIOD_LOG_DEBUG : PVIOD_LOG_ERR - 1;
	memset(&mem, 0, sizeof(mem));
	while (in.left) {
		struct vhost_user_memory t = { 0 };
		struct vhost_user_mem_region r;
		int fds[VHOST_USER_MEM_REGIONS_MAX + 1], n;
		struct pvring_seg seg[8];
		uint64_t gpa, len, sum;
		unsigned int i;
		uint8_t *p;

		switch (fuzz_u(&in, 1) % 5) {
		case 0:
			t.nregions = (uint32_t)(fuzz_u(&in, 1) % (VHOST_USER_MEM_REGIONS_MAX + 2));
			for (i = 0; i < t.nregions && i < VHOST_USER_MEM_REGIONS_MAX; i++)
				fds[i] = fuzz_region(&in, &t.regions[i]);
			vu_mem_table_set(&mem, &t, fds, i);
			break;
		case 1:
			vu_mem_region_add(&mem, &r, fuzz_region(&in, &r));
			break;
		case 2:
			i = (unsigned int)fuzz_u(&in, 1);
			if (i < mem.ring.nregions) {
				r.guest_phys_addr = mem.ring.region[i].gpa;
				r.memory_size = mem.ring.region[i].size;
				r.userspace_addr = mem.map[i].uva;
				if (vu_mem_region_remove(&mem, &r))
					abort(); /* an exact match must go */
			} else {
				fuzz_region(&in, &r);
				vu_mem_region_remove(&mem, &r);
			}
			break;
		case 3:
			gpa = fuzz_u(&in, 8);
			len = fuzz_u(&in, 4);
			n = pvring_mem_xlate(&mem.ring, gpa, len, seg, 8);
			for (i = 0, sum = 0; n > 0 && i < (unsigned int)n; i++) {
				fuzz_check_inside(&mem, seg[i].base, seg[i].len);
				sum += seg[i].len;
			}
			if (n > 0 && sum != len)
				abort();
			break;
		case 4:
			gpa = fuzz_u(&in, 8);
			len = fuzz_u(&in, 4);
			p = vu_mem_uva_to_hva(&mem, gpa, len);
			if (p)
				fuzz_check_inside(&mem, p, len);
			break;
		}
		fuzz_check_table(&mem);
	}
	vu_mem_clear(&mem);
	return 0;
}
