// SPDX-License-Identifier: GPL-2.0
/*
 * ring_dev_test.c - the device side of the split ring (pvring_dev.h/.c)
 * against a hostile driver: every descriptor is written by hand into the
 * shared table, and each malformed chain must give its exact error, leave
 * the ring usable (or broken, for a bad head or index), and never crash.
 */
#include "kselftest_harness.h"

#include "ring_test.h"

#define POOL (64 << 10)
#define NSEG 16

FIXTURE(dev)
{
	struct tring t;
	struct pvring_seg seg[NSEG];
	struct pvring_chain c;
	struct pvring_desc *itab; /* a host view of the indirect region */
	u64 itab_gpa;
};

FIXTURE_VARIANT(dev)
{
	unsigned int num;
	bool event_idx;
	bool indirect;
	u16 start;
};

/* clang-format would glue the brace to the macro, which checkpatch rejects. */
/* clang-format off */
FIXTURE_VARIANT_ADD(dev, n4) { .num = 4, .start = 65534 };
FIXTURE_VARIANT_ADD(dev, n4_ind) { .num = 4, .indirect = true };
FIXTURE_VARIANT_ADD(dev, n16_ev_ind) { .num = 16, .event_idx = true, .indirect = true,
				       .start = 65530 };
FIXTURE_VARIANT_ADD(dev, n1024_ev) { .num = 1024, .event_idx = true };
/* clang-format on */

FIXTURE_SETUP(dev)
{
	ASSERT_EQ(0, tring_init(&self->t, variant->num, variant->event_idx,
				variant->indirect ? 8 : 0, POOL));
	if (variant->start)
		tring_start_at(&self->t, variant->start);
	/* Hand-made indirect tables live in the indirect region. */
	self->itab = self->t.ind;
	self->itab_gpa = TRING_IND_GPA;
}

FIXTURE_TEARDOWN(dev)
{
	tring_fini(&self->t);
}

/*
 * Pop, expecting @err with the head still to be completed, ring not broken.
 * struct _test_data_dev is FIXTURE_DATA(dev) spelled out: as a parameter type,
 * checkpatch and clang-format read the macro as a multiplication.
 */
