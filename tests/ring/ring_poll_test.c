// SPDX-License-Identifier: GPL-2.0
/*
 * ring_poll_test.c - the adaptive polling window (ring/pvring_poll.h) that
 * pviod's workers and the userspace driver poll by: it grows, shrinks and
 * stays within its bounds as the sleeps say, windows that keep finding
 * nothing or are preempted hold it at 0 for a while, and the fixed modes
 * never move.  Preemption is simulated on a fake clock: a gap in it.
 */
#include <string.h>

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

/* An adaptive 50 us window, grown to its bound by events 40 us apart. */
static void poll_at_max(struct pvring_poll *p)
{
	pvring_poll_init(p, PVRING_POLL_ADAPTIVE, 50 * US, 2, 0);
	while (pvring_poll_window(p) < 50 * US)
		pvring_poll_woke(p, 40 * US);
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

	poll_at_max(&p);
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

/* Gaps up to PVRING_POLL_PREEMPT_NS are turns of the loop; --poll on and off ignore any. */
TEST(short_gaps_are_no_preemption)
{
	struct pvring_poll p;
	unsigned int i;

	poll_at_max(&p);
	for (i = 0; i < 4 * PVRING_POLL_PREEMPT_LIMIT; i++) {
		EXPECT_FALSE(pvring_poll_gap(&p, 0));
		EXPECT_FALSE(pvring_poll_gap(&p, 2 * US));
		EXPECT_FALSE(pvring_poll_gap(&p, PVRING_POLL_PREEMPT_NS));
		pvring_poll_hit(&p);
	}
	EXPECT_FALSE(pvring_poll_expired(&p, 0));
	EXPECT_EQ(0, p.preempts);

	pvring_poll_init(&p, PVRING_POLL_ON, 50 * US, 0, 0);
	for (i = 0; i < 4 * PVRING_POLL_PREEMPT_LIMIT; i++) {
		EXPECT_FALSE(pvring_poll_gap(&p, 1000 * US));
		pvring_poll_hit(&p);
	}
	EXPECT_FALSE(pvring_poll_expired(&p, 0));
	EXPECT_EQ(50 * US, pvring_poll_missed(&p));
	pvring_poll_init(&p, PVRING_POLL_OFF, 50 * US, 0, 0);
	EXPECT_FALSE(pvring_poll_gap(&p, 1000 * US));
	EXPECT_EQ(0, p.preempts);
}

/*
 * PVRING_POLL_PREEMPT_LIMIT windows in a row preempted (gaps past
 * PVRING_POLL_PREEMPT_NS), found work or not: the next window ends at
 * once and its end holds the window at 0; a preemption streak again after
 * the hold holds it twice as long.  A hit in a window not preempted ends
 * the streak and resets the hold.
 */
TEST(preempted_windows_hold)
{
	struct pvring_poll p;
	unsigned int i;

	poll_at_max(&p);
	for (i = 0; i < PVRING_POLL_PREEMPT_LIMIT; i++) {
		EXPECT_FALSE(pvring_poll_expired(&p, 0));
		EXPECT_TRUE(pvring_poll_gap(&p, PVRING_POLL_PREEMPT_NS + 1));
		/* A second gap in the same window is the same window. */
		pvring_poll_gap(&p, 100 * US);
		if (i % 2)
			pvring_poll_hit(&p);
		else
			EXPECT_EQ(50 * US, pvring_poll_missed(&p));
	}
	EXPECT_EQ(2 * PVRING_POLL_PREEMPT_LIMIT, p.preempts);
	EXPECT_EQ(0, p.holds);
	/* The window is open to the poller until it sleeps; the next ends at once. */
	EXPECT_EQ(50 * US, pvring_poll_window(&p));
	EXPECT_TRUE(pvring_poll_expired(&p, 0));
	EXPECT_EQ(0, pvring_poll_missed(&p));
	EXPECT_EQ(1, p.holds);
	EXPECT_EQ(PVRING_POLL_HOLD_START, p.hold);
	for (i = 0; i < PVRING_POLL_HOLD_START; i++)
		EXPECT_EQ(0, pvring_poll_woke(&p, 10 * US));
	EXPECT_EQ(PVRING_POLL_START_NS, pvring_poll_woke(&p, 10 * US));

	/* Preempted again, every window finding work: twice the hold. */
	for (i = 0; i < PVRING_POLL_PREEMPT_LIMIT; i++) {
		pvring_poll_gap(&p, 100 * US);
		pvring_poll_hit(&p);
	}
	EXPECT_TRUE(pvring_poll_expired(&p, 0));
	pvring_poll_missed(&p);
	EXPECT_EQ(2 * PVRING_POLL_HOLD_START, p.hold);
	for (i = 0; i < 2 * PVRING_POLL_HOLD_START; i++)
		EXPECT_EQ(0, pvring_poll_woke(&p, 10 * US));
	EXPECT_EQ(PVRING_POLL_START_NS, pvring_poll_woke(&p, 10 * US));

	/* Preempted windows short of the limit, then a clean hit: all starts over. */
	for (i = 1; i < PVRING_POLL_PREEMPT_LIMIT; i++) {
		pvring_poll_gap(&p, 100 * US);
		pvring_poll_hit(&p);
	}
	pvring_poll_hit(&p);
	EXPECT_EQ(PVRING_POLL_HOLD_START, p.next_hold);
	for (i = 1; i < PVRING_POLL_PREEMPT_LIMIT; i++) {
		pvring_poll_gap(&p, 100 * US);
		pvring_poll_hit(&p);
	}
	EXPECT_FALSE(pvring_poll_expired(&p, 0));
}

/* What one simulated run of requests cost the poller. */
struct sim_result {
	unsigned int polled; /* windows that polled for at least one turn */
	unsigned int hits; /* requests whose reply a poll found */
	unsigned int sleeps; /* requests whose reply ended a sleep */
	u64 poll_ns; /* time on the CPU polling (preemptions not included) */
};

#define SIM_TURN_NS 1000u /* a turn of the poll loop between reads of the clock */

/*
 * A poller serving requests one at a time (QD1) as pviod's worker does, on
 * a fake clock: once it has sent a request it polls its window, reading
 * the clock every turn of its loop (SIM_TURN_NS) and reporting each gap
 * (when @report: a poller that does not keeps the plain policy), until the
 * reply comes, @reply_ns after the request, or the window ends, when it
 * sleeps until the reply.  @shared: one request in @shared (0: none) has
 * the server run on the poller's CPU: it gets the CPU by preempting the
 * poll after its first turn, for the whole of @reply_ns, and the reply is
 * there when the poller runs again (a gap on the clock).
 */
static void simulate(struct pvring_poll *p, unsigned int requests, u64 reply_ns,
		     unsigned int shared, bool report, struct sim_result *r)
{
	unsigned int i;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < requests; i++) {
		u64 t = 0, last = 0, ready = reply_ns;
		bool hit = false, ran = false;

		if (pvring_poll_window(p)) {
			if (!pvring_poll_expired(p, 0))
				r->polled++;
			while (!pvring_poll_expired(p, t)) {
				t += SIM_TURN_NS;
				r->poll_ns += SIM_TURN_NS;
				if (shared && i % shared == 0 && !ran) {
					t += reply_ns;
					ready = t;
					ran = true;
				}
				if (report)
					pvring_poll_gap(p, t - last);
				last = t;
				if (t >= ready) {
					hit = true;
					break;
				}
			}
			if (hit) {
				r->hits++;
				pvring_poll_hit(p);
				continue;
			}
			pvring_poll_missed(p);
		}
		r->sleeps++;
		pvring_poll_woke(p, t > reply_ns ? t : reply_ns);
	}
}

