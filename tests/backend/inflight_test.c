// SPDX-License-Identifier: GPL-2.0
/*
 * inflight_test - in-flight tracking of packed rings (core/inflight.c,
 * QueueRegionPacked): pviod's queue core serves a packed ring that the test
 * drives with the ring's own driver side, which breaks on a used id it does
 * not have in flight (a chain completed twice), and keeps a region.  Each
 * test "crashes" the device somewhere (the queue is dropped as a SIGKILLed
 * pviod drops it) and recovers on a new queue, as a restarted pviod does:
 * from the region and the ring alone, with the stale SET_VRING_BASE QEMU
 * sends after a crash.  Checked: what is resubmitted, where the ring
 * resumes, and that every chain the driver made available completes
 * exactly once with the data it asked for.
 *
 * The crashes: after pops and puts not yet published; in the middle of a
 * pop; in the middle of a publish, before and after the ring's store;
 * over several laps of the ring (wrap counters); and a device process
 * SIGKILLed at random moments of random pops, puts, publishes and unpops,
 * hundreds of times, each recovery checked against the driver's view.
 * Variants: ring sizes 8 and 64.
 *
 * And for split and packed rings alike (fixture unpop): chains resubmitted
 * after a recovery and given back with pviod_queue_unpop(), alone or with
 * chains of the ring popped after them, go back where they came from and
 * are served again once each, also across one more crash.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "core/device.h"
#include "core/inflight.h"
#include "core/queue.h"
#include "pvring_drv.h"
#include "vhost-user/inflight.h"
#include "vhost-user/vu.h"

#define MEM_SIZE (1u << 20)
#define RING_BYTES 0x8000 /* the descriptor ring and the event areas, below */
#define DRV_EV_GPA 0x4000
#define DEV_EV_GPA 0x4100
#define BUF_GPA 0x10000 /* a page per chain in flight: its tag, then its writable parts */
#define MAX_NUM 64
#define STALE_BASE 0x80008000u /* QEMU's base for a packed ring it never saw stopped */

/* A chain in flight, the driver's token: its page and what it asked for. */
struct req {
	uint64_t tag; /* in its readable part; the device copies it into the writable ones */
	unsigned int nin; /* writable parts: 0..2 */
	uint32_t in_len;
	unsigned int page;
};

struct rig {
	unsigned int num;
	bool split; /* the format: split, else packed */
	uint8_t *mem; /* shared: a forked device writes it */
	struct pvring_mem pm;
	struct pvring_drv drv;
	struct pvring_drv_slot slot[MAX_NUM];
	struct req req[MAX_NUM]; /* by page */
	unsigned int free_page[MAX_NUM], nfree_page;
	struct vhost_user_inflight_region_packed *r; /* shared too (split: the split layout) */
	size_t rsize;
	uint8_t *done; /* by tag: completions seen */
	uint64_t next_tag;
	unsigned int outstanding;
	struct pviod_device dev;
	struct pviod_queue q;
	bool q_open;
	unsigned int since_put; /* pops at the end of q.popped not put since (unpop) */
	uint16_t held[MAX_NUM]; /* the device's chains popped and not put */
	uint32_t held_len[MAX_NUM];
	unsigned int nheld;
};

#define MAX_TAGS (1u << 20)

static uint64_t gpa_page(unsigned int page)
{
	return BUF_GPA + (uint64_t)page * 0x1000;
}

