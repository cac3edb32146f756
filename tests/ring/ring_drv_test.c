// SPDX-License-Identifier: GPL-2.0
/*
 * ring_drv_test.c - the driver side of the ring (pvring_drv.h/.c), split and
 * packed (every fixture variant in both formats), with a real device side to
 * check what the driver put in the ring, and a hostile device (raw writes to
 * the used ring / used descriptors) for what it must refuse.
 */
#include "kselftest_harness.h"

#include "ring_test.h"

#define POOL (1 << 20)

FIXTURE(drv)
{
	struct tring t;
	struct pvring_seg seg[64];
};

FIXTURE_VARIANT(drv)
{
	enum pvring_format format;
	unsigned int num;
	bool event_idx;
	unsigned int indirect_max; /* 0: no indirect tables */
	u16 start; /* where the free-running indices begin */
	bool in_order; /* VIRTIO_F_IN_ORDER */
};

/* clang-format would glue the brace to the macro, which checkpatch rejects. */
/* clang-format off */
FIXTURE_VARIANT_ADD(drv, n1) { .num = 1 };
FIXTURE_VARIANT_ADD(drv, n2_ev) { .num = 2, .event_idx = true };
FIXTURE_VARIANT_ADD(drv, n8) { .num = 8 };
FIXTURE_VARIANT_ADD(drv, n8_ev_ind) { .num = 8, .event_idx = true, .indirect_max = 4 };
FIXTURE_VARIANT_ADD(drv, n256_ind_wrap) { .num = 256, .indirect_max = 8, .start = 65500 };
FIXTURE_VARIANT_ADD(drv, n256_ev_wrap) { .num = 256, .event_idx = true, .start = 65535 };
FIXTURE_VARIANT_ADD(drv, n32768_ev_ind) { .num = 32768, .event_idx = true, .indirect_max = 2 };
FIXTURE_VARIANT_ADD(drv, packed_n1) { .format = PVRING_PACKED, .num = 1 };
FIXTURE_VARIANT_ADD(drv, packed_n2_ev) { .format = PVRING_PACKED, .num = 2, .event_idx = true };
FIXTURE_VARIANT_ADD(drv, packed_n8) { .format = PVRING_PACKED, .num = 8 };
FIXTURE_VARIANT_ADD(drv, packed_n8_ev_ind) { .format = PVRING_PACKED, .num = 8, .event_idx = true,
					     .indirect_max = 4 };
FIXTURE_VARIANT_ADD(drv, packed_n256_ind_wrap) { .format = PVRING_PACKED, .num = 256,
						 .indirect_max = 8, .start = 65500 };
FIXTURE_VARIANT_ADD(drv, packed_n256_ev_wrap) { .format = PVRING_PACKED, .num = 256,
						.event_idx = true, .start = 65535 };
FIXTURE_VARIANT_ADD(drv, packed_n32768_ev_ind) { .format = PVRING_PACKED, .num = 32768,
						 .event_idx = true, .indirect_max = 2 };
FIXTURE_VARIANT_ADD(drv, io_n1) { .num = 1, .in_order = true };
FIXTURE_VARIANT_ADD(drv, io_n8_ev) { .num = 8, .event_idx = true, .in_order = true };
FIXTURE_VARIANT_ADD(drv, io_n256_ind_wrap) { .num = 256, .indirect_max = 8, .start = 65500,
					     .in_order = true };
FIXTURE_VARIANT_ADD(drv, packed_io_n1) { .format = PVRING_PACKED, .num = 1, .in_order = true };
FIXTURE_VARIANT_ADD(drv, packed_io_n8_ev) { .format = PVRING_PACKED, .num = 8, .event_idx = true,
					    .in_order = true };
FIXTURE_VARIANT_ADD(drv, packed_io_n256_ind_wrap) { .format = PVRING_PACKED, .num = 256,
						    .indirect_max = 8, .start = 65500,
						    .in_order = true };
/* clang-format on */

FIXTURE_SETUP(drv)
{
	ASSERT_EQ(0, tring_init_ord(&self->t, variant->format, variant->num, variant->event_idx,
				    variant->indirect_max, POOL, variant->in_order));
	if (variant->start)
		tring_start_at(&self->t, variant->start);
}

FIXTURE_TEARDOWN(drv)
{
	tring_fini(&self->t);
}

/* A token per head-to-be: any non-NULL pointer the test can recognise. */
static void *tok(unsigned long i)
{
	return (void *)(0x1000 + i);
}

/* Device: pop one chain, check it against what was added, push it used. */
static void dev_serve(struct __test_metadata *_metadata, struct tring *t, struct pvring_seg *seg,
		      unsigned int out, unsigned int in, u32 used_len)
{
	struct pvring_chain c;

	ASSERT_EQ(1, pvring_dev_pop(&t->dev, &c, seg, 64));
	ASSERT_TRUE(c.head_valid);
	EXPECT_EQ(out + in, c.nseg);
	EXPECT_EQ(out, c.nout);
	pvring_dev_push_used(&t->dev, c.head, used_len);
}

static u64 sum_len(const struct pvring_sg *sg, unsigned int from, unsigned int to)
{
	u64 n = 0;

	while (from < to)
		n += sg[from++].len;
	return n;
}

TEST_F(drv, add_direct_and_reap)
{
	struct tring *t = &self->t;
	struct pvring_sg sg[3] = {
		{ tring_gpa(t, 0), 100 },
		{ tring_gpa(t, 4096), 200 },
		{ tring_gpa(t, 8192), 300 },
	};
	unsigned int out, in;
	u32 len;

	/* Every out/in mix that fits, including out-only and in-only. */
	for (out = 0; out <= 3; out++) {
		for (in = 0; in + out <= 3; in++) {
			struct pvring_chain c;

			if (!out && !in)
				continue;
			if (out + in > t->num && !(t->indirect && out + in <= t->indirect_max)) {
				EXPECT_EQ(-EINVAL, pvring_drv_add(&t->drv, sg, out, in, tok(1)));
				continue;
			}
			ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, out, in, tok(out * 4 + in)));
			ASSERT_EQ(1, pvring_dev_pop(&t->dev, &c, self->seg, 64));
			EXPECT_EQ(out + in, c.nseg);
			EXPECT_EQ(out, c.nout);
			EXPECT_EQ(sum_len(sg, 0, out), c.out_len);
			EXPECT_EQ(sum_len(sg, out, out + in), c.in_len);
			EXPECT_EQ(tring_hva(t, 0), self->seg[0].base);
			EXPECT_EQ(100, self->seg[0].len);
			if (out + in == 3) {
				EXPECT_EQ(tring_hva(t, 8192), self->seg[2].base);
				EXPECT_EQ(300, self->seg[2].len);
			}
			pvring_dev_push_used(&t->dev, c.head, (u32)c.in_len);
			EXPECT_EQ(tok(out * 4 + in), pvring_drv_get_used(&t->drv, &len));
			EXPECT_EQ(c.in_len, len);
			EXPECT_EQ(t->num, pvring_drv_num_free(&t->drv));
			EXPECT_EQ(NULL, pvring_drv_get_used(&t->drv, &len));
			EXPECT_EQ(0, len);
		}
	}
}

TEST_F(drv, add_invalid)
{
	struct tring *t = &self->t;
	struct pvring_sg sg[1] = { { tring_gpa(t, 0), 1 } };
	struct pvring_chain c;

	EXPECT_EQ(-EINVAL, pvring_drv_add(&t->drv, sg, 0, 0, tok(0)));
	EXPECT_EQ(-EINVAL, pvring_drv_add(&t->drv, sg, 1, 0, NULL));
	EXPECT_EQ(t->num, pvring_drv_num_free(&t->drv));
	/* Nothing reached the ring. */
	EXPECT_EQ(0, pvring_dev_avail(&t->dev));
	EXPECT_EQ(0, pvring_dev_pop(&t->dev, &c, self->seg, 64));
}

/* A chain longer than the ring (and than an indirect table) cannot be added. */
TEST_F(drv, add_oversized)
{
	struct tring *t = &self->t;
	unsigned int n = t->num > t->indirect_max ? t->num + 1 : t->indirect_max + 1;
	struct pvring_sg *sg = calloc(n, sizeof(*sg));
	unsigned int i;

	ASSERT_NE(NULL, sg);
	for (i = 0; i < n; i++)
		sg[i] = (struct pvring_sg){ tring_gpa(t, i), 1 };
	EXPECT_EQ(-EINVAL, pvring_drv_add(&t->drv, sg, n, 0, tok(0)));
	EXPECT_EQ(t->num, pvring_drv_num_free(&t->drv));
	free(sg);
}

