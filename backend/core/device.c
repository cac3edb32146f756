// SPDX-License-Identifier: GPL-2.0
/*
 * device.c - what every device type shares: the --device dispatch, the
 * queue array, the socket, stopping / resuming all queues around a change
 * the data path must not see half-done, and the SIGUSR1 counters.
 *
 * SIGUSR1 (blocked in every thread by main()) is read from a signalfd by a
 * thread of its own, the stats thread, so a dump never waits for the
 * control thread (busy with a slow front-end) and never slows it.  For each
 * device in turn it posts one command per queue to the queue's worker, which
 * logs that queue's counters (->queue_stats: they are written by that worker
 * alone, with plain stores), then calls ->stats for what the device keeps
 * under its own locks.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>

#include "core/pviod.h"
#include "vhost-user/msg.h"
#include "vhost-user/socket.h"

struct pviod_device_type {
	const char *name;
	int (*create)(const char *opts, struct pviod_device **out);
};

/* net and console plug in here. */
static const struct pviod_device_type pviod_device_types[] = {
	{ "blk", pviod_blk_create },
	{ "console", pviod_console_create },
	{ "net", pviod_net_create },
};

static unsigned int pviod_device_count;

/**
 * pviod_device_parse - create a device from one --device argument
 * @spec: "TYPE,key=value,..."
 * @out: the device (not yet listening)
 *
 * Return: 0; -EINVAL for a bad argument (a message says what is wrong);
 * another -errno when the device could not be set up.
 */
int pviod_device_parse(const char *spec, struct pviod_device **out)
{
	size_t len = strcspn(spec, ",");
	unsigned int i;

	for (i = 0; i < sizeof(pviod_device_types) / sizeof(pviod_device_types[0]); i++) {
		const struct pviod_device_type *t = &pviod_device_types[i];

		if (strlen(t->name) == len && !strncmp(spec, t->name, len))
			return t->create(spec[len] ? spec + len + 1 : "", out);
	}
	fprintf(stderr,
		"pviod: --device %s: unknown device type '%.*s' (known: blk, console, net)\n", spec,
		(int)len, spec);
	return -EINVAL;
}

/**
 * pviod_device_init - fill in the common part of a device
 * @dev: zeroed, with ->priv set by the type
 * @ops: the type's operations
 * @socket_path: where it will listen
 * @nqueues: 1..PVIOD_QUEUES_MAX
 *
 * Each queue gets its worker now (round-robin over all devices' queues).
 *
 * Return: 0 or -ENOMEM.
 */
int pviod_device_init(struct pviod_device *dev, const struct pviod_device_ops *ops,
		      const char *socket_path, unsigned int nqueues)
{
	char name[32];
	unsigned int i;

	snprintf(name, sizeof(name), "%s%u", ops->name, pviod_device_count++);
	dev->ops = ops;
	dev->listen_fd = -1;
	dev->conn_fd = -1;
	dev->nqueues = nqueues;
	dev->name = strdup(name);
	dev->socket_path = strdup(socket_path);
	dev->queues = calloc(nqueues, sizeof(*dev->queues));
	if (!dev->name || !dev->socket_path || !dev->queues)
		return -ENOMEM;
	for (i = 0; i < nqueues; i++) {
		struct pviod_queue *q = &dev->queues[i];

		q->dev = dev;
		q->index = i;
		q->kick_fd = -1;
		q->call_fd = -1;
		q->err_fd = -1;
		q->worker = pviod_worker_pick();
	}
	return 0;
}

/**
 * pviod_device_listen - create the device's socket
 * @dev: the device
 *
 * Return: 0 or -errno (reported).
 */
int pviod_device_listen(struct pviod_device *dev)
{
	int ret = vu_socket_listen(dev->socket_path, &dev->listen_fd);

	if (ret)
		pr_err("%s: cannot listen on socket '%s': %s%s", dev->name, dev->socket_path,
		       strerror(-ret), ret == -EEXIST ? " (a non-socket file is in the way)" : "");
	else
		pr_info("%s: listening on %s (%u queue%s)", dev->name, dev->socket_path,
			dev->nqueues, dev->nqueues > 1 ? "s" : "");
	return ret;
}