static void rig_init(struct rig *g, unsigned int num, bool split)
{
	struct pvring_drv_config dc = { .format = split ? PVRING_SPLIT : PVRING_PACKED,
					.num = num };
	unsigned int i;

	memset(g, 0, sizeof(*g));
	g->num = num;
	g->split = split;
	g->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	g->rsize = split ? vhost_user_inflight_region_size(num) :
			   vhost_user_inflight_region_size_packed(num);
	g->r = mmap(NULL, g->rsize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	g->done = calloc(MAX_TAGS, 1);
	if (g->mem == MAP_FAILED || g->r == MAP_FAILED || !g->done)
		abort();
	g->pm.nregions = 1;
	g->pm.region[0] = (struct pvring_mem_region){ 0, MEM_SIZE, g->mem };
	dc.desc = g->mem;
	dc.driver = g->mem + DRV_EV_GPA;
	dc.device = g->mem + DEV_EV_GPA;
	dc.slot = g->slot;
	if (pvring_drv_init(&g->drv, &dc))
		abort();
	for (i = 0; i < num; i++)
		g->free_page[g->nfree_page++] = i;
	g->dev.name = "t0";
	g->dev.nqueues = 1;
	g->dev.queues = &g->q;
}

/* The driver makes a chain available: 8 readable bytes, then @nin writable parts. */
static bool drv_add(struct rig *g, unsigned int nin)
{
	struct pvring_sg sg[3];
	struct req *rq;
	unsigned int k, page;

	if (!g->nfree_page || pvring_drv_num_free(&g->drv) < 1 + nin)
		return false;
	page = g->free_page[--g->nfree_page];
	rq = &g->req[page];
	rq->tag = ++g->next_tag;
	rq->nin = nin;
	rq->in_len = 0;
	rq->page = page;
	memcpy(g->mem + gpa_page(page), &rq->tag, 8);
	sg[0] = (struct pvring_sg){ gpa_page(page), 8 };
	for (k = 0; k < nin; k++) {
		sg[1 + k] = (struct pvring_sg){ gpa_page(page) + 0x100 + k * 0x200, 64 + 8 * k };
		memset(g->mem + sg[1 + k].addr, 0, sg[1 + k].len);
		rq->in_len += sg[1 + k].len;
	}
	if (pvring_drv_add(&g->drv, sg, 1, nin, rq))
		abort();
	g->outstanding++;
	return true;
}

/* The driver reaps what is used: each once, with its data.  Return: how many, -1 on a fault. */
static int drv_reap(struct rig *g)
{
	struct req *rq;
	uint32_t len;
	int n = 0;

	while ((rq = pvring_drv_get_used(&g->drv, &len))) {
		unsigned int k, b;

		if (len != rq->in_len || rq->tag >= MAX_TAGS || g->done[rq->tag]++)
			return -1;
		for (k = 0; k < rq->nin; k++)
			for (b = 0; b < 64 + 8 * k; b += 8)
				if (memcmp(g->mem + gpa_page(rq->page) + 0x100 + k * 0x200 + b,
					   &rq->tag, 8))
					return -1;
		g->free_page[g->nfree_page++] = rq->page;
		g->outstanding--;
		n++;
	}
	return pvring_drv_broken(&g->drv) ? -1 : n;
}

/*
 * A split ring's recovery, as pviod's vhost-user side runs it when the
 * front-end hands the area back: from the region and the ring's used index.
 */
static int dev_recover_split(struct rig *g, void *r)
{
	struct vu_dev *vu = calloc(1, sizeof(*vu) + sizeof(struct vu_vring));
	int ret;

	if (!vu)
		return -ENOMEM;
	vu->dev = &g->dev;
	vu->s.inflight = (struct vu_inflight_area){ r, g->rsize, 1, (uint16_t)g->num };
	ret = vu_inflight_queue_recover(vu, 0);
	free(vu);
	return ret;
}

/*
 * A new device queue on the ring, as a restarted pviod starts it: stale base
 * (split: the used index, QEMU's guess), then the region.
 */
static int dev_open(struct rig *g, uint8_t *mem, struct vhost_user_inflight_region_packed *r)
{
	const struct pvring_used *used = (const void *)(mem + DEV_EV_GPA);
	struct pvring_dev_config cfg = { .format = g->split ? PVRING_SPLIT : PVRING_PACKED,
					 .num = g->num,
					 .base = g->split ? le16_to_cpu(used->idx) : STALE_BASE };
	struct pvring_layout l = { 0 };

	memset(&g->q, 0, sizeof(g->q));
	pviod_queue_init(&g->q, &g->dev, 0);
	if (pviod_queue_setup(&g->q, g->num))
		return -ENOMEM;
	pvring_layout(cfg.format, g->num, &l);
	g->q.ring_state = l.dev_state_bytes ? malloc(l.dev_state_bytes) : NULL;
	g->q.ring_state_bytes = l.dev_state_bytes;
	cfg.desc = mem;
	cfg.driver = mem + DRV_EV_GPA;
	cfg.device = mem + DEV_EV_GPA;
	cfg.mem = &g->pm;
	cfg.state = g->q.ring_state;
	if (pvring_dev_init(&g->q.ring, &cfg))
		return -EINVAL;
	g->q_open = true;
	g->nheld = 0;
	g->since_put = 0;
	if (g->split)
		return dev_recover_split(g, r);
	return pviod_inflight_packed_adopt(&g->q, r);
}

/* The device dies: its queue is gone, the ring and the region stay as they are. */
static void dev_crash(struct rig *g)
{
	pviod_queue_fini(&g->q);
	g->q_open = false;
}

/* The end of a test: the device gone, the driver's memory and region freed. */
static void rig_fini(struct rig *g)
{
	if (g->q_open)
		dev_crash(g);
	munmap(g->mem, MEM_SIZE);
	munmap(g->r, g->rsize);
	free(g->done);
}

/* The device pops one chain and does its work: the tag into every writable part. */
static int dev_pop(struct rig *g)
{
	struct pvring_seg seg[8];
	struct pvring_chain c = { 0 };
	unsigned int s;
	uint64_t tag;
	int ret;

	ret = pviod_queue_pop(&g->q, &c, seg, 8);
	if (ret <= 0)
		return ret;
	if (c.nout != 1 || seg[0].len != 8)
		return -EINVAL;
	memcpy(&tag, seg[0].base, 8);
	for (s = c.nout; s < c.nseg; s++) {
		size_t b;

		for (b = 0; b + 8 <= seg[s].len; b += 8)
			memcpy((uint8_t *)seg[s].base + b, &tag, 8);
	}
	g->held[g->nheld] = c.head;
	g->held_len[g->nheld++] = (uint32_t)c.in_len;
	g->since_put++;
	return 1;
}

/* The device puts the chain held at @i. */
static void dev_put(struct rig *g, unsigned int i)
{
	pviod_queue_put(&g->q, g->held[i], g->held_len[i]);
	g->held[i] = g->held[g->nheld - 1];
	g->held_len[i] = g->held_len[--g->nheld];
	g->since_put = 0;
}

/* Pop everything, put everything, publish; until the ring is empty. */
static int dev_drain(struct rig *g)
{
	int ret;

	do {
		while ((ret = dev_pop(g)) > 0)
			;
		if (ret < 0)
			return ret;
		while (g->nheld)
			dev_put(g, 0);
		pviod_queue_notify(&g->q);
	} while (pvring_dev_avail(&g->q.ring) > 0);
	return 0;
}

/* The buffer ids the recovered queue resubmits, in order, into @ids. */
static unsigned int resubmitted(const struct rig *g, uint16_t *ids)
{
	unsigned int i;

	for (i = 0; i < g->q.resubmit_num; i++)
		ids[i] = g->q.resubmit[i];
	return g->q.resubmit_num;
}

FIXTURE(ifl)
{
	struct rig g;
};

FIXTURE_VARIANT(ifl)
{
	unsigned int num;
};

/* clang-format would glue the brace to the macro, which checkpatch rejects. */
/* clang-format off */
FIXTURE_VARIANT_ADD(ifl, ring8) { .num = 8 };
FIXTURE_VARIANT_ADD(ifl, ring64) { .num = 64 };
/* clang-format on */

FIXTURE_SETUP(ifl)
{
	pviod_log_level = getenv("IFL_DEBUG") ?
				  PVIOD_LOG_DEBUG :
				  PVIOD_LOG_ERR - 1; /* recovery's notices are expected */
	rig_init(&self->g, variant->num, false);
}

FIXTURE_TEARDOWN(ifl)
{
	rig_fini(&self->g);
}

/*
 * Recording: each chain takes one entry per descriptor from the free list,
 * its head entry marked with the pop order, the descriptors copied as the
 * ring had them; a publish gives the entries back and moves the used
 * position by the chains' lengths, old_ fields committed alike.
 */
TEST_F(ifl, record_and_publish)
{
	struct rig *g = &self->g;
	struct vhost_user_inflight_region_packed *r = g->r;
	const struct pvring_desc_packed *ring = (void *)g->mem;
	unsigned int i;

	ASSERT_EQ(0, dev_open(g, g->mem, r));
	EXPECT_EQ(VHOST_USER_INFLIGHT_VERSION, r->version);
	EXPECT_EQ(g->num, r->desc_num);
	ASSERT_TRUE(drv_add(g, 0));
	ASSERT_TRUE(drv_add(g, 1));
	ASSERT_TRUE(drv_add(g, 2));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(1, dev_pop(g));
	/* Entries 0, 1-2, 3-5: the three chains, in order. */
	EXPECT_EQ(6, r->free_head);
	EXPECT_EQ(6, r->old_free_head);
	EXPECT_EQ(1, r->desc[0].inflight);
	EXPECT_EQ(1, r->desc[0].num);
	EXPECT_EQ(0, r->desc[0].last);
	EXPECT_EQ(1, r->desc[1].inflight);
	EXPECT_EQ(2, r->desc[1].num);
	EXPECT_EQ(2, r->desc[1].last);
	EXPECT_EQ(0, r->desc[2].inflight);
	EXPECT_EQ(1, r->desc[3].inflight);
	EXPECT_EQ(3, r->desc[3].num);
	EXPECT_EQ(5, r->desc[3].last);
	EXPECT_LT(r->desc[0].counter, r->desc[1].counter);
	EXPECT_LT(r->desc[1].counter, r->desc[3].counter);
	for (i = 0; i < 6; i++) {
		EXPECT_EQ(le64_to_cpu(ring[i].addr), r->desc[i].addr);
		EXPECT_EQ(le32_to_cpu(ring[i].len), r->desc[i].len);
		EXPECT_EQ(le16_to_cpu(ring[i].id), r->desc[i].id);
		EXPECT_EQ(le16_to_cpu(ring[i].flags), r->desc[i].flags);
	}
	/* The middle one used: its two entries go first in the free list. */
	dev_put(g, 1);
	pviod_queue_notify(&g->q);
	EXPECT_EQ(1, r->free_head);
	EXPECT_EQ(1, r->old_free_head);
	EXPECT_EQ(6, r->desc[2].next);
	EXPECT_EQ(0, r->desc[1].inflight);
	EXPECT_EQ(2, r->used_idx);
	EXPECT_EQ(2, r->old_used_idx);
	EXPECT_EQ(1, r->used_wrap_counter);
	EXPECT_EQ(1, drv_reap(g));
	while (g->nheld)
		dev_put(g, 0);
	pviod_queue_notify(&g->q);
	EXPECT_EQ(2, drv_reap(g));
	for (i = 0; i < g->num; i++)
		EXPECT_EQ(0, r->desc[i].inflight);
	EXPECT_EQ(6 % g->num, r->used_idx);
	EXPECT_EQ(g->num > 6, r->used_wrap_counter);
	EXPECT_EQ(r->used_idx, r->old_used_idx);
	EXPECT_EQ(0, g->outstanding);
}

/*
 * A crash with chains popped, some put and published, one put and not
 * published: exactly the ones the driver has not seen used are
 * resubmitted, in pop order, from the region's copies (the first one's ring
 * descriptor now holds another chain's used descriptor); popping resumes
 * after every chain popped, publishing at the region's used position.
 */
TEST_F(ifl, crash_after_puts_resubmits_the_rest)
{
	struct rig *g = &self->g;
	const struct pvring_desc_packed *ring = (void *)g->mem;
	uint16_t ids[MAX_NUM], id[4];
	unsigned int i;

	ASSERT_EQ(0, dev_open(g, g->mem, g->r));
	ASSERT_TRUE(drv_add(g, 0)); /* A: 1 descriptor */
	ASSERT_TRUE(drv_add(g, 1)); /* B: 2 */
	ASSERT_TRUE(drv_add(g, 2)); /* C: 3 */
	ASSERT_TRUE(drv_add(g, 0)); /* D: 1 */
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(1, dev_pop(g));
		id[i] = g->held[i];
	}
	dev_put(g, 3); /* D */
	dev_put(g, 1); /* B */
	pviod_queue_notify(&g->q);
	EXPECT_EQ(2, drv_reap(g));
	dev_put(g, 1); /* C (B's place now), put, not published */
	dev_crash(g);
	/* A's descriptor was written over by a used one. */
	EXPECT_NE(id[0], le16_to_cpu(ring[0].id));

	ASSERT_EQ(0, dev_open(g, g->mem, g->r));
	ASSERT_EQ(2, resubmitted(g, ids));
	EXPECT_EQ(id[0], ids[0]);
	EXPECT_EQ(id[2], ids[1]);
	/* Avail at 7, used at 3 (D and B, 3 descriptors), both in the first lap. */
	EXPECT_EQ((0x8000u | 7) | (0x8000u | 3) << 16, pvring_dev_base(&g->q.ring));
	ASSERT_EQ(0, dev_drain(g));
	EXPECT_EQ(2, drv_reap(g));
	/* The ring goes on where the driver is. */
	ASSERT_TRUE(drv_add(g, 2));
	ASSERT_EQ(0, dev_drain(g));
	EXPECT_EQ(1, drv_reap(g));
	EXPECT_EQ(0, g->outstanding);
}

