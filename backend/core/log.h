/* SPDX-License-Identifier: GPL-2.0 */
/*
 * log.h - pviod's messages: one line each on stderr, prefixed with the
 * level, and a rate limit for messages a guest can provoke at will.
 */
#ifndef PVIOD_CORE_LOG_H
#define PVIOD_CORE_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

enum pviod_log_level { PVIOD_LOG_ERR, PVIOD_LOG_WARN, PVIOD_LOG_INFO, PVIOD_LOG_DEBUG };

extern int pviod_log_level;

void pviod_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int pviod_log_level_parse(const char *s);

#define pr_err(...) pviod_log(PVIOD_LOG_ERR, __VA_ARGS__)
#define pr_warn(...) pviod_log(PVIOD_LOG_WARN, __VA_ARGS__)
#define pr_info(...) pviod_log(PVIOD_LOG_INFO, __VA_ARGS__)
#define pr_debug(...)                                            \
	do {                                                     \
		if (pviod_log_level >= PVIOD_LOG_DEBUG)          \
			pviod_log(PVIOD_LOG_DEBUG, __VA_ARGS__); \
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
