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
 * at the end (tring_desc_set(), tring_avail_put(), tring_used_put(); for a
 * packed ring tring_pdesc_set() and tring_pused_put()).
 *
 * tring_init() sets up a split ring, tring_init_fmt() either format.
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
	enum pvring_format format;
	unsigned int num;
	bool event_idx;
	bool indirect;
	bool in_order; /* VIRTIO_F_IN_ORDER on both sides */
	unsigned int indirect_max;
	void *area; /* desc, avail and used, page aligned */
	struct pvring_desc *desc;
	struct pvring_avail *avail;
	struct pvring_used *used;
	/* Packed: the same memory seen as the descriptor ring and the two events. */
	struct pvring_desc_packed *pdesc;
	struct pvring_event *drv_event; /* driver event suppression (driver area) */
	struct pvring_event *dev_event; /* device event suppression (device area) */
	void *dev_state; /* the device side's private state */
	u16 pused_seq; /* tring_used_put()'s position in a packed ring */
	bool pused_valid;
	struct pvring_drv_slot *slot;
	struct pvring_desc *ind; /* num * indirect_max, or NULL */
	u8 *pool;
	size_t pool_size;
	/*
	 * The device's state and the driver's each on cache lines of their
	 * own, as they would be in two address spaces: the driver writes its
	 * indices on every request and the device reads its configuration
	 * (mem, num, mask) on every pop; sharing a line would bounce it
	 * between the two CPUs of a two-thread test and charge that to the
	 * ring.
	 */
	struct pvring_mem mem __attribute__((aligned(64)));
	struct pvring_drv drv __attribute__((aligned(64)));
	struct pvring_dev dev __attribute__((aligned(64)));
};

static inline size_t tring_align(size_t x, size_t a)
{
	return (x + a - 1) & ~(a - 1);
}

/* (Re)start the device side of @t at SET_VRING_BASE value @base. */
static inline int tring_dev_init(struct tring *t, u32 base)
{
	struct pvring_dev_config vcfg;

	memset(&vcfg, 0, sizeof(vcfg));
	vcfg.format = t->format;
	vcfg.num = t->num;
	vcfg.event_idx = t->event_idx;
	vcfg.indirect = t->indirect;
	vcfg.in_order = t->in_order;
	vcfg.desc = t->desc;
	vcfg.driver = t->avail;
	vcfg.device = t->used;
	vcfg.mem = &t->mem;
	vcfg.state = t->dev_state;
	vcfg.base = base;
	return pvring_dev_init(&t->dev, &vcfg);
}

/*
 * tring_init_ord - allocate and initialise both sides of a ring of @format.
 * @indirect_max 0 means no indirect tables; the device negotiates
 * INDIRECT_DESC exactly when the driver has them.  @in_order: both sides
 * negotiated VIRTIO_F_IN_ORDER.  Return: 0 or -errno.
 */
static inline int tring_init_ord(struct tring *t, enum pvring_format format, unsigned int num,
				 bool event_idx, unsigned int indirect_max, size_t pool_size,
				 bool in_order)
{
	size_t desc_sz, avail_sz, used_sz, ind_sz;
	struct pvring_drv_config dcfg;
	struct pvring_layout l;
	int ret;

	memset(t, 0, sizeof(*t));
	if (pvring_layout(format, num, &l))
		return -EINVAL;
	t->format = format;
	t->num = num;
	t->event_idx = event_idx;
	t->indirect = indirect_max != 0;
	t->indirect_max = indirect_max;
	t->in_order = in_order;
	desc_sz = tring_align(l.desc_bytes, 64);
	avail_sz = tring_align(l.driver_bytes, 64);
	used_sz = tring_align(l.device_bytes, 64);
	if (posix_memalign(&t->area, 4096, desc_sz + avail_sz + used_sz))
		return -ENOMEM;
	/* Garbage, not zeroes: pvring_drv_init() must clear the areas itself. */
	memset(t->area, 0xa5, desc_sz + avail_sz + used_sz);
	t->desc = t->area;
	t->avail = (void *)((u8 *)t->area + desc_sz);
	t->used = (void *)((u8 *)t->area + desc_sz + avail_sz);
	t->pdesc = t->area;
	t->drv_event = (void *)t->avail;
	t->dev_event = (void *)t->used;
	if (l.dev_state_bytes) {
		t->dev_state = malloc(l.dev_state_bytes);
		if (!t->dev_state)
			return -ENOMEM;
	}
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
	dcfg.format = format;
	dcfg.num = num;
	dcfg.event_idx = event_idx;
	dcfg.in_order = in_order;
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

	return tring_dev_init(t, format == PVRING_PACKED ? 0x8000 : 0);
}

/* tring_init_ord() without IN_ORDER. */
static inline int tring_init_fmt(struct tring *t, enum pvring_format format, unsigned int num,
				 bool event_idx, unsigned int indirect_max, size_t pool_size)
{
	return tring_init_ord(t, format, num, event_idx, indirect_max, pool_size, false);
}

/* A split ring (the tests written before there was a choice). */
static inline int tring_init(struct tring *t, unsigned int num, bool event_idx,
			     unsigned int indirect_max, size_t pool_size)
{
	return tring_init_fmt(t, PVRING_SPLIT, num, event_idx, indirect_max, pool_size);
}

static inline void tring_fini(struct tring *t)
{
	free(t->area);
	free(t->slot);
	free(t->pool);
	free(t->ind);
	free(t->dev_state);
	memset(t, 0, sizeof(*t));
}