/*
 * A crash in the middle of a pop, before old_free_head moved: that chain is
 * not in flight for the recovery, which pops it from the ring again.
 */
TEST_F(ifl, crash_in_pop_pops_it_again)
{
	struct rig *g = &self->g;
	uint16_t ids[MAX_NUM], a;
	uint16_t before;

	ASSERT_EQ(0, dev_open(g, g->mem, g->r));
	ASSERT_TRUE(drv_add(g, 1));
	ASSERT_TRUE(drv_add(g, 2));
	ASSERT_EQ(1, dev_pop(g));
	a = g->held[0];
	before = g->r->old_free_head;
	ASSERT_EQ(1, dev_pop(g));
	/* Every store of the pop but its last. */
	g->r->old_free_head = before;
	dev_crash(g);

	ASSERT_EQ(0, dev_open(g, g->mem, g->r));
	ASSERT_EQ(1, resubmitted(g, ids));
	EXPECT_EQ(a, ids[0]);
	EXPECT_EQ((0x8000u | 2) | 0x8000u << 16, pvring_dev_base(&g->q.ring));
	ASSERT_EQ(0, dev_drain(g));
	EXPECT_EQ(2, drv_reap(g));
	EXPECT_EQ(0, g->outstanding);
}

/*
 * A crash in the middle of a publish whose batch did not reach the ring:
 * rolled back, the batch is in flight again.  One whose batch did reach it,
 * but whose region steps after it did not run: committed, the batch is not
 * resubmitted (the driver has it already).
 */