static void expect_bad_chain(struct __test_metadata *_metadata, struct _test_data_dev *self,
			     u16 head, int err)
{
	struct tring *t = &self->t;
	u16 avail = le16_to_cpu(t->avail->idx);

	tring_avail_put(t, head);
	EXPECT_EQ(err, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
	EXPECT_TRUE(self->c.head_valid);
	EXPECT_EQ(head, self->c.head);
	EXPECT_FALSE(pvring_dev_broken(&t->dev));
	/* The entry was consumed: the ring moves on. */
	EXPECT_EQ((u16)(avail + 1), pvring_dev_base(&t->dev));
	EXPECT_EQ(0, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
	/* It can be completed with an error, and a good chain still works. */
	pvring_dev_push_used(&t->dev, head, 0);
	tring_desc_set(t, NULL, 0, tring_gpa(t, 0), 8, 0, 0);
	tring_avail_put(t, 0);
	EXPECT_EQ(1, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
	EXPECT_EQ(1, self->c.nseg);
}

TEST_F(dev, pop_empty)
{
	EXPECT_EQ(0, pvring_dev_avail(&self->t.dev));
	EXPECT_EQ(0, pvring_dev_pop(&self->t.dev, &self->c, self->seg, NSEG));
	EXPECT_FALSE(self->c.head_valid);
}

TEST_F(dev, pop_mixed_chain)
{
	struct tring *t = &self->t;

	tring_desc_set(t, NULL, 2, tring_gpa(t, 0), 10, PVRING_DESC_F_NEXT, 0);
	tring_desc_set(t, NULL, 0, tring_gpa(t, 100), 20, PVRING_DESC_F_NEXT, 3);
	tring_desc_set(t, NULL, 3, tring_gpa(t, 200), 30, PVRING_DESC_F_WRITE | PVRING_DESC_F_NEXT,
		       1);
	tring_desc_set(t, NULL, 1, tring_gpa(t, 300), 40, PVRING_DESC_F_WRITE, 0);
	tring_avail_put(t, 2);
	EXPECT_EQ(1, pvring_dev_avail(&t->dev));
	ASSERT_EQ(1, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
	EXPECT_EQ(2, self->c.head);
	EXPECT_TRUE(self->c.head_valid);
	EXPECT_EQ(4, self->c.nseg);
	EXPECT_EQ(2, self->c.nout);
	EXPECT_EQ(30, self->c.out_len);
	EXPECT_EQ(70, self->c.in_len);
	EXPECT_EQ(tring_hva(t, 0), self->seg[0].base);
	EXPECT_EQ(tring_hva(t, 100), self->seg[1].base);
	EXPECT_EQ(tring_hva(t, 200), self->seg[2].base);
	EXPECT_EQ(40, self->seg[3].len);
}

TEST_F(dev, pop_longest_chain)
{
	struct tring *t = &self->t;
	unsigned int i;

	/*
	 * A chain through every descriptor is legal (bad_overlong: one more is
	 * a loop).  Zero-length beyond NSEG so the segments do not run out.
	 */
	for (i = 0; i < t->num; i++)
		tring_desc_set(t, NULL, i, tring_gpa(t, i), i < NSEG ? 1 : 0,
			       i + 1 < t->num ? PVRING_DESC_F_NEXT : 0, (u16)(i + 1));
	tring_avail_put(t, 0);
	ASSERT_EQ(1, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
	EXPECT_EQ(t->num < NSEG ? t->num : NSEG, self->c.nseg);
	EXPECT_EQ(self->c.nseg, self->c.out_len);
}

/* The chain says how many buffers the driver described and the longest. */
TEST_F(dev, pop_counts_buffers)
{
	struct tring *t = &self->t;

	if (t->num < 3)
		SKIP(return, "needs 3 descriptors");
	tring_desc_set(t, NULL, 0, tring_gpa(t, 0), 16, PVRING_DESC_F_NEXT, 1);
	tring_desc_set(t, NULL, 1, tring_gpa(t, 64), 0, PVRING_DESC_F_NEXT, 2);
	tring_desc_set(t, NULL, 2, tring_gpa(t, 128), 700, PVRING_DESC_F_WRITE, 0);
	tring_avail_put(t, 0);
	ASSERT_EQ(1, pvring_dev_pop(&t->dev, &self->c, self->seg, 4));
	EXPECT_EQ(3, self->c.ndesc);
	EXPECT_EQ(2, self->c.nseg); /* the empty buffer translates to nothing */
	EXPECT_EQ(700, self->c.max_len);
}

TEST_F(dev, pop_too_many_segments)
{
	struct tring *t = &self->t;
	unsigned int i;

	if (t->num < 4)
		SKIP(return, "needs 4 descriptors");
	for (i = 0; i < 4; i++)
		tring_desc_set(t, NULL, i, tring_gpa(t, 64 * i), 8, i < 3 ? PVRING_DESC_F_NEXT : 0,
			       (u16)(i + 1));
	tring_avail_put(t, 0);
	EXPECT_EQ(-ENOBUFS, pvring_dev_pop(&t->dev, &self->c, self->seg, 3));
	EXPECT_TRUE(self->c.head_valid);
	EXPECT_FALSE(pvring_dev_broken(&t->dev));
}

TEST_F(dev, bad_addr_outside_memory)
{
	tring_desc_set(&self->t, NULL, 1, 0x1000, 8, 0, 0);
	expect_bad_chain(_metadata, self, 1, -EFAULT);
}

TEST_F(dev, bad_addr_runs_off_memory)
{
	tring_desc_set(&self->t, NULL, 1, tring_gpa(&self->t, POOL - 4), 8, 0, 0);
	expect_bad_chain(_metadata, self, 1, -EFAULT);
}

TEST_F(dev, bad_len_max)
{
	tring_desc_set(&self->t, NULL, 1, tring_gpa(&self->t, 0), 0xffffffffu, 0, 0);
	expect_bad_chain(_metadata, self, 1, -EFAULT);
}

TEST_F(dev, bad_addr_wraps)
{
	tring_desc_set(&self->t, NULL, 1, ~0ULL - 3, 8, PVRING_DESC_F_WRITE, 0);
	expect_bad_chain(_metadata, self, 1, -EFAULT);
}

/* Zero-length descriptors are legal and translate to nothing, wherever they point. */
TEST_F(dev, zero_len)
{
	struct tring *t = &self->t;

	tring_desc_set(t, NULL, 1, 0xdeadbeef000ULL, 0, PVRING_DESC_F_NEXT, 0);
	tring_desc_set(t, NULL, 0, tring_gpa(t, 0), 0, PVRING_DESC_F_WRITE, 0);
	tring_avail_put(t, 1);
	ASSERT_EQ(1, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
	EXPECT_EQ(0, self->c.nseg);
	EXPECT_EQ(0, self->c.nout);
	EXPECT_EQ(0, self->c.out_len);
	EXPECT_EQ(0, self->c.in_len);
}

TEST_F(dev, bad_loop)
{
	struct tring *t = &self->t;

	if (t->num < 2)
		SKIP(return, "needs 2 descriptors");
	/* Zero-length: only the count stops the walk, not the segment space. */
	tring_desc_set(t, NULL, 1, tring_gpa(t, 0), 0, PVRING_DESC_F_NEXT, 2);
	tring_desc_set(t, NULL, 2, tring_gpa(t, 8), 0, PVRING_DESC_F_NEXT, 1);
	expect_bad_chain(_metadata, self, 1, -ELOOP);
	/* With lengths, a short loop is caught before the segments run out. */
	tring_desc_set(t, NULL, 1, tring_gpa(t, 0), 8, PVRING_DESC_F_NEXT, 2);
	tring_desc_set(t, NULL, 2, tring_gpa(t, 8), 8, PVRING_DESC_F_NEXT, 1);
	expect_bad_chain(_metadata, self, 1, t->num <= NSEG ? -ELOOP : -ENOBUFS);
}

TEST_F(dev, bad_self_loop)
{
	tring_desc_set(&self->t, NULL, 1, tring_gpa(&self->t, 0), 0, PVRING_DESC_F_NEXT, 1);
	expect_bad_chain(_metadata, self, 1, -ELOOP);
}

/* num descriptors all chained, the last pointing back: one longer than the table. */
TEST_F(dev, bad_overlong)
{
	struct tring *t = &self->t;
	unsigned int i;

	for (i = 0; i < t->num; i++)
		tring_desc_set(t, NULL, i, tring_gpa(t, 0), 0, PVRING_DESC_F_NEXT,
			       (u16)((i + 1) % t->num));
	expect_bad_chain(_metadata, self, 0, -ELOOP);
}

TEST_F(dev, bad_next_out_of_range)
{
	struct tring *t = &self->t;

	tring_desc_set(t, NULL, 1, tring_gpa(t, 0), 8, PVRING_DESC_F_NEXT, (u16)t->num);
	expect_bad_chain(_metadata, self, 1, -EINVAL);
	tring_desc_set(t, NULL, 1, tring_gpa(t, 0), 8, PVRING_DESC_F_NEXT, 0xffff);
	expect_bad_chain(_metadata, self, 1, -EINVAL);
}

TEST_F(dev, bad_readable_after_writable)
{
	struct tring *t = &self->t;

	tring_desc_set(t, NULL, 1, tring_gpa(t, 0), 8, PVRING_DESC_F_WRITE | PVRING_DESC_F_NEXT, 2);
	tring_desc_set(t, NULL, 2, tring_gpa(t, 8), 8, 0, 0);
	expect_bad_chain(_metadata, self, 1, -EINVAL);
}

TEST_F(dev, bad_head_out_of_range)
{
	struct tring *t = &self->t;

	tring_avail_put(t, (u16)t->num);
	EXPECT_EQ(-EIO, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
	EXPECT_FALSE(self->c.head_valid);
	EXPECT_TRUE(pvring_dev_broken(&t->dev));
	/* Broken for good, even with a good chain behind it. */
	tring_desc_set(t, NULL, 0, tring_gpa(t, 0), 8, 0, 0);
	tring_avail_put(t, 0);
	EXPECT_EQ(-EIO, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
	EXPECT_EQ(-EIO, pvring_dev_avail(&t->dev));
	EXPECT_FALSE(pvring_dev_enable_notify(&t->dev));
}

TEST_F(dev, avail_idx_jump)
{
	struct tring *t = &self->t;
	u16 idx = le16_to_cpu(t->avail->idx);

	pvring_store_release(&t->avail->idx, cpu_to_le16((u16)(idx + t->num + 1)));
	EXPECT_EQ(-EIO, pvring_dev_avail(&t->dev));
	EXPECT_TRUE(pvring_dev_broken(&t->dev));
	EXPECT_EQ(-EIO, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
	/* Back to a sane value: still broken. */
	pvring_store_release(&t->avail->idx, cpu_to_le16(idx));
	EXPECT_EQ(-EIO, pvring_dev_avail(&t->dev));
	EXPECT_EQ(-EIO, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
}

TEST_F(dev, avail_idx_backwards)
{
	struct tring *t = &self->t;
	u16 idx = le16_to_cpu(t->avail->idx);

	pvring_store_release(&t->avail->idx, cpu_to_le16((u16)(idx - 1)));
	EXPECT_EQ(-EIO, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
	EXPECT_TRUE(pvring_dev_broken(&t->dev));
}

/* Exactly num new entries is a full ring, not a jump. */
TEST_F(dev, avail_idx_full)
{
	struct tring *t = &self->t;
	unsigned int i;

	tring_desc_set(t, NULL, 0, tring_gpa(t, 0), 8, 0, 0);
	for (i = 0; i < t->num; i++)
		tring_avail_put(t, 0);
	EXPECT_EQ(t->num, pvring_dev_avail(&t->dev));
	for (i = 0; i < t->num; i++)
		ASSERT_EQ(1, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
	EXPECT_EQ(0, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
	EXPECT_FALSE(pvring_dev_broken(&t->dev));
}

/* Indirect tables from a hostile driver. */
TEST_F(dev, indirect_ok)
{
	struct tring *t = &self->t;

	if (!t->indirect)
		SKIP(return, "indirect not negotiated");
	tring_desc_set(t, self->itab, 0, tring_gpa(t, 0), 16, PVRING_DESC_F_NEXT, 2);
	tring_desc_set(t, self->itab, 2, tring_gpa(t, 64), 32, PVRING_DESC_F_WRITE, 0);
	/* WRITE on the descriptor naming the table is ignored (§2.7.5.3.2). */
	tring_desc_set(t, NULL, 1, self->itab_gpa, 3 * 16,
		       PVRING_DESC_F_INDIRECT | PVRING_DESC_F_WRITE, 0);
	tring_avail_put(t, 1);
	ASSERT_EQ(1, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
	EXPECT_EQ(1, self->c.head);
	EXPECT_EQ(2, self->c.nseg);
	EXPECT_EQ(1, self->c.nout);
	EXPECT_EQ(16, self->c.out_len);
	EXPECT_EQ(32, self->c.in_len);
	EXPECT_EQ(tring_hva(t, 64), self->seg[1].base);
}

TEST_F(dev, bad_indirect_not_negotiated)
{
	struct tring *t = &self->t;

	if (t->indirect)
		SKIP(return, "indirect negotiated");
	tring_desc_set(t, NULL, 1, tring_gpa(t, 0), 16, PVRING_DESC_F_INDIRECT, 0);
	expect_bad_chain(_metadata, self, 1, -EINVAL);
}

TEST_F(dev, bad_indirect_in_indirect)
{
	struct tring *t = &self->t;

	if (!t->indirect)
		SKIP(return, "indirect not negotiated");
	tring_desc_set(t, self->itab, 0, tring_gpa(t, 0), 16, PVRING_DESC_F_NEXT, 1);
	tring_desc_set(t, self->itab, 1, self->itab_gpa, 32, PVRING_DESC_F_INDIRECT, 0);
	tring_desc_set(t, NULL, 1, self->itab_gpa, 2 * 16, PVRING_DESC_F_INDIRECT, 0);
	expect_bad_chain(_metadata, self, 1, -EINVAL);
}

TEST_F(dev, bad_indirect_with_next)
{
	struct tring *t = &self->t;

	if (!t->indirect)
		SKIP(return, "indirect not negotiated");
	tring_desc_set(t, self->itab, 0, tring_gpa(t, 0), 16, 0, 0);
	tring_desc_set(t, NULL, 2, tring_gpa(t, 0), 8, 0, 0);
	tring_desc_set(t, NULL, 1, self->itab_gpa, 16, PVRING_DESC_F_INDIRECT | PVRING_DESC_F_NEXT,
		       2);
	expect_bad_chain(_metadata, self, 1, -EINVAL);
}

TEST_F(dev, bad_indirect_len)
{
	struct tring *t = &self->t;
	static const u32 lens[] = { 0, 1, 15, 17, 24, 0xfffffff0u };
	static const int errs[] = { -EINVAL, -EINVAL, -EINVAL, -EINVAL, -EINVAL, -EINVAL };
	unsigned int i;

	if (!t->indirect)
		SKIP(return, "indirect not negotiated");
	tring_desc_set(t, self->itab, 0, tring_gpa(t, 0), 16, 0, 0);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		tring_desc_set(t, NULL, 1, self->itab_gpa, lens[i], PVRING_DESC_F_INDIRECT, 0);
		expect_bad_chain(_metadata, self, 1, errs[i]);
	}
	/* A multiple of 16 but beyond the 32768-entry limit. */
	tring_desc_set(t, NULL, 1, self->itab_gpa, 32769 * 16, PVRING_DESC_F_INDIRECT, 0);
	expect_bad_chain(_metadata, self, 1, -EINVAL);
	/* A multiple of 16 that runs off the indirect region. */
	tring_desc_set(t, NULL, 1, self->itab_gpa, (u32)t->mem.region[1].size + 16,
		       PVRING_DESC_F_INDIRECT, 0);
	expect_bad_chain(_metadata, self, 1, -EFAULT);
}

TEST_F(dev, bad_indirect_outside_memory)
{
	struct tring *t = &self->t;

	if (!t->indirect)
		SKIP(return, "indirect not negotiated");
	tring_desc_set(t, NULL, 1, 0x2000, 16, PVRING_DESC_F_INDIRECT, 0);
	expect_bad_chain(_metadata, self, 1, -EFAULT);
	tring_desc_set(t, NULL, 1, ~0ULL - 15, 16, PVRING_DESC_F_INDIRECT, 0);
	expect_bad_chain(_metadata, self, 1, -EFAULT);
	/* Misaligned: the table is read as 8-byte fields. */
	tring_desc_set(t, NULL, 1, self->itab_gpa + 4, 16, PVRING_DESC_F_INDIRECT, 0);
	expect_bad_chain(_metadata, self, 1, -EINVAL);
}

TEST_F(dev, bad_indirect_entries)
{
	struct tring *t = &self->t;

	if (!t->indirect)
		SKIP(return, "indirect not negotiated");
	tring_desc_set(t, NULL, 1, self->itab_gpa, 2 * 16, PVRING_DESC_F_INDIRECT, 0);
	/* next beyond the table (which has 2 entries, the ring 4 or more). */
	tring_desc_set(t, self->itab, 0, tring_gpa(t, 0), 16, PVRING_DESC_F_NEXT, 2);
	expect_bad_chain(_metadata, self, 1, -EINVAL);
	/* A loop inside the table. */
	tring_desc_set(t, self->itab, 0, tring_gpa(t, 0), 16, PVRING_DESC_F_NEXT, 1);
	tring_desc_set(t, self->itab, 1, tring_gpa(t, 0), 16, PVRING_DESC_F_NEXT, 0);
	tring_desc_set(t, NULL, 1, self->itab_gpa, 2 * 16, PVRING_DESC_F_INDIRECT, 0);
	expect_bad_chain(_metadata, self, 1, -ELOOP);
	/* Bad address inside the table. */
	tring_desc_set(t, self->itab, 0, 0x10, 16, 0, 0);
	expect_bad_chain(_metadata, self, 1, -EFAULT);
	/* Readable after writable inside the table. */
	tring_desc_set(t, self->itab, 0, tring_gpa(t, 0), 16,
		       PVRING_DESC_F_WRITE | PVRING_DESC_F_NEXT, 1);
	tring_desc_set(t, self->itab, 1, tring_gpa(t, 0), 16, 0, 0);
	expect_bad_chain(_metadata, self, 1, -EINVAL);
}

/* Used ring: puts stay invisible until published, then appear at once. */
TEST_F(dev, put_publish)
{
	struct tring *t = &self->t;
	u16 idx = le16_to_cpu(t->used->idx);
	unsigned int i, n = t->num < 4 ? t->num : 4;

	for (i = 0; i < n; i++)
		pvring_dev_put(&t->dev, (u16)(n - 1 - i), 10 * i);
	EXPECT_EQ(n, pvring_dev_staged(&t->dev));
	EXPECT_EQ(idx, le16_to_cpu(t->used->idx));
	pvring_dev_publish(&t->dev);
	EXPECT_EQ(0, pvring_dev_staged(&t->dev));
	EXPECT_EQ((u16)(idx + n), le16_to_cpu(t->used->idx));
	for (i = 0; i < n; i++) {
		struct pvring_used_elem *u = &t->used->ring[(u16)(idx + i) & (t->num - 1)];

		EXPECT_EQ(n - 1 - i, le32_to_cpu(u->id));
		EXPECT_EQ(10 * i, le32_to_cpu(u->len));
	}
	pvring_dev_push_used(&t->dev, 3, 77);
	EXPECT_EQ((u16)(idx + n + 1), le16_to_cpu(t->used->idx));
	EXPECT_EQ(77, le32_to_cpu(t->used->ring[(u16)(idx + n) & (t->num - 1)].len));
}

/* An element put and taken back before the publish is never seen. */
TEST_F(dev, unput)
{
	struct tring *t = &self->t;
	u16 idx = le16_to_cpu(t->used->idx);

	if (t->num < 2)
		SKIP(return, "needs two entries");
	pvring_dev_put(&t->dev, 1, 11);
	pvring_dev_put(&t->dev, 0, 22);
	pvring_dev_unput(&t->dev, 1);
	EXPECT_EQ(1, pvring_dev_staged(&t->dev));
	pvring_dev_put(&t->dev, 0, 33);
	pvring_dev_publish(&t->dev);
	EXPECT_EQ((u16)(idx + 2), le16_to_cpu(t->used->idx));
	EXPECT_EQ(11, le32_to_cpu(t->used->ring[idx & (t->num - 1)].len));
	EXPECT_EQ(33, le32_to_cpu(t->used->ring[(u16)(idx + 1) & (t->num - 1)].len));
	/* All taken back: the index does not move. */
	pvring_dev_put(&t->dev, 1, 44);
	pvring_dev_unput(&t->dev, 1);
	pvring_dev_publish(&t->dev);
	EXPECT_EQ((u16)(idx + 2), le16_to_cpu(t->used->idx));
}

/* Chains given back are popped again, the same ones in the same order. */
TEST_F(dev, unpop)
{
	struct tring *t = &self->t;
	struct pvring_seg seg[4];
	struct pvring_chain c;
	unsigned int i, n = t->num < 3 ? t->num : 3;
	u16 heads[3];

	for (i = 0; i < n; i++) {
		tring_desc_set(t, NULL, i, tring_gpa(t, 64 * i), 16, PVRING_DESC_F_WRITE, 0);
		tring_avail_put(t, (u16)i);
	}
	for (i = 0; i < n; i++) {
		ASSERT_EQ(1, pvring_dev_pop(&t->dev, &c, seg, 4));
		heads[i] = c.head;
	}
	EXPECT_EQ(0, pvring_dev_pop(&t->dev, &c, seg, 4));
	pvring_dev_unpop(&t->dev, n - 1);
	for (i = 1; i < n; i++) {
		ASSERT_EQ(1, pvring_dev_pop(&t->dev, &c, seg, 4));
		EXPECT_EQ(heads[i], c.head);
		EXPECT_EQ(tring_hva(t, 64 * i), (u8 *)seg[0].base);
	}
	EXPECT_EQ(0, pvring_dev_pop(&t->dev, &c, seg, 4));
	EXPECT_EQ((u16)le16_to_cpu(t->avail->idx), (u16)pvring_dev_base(&t->dev));
}

/* Device-side notification decisions, EVENT_IDX arithmetic against used_event. */
TEST_F(dev, should_notify_event_idx)
{
	struct tring *t = &self->t;
	__le16 *ue = pvring_used_event(t->avail, t->num);
	u16 base = le16_to_cpu(t->used->idx);

	if (!t->event_idx)
		SKIP(return, "EVENT_IDX only");
	/* Nothing known about the driver yet: always notify the first time. */
	*ue = cpu_to_le16((u16)(base + 100));
	pvring_dev_push_used(&t->dev, 0, 0);
	EXPECT_TRUE(pvring_dev_should_notify(&t->dev));
	/* used_event far ahead: no. */
	pvring_dev_push_used(&t->dev, 0, 0);
	EXPECT_FALSE(pvring_dev_should_notify(&t->dev));
	/* used_event == the entry just pushed (base + 2): yes. */
	*ue = cpu_to_le16((u16)(base + 2));
	pvring_dev_push_used(&t->dev, 0, 0);
	EXPECT_TRUE(pvring_dev_should_notify(&t->dev));
	/* Three pushes, then one decision: event among them. */
	*ue = cpu_to_le16((u16)(base + 4));
	pvring_dev_push_used(&t->dev, 0, 0);
	pvring_dev_push_used(&t->dev, 0, 0);
	pvring_dev_push_used(&t->dev, 0, 0);
	EXPECT_TRUE(pvring_dev_should_notify(&t->dev));
	/* No push since: no. */
	EXPECT_FALSE(pvring_dev_should_notify(&t->dev));
	/* Behind: the driver was already told. */
	*ue = cpu_to_le16((u16)(base + 3));
	pvring_dev_push_used(&t->dev, 0, 0);
	EXPECT_FALSE(pvring_dev_should_notify(&t->dev));
	/* The avail flag is ignored under EVENT_IDX. */
	t->avail->flags = cpu_to_le16(PVRING_AVAIL_F_NO_INTERRUPT);
	*ue = cpu_to_le16(le16_to_cpu(t->used->idx));
	pvring_dev_push_used(&t->dev, 0, 0);
	EXPECT_TRUE(pvring_dev_should_notify(&t->dev));
}

TEST_F(dev, should_notify_flags)
{
	struct tring *t = &self->t;

	if (t->event_idx)
		SKIP(return, "flags-based mode only");
	pvring_dev_push_used(&t->dev, 0, 0);
	EXPECT_TRUE(pvring_dev_should_notify(&t->dev));
	/* Flags mode has no history: every decision asks the flag. */
	EXPECT_TRUE(pvring_dev_should_notify(&t->dev));
	t->avail->flags = cpu_to_le16(PVRING_AVAIL_F_NO_INTERRUPT);
	pvring_dev_push_used(&t->dev, 0, 0);
	EXPECT_FALSE(pvring_dev_should_notify(&t->dev));
	/* used_event is ignored in flags mode. */
	*pvring_used_event(t->avail, t->num) = t->used->idx;
	EXPECT_FALSE(pvring_dev_should_notify(&t->dev));
}

TEST_F(dev, enable_disable_notify)
{
	struct tring *t = &self->t;
	__le16 *ae = pvring_avail_event(t->used, t->num);

	pvring_dev_disable_notify(&t->dev);
	if (!t->event_idx)
		EXPECT_EQ(PVRING_USED_F_NO_NOTIFY, le16_to_cpu(t->used->flags));
	EXPECT_TRUE(pvring_dev_enable_notify(&t->dev));
	EXPECT_EQ(0, le16_to_cpu(t->used->flags));
	if (t->event_idx)
		EXPECT_EQ(pvring_dev_base(&t->dev), le16_to_cpu(*ae));
	/* A chain arrives while notifications were off: enable sees it. */
	pvring_dev_disable_notify(&t->dev);
	tring_desc_set(t, NULL, 0, tring_gpa(t, 0), 8, 0, 0);
	tring_avail_put(t, 0);
	EXPECT_FALSE(pvring_dev_enable_notify(&t->dev));
	ASSERT_EQ(1, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
	EXPECT_TRUE(pvring_dev_enable_notify(&t->dev));
	if (t->event_idx)
		EXPECT_EQ(pvring_dev_base(&t->dev), le16_to_cpu(*ae));
}

TEST(init_invalid)
{
	static const unsigned int bad[] = { 0, 3, 12, 32769, 65535, 65536 };
	static u8 area[3][4096] __attribute__((aligned(4096)));
	struct pvring_mem mem = { .nregions = 0 };
	struct pvring_dev_config cfg;
	struct pvring_dev vr;
	unsigned int i;

	memset(&cfg, 0, sizeof(cfg));
	cfg.desc = area[0];
	cfg.driver = area[1];
	cfg.device = area[2];
	cfg.mem = &mem;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cfg.num = bad[i];
		EXPECT_EQ(-EINVAL, pvring_dev_init(&vr, &cfg)) TH_LOG("num %u", bad[i]);
	}
	for (cfg.num = 1; cfg.num <= PVRING_MAX_SIZE; cfg.num <<= 1) {
		if (cfg.num > 128)
			break; /* the areas above hold 128 used entries at most */
		EXPECT_EQ(0, pvring_dev_init(&vr, &cfg)) TH_LOG("num %u", cfg.num);
	}
	cfg.num = 4;
	cfg.desc = area[0] + 8;
	EXPECT_EQ(-EINVAL, pvring_dev_init(&vr, &cfg));
	cfg.desc = area[0];
	cfg.driver = area[1] + 1;
	EXPECT_EQ(-EINVAL, pvring_dev_init(&vr, &cfg));
	cfg.driver = area[1];
	cfg.device = area[2] + 2;
	EXPECT_EQ(-EINVAL, pvring_dev_init(&vr, &cfg));
	cfg.device = area[2];
	cfg.mem = NULL;
	EXPECT_EQ(-EINVAL, pvring_dev_init(&vr, &cfg));
	cfg.mem = &mem;
	cfg.desc = NULL;
	EXPECT_EQ(-EINVAL, pvring_dev_init(&vr, &cfg));
	/* Resume where a previous device stopped; used->idx comes from the ring. */
	cfg.desc = area[0];
	cfg.base = 65000;
	((struct pvring_used *)area[2])->idx = cpu_to_le16(64999);
	ASSERT_EQ(0, pvring_dev_init(&vr, &cfg));
	EXPECT_EQ(65000, pvring_dev_base(&vr));
	EXPECT_EQ(64999, pvring_dev_used_index(&vr));
	((struct pvring_avail *)area[1])->idx = cpu_to_le16(65002);
	EXPECT_EQ(2, pvring_dev_avail(&vr));
}

TEST_HARNESS_MAIN
