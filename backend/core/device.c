// SPDX-License-Identifier: GPL-2.0
/*
 * device.c - what every device has: its name, its queues (each on a
 * worker), and the log of its counters.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "core/device.h"
#include "core/worker.h"

/**
 * pviod_device_refresh - look again at what the config space reflects; tell the driver
 * @dev: the device, on the control thread
 *
 * The device type's ->refresh (a disk's size) runs, when it has one; when
 * the config space changed, or the type has no ->refresh (the caller knows
 * it changed), the transport tells the driver (vhost-user: the back-end's
 * CONFIG_CHANGE_MSG), if one is connected and listens.
 *
 * Return: 1 when the config space changed, 0 when not, or ->refresh's -errno.
 */
int pviod_device_refresh(struct pviod_device *dev)
{
	int ret = dev->ops->refresh ? dev->ops->refresh(dev) : 1;

	if (ret > 0 && dev->config_notify)
		dev->config_notify(dev);
	return ret;
}

/* The control thread: some thread called pviod_device_changed(). */
static void pviod_device_changed_ready(struct pviod_io *io, int res)
{
	struct pviod_device *dev =
		(struct pviod_device *)((char *)io - offsetof(struct pviod_device, changed_io));
	eventfd_t n;
	int ret;

	/* Any number of calls since the last time make one refresh. */
	if (eventfd_read(dev->changed_fd, &n))
		return;
	ret = pviod_device_refresh(dev);
	if (ret < 0)
		pr_err("%s: looking at the device again: %s", dev->name, strerror(-ret));
}

/**
 * pviod_device_changed - have the control thread refresh the device and tell its driver
 * @dev: the device; any thread (a storage library's callback, a device thread)
 *
 * Never blocks: the control thread runs pviod_device_refresh() soon after.
 * Without a control loop (a unit test's device) it does nothing.
 */
void pviod_device_changed(struct pviod_device *dev)
{
	if (dev->changed_fd >= 0 && eventfd_write(dev->changed_fd, 1))
		pr_err("%s: cannot wake the control thread: %s", dev->name, strerror(errno));
}

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
 * With a control loop, the device's wake-up for pviod_device_changed() goes
 * into it.
 *
 * Return: 0, -ENOMEM, or the eventfd's error.
 */
