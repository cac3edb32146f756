// SPDX-License-Identifier: GPL-2.0
/*
 * ring_poll_test.c - the adaptive polling window (ring/pvring_poll.h) that
 * pviod's workers and the userspace driver poll by: it grows, shrinks and
 * stays within its bounds as the sleeps say, windows that keep finding
 * nothing hold it at 0 for a while, and the fixed modes never move.
 */
#include "kselftest_harness.h"

#include "pvring_poll.h"

#define US 1000u

TEST(modes_start)
{
	struct pvring_poll p;

	pvring_poll_init(&p, PVRING_POLL_OFF, 50 * US, 0, 0);
	EXPECT_EQ(0, pvring_poll_window(&p));
	pvring_poll_init(&p, PVRING_POLL_ON, 50 * US, 0, 0);
	EXPECT_EQ(50 * US, pvring_poll_window(&p));
	/* Adaptive starts by sleeping: the first events come by notification. */
	pvring_poll_init(&p, PVRING_POLL_ADAPTIVE, 50 * US, 0, 0);
	EXPECT_EQ(0, pvring_poll_window(&p));
	EXPECT_EQ(PVRING_POLL_GROW_DEFAULT, p.grow);
	EXPECT_EQ(0, p.shrink);
}

/* The fixed modes ignore what the sleeps say. */
TEST(fixed_modes_never_move)
{
	struct pvring_poll p;
	u64 idle[] = { 0, 1, 10 * US, 50 * US, 51 * US, 1000000 * US };
	unsigned int i;

	pvring_poll_init(&p, PVRING_POLL_ON, 50 * US, 0, 0);
	for (i = 0; i < sizeof(idle) / sizeof(idle[0]); i++)
		EXPECT_EQ(50 * US, pvring_poll_woke(&p, idle[i]));
	pvring_poll_init(&p, PVRING_POLL_OFF, 50 * US, 0, 0);
	for (i = 0; i < sizeof(idle) / sizeof(idle[0]); i++)
		EXPECT_EQ(0, pvring_poll_woke(&p, idle[i]));
	EXPECT_EQ(0, p.grows);
	EXPECT_EQ(0, p.shrinks);
}

/* 0 -> START -> * grow ... clamped at max, and no further. */
TEST(grow_to_max)
{
	struct pvring_poll p;

	pvring_poll_init(&p, PVRING_POLL_ADAPTIVE, 50 * US, 2, 0);
	EXPECT_EQ(PVRING_POLL_START_NS, pvring_poll_woke(&p, 30 * US));
	EXPECT_EQ(8 * US, pvring_poll_woke(&p, 30 * US));
	EXPECT_EQ(16 * US, pvring_poll_woke(&p, 30 * US));
	EXPECT_EQ(32 * US, pvring_poll_woke(&p, 33 * US));
	/* 64 us is past the bound: clamped. */
	EXPECT_EQ(50 * US, pvring_poll_woke(&p, 50 * US));
	EXPECT_EQ(5, p.grows);
	/* At the bound, an event within it changes nothing. */
	EXPECT_EQ(50 * US, pvring_poll_woke(&p, 50 * US));
	EXPECT_EQ(5, p.grows);
	EXPECT_EQ(0, p.shrinks);
}

/* A sleep no longer than the window (an event the poll does not watch). */
TEST(within_window_no_change)
{
	struct pvring_poll p;

	pvring_poll_init(&p, PVRING_POLL_ADAPTIVE, 50 * US, 2, 0);
	pvring_poll_woke(&p, 10 * US);
	pvring_poll_woke(&p, 10 * US);
	ASSERT_EQ(8 * US, pvring_poll_window(&p));
	EXPECT_EQ(8 * US, pvring_poll_woke(&p, 0));
	EXPECT_EQ(8 * US, pvring_poll_woke(&p, 8 * US));
	EXPECT_EQ(2, p.grows);
}

/* Longer than max: polling would not pay; shrink 0 means back to 0. */
TEST(shrink_to_zero)
{
	struct pvring_poll p;

	pvring_poll_init(&p, PVRING_POLL_ADAPTIVE, 50 * US, 2, 0);
	pvring_poll_woke(&p, 40 * US);
	pvring_poll_woke(&p, 40 * US);
	ASSERT_EQ(8 * US, pvring_poll_window(&p));
	EXPECT_EQ(0, pvring_poll_woke(&p, 50 * US + 1));
	EXPECT_EQ(1, p.shrinks);
	/* Already 0: stays 0, and a shrink of nothing is not counted. */
	EXPECT_EQ(0, pvring_poll_woke(&p, 1000 * US));
	EXPECT_EQ(1, p.shrinks);
	/* And grows again from the start. */
	EXPECT_EQ(PVRING_POLL_START_NS, pvring_poll_woke(&p, 5 * US));
}

