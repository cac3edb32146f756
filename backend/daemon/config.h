/* SPDX-License-Identifier: GPL-2.0 */
/*
 * config.h - pviod --config FILE (config.c): the file's settings, and the
 * devices it made, which SIGHUP's reload changes by difference.
 */
#ifndef PVIOD_DAEMON_CONFIG_H
#define PVIOD_DAEMON_CONFIG_H

#include "daemon/pviod.h"

struct pviod_config {
	const char *path; /* the file (not owned) */
	unsigned int n;
	char *spec[PVIOD_DEVICES_MAX]; /* its device lines, in order */
	char *id[PVIOD_DEVICES_MAX]; /* the device each made, NULL when none (yet) */
	/* Its global options; -1 or NULL when not set. */
	int workers;
	int poll;
	int poll_budget; /* poll-max-us (poll-budget, its old name) */
	int log_level;
	int socket_mode;
	char *rpc;
	char *socket_group;
};

int pviod_config_read(struct pviod_config *cfg, const char *path);
void pviod_config_free(struct pviod_config *cfg);
int pviod_config_apply(struct pviod *p, struct pviod_config *cur, struct pviod_config *next);
void pviod_config_reload(struct pviod *p, struct pviod_config *cfg);

#endif /* PVIOD_DAEMON_CONFIG_H */