/*
 * tring_start_at - move a fresh ring's free-running indices to @idx, as if
 * @idx buffers had already gone round: the way to test the 65535 -> 0 wrap
 * (split) or the ring wrap counters (packed: @idx descriptors, @idx / num
 * laps) without that many round trips.  Only on an idle ring straight after
 * tring_init().
 */
static inline void tring_start_at(struct tring *t, u16 idx)
{
	unsigned int i;
	u32 base;

	if (t->format == PVRING_PACKED) {
		/*
		 * The ring as the last lap left it: every descriptor used, by
		 * the lap it was last used in.
		 */
		for (i = 0; i < t->num; i++) {
			u16 seq = (u16)(idx - t->num + ((i - idx) & (t->num - 1)));

			t->pdesc[i].flags = cpu_to_le16(pvring_packed_used_bits(seq, t->num));
		}
		__pvring_drv_packed_set_pos(&t->drv, idx, idx);
		t->drv.packed.kicked_seq = idx;
		base = pvring_packed_off_wrap(idx, t->num);
	} else {
		t->avail->idx = cpu_to_le16(idx);
		t->used->idx = cpu_to_le16(idx);
		*pvring_used_event(t->avail, t->num) = cpu_to_le16(idx);
		*pvring_avail_event(t->used, t->num) = cpu_to_le16(idx);
		t->drv.split.avail_idx = idx;
		t->drv.split.published_idx = idx;
		t->drv.split.kicked_idx = idx;
		t->drv.split.last_used = idx;
		t->drv.split.used_idx = idx;
		base = idx;
	}
	tring_dev_init(t, base);
}

/*
 * tring_skew_indirect - map the indirect region @by bytes past its host
 * allocation (a memory table whose guest and host addresses differ modulo
 * 8), shrunk to stay inside it; 0 restores it.
 */
static inline void tring_skew_indirect(struct tring *t, unsigned int by)
{
	struct pvring_mem_region *r = &t->mem.region[1];

	r->hva = (u8 *)t->ind + by;
	r->size = (u64)t->num * t->indirect_max * sizeof(struct pvring_desc) - (by ? 8 : 0);
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

/* Hostile packed device: write a used descriptor at sequence number @seq. */
static inline void tring_pused_put(struct tring *t, u16 seq, u16 id, u32 len)
{
	struct pvring_desc_packed *d = &t->pdesc[seq & (t->num - 1)];

	d->id = cpu_to_le16(id);
	d->len = cpu_to_le32(len);
	pvring_store_release(&d->flags, cpu_to_le16(pvring_packed_used_bits(seq, t->num) |
						    PVRING_DESC_F_WRITE));
}

/*
 * Hostile (or in-order) device: one used element for a batch of @n chains
 * ending with @id (IN_ORDER, §2.7.9 / §2.8.23): split, one entry and the
 * index moved by @n; packed, one descriptor at the hostile device's
 * position, skipping the chains of the ids before @id too (an in-order
 * driver hands ids out in ring order).
 */
static inline void tring_used_put_batch(struct tring *t, u32 id, u32 len, unsigned int n)
{
	unsigned int k;
	u16 idx, skip = 0;

	if (t->format == PVRING_PACKED) {
		if (!t->pused_valid) {
			t->pused_seq = t->drv.packed.last_used;
			t->pused_valid = true;
		}
		tring_pused_put(t, t->pused_seq, (u16)id, len);
		for (k = 0; k < n; k++) {
			u32 i = n == 1 ? id : (id - (n - 1) + k) & (t->num - 1);

			/* A hostile id names no chain: one descriptor. */
			skip += i < t->num && t->slot[i].ndesc ? t->slot[i].ndesc : 1;
		}
		/* The device counts from its base: the same place modulo 2 * num. */
		if (!((u16)(t->dev.packed.used_seq - t->pused_seq) & (2 * t->num - 1))) {
			__pvring_dev_used_seq_packed(&t->dev.packed,
						     (u16)(t->dev.packed.used_seq + skip), t->num);
		}
		t->pused_seq += skip;
		return;
	}
	idx = le16_to_cpu(t->used->idx);
	t->used->ring[idx & (t->num - 1)].id = cpu_to_le32(id);
	t->used->ring[idx & (t->num - 1)].len = cpu_to_le32(len);
	pvring_store_release(&t->used->idx, cpu_to_le16((u16)(idx + n)));
}

/*
 * Hostile device: publish a used element, bypassing pvring_dev_push_used().
 * Packed: at the hostile device's own position (pused_seq, which starts
 * where the driver reaps), skipping the chain the driver has under @id.
 */
static inline void tring_used_put(struct tring *t, u32 id, u32 len)
{
	tring_used_put_batch(t, id, len, 1);
}

/*
 * Hostile packed driver: write descriptor @i of the ring (@table NULL) or of
 * an indirect table, flags as given (AVAIL/USED bits included).
 */
static inline void tring_pdesc_set(struct tring *t, struct pvring_desc_packed *table,
				   unsigned int i, u64 addr, u32 len, u16 id, u16 flags)
{
	struct pvring_desc_packed *d = (table ? table : t->pdesc) + i;

	d->addr = cpu_to_le64(addr);
	d->len = cpu_to_le32(len);
	d->id = cpu_to_le16(id);
	pvring_store_release(&d->flags, cpu_to_le16(flags));
}

/* The AVAIL/USED bits that make ring position @seq (a sequence number) available. */
static inline u16 tring_pavail(const struct tring *t, u16 seq)
{
	return pvring_packed_avail_bits(seq, t->num);
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