int pviod_device_init(struct pviod_device *dev, const struct pviod_env *env,
		      const struct pviod_device_ops *ops, const char *name, const char *socket_path,
		      unsigned int nqueues)
{
	unsigned int i;

	dev->ops = ops;
	dev->env = env;
	dev->changed_fd = -1;
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
	if (!env->loop)
		return 0;
	dev->changed_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (dev->changed_fd < 0)
		return -errno;
	dev->changed_io.complete = pviod_device_changed_ready;
	return pviod_event_add(env->loop, dev->changed_fd, &dev->changed_io);
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
	/*
	 * After ->destroy, which stops whatever may call pviod_device_changed()
	 * (librbd's watch).  ->ops is set first by pviod_device_init():
	 * changed_fd is valid then.
	 */
	if (dev->ops && dev->changed_fd >= 0) {
		pviod_event_del(dev->env->loop, dev->changed_fd);
		close(dev->changed_fd);
		dev->changed_fd = -1;
	}
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

/**
 * pviod_counters_drop - count drops for one reason (a queue_counters op's helper)
 * @c: the counters
 * @reason: a constant string, the metric's label ("no_buffer")
 * @count: how many
 */
void pviod_counters_drop(struct pviod_queue_counters *c, const char *reason, uint64_t count)
{
	if (c->ndrops < PVIOD_DROP_REASONS_MAX) {
		c->drops[c->ndrops].reason = reason;
		c->drops[c->ndrops++].count = count;
	}
}

/*
 * On the queue's worker: is @q one of its running queues?  Only then is
 * the queue's state the worker's to read; a stopped queue's is the
 * control thread's, which may be setting it up again.
 */
static bool pviod_queue_runs_here(struct pviod_queue *q)
{
	struct pviod_queue *r;

	for (r = q->worker->queues; r && r != q; r = r->worker_next)
		;
	return !!r;
}

/* On the queue's worker: the core's counters, then the device type's. */
static void pviod_device_queue_counters(struct pviod_queue *q, void *arg)
{
	struct pviod_queue_counters *c = arg;
	bool running = pviod_queue_runs_here(q);
	unsigned int i;

	memset(c, 0, sizeof(*c));
	c->kicks = q->stats.kicks;
	c->calls = q->stats.calls;
	c->polls = q->stats.poll_hits;
	c->poll_misses = q->stats.poll_misses;
	c->poll_preempts = q->stats.poll_preempts;
	c->runs = q->stats.runs;
	/*
	 * In flight: the heads held, while the queue runs on this worker (a
	 * stopped one has none, and the control thread may be resizing them).
	 */
	for (i = 0; running && q->held && i < (q->held_size + 63) / 64; i++)
		c->in_flight += (uint64_t)__builtin_popcountll(q->held[i]);
	if (q->dev->ops->queue_counters)
		q->dev->ops->queue_counters(q, c);
}

/**
 * pviod_device_counters - one queue's counters, read on its worker
 * @dev: the device (any thread but its workers')
 * @qi: the queue
 * @c: out: the counters
 *
 * Return: 0, or -EIO when the queue's worker is gone.
 */
int pviod_device_counters(struct pviod_device *dev, unsigned int qi, struct pviod_queue_counters *c)
{
	return pviod_worker_queue_call(&dev->queues[qi], pviod_device_queue_counters, c);
}

/* On the queue's worker: the counters of device_stats, then what the device logs. */
static void pviod_device_queue_stats(struct pviod_queue *q, void *arg)
{
	const struct pviod_queue_stats *st = &q->stats;
	const struct pviod_worker *w = q->worker;
	struct pviod_queue_counters c;
	char drops[256] = "";
	size_t len = 0;
	unsigned int i;

	pviod_device_queue_counters(q, &c);
	for (i = 0; i < c.ndrops && len < sizeof(drops); i++)
		len += (size_t)snprintf(drops + len, sizeof(drops) - len, " drops_%s %llu",
					c.drops[i].reason, (unsigned long long)c.drops[i].count);
	pr_info("%s: queue %u: requests %llu bytes %llu errors %llu kicks %llu calls %llu polls %llu poll_misses %llu poll_preempts %llu runs %llu in_flight %llu%s",
		q->dev->name, q->index, (unsigned long long)c.requests, (unsigned long long)c.bytes,
		(unsigned long long)c.errors, (unsigned long long)c.kicks,
		(unsigned long long)c.calls, (unsigned long long)c.polls,
		(unsigned long long)c.poll_misses, (unsigned long long)c.poll_preempts,
		(unsigned long long)c.runs, (unsigned long long)c.in_flight, drops);
	if (st->kicks || st->calls || st->poll_hits || st->poll_misses || st->runs)
		pr_info("%s: queue %u: %llu kicks, %llu calls, %llu poll hits, %llu poll misses, %llu runs%s; worker %u: poll %s, window %u ns of %u, %llu sleeps (%llu for an engine), %llu holds, %llu preempts",
			q->dev->name, q->index, (unsigned long long)st->kicks,
			(unsigned long long)st->calls, (unsigned long long)st->poll_hits,
			(unsigned long long)st->poll_misses, (unsigned long long)st->runs,
			pviod_queue_runs_here(q) && q->broken ? ", broken" : "", w->id,
			pviod_poll_mode_names[w->poll.mode], pvring_poll_window(&w->poll),
			w->poll.max_ns, (unsigned long long)w->sleeps,
			(unsigned long long)w->engine_sleeps, (unsigned long long)w->poll.holds,
			(unsigned long long)w->poll.preempts);
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
