// SPDX-License-Identifier: GPL-2.0
/*
 * ring_mem_test.c - the ring's pure functions: guest-address translation
 * (pvring_mem.h), the EVENT_IDX arithmetic of both formats, the packed
 * ring's wrap counters, and the layout (pvring_split.h, pvring_packed.h).
 */
#include "kselftest_harness.h"

#include "pvring.h"
#include "pvring_mem.h"

/*
 * Three regions: A and B adjacent in guest-physical space (but not in host
 * space, as with QEMU's RAM split at 4 GiB), C after a hole, and a fourth at
 * the very top of the 64-bit space for the wrap tests.
 */
FIXTURE(mem)
{
	u8 a[4096], b[4096], c[4096], top[4096];
	struct pvring_mem mem;
};

#define GPA_A 0x1000ULL
#define GPA_B (GPA_A + 4096)
#define GPA_C 0x100000ULL
#define GPA_TOP (~0ULL - 4095) /* last byte is 2^64 - 1 */

FIXTURE_SETUP(mem)
{
	self->mem.nregions = 4;
	self->mem.region[0] = (struct pvring_mem_region){ GPA_A, 4096, self->a };
	self->mem.region[1] = (struct pvring_mem_region){ GPA_B, 4096, self->b };
	self->mem.region[2] = (struct pvring_mem_region){ GPA_C, 4096, self->c };
	self->mem.region[3] = (struct pvring_mem_region){ GPA_TOP, 4096, self->top };
}

FIXTURE_TEARDOWN(mem)
{
}

TEST_F(mem, find)
{
	EXPECT_EQ(&self->mem.region[0], pvring_mem_find(&self->mem, GPA_A));
	EXPECT_EQ(&self->mem.region[0], pvring_mem_find(&self->mem, GPA_A + 4095));
	EXPECT_EQ(&self->mem.region[1], pvring_mem_find(&self->mem, GPA_B));
	EXPECT_EQ(&self->mem.region[3], pvring_mem_find(&self->mem, ~0ULL));
	EXPECT_EQ(NULL, pvring_mem_find(&self->mem, 0));
	EXPECT_EQ(NULL, pvring_mem_find(&self->mem, GPA_A - 1));
	EXPECT_EQ(NULL, pvring_mem_find(&self->mem, GPA_B + 4096));
	EXPECT_EQ(NULL, pvring_mem_find(&self->mem, GPA_C + 4096));
}

TEST_F(mem, xlate_inside_one_region)
{
	struct pvring_seg seg[4];

	ASSERT_EQ(1, pvring_mem_xlate(&self->mem, GPA_A + 100, 200, seg, 4));
	EXPECT_EQ((void *)(self->a + 100), seg[0].base);
	EXPECT_EQ(200, seg[0].len);
	/* Exactly the whole region. */
	ASSERT_EQ(1, pvring_mem_xlate(&self->mem, GPA_C, 4096, seg, 4));
	EXPECT_EQ((void *)self->c, seg[0].base);
	EXPECT_EQ(4096, seg[0].len);
	/* Zero length: no segment, whatever the address. */
	EXPECT_EQ(0, pvring_mem_xlate(&self->mem, GPA_A, 0, seg, 4));
	EXPECT_EQ(0, pvring_mem_xlate(&self->mem, 0xdead0000ULL, 0, seg, 0));
}

TEST_F(mem, xlate_straddle_adjacent_regions)
{
	struct pvring_seg seg[4];

	ASSERT_EQ(2, pvring_mem_xlate(&self->mem, GPA_B - 10, 30, seg, 4));
	EXPECT_EQ((void *)(self->a + 4086), seg[0].base);
	EXPECT_EQ(10, seg[0].len);
	EXPECT_EQ((void *)self->b, seg[1].base);
	EXPECT_EQ(20, seg[1].len);
	/* All of A and B. */
	ASSERT_EQ(2, pvring_mem_xlate(&self->mem, GPA_A, 8192, seg, 4));
	EXPECT_EQ(4096, seg[0].len);
	EXPECT_EQ(4096, seg[1].len);
}