TEST_F(drv, full_enospc_and_recycle)
{
	struct tring *t = &self->t;
	struct pvring_sg sg[2] = { { tring_gpa(t, 0), 16 }, { tring_gpa(t, 64), 16 } };
	struct pvring_chain c;
	unsigned int i, added = 0;
	u64 rnd = 42;
	u16 *heads = calloc(t->num, sizeof(*heads));
	u8 *seen = calloc(t->num, 1);
	u32 len;
	int round;

	ASSERT_NE(NULL, heads);
	ASSERT_NE(NULL, seen);
	for (round = 0; round < 3; round++) {
		/* Fill with one-descriptor chains. */
		for (i = 0; i < t->num; i++)
			ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, 1, 0, tok(i)));
		added += t->num;
		EXPECT_EQ(0, pvring_drv_num_free(&t->drv));
		EXPECT_EQ(-ENOSPC, pvring_drv_add(&t->drv, sg, 1, 0, tok(0)));
		if (t->num >= 2 || t->indirect)
			EXPECT_EQ(-ENOSPC, pvring_drv_add(&t->drv, sg, 1, 1, tok(0)));
		/* Every descriptor is a distinct head. */
		memset(seen, 0, t->num);
		for (i = 0; i < t->num; i++) {
			ASSERT_EQ(1, pvring_dev_pop(&t->dev, &c, self->seg, 64));
			ASSERT_LT(c.head, t->num);
			EXPECT_EQ(0, seen[c.head]);
			seen[c.head] = 1;
			heads[i] = c.head;
		}
		EXPECT_EQ(0, pvring_dev_pop(&t->dev, &c, self->seg, 64));
		/* Used out of order: the free list must cope (in order: in order). */
		for (i = t->num - 1; i > 0 && !t->in_order; i--) {
			unsigned int j = tring_rand(&rnd) % (i + 1);
			u16 h = heads[i];

			heads[i] = heads[j];
			heads[j] = h;
		}
		for (i = 0; i < t->num; i++) {
			pvring_dev_push_used(&t->dev, heads[i], 0);
			ASSERT_NE(NULL, pvring_drv_get_used(&t->drv, &len));
			EXPECT_EQ(0, len);
			EXPECT_EQ(i + 1, pvring_drv_num_free(&t->drv));
		}
	}
	/* Two-descriptor chains: direct ones take two slots, indirect ones one. */
	if (t->num >= 2) {
		unsigned int per = t->indirect ? 1 : 2;

		for (i = 0; i < t->num / per; i++)
			ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, 1, 1, tok(i)));
		EXPECT_EQ(t->num % per, pvring_drv_num_free(&t->drv));
		EXPECT_EQ(-ENOSPC, pvring_drv_add(&t->drv, sg, 1, 1, tok(0)));
		for (i = 0; i < t->num / per; i++)
			dev_serve(_metadata, t, self->seg, 1, 1, 16);
		for (i = 0; i < t->num / per; i++) {
			EXPECT_EQ(tok(i), pvring_drv_get_used(&t->drv, &len));
			EXPECT_EQ(16, len);
		}
		EXPECT_EQ(t->num, pvring_drv_num_free(&t->drv));
	}
	EXPECT_FALSE(pvring_drv_broken(&t->drv));
	free(heads);
	free(seen);
}

/* Many round trips in the same order: the indices run across 65535 -> 0. */
TEST_F(drv, wraparound)
{
	struct tring *t = &self->t;
	struct pvring_sg sg[3] = {
		{ tring_gpa(t, 0), 8 },
		{ tring_gpa(t, 64), 8 },
		{ tring_gpa(t, 128), 8 },
	};
	unsigned int i, batch = t->num < 4 ? t->num : 4, total = 0;
	u32 base = pvring_dev_base(&t->dev);
	u16 start = t->format == PVRING_PACKED ? t->drv.packed.avail_seq :
						 le16_to_cpu(t->avail->idx);
	u32 len;

	while (total < 65536u + 2 * t->num) {
		for (i = 0; i < batch; i++)
			ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, 1, 0, tok(total + i)));
		for (i = 0; i < batch; i++)
			dev_serve(_metadata, t, self->seg, 1, 0, 0);
		for (i = 0; i < batch; i++)
			ASSERT_EQ(tok(total + i), pvring_drv_get_used(&t->drv, &len));
		total += batch;
	}
	if (t->format == PVRING_PACKED) {
		/* Every lap flipped both wrap counters: the base says where, and which lap. */
		EXPECT_EQ((u16)(start + total), t->drv.packed.avail_seq);
		EXPECT_EQ((u16)(start + total), t->drv.packed.last_used);
		EXPECT_EQ(pvring_packed_off_wrap((u16)(start + total), t->num) * 0x10001u,
			  pvring_dev_base(&t->dev));
		EXPECT_NE(0, base);
	} else {
		EXPECT_EQ((u16)(start + total), le16_to_cpu(t->avail->idx));
		EXPECT_EQ((u16)(start + total), le16_to_cpu(t->used->idx));
	}
	EXPECT_EQ(t->num, pvring_drv_num_free(&t->drv));
	EXPECT_FALSE(pvring_drv_broken(&t->drv));
	EXPECT_FALSE(pvring_dev_broken(&t->dev));
}

TEST_F(drv, indirect_layout)
{
	struct tring *t = &self->t;
	struct pvring_sg sg[3] = {
		{ tring_gpa(t, 0), 10 },
		{ tring_gpa(t, 100), 20 },
		{ tring_gpa(t, 200), 30 },
	};
	struct pvring_desc *d, *tab;
	u16 head = t->drv.free_head, flags;

	if (t->format == PVRING_PACKED)
		SKIP(return, "the split layout is what this test looks at");
	if (!t->indirect || t->indirect_max < 3)
		SKIP(return, "needs indirect tables of 3 or more");
	ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, 1, 2, tok(7)));
	EXPECT_EQ(t->num - 1, pvring_drv_num_free(&t->drv));
	d = &t->desc[head];
	EXPECT_EQ(PVRING_DESC_F_INDIRECT, le16_to_cpu(d->flags));
	EXPECT_EQ(3 * 16, le32_to_cpu(d->len));
	EXPECT_EQ(TRING_IND_GPA + (u64)head * t->indirect_max * 16, le64_to_cpu(d->addr));
	tab = t->ind + (size_t)head * t->indirect_max;
	flags = le16_to_cpu(tab[0].flags);
	EXPECT_EQ(PVRING_DESC_F_NEXT, flags);
	EXPECT_EQ(1, le16_to_cpu(tab[0].next));
	EXPECT_EQ(PVRING_DESC_F_NEXT | PVRING_DESC_F_WRITE, le16_to_cpu(tab[1].flags));
	EXPECT_EQ(PVRING_DESC_F_WRITE, le16_to_cpu(tab[2].flags));
	EXPECT_EQ(tring_gpa(t, 200), le64_to_cpu(tab[2].addr));
	EXPECT_EQ(30, le32_to_cpu(tab[2].len));
	dev_serve(_metadata, t, self->seg, 1, 2, 50);
	EXPECT_EQ(tring_hva(t, 100), self->seg[1].base);
}

/* Chains too long for a table fall back to direct descriptors. */
TEST_F(drv, indirect_fallback_direct)
{
	struct tring *t = &self->t;
	struct pvring_sg sg[9];
	unsigned int i, n;
	u16 head;
	u32 len;

	if (!t->indirect)
		SKIP(return, "no indirect tables");
	n = t->indirect_max + 1;
	if (n > t->num || n > 9)
		SKIP(return, "ring too small for the fallback");
	for (i = 0; i < n; i++)
		sg[i] = (struct pvring_sg){ tring_gpa(t, 64 * i), 64 };
	ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, 2, n - 2, tok(1)));
	EXPECT_EQ(t->num - n, pvring_drv_num_free(&t->drv));
	/* A one-segment chain never takes a table either. */
	head = t->drv.free_head;
	ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, 1, 0, tok(2)));
	if (t->format == PVRING_SPLIT)
		EXPECT_EQ(0, le16_to_cpu(t->desc[head].flags));
	dev_serve(_metadata, t, self->seg, 2, n - 2, 64 * (n - 2));
	dev_serve(_metadata, t, self->seg, 1, 0, 0);
	EXPECT_EQ(tok(1), pvring_drv_get_used(&t->drv, &len));
	EXPECT_EQ(64 * (n - 2), len);
	EXPECT_EQ(tok(2), pvring_drv_get_used(&t->drv, &len));
	EXPECT_EQ(t->num, pvring_drv_num_free(&t->drv));
}

