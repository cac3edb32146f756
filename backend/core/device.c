// SPDX-License-Identifier: GPL-2.0
/*
 * device.c - what every device has: its name, its queues (each on a
 * worker), and the log of its counters.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/device.h"
#include "core/worker.h"

/**
 * pviod_device_init - fill in the common part of a device
 * @dev: zeroed, with ->priv set by the type
 * @env: what it is created in
 * @ops: the type's operations
 * @name: for messages ("blk0")
 * @socket_path: where the transport will listen
 * @nqueues: 1..PVIOD_QUEUES_MAX
 *
 * Each queue gets its worker now (round-robin over every device's queues).
 *
 * Return: 0 or -ENOMEM.
 */
int pviod_device_init(struct pviod_device *dev, const struct pviod_env *env,
		      const struct pviod_device_ops *ops, const char *name, const char *socket_path,
		      unsigned int nqueues)
{
	unsigned int i;

	dev->ops = ops;
	dev->env = env;
	dev->nqueues = nqueues;
	dev->name = strdup(name);
	dev->socket_path = strdup(socket_path);
	dev->queues = calloc(nqueues, sizeof(*dev->queues));
	if (!dev->name || !dev->socket_path || !dev->queues)
		return -ENOMEM;
	for (i = 0; i < nqueues; i++) {
		struct pviod_queue *q = &dev->queues[i];

		pviod_queue_init(q, dev, i);
		q->worker = pviod_worker_pick(env->workers);
	}
	return 0;
}

/**
 * pviod_device_free - release a device (its transport detached)
 * @dev: the device; the type's state goes through ->destroy
 */
void pviod_device_free(struct pviod_device *dev)
{
	unsigned int i;

	if (dev->ops && dev->ops->destroy)
		dev->ops->destroy(dev);
	for (i = 0; dev->queues && i < dev->nqueues; i++)
		pviod_queue_fini(&dev->queues[i]);
	free(dev->queues);
	free(dev->socket_path);
	free(dev->spec);
	free(dev->name);
	free(dev);
}

static const char *const pviod_poll_mode_names[] = {
	[PVRING_POLL_OFF] = "off",
	[PVRING_POLL_ON] = "on",
	[PVRING_POLL_ADAPTIVE] = "adaptive",
};

/* On the queue's worker: what the core counts, then what the device does. */
static void pviod_device_queue_stats(struct pviod_queue *q, void *arg)
{
	const struct pviod_queue_stats *st = &q->stats;
	const struct pviod_worker *w = q->worker;

	if (st->kicks || st->calls || st->poll_hits || st->poll_misses || st->runs)
		pr_info("%s: queue %u: %llu kicks, %llu calls, %llu poll hits, %llu poll misses, %llu runs%s; worker %u: poll %s, window %u ns of %u, %llu sleeps",
			q->dev->name, q->index, (unsigned long long)st->kicks,
			(unsigned long long)st->calls, (unsigned long long)st->poll_hits,
			(unsigned long long)st->poll_misses, (unsigned long long)st->runs,
			q->broken ? ", broken" : "", w->id, pviod_poll_mode_names[w->poll.mode],
			pvring_poll_window(&w->poll), w->poll.max_ns,
			(unsigned long long)w->sleeps);
	if (q->dev->ops->queue_stats)
		q->dev->ops->queue_stats(q);
}

/**
 * pviod_device_stats_log - log the device's counters (SIGUSR1)
 * @dev: the device (any thread but its workers', while every worker runs)
 *
 * A queue's counters are logged by its worker, which writes them, in queue
 * order, one command at a time; then what the device keeps under its own
 * locks.
 */
void pviod_device_stats_log(struct pviod_device *dev)
{
	unsigned int i;

	for (i = 0; i < dev->nqueues; i++)
		if (pviod_worker_queue_call(&dev->queues[i], pviod_device_queue_stats, NULL))
			pr_warn("%s: queue %u: its worker failed: no counters", dev->name, i);
	if (dev->ops->stats)
		dev->ops->stats(dev);
}
