// SPDX-License-Identifier: GPL-2.0
/*
 * stats.c - every device's counters on SIGUSR1.
 *
 * SIGUSR1 (blocked in every thread by main()) is read from a signalfd by a
 * thread of its own, the stats thread, so a dump never waits for the
 * control thread (busy with a slow front-end) and never slows it.  For each
 * device in turn it has each queue's worker log that queue's counters
 * (core/device.c), then the device log what it keeps under its own locks.
 * The device list is read under the context's lock, so a device cannot go
 * while it is being logged.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>

#include "daemon/pviod.h"

/**
 * pviod_stats_log - log the counters of every device
 * @p: the context (any thread but a worker)
 */
void pviod_stats_log(struct pviod *p)
{
	struct pviod_device *dev;

	pthread_mutex_lock(&p->lock);
	for (dev = p->devices; dev; dev = dev->next)
		pviod_device_stats_log(dev);
	pthread_mutex_unlock(&p->lock);
}

static void *pviod_stats_main(void *arg)
{
	struct pviod *p = arg;
	struct pviod_stats_thread *t = &p->stats;
	struct pollfd pfd[2] = {
		{ .fd = t->sig_fd, .events = POLLIN },
		{ .fd = t->stop_fd, .events = POLLIN },
	};
	struct signalfd_siginfo si;

	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			pr_err("stats thread: poll: %s; SIGUSR1 is ignored from now on",
			       strerror(errno));
			break;
		}
		if (pfd[1].revents)
			break;
		if (read(t->sig_fd, &si, sizeof(si)) != sizeof(si))
			continue;
		pr_info("SIGUSR1: counters of every device");
		pviod_stats_log(p);
	}
	return NULL;
}

/**
 * pviod_stats_start - log every device's counters on each SIGUSR1
 * @p: the context; SIGUSR1 blocked in every thread
 *
 * Return: 0 or -errno (reported).
 */
int pviod_stats_start(struct pviod *p)
{
	struct pviod_stats_thread *t = &p->stats;
	sigset_t set;
	int ret;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	t->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	t->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (t->sig_fd < 0 || t->stop_fd < 0) {
		ret = -errno;
		goto err_close;
	}
	ret = -pthread_create(&t->thread, NULL, pviod_stats_main, p);
	if (ret)
		goto err_close;
	t->started = true;
	return 0;

err_close:
	pr_err("cannot set up SIGUSR1 (the counters' dump): %s", strerror(-ret));
	pviod_stats_stop(p);
	return ret;
}

/**
 * pviod_stats_stop - end the stats thread (before the workers stop)
 * @p: the context
 *
 * A dump under way completes first.  Nothing when it never started.
 */
void pviod_stats_stop(struct pviod *p)
{
	struct pviod_stats_thread *t = &p->stats;

	if (t->started) {
		eventfd_write(t->stop_fd, 1);
		pthread_join(t->thread, NULL);
		t->started = false;
	}
	if (t->sig_fd >= 0)
		close(t->sig_fd);
	if (t->stop_fd >= 0)
		close(t->stop_fd);
	t->sig_fd = -1;
	t->stop_fd = -1;
}