TEST_F(drv, detach_unused)
{
	struct tring *t = &self->t;
	struct pvring_sg sg[1] = { { tring_gpa(t, 0), 8 } };
	unsigned int i, n = t->num < 5 ? t->num : 5, got = 0;
	u8 seen[5] = { 0 };
	void *tk;

	for (i = 0; i < n; i++)
		ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, 1, 0, tok(i)));
	while ((tk = pvring_drv_detach_unused(&t->drv))) {
		unsigned long k = (unsigned long)tk - 0x1000;

		ASSERT_LT(k, n);
		EXPECT_EQ(0, seen[k]);
		seen[k] = 1;
		got++;
	}
	EXPECT_EQ(n, got);
	EXPECT_EQ(t->num, pvring_drv_num_free(&t->drv));
	EXPECT_EQ(NULL, pvring_drv_detach_unused(&t->drv));
	/* The ring is reusable after a reset and re-init of the device side. */
	ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, 1, 0, tok(9)));
}

/* Where the driver will make the next chain available (split: avail index). */
static u16 drv_next(const struct tring *t)
{
	return t->format == PVRING_PACKED ? t->drv.packed.avail_seq : t->drv.split.avail_idx;
}

/* The packed SET_VRING_BASE value for both positions at @seq. */
static u32 packed_base(const struct tring *t, u16 seq)
{
	u16 ow = pvring_packed_off_wrap(seq, t->num);

	return ow | (u32)ow << 16;
}

/*
 * The device dies with chains used (some reaped, some not) and chains
 * popped but not used; a new one resumes at pvring_drv_resume_base()
 * without a region: every chain comes back exactly once.
 */
TEST_F(drv, resume_base)
{
	struct tring *t = &self->t;
	struct pvring_sg sg[2] = { { tring_gpa(t, 0), 16 }, { tring_gpa(t, 64), 32 } };
	unsigned int i, n = t->num < 6 ? t->num : 6, k = n / 2, got = 0;
	u16 start = drv_next(t), used_end;
	struct pvring_chain c;
	u8 seen[6] = { 0 };
	u32 base, len;
	void *tk;

	/* Two-segment chains (two descriptors without tables) where they fit. */
	for (i = 0; i < n; i++) {
		unsigned int two = t->num >= 2 * n && (i & 1);

		ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, 1, two, tok(i)));
	}
	pvring_drv_kick_prepare(&t->drv);
	used_end = start;
	for (i = 0; i < n; i++) {
		ASSERT_EQ(1, pvring_dev_pop(&t->dev, &c, self->seg, 64));
		if (i < k) {
			pvring_dev_push_used(&t->dev, c.head, 0);
			used_end =
				(u16)(used_end +
				      (t->format == PVRING_PACKED ? t->drv.slot[c.head].ndesc : 1));
		}
	}
	for (i = 0; i < k / 2; i++) {
		tk = pvring_drv_get_used(&t->drv, &len);
		ASSERT_NE(NULL, tk);
		seen[(unsigned long)tk - 0x1000]++;
		got++;
	}
	/* The device is gone: where does the next one start? */
	ASSERT_EQ(0, pvring_drv_resume_base(&t->drv, false, &base));
	EXPECT_EQ(t->format == PVRING_PACKED ? packed_base(t, used_end) : used_end, base);
	/* A new device side (the old one died). */
	ASSERT_EQ(0, tring_dev_init(t, base));
	for (i = k; i < n; i++) {
		ASSERT_EQ(1, pvring_dev_pop(&t->dev, &c, self->seg, 64));
		ASSERT_TRUE(c.head_valid);
		pvring_dev_push_used(&t->dev, c.head, 0);
	}
	EXPECT_EQ(0, pvring_dev_pop(&t->dev, &c, self->seg, 64));
	while ((tk = pvring_drv_get_used(&t->drv, &len))) {
		ASSERT_LT((unsigned long)tk - 0x1000, n);
		seen[(unsigned long)tk - 0x1000]++;
		got++;
	}
	EXPECT_FALSE(pvring_drv_broken(&t->drv));
	EXPECT_EQ(n, got);
	for (i = 0; i < n; i++)
		EXPECT_EQ(1, seen[i]) TH_LOG("chain %u", i);
	EXPECT_EQ(t->num, pvring_drv_num_free(&t->drv));
	/* The ring goes on: one more round trip. */
	ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, 1, 0, tok(9)));
	pvring_drv_kick_prepare(&t->drv);
	ASSERT_EQ(1, pvring_dev_pop(&t->dev, &c, self->seg, 64));
	pvring_dev_push_used(&t->dev, c.head, 0);
	EXPECT_EQ(tok(9), pvring_drv_get_used(&t->drv, &len));
}

/*
 * A device gone while a batch is staged and not published: it saw nothing
 * of the batch, which a new device pops whole once it is published (packed:
 * the batch's first line is still the driver's, not in the ring).
 */
TEST_F(drv, resume_base_staged)
{
	struct tring *t = &self->t;
	struct pvring_sg sg[1] = { { tring_gpa(t, 0), 16 } };
	unsigned int i, n = t->num < 6 ? t->num : 6;
	u16 start = drv_next(t);
	struct pvring_chain c;
	u32 base, len;

	for (i = 0; i < n; i++)
		ASSERT_EQ(0, pvring_drv_stage(&t->drv, sg, 1, 0, tok(i)));
	ASSERT_EQ(0, pvring_drv_resume_base(&t->drv, false, &base));
	EXPECT_EQ(t->format == PVRING_PACKED ? packed_base(t, start) : start, base);
	ASSERT_EQ(0, tring_dev_init(t, base));
	EXPECT_EQ(0, pvring_dev_pop(&t->dev, &c, self->seg, 64));
	pvring_drv_publish(&t->drv);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(1, pvring_dev_pop(&t->dev, &c, self->seg, 64));
		pvring_dev_push_used(&t->dev, c.head, 0);
		EXPECT_EQ(tok(i), pvring_drv_get_used(&t->drv, &len));
	}
	EXPECT_FALSE(pvring_drv_broken(&t->drv));
	EXPECT_EQ(t->num, pvring_drv_num_free(&t->drv));
}

/*
 * Packed, a device that used a later chain first: its used descriptor
 * covers the head of the one it overtook, which the ring no longer holds.
 * Only a device with a region resumes; the driver says so, and the ring is
 * not broken for it.
 */
TEST_F(drv, resume_base_out_of_order)
{
	struct tring *t = &self->t;
	struct pvring_sg sg[1] = { { tring_gpa(t, 0), 16 } };
	struct pvring_chain c[3];
	u16 start = drv_next(t);
	unsigned int i;
	u32 base;

	if (t->format != PVRING_PACKED || t->in_order || t->num < 4)
		SKIP(return, "packed rings of 4 or more, used out of order");
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, 1, 0, tok(i)));
	pvring_drv_kick_prepare(&t->drv);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(1, pvring_dev_pop(&t->dev, &c[i], self->seg, 64));
	pvring_dev_push_used(&t->dev, c[1].head, 0);
	EXPECT_EQ(-ESTALE, pvring_drv_resume_base(&t->drv, false, &base));
	EXPECT_FALSE(pvring_drv_broken(&t->drv));
	ASSERT_EQ(0, pvring_drv_resume_base(&t->drv, true, &base));
	EXPECT_EQ(packed_base(t, (u16)(start + 1)), base);
	EXPECT_FALSE(pvring_drv_broken(&t->drv));
}

/*
 * Packed, a device that died writing a batch of used descriptors: the
 * second written, the first not.  Without a region that cannot resume;
 * with one the driver resumes before the batch and the torn descriptor
 * no longer reads as used when reaping gets there.
 */
