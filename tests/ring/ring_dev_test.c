// SPDX-License-Identifier: GPL-2.0
/*
 * ring_dev_test.c - the device side of the ring (pvring_dev.h/.c) against a
 * hostile driver: every descriptor is written by hand into the shared table
 * (split, fixture dev) or ring (packed, fixture pdev), and each malformed
 * chain must give its exact error, leave the ring usable (or broken, for a
 * bad head, index, id or a chain without an end), and never crash.
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
	/* Aligned in the guest, mapped 4 bytes off in the host: refused, not read. */
	tring_skew_indirect(t, 4);
	tring_desc_set(t, NULL, 1, self->itab_gpa, 16, PVRING_DESC_F_INDIRECT, 0);
	expect_bad_chain(_metadata, self, 1, -EINVAL);
	tring_skew_indirect(t, 0);
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

/*
 * The packed ring (§2.8) against a hostile driver.  Positions are sequence
 * numbers from where the ring starts (pvring_packed.h): P(i) is the i-th
 * descriptor from the start, whose AVAIL/USED bits depend on its lap.
 */
FIXTURE(pdev)
{
	struct tring t;
	struct pvring_seg seg[NSEG];
	struct pvring_chain c;
	struct pvring_desc_packed *itab; /* a host view of the indirect region */
	u16 start;
};

FIXTURE_VARIANT(pdev)
{
	unsigned int num;
	bool event_idx;
	bool indirect;
	u16 start;
};

/* clang-format off */
FIXTURE_VARIANT_ADD(pdev, n4) { .num = 4 };
FIXTURE_VARIANT_ADD(pdev, n4_ind_lap) { .num = 4, .indirect = true, .start = 6 };
FIXTURE_VARIANT_ADD(pdev, n16_ev_ind_wrap) { .num = 16, .event_idx = true, .indirect = true,
					     .start = 65530 };
FIXTURE_VARIANT_ADD(pdev, n1024_ev) { .num = 1024, .event_idx = true, .start = 1020 };
/* clang-format on */

FIXTURE_SETUP(pdev)
{
	ASSERT_EQ(0, tring_init_fmt(&self->t, PVRING_PACKED, variant->num, variant->event_idx,
				    variant->indirect ? 8 : 0, POOL));
	if (variant->start)
		tring_start_at(&self->t, variant->start);
	self->start = variant->start;
	self->itab = (struct pvring_desc_packed *)self->t.ind;
}

FIXTURE_TEARDOWN(pdev)
{
	tring_fini(&self->t);
}

#define P(i) ((u16)(self->start + (i)))

/* Hostile driver: descriptor P(@i), made available for its lap plus @flags. */
static void pput(struct _test_data_pdev *self, unsigned int i, size_t off, u32 len, u16 id,
		 u16 flags)
{
	struct tring *t = &self->t;

	tring_pdesc_set(t, NULL, P(i) & (t->num - 1), tring_gpa(t, off), len, id,
			flags | tring_pavail(t, P(i)));
}

/* The same, with the AVAIL/USED bits given rather than right. */
static void pput_bits(struct _test_data_pdev *self, unsigned int i, u16 id, u16 flags)
{
	struct tring *t = &self->t;

	tring_pdesc_set(t, NULL, P(i) & (t->num - 1), tring_gpa(t, 0), 8, id, flags);
}