TEST_F(ifl, crash_in_publish_rolls_back_or_commits)
{
	struct rig *g = &self->g;
	uint16_t ids[MAX_NUM], a, b;

	ASSERT_EQ(0, dev_open(g, g->mem, g->r));
	ASSERT_TRUE(drv_add(g, 1));
	ASSERT_TRUE(drv_add(g, 0));
	ASSERT_EQ(1, dev_pop(g));
	ASSERT_EQ(1, dev_pop(g));
	a = g->held[0];
	b = g->held[1];
	dev_put(g, 0);
	/* The region's steps before the ring's store, and no further. */
	__pviod_inflight_publish_packed(&g->q);
	dev_crash(g);
	ASSERT_EQ(0, dev_open(g, g->mem, g->r));
	ASSERT_EQ(2, resubmitted(g, ids));
	EXPECT_EQ(a, ids[0]);
	EXPECT_EQ(b, ids[1]);
	EXPECT_EQ((0x8000u | 3) | 0x8000u << 16, pvring_dev_base(&g->q.ring));

	/* Again, the recovered queue dying after the ring's store this time. */
	ASSERT_EQ(1, dev_pop(g));
	ASSERT_EQ(1, dev_pop(g));
	EXPECT_EQ(a, g->held[0]);
	dev_put(g, 0);
	__pviod_inflight_publish_packed(&g->q);
	pvring_dev_publish(&g->q.ring);
	dev_crash(g);
	EXPECT_EQ(1, drv_reap(g));
	ASSERT_EQ(0, dev_open(g, g->mem, g->r));
	ASSERT_EQ(1, resubmitted(g, ids));
	EXPECT_EQ(b, ids[0]);
	EXPECT_EQ((0x8000u | 3) | (0x8000u | 2) << 16, pvring_dev_base(&g->q.ring));
	ASSERT_EQ(0, dev_drain(g));
	EXPECT_EQ(1, drv_reap(g));
	EXPECT_EQ(0, g->outstanding);
}