TEST_F(drv, resume_base_torn)
{
	struct tring *t = &self->t;
	struct pvring_sg sg[1] = { { tring_gpa(t, 0), 16 } };
	struct pvring_chain c[3];
	u16 start = drv_next(t);
	unsigned int i;
	u32 base, len;

	if (t->format != PVRING_PACKED || t->num < 4)
		SKIP(return, "packed rings of 4 or more");
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, 1, 0, tok(i)));
	pvring_drv_kick_prepare(&t->drv);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(1, pvring_dev_pop(&t->dev, &c[i], self->seg, 64));
	tring_pused_put(t, (u16)(start + 1), c[1].head, 0);
	EXPECT_FALSE(pvring_drv_more_used(&t->drv));
	EXPECT_EQ(-ESTALE, pvring_drv_resume_base(&t->drv, false, &base));
	ASSERT_EQ(0, pvring_drv_resume_base(&t->drv, true, &base));
	EXPECT_EQ(packed_base(t, start), base);
	/* The new device (from its region) completes the first chain at start... */
	tring_pused_put(t, start, c[0].head, 0);
	EXPECT_EQ(tok(0), pvring_drv_get_used(&t->drv, &len));
	/* ...and the torn descriptor after it is no used one. */
	EXPECT_FALSE(pvring_drv_more_used(&t->drv));
	EXPECT_EQ(NULL, pvring_drv_get_used(&t->drv, &len));
	EXPECT_FALSE(pvring_drv_broken(&t->drv));
}

/*
 * IN_ORDER: the device died after one used element for a batch of three
 * chains, the driver half way through reaping it; a fourth was popped and
 * not used.  The new device resumes after the whole batch and serves the
 * fourth; the driver reaps the rest of the batch, then the fourth.
 */
TEST_F(drv, resume_base_in_order_batch)
{
	struct tring *t = &self->t;
	struct pvring_sg sg[2] = { { tring_gpa(t, 0), 16 }, { tring_gpa(t, 64), 32 } };
	u16 start = drv_next(t), end = start;
	struct pvring_chain c[4];
	unsigned int i;
	u32 base, len;

	if (!t->in_order || t->num < 8)
		SKIP(return, "IN_ORDER rings of 8 or more");
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, 1, i & 1, tok(i)));
	pvring_drv_kick_prepare(&t->drv);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(1, pvring_dev_pop(&t->dev, &c[i], self->seg, 64));
	for (i = 0; i < 3; i++)
		end = (u16)(end + (t->format == PVRING_PACKED ? t->drv.slot[c[i].head].ndesc : 1));
	tring_used_put_batch(t, c[2].head, 0, 3);
	EXPECT_EQ(tok(0), pvring_drv_get_used(&t->drv, &len));
	ASSERT_EQ(0, pvring_drv_resume_base(&t->drv, false, &base));
	EXPECT_EQ(t->format == PVRING_PACKED ? packed_base(t, end) : end, base);
	/* A new device side (the old one died). */
	ASSERT_EQ(0, tring_dev_init(t, base));
	ASSERT_EQ(1, pvring_dev_pop(&t->dev, &c[3], self->seg, 64));
	pvring_dev_push_used(&t->dev, c[3].head, 0);
	for (i = 1; i < 4; i++)
		EXPECT_EQ(tok(i), pvring_drv_get_used(&t->drv, &len));
	EXPECT_EQ(NULL, pvring_drv_get_used(&t->drv, &len));
	EXPECT_FALSE(pvring_drv_broken(&t->drv));
	EXPECT_EQ(t->num, pvring_drv_num_free(&t->drv));
}

/* A used descriptor naming an id not in flight breaks the ring at resume too. */
TEST_F(drv, resume_base_bad_id)
{
	struct tring *t = &self->t;
	struct pvring_sg sg[1] = { { tring_gpa(t, 0), 16 } };
	u32 base;

	if (t->format != PVRING_PACKED || t->num < 2)
		SKIP(return, "packed rings of 2 or more");
	ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, 1, 0, tok(0)));
	pvring_drv_kick_prepare(&t->drv);
	tring_pused_put(t, drv_next(t) - 1, (u16)(t->num - 1), 0);
	EXPECT_EQ(-EIO, pvring_drv_resume_base(&t->drv, false, &base));
	EXPECT_TRUE(pvring_drv_broken(&t->drv));
}

/* Kick suppression, flags-based: the device's NO_NOTIFY flag decides. */
TEST_F(drv, kick_flags)
{
	struct tring *t = &self->t;
	struct pvring_sg sg[1] = { { tring_gpa(t, 0), 8 } };
	struct pvring_chain c;
	u32 len;

	if (t->format == PVRING_PACKED)
		SKIP(return, "the split layout is what this test looks at");
	if (t->event_idx)
		SKIP(return, "flags-based mode only");
	ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, 1, 0, tok(1)));
	EXPECT_TRUE(pvring_drv_kick_prepare(&t->drv));
	pvring_dev_disable_notify(&t->dev);
	EXPECT_EQ(PVRING_USED_F_NO_NOTIFY, le16_to_cpu(t->used->flags));
	ASSERT_EQ(1, pvring_dev_pop(&t->dev, &c, self->seg, 64));
	pvring_dev_push_used(&t->dev, c.head, 0);
	ASSERT_EQ(tok(1), pvring_drv_get_used(&t->drv, &len));
	ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, 1, 0, tok(2)));
	EXPECT_FALSE(pvring_drv_kick_prepare(&t->drv));
	/* The device re-enables: it finds the pending chain, so no wait. */
	EXPECT_FALSE(pvring_dev_enable_notify(&t->dev));
	EXPECT_EQ(0, le16_to_cpu(t->used->flags));
	ASSERT_EQ(1, pvring_dev_pop(&t->dev, &c, self->seg, 64));
	pvring_dev_push_used(&t->dev, c.head, 0);
	ASSERT_EQ(tok(2), pvring_drv_get_used(&t->drv, &len));
	EXPECT_TRUE(pvring_dev_enable_notify(&t->dev));
	ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, 1, 0, tok(3)));
	EXPECT_TRUE(pvring_drv_kick_prepare(&t->drv));
}

/* Kick suppression, EVENT_IDX: kick only when avail->idx crosses avail_event. */
TEST_F(drv, kick_event_idx)
{
	struct tring *t = &self->t;
	struct pvring_sg sg[1] = { { tring_gpa(t, 0), 8 } };
	struct pvring_chain c;
	unsigned int i;
	u16 base;
	u32 len;

	if (t->format == PVRING_PACKED)
		SKIP(return, "the split layout is what this test looks at");
	if (!t->event_idx)
		SKIP(return, "EVENT_IDX only");
	base = le16_to_cpu(t->avail->idx);
	/* The device waits at last_avail: the first add crosses it. */
	EXPECT_TRUE(pvring_dev_enable_notify(&t->dev));
	EXPECT_EQ(base, le16_to_cpu(*pvring_avail_event(t->used, t->num)));
	ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, 1, 0, tok(1)));
	EXPECT_TRUE(pvring_drv_kick_prepare(&t->drv));
	/* The device has not moved avail_event: no more kicks. */
	if (t->num >= 2) {
		ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, 1, 0, tok(2)));
		EXPECT_FALSE(pvring_drv_kick_prepare(&t->drv));
	}
	/* A kick decision with nothing new added is never a kick. */
	EXPECT_FALSE(pvring_drv_kick_prepare(&t->drv));
	/* disable_notify leaves avail_event behind, still no kicks. */
	pvring_dev_disable_notify(&t->dev);
	while (pvring_dev_pop(&t->dev, &c, self->seg, 64) == 1)
		pvring_dev_push_used(&t->dev, c.head, 0);
	while (pvring_drv_get_used(&t->drv, &len))
		;
	EXPECT_EQ(t->num, pvring_drv_num_free(&t->drv));
	/* Several adds, then one decision: kick when avail_event is among them. */
	EXPECT_TRUE(pvring_dev_enable_notify(&t->dev));
	for (i = 0; i < t->num; i++)
		ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, 1, 0, tok(i)));
	EXPECT_TRUE(pvring_drv_kick_prepare(&t->drv));
	while (pvring_dev_pop(&t->dev, &c, self->seg, 64) == 1)
		pvring_dev_push_used(&t->dev, c.head, 0);
	while (pvring_drv_get_used(&t->drv, &len))
		;
	/* avail_event ahead of the batch: no kick until the index reaches it. */
	base = le16_to_cpu(t->avail->idx);
	*pvring_avail_event(t->used, t->num) = cpu_to_le16((u16)(base + 1));
	ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, 1, 0, tok(1)));
	EXPECT_FALSE(pvring_drv_kick_prepare(&t->drv));
	if (t->num >= 2) {
		ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, 1, 0, tok(2)));
		EXPECT_TRUE(pvring_drv_kick_prepare(&t->drv));
	}
}