/*
 * The same run twice from a 50 us adaptive window: @plain under the policy
 * without gap reports (@a), @p with them (@b).
 */
static void simulate_both(struct pvring_poll *plain, struct pvring_poll *p, unsigned int requests,
			  u64 reply_ns, unsigned int shared, struct sim_result *a,
			  struct sim_result *b)
{
	pvring_poll_init(plain, PVRING_POLL_ADAPTIVE, 50 * US, 2, 0);
	pvring_poll_init(p, PVRING_POLL_ADAPTIVE, 50 * US, 2, 0);
	simulate(plain, requests, reply_ns, shared, false, a);
	simulate(p, requests, reply_ns, shared, true, b);
}

/*
 * The server on a CPU of its own, replying in 20 us: the window grows to
 * catch every reply, no poll is preempted, and reporting the gaps changes
 * nothing (the idle machine: polling as before).
 */
TEST(own_cpu_polls_as_before)
{
	struct pvring_poll plain, p;
	struct sim_result a, b;

	simulate_both(&plain, &p, 10000, 20 * US, 0, &a, &b);
	TH_LOG("plain: %u hits %u sleeps; gaps reported: %u hits %u sleeps", a.hits, a.sleeps,
	       b.hits, b.sleeps);
	EXPECT_EQ(0, p.preempts);
	EXPECT_EQ(0, p.holds);
	EXPECT_EQ(a.hits, b.hits);
	EXPECT_EQ(a.sleeps, b.sleeps);
	EXPECT_EQ(a.poll_ns, b.poll_ns);
	/* 0, 4, 8 and 16 us windows sleep; 32 us catches every reply. */
	EXPECT_EQ(4, b.sleeps);
	EXPECT_EQ(32 * US, pvring_poll_window(&p));
}