/*
 * Laps: rounds of chains made available, popped, half of them put and
 * published, then a crash, for four laps of the ring.  Each recovery
 * resubmits exactly the chains popped and not published, and resumes
 * with the wrap counters the ring is at.
 */
TEST_F(ifl, crash_every_round_across_laps)
{
	struct rig *g = &self->g;
	uint16_t ids[MAX_NUM], want[MAX_NUM];
	unsigned int round, i, n, nwant, used = 0, avail = 0;
	unsigned int seed = 1;

	ASSERT_EQ(0, dev_open(g, g->mem, g->r));
	for (round = 0; avail < 4 * g->num + 3; round++) {
		unsigned int nin = rand_r(&seed) % 3;

		while (drv_add(g, nin))
			nin = rand_r(&seed) % 3;
		while ((n = dev_pop(g)) == 1)
			;
		ASSERT_EQ(0, n);
		for (i = 0; i < g->nheld;) {
			if (rand_r(&seed) % 2) {
				used += g->q.iflp.ndesc[g->held[i]];
				dev_put(g, i);
			} else {
				i++;
			}
		}
		pviod_queue_notify(&g->q);
		ASSERT_LE(0, drv_reap(g));
		nwant = g->nheld;
		memcpy(want, g->held, sizeof(want));
		avail = used;
		for (i = 0; i < nwant; i++)
			avail += g->q.iflp.ndesc[want[i]];
		dev_crash(g);

		ASSERT_EQ(0, dev_open(g, g->mem, g->r));
		n = resubmitted(g, ids);
		ASSERT_EQ(nwant, n);
		for (i = 0; i < n; i++) {
			unsigned int j;

			for (j = 0; j < nwant && want[j] != ids[i]; j++)
				;
			EXPECT_LT(j, nwant);
		}
		EXPECT_EQ(pvring_packed_off_wrap((uint16_t)avail, g->num) |
				  (uint32_t)pvring_packed_off_wrap((uint16_t)used, g->num) << 16,
			  pvring_dev_base(&g->q.ring));
		/* The resubmitted chains come out of the next pops. */
	}
	ASSERT_EQ(0, dev_drain(g));
	ASSERT_LE(0, drv_reap(g));
	EXPECT_EQ(0, g->outstanding);
	EXPECT_GE(round, 4);
}