TEST(shrink_by_divisor)
{
	struct pvring_poll p;

	pvring_poll_init(&p, PVRING_POLL_ADAPTIVE, 64 * US, 4, 2);
	EXPECT_EQ(PVRING_POLL_START_NS, pvring_poll_woke(&p, 60 * US));
	EXPECT_EQ(16 * US, pvring_poll_woke(&p, 60 * US));
	EXPECT_EQ(64 * US, pvring_poll_woke(&p, 60 * US));
	EXPECT_EQ(32 * US, pvring_poll_woke(&p, 65 * US));
	EXPECT_EQ(16 * US, pvring_poll_woke(&p, 1000 * US));
	EXPECT_EQ(8 * US, pvring_poll_woke(&p, 1000 * US));
	EXPECT_EQ(3, p.shrinks);
	/* 1 would never shrink: it counts as 2. */
	pvring_poll_init(&p, PVRING_POLL_ADAPTIVE, 64 * US, 2, 1);
	EXPECT_EQ(2, p.shrink);
}

/* The bounds: max below the first step, max above the limit, no overflow. */
TEST(bounds)
{
	struct pvring_poll p;
	unsigned int i;

	pvring_poll_init(&p, PVRING_POLL_ADAPTIVE, 2 * US, 2, 0);
	EXPECT_EQ(2 * US, pvring_poll_woke(&p, 2 * US));
	EXPECT_EQ(2 * US, pvring_poll_woke(&p, 2 * US));

	pvring_poll_init(&p, PVRING_POLL_ON, ~0u, 2, 0);
	EXPECT_EQ(PVRING_POLL_MAX_NS_LIMIT, pvring_poll_window(&p));

	/* A huge factor: the product is taken in 64 bits, then clamped. */
	pvring_poll_init(&p, PVRING_POLL_ADAPTIVE, PVRING_POLL_MAX_NS_LIMIT, ~0u, 0);
	for (i = 0; i < 4; i++) {
		pvring_poll_woke(&p, PVRING_POLL_MAX_NS_LIMIT);
		EXPECT_LE(pvring_poll_window(&p), PVRING_POLL_MAX_NS_LIMIT);
	}
	EXPECT_EQ(PVRING_POLL_MAX_NS_LIMIT, pvring_poll_window(&p));

	/* max 0 in adaptive mode: never polls. */
	pvring_poll_init(&p, PVRING_POLL_ADAPTIVE, 0, 2, 0);
	EXPECT_EQ(0, pvring_poll_woke(&p, 0));
	EXPECT_EQ(0, pvring_poll_woke(&p, 1));
	EXPECT_EQ(0, p.grows);
}

TEST(expired)
{
	struct pvring_poll p;

	pvring_poll_init(&p, PVRING_POLL_ON, 50 * US, 0, 0);
	EXPECT_FALSE(pvring_poll_expired(&p, 0));
	EXPECT_FALSE(pvring_poll_expired(&p, 50 * US - 1));
	EXPECT_TRUE(pvring_poll_expired(&p, 50 * US));
	pvring_poll_init(&p, PVRING_POLL_OFF, 50 * US, 0, 0);
	EXPECT_TRUE(pvring_poll_expired(&p, 0));
}

/*
 * A poller's life: events 10 us apart (a busy ring) until the window
 * catches them, then a long idle, then events again.  The simulated
 * poller polls its window; an event within it is a hit (no sleep), any
 * other ends a sleep.
 */
TEST(simulated_poller)
{
	struct pvring_poll p;
	unsigned int i, sleeps = 0, hits = 0;

	pvring_poll_init(&p, PVRING_POLL_ADAPTIVE, 50 * US, 2, 0);
	for (i = 0; i < 100; i++) {
		u64 gap = 10 * US;

		if (!pvring_poll_expired(&p, gap)) {
			hits++;
			continue;
		}
		sleeps++;
		pvring_poll_woke(&p, gap);
	}
	/* 0, 4 and 8 us windows sleep; 16 us catches every event. */
	EXPECT_EQ(3, sleeps);
	EXPECT_EQ(97, hits);
	EXPECT_EQ(16 * US, pvring_poll_window(&p));
	/* Ten seconds of nothing: the next event ends a sleep past max. */
	EXPECT_EQ(0, pvring_poll_woke(&p, 10000000ull * US));
	/* Idle from now on: a window of 0 does not poll at all. */
	EXPECT_TRUE(pvring_poll_expired(&p, 0));
}

