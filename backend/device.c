// SPDX-License-Identifier: GPL-2.0
/*
 * device.c - what every device type shares: the --device dispatch, the
 * queue array, the socket, and stopping / resuming all queues around a
 * change the data path must not see half-done.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pviod.h"
#include "vu_msg.h"
#include "vu_socket.h"

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
