// SPDX-License-Identifier: GPL-2.0
/*
 * config.c - pviod --config FILE, and SIGHUP's reload of it.
 *
 * The file (pviod(8), CONFIGURATION FILE) has one setting per line:
 *
 *   # a comment; blank lines are ignored
 *   workers 2                 a global option, as on the command line
 *   log-level info            (without the dashes; "name value" or "name = value")
 *   device blk,id=disk0,socket=/run/pviod/disk0.sock,file=/var/lib/pvio/disk0.img
 *
 * A reload reads the file again and applies the difference to the devices
 * the file made: a device whose line is gone is removed, a new line's
 * device is added, and a device whose line did not change is not touched
 * (its front-end stays connected).  A line that changed is a removal and
 * an addition.  Devices added with --device or over the control socket
 * are not the file's: a reload leaves them alone.  A file that does not
 * parse changes nothing.  Of the global options only log-level applies
 * at once; the others wait for a restart (a warning says so).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "daemon/config.h"
#include "daemon/pviod.h"

#define PVIOD_CONFIG_KEYS \
	"device, workers, poll, poll-max-us, log-level, rpc, socket-group, socket-mode"

/**
 * pviod_config_free - forget every setting (each back to unset)
 * @cfg: the settings
 */
void pviod_config_free(struct pviod_config *cfg)
{
	unsigned int i;

	for (i = 0; i < cfg->n; i++) {
		free(cfg->spec[i]);
		free(cfg->id[i]);
	}
	free(cfg->rpc);
	free(cfg->socket_group);
	memset(cfg, 0, sizeof(*cfg));
	cfg->workers = -1;
	cfg->poll = -1;
	cfg->poll_budget = -1;
	cfg->log_level = -1;
	cfg->socket_mode = -1;
}

static int pviod_config_int(const char *path, unsigned int line, const char *key, const char *val,
			    long lo, long hi, int base, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(val, &end, base);
	if (errno || !*val || *end || v < lo || v > hi) {
		pviod_usage_err("%s:%u: %s %s: expected a number in %ld..%ld", path, line, key, val,
				lo, hi);
		return -EINVAL;
	}
	*out = (int)v;
	return 0;
}

/* One "key value" line into @cfg. */
static int pviod_config_line(struct pviod_config *cfg, const char *path, unsigned int line,
			     const char *key, const char *val)
{
	if (!strcmp(key, "device")) {
		if (cfg->n == PVIOD_DEVICES_MAX) {
			pviod_usage_err("%s:%u: more than %d devices", path, line,
					PVIOD_DEVICES_MAX);
			return -EINVAL;
		}
		cfg->spec[cfg->n] = strdup(val);
		if (!cfg->spec[cfg->n])
			return -ENOMEM;
		cfg->n++;
		return 0;
	}
	if (!strcmp(key, "workers"))
		return pviod_config_int(path, line, key, val, 1, PVIOD_WORKERS_MAX, 10,
					&cfg->workers);
	if (!strcmp(key, "poll-max-us") || !strcmp(key, "poll-budget"))
		return pviod_config_int(path, line, key, val, 0, PVRING_POLL_MAX_NS_LIMIT / 1000,
					10, &cfg->poll_budget);
	if (!strcmp(key, "socket-mode"))
		return pviod_config_int(path, line, key, val, 0, 0777, 8, &cfg->socket_mode);
	if (!strcmp(key, "poll")) {
		if (!strcmp(val, "adaptive")) {
			cfg->poll = PVRING_POLL_ADAPTIVE;
		} else if (!strcmp(val, "on")) {
			cfg->poll = PVRING_POLL_ON;
		} else if (!strcmp(val, "off")) {
			cfg->poll = PVRING_POLL_OFF;
		} else {
			pviod_usage_err("%s:%u: poll %s: expected adaptive, on or off", path, line,
					val);
			return -EINVAL;
		}
		return 0;
	}
	if (!strcmp(key, "log-level")) {
		cfg->log_level = pviod_log_level_parse(val);
		if (cfg->log_level < 0) {
			pviod_usage_err("%s:%u: log-level %s: expected %s", path, line, val,
					"error, warning, info or debug");
			return -EINVAL;
		}
		return 0;
	}
	if (!strcmp(key, "rpc") || !strcmp(key, "socket-group")) {
		char **dst = !strcmp(key, "rpc") ? &cfg->rpc : &cfg->socket_group;

		free(*dst);
		*dst = strdup(val);
		return *dst ? 0 : -ENOMEM;
	}
	pviod_usage_err("%s:%u: unknown setting '%s' (%s)", path, line, key, PVIOD_CONFIG_KEYS);
	return -EINVAL;
}

/**
 * pviod_config_read - parse a configuration file
 * @cfg: out: its settings (pviod_config_free() it)
 * @path: the file
 *
 * Return: 0, or -errno (reported: the file and line).
 */
