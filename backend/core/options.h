/* SPDX-License-Identifier: GPL-2.0 */
/*
 * options.h - the key=value options of a --device SPEC, parsed the same way
 * by every device type (options.c).
 */
#ifndef PVIOD_CORE_OPTIONS_H
#define PVIOD_CORE_OPTIONS_H

#include <stdbool.h>

void pviod_opt_err(const char *type, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int pviod_opt_split(const char *type, char *tok, char **val);
int pviod_opt_uint(const char *type, const char *key, const char *val, unsigned long lo,
		   unsigned long hi, unsigned long *out);
int pviod_opt_bool(const char *type, const char *key, const char *val, bool *out);

#endif /* PVIOD_CORE_OPTIONS_H */