/*
 * The server on the poller's CPU (an oversubscribed machine), 30 us per
 * reply: under the plain policy every window is preempted and then finds
 * the reply, a hit each time, so the poller polls for every request.  With
 * the gaps reported, the preempted windows hold the window at 0 longer and
 * longer: the poller soon polls for almost none.
 */
TEST(shared_cpu_preemption_stops_polling)
{
	struct pvring_poll plain, p;
	struct sim_result a, b;
	unsigned int n = 10000;

	simulate_both(&plain, &p, n, 30 * US, 1, &a, &b);
	TH_LOG("plain: %u of %u polled (%u hits); reported: %u polled, %llu preempts, %llu holds",
	       a.polled, n, a.hits, b.polled, (unsigned long long)p.preempts,
	       (unsigned long long)p.holds);
	/* The plain policy never holds: polling always "hits". */
	EXPECT_EQ(0, plain.holds);
	EXPECT_GT(a.polled, n - 10);
	/* Each preemption streak is followed by a hold, doubling up to the bound. */
	EXPECT_EQ(p.preempts, p.holds * PVRING_POLL_PREEMPT_LIMIT);
	EXPECT_LT(b.polled * 50, n);
	EXPECT_LT(b.poll_ns * 50, a.poll_ns);
	EXPECT_EQ(PVRING_POLL_HOLD_MAX, p.next_hold);
}

/*
 * Load from elsewhere: one request in 16 sees its poll preempted, and the
 * poll still finds the reply sooner than a sleep would.  No streak, no
 * hold: the poller polls exactly as under the plain policy.
 */
TEST(occasional_preemption_polls_as_before)
{
	struct pvring_poll plain, p;
	struct sim_result a, b;

	simulate_both(&plain, &p, 10000, 30 * US, 16, &a, &b);
	TH_LOG("plain: %u hits %u sleeps; gaps reported: %u hits %u sleeps, %llu preempts", a.hits,
	       a.sleeps, b.hits, b.sleeps, (unsigned long long)p.preempts);
	EXPECT_GT(p.preempts, 500);
	EXPECT_EQ(0, p.holds);
	EXPECT_EQ(a.hits, b.hits);
	EXPECT_EQ(a.polled, b.polled);
}

TEST_HARNESS_MAIN
