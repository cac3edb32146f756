/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ring_test.h - a ring with both sides in one process, for the ring's tests.
 *
 * struct tring owns everything a ring needs: the three shared areas, the
 * driver's slot array and indirect pool, a buffer pool, and the device's
 * memory table.  Guest-physical addresses are fake and far from the host
 * addresses, so a test that confuses the two fails at once:
 *
 *   TRING_POOL_GPA      the buffer pool (pool_size bytes)
 *   TRING_IND_GPA       the indirect tables, after a hole of unmapped space
 *
 * The hostile-peer tests write the shared areas directly through the helpers
 * at the end (tring_desc_set(), tring_avail_put(), tring_used_put()).
 */
#ifndef RING_TEST_H
#define RING_TEST_H

#include <stdlib.h>
#include <stdio.h>

#include "pvring_drv.h"
#include "pvring_dev.h"

#define TRING_POOL_GPA 0x100000000ULL
#define TRING_IND_GPA 0x300000000ULL

struct tring {
	unsigned int num;
	bool event_idx;
	bool indirect;
	unsigned int indirect_max;
	void *area; /* desc, avail and used, page aligned */
	struct pvring_desc *desc;
	struct pvring_avail *avail;
	struct pvring_used *used;
	struct pvring_drv_slot *slot;
	struct pvring_desc *ind; /* num * indirect_max, or NULL */
	u8 *pool;
	size_t pool_size;
	struct pvring_mem mem;
	struct pvring_drv drv;
	struct pvring_dev dev;
};

static inline size_t tring_align(size_t x, size_t a)
{
	return (x + a - 1) & ~(a - 1);
}

/*
 * tring_init - allocate and initialise both sides.  @indirect_max 0 means
 * no indirect tables; the device negotiates INDIRECT_DESC exactly when the
 * driver has them.  Return: 0 or -errno.
 */
static inline int tring_init(struct tring *t, unsigned int num, bool event_idx,
			     unsigned int indirect_max, size_t pool_size)
{
	size_t desc_sz, avail_sz, used_sz, ind_sz;
	struct pvring_drv_config dcfg;
	struct pvring_dev_config vcfg;
	int ret;

	memset(t, 0, sizeof(*t));
	t->num = num;
	t->event_idx = event_idx;
	t->indirect = indirect_max != 0;
	t->indirect_max = indirect_max;
	desc_sz = tring_align(pvring_desc_bytes(num), 64);
	avail_sz = tring_align(pvring_avail_bytes(num), 64);
	used_sz = tring_align(pvring_used_bytes(num), 64);
	if (posix_memalign(&t->area, 4096, desc_sz + avail_sz + used_sz))
		return -ENOMEM;
	/* Garbage, not zeroes: pvring_drv_init() must clear the areas itself. */
	memset(t->area, 0xa5, desc_sz + avail_sz + used_sz);
	t->desc = t->area;
	t->avail = (void *)((u8 *)t->area + desc_sz);
	t->used = (void *)((u8 *)t->area + desc_sz + avail_sz);
	t->slot = calloc(num, sizeof(*t->slot));
	t->pool_size = pool_size;
	if (posix_memalign((void **)&t->pool, 4096, pool_size ? pool_size : 1))
		t->pool = NULL;
	if (t->indirect) {
		ind_sz = (size_t)num * indirect_max * sizeof(struct pvring_desc);
		if (posix_memalign((void **)&t->ind, 64, ind_sz))
			t->ind = NULL;
	}
	if (!t->slot || !t->pool || (t->indirect && !t->ind))
		return -ENOMEM;
	memset(t->pool, 0, pool_size);

	t->mem.nregions = 1;
	t->mem.region[0].gpa = TRING_POOL_GPA;
	t->mem.region[0].size = pool_size;
	t->mem.region[0].hva = t->pool;
	if (t->indirect) {
		t->mem.nregions = 2;
		t->mem.region[1].gpa = TRING_IND_GPA;
		t->mem.region[1].size = (u64)num * indirect_max * sizeof(struct pvring_desc);
		t->mem.region[1].hva = (u8 *)t->ind;
	}

	memset(&dcfg, 0, sizeof(dcfg));
	dcfg.num = num;
	dcfg.event_idx = event_idx;
	dcfg.desc = t->desc;
	dcfg.driver = t->avail;
	dcfg.device = t->used;
	dcfg.slot = t->slot;
	if (t->indirect) {
		dcfg.indirect = t->ind;
		dcfg.indirect_addr = TRING_IND_GPA;
		dcfg.indirect_max = indirect_max;
	}
	ret = pvring_drv_init(&t->drv, &dcfg);
	if (ret)
		return ret;

	memset(&vcfg, 0, sizeof(vcfg));
	vcfg.num = num;
	vcfg.event_idx = event_idx;
	vcfg.indirect = t->indirect;
	vcfg.desc = t->desc;
	vcfg.driver = t->avail;
	vcfg.device = t->used;
	vcfg.mem = &t->mem;
	return pvring_dev_init(&t->dev, &vcfg);
}