/**
 * pviod_device_free - release a device (no front-end connected)
 * @dev: the device
 */
void pviod_device_free(struct pviod_device *dev)
{
	if (dev->listen_fd >= 0) {
		close(dev->listen_fd);
		unlink(dev->socket_path);
	}
	if (dev->ops && dev->ops->destroy)
		dev->ops->destroy(dev);
	free(dev->queues);
	free(dev->socket_path);
	free(dev->name);
	free(dev);
}

/**
 * pviod_device_queues_stop - stop every running queue (in-flight requests complete)
 * @dev: the device
 *
 * The queues' state is kept; pviod_device_queues_resume() starts again the
 * ones that are ready.
 */
void pviod_device_queues_stop(struct pviod_device *dev)
{
	unsigned int i;

	for (i = 0; i < dev->nqueues; i++)
		vu_vring_stop(&dev->queues[i]);
}

/**
 * pviod_device_queues_resume - start every queue that is ready to run
 * @dev: the device
 *
 * Return: 0, or the first start error (the other queues are still started).
 */
int pviod_device_queues_resume(struct pviod_device *dev)
{
	unsigned int i;
	int ret = 0, r;

	for (i = 0; i < dev->nqueues; i++) {
		r = vu_vring_update(&dev->queues[i]);
		if (r && !ret)
			ret = r;
	}
	return ret;
}

/**
 * pviod_device_stats_log - log the counters of every device (SIGUSR1)
 * @devices: the device list (fixed once the stats thread runs)
 *
 * Called on the stats thread while every worker runs: a queue's counters
 * are logged by its worker (pviod_worker_queue_stats()), in device and
 * queue order, one command at a time.
 */
void pviod_device_stats_log(struct pviod_device *devices)
{
	struct pviod_device *dev;
	unsigned int i;

	for (dev = devices; dev; dev = dev->next) {
		for (i = 0; dev->ops->queue_stats && i < dev->nqueues; i++)
			if (pviod_worker_queue_stats(&dev->queues[i]))
				pr_warn("%s: queue %u: its worker failed: no counters", dev->name,
					i);
		if (dev->ops->stats)
			dev->ops->stats(dev);
	}
}

/* The stats thread: its signalfd, the eventfd that ends it, what it logs. */
static struct pviod_stats_thread {
	pthread_t thread;
	bool started;
	int sig_fd;
	int stop_fd;
	struct pviod_device *devices;
} pviod_stats = { .sig_fd = -1, .stop_fd = -1 };

static void *pviod_stats_main(void *arg)
{
	struct pviod_stats_thread *t = arg;
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
		pviod_device_stats_log(t->devices);
	}
	return NULL;
}

/**
 * pviod_device_stats_start - log every device's counters on each SIGUSR1
 * @devices: every device, created (the list must not change until
 *           pviod_device_stats_stop()); SIGUSR1 blocked in every thread
 *
 * Return: 0 or -errno (reported).
 */
int pviod_device_stats_start(struct pviod_device *devices)
{
	struct pviod_stats_thread *t = &pviod_stats;
	sigset_t set;
	int ret;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	t->devices = devices;
	t->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	t->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (t->sig_fd < 0 || t->stop_fd < 0) {
		ret = -errno;
		goto err_close;
	}
	ret = -pthread_create(&t->thread, NULL, pviod_stats_main, t);
	if (ret)
		goto err_close;
	t->started = true;
	return 0;

err_close:
	pr_err("cannot set up SIGUSR1 (the counters' dump): %s", strerror(-ret));
	pviod_device_stats_stop();
	return ret;
}

/**
 * pviod_device_stats_stop - end the stats thread (before the workers stop)
 *
 * A dump under way completes first.  Nothing when it never started.
 */
void pviod_device_stats_stop(void)
{
	struct pviod_stats_thread *t = &pviod_stats;

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