/* disable_cb / enable_cb, and the device's notify decision, both modes. */
TEST_F(drv, callbacks)
{
	struct tring *t = &self->t;
	struct pvring_sg sg[1] = { { tring_gpa(t, 0), 8 } };
	struct pvring_chain c;
	u32 len;

	if (t->num < 2)
		SKIP(return, "needs two buffers in flight");
	ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, 1, 0, tok(1)));
	ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, 1, 0, tok(2)));
	ASSERT_EQ(1, pvring_dev_pop(&t->dev, &c, self->seg, 64));
	/* Enabled (the initial state): the first completion notifies. */
	EXPECT_TRUE(pvring_drv_enable_cb(&t->drv));
	pvring_dev_push_used(&t->dev, c.head, 0);
	EXPECT_TRUE(pvring_dev_should_notify(&t->dev));

	/*
	 * Disabled: the device is asked not to notify (flags mode); under
	 * EVENT_IDX the flags stay 0 (§2.7.7.1) and used_event stays behind.
	 */
	pvring_drv_disable_cb(&t->drv);
	if (t->format == PVRING_SPLIT) {
		EXPECT_EQ(t->event_idx ? 0 : PVRING_AVAIL_F_NO_INTERRUPT,
			  le16_to_cpu(t->avail->flags));
	} else {
		EXPECT_EQ(PVRING_EVENT_F_DISABLE,
			  pvring_event_flags(pvring_event_read(t->drv_event)));
	}
	ASSERT_EQ(1, pvring_dev_pop(&t->dev, &c, self->seg, 64));
	pvring_dev_push_used(&t->dev, c.head, 0);
	/*
	 * Flags mode: the flag says no.  EVENT_IDX: used_event was left at the
	 * first entry, already notified for, so no again.
	 */
	EXPECT_FALSE(pvring_dev_should_notify(&t->dev));

	/* The race-free re-check: the completion arrived while disabled. */
	EXPECT_FALSE(pvring_drv_enable_cb(&t->drv));
	EXPECT_EQ(tok(1), pvring_drv_get_used(&t->drv, &len));
	EXPECT_FALSE(pvring_drv_enable_cb(&t->drv));
	EXPECT_EQ(tok(2), pvring_drv_get_used(&t->drv, &len));
	EXPECT_TRUE(pvring_drv_enable_cb(&t->drv));
	/*
	 * Enabled: EVENT_IDX asks for the next completion through used_event,
	 * flags mode clears NO_INTERRUPT.  (No if/else around the two EXPECTs:
	 * the harness macros are not single statements.)
	 */
	if (t->format == PVRING_SPLIT) {
		EXPECT_EQ(t->event_idx ? t->drv.split.last_used : 0,
			  le16_to_cpu(t->event_idx ? *pvring_used_event(t->avail, t->num) :
						     t->avail->flags));
	} else {
		EXPECT_EQ(t->event_idx ? PVRING_EVENT_F_DESC : PVRING_EVENT_F_ENABLE,
			  pvring_event_flags(pvring_event_read(t->drv_event)));
	}

	/* Enabled and empty: the next completion notifies. */
	ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, 1, 0, tok(3)));
	ASSERT_EQ(1, pvring_dev_pop(&t->dev, &c, self->seg, 64));
	pvring_dev_push_used(&t->dev, c.head, 0);
	EXPECT_TRUE(pvring_dev_should_notify(&t->dev));
	/* Notified once; nothing pushed since: no second notification. */
	if (t->event_idx)
		EXPECT_FALSE(pvring_dev_should_notify(&t->dev));
	EXPECT_EQ(tok(3), pvring_drv_get_used(&t->drv, &len));
}

/*
 * The interleaving enable_cb exists for: the device pushes and decides not
 * to notify (callbacks were off), then the driver enables; it must see the
 * entry rather than sleep on a notification that will never come.
 */
TEST_F(drv, enable_cb_race)
{
	struct tring *t = &self->t;
	struct pvring_sg sg[1] = { { tring_gpa(t, 0), 8 } };
	struct pvring_chain c;
	u32 len;

	ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, 1, 0, tok(1)));
	/* Prime the device's notification history. */
	ASSERT_EQ(1, pvring_dev_pop(&t->dev, &c, self->seg, 64));
	pvring_dev_push_used(&t->dev, c.head, 0);
	pvring_dev_should_notify(&t->dev);
	ASSERT_EQ(tok(1), pvring_drv_get_used(&t->drv, &len));

	pvring_drv_disable_cb(&t->drv);
	ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, 1, 0, tok(2)));
	ASSERT_EQ(1, pvring_dev_pop(&t->dev, &c, self->seg, 64));
	pvring_dev_push_used(&t->dev, c.head, 0);
	EXPECT_FALSE(pvring_dev_should_notify(&t->dev));
	EXPECT_FALSE(pvring_drv_enable_cb(&t->drv));
	EXPECT_EQ(tok(2), pvring_drv_get_used(&t->drv, &len));
	EXPECT_TRUE(pvring_drv_enable_cb(&t->drv));
}

TEST_F(drv, enable_cb_delayed)
{
	struct tring *t = &self->t;
	struct pvring_sg sg[1] = { { tring_gpa(t, 0), 8 } };
	struct pvring_chain c;
	unsigned int i, n = 8;
	u16 *heads;
	u16 base;
	u32 len;

	if (t->format == PVRING_PACKED)
		SKIP(return, "the split layout is what this test looks at");
	if (t->num < 8)
		SKIP(return, "needs eight buffers in flight");
	heads = calloc(n, sizeof(*heads));
	ASSERT_NE(NULL, heads);
	/* Prime the device's notification history with one round trip. */
	ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, 1, 0, tok(99)));
	ASSERT_EQ(1, pvring_dev_pop(&t->dev, &c, self->seg, 64));
	pvring_dev_push_used(&t->dev, c.head, 0);
	pvring_dev_should_notify(&t->dev);
	ASSERT_EQ(tok(99), pvring_drv_get_used(&t->drv, &len));

	pvring_drv_disable_cb(&t->drv);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, 1, 0, tok(i)));
		ASSERT_EQ(1, pvring_dev_pop(&t->dev, &c, self->seg, 64));
		heads[i] = c.head;
	}
	base = t->drv.split.last_used;
	EXPECT_TRUE(pvring_drv_enable_cb_delayed(&t->drv));
	if (!t->event_idx) {
		/* Same as enable_cb: the first completion notifies. */
		EXPECT_EQ(0, le16_to_cpu(t->avail->flags));
		pvring_dev_push_used(&t->dev, heads[0], 0);
		EXPECT_TRUE(pvring_dev_should_notify(&t->dev));
		free(heads);
		return;
	}
	/* Notify when 3/4 of the 8 in flight (6) are used: on the 7th push. */
	EXPECT_EQ((u16)(base + 6), le16_to_cpu(*pvring_used_event(t->avail, t->num)));
	for (i = 0; i < 6; i++) {
		pvring_dev_push_used(&t->dev, heads[i], 0);
		EXPECT_FALSE(pvring_dev_should_notify(&t->dev)) TH_LOG("push %u", i);
	}
	/* Six used but not yet seven: the notification is still to come. */
	EXPECT_TRUE(pvring_drv_enable_cb_delayed(&t->drv));
	pvring_dev_push_used(&t->dev, heads[6], 0);
	/* Re-enabled above at last_used + 3/4 of 8: crossed now. */
	EXPECT_TRUE(pvring_dev_should_notify(&t->dev));
	/* Past the event point: waiting would never end, so false. */
	pvring_dev_push_used(&t->dev, heads[7], 0);
	EXPECT_FALSE(pvring_drv_enable_cb_delayed(&t->drv));
	for (i = 0; i < n; i++)
		EXPECT_EQ(tok(i), pvring_drv_get_used(&t->drv, &len));
	EXPECT_TRUE(pvring_drv_enable_cb_delayed(&t->drv));
	free(heads);
}