static inline void tring_fini(struct tring *t)
{
	free(t->area);
	free(t->slot);
	free(t->pool);
	free(t->ind);
	memset(t, 0, sizeof(*t));
}

/*
 * tring_start_at - move a fresh ring's free-running indices to @idx, as if
 * @idx buffers had already gone round: the way to test the 65535 -> 0 wrap
 * without 65536 round trips.  Only on an idle ring straight after
 * tring_init().
 */
static inline void tring_start_at(struct tring *t, u16 idx)
{
	struct pvring_dev_config vcfg;

	t->avail->idx = cpu_to_le16(idx);
	t->used->idx = cpu_to_le16(idx);
	*pvring_used_event(t->avail, t->num) = cpu_to_le16(idx);
	*pvring_avail_event(t->used, t->num) = cpu_to_le16(idx);
	t->drv.split.avail_idx = idx;
	t->drv.split.published_idx = idx;
	t->drv.split.kicked_idx = idx;
	t->drv.split.last_used = idx;
	t->drv.split.used_idx = idx;

	memset(&vcfg, 0, sizeof(vcfg));
	vcfg.num = t->num;
	vcfg.event_idx = t->event_idx;
	vcfg.indirect = t->indirect;
	vcfg.desc = t->desc;
	vcfg.driver = t->avail;
	vcfg.device = t->used;
	vcfg.mem = &t->mem;
	vcfg.base = idx;
	pvring_dev_init(&t->dev, &vcfg);
}

/* Guest-physical address of pool offset @off, and back. */
static inline u64 tring_gpa(const struct tring *t, size_t off)
{
	return TRING_POOL_GPA + off;
}

static inline u8 *tring_hva(const struct tring *t, size_t off)
{
	return t->pool + off;
}

/* Hostile driver: write descriptor @i of @table (the main one when NULL). */
static inline void tring_desc_set(struct tring *t, struct pvring_desc *table, unsigned int i,
				  u64 addr, u32 len, u16 flags, u16 next)
{
	struct pvring_desc *d = (table ? table : t->desc) + i;

	d->addr = cpu_to_le64(addr);
	d->len = cpu_to_le32(len);
	d->flags = cpu_to_le16(flags);
	d->next = cpu_to_le16(next);
}

/* Hostile driver: make @head available, bypassing pvring_drv_add(). */
static inline void tring_avail_put(struct tring *t, u16 head)
{
	u16 idx = le16_to_cpu(t->avail->idx);

	t->avail->ring[idx & (t->num - 1)] = cpu_to_le16(head);
	pvring_store_release(&t->avail->idx, cpu_to_le16((u16)(idx + 1)));
}

/* Hostile device: publish a used element, bypassing pvring_dev_push_used(). */
static inline void tring_used_put(struct tring *t, u32 id, u32 len)
{
	u16 idx = le16_to_cpu(t->used->idx);

	t->used->ring[idx & (t->num - 1)].id = cpu_to_le32(id);
	t->used->ring[idx & (t->num - 1)].len = cpu_to_le32(len);
	pvring_store_release(&t->used->idx, cpu_to_le16((u16)(idx + 1)));
}

/* Deterministic pseudo-random numbers (xorshift64*), seedable per test. */
static inline u64 tring_rand(u64 *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

#endif /* RING_TEST_H */
