// SPDX-License-Identifier: GPL-2.0
/*
 * pviod.c - pviod as a test's peer: which binary, started with the test's
 * arguments, ready once every socket it was told to create exists; still
 * running or not; stopped with its exit status.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pvtest.h"

/**
 * pvt_pviod_find - the pviod binary a test runs
 * @p: p->bin is set: $PVIOD, else $(O)/pviod of the build this test is in
 *     (the test binary is $(O)/tests/<dir>/<name>)
 *
 * Return: 0, or -ENOENT when p->bin is not an executable (not built).
 */
int pvt_pviod_find(struct pvt_pviod *p)
{
	char exe[PATH_MAX - 16]; /* room for "/../../pviod" in p->bin */
	const char *env = getenv("PVIOD");

	if (env) {
		snprintf(p->bin, sizeof(p->bin), "%s", env);
	} else {
		pvt_exe_dir(exe, sizeof(exe));
		snprintf(p->bin, sizeof(p->bin), "%s/../../pviod", exe);
	}
	return access(p->bin, X_OK) ? -ENOENT : 0;
}

/**
 * pvt_pviod_start - run pviod and wait until it listens
 * @p: p->pid is set (0 when it could not be started)
 * @log: pviod's stdout and stderr
 * @args: its arguments, NULL-terminated, at most 62
 * @timeout_ms: how long each socket=PATH named in @args may take to appear,
 *              one after the other
 *
 * pviod dies with the test (pvt_spawn()).
 *
 * Return: 0, -ENOENT (no pviod binary, pvt_pviod_find()), -E2BIG (too many
 * arguments), -ECHILD (pviod exited before it created a socket),
 * -ETIMEDOUT.
 */
int pvt_pviod_start(struct pvt_pviod *p, const char *log, const char *const args[], int timeout_ms)
{
	char *argv[64];
	unsigned int n = 0, i;
	int ret;

	p->pid = 0;
	ret = pvt_pviod_find(p);
	if (ret)
		return ret;
	argv[n++] = p->bin;
	for (i = 0; args[i]; i++) {
		if (n + 1 >= sizeof(argv) / sizeof(argv[0]))
			return -E2BIG;
		argv[n++] = (char *)args[i];
	}
	argv[n] = NULL;
	p->pid = pvt_spawn(argv, log, -1);
	for (i = 0; args[i]; i++) {
		const char *s = strstr(args[i], "socket=");
		char path[PATH_MAX];

		if (!s)
			continue;
		s += strlen("socket=");
		snprintf(path, sizeof(path), "%.*s", (int)strcspn(s, ","), s);
		ret = pvt_wait_socket(path, p->pid, timeout_ms);
		if (ret)
			return ret;
	}
	return 0;
}

/**
 * pvt_pviod_alive - pviod is still running
 * @p: the pviod, started (p->pid > 0)
 *
 * A pviod that exited is reaped here (its status is lost: the test bails
 * out on a dead peer anyway).
 *
 * Return: true while it runs.
 */
bool pvt_pviod_alive(const struct pvt_pviod *p)
{
	int status;

	return waitpid(p->pid, &status, WNOHANG) == 0 && kill(p->pid, 0) == 0;
}

/**
 * pvt_pviod_stop - SIGTERM, then SIGKILL after @grace_ms; reap it
 * @p: the pviod; p->pid is 0 afterwards
 * @grace_ms: how long it has to exit on SIGTERM
 *
 * Return: its wait status, or -1 when none was running.
 */
int pvt_pviod_stop(struct pvt_pviod *p, int grace_ms)
{
	int status = pvt_stop(p->pid, grace_ms);

	p->pid = 0;
	return status;
}

/**
 * pvt_pviod_kill - SIGKILL pviod at once, as a crash would; reap it
 * @p: the pviod; p->pid is 0 afterwards
 *
 * Return: 0, or -errno when it could not be signalled or reaped.
 */
int pvt_pviod_kill(struct pvt_pviod *p)
{
	int status;

	if (kill(p->pid, SIGKILL))
		return -errno;
	if (waitpid(p->pid, &status, 0) != p->pid)
		return -errno;
	p->pid = 0;
	return 0;
}
