// SPDX-License-Identifier: GPL-2.0
/*
 * log.c - pviod's messages: stderr (journald captures it under systemd),
 * one line each, prefixed with the level, and a rate limit for messages a
 * guest can provoke.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/log.h"

int pviod_log_level = PVIOD_LOG_INFO;

static const char *const pviod_log_names[] = {
	[PVIOD_LOG_ERR] = "error",
	[PVIOD_LOG_WARN] = "warning",
	[PVIOD_LOG_INFO] = "info",
	[PVIOD_LOG_DEBUG] = "debug",
};

/**
 * pviod_log - print one message if @level is enabled
 * @level: PVIOD_LOG_*
 * @fmt: printf format, without a trailing newline
 */
void pviod_log(int level, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (level > pviod_log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* One write per line so lines from several threads do not interleave. */
	fprintf(stderr, "pviod: %s: %s\n", pviod_log_names[level], buf);
}

/**
 * pviod_log_level_parse - "error", "warning", "info", "debug" or 0..3
 * @s: the option's value
 *
 * Return: the level, or -EINVAL.
 */
int pviod_log_level_parse(const char *s)
{
	unsigned int i;

	for (i = 0; i < sizeof(pviod_log_names) / sizeof(pviod_log_names[0]); i++) {
		if (!strcasecmp(s, pviod_log_names[i]) || (s[0] == (char)('0' + i) && s[1] == '\0'))
			return (int)i;
	}
	if (!strcasecmp(s, "warn") || !strcasecmp(s, "err"))
		return !strcasecmp(s, "warn") ? PVIOD_LOG_WARN : PVIOD_LOG_ERR;
	return -EINVAL;
}

#define PVIOD_RL_INTERVAL_NS 5000000000ull
#define PVIOD_RL_BURST 10

/**
 * pviod_ratelimit_ok - may a rate-limited message be printed now?
 * @rl: the limit's state, one per source (a queue)
 *
 * Not thread-safe: each state belongs to one thread.
 */
bool pviod_ratelimit_ok(struct pviod_ratelimit *rl)
{
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	if (!rl->begin_ns || now - rl->begin_ns >= PVIOD_RL_INTERVAL_NS) {
		if (rl->missed)
			pr_warn("%u messages suppressed", rl->missed);
		rl->begin_ns = now;
		rl->printed = 0;
		rl->missed = 0;
	}
	if (rl->printed < PVIOD_RL_BURST) {
		rl->printed++;
		return true;
	}
	rl->missed++;
	return false;
}