TEST_F(mem, xlate_enobufs)
{
	struct pvring_seg seg[1];

	EXPECT_EQ(-ENOBUFS, pvring_mem_xlate(&self->mem, GPA_B - 10, 30, seg, 1));
	EXPECT_EQ(-ENOBUFS, pvring_mem_xlate(&self->mem, GPA_A, 1, seg, 0));
	EXPECT_EQ(1, pvring_mem_xlate(&self->mem, GPA_A, 1, seg, 1));
}

TEST_F(mem, xlate_efault)
{
	struct pvring_seg seg[4];

	/* Outside every region. */
	EXPECT_EQ(-EFAULT, pvring_mem_xlate(&self->mem, 0, 1, seg, 4));
	EXPECT_EQ(-EFAULT, pvring_mem_xlate(&self->mem, GPA_C - 1, 1, seg, 4));
	/* Runs off the end of B into the hole. */
	EXPECT_EQ(-EFAULT, pvring_mem_xlate(&self->mem, GPA_B + 4000, 97, seg, 4));
	EXPECT_EQ(-EFAULT, pvring_mem_xlate(&self->mem, GPA_C + 4095, 2, seg, 4));
	/* A descriptor length of 2^32 - 1. */
	EXPECT_EQ(-EFAULT, pvring_mem_xlate(&self->mem, GPA_A, 0xffffffffULL, seg, 4));
	/* Wraps the 64-bit space, even though both ends are mapped. */
	EXPECT_EQ(-EFAULT, pvring_mem_xlate(&self->mem, ~0ULL, 2, seg, 4));
	EXPECT_EQ(-EFAULT, pvring_mem_xlate(&self->mem, GPA_TOP, 4096 + GPA_A + 1, seg, 4));
	/* The last byte of the address space is fine. */
	ASSERT_EQ(1, pvring_mem_xlate(&self->mem, ~0ULL, 1, seg, 4));
	EXPECT_EQ((void *)(self->top + 4095), seg[0].base);
}

TEST_F(mem, ptr)
{
	EXPECT_EQ((void *)(self->a + 16), pvring_mem_ptr(&self->mem, GPA_A + 16, 64));
	EXPECT_EQ((void *)self->c, pvring_mem_ptr(&self->mem, GPA_C, 4096));
	/* Structures must lie in one region: no straddling, even of adjacent ones. */
	EXPECT_EQ(NULL, pvring_mem_ptr(&self->mem, GPA_B - 8, 16));
	EXPECT_EQ(NULL, pvring_mem_ptr(&self->mem, GPA_C, 4097));
	EXPECT_EQ(NULL, pvring_mem_ptr(&self->mem, GPA_C, 0));
	EXPECT_EQ(NULL, pvring_mem_ptr(&self->mem, 0x50, 16));
	EXPECT_EQ(NULL, pvring_mem_ptr(&self->mem, ~0ULL, 2));
	EXPECT_EQ(NULL, pvring_mem_ptr(&self->mem, GPA_A, ~0ULL));
}

TEST(mem_empty_table)
{
	struct pvring_mem mem = { .nregions = 0 };
	struct pvring_seg seg[1];

	EXPECT_EQ(-EFAULT, pvring_mem_xlate(&mem, 0, 1, seg, 1));
	EXPECT_EQ(NULL, pvring_mem_ptr(&mem, 0, 1));
}

