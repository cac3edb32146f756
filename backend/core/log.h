/* SPDX-License-Identifier: GPL-2.0 */
/*
 * log.h - pviod's messages: one line each on stderr, prefixed with the
 * level, and a rate limit for messages a guest can provoke at will.
 *
 * Under systemd each line also starts with its syslog priority ("<3>" for
 * an error), which journald turns into the entry's priority, so
 * `journalctl -p err` shows pviod's errors alone: on by default when stderr
 * is the journal (JOURNAL_STREAM names it), or forced with
 * pviod_log_prefix_set().
 *
 * A thread may capture the error messages it causes (pviod_log_capture()):
 * a device added over the control socket answers with the message the
 * command line would have printed.
 */
#ifndef PVIOD_CORE_LOG_H
#define PVIOD_CORE_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

enum pviod_log_level { PVIOD_LOG_ERR, PVIOD_LOG_WARN, PVIOD_LOG_INFO, PVIOD_LOG_DEBUG };

extern int pviod_log_level; /* read and written with relaxed atomics once threads run */

void pviod_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pviod_usage_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int pviod_log_level_parse(const char *s);
const char *pviod_log_level_name(int level);
void pviod_log_level_set(int level);

enum pviod_log_prefix { PVIOD_LOG_PREFIX_AUTO, PVIOD_LOG_PREFIX_ON, PVIOD_LOG_PREFIX_OFF };
void pviod_log_prefix_set(enum pviod_log_prefix mode);

/* The error messages one thread printed while capturing, joined by "; ". */
struct pviod_log_capture {
	char msg[1024];
	size_t len;
};

void pviod_log_capture(struct pviod_log_capture *c);

#define pr_err(...) pviod_log(PVIOD_LOG_ERR, __VA_ARGS__)
#define pr_warn(...) pviod_log(PVIOD_LOG_WARN, __VA_ARGS__)
#define pr_info(...) pviod_log(PVIOD_LOG_INFO, __VA_ARGS__)
#define pr_debug(...)                                                                       \
	do {                                                                                \
		if (__atomic_load_n(&pviod_log_level, __ATOMIC_RELAXED) >= PVIOD_LOG_DEBUG) \
			pviod_log(PVIOD_LOG_DEBUG, __VA_ARGS__);                            \
	} while (0)

/*
 * A rate limit for messages a hostile guest can trigger at will: at most
 * burst messages per interval, then one "suppressed" count.
 */
struct pviod_ratelimit {
	uint64_t begin_ns;
	unsigned int printed;
	unsigned int missed;
};

bool pviod_ratelimit_ok(struct pviod_ratelimit *rl);

/* The smaller of two sizes (a function: both arguments evaluated once). */
static inline uint64_t pviod_min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

#endif /* PVIOD_CORE_LOG_H */