/* Hostile device: used ids and indices the driver must refuse. */
TEST_F(drv, used_id_out_of_range)
{
	struct tring *t = &self->t;
	struct pvring_sg sg[1] = { { tring_gpa(t, 0), 8 } };
	u32 len = 123;

	ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, 1, 0, tok(1)));
	tring_used_put(t, t->num, 0);
	EXPECT_EQ(NULL, pvring_drv_get_used(&t->drv, &len));
	EXPECT_EQ(0, len);
	EXPECT_TRUE(pvring_drv_broken(&t->drv));
	EXPECT_EQ(-EIO, pvring_drv_add(&t->drv, sg, 1, 0, tok(2)));
	/* Broken for good: even when the device "fixes" the entry. */
	if (t->format == PVRING_PACKED)
		t->pdesc[t->drv.packed.last_used & (t->num - 1)].id = 0;
	else
		t->used->ring[(le16_to_cpu(t->used->idx) - 1) & (t->num - 1)].id = cpu_to_le32(0);
	EXPECT_EQ(NULL, pvring_drv_get_used(&t->drv, &len));
	EXPECT_TRUE(pvring_drv_broken(&t->drv));
	/* Nothing to wait for on a broken ring: enable_cb must not spin the caller. */
	EXPECT_TRUE(pvring_drv_enable_cb(&t->drv));
	/* The buffer in flight can still be taken back for teardown. */
	EXPECT_EQ(tok(1), pvring_drv_detach_unused(&t->drv));
}

TEST_F(drv, used_id_huge)
{
	struct tring *t = &self->t;
	struct pvring_sg sg[1] = { { tring_gpa(t, 0), 8 } };
	u32 len;

	ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, 1, 0, tok(1)));
	tring_used_put(t, 0xffffffffu, 0);
	EXPECT_EQ(NULL, pvring_drv_get_used(&t->drv, &len));
	EXPECT_TRUE(pvring_drv_broken(&t->drv));
}

TEST_F(drv, used_id_not_in_flight)
{
	struct tring *t = &self->t;
	struct pvring_sg sg[1] = { { tring_gpa(t, 0), 8 } };
	u32 len;

	/* Nothing in flight at all. */
	tring_used_put(t, 0, 0);
	EXPECT_EQ(NULL, pvring_drv_get_used(&t->drv, &len));
	EXPECT_TRUE(pvring_drv_broken(&t->drv));
	EXPECT_EQ(-EIO, pvring_drv_add(&t->drv, sg, 1, 0, tok(1)));
}

TEST_F(drv, used_id_twice)
{
	struct tring *t = &self->t;
	struct pvring_sg sg[1] = { { tring_gpa(t, 0), 8 } };
	struct pvring_chain c;
	u32 len;

	if (t->num < 2)
		SKIP(return, "two used entries need a ring of two");
	ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, 1, 0, tok(1)));
	ASSERT_EQ(1, pvring_dev_pop(&t->dev, &c, self->seg, 64));
	tring_used_put(t, c.head, 0);
	tring_used_put(t, c.head, 0);
	EXPECT_EQ(tok(1), pvring_drv_get_used(&t->drv, &len));
	EXPECT_FALSE(pvring_drv_broken(&t->drv));
	EXPECT_EQ(NULL, pvring_drv_get_used(&t->drv, &len));
	EXPECT_TRUE(pvring_drv_broken(&t->drv));
}

/* The id of a descriptor in flight that is not a chain's head. */
TEST_F(drv, used_id_not_a_head)
{
	struct tring *t = &self->t;
	struct pvring_sg sg[2] = { { tring_gpa(t, 0), 8 }, { tring_gpa(t, 8), 8 } };
	u16 head = t->drv.free_head, second;
	u32 len;

	if (t->format == PVRING_PACKED)
		SKIP(return, "the split layout is what this test looks at");
	if (t->num < 2 || t->indirect)
		SKIP(return, "needs a direct chain of two");
	second = t->drv.slot[head].next;
	ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, 1, 1, tok(1)));
	tring_used_put(t, second, 0);
	EXPECT_EQ(NULL, pvring_drv_get_used(&t->drv, &len));
	EXPECT_TRUE(pvring_drv_broken(&t->drv));
}

TEST_F(drv, used_idx_jump)
{
	struct tring *t = &self->t;
	struct pvring_sg sg[1] = { { tring_gpa(t, 0), 8 } };
	u16 idx = le16_to_cpu(t->used->idx);
	u32 len;

	if (t->format == PVRING_PACKED)
		SKIP(return, "the split layout is what this test looks at");
	ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, 1, 0, tok(1)));
	pvring_store_release(&t->used->idx, cpu_to_le16((u16)(idx + t->num + 1)));
	EXPECT_EQ(NULL, pvring_drv_get_used(&t->drv, &len));
	EXPECT_TRUE(pvring_drv_broken(&t->drv));
	EXPECT_EQ(-EIO, pvring_drv_add(&t->drv, sg, 1, 0, tok(2)));
	/* The index coming back does not un-break the ring. */
	pvring_store_release(&t->used->idx, cpu_to_le16(idx));
	EXPECT_EQ(NULL, pvring_drv_get_used(&t->drv, &len));
	EXPECT_EQ(-EIO, pvring_drv_add(&t->drv, sg, 1, 0, tok(2)));
}

TEST_F(drv, used_idx_backwards)
{
	struct tring *t = &self->t;
	u16 idx = le16_to_cpu(t->used->idx);
	u32 len;

	if (t->format == PVRING_PACKED)
		SKIP(return, "the split layout is what this test looks at");
	pvring_store_release(&t->used->idx, cpu_to_le16((u16)(idx - 1)));
	EXPECT_EQ(NULL, pvring_drv_get_used(&t->drv, &len));
	EXPECT_TRUE(pvring_drv_broken(&t->drv));
}

TEST_F(drv, used_len_clamped)
{
	struct tring *t = &self->t;
	struct pvring_sg sg[2] = { { tring_gpa(t, 0), 100 }, { tring_gpa(t, 4096), 50 } };
	struct pvring_chain c;
	u32 len;

	if (t->num < 2 && !t->indirect) {
		sg[0] = sg[1];
		ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, 0, 1, tok(1)));
	} else {
		ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, 1, 1, tok(1)));
	}
	ASSERT_EQ(1, pvring_dev_pop(&t->dev, &c, self->seg, 64));
	tring_used_put(t, c.head, 0xffffffffu);
	EXPECT_EQ(tok(1), pvring_drv_get_used(&t->drv, &len));
	EXPECT_EQ(50, len);
	EXPECT_FALSE(pvring_drv_broken(&t->drv));
	/* Out-only chain: nothing writable, so 0 whatever the device says. */
	ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, 1, 0, tok(2)));
	ASSERT_EQ(1, pvring_dev_pop(&t->dev, &c, self->seg, 64));
	tring_used_put(t, c.head, 51);
	EXPECT_EQ(tok(2), pvring_drv_get_used(&t->drv, &len));
	EXPECT_EQ(0, len);
}

/*
 * IN_ORDER: one used element for a batch (§2.7.9, §2.8.23) completes every
 * chain up to the one it names, in order, the earlier ones with the
 * writable size they were offered; the ring goes on after it.
 */
TEST_F(drv, in_order_batch)
{
	struct tring *t = &self->t;
	struct pvring_sg sg[3] = { { tring_gpa(t, 0), 16 },
				   { tring_gpa(t, 64), 100 },
				   { tring_gpa(t, 256), 50 } };
	unsigned int round;
	struct pvring_chain c;
	u16 last = 0;
	bool big;
	u32 len;

	if (!t->in_order)
		SKIP(return, "IN_ORDER variants only");
	if (t->num < 4)
		SKIP(return, "a batch of three and one more needs a ring of four");
	/* Twice, so that the second round starts mid-ring (and across a lap). */
	for (round = 0; round < 2 * t->num / 4 + 1; round++) {
		ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, 1, 0, tok(1))); /* out only */
		ASSERT_EQ(0, pvring_drv_add(&t->drv, sg + 1, 0, 1, tok(2))); /* 100 writable */
		/* 150 writable: three descriptors, or one from a table; 50 in a small ring. */
		big = t->num >= 8 || t->indirect;
		ASSERT_EQ(0, pvring_drv_add(&t->drv, big ? sg : sg + 2, big, big ? 2 : 1, tok(3)));
		ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, 1, 0, tok(4)));
		for (unsigned int i = 0; i < 4; i++) {
			ASSERT_EQ(1, pvring_dev_pop(&t->dev, &c, self->seg, 64));
			if (i == 2)
				last = c.head;
		}
		/* One element for the first three, named by the third. */
		tring_used_put_batch(t, last, 7, 3);
		EXPECT_TRUE(pvring_drv_more_used(&t->drv));
		EXPECT_EQ(tok(1), pvring_drv_get_used(&t->drv, &len));
		EXPECT_EQ(0, len);
		EXPECT_FALSE(pvring_drv_enable_cb(&t->drv)); /* the batch is there to reap */
		EXPECT_EQ(tok(2), pvring_drv_get_used(&t->drv, &len));
		EXPECT_EQ(100, len);
		EXPECT_EQ(tok(3), pvring_drv_get_used(&t->drv, &len));
		EXPECT_EQ(7, len);
		EXPECT_EQ(NULL, pvring_drv_get_used(&t->drv, &len));
		EXPECT_FALSE(pvring_drv_broken(&t->drv));
		/* The fourth, alone. */
		tring_used_put_batch(t, c.head, 0, 1);
		EXPECT_EQ(tok(4), pvring_drv_get_used(&t->drv, &len));
		EXPECT_EQ(NULL, pvring_drv_get_used(&t->drv, &len));
		EXPECT_EQ(t->num, pvring_drv_num_free(&t->drv));
		EXPECT_FALSE(pvring_drv_broken(&t->drv));
	}
	pvring_drv_disable_cb(&t->drv);
	EXPECT_TRUE(pvring_drv_enable_cb(&t->drv));
}