/* virtio 1.2 §2.7.10: notify when event lies in [old, new), modulo 2^16. */
TEST(need_event_edges)
{
	/* Nothing moved: never. */
	EXPECT_FALSE(pvring_need_event(5, 5, 5));
	EXPECT_FALSE(pvring_need_event(0, 0, 0));
	/* event == old: the first step crosses it. */
	EXPECT_TRUE(pvring_need_event(5, 6, 5));
	/* event == new - 1: the last step crosses it. */
	EXPECT_TRUE(pvring_need_event(9, 10, 5));
	/* event == new: not crossed yet. */
	EXPECT_FALSE(pvring_need_event(10, 10, 5));
	/* event before old: the other side was already told. */
	EXPECT_FALSE(pvring_need_event(4, 10, 5));
	/* Far ahead. */
	EXPECT_FALSE(pvring_need_event(1000, 10, 5));
	/* Across the wrap: old 65534, new 2 covers 65534, 65535, 0, 1. */
	EXPECT_TRUE(pvring_need_event(65534, 2, 65534));
	EXPECT_TRUE(pvring_need_event(65535, 2, 65534));
	EXPECT_TRUE(pvring_need_event(0, 2, 65534));
	EXPECT_TRUE(pvring_need_event(1, 2, 65534));
	EXPECT_FALSE(pvring_need_event(2, 2, 65534));
	EXPECT_FALSE(pvring_need_event(65533, 2, 65534));
	/* One step over the wrap. */
	EXPECT_TRUE(pvring_need_event(65535, 0, 65535));
	EXPECT_FALSE(pvring_need_event(0, 0, 65535));
	/* A full 65535-wide window: everything except new itself. */
	EXPECT_TRUE(pvring_need_event(7, 6, 7));
	EXPECT_TRUE(pvring_need_event(5, 6, 7));
	EXPECT_FALSE(pvring_need_event(6, 6, 7));
}

/* Exhaustive for one window over the wrap, against a plain model. */
TEST(need_event_model)
{
	unsigned int e, w, bad = 0;
	const u16 old = 65530;

	for (w = 0; w < 20; w++) {
		u16 new_idx = (u16)(old + w);

		for (e = 0; e < 65536; e++) {
			bool model = (u16)(e - old) < w;

			if (pvring_need_event((u16)e, new_idx, old) != model)
				bad++;
		}
	}
	EXPECT_EQ(0, bad);
}

/*
 * The packed sequence numbers: position, wrap counter and off_wrap agree
 * with a side that counts descriptors and flips its counter (from 1) at
 * the end of the ring, across the u16 wrap, for every size.
 */
TEST(packed_seq_model)
{
	unsigned int num, i;

	for (num = 1; num <= PVRING_MAX_SIZE; num <<= 1) {
		unsigned int pos = 0, wrap = 1, step = num > 64 ? 61 : 1;
		u16 seq = 0;

		for (i = 0; i < 3 * 65536u; i += step) {
			u16 ub, ab;
			unsigned int k;

			/* Advance the model to sequence number i. */
			for (k = seq; k != (i & 0xffff); k = (k + 1) & 0xffff) {
				if (++pos == num) {
					pos = 0;
					wrap ^= 1;
				}
			}
			seq = (u16)i;
			ub = pvring_packed_used_bits(seq, num);
			ab = pvring_packed_avail_bits(seq, num);
			ASSERT_EQ(pos, seq & (num - 1));
			ASSERT_EQ(wrap, pvring_packed_wrap(seq, num))
			TH_LOG("num %u seq %u", num, i);
			ASSERT_EQ(pos | wrap << 15, pvring_packed_off_wrap(seq, num));
			/* off_wrap back to a sequence number: the same modulo 2 * num. */
			k = pvring_packed_seq(pvring_packed_off_wrap(seq, num), num);
			ASSERT_EQ(seq & (2 * num - 1), k & (2 * num - 1));
			ASSERT_EQ(wrap ? PVRING_DESC_F_AVAIL : PVRING_DESC_F_USED, ab);
			ASSERT_TRUE(pvring_packed_is_used(ub, seq, num));
			ASSERT_FALSE(pvring_packed_is_avail(ub, seq, num));
			ASSERT_TRUE(pvring_packed_is_avail(ab, seq, num));
		}
		/* An offset past the ring is no sequence number (32768 has none). */
		if (num < PVRING_MAX_SIZE)
			EXPECT_EQ(-1, pvring_packed_seq((u16)num, num));
	}
}

