// SPDX-License-Identifier: GPL-2.0
/*
 * options.c - the key=value options of a --device SPEC, shared by every
 * device type so that each reports a bad option the same way: the device
 * type, the option as given, and what was expected.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/options.h"

/**
 * pviod_opt_err - report a bad option: "pviod: --device TYPE: MESSAGE"
 * @type: the device type ("blk")
 * @fmt: printf format of the rest, without a trailing newline
 *
 * The command line prints it; the control socket answers with it
 * (core/log.h's capture).
 */
void pviod_opt_err(const char *type, const char *fmt, ...)
{
	char buf[448];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pviod_usage_err("--device %s: %s", type, buf);
}

/**
 * pviod_opt_split - split one "key=value" token in place
 * @type: the device type, for the message ("blk")
 * @tok: the token; its '=' becomes the key's terminator
 * @val: out: the value
 *
 * Return: 0, or -EINVAL (reported) when @tok has no '='.
 */
int pviod_opt_split(const char *type, char *tok, char **val)
{
	char *eq = strchr(tok, '=');

	if (!eq) {
		pviod_opt_err(type, "'%s' is not key=value", tok);
		return -EINVAL;
	}
	*eq = '\0';
	*val = eq + 1;
	return 0;
}

/**
 * pviod_opt_uint - a decimal number within bounds
 * @type: the device type, for the message
 * @key: the option's name, for the message
 * @val: the text
 * @lo: smallest accepted
 * @hi: largest accepted
 * @out: out: the number
 *
 * Return: 0, or -EINVAL (reported) for anything but digits within [@lo, @hi].
 */
int pviod_opt_uint(const char *type, const char *key, const char *val, unsigned long lo,
		   unsigned long hi, unsigned long *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(val, &end, 10);
	if (errno || !*val || *end || *val == '-' || v < lo || v > hi) {
		pviod_opt_err(type, "%s=%s: expected %lu..%lu", key, val, lo, hi);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/**
 * pviod_opt_bool - on/off (also yes/no, true/false, 1/0)
 * @type: the device type, for the message
 * @key: the option's name, for the message
 * @val: the text
 * @out: out: the value
 *
 * Return: 0, or -EINVAL (reported).
 */
int pviod_opt_bool(const char *type, const char *key, const char *val, bool *out)
{
	if (!strcmp(val, "on") || !strcmp(val, "yes") || !strcmp(val, "true") ||
	    !strcmp(val, "1")) {
		*out = true;
	} else if (!strcmp(val, "off") || !strcmp(val, "no") || !strcmp(val, "false") ||
		   !strcmp(val, "0")) {
		*out = false;
	} else {
		pviod_opt_err(type, "%s=%s: expected on or off", key, val);
		return -EINVAL;
	}
	return 0;
}
