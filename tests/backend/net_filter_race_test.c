// SPDX-License-Identifier: GPL-2.0
/*
 * net_filter_race_test - pviod's receive filter (backend/net/filter.c) read
 * by several threads while one reprograms it, as the pairs' workers read it
 * while the control queue's worker writes it.
 *
 * The writer switches between two tables, A and B, whose unicast and
 * multicast entries and device addresses differ in every byte, and toggles
 * a VLAN id.  Readers ask about frames to addresses that splice the first
 * half of an A address to the second half of the B one (and the reverse):
 * every table the writer ever leaves, and every mix of whole commands, drops
 * them; only a decision made on a half-copied address would deliver one.
 * Broadcast is always delivered.  Under `make SAN=tsan` ThreadSanitizer
 * also checks that no table access is a data race.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kselftest_harness.h"
#include "net/net.h"
#include "pvtest.h"

#define F_ALL                                                                \
	(PVIO_BIT(PVIO_NET_F_CTRL_RX) | PVIO_BIT(PVIO_NET_F_CTRL_RX_EXTRA) | \
	 PVIO_BIT(PVIO_NET_F_CTRL_MAC_ADDR) | PVIO_BIT(PVIO_NET_F_CTRL_VLAN))
#define READERS 2
#define VID 100
#define RUN_MS 400 /* the writer reprograms for this long (sanitizers too) */

/* [0]: table A, [1]: table B; every byte differs between the two. */
static const uint8_t uc[2][6] = { { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 },
				  { 0x06, 0x99, 0x88, 0x77, 0x66, 0x65 } };
static const uint8_t mc[2][6] = { { 0x01, 0x00, 0x5e, 0x01, 0x02, 0x03 },
				  { 0x33, 0x33, 0xfe, 0xfd, 0xfc, 0xfb } };
static const uint8_t dev[2][6] = { { 0x02, 0x70, 0x76, 0x01, 0x02, 0x03 },
				   { 0x0a, 0x71, 0x77, 0x0e, 0x0f, 0x10 } };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

struct race {
	struct pviod_net_filter f;
	pthread_mutex_t lock; /* net->filter_lock's part: serialises writers */
	unsigned long rounds; /* the writer's, reported once it is joined */
	int done; /* the writer finished; atomic */
	/* Per reader. */
	unsigned long checked[READERS];
	unsigned long torn[READERS]; /* spliced addresses delivered: must stay 0 */
	unsigned long bcast_lost[READERS]; /* must stay 0 */
	unsigned long saw[READERS][2]; /* uc[0] / uc[1] delivered: both tables seen */
	unsigned int id_next; /* atomic */
};

static bool deliver(const struct pviod_net_filter *f, const uint8_t *dst, int vid)
{
	uint8_t fr[64] = { 0 };

	/* IPv4 untagged; tagged, an EtherType of 0 after the tag. */
	pvt_eth_put(fr, dst, uc[0], vid, vid >= 0 ? 0 : 0x0800);
	return pviod_net_filter_accept(f, fr, sizeof(fr));
}

/* The first 3 bytes of @a, the last 3 of @b. */
static void mac_splice(uint8_t *out, const uint8_t *a, const uint8_t *b)
{
	memcpy(out, a, 3);
	memcpy(out + 3, b + 3, 3);
}

/* MAC_TABLE_SET: one unicast and one multicast entry of table @t. */
static uint8_t table_set(struct pviod_net_filter *f, int t)
{
	uint8_t buf[4 + 6 + 4 + 6];
	uint32_t one = cpu_to_le32(1);

	memcpy(buf, &one, 4);
	memcpy(buf + 4, uc[t], 6);
	memcpy(buf + 10, &one, 4);
	memcpy(buf + 14, mc[t], 6);
	return pviod_net_filter_ctrl(f, F_ALL, PVIO_NET_CTRL_MAC, PVIO_NET_CTRL_MAC_TABLE_SET, buf,
				     sizeof(buf));
}

