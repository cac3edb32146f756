/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * pvring_poll.h - how long either side of a ring polls before it sleeps:
 * the adaptive polling window, shared by pviod's workers and the userspace
 * driver (arithmetic only: the caller polls, reads its clock and sleeps).
 *
 * A side that has just done work (served chains, reaped used buffers) keeps
 * looking at its rings for up to a window of time, with notifications from
 * the other side suppressed, before it asks for them again (enable, full
 * barrier, re-check: pvring_dev_enable_notify(), pvring_drv_enable_cb())
 * and sleeps.  Work found while polling costs neither side a system call;
 * a window spent without finding any costs a CPU for that long.
 *
 * The window adapts to what the sleeps show.  When the poller wakes, it
 * tells pvring_poll_woke() how long it had been idle (from the end of its
 * last work to the event that woke it, the poll included):
 *
 *   idle <= window        the event came while polling would have seen it
 *                         (one the poll does not watch): no change
 *   window < idle <= max  a longer window would have caught it: grow
 *                         (0 -> PVRING_POLL_START_NS, then * grow, up to max)
 *   idle > max            polling that long would not pay: shrink
 *                         (/ shrink, or straight to 0 when shrink is 0)
 *
 * Work found by polling (a hit) leaves the window as it is.  So a busy
 * ring settles on a window just above its inter-arrival time, an idle one
 * goes to 0 after its first long sleep and never polls again until events
 * come close together: idle costs nothing.  This is QEMU's iothread policy
 * (poll-max-ns, poll-grow, poll-shrink), per poller.
 *
 * That policy assumes that the other side's events come when they come,
 * polling or not.  When the two sides share CPUs (a TCG guest, a client on
 * the poller's CPU) the poll can be what delays the event: the other side
 * gets the CPU only once the poller sleeps, so every event comes just after
 * the window ended, the window grows to max, and every window is spent for
 * nothing, with the other side's notifications off meanwhile and asked for
 * again just before it runs.  So the poller also reports how windows end
 * (pvring_poll_hit(), pvring_poll_missed()): after PVRING_POLL_MISS_LIMIT
 * windows in a row that found nothing, the window goes back to 0 and stays
 * there for a number of sleeps (the hold: from PVRING_POLL_HOLD_START,
 * doubled each time it ends in the same way, up to PVRING_POLL_HOLD_MAX),
 * during which the poller behaves as PVRING_POLL_OFF.  A hit ends the
 * streak and resets the hold.  A poller that never reports keeps the plain
 * policy.
 *
 * On CPUs shared with more runnable threads than they have (the storage
 * server, other guests), the poll takes CPU time the other side needs and
 * is preempted while it polls: its windows find work, but only because it
 * was not running while the other side made it, so they count as hits and
 * never reach the miss limit.  So the poller also reports the gaps between
 * its reads of the clock while it polls (pvring_poll_gap(), including the
 * last one, up to the hit): one far longer than a turn of its poll loop
 * (PVRING_POLL_PREEMPT_NS) means it was preempted.  A preemption now and
 * then is the machine's load, which polling rides out better than a sleep
 * would (a thread woken on a busy CPU waits its turn); but when
 * PVRING_POLL_PREEMPT_LIMIT windows in a row were preempted, with no hit in
 * a window that was not, the poll is what stands in the other side's way:
 * the next window ends at once and the window is held at 0 as after the
 * miss limit.  Only a hit in a window that was not preempted resets the
 * streak and the hold, so preemptions that come back each time polling
 * resumes hold the window for longer and longer.
 *
 * PVRING_POLL_ON pins the window at max (no adaptation), PVRING_POLL_OFF
 * at 0: the poller never polls, and sleeps as soon as it is idle.
 */
#ifndef PVRING_POLL_H
#define PVRING_POLL_H

#include "pvring_compat.h"

enum pvring_poll_mode {
	PVRING_POLL_OFF, /* never poll: sleep when idle */
	PVRING_POLL_ON, /* poll max_ns after every piece of work */
	PVRING_POLL_ADAPTIVE, /* poll a window in [0, max_ns], adapted */
};

#define PVRING_POLL_START_NS 4000u /* the first window grown from 0 */
#define PVRING_POLL_MAX_NS_DEFAULT 50000u
#define PVRING_POLL_MAX_NS_LIMIT 1000000000u /* a second: no window is longer */
#define PVRING_POLL_GROW_DEFAULT 2u
#define PVRING_POLL_SHRINK_DEFAULT 0u /* back to 0 */
/* Windows in a row that found nothing before the window is held at 0. */
#define PVRING_POLL_MISS_LIMIT 8u
/* Sleeps the window is held at 0 the first time, and at most. */
#define PVRING_POLL_HOLD_START 8u
#define PVRING_POLL_HOLD_MAX 1024u
/*
 * A gap between two reads of the clock in one window longer than this: the
 * poller was preempted (a turn of a poll loop between reads takes a few
 * microseconds at most; an interrupt, a fraction of one).
 */
#define PVRING_POLL_PREEMPT_NS 10000u
/* Windows in a row preempted before the window is held at 0. */
#define PVRING_POLL_PREEMPT_LIMIT 4u

struct pvring_poll {
	u32 ns; /* the window: poll this long when idle; 0: do not poll */
	u32 max_ns; /* its bound */
	u32 grow; /* factor, >= 2 */
	u32 shrink; /* divisor, >= 2; 0: back to 0 */
	enum pvring_poll_mode mode;
	u32 missed; /* windows in a row that found nothing (no hit since) */
	u32 hold; /* sleeps left with the window held at 0 */
	u32 next_hold; /* the next hold's length */
	bool preempted; /* a gap showed preemption since the last window ended */
	u32 preempted_row; /* windows in a row preempted (no clean hit since) */
	/* Counters, the poller's. */
	u64 grows; /* windows grown */
	u64 shrinks; /* windows shrunk */
	u64 holds; /* times the window was held at 0 (misses or preemption) */
	u64 preempts; /* gaps that showed the poller preempted while it polled */
};

/**
 * pvring_poll_init - a window for one poller
 * @p: the window
 * @mode: off, on or adaptive
 * @max_ns: the bound, up to PVRING_POLL_MAX_NS_LIMIT (clamped)
 * @grow: factor a window grows by (< 2: the default)
 * @shrink: divisor a window shrinks by (0: back to 0; 1 counts as 2)
 *
 * An adaptive window starts at 0: the first events come by notification,
 * and the window grows as they show that polling would have caught them.
 */
static inline void pvring_poll_init(struct pvring_poll *p, enum pvring_poll_mode mode, u32 max_ns,
				    u32 grow, u32 shrink)
{
	if (max_ns > PVRING_POLL_MAX_NS_LIMIT)
		max_ns = PVRING_POLL_MAX_NS_LIMIT;
	p->mode = mode;
	p->max_ns = mode == PVRING_POLL_OFF ? 0 : max_ns;
	p->grow = grow < 2 ? PVRING_POLL_GROW_DEFAULT : grow;
	p->shrink = shrink == 1 ? 2 : shrink;
	p->ns = mode == PVRING_POLL_ON ? p->max_ns : 0;
	p->missed = 0;
	p->hold = 0;
	p->next_hold = PVRING_POLL_HOLD_START;
	p->preempted = false;
	p->preempted_row = 0;
	p->grows = 0;
	p->shrinks = 0;
	p->holds = 0;
	p->preempts = 0;
}

/**
 * pvring_poll_window - how long to poll when idle now
 * @p: the window
 *
 * Return: nanoseconds; 0: do not poll, leave notifications on.
 */
static inline u32 pvring_poll_window(const struct pvring_poll *p)
{
	return p->ns;
}

/**
 * pvring_poll_expired - has an idle poller polled long enough?
 * @p: the window
 * @idle_ns: since the end of its last work
 *
 * After PVRING_POLL_PREEMPT_LIMIT windows in a row preempted, the next
 * has: pvring_poll_missed() then holds the window at 0.
 */
static inline bool pvring_poll_expired(const struct pvring_poll *p, u64 idle_ns)
{
	return idle_ns >= p->ns || p->preempted_row >= PVRING_POLL_PREEMPT_LIMIT;
}

/**
 * pvring_poll_gap - the poller read its clock while polling
 * @p: the window
 * @gap_ns: since its previous read in the same idle stretch (when it read
 *          none since its last work: since the stretch began)
 *
 * Called at every read of the clock while polling, and once more when a
 * poll finds work, before that work runs, so that a preemption that let
 * the other side make that work is seen too.  A gap longer than
 * PVRING_POLL_PREEMPT_NS (adaptive only) marks the window preempted.
 *
 * Return: true when the gap showed a preemption.
 */
static inline bool pvring_poll_gap(struct pvring_poll *p, u64 gap_ns)
{
	if (p->mode != PVRING_POLL_ADAPTIVE || gap_ns <= PVRING_POLL_PREEMPT_NS)
		return false;
	p->preempted = true;
	p->preempts++;
	return true;
}

/* A window ends (work found, or nothing): was it preempted? */
static inline void __pvring_poll_end(struct pvring_poll *p)
{
	if (p->preempted)
		p->preempted_row++;
	p->preempted = false;
}

/**
 * pvring_poll_hit - polling found work
 * @p: the window
 *
 * Polling pays: the streak of empty windows ends; and, unless the poller
 * was preempted in this window (when the work may have come only because
 * it was not polling), so does the streak of preempted ones, and the next
 * hold, should one come, is short again.
 */
static inline void pvring_poll_hit(struct pvring_poll *p)
{
	p->missed = 0;
	if (p->preempted) {
		__pvring_poll_end(p);
		return;
	}
	p->preempted_row = 0;
	p->next_hold = PVRING_POLL_HOLD_START;
}

/**
 * pvring_poll_missed - a window ended with nothing found (the poller sleeps)
 * @p: the window
 *
 * The PVRING_POLL_MISS_LIMIT-th in a row, or the window after
 * PVRING_POLL_PREEMPT_LIMIT preempted ones (adaptive only), takes the
 * window to 0 and holds it there for the next hold's number of sleeps.
 * The window goes to 0 here only, as the poller is about to sleep with
 * notifications on.
 *
 * Return: the new window.
 */
static inline u32 pvring_poll_missed(struct pvring_poll *p)
{
	if (p->mode != PVRING_POLL_ADAPTIVE)
		return p->ns;
	__pvring_poll_end(p);
	if (p->preempted_row < PVRING_POLL_PREEMPT_LIMIT && ++p->missed < PVRING_POLL_MISS_LIMIT)
		return p->ns;
	p->missed = 0;
	p->preempted_row = 0;
	p->ns = 0;
	p->hold = p->next_hold;
	if (p->next_hold < PVRING_POLL_HOLD_MAX)
		p->next_hold *= 2;
	p->holds++;
	return 0;
}

/**
 * pvring_poll_woke - adapt the window after a sleep
 * @p: the window
 * @idle_ns: from the end of the last work to the event that ended the
 *           sleep (the time spent polling before it included)
 *
 * Return: the new window.
 */
static inline u32 pvring_poll_woke(struct pvring_poll *p, u64 idle_ns)
{
	u64 ns;

	if (p->mode != PVRING_POLL_ADAPTIVE || idle_ns <= p->ns)
		return p->ns;
	if (p->hold) {
		/* Held at 0 after windows that found nothing: no growth yet. */
		p->hold--;
		return p->ns;
	}
	if (idle_ns > p->max_ns) {
		if (p->ns) {
			p->ns = p->shrink ? p->ns / p->shrink : 0;
			p->shrinks++;
		}
	} else if (p->ns < p->max_ns) {
		ns = p->ns ? (u64)p->ns * p->grow : PVRING_POLL_START_NS;
		p->ns = ns > p->max_ns ? p->max_ns : (u32)ns;
		p->grows++;
	}
	return p->ns;
}

#endif /* PVRING_POLL_H */