/*
 * What a recovery on a snapshot of the ring and the region says must be
 * exactly the driver's chains in flight: the resubmitted ones, and the
 * ones it will pop from where it resumes up to where the driver is.
 */
static bool recovery_matches_driver(struct rig *g, uint8_t *ring_copy,
				    struct vhost_user_inflight_region_packed *r_copy)
{
	const struct pvring_desc_packed *ring = (void *)ring_copy;
	bool seen[MAX_NUM] = { false };
	unsigned int i, n = 0;
	uint16_t seq;
	int avail;

	memcpy(ring_copy, g->mem, RING_BYTES);
	memcpy(r_copy, g->r, g->rsize);
	if (dev_open(g, ring_copy, r_copy))
		return false;
	for (i = 0; i < g->q.resubmit_num; i++) {
		uint16_t id = g->q.resubmit[i];

		if (id >= g->num || seen[id] || !g->slot[id].token)
			return false;
		seen[id] = true;
		n++;
	}
	/* Used where the driver reaps next. */
	if ((pvring_packed_seq((uint16_t)(pvring_dev_base(&g->q.ring) >> 16), g->num) -
	     g->drv.packed.last_used) &
	    (2 * g->num - 1)) {
		fprintf(stderr, "# used 0x%x, the driver reaps at seq %u\n",
			pvring_dev_base(&g->q.ring) >> 16, g->drv.packed.last_used);
		return false;
	}
	/* From the recovered avail position to the driver's, chain by chain. */
	avail = pvring_packed_seq((uint16_t)pvring_dev_base(&g->q.ring), g->num);
	seq = (uint16_t)avail;
	while ((uint16_t)(g->drv.packed.avail_seq - seq) & (2 * g->num - 1)) {
		uint16_t flags, id;

		if ((uint16_t)(seq - avail) >= g->num)
			return false;

		do {
			flags = le16_to_cpu(ring[seq & (g->num - 1)].flags);
			id = le16_to_cpu(ring[seq & (g->num - 1)].id);
			seq++;
		} while (flags & PVRING_DESC_F_NEXT);
		if (id >= g->num || seen[id] || !g->slot[id].token)
			return false;
		seen[id] = true;
		n++;
	}
	dev_crash(g);
	return n == g->outstanding;
}