/* IN_ORDER, the device side's batches read back by the driver (real device). */
TEST_F(drv, in_order_device_batches)
{
	struct tring *t = &self->t;
	struct pvring_sg sg[2] = { { tring_gpa(t, 0), 16 }, { tring_gpa(t, 64), 32 } };
	struct pvring_chain c[8];
	unsigned int i, n = t->num < 8 ? t->num : 8;
	u16 seq;
	u32 len;

	if (!t->in_order)
		SKIP(return, "IN_ORDER variants only");
	/* Even: out only (sent whole, batchable); odd: 32 writable, 5 used (not). */
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, pvring_drv_add(&t->drv, sg + (i & 1), i & 1 ? 0 : 1, i & 1 ? 1 : 0,
					    tok(i)));
	seq = t->format == PVRING_PACKED ? t->dev.packed.used_seq : 0;
	for (i = 0; i < n; i++) {
		ASSERT_EQ(1, pvring_dev_pop(&t->dev, &c[i], self->seg, 64));
		pvring_dev_put(&t->dev, c[i].head, i & 1 ? 5 : 0);
	}
	pvring_dev_publish(&t->dev);
	if (t->format == PVRING_PACKED) {
		/*
		 * A used descriptor per odd put, named by it, the even one
		 * before it riding along; and one for the last put.
		 */
		u16 pos = seq;

		for (i = 0; i < n; i++) {
			seq++;
			if (!(i & 1) && i + 1 < n)
				continue;
			EXPECT_EQ(c[i].head, le16_to_cpu(t->pdesc[pos & (t->num - 1)].id));
			EXPECT_EQ(i & 1 ? 5 : 0, le32_to_cpu(t->pdesc[pos & (t->num - 1)].len));
			pos = seq;
		}
		EXPECT_EQ(seq, t->dev.packed.used_seq);
	}
	for (i = 0; i < n; i++) {
		EXPECT_EQ(tok(i), pvring_drv_get_used(&t->drv, &len));
		EXPECT_EQ(i & 1 ? 5 : 0, len);
	}
	EXPECT_EQ(NULL, pvring_drv_get_used(&t->drv, &len));
	EXPECT_FALSE(pvring_drv_broken(&t->drv));
	EXPECT_EQ(t->num, pvring_drv_num_free(&t->drv));
}

/* Two 8-byte writable buffers (tokens 1 and 2) added, and popped as @a, @b. */
static void two_popped(struct __test_metadata *_metadata, struct tring *t, struct pvring_seg *seg,
		       struct pvring_chain *a, struct pvring_chain *b)
{
	struct pvring_sg sg[1] = { { tring_gpa(t, 0), 8 } };

	ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, 0, 1, tok(1)));
	ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, 0, 1, tok(2)));
	ASSERT_EQ(1, pvring_dev_pop(&t->dev, a, seg, 64));
	ASSERT_EQ(1, pvring_dev_pop(&t->dev, b, seg, 64));
}

/* IN_ORDER, hostile: the second chain used first, then the first: broken. */
TEST_F(drv, in_order_id_out_of_order)
{
	struct tring *t = &self->t;
	struct pvring_sg sg[1] = { { tring_gpa(t, 0), 8 } };
	struct pvring_chain a, b;
	u32 len;

	if (!t->in_order)
		SKIP(return, "IN_ORDER variants only");
	if (t->num < 2)
		SKIP(return, "two chains need a ring of two");
	two_popped(_metadata, t, self->seg, &a, &b);
	tring_used_put_batch(t, b.head, 3, 2);
	tring_used_put_batch(t, a.head, 4, 1);
	/* b's element is read as the batch a, b; then a is not in flight. */
	EXPECT_EQ(tok(1), pvring_drv_get_used(&t->drv, &len));
	EXPECT_EQ(8, len);
	EXPECT_EQ(tok(2), pvring_drv_get_used(&t->drv, &len));
	EXPECT_EQ(3, len);
	EXPECT_FALSE(pvring_drv_broken(&t->drv));
	EXPECT_EQ(NULL, pvring_drv_get_used(&t->drv, &len));
	EXPECT_TRUE(pvring_drv_broken(&t->drv));
	EXPECT_EQ(-EIO, pvring_drv_add(&t->drv, sg, 0, 1, tok(3)));
}

/* IN_ORDER split, hostile: the element names the second chain, the index moved by one. */
TEST_F(drv, in_order_split_index_short)
{
	struct tring *t = &self->t;
	struct pvring_chain a, b;
	u32 len;

	if (!t->in_order || t->format != PVRING_SPLIT)
		SKIP(return, "IN_ORDER split variants only");
	if (t->num < 2)
		SKIP(return, "two chains need a ring of two");
	two_popped(_metadata, t, self->seg, &a, &b);
	tring_used_put_batch(t, b.head, 3, 1);
	EXPECT_EQ(NULL, pvring_drv_get_used(&t->drv, &len));
	EXPECT_TRUE(pvring_drv_broken(&t->drv));
}

/* IN_ORDER split, hostile: a batch's index says two, the element names the first. */
TEST_F(drv, in_order_split_index_past_named)
{
	struct tring *t = &self->t;
	struct pvring_chain a, b;
	u32 len;

	if (!t->in_order || t->format != PVRING_SPLIT)
		SKIP(return, "IN_ORDER split variants only");
	if (t->num < 2)
		SKIP(return, "two chains need a ring of two");
	two_popped(_metadata, t, self->seg, &a, &b);
	/* a's element with the index moved by two: the driver takes a, then reads past it. */
	tring_used_put_batch(t, a.head, 1, 2);
	EXPECT_EQ(tok(1), pvring_drv_get_used(&t->drv, &len));
	EXPECT_EQ(1, len);
	/* The second entry was never written: what it holds (a's id again) is not in flight. */
	t->used->ring[(le16_to_cpu(t->used->idx) - 1) & (t->num - 1)].id = cpu_to_le32(a.head);
	EXPECT_EQ(NULL, pvring_drv_get_used(&t->drv, &len));
	EXPECT_TRUE(pvring_drv_broken(&t->drv));
}

/*
 * NOTIFICATION_DATA's position (§2.9): what the device has been shown, as
 * next_idx (split) or next_off | next_wrap << 15 (packed), laps included.
 */
TEST_F(drv, notify_pos)
{
	struct tring *t = &self->t;
	struct pvring_sg sg[1] = { { tring_gpa(t, 0), 8 } };
	struct pvring_chain c;
	unsigned int i;
	u16 pos;
	u32 len;

	for (i = 0; i < 3 * t->num + 1; i++) {
		pos = pvring_drv_notify_pos(&t->drv);
		ASSERT_EQ(0, pvring_drv_stage(&t->drv, sg, 1, 0, tok(i)));
		/* Staged is not shown. */
		EXPECT_EQ(pos, pvring_drv_notify_pos(&t->drv));
		pvring_drv_kick_prepare(&t->drv);
		if (t->format == PVRING_PACKED) {
			u16 seq = t->drv.packed.avail_seq;

			EXPECT_EQ(pvring_packed_off_wrap(seq, t->num),
				  pvring_drv_notify_pos(&t->drv));
			EXPECT_EQ(seq & (t->num - 1), pvring_drv_notify_pos(&t->drv) & 0x7fff);
			EXPECT_EQ(!(seq & t->num), pvring_drv_notify_pos(&t->drv) >> 15);
		} else {
			EXPECT_EQ(le16_to_cpu(t->avail->idx), pvring_drv_notify_pos(&t->drv));
			EXPECT_EQ((u16)(pos + 1), pvring_drv_notify_pos(&t->drv));
		}
		ASSERT_EQ(1, pvring_dev_pop(&t->dev, &c, self->seg, 64));
		pvring_dev_push_used(&t->dev, c.head, 0);
		ASSERT_EQ(tok(i), pvring_drv_get_used(&t->drv, &len));
	}
}