int pviod_config_read(struct pviod_config *cfg, const char *path)
{
	char buf[4096];
	unsigned int line = 0;
	int ret = 0;
	FILE *f;

	memset(cfg, 0, sizeof(*cfg));
	pviod_config_free(cfg);
	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		pviod_usage_err("--config %s: %s", path, strerror(-ret));
		return ret;
	}
	while (fgets(buf, sizeof(buf), f)) {
		char *key = buf, *val, *end;

		line++;
		if (!strchr(buf, '\n') && !feof(f)) {
			pviod_usage_err("%s:%u: line longer than %zu bytes", path, line,
					sizeof(buf) - 2);
			ret = -EINVAL;
			break;
		}
		while (isspace((unsigned char)*key))
			key++;
		end = key + strlen(key);
		while (end > key && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if (!*key || *key == '#')
			continue;
		val = key + strcspn(key, " \t=");
		if (*val) {
			*val++ = '\0';
			val += strspn(val, " \t");
			if (*val == '=')
				val += 1 + strspn(val + 1, " \t");
		}
		if (!*val) {
			pviod_usage_err("%s:%u: '%s' without a value", path, line, key);
			ret = -EINVAL;
			break;
		}
		ret = pviod_config_line(cfg, path, line, key, val);
		if (ret)
			break;
	}
	if (!ret && ferror(f))
		ret = -EIO;
	fclose(f);
	if (ret)
		pviod_config_free(cfg);
	return ret;
}

static int pviod_config_find(const struct pviod_config *cfg, const char *spec)
{
	unsigned int i;

	for (i = 0; i < cfg->n; i++)
		if (cfg->spec[i] && !strcmp(cfg->spec[i], spec))
			return (int)i;
	return -1;
}

/**
 * pviod_config_apply - make the file's devices those of @next
 * @p: the daemon (control thread)
 * @cur: the devices the file made so far (ids filled in); @next's after
 * @next: the file as read now; its ids are filled in here
 *
 * Devices of @cur whose spec is in @next are kept as they are; the others
 * are removed; then @next's new specs are added.  A device that cannot be
 * added is reported and left out; the others still apply.
 *
 * Return: 0, or the number of devices that could not be added or removed.
 */
int pviod_config_apply(struct pviod *p, struct pviod_config *cur, struct pviod_config *next)
{
	unsigned int i, kept = 0, added = 0, removed = 0;
	int failed = 0;

	for (i = 0; i < cur->n; i++) {
		struct pviod_device *dev = cur->id[i] ? pviod_device_find(p, cur->id[i]) : NULL;
		int j = pviod_config_find(next, cur->spec[i]);

		if (j >= 0 && dev && !next->id[j]) {
			next->id[j] = cur->id[i]; /* unchanged: untouched */
			cur->id[i] = NULL;
			kept++;
			continue;
		}
		if (!dev)
			continue; /* removed over the control socket meanwhile */
		pr_info("%s: its configuration line is gone: removing it", dev->name);
		if (pviod_device_del(p, dev))
			failed++;
		removed++;
	}
	for (i = 0; i < next->n; i++) {
		struct pviod_device *dev;

		if (next->id[i])
			continue;
		if (pviod_device_add(p, next->spec[i], &dev)) {
			pr_err("configuration: device %s: not added", next->spec[i]);
			failed++;
			continue;
		}
		next->id[i] = strdup(dev->name);
		added++;
	}
	pr_info("configuration: %u device%s kept, %u added, %u removed%s", kept,
		kept == 1 ? "" : "s", added, removed, failed ? ", with errors" : "");
	return failed;
}

/**
 * pviod_config_reload - SIGHUP: read the file again and apply it
 * @p: the daemon (control thread)
 * @cfg: what applies now; replaced by the file's new settings when it parses
 */
void pviod_config_reload(struct pviod *p, struct pviod_config *cfg)
{
	struct pviod_config next;

	pr_info("SIGHUP: reading %s again", cfg->path);
	if (pviod_config_read(&next, cfg->path)) {
		pr_err("SIGHUP: %s does not parse: nothing changed", cfg->path);
		return;
	}
	next.path = cfg->path;
	if (next.log_level >= 0 && next.log_level != cfg->log_level)
		pviod_log_level_set(next.log_level);
	if (next.workers != cfg->workers || next.poll != cfg->poll ||
	    next.poll_budget != cfg->poll_budget ||
	    (next.rpc ? !cfg->rpc || strcmp(next.rpc, cfg->rpc) : !!cfg->rpc))
		pr_warn("SIGHUP: workers, poll, poll-max-us and rpc change at the next start");
	pviod_config_apply(p, cfg, &next);
	cfg->path = NULL;
	pviod_config_free(cfg);
	*cfg = next;
}