/* A device process that serves at random until its timer kills it. */
static void dev_random(struct rig *g, unsigned int seed, unsigned int usec)
{
	struct itimerval it = { .it_value = { 0, usec } };

	if (dev_open(g, g->mem, g->r))
		_exit(2);
	setitimer(ITIMER_REAL, &it, NULL);
	for (;;) {
		switch (rand_r(&seed) % 8) {
		case 0:
		case 1:
		case 2:
			if (dev_pop(g) < 0)
				_exit(3);
			break;
		case 3:
		case 4:
			if (g->nheld)
				dev_put(g, rand_r(&seed) % g->nheld);
			break;
		case 5:
		case 6:
			pviod_queue_notify(&g->q);
			break;
		case 7:
			if (g->since_put) {
				unsigned int n = 1 + rand_r(&seed) % g->since_put;

				pviod_queue_unpop(&g->q, n);
				g->nheld -= n;
				g->since_put -= n;
			}
			break;
		}
	}
}

/*
 * SIGKILL anywhere: a device process serves the ring at random (pops,
 * puts, publishes, unpops) and its timer kills it after 1-1500 us; the
 * driver reaps what it published, each recovery (on a snapshot) must name
 * exactly the driver's chains in flight, and the driver adds more.  After
 * every round a last device serves everything: each chain completed exactly
 * once, with its data.
 */
TEST_F(ifl, sigkill_anywhere)
{
	struct rig *g = &self->g;
	struct vhost_user_inflight_region_packed *r_copy = malloc(g->rsize);
	uint8_t *ring_copy = malloc(RING_BYTES);
	unsigned int round, seed = (unsigned int)getpid(), rounds = 300, bad = 0;

	ASSERT_NE(NULL, r_copy);
	ASSERT_NE(NULL, ring_copy);
	TH_LOG("seed %u", seed);
	for (round = 0; round < rounds; round++) {
		unsigned int nin = rand_r(&seed) % 3, dseed = rand_r(&seed);
		int status;
		pid_t pid;

		while (rand_r(&seed) % 4 && drv_add(g, nin))
			nin = rand_r(&seed) % 3;
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid)
			dev_random(g, dseed, 1 + dseed % 1500);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM);
		ASSERT_LE(0, drv_reap(g));
		if (!recovery_matches_driver(g, ring_copy, r_copy) && bad++ < 5)
			TH_LOG("round %u: recovery misses the driver's %u chains in flight", round,
			       g->outstanding);
	}
	EXPECT_EQ(0, bad);
	ASSERT_EQ(0, dev_open(g, g->mem, g->r));
	ASSERT_EQ(0, dev_drain(g));
	ASSERT_LE(0, drv_reap(g));
	EXPECT_EQ(0, g->outstanding);
	TH_LOG("%u crashes, %llu chains, each completed once", rounds,
	       (unsigned long long)g->next_tag);
	free(r_copy);
	free(ring_copy);
}

/* Split and packed rings: resubmitted chains given back with pviod_queue_unpop(). */
FIXTURE(unpop)
{
	struct rig g;
};

FIXTURE_VARIANT(unpop)
{
	unsigned int num;
	bool split;
};

/* clang-format off */
FIXTURE_VARIANT_ADD(unpop, split8) { .num = 8, .split = true };
FIXTURE_VARIANT_ADD(unpop, split64) { .num = 64, .split = true };
FIXTURE_VARIANT_ADD(unpop, packed8) { .num = 8, .split = false };
FIXTURE_VARIANT_ADD(unpop, packed64) { .num = 64, .split = false };
/* clang-format on */

FIXTURE_SETUP(unpop)
{
	pviod_log_level = getenv("IFL_DEBUG") ? PVIOD_LOG_DEBUG : PVIOD_LOG_ERR - 1;
	rig_init(&self->g, variant->num, variant->split);
}

FIXTURE_TEARDOWN(unpop)
{
	rig_fini(&self->g);
}

/*
 * A, B, C popped, C used, crash: A and B are resubmitted.  The driver adds
 * D.  The recovered device pops A, B (the list) and D (the ring), gives
 * back all three, then B and D again, as a net receive burst that found
 * too few buffers does: every pop takes them again in the same order, the
 * ring rewound only by D.  Then a crash with A popped and B, D given back,
 * and a last device serves all: each chain completes once, with its data.
 */