/* Rounds of A then B for RUN_MS, ending on B. */
static void *writer(void *arg)
{
	struct race *r = arg;
	uint16_t vid = cpu_to_le16(VID);
	long end = pvt_ms() + RUN_MS;
	unsigned long i;
	int t, bad = 0;

	for (i = 0; (i & 1) || i % 256 || pvt_ms() < end; i++) {
		t = i & 1;
		pthread_mutex_lock(&r->lock);
		bad |= table_set(&r->f, t) != PVIO_NET_OK;
		bad |= pviod_net_filter_ctrl(&r->f, F_ALL, PVIO_NET_CTRL_MAC,
					     PVIO_NET_CTRL_MAC_ADDR_SET, dev[t], 6) != PVIO_NET_OK;
		bad |= pviod_net_filter_ctrl(&r->f, F_ALL, PVIO_NET_CTRL_VLAN,
					     t ? PVIO_NET_CTRL_VLAN_DEL : PVIO_NET_CTRL_VLAN_ADD,
					     (uint8_t *)&vid, 2) != PVIO_NET_OK;
		if (i % 64 == 0)
			pviod_net_filter_mac_set(&r->f, dev[!t]);
		pthread_mutex_unlock(&r->lock);
	}
	r->rounds = i;
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
	return (void *)(long)bad;
}

static void *reader(void *arg)
{
	struct race *r = arg;
	unsigned int id = __atomic_fetch_add(&r->id_next, 1, __ATOMIC_RELAXED);
	uint8_t spliced[6][6];
	unsigned int k;

	mac_splice(spliced[0], uc[0], uc[1]);
	mac_splice(spliced[1], uc[1], uc[0]);
	mac_splice(spliced[2], mc[0], mc[1]);
	mac_splice(spliced[3], mc[1], mc[0]);
	mac_splice(spliced[4], dev[0], dev[1]);
	mac_splice(spliced[5], dev[1], dev[0]);
	while (!__atomic_load_n(&r->done, __ATOMIC_ACQUIRE)) {
		for (k = 0; k < 6; k++)
			r->torn[id] += deliver(&r->f, spliced[k], -1);
		r->bcast_lost[id] += !deliver(&r->f, bcast, -1);
		/* Tagged: the VLAN word is read too (either answer is right). */
		deliver(&r->f, bcast, VID);
		r->saw[id][0] += deliver(&r->f, uc[0], -1);
		r->saw[id][1] += deliver(&r->f, uc[1], -1);
		r->checked[id]++;
	}
	return NULL;
}

TEST(consistent_under_reprogramming)
{
	static struct race r;
	unsigned long seen[2] = { 0, 0 };
	pthread_t w, rd[READERS];
	void *bad;
	int i;

	memset(&r, 0, sizeof(r));
	pthread_mutex_init(&r.lock, NULL);
	pviod_net_filter_init(&r.f, dev[0], true);
	ASSERT_EQ(PVIO_NET_OK, table_set(&r.f, 0));
	for (i = 0; i < READERS; i++)
		ASSERT_EQ(0, pthread_create(&rd[i], NULL, reader, &r));
	ASSERT_EQ(0, pthread_create(&w, NULL, writer, &r));
	ASSERT_EQ(0, pthread_join(w, &bad));
	EXPECT_EQ(NULL, bad);
	for (i = 0; i < READERS; i++)
		ASSERT_EQ(0, pthread_join(rd[i], NULL));
	TH_LOG("writer: %lu tables written", r.rounds);
	for (i = 0; i < READERS; i++) {
		TH_LOG("reader %d: %lu rounds, table A seen %lu, table B seen %lu", i, r.checked[i],
		       r.saw[i][0], r.saw[i][1]);
		EXPECT_EQ(0, r.torn[i]);
		EXPECT_EQ(0, r.bcast_lost[i]);
		seen[0] += r.saw[i][0];
		seen[1] += r.saw[i][1];
	}
	/* The readers did run while the writer did: both tables were in use. */
	EXPECT_LT(0, seen[0]);
	EXPECT_LT(0, seen[1]);
	/* The final state, read alone: table B (the last round is odd). */
	EXPECT_TRUE(deliver(&r.f, uc[1], -1));
	EXPECT_FALSE(deliver(&r.f, uc[0], -1));
	EXPECT_FALSE(deliver(&r.f, bcast, VID));
	pthread_mutex_destroy(&r.lock);
}

TEST_HARNESS_MAIN