/*
 * pvring_packed_need_event against a brute-force model: the event is
 * crossed when one of the descriptors old_seq..new_seq - 1 has its
 * off_wrap (and more than num since the last decision always is), for
 * every event of small rings and every distance up to the ring, at
 * several points of the u16 range.
 */
TEST(packed_need_event_model)
{
	static const unsigned int nums[] = { 1, 2, 4, 8, 64 };
	static const u16 starts[] = { 0, 1, 100, 65500, 65535 };
	unsigned int a, b, dist, ev, i;

	for (a = 0; a < sizeof(nums) / sizeof(nums[0]); a++) {
		unsigned int num = nums[a];

		for (b = 0; b < sizeof(starts) / sizeof(starts[0]); b++) {
			for (dist = 0; dist <= num + 1; dist++) {
				u16 old_seq = starts[b], new_seq = (u16)(old_seq + dist);

				for (ev = 0; ev < 0x10000;
				     ev += (ev & 0x7fff) < num ? 1 : 0x8000 - num) {
					bool want = dist >= num;

					for (i = 0; i < dist && !want; i++)
						want = pvring_packed_off_wrap((u16)(old_seq + i),
									      num) == ev;
					ASSERT_EQ(want, pvring_packed_need_event((u16)ev, new_seq,
										 old_seq, num))
					TH_LOG("num %u old %u new %u event %#x", num, old_seq,
					       new_seq, ev);
				}
			}
		}
	}
	/* An offset out of range is never reached (below the ring's size). */
	EXPECT_FALSE(pvring_packed_need_event(8, 3, 1, 8));
}

TEST(size_valid)
{
	unsigned int n, valid = 0;

	for (n = 0; n <= 65536 * 2; n++) {
		bool pow2 = n && !(n & (n - 1));

		/*
		 * clang-format off/on around an assert with a chained TH_LOG(): clang-format
		 * would start TH_LOG() on a line of its own, as if it were a statement apart
		 * from the assert.
		 */
		/* clang-format off */
		ASSERT_EQ(pow2 && n <= 32768, pvring_size_valid(n))
			TH_LOG("size %u", n);
		/* clang-format on */
		valid += pvring_size_valid(n);
	}
	EXPECT_EQ(16, valid); /* 1, 2, 4 ... 32768 */
	EXPECT_FALSE(pvring_size_valid(0));
	EXPECT_FALSE(pvring_size_valid(3));
	EXPECT_FALSE(pvring_size_valid(65536));
	EXPECT_FALSE(pvring_size_valid(~0u));
}

TEST(layout)
{
	struct pvring_avail *avail;
	struct pvring_used *used;
	u8 buf[4 + 8 * 256 + 2];

	EXPECT_EQ(16 * 256, pvring_desc_bytes(256));
	EXPECT_EQ(4 + 2 * 256 + 2, pvring_avail_bytes(256));
	EXPECT_EQ(4 + 8 * 256 + 2, pvring_used_bytes(256));
	EXPECT_EQ(16 * 32768, pvring_desc_bytes(32768));
	EXPECT_EQ(4 + 2 + 2, pvring_avail_bytes(1));
	EXPECT_EQ(4 + 8 + 2, pvring_used_bytes(1));
	/* The event fields sit right after the last ring entry. */
	avail = (void *)buf;
	used = (void *)buf;
	EXPECT_EQ(buf + 4 + 2 * 256, (u8 *)pvring_used_event(avail, 256));
	EXPECT_EQ(buf + 4 + 8 * 256, (u8 *)pvring_avail_event(used, 256));
	EXPECT_EQ(0, offsetof(struct pvring_desc, addr));
	EXPECT_EQ(8, offsetof(struct pvring_desc, len));
	EXPECT_EQ(12, offsetof(struct pvring_desc, flags));
	EXPECT_EQ(14, offsetof(struct pvring_desc, next));
	EXPECT_EQ(2, offsetof(struct pvring_avail, idx));
	EXPECT_EQ(2, offsetof(struct pvring_used, idx));
	EXPECT_EQ(4, offsetof(struct pvring_used_elem, len));
}

TEST_HARNESS_MAIN