/*
 * A batch of staged chains is hidden from the device until it is published,
 * wherever in the ring (which cache lines, which lap) it lies, and comes out
 * whole; a first stage that is refused (too long, no room) publishes
 * nothing.
 */
TEST_F(drv, stage_batch)
{
	struct tring *t = &self->t;
	struct pvring_sg sg[3] = {
		{ tring_gpa(t, 0), 16 },
		{ tring_gpa(t, 64), 32 },
		{ tring_gpa(t, 128), 48 },
	};
	unsigned int round, i, k, total, ndesc[8], heads[8];
	struct pvring_chain c;
	u32 len;
	int ret;

	for (round = 0; round < 3 * t->num + 40; round++) {
		/* 1 to 8 chains of 1 to 3 descriptors, as many as are taken. */
		for (k = 0; k < 1 + round % 8; k++) {
			total = 1 + (round + k) % 3;
			ret = pvring_drv_stage(&t->drv, sg, total, 0, tok(round * 8 + k));
			if (ret) {
				EXPECT_TRUE(ret == -ENOSPC || ret == -EINVAL);
				break;
			}
			ndesc[k] = total;
		}
		EXPECT_EQ(0, pvring_dev_pop(&t->dev, &c, self->seg, 64));
		pvring_drv_publish(&t->drv);
		for (i = 0; i < k; i++) {
			ASSERT_EQ(1, pvring_dev_pop(&t->dev, &c, self->seg, 64));
			EXPECT_EQ(ndesc[i], c.nseg);
			EXPECT_EQ(sum_len(sg, 0, ndesc[i]), c.out_len);
			EXPECT_EQ(0, c.in_len);
			heads[i] = c.head;
		}
		EXPECT_EQ(0, pvring_dev_pop(&t->dev, &c, self->seg, 64));
		for (i = 0; i < k; i++) {
			pvring_dev_push_used(&t->dev, heads[i], 0);
			EXPECT_EQ(tok(round * 8 + i), pvring_drv_get_used(&t->drv, &len));
		}
		EXPECT_EQ(t->num, pvring_drv_num_free(&t->drv));
	}
	/* A full ring: the refused stage leaves nothing to publish. */
	for (i = 0; i < t->num; i++)
		ASSERT_EQ(0, pvring_drv_add(&t->drv, sg, 1, 0, tok(i)));
	EXPECT_EQ(-ENOSPC, pvring_drv_stage(&t->drv, sg, 1, 0, tok(t->num)));
	EXPECT_EQ(false, pvring_drv_broken(&t->drv));
	pvring_drv_publish(&t->drv);
	for (i = 0; i < t->num; i++) {
		ASSERT_EQ(1, pvring_dev_pop(&t->dev, &c, self->seg, 64));
		pvring_dev_push_used(&t->dev, c.head, 0);
	}
	EXPECT_EQ(0, pvring_dev_pop(&t->dev, &c, self->seg, 64));
	for (i = 0; i < t->num; i++)
		EXPECT_NE(NULL, pvring_drv_get_used(&t->drv, &len));
	EXPECT_EQ(t->num, pvring_drv_num_free(&t->drv));
}

/* Set-up: every valid size works, in both notification modes. */
TEST(init_sizes)
{
	enum pvring_format fmt;
	struct pvring_seg seg[1];
	struct pvring_chain c;
	unsigned int num, i, round;
	struct tring t;
	u32 len;

	/* Every size of both formats: split, then packed from 1 again. */
	for (num = 1, fmt = PVRING_SPLIT; num <= PVRING_MAX_SIZE;
	     num = fmt == PVRING_SPLIT && num == PVRING_MAX_SIZE ? (fmt = PVRING_PACKED, 1) :
								   num << 1) {
		bool ev = num & 0x5555;
		struct pvring_sg sg[1];

		ASSERT_EQ(0, tring_init_fmt(&t, fmt, num, ev, num >= 4 ? 4 : 0, 4096))
		TH_LOG("num %u", num);
		EXPECT_EQ(num, pvring_drv_num_free(&t.drv));
		if (fmt == PVRING_SPLIT) {
			EXPECT_EQ(0, le16_to_cpu(t.avail->idx));
			EXPECT_EQ(0, le16_to_cpu(t.used->idx));
			EXPECT_EQ(0, le16_to_cpu(t.avail->flags));
			EXPECT_EQ(0, le16_to_cpu(t.used->flags));
		} else {
			EXPECT_EQ(0, pvring_event_read(t.drv_event));
			EXPECT_EQ(0, pvring_event_read(t.dev_event));
			EXPECT_EQ(0, le16_to_cpu(t.pdesc[num - 1].flags));
		}
		sg[0] = (struct pvring_sg){ tring_gpa(&t, 0), 1 };
		/* Fill it completely and drain it, twice: every slot is usable. */
		for (round = 0; round < 2; round++) {
			for (i = 0; i < num; i++)
				ASSERT_EQ(0, pvring_drv_add(&t.drv, sg, 1, 0, tok(i)));
			/* Full: one more is refused. */
			EXPECT_EQ(-ENOSPC, pvring_drv_add(&t.drv, sg, 1, 0, tok(0)));
			EXPECT_EQ(num, pvring_dev_avail(&t.dev));
			for (i = 0; i < num; i++) {
				ASSERT_EQ(1, pvring_dev_pop(&t.dev, &c, seg, 1));
				pvring_dev_push_used(&t.dev, c.head, 0);
			}
			for (i = 0; i < num; i++)
				ASSERT_EQ(tok(i), pvring_drv_get_used(&t.drv, &len));
			EXPECT_EQ(NULL, pvring_drv_get_used(&t.drv, &len));
			EXPECT_EQ(num, pvring_drv_num_free(&t.drv));
		}
		tring_fini(&t);
	}
}

TEST(init_invalid)
{
	static const unsigned int bad[] = { 0, 3, 6, 100, 32767, 32769, 65535, 65536, 1u << 31 };
	struct pvring_drv_config cfg;
	struct pvring_drv vr;
	struct pvring_drv_slot slot[4];
	struct pvring_desc ind[8];
	static u8 area[3][4096] __attribute__((aligned(4096)));
	unsigned int i;

	memset(&cfg, 0, sizeof(cfg));
	cfg.desc = area[0];
	cfg.driver = area[1];
	cfg.device = area[2];
	cfg.slot = slot;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cfg.num = bad[i];
		EXPECT_EQ(-EINVAL, pvring_drv_init(&vr, &cfg)) TH_LOG("num %u", bad[i]);
	}
	cfg.num = 4;
	ASSERT_EQ(0, pvring_drv_init(&vr, &cfg));
	cfg.desc = NULL;
	EXPECT_EQ(-EINVAL, pvring_drv_init(&vr, &cfg));
	cfg.desc = area[0];
	cfg.driver = NULL;
	EXPECT_EQ(-EINVAL, pvring_drv_init(&vr, &cfg));
	cfg.driver = area[1];
	cfg.device = NULL;
	EXPECT_EQ(-EINVAL, pvring_drv_init(&vr, &cfg));
	cfg.device = area[2];
	cfg.slot = NULL;
	EXPECT_EQ(-EINVAL, pvring_drv_init(&vr, &cfg));
	cfg.slot = slot;
	cfg.indirect = ind;
	cfg.indirect_max = 1;
	EXPECT_EQ(-EINVAL, pvring_drv_init(&vr, &cfg));
	cfg.indirect_max = PVRING_MAX_SIZE + 1;
	EXPECT_EQ(-EINVAL, pvring_drv_init(&vr, &cfg));
	cfg.indirect_max = 2;
	EXPECT_EQ(0, pvring_drv_init(&vr, &cfg));
}

TEST_HARNESS_MAIN
