// SPDX-License-Identifier: GPL-2.0
/*
 * vu_mem_test - the memory table (backend/vhost-user/mem.c): regions mapped from
 * memfds with their offsets, front-end address and guest-physical
 * translation with bounds, overlap and size checks, add and remove.
 */
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "core/log.h"
#include "vhost-user/mem.h"

#define MB (1ull << 20)

FIXTURE(mem)
{
	int fd;
	uint8_t *front; /* the "front-end's" mapping of the memfd */
	struct vu_mem mem;
};

FIXTURE_SETUP(mem)
{
	self->fd = memfd_create("guest", MFD_CLOEXEC);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ftruncate(self->fd, 4 * MB));
	self->front = mmap(NULL, 4 * MB, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->front);
	memset(&self->mem, 0, sizeof(self->mem));
}

FIXTURE_TEARDOWN(mem)
{
	vu_mem_clear(&self->mem);
	munmap(self->front, 4 * MB);
	close(self->fd);
}

/* Two adjacent 1 MiB regions at gpa 0 and 1M, from offsets 2M and 0 of the file. */
static struct vhost_user_memory two_regions(void)
{
	struct vhost_user_memory t = { .nregions = 2 };

	t.regions[0] = (struct vhost_user_mem_region){ .guest_phys_addr = 0,
						       .memory_size = MB,
						       .userspace_addr = 0x10000000,
						       .mmap_offset = 2 * MB };
	t.regions[1] = (struct vhost_user_mem_region){ .guest_phys_addr = MB,
						       .memory_size = MB,
						       .userspace_addr = 0x20000000,
						       .mmap_offset = 0 };
	return t;
}

TEST_F(mem, table_and_translation)
{
	struct vhost_user_memory t = two_regions();
	int fds[2] = { self->fd, self->fd };
	struct pvring_seg seg[4];
	uint8_t *p;

	ASSERT_EQ(0, vu_mem_table_set(&self->mem, &t, fds, 2));
	ASSERT_EQ(2, self->mem.ring.nregions);

	/* uva 0x10000010 is file offset 2M + 16. */
	self->front[2 * MB + 16] = 0xab;
	p = vu_mem_uva_to_hva(&self->mem, 0x10000010, 16);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(0xab, *p);
	/* Running off the region's end, or outside every region. */
	EXPECT_EQ(NULL, vu_mem_uva_to_hva(&self->mem, 0x10000000 + MB - 8, 16));
	EXPECT_EQ(NULL, vu_mem_uva_to_hva(&self->mem, 0x30000000, 1));

	/* gpa 1M + 5 is file offset 5. */
	self->front[5] = 0xcd;
	p = pvring_mem_ptr(&self->mem.ring, MB + 5, 1);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(0xcd, *p);
	/* A buffer across the two adjacent regions is two segments. */
	EXPECT_EQ(2, pvring_mem_xlate(&self->mem.ring, MB - 100, 200, seg, 4));
	EXPECT_EQ(100, seg[0].len);
	EXPECT_EQ(100, seg[1].len);
	EXPECT_EQ(-EFAULT, pvring_mem_xlate(&self->mem.ring, 2 * MB - 10, 20, seg, 4));
	EXPECT_EQ(-EFAULT, pvring_mem_xlate(&self->mem.ring, ~0ull - 4, 10, seg, 4));
}

TEST_F(mem, overlap_and_empty_refused)
{
	struct vhost_user_memory t = two_regions();
	int fds[2] = { self->fd, self->fd };

	t.regions[1].guest_phys_addr = MB / 2;
	EXPECT_EQ(-EINVAL, vu_mem_table_set(&self->mem, &t, fds, 2));
	EXPECT_EQ(0, self->mem.ring.nregions);

	t = two_regions();
	t.regions[1].memory_size = 0;
	EXPECT_EQ(-EINVAL, vu_mem_table_set(&self->mem, &t, fds, 2));

	t = two_regions();
	t.regions[0].guest_phys_addr = ~0ull - 10;
	EXPECT_EQ(-EINVAL, vu_mem_table_set(&self->mem, &t, fds, 2));

	/* fd count must match. */
	t = two_regions();
	EXPECT_EQ(-EINVAL, vu_mem_table_set(&self->mem, &t, fds, 1));
}

TEST_F(mem, failed_replace_keeps_old_table)
{
	struct vhost_user_memory t = two_regions();
	int fds[2] = { self->fd, self->fd };

	ASSERT_EQ(0, vu_mem_table_set(&self->mem, &t, fds, 2));
	t.regions[1].guest_phys_addr = 0;
	EXPECT_EQ(-EINVAL, vu_mem_table_set(&self->mem, &t, fds, 2));
	EXPECT_EQ(2, self->mem.ring.nregions);
	EXPECT_NE(NULL, pvring_mem_ptr(&self->mem.ring, MB, 1));
}

TEST_F(mem, add_and_remove)
{
	struct vhost_user_memory t = two_regions();
	unsigned int i;

	ASSERT_EQ(0, vu_mem_region_add(&self->mem, &t.regions[0], self->fd));
	ASSERT_EQ(0, vu_mem_region_add(&self->mem, &t.regions[1], self->fd));
	EXPECT_EQ(-EINVAL, vu_mem_region_add(&self->mem, &t.regions[1], self->fd));
	EXPECT_EQ(0, vu_mem_region_remove(&self->mem, &t.regions[0]));
	EXPECT_EQ(-ENOENT, vu_mem_region_remove(&self->mem, &t.regions[0]));
	EXPECT_EQ(NULL, pvring_mem_ptr(&self->mem.ring, 0, 1));
	EXPECT_NE(NULL, pvring_mem_ptr(&self->mem.ring, MB, 1));

	/* Slots: GET_MAX_MEM_SLOTS answers PVRING_MEM_REGIONS_MAX. */
	vu_mem_clear(&self->mem);
	for (i = 0; i < PVRING_MEM_REGIONS_MAX; i++) {
		struct vhost_user_mem_region r = { .guest_phys_addr = i * 4096ull,
						   .memory_size = 4096,
						   .userspace_addr = 0x40000000 + i * 4096ull,
						   .mmap_offset = 0 };

		ASSERT_EQ(0, vu_mem_region_add(&self->mem, &r, self->fd));
	}
	{
		struct vhost_user_mem_region r = { .guest_phys_addr = 1ull << 40,
						   .memory_size = 4096,
						   .userspace_addr = 1ull << 40 };

		EXPECT_EQ(-E2BIG, vu_mem_region_add(&self->mem, &r, self->fd));
	}
}

TEST_HARNESS_MAIN
