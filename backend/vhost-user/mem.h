/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mem.h - the front-end's memory, as vhost-user hands it over.
 *
 * Each region arrives as an fd with an offset, a guest-physical range and the
 * front-end's own virtual address for it.  Descriptors carry guest-physical
 * addresses (translated by ring/pvring_mem.h on the region table kept here);
 * SET_VRING_ADDR carries front-end virtual addresses (translated by
 * vu_mem_uva_to_hva()).
 */
#ifndef PVIOD_VU_MEM_H
#define PVIOD_VU_MEM_H

#include <stddef.h>
#include "pvring_mem.h"
#include "vhost_user.h"

/* What we keep beside each pvring_mem region: entry i describes region[i]. */
struct vu_mem_map {
	uint64_t uva; /* the front-end's address of region gpa */
	void *mmap_base; /* our mapping, for munmap */
	size_t mmap_size;
};

struct vu_mem {
	struct pvring_mem ring; /* gpa -> hva, read by the data path */
	struct vu_mem_map map[PVRING_MEM_REGIONS_MAX];
	int *lost; /* the device's mem_lost, set on a fault (core/peermem.c) */
};

int vu_mem_table_set(struct vu_mem *mem, const struct vhost_user_memory *table, const int *fds,
		     unsigned int nfds);
int vu_mem_region_add(struct vu_mem *mem, const struct vhost_user_mem_region *r, int fd);
int vu_mem_region_remove(struct vu_mem *mem, const struct vhost_user_mem_region *r);
void vu_mem_clear(struct vu_mem *mem);
void *vu_mem_uva_to_hva(const struct vu_mem *mem, uint64_t uva, uint64_t len);
int vu_mem_fd_check(int fd, uint64_t offset, uint64_t size, const char *what);

#endif /* PVIOD_VU_MEM_H */