/* Pop expecting @err, the chain consumed (head @id valid), the ring not broken. */
static void pexpect_bad(struct __test_metadata *_metadata, struct _test_data_pdev *self, u16 id,
			int err)
{
	struct tring *t = &self->t;

	EXPECT_EQ(err, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
	EXPECT_TRUE(self->c.head_valid);
	EXPECT_EQ(id, self->c.head);
	EXPECT_FALSE(pvring_dev_broken(&t->dev));
	pvring_dev_push_used(&t->dev, id, 0);
}

/* Pop expecting the ring to break. */
static void pexpect_broken(struct __test_metadata *_metadata, struct _test_data_pdev *self)
{
	struct tring *t = &self->t;

	EXPECT_EQ(-EIO, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
	EXPECT_FALSE(self->c.head_valid);
	EXPECT_TRUE(pvring_dev_broken(&t->dev));
	EXPECT_EQ(-EIO, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
	EXPECT_EQ(-EIO, pvring_dev_avail(&t->dev));
	EXPECT_FALSE(pvring_dev_enable_notify(&t->dev));
}

TEST_F(pdev, pop_empty)
{
	EXPECT_EQ(0, pvring_dev_avail(&self->t.dev));
	EXPECT_EQ(0, pvring_dev_pop(&self->t.dev, &self->c, self->seg, NSEG));
	EXPECT_FALSE(self->c.head_valid);
}

/* A chain of four, the id in the last descriptor (the others say otherwise). */
TEST_F(pdev, pop_mixed_chain)
{
	struct tring *t = &self->t;

	pput(self, 3, 300, 40, 2, PVRING_DESC_F_WRITE);
	pput(self, 2, 200, 30, 9, PVRING_DESC_F_WRITE | PVRING_DESC_F_NEXT);
	pput(self, 1, 100, 20, 9, PVRING_DESC_F_NEXT);
	EXPECT_EQ(0, pvring_dev_avail(&t->dev)); /* the head is not there yet */
	pput(self, 0, 0, 10, 9, PVRING_DESC_F_NEXT);
	EXPECT_EQ(1, pvring_dev_avail(&t->dev));
	ASSERT_EQ(1, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
	EXPECT_EQ(2, self->c.head);
	EXPECT_EQ(4, self->c.nseg);
	EXPECT_EQ(2, self->c.nout);
	EXPECT_EQ(30, self->c.out_len);
	EXPECT_EQ(70, self->c.in_len);
	EXPECT_EQ(tring_hva(t, 200), self->seg[2].base);
	EXPECT_EQ(0, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
	/* Used: one descriptor at P(0) for the whole chain, then skip four. */
	pvring_dev_push_used(&t->dev, 2, 55);
	EXPECT_EQ(2, le16_to_cpu(t->pdesc[P(0) & (t->num - 1)].id));
	EXPECT_EQ(55, le32_to_cpu(t->pdesc[P(0) & (t->num - 1)].len));
	EXPECT_TRUE(pvring_packed_is_used(le16_to_cpu(t->pdesc[P(0) & (t->num - 1)].flags), P(0),
					  t->num));
	EXPECT_EQ(pvring_packed_off_wrap(P(4), t->num), (u16)(pvring_dev_base(&t->dev) >> 16));
}

/* The head's AVAIL/USED bits in every combination: only one is available. */
TEST_F(pdev, head_bits_every_combination)
{
	struct tring *t = &self->t;
	static const u16 bits[] = { 0, PVRING_DESC_F_AVAIL, PVRING_DESC_F_USED,
				    PVRING_DESC_F_AVAIL | PVRING_DESC_F_USED };
	unsigned int i;

	for (i = 0; i < 4; i++) {
		if (bits[i] == tring_pavail(t, P(0)))
			continue;
		pput_bits(self, 0, 0, bits[i]);
		/* Another lap's available descriptor, or a used one: nothing there. */
		EXPECT_EQ(0, pvring_dev_avail(&t->dev)) TH_LOG("bits %#x", bits[i]);
		EXPECT_EQ(0, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
		EXPECT_TRUE(pvring_dev_enable_notify(&t->dev));
		EXPECT_FALSE(pvring_dev_broken(&t->dev));
	}
	pput(self, 0, 0, 8, 0, 0);
	EXPECT_EQ(1, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
}

/* A later descriptor of a chain not available for its lap: a lie, the ring breaks. */
TEST_F(pdev, chain_bits_every_wrong_combination)
{
	struct tring *t = &self->t;
	static const u16 bits[] = { 0, PVRING_DESC_F_AVAIL, PVRING_DESC_F_USED,
				    PVRING_DESC_F_AVAIL | PVRING_DESC_F_USED };
	unsigned int i;

	if (t->num < 2)
		SKIP(return, "needs a chain of two");
	for (i = 0; i < 4; i++) {
		if (bits[i] == tring_pavail(t, P(1)))
			continue;
		tring_fini(&self->t);
		ASSERT_EQ(0, tring_init_fmt(&self->t, PVRING_PACKED, variant->num,
					    variant->event_idx, variant->indirect ? 8 : 0, POOL));
		if (self->start)
			tring_start_at(&self->t, self->start);
		pput_bits(self, 1, 0, bits[i]);
		pput(self, 0, 0, 8, 0, PVRING_DESC_F_NEXT);
		/* Not counted, and popping it breaks the ring. */
		EXPECT_EQ(0, pvring_dev_avail(&self->t.dev));
		pexpect_broken(_metadata, self);
	}
}

/* A chain across the end of the ring flips the counter half way. */
TEST_F(pdev, chain_across_the_wrap)
{
	struct tring *t = &self->t;
	unsigned int before = t->num - (P(0) & (t->num - 1)), i, n;

	if (t->num < 4)
		SKIP(return, "needs a chain of four");
	/* Move to two descriptors before the end of the ring. */
	n = before >= 2 ? before - 2 : before + t->num - 2;
	for (i = 0; i < n; i++) {
		pput(self, i, 0, 8, 0, 0);
		ASSERT_EQ(1, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
		pvring_dev_push_used(&t->dev, 0, 0);
	}
	self->start = P(n);
	pput(self, 3, 24, 8, 1, PVRING_DESC_F_WRITE);
	pput(self, 2, 16, 8, 1, PVRING_DESC_F_WRITE | PVRING_DESC_F_NEXT);
	pput(self, 1, 8, 8, 1, PVRING_DESC_F_NEXT);
	pput(self, 0, 0, 8, 1, PVRING_DESC_F_NEXT);
	ASSERT_EQ(1, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
	EXPECT_EQ(1, self->c.head);
	EXPECT_EQ(4, self->c.ndesc);
	pvring_dev_push_used(&t->dev, 1, 16);
	/* The same chain with the lap after the end left unflipped: a lie. */
	self->start = P(4);
	n = t->num - 4; /* back to two before the end */
	for (i = 0; i < n; i++) {
		pput(self, i, 0, 8, 0, 0);
		ASSERT_EQ(1, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
		pvring_dev_push_used(&t->dev, 0, 0);
	}
	self->start = P(n);
	pput_bits(self, 2, 1, tring_pavail(t, P(0)));
	pput(self, 1, 8, 8, 1, PVRING_DESC_F_NEXT);
	pput(self, 0, 0, 8, 1, PVRING_DESC_F_NEXT);
	pexpect_broken(_metadata, self);
}

TEST_F(pdev, id_out_of_range)
{
	struct tring *t = &self->t;

	pput(self, 0, 0, 8, (u16)t->num, 0);
	pexpect_broken(_metadata, self);
}

TEST_F(pdev, id_huge_in_last)
{
	struct tring *t = &self->t;

	if (t->num < 2)
		SKIP(return, "needs a chain of two");
	pput(self, 1, 8, 8, 0xffff, 0);
	pput(self, 0, 0, 8, 0, PVRING_DESC_F_NEXT);
	pexpect_broken(_metadata, self);
}

/* Every descriptor with NEXT: the chain never ends, the next one's place is lost. */
TEST_F(pdev, chain_never_ends)
{
	struct tring *t = &self->t;
	unsigned int i;

	for (i = t->num; i-- > 0;)
		pput(self, i, 0, 0, 0, PVRING_DESC_F_NEXT);
	EXPECT_EQ(0, pvring_dev_avail(&t->dev));
	pexpect_broken(_metadata, self);
}

/* As long as the ring, ending in its last descriptor: legal. */
TEST_F(pdev, longest_chain)
{
	struct tring *t = &self->t;
	unsigned int i;

	for (i = t->num; i-- > 0;)
		pput(self, i, i, i < NSEG ? 1 : 0, 1, i + 1 < t->num ? PVRING_DESC_F_NEXT : 0);
	EXPECT_EQ(1, pvring_dev_avail(&t->dev));
	ASSERT_EQ(1, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
	EXPECT_EQ(t->num < NSEG ? t->num : NSEG, self->c.nseg);
	/* The ring is now all held: nothing more can be available... */
	pput_bits(self, t->num, 0, tring_pavail(t, P(t->num)));
	EXPECT_EQ(0, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
	/* ...until it is used, and the driver writes there again. */
	pvring_dev_push_used(&t->dev, 1, 0);
	pput(self, t->num, 0, 8, 0, 0);
	EXPECT_EQ(1, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
}

/* Bad buffers: the chain is consumed whole, the next one is found. */
TEST_F(pdev, bad_chains_consumed)
{
	struct tring *t = &self->t;
	unsigned int i = 0;

	if (t->num < 4)
		SKIP(return, "needs four descriptors");
	/* Outside memory, in the first of two. */
	tring_pdesc_set(t, NULL, P(1) & (t->num - 1), tring_gpa(t, 0), 8, 1, tring_pavail(t, P(1)));
	tring_pdesc_set(t, NULL, P(0) & (t->num - 1), 0x1000, 8, 1,
			PVRING_DESC_F_NEXT | tring_pavail(t, P(0)));
	pexpect_bad(_metadata, self, 1, -EFAULT);
	i = 2;
	/* Readable after writable. */
	pput(self, i + 1, 8, 8, 2, 0);
	pput(self, i, 0, 8, 2, PVRING_DESC_F_WRITE | PVRING_DESC_F_NEXT);
	pexpect_bad(_metadata, self, 2, -EINVAL);
	i += 2;
	/* Too many segments for the caller. */
	self->start = P(i);
	pput(self, 0, 0, 8, 3, 0);
	EXPECT_EQ(-ENOBUFS, pvring_dev_pop(&t->dev, &self->c, self->seg, 0));
	EXPECT_TRUE(self->c.head_valid);
	/* Given back, and taken again with room. */
	pvring_dev_unpop(&t->dev, 1);
	EXPECT_EQ(1, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
	EXPECT_EQ(3, self->c.head);
	EXPECT_FALSE(pvring_dev_broken(&t->dev));
}

TEST_F(pdev, indirect)
{
	struct tring *t = &self->t;

	if (t->num < 2)
		SKIP(return, "needs two descriptors");
	/* A table's entries: only WRITE counts; NEXT, INDIRECT and id are ignored. */
	tring_pdesc_set(t, self->itab, 0, tring_gpa(t, 0), 16, 7,
			PVRING_DESC_F_NEXT | PVRING_DESC_F_INDIRECT);
	tring_pdesc_set(t, self->itab, 1, tring_gpa(t, 64), 32, 7, PVRING_DESC_F_WRITE);
	tring_pdesc_set(t, NULL, P(0) & (t->num - 1), TRING_IND_GPA, 32, 1,
			PVRING_DESC_F_INDIRECT | tring_pavail(t, P(0)));
	if (!t->indirect) {
		pexpect_bad(_metadata, self, 1, -EINVAL);
		return;
	}
	ASSERT_EQ(1, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
	EXPECT_EQ(1, self->c.head);
	EXPECT_EQ(2, self->c.nseg);
	EXPECT_EQ(1, self->c.nout);
	EXPECT_EQ(32, self->c.in_len);
	pvring_dev_push_used(&t->dev, 1, 0);
	/* INDIRECT beside NEXT: bad, consumed up to the chain's end. */
	self->start = P(1);
	pput(self, 1, 0, 8, 2, 0);
	tring_pdesc_set(t, NULL, P(0) & (t->num - 1), TRING_IND_GPA, 32, 2,
			PVRING_DESC_F_INDIRECT | PVRING_DESC_F_NEXT | tring_pavail(t, P(0)));
	pexpect_bad(_metadata, self, 2, -EINVAL);
	/* INDIRECT after the first descriptor of a chain. */
	self->start = P(2);
	tring_pdesc_set(t, NULL, P(1) & (t->num - 1), TRING_IND_GPA, 32, 3,
			PVRING_DESC_F_INDIRECT | tring_pavail(t, P(1)));
	pput(self, 0, 0, 8, 3, PVRING_DESC_F_NEXT);
	pexpect_bad(_metadata, self, 3, -EINVAL);
	/* Lengths: not a multiple of 16, zero, and a table off its region. */
	self->start = P(2);
	tring_pdesc_set(t, NULL, P(0) & (t->num - 1), TRING_IND_GPA, 24, 0,
			PVRING_DESC_F_INDIRECT | tring_pavail(t, P(0)));
	pexpect_bad(_metadata, self, 0, -EINVAL);
	self->start = P(1);
	tring_pdesc_set(t, NULL, P(0) & (t->num - 1), TRING_IND_GPA, 0, 0,
			PVRING_DESC_F_INDIRECT | tring_pavail(t, P(0)));
	pexpect_bad(_metadata, self, 0, -EINVAL);
	self->start = P(1);
	tring_pdesc_set(t, NULL, P(0) & (t->num - 1), TRING_IND_GPA,
			(u32)t->mem.region[1].size + 16, 0,
			PVRING_DESC_F_INDIRECT | tring_pavail(t, P(0)));
	pexpect_bad(_metadata, self, 0, -EFAULT);
	/* Aligned in the guest, mapped 4 bytes off in the host: refused, not read. */
	self->start = P(1);
	tring_skew_indirect(t, 4);
	tring_pdesc_set(t, NULL, P(0) & (t->num - 1), TRING_IND_GPA, 32, 0,
			PVRING_DESC_F_INDIRECT | tring_pavail(t, P(0)));
	pexpect_bad(_metadata, self, 0, -EINVAL);
	tring_skew_indirect(t, 0);
}

/* Puts stay out of the ring until published; unput and unpop leave it intact. */
TEST_F(pdev, put_unput_unpop)
{
	struct tring *t = &self->t;
	u16 f0;

	if (t->num < 4)
		SKIP(return, "needs four descriptors");
	pput(self, 2, 200, 64, 0, PVRING_DESC_F_WRITE);
	pput(self, 1, 100, 64, 1, PVRING_DESC_F_WRITE);
	pput(self, 0, 0, 64, 2, PVRING_DESC_F_WRITE);
	ASSERT_EQ(1, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
	ASSERT_EQ(1, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
	ASSERT_EQ(1, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
	pvring_dev_put(&t->dev, 2, 10);
	pvring_dev_put(&t->dev, 1, 20);
	pvring_dev_put(&t->dev, 0, 30);
	EXPECT_EQ(3, pvring_dev_staged(&t->dev));
	/* Nothing written yet: the descriptors are still the driver's. */
	f0 = le16_to_cpu(t->pdesc[P(0) & (t->num - 1)].flags);
	EXPECT_TRUE(pvring_packed_is_avail(f0, P(0), t->num));
	EXPECT_EQ(64, le32_to_cpu(t->pdesc[P(2) & (t->num - 1)].len));
	/* The last two taken back, then given back to the driver's side. */
	pvring_dev_unput(&t->dev, 2);
	pvring_dev_unpop(&t->dev, 2);
	pvring_dev_publish(&t->dev);
	EXPECT_EQ(0, pvring_dev_staged(&t->dev));
	EXPECT_TRUE(pvring_packed_is_used(le16_to_cpu(t->pdesc[P(0) & (t->num - 1)].flags), P(0),
					  t->num));
	EXPECT_EQ(2, le16_to_cpu(t->pdesc[P(0) & (t->num - 1)].id));
	/* The chains given back are intact and popped again, in order. */
	ASSERT_EQ(1, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
	EXPECT_EQ(1, self->c.head);
	EXPECT_EQ(tring_hva(t, 100), self->seg[0].base);
	ASSERT_EQ(1, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
	EXPECT_EQ(0, self->c.head);
	/* Out of order: 0 is used at P(1), 1 at P(2). */
	pvring_dev_put(&t->dev, 0, 7);
	pvring_dev_put(&t->dev, 1, 0);
	pvring_dev_publish(&t->dev);
	EXPECT_EQ(0, le16_to_cpu(t->pdesc[P(1) & (t->num - 1)].id));
	EXPECT_EQ(PVRING_DESC_F_WRITE,
		  le16_to_cpu(t->pdesc[P(1) & (t->num - 1)].flags) & PVRING_DESC_F_WRITE);
	EXPECT_EQ(1, le16_to_cpu(t->pdesc[P(2) & (t->num - 1)].id));
	EXPECT_EQ(0, le16_to_cpu(t->pdesc[P(2) & (t->num - 1)].flags) & PVRING_DESC_F_WRITE);
	EXPECT_EQ(pvring_packed_off_wrap(P(3), t->num) * 0x10001u, pvring_dev_base(&t->dev));
}

/*
 * A full ring of one-descriptor chains, put in reverse and published at
 * once: the used descriptors follow each other across the ring's end,
 * each with its lap's bits.
 */
TEST_F(pdev, one_descriptor_chains_publish_across_the_end)
{
	struct tring *t = &self->t;
	unsigned int i, num = t->num;

	for (i = 0; i < num; i++)
		pput(self, i, (i % 16) * 64, 64, (u16)i, PVRING_DESC_F_WRITE);
	for (i = 0; i < num; i++) {
		ASSERT_EQ(1, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
		ASSERT_EQ(i, self->c.head);
	}
	for (i = 0; i < num; i++)
		pvring_dev_put(&t->dev, (u16)(num - 1 - i), i);
	pvring_dev_publish(&t->dev);
	for (i = 0; i < num; i++) {
		const struct pvring_desc_packed *d = &t->pdesc[P(i) & (num - 1)];
		u16 flags = le16_to_cpu(d->flags);

		EXPECT_TRUE(pvring_packed_is_used(flags, P(i), num));
		EXPECT_EQ(num - 1 - i, le16_to_cpu(d->id));
		EXPECT_EQ(i, le32_to_cpu(d->len));
		EXPECT_EQ(i ? PVRING_DESC_F_WRITE : 0, flags & PVRING_DESC_F_WRITE);
	}
	EXPECT_EQ(pvring_packed_off_wrap(P(num), num), (u16)(pvring_dev_base(&t->dev) >> 16));
}

/*
 * One-descriptor chains in flight when the first longer one comes (the
 * device records chain lengths from then on): unpop still gives back
 * whole chains, and used descriptors put out of order still skip each
 * chain's own length.
 */
TEST_F(pdev, one_descriptor_chains_then_a_longer_one)
{
	struct tring *t = &self->t;

	if (t->num < 4)
		SKIP(return, "needs four descriptors");
	pput(self, 0, 0, 64, 1, PVRING_DESC_F_WRITE);
	pput(self, 1, 100, 64, 0, PVRING_DESC_F_WRITE);
	pput(self, 3, 300, 16, 3, PVRING_DESC_F_WRITE);
	pput(self, 2, 200, 16, 3, PVRING_DESC_F_NEXT);
	ASSERT_EQ(1, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
	EXPECT_EQ(1, self->c.head);
	ASSERT_EQ(1, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
	EXPECT_EQ(0, self->c.head);
	ASSERT_EQ(1, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
	EXPECT_EQ(3, self->c.head);
	EXPECT_EQ(2, self->c.ndesc);
	/* The longer chain and the single one before it, given back and popped again. */
	pvring_dev_unpop(&t->dev, 2);
	ASSERT_EQ(1, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
	EXPECT_EQ(0, self->c.head);
	EXPECT_EQ(tring_hva(t, 100), self->seg[0].base);
	ASSERT_EQ(1, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
	EXPECT_EQ(3, self->c.head);
	EXPECT_EQ(2, self->c.ndesc);
	EXPECT_EQ(0, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
	/* The longer chain used first: at P(0), taking two; then 1 at P(2), 0 at P(3). */
	pvring_dev_put(&t->dev, 3, 5);
	pvring_dev_put(&t->dev, 1, 6);
	pvring_dev_put(&t->dev, 0, 7);
	pvring_dev_publish(&t->dev);
	EXPECT_EQ(3, le16_to_cpu(t->pdesc[P(0) & (t->num - 1)].id));
	EXPECT_EQ(5, le32_to_cpu(t->pdesc[P(0) & (t->num - 1)].len));
	EXPECT_EQ(1, le16_to_cpu(t->pdesc[P(2) & (t->num - 1)].id));
	EXPECT_EQ(6, le32_to_cpu(t->pdesc[P(2) & (t->num - 1)].len));
	EXPECT_EQ(0, le16_to_cpu(t->pdesc[P(3) & (t->num - 1)].id));
	EXPECT_EQ(7, le32_to_cpu(t->pdesc[P(3) & (t->num - 1)].len));
	EXPECT_TRUE(pvring_packed_is_used(le16_to_cpu(t->pdesc[P(0) & (t->num - 1)].flags), P(0),
					  t->num));
	EXPECT_TRUE(pvring_packed_is_used(le16_to_cpu(t->pdesc[P(2) & (t->num - 1)].flags), P(2),
					  t->num));
	EXPECT_TRUE(pvring_packed_is_used(le16_to_cpu(t->pdesc[P(3) & (t->num - 1)].flags), P(3),
					  t->num));
	EXPECT_EQ(pvring_packed_off_wrap(P(4), t->num), (u16)(pvring_dev_base(&t->dev) >> 16));
}

/* Event suppression from the device's side: its own, and the driver's. */
TEST_F(pdev, notify_decisions)
{
	struct tring *t = &self->t;
	unsigned int i;

	pvring_dev_disable_notify(&t->dev);
	EXPECT_EQ(PVRING_EVENT_F_DISABLE, pvring_event_flags(pvring_event_read(t->dev_event)));
	EXPECT_TRUE(pvring_dev_enable_notify(&t->dev));
	EXPECT_EQ(t->event_idx ? PVRING_EVENT_F_DESC : PVRING_EVENT_F_ENABLE,
		  pvring_event_flags(pvring_event_read(t->dev_event)));
	if (t->event_idx)
		EXPECT_EQ(pvring_packed_off_wrap(P(0), t->num),
			  pvring_event_off_wrap(pvring_event_read(t->dev_event)));
	/* A chain arrives while kicks were off: enable sees it. */
	pvring_dev_disable_notify(&t->dev);
	pput(self, 0, 0, 8, 0, 0);
	EXPECT_FALSE(pvring_dev_enable_notify(&t->dev));
	ASSERT_EQ(1, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
	pvring_dev_push_used(&t->dev, 0, 0);

	/* The driver's DISABLE holds in both modes, ENABLE notifies. */
	pvring_event_write(t->drv_event, 0, PVRING_EVENT_F_DISABLE);
	EXPECT_FALSE(pvring_dev_should_notify(&t->dev));
	pvring_event_write(t->drv_event, 0, PVRING_EVENT_F_ENABLE);
	EXPECT_TRUE(pvring_dev_should_notify(&t->dev));
	/* The reserved value notifies: a lost notification is worse than a spare one. */
	pvring_event_write(t->drv_event, 0, 3);
	EXPECT_TRUE(pvring_dev_should_notify(&t->dev));
	if (!t->event_idx)
		return;
	/* DESC: only when the descriptor it names was used since the last decision. */
	for (i = 1; i < 4; i++) {
		pput(self, i, 0, 8, 0, 0);
		ASSERT_EQ(1, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
	}
	pvring_event_write(t->drv_event, pvring_packed_off_wrap(P(3), t->num), PVRING_EVENT_F_DESC);
	pvring_dev_push_used(&t->dev, 0, 0); /* P(1) */
	EXPECT_FALSE(pvring_dev_should_notify(&t->dev));
	pvring_dev_put(&t->dev, 0, 0); /* P(2) */
	pvring_dev_put(&t->dev, 0, 0); /* P(3) */
	pvring_dev_publish(&t->dev);
	EXPECT_TRUE(pvring_dev_should_notify(&t->dev));
	EXPECT_FALSE(pvring_dev_should_notify(&t->dev));
	/* An event of the previous lap at the same offset is behind: no. */
	pvring_event_write(t->drv_event, pvring_packed_off_wrap((u16)(P(4) - t->num), t->num),
			   PVRING_EVENT_F_DESC);
	pput(self, 4, 0, 8, 0, 0);
	ASSERT_EQ(1, pvring_dev_pop(&t->dev, &self->c, self->seg, NSEG));
	pvring_dev_push_used(&t->dev, 0, 0);
	EXPECT_EQ(t->num == 4, pvring_dev_should_notify(&t->dev));
}

TEST_F(pdev, init_invalid)
{
	struct tring *t = &self->t;
	struct pvring_dev_config cfg = {
		.format = PVRING_PACKED,
		.num = t->num,
		.desc = t->pdesc,
		.driver = t->drv_event,
		.device = t->dev_event,
		.mem = &t->mem,
		.state = t->dev_state,
		.base = 0x8000,
	};
	struct pvring_dev vr;

	ASSERT_EQ(0, pvring_dev_init(&vr, &cfg));
	/* No used half: it is the avail half. */
	EXPECT_EQ(0x80008000u, pvring_dev_base(&vr));
	cfg.base = (u32)t->num; /* offset out of range */
	EXPECT_EQ(-EINVAL, pvring_dev_init(&vr, &cfg));
	cfg.base = 0x8000 | 0x8000u << 16 | (u32)t->num << 16;
	EXPECT_EQ(-EINVAL, pvring_dev_init(&vr, &cfg));
	cfg.base = 0x8000;
	cfg.state = NULL;
	EXPECT_EQ(-EINVAL, pvring_dev_init(&vr, &cfg));
	cfg.state = (u8 *)t->dev_state + 4; /* the staged puts are 8-byte words */
	EXPECT_EQ(-EINVAL, pvring_dev_init(&vr, &cfg));
	cfg.state = t->dev_state;
	cfg.driver = (u8 *)t->drv_event + 2;
	EXPECT_EQ(-EINVAL, pvring_dev_init(&vr, &cfg));
	cfg.driver = t->drv_event;
	cfg.desc = (u8 *)t->pdesc + 8;
	EXPECT_EQ(-EINVAL, pvring_dev_init(&vr, &cfg));
	/* Avail and used halves apart: chains in flight across a restart. */
	cfg.desc = t->pdesc;
	cfg.base = 0x8000 | 0x8000u << 16 | 1;
	if (t->num > 1) {
		ASSERT_EQ(0, pvring_dev_init(&vr, &cfg));
		EXPECT_EQ(0x80008001u, pvring_dev_base(&vr));
	}
	/*
	 * Two chains held across the end of the sequence space: used at the
	 * last slot of a lap with the wrap counter 0, avail one slot into the
	 * next lap (counter 1).
	 */
	cfg.base = (0x8000u | 1) | ((u32)t->num - 1) << 16;
	if (t->num > 2) {
		ASSERT_EQ(0, pvring_dev_init(&vr, &cfg));
		EXPECT_EQ(cfg.base, pvring_dev_base(&vr));
	}
	/* Avail a slot behind used: more held than the ring holds. */
	cfg.base = (0x8000u | 1) | (0x8000u | 2) << 16;
	if (t->num > 2)
		EXPECT_EQ(-EINVAL, pvring_dev_init(&vr, &cfg));
}

TEST_HARNESS_MAIN
