// SPDX-License-Identifier: GPL-2.0
/*
 * daemon.c - the context everything in pviod hangs off: its workers, its
 * control loop, its devices, added and removed at any time.
 *
 * Adding a device creates it from a --device SPEC (the type's create), then
 * gives it its vhost-user side (a listening socket).  Removing one ends its
 * session as a disconnect would (every queue drained), removes its socket,
 * makes its data durable (->flush) and frees it; other devices serve on
 * throughout: they share nothing with it but the workers, and a worker
 * drops a queue only when told to.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/signalfd.h>

#include "blk/blk.h"
#include "core/peermem.h"
#include "console/console.h"
#include "daemon/pviod.h"
#include "net/net.h"
#include "vhost-user/vu.h"

static const struct pviod_device_type pviod_device_types[] = {
	{ "blk", pviod_blk_create },
	{ "console", pviod_console_create },
	{ "net", pviod_net_create },
};

static void pviod_signal_ready(struct pviod_io *io, int res)
{
	struct pviod *p = (struct pviod *)((char *)io - offsetof(struct pviod, signal_io));
	struct signalfd_siginfo si;

	if (read(p->signal_fd, &si, sizeof(si)) != sizeof(si))
		return;
	pr_info("signal %u: draining in-flight requests and exiting", si.ssi_signo);
	p->loop.quit = true;
}

/**
 * pviod_init - start the workers and the control loop
 * @p: the context, zeroed
 * @wcfg: how many workers, and whether they poll
 * @fault: the test faults, or NULL
 *
 * SIGTERM and SIGINT must be blocked in every thread (main() does it before
 * any thread starts): they are read from a signalfd in the control loop.
 *
 * Return: 0 or -errno (reported).
 */
int pviod_init(struct pviod *p, const struct pviod_worker_config *wcfg,
	       const struct pviod_fault *fault)
{
	sigset_t set;
	int ret;

	pthread_mutex_init(&p->lock, NULL);
	p->signal_fd = -1;
	p->stats.sig_fd = -1;
	p->stats.stop_fd = -1;
	if (fault && fault->mode != PVIOD_FAULT_NONE) {
		p->fault = *fault;
		p->env.fault = &p->fault;
	}
	p->env.workers = &p->workers;
	p->env.loop = &p->loop;
	/* A front-end that shrinks its memory under pviod breaks only its device. */
	ret = pviod_peermem_guard();
	if (ret) {
		pr_err("SIGBUS handler: %s", strerror(-ret));
		return ret;
	}
	ret = pviod_event_init(&p->loop);
	if (ret) {
		pr_err("control loop: %s", strerror(-ret));
		return ret;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	p->signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (p->signal_fd < 0) {
		ret = -errno;
		pr_err("signalfd: %s", strerror(-ret));
		goto err_loop;
	}
	p->signal_io.complete = pviod_signal_ready;
	ret = pviod_event_add(&p->loop, p->signal_fd, &p->signal_io);
	if (ret)
		goto err_signal;
	ret = pviod_workers_start(&p->workers, wcfg);
	if (ret)
		goto err_signal;
	return 0;

err_signal:
	close(p->signal_fd);
	p->signal_fd = -1;
err_loop:
	pviod_event_fini(&p->loop);
	return ret;
}

/**
 * pviod_device_find - the device named @name
 * @p: the context (control thread)
 * @name: "blk0"
 *
 * Return: the device, or NULL.
 */
struct pviod_device *pviod_device_find(struct pviod *p, const char *name)
{
	struct pviod_device *dev;

	for (dev = p->devices; dev; dev = dev->next)
		if (!strcmp(dev->name, name))
			return dev;
	return NULL;
}

/**
 * pviod_device_add - create a device and serve it
 * @p: the context (control thread)
 * @spec: "TYPE,key=value,..." as --device takes it
 * @out: the device, or NULL
 *
 * Return: 0; -EINVAL for a bad argument (a message says what is wrong);
 * another -errno when the device could not be set up (a message says why).
 */
int pviod_device_add(struct pviod *p, const char *spec, struct pviod_device **out)
{
	size_t len = strcspn(spec, ",");
	const struct pviod_device_type *t = NULL;
	struct pviod_device *dev, **tail;
	char name[32];
	unsigned int i;
	int ret;

	for (i = 0; i < sizeof(pviod_device_types) / sizeof(pviod_device_types[0]); i++)
		if (strlen(pviod_device_types[i].name) == len &&
		    !strncmp(spec, pviod_device_types[i].name, len))
			t = &pviod_device_types[i];
	if (!t) {
		fprintf(stderr,
			"pviod: --device %s: unknown device type '%.*s' (known: blk, console, net)\n",
			spec, (int)len, spec);
		return -EINVAL;
	}
	snprintf(name, sizeof(name), "%s%u", t->name, p->created);
	ret = t->create(&p->env, name, spec[len] ? spec + len + 1 : "", &dev);
	if (ret)
		return ret;
	p->created++;
	ret = vu_dev_attach(dev);
	if (ret) {
		pviod_device_free(dev);
		return ret;
	}
	pthread_mutex_lock(&p->lock);
	for (tail = &p->devices; *tail; tail = &(*tail)->next)
		;
	*tail = dev;
	pthread_mutex_unlock(&p->lock);
	if (out)
		*out = dev;
	return 0;
}

/**
 * pviod_device_del - stop serving a device and free it
 * @p: the context (control thread)
 * @dev: one of its devices
 *
 * Its front-end is disconnected (every queue drained first), its socket
 * removed, its data made durable.
 *
 * Return: 0, or the flush error (the device is gone either way).
 */
int pviod_device_del(struct pviod *p, struct pviod_device *dev)
{
	struct pviod_device **pp;
	int ret = 0;

	pthread_mutex_lock(&p->lock);
	for (pp = &p->devices; *pp; pp = &(*pp)->next) {
		if (*pp == dev) {
			*pp = dev->next;
			break;
		}
	}
	pthread_mutex_unlock(&p->lock);
	vu_dev_detach(dev);
	if (dev->ops->flush)
		ret = dev->ops->flush(dev);
	pviod_device_free(dev);
	return ret;
}

/**
 * pviod_run - serve every device until SIGTERM or SIGINT
 * @p: the context
 *
 * Return: 0, or -errno when the loop could not run.
 */
int pviod_run(struct pviod *p)
{
	return pviod_event_run(&p->loop);
}

/**
 * pviod_fini - remove every device (drained, flushed), end every thread
 * @p: the context
 *
 * Return: 0, or -EIO when a device's data could not be made durable.
 */
int pviod_fini(struct pviod *p)
{
	int ret = 0;

	/* Before the workers: a SIGUSR1 dump posts commands to them. */
	pviod_stats_stop(p);
	while (p->devices)
		if (pviod_device_del(p, p->devices))
			ret = -EIO;
	pviod_workers_stop(&p->workers);
	if (p->signal_fd >= 0)
		close(p->signal_fd);
	p->signal_fd = -1;
	pviod_event_fini(&p->loop);
	pthread_mutex_destroy(&p->lock);
	return ret;
}
