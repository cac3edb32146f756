// SPDX-License-Identifier: GPL-2.0
/*
 * log.c - pviod's messages: stderr (journald captures it under systemd),
 * one line each, prefixed with the level (and, for journald, the syslog
 * priority), and a rate limit for messages a guest can provoke.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "core/log.h"

int pviod_log_level = PVIOD_LOG_INFO;

static const char *const pviod_log_names[] = {
	[PVIOD_LOG_ERR] = "error",
	[PVIOD_LOG_WARN] = "warning",
	[PVIOD_LOG_INFO] = "info",
	[PVIOD_LOG_DEBUG] = "debug",
};

/* syslog(3)'s priorities: LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG. */
static const char pviod_log_prio[] = {
	[PVIOD_LOG_ERR] = '3',
	[PVIOD_LOG_WARN] = '4',
	[PVIOD_LOG_INFO] = '6',
	[PVIOD_LOG_DEBUG] = '7',
};

static int pviod_log_prefix_mode = PVIOD_LOG_PREFIX_AUTO;
static pthread_once_t pviod_log_once = PTHREAD_ONCE_INIT;
static bool pviod_log_prefix_on;
static __thread struct pviod_log_capture *pviod_log_cap;

/* Is stderr the journal?  systemd says so in JOURNAL_STREAM=DEV:INODE. */
static void pviod_log_prefix_detect(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (pviod_log_prefix_mode != PVIOD_LOG_PREFIX_AUTO) {
		pviod_log_prefix_on = pviod_log_prefix_mode == PVIOD_LOG_PREFIX_ON;
		return;
	}
	pviod_log_prefix_on = js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
			      !fstat(STDERR_FILENO, &st) && st.st_dev == dev && st.st_ino == ino;
}

/**
 * pviod_log_prefix_set - whether lines start with "<N>" (before any thread runs)
 * @mode: AUTO (when stderr is the journal; the default), ON or OFF
 */
void pviod_log_prefix_set(enum pviod_log_prefix mode)
{
	pviod_log_prefix_mode = mode;
	pviod_log_prefix_detect();
}

/**
 * pviod_log_capture - collect this thread's error messages into @c
 * @c: emptied now; NULL ends the capture
 *
 * They are still printed.
 */
void pviod_log_capture(struct pviod_log_capture *c)
{
	if (c) {
		c->msg[0] = '\0';
		c->len = 0;
	}
	pviod_log_cap = c;
}

static void pviod_log_captured(const char *msg)
{
	struct pviod_log_capture *c = pviod_log_cap;
	int n;

	if (!c || c->len >= sizeof(c->msg) - 1)
		return;
	n = snprintf(c->msg + c->len, sizeof(c->msg) - c->len, "%s%s", c->len ? "; " : "", msg);
	if (n > 0)
		c->len = pviod_min_u64(c->len + (size_t)n, sizeof(c->msg) - 1);
}

/* One write per line so lines from several threads do not interleave. */
static void pviod_log_emit(int level, const char *tag, const char *msg)
{
	char prio[4] = "";

	pthread_once(&pviod_log_once, pviod_log_prefix_detect);
	if (pviod_log_prefix_on)
		snprintf(prio, sizeof(prio), "<%c>", pviod_log_prio[level]);
	fprintf(stderr, "%spviod: %s%s\n", prio, tag, msg);
	if (level == PVIOD_LOG_ERR)
		pviod_log_captured(msg);
}

/**
 * pviod_log - print one message if @level is enabled
 * @level: PVIOD_LOG_*
 * @fmt: printf format, without a trailing newline
 */
void pviod_log(int level, const char *fmt, ...)
{
	char buf[512], tag[16];
	va_list ap;

	if (level > __atomic_load_n(&pviod_log_level, __ATOMIC_RELAXED) &&
	    !(level == PVIOD_LOG_ERR && pviod_log_cap))
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (level > __atomic_load_n(&pviod_log_level, __ATOMIC_RELAXED)) {
		pviod_log_captured(buf); /* silenced, still the caller's answer */
		return;
	}
	snprintf(tag, sizeof(tag), "%s: ", pviod_log_names[level]);
	pviod_log_emit(level, tag, buf);
}

/**
 * pviod_usage_err - a bad argument: "pviod: MESSAGE" (at error priority)
 * @fmt: printf format, without a trailing newline
 *
 * Whatever the log level: the command line's and the control socket's
 * answer to a bad --device or option.
 */
void pviod_usage_err(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pviod_log_emit(PVIOD_LOG_ERR, "", buf);
}

/**
 * pviod_log_level_set - change the level (any thread, at any time)
 * @level: PVIOD_LOG_*
 */
void pviod_log_level_set(int level)
{
	__atomic_store_n(&pviod_log_level, level, __ATOMIC_RELAXED);
}

/**
 * pviod_log_level_name - "error", "warning", "info" or "debug"
 * @level: PVIOD_LOG_*
 *
 * Return: the name, or "?" out of range.
 */
const char *pviod_log_level_name(int level)
{
	if (level < 0 || level > PVIOD_LOG_DEBUG)
		return "?";
	return pviod_log_names[level];
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
