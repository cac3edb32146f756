// SPDX-License-Identifier: GPL-2.0
/*
 * mem.c - the front-end's "guest memory": one memfd, mapped once.
 *
 * The back-end maps the same memfd (SET_MEM_TABLE passes the fd), so a
 * buffer's guest-physical address is simply its offset in the memfd, and the
 * back-end reaches our ring and data through its own mapping.  Everything the
 * device may read or write must live here: rings, indirect tables, request
 * headers, status bytes and data buffers.
 *
 * The allocator is a bump pointer: the driver allocates everything once at
 * set-up and frees it all with the device, so nothing more is needed.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vuser.h"

#define VUSER_HUGE_PAGE (2u << 20)

/**
 * vuser_mem_init - create and map the guest memory
 * @mem: filled in
 * @size: bytes wanted; rounded up to 2 MiB (a huge page, and what the
 *        back-ends' mmap alignment wants)
 * @hugetlb: back it with hugetlbfs pages (needs free huge pages)
 *
 * Return: 0, or -errno from memfd_create/ftruncate/mmap.
 */
int vuser_mem_init(struct vuser_mem *mem, size_t size, bool hugetlb)
{
	unsigned int flags = MFD_CLOEXEC;
	int err;

	mem->fd = -1;
	mem->base = NULL;
	mem->used = 0;
	mem->hugetlb = hugetlb;
	size = (size + VUSER_HUGE_PAGE - 1) & ~(size_t)(VUSER_HUGE_PAGE - 1);
	if (!size)
		size = VUSER_HUGE_PAGE;
	mem->size = size;
	if (hugetlb)
		flags |= MFD_HUGETLB;
	mem->fd = memfd_create("pvio-guest-memory", flags);
	if (mem->fd < 0)
		return -errno;
	if (ftruncate(mem->fd, (off_t)size) < 0) {
		err = -errno;
		goto err_close;
	}
	mem->base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, mem->fd, 0);
	if (mem->base == MAP_FAILED) {
		err = -errno;
		mem->base = NULL;
		goto err_close;
	}
	return 0;

err_close:
	close(mem->fd);
	mem->fd = -1;
	return err;
}

/**
 * vuser_mem_destroy - unmap and close the guest memory
 * @mem: the guest memory; the back-end must be done with it (socket closed)
 */
void vuser_mem_destroy(struct vuser_mem *mem)
{
	if (mem->base)
		munmap(mem->base, mem->size);
	if (mem->fd >= 0)
		close(mem->fd);
	mem->base = NULL;
	mem->fd = -1;
}

/**
 * vuser_mem_alloc - carve a zeroed buffer out of the guest memory
 * @mem: the guest memory
 * @size: bytes
 * @align: power of two
 *
 * Return: the buffer, or NULL when the memory is exhausted (size it larger in
 * the open options).
 */
void *vuser_mem_alloc(struct vuser_mem *mem, size_t size, size_t align)
{
	size_t start;

	if (!align)
		align = 1;
	start = (mem->used + align - 1) & ~(align - 1);
	if (start > mem->size || size > mem->size - start)
		return NULL;
	mem->used = start + size;
	/* memfd pages start zeroed and are never reused: no memset needed. */
	return (char *)mem->base + start;
}