/*
 * PVRING_POLL_MISS_LIMIT windows in a row that found nothing: back to 0,
 * held there for PVRING_POLL_HOLD_START sleeps however soon events come,
 * then free to grow again.
 */
TEST(misses_hold_at_zero)
{
	struct pvring_poll p;
	unsigned int i;

	pvring_poll_init(&p, PVRING_POLL_ADAPTIVE, 50 * US, 2, 0);
	while (pvring_poll_window(&p) < 50 * US)
		pvring_poll_woke(&p, 40 * US);
	for (i = 1; i < PVRING_POLL_MISS_LIMIT; i++)
		EXPECT_EQ(50 * US, pvring_poll_missed(&p));
	EXPECT_EQ(0, p.holds);
	EXPECT_EQ(0, pvring_poll_missed(&p));
	EXPECT_EQ(1, p.holds);
	for (i = 0; i < PVRING_POLL_HOLD_START; i++)
		EXPECT_EQ(0, pvring_poll_woke(&p, 10 * US));
	EXPECT_EQ(PVRING_POLL_START_NS, pvring_poll_woke(&p, 10 * US));
}

/* Each hold ended by misses again is twice as long, up to the bound; a hit resets it. */
TEST(hold_doubles_hit_resets)
{
	struct pvring_poll p;
	unsigned int i, want = PVRING_POLL_HOLD_START, n;

	pvring_poll_init(&p, PVRING_POLL_ADAPTIVE, 50 * US, 2, 0);
	for (n = 0; n < 12; n++) {
		pvring_poll_woke(&p, 40 * US);
		ASSERT_NE(0, pvring_poll_window(&p));
		for (i = 0; i < PVRING_POLL_MISS_LIMIT; i++)
			pvring_poll_missed(&p);
		ASSERT_EQ(0, pvring_poll_window(&p));
		EXPECT_EQ(want, p.hold);
		for (i = 0; i < want; i++)
			pvring_poll_woke(&p, 40 * US);
		want = want * 2 > PVRING_POLL_HOLD_MAX ? PVRING_POLL_HOLD_MAX : want * 2;
	}
	EXPECT_EQ(PVRING_POLL_HOLD_MAX, p.next_hold);
	/* Misses short of the limit, then a hit: the streak and the hold start over. */
	pvring_poll_woke(&p, 40 * US);
	for (i = 1; i < PVRING_POLL_MISS_LIMIT; i++)
		pvring_poll_missed(&p);
	pvring_poll_hit(&p);
	EXPECT_EQ(0, p.missed);
	EXPECT_EQ(PVRING_POLL_HOLD_START, p.next_hold);
	for (i = 1; i < PVRING_POLL_MISS_LIMIT; i++)
		pvring_poll_missed(&p);
	EXPECT_NE(0, pvring_poll_window(&p));
}

/* --poll on and off never hold. */
TEST(fixed_modes_ignore_misses)
{
	struct pvring_poll p;
	unsigned int i;

	pvring_poll_init(&p, PVRING_POLL_ON, 50 * US, 0, 0);
	for (i = 0; i < 4 * PVRING_POLL_MISS_LIMIT; i++)
		EXPECT_EQ(50 * US, pvring_poll_missed(&p));
	EXPECT_EQ(0, p.holds);
	pvring_poll_init(&p, PVRING_POLL_OFF, 50 * US, 0, 0);
	for (i = 0; i < 4 * PVRING_POLL_MISS_LIMIT; i++)
		EXPECT_EQ(0, pvring_poll_missed(&p));
	EXPECT_EQ(0, p.holds);
}

/*
 * The other side runs only once the poller sleeps (one CPU for both, a TCG
 * guest): every event comes 1 us after the window ended, so the plain
 * policy grows the window to max and every window is spent for nothing.
 * With the misses reported, few sleeps follow a window at all.
 */
TEST(poll_delays_the_event)
{
	struct pvring_poll p;
	unsigned int i, polled = 0, events = 10000;

	pvring_poll_init(&p, PVRING_POLL_ADAPTIVE, 50 * US, 2, 0);
	for (i = 0; i < events; i++) {
		u32 window = pvring_poll_window(&p);

		if (window) {
			polled++;
			pvring_poll_missed(&p);
		}
		pvring_poll_woke(&p, (u64)window + 1 * US);
	}
	TH_LOG("%u of %u sleeps after a window, %llu holds", polled, events,
	       (unsigned long long)p.holds);
	/* At the bound: PVRING_POLL_MISS_LIMIT windows per PVRING_POLL_HOLD_MAX sleeps. */
	EXPECT_LT(polled * 50, events);
}

TEST_HARNESS_MAIN