TEST_F(unpop, resubmitted_go_back_to_the_list)
{
	struct rig *g = &self->g;
	uint16_t a, b, d;

	ASSERT_EQ(0, dev_open(g, g->mem, g->r));
	ASSERT_TRUE(drv_add(g, 1)); /* A */
	ASSERT_TRUE(drv_add(g, 2)); /* B */
	ASSERT_TRUE(drv_add(g, 0)); /* C */
	ASSERT_EQ(1, dev_pop(g));
	ASSERT_EQ(1, dev_pop(g));
	ASSERT_EQ(1, dev_pop(g));
	a = g->held[0];
	b = g->held[1];
	dev_put(g, 2);
	pviod_queue_notify(&g->q);
	ASSERT_EQ(1, drv_reap(g));
	dev_crash(g);

	ASSERT_EQ(0, dev_open(g, g->mem, g->r));
	ASSERT_EQ(2, g->q.resubmit_num);
	ASSERT_TRUE(drv_add(g, 1)); /* D */
	ASSERT_EQ(1, dev_pop(g));
	ASSERT_EQ(1, dev_pop(g));
	ASSERT_EQ(1, dev_pop(g));
	EXPECT_EQ(a, g->held[0]);
	EXPECT_EQ(b, g->held[1]);
	d = g->held[2];
	EXPECT_EQ(3, g->q.inflight);

	pviod_queue_unpop(&g->q, 3);
	g->nheld = 0;
	EXPECT_EQ(0, g->q.inflight);
	ASSERT_EQ(1, dev_pop(g));
	ASSERT_EQ(1, dev_pop(g));
	ASSERT_EQ(1, dev_pop(g));
	EXPECT_EQ(a, g->held[0]);
	EXPECT_EQ(b, g->held[1]);
	EXPECT_EQ(d, g->held[2]);
	/* Nothing more: the ring was not rewound past D. */
	EXPECT_EQ(0, dev_pop(g));

	pviod_queue_unpop(&g->q, 2);
	g->nheld = 1;
	ASSERT_EQ(1, dev_pop(g));
	ASSERT_EQ(1, dev_pop(g));
	EXPECT_EQ(b, g->held[1]);
	EXPECT_EQ(d, g->held[2]);
	EXPECT_EQ(0, dev_pop(g));

	/* Given back again, then a crash: the recovery still has all three. */
	pviod_queue_unpop(&g->q, 2);
	g->nheld = 1;
	dev_crash(g);
	ASSERT_EQ(0, dev_open(g, g->mem, g->r));
	ASSERT_EQ(0, dev_drain(g));
	EXPECT_EQ(3, drv_reap(g));
	EXPECT_EQ(0, g->outstanding);
}

/*
 * Random pops, puts, publishes and unpops of any chain not put (resubmitted
 * or not) with a crash every round: every chain completes exactly once.
 */
TEST_F(unpop, random_with_crashes)
{
	struct rig *g = &self->g;
	unsigned int round, step, seed = 7;

	ASSERT_EQ(0, dev_open(g, g->mem, g->r));
	for (round = 0; round < 200; round++) {
		while (rand_r(&seed) % 4 && drv_add(g, rand_r(&seed) % 3))
			;
		for (step = 0; step < 40; step++) {
			unsigned int n;

			switch (rand_r(&seed) % 6) {
			case 0:
			case 1:
				ASSERT_LE(0, dev_pop(g));
				break;
			case 2:
				if (g->nheld)
					dev_put(g, rand_r(&seed) % g->nheld);
				break;
			case 3:
				pviod_queue_notify(&g->q);
				break;
			default:
				if (!g->since_put)
					break;
				n = 1 + rand_r(&seed) % g->since_put;
				pviod_queue_unpop(&g->q, n);
				g->nheld -= n;
				g->since_put -= n;
				break;
			}
		}
		ASSERT_LE(0, drv_reap(g));
		dev_crash(g);
		ASSERT_EQ(0, dev_open(g, g->mem, g->r));
	}
	ASSERT_EQ(0, dev_drain(g));
	ASSERT_LE(0, drv_reap(g));
	EXPECT_EQ(0, g->outstanding);
}

TEST_HARNESS_MAIN
