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
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/signalfd.h>

#include "blk/blk.h"
#include "core/peermem.h"
#include "console/console.h"
#include "core/options.h"
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
	if (si.ssi_signo == SIGHUP) {
		if (p->reload)
			p->reload(p, p->reload_arg);
		else
			pr_info("SIGHUP: no --config to read again; ignored");
		return;
	}
	pr_info("signal %u: draining in-flight requests and exiting", si.ssi_signo);
	p->loop.quit = true;
}

/**
 * pviod_init - start the workers and the control loop
 * @p: the context, zeroed
 * @wcfg: how many workers, and whether they poll
 * @fault: the test faults, or NULL
 *
 * SIGTERM, SIGINT and SIGHUP must be blocked in every thread (main() does
 * it before any thread starts): they are read from a signalfd in the
 * control loop.
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
	sigaddset(&set, SIGHUP);
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

/* An id names the device in messages, on the control socket and in metrics. */
static bool pviod_id_valid(const char *id)
{
	static const char ok[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-";
	size_t len = strlen(id);

	return len && len < PVIOD_ID_MAX && strspn(id, ok) == len;
}

/**
 * pviod_socket_group_parse - a group name or number, for socket-group=
 * @what: for the message ("--device blk: socket-group")
 * @val: "libvirt-qemu" or "64055"
 * @gid: out
 *
 * Return: 0, or -EINVAL (reported).
 */
int pviod_socket_group_parse(const char *what, const char *val, gid_t *gid)
{
	struct group gr, *res = NULL;
	char buf[4096], *end;
	unsigned long v;

	errno = 0;
	v = strtoul(val, &end, 10);
	if (*val && !*end && !errno && *val != '-' && v < (gid_t)-1) {
		*gid = (gid_t)v;
		return 0;
	}
	if (getgrnam_r(val, &gr, buf, sizeof(buf), &res) || !res) {
		pviod_usage_err("%s=%s: no such group", what, val);
		return -EINVAL;
	}
	*gid = res->gr_gid;
	return 0;
}

/**
 * pviod_socket_mode_parse - an octal mode for socket-mode=
 * @what: for the message
 * @val: "0660"
 * @mode: out
 *
 * Return: 0, or -EINVAL (reported).
 */
int pviod_socket_mode_parse(const char *what, const char *val, unsigned int *mode)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(val, &end, 8);
	if (!*val || *end || errno || *val == '-' || !v || v > 0777) {
		pviod_usage_err("%s=%s: expected an octal mode, 1..0777 (0660)", what, val);
		return -EINVAL;
	}
	*mode = (unsigned int)v;
	return 0;
}

/* The options every device type has, taken out of its spec. */
struct pviod_spec_common {
	char *id; /* id=, NULL when not given */
	bool has_group;
	gid_t gid; /* socket-group= */
	unsigned int mode; /* socket-mode=, 0 when not given */
};

/* One common option: 1 when @tok is one, 0 when it is the type's, -errno. */
static int pviod_spec_common_opt(const char *type, const char *tok, size_t len,
				 struct pviod_spec_common *c)
{
	static const char *const keys[] = { "id=", "socket-group=", "socket-mode=" };
	char what[64], *val;
	unsigned int k;
	int ret = 0;

	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		if (len > strlen(keys[k]) && !strncmp(tok, keys[k], strlen(keys[k])))
			break;
	if (k == sizeof(keys) / sizeof(keys[0]))
		return 0;
	val = strndup(tok + strlen(keys[k]), len - strlen(keys[k]));
	if (!val)
		return -ENOMEM;
	snprintf(what, sizeof(what), "--device %s: %.*s", type, (int)strlen(keys[k]) - 1, keys[k]);
	if (k == 0) {
		if (!pviod_id_valid(val)) {
			pviod_opt_err(type, "id=%s: expected 1..%d letters, digits, _ . -", val,
				      PVIOD_ID_MAX - 1);
			ret = -EINVAL;
		} else {
			free(c->id);
			c->id = val;
			val = NULL;
		}
	} else if (k == 1) {
		ret = pviod_socket_group_parse(what, val, &c->gid);
		c->has_group = !ret;
	} else {
		ret = pviod_socket_mode_parse(what, val, &c->mode);
	}
	free(val);
	return ret ? ret : 1;
}

/*
 * Take the options every device type has out of @opts (what follows
 * "TYPE,"): id=NAME, socket-group=GROUP, socket-mode=MODE.  @rest gets the
 * others, in order, for the type's create.  Return: 0, or -EINVAL
 * (reported).
 */
static int pviod_spec_common(const char *type, const char *opts, char *rest, size_t size,
			     struct pviod_spec_common *c)
{
	const char *tok = opts;
	size_t used = 0;
	int ret;

	rest[0] = '\0';
	while (*tok) {
		size_t len = strcspn(tok, ",");

		ret = pviod_spec_common_opt(type, tok, len, c);
		if (ret < 0)
			return ret;
		if (!ret && len) {
			if (used + len + 2 > size)
				return -ENAMETOOLONG;
			if (used)
				rest[used++] = ',';
			memcpy(rest + used, tok, len);
			used += len;
			rest[used] = '\0';
		}
		tok += len + (tok[len] == ',');
	}
	return 0;
}

/**
 * pviod_device_add - create a device and serve it
 * @p: the context (control thread)
 * @spec: "TYPE,key=value,..." as --device takes it; id=NAME names it, else
 *        it is TYPE0, TYPE1, ... in the order of creation
 * @out: the device, or NULL
 *
 * Return: 0; -EINVAL for a bad argument or an id in use (a message says
 * what is wrong); another -errno when the device could not be set up (a
 * message says why).
 */
int pviod_device_add(struct pviod *p, const char *spec, struct pviod_device **out)
{
	size_t len = strcspn(spec, ",");
	const struct pviod_device_type *t = NULL;
	struct pviod_spec_common c = { 0 };
	struct pviod_device *dev, **tail;
	const char *id;
	char name[PVIOD_ID_MAX + 16], *rest;
	unsigned int i, ti = 0, n = 0;
	int ret;

	for (i = 0; i < sizeof(pviod_device_types) / sizeof(pviod_device_types[0]); i++) {
		if (strlen(pviod_device_types[i].name) == len &&
		    !strncmp(spec, pviod_device_types[i].name, len)) {
			t = &pviod_device_types[i];
			ti = i;
		}
	}
	if (!t) {
		pviod_opt_err(spec, "unknown device type '%.*s' (known: blk, console, net)",
			      (int)len, spec);
		return -EINVAL;
	}
	rest = malloc(strlen(spec) + 1);
	if (!rest)
		return -ENOMEM;
	ret = pviod_spec_common(t->name, spec[len] ? spec + len + 1 : "", rest, strlen(spec) + 1,
				&c);
	if (ret)
		goto out_free;
	id = c.id;
	if (id) {
		snprintf(name, sizeof(name), "%s", id);
		if (pviod_device_find(p, name)) {
			pviod_opt_err(t->name, "id=%s: a device with that id exists", id);
			ret = -EINVAL;
			goto out_free;
		}
	} else {
		/* The next of its type whose name is free. */
		for (n = p->created[ti];; n++) {
			snprintf(name, sizeof(name), "%s%u", t->name, n);
			if (!pviod_device_find(p, name))
				break;
		}
	}
	ret = t->create(&p->env, name, rest, &dev);
	if (ret)
		goto out_free;
	dev->spec = strdup(spec);
	/* Who may connect: the device's options, else the daemon's defaults. */
	dev->socket_mode = c.mode ? c.mode : p->socket_mode;
	dev->socket_chgrp = c.has_group || p->socket_chgrp;
	dev->socket_gid = c.has_group ? c.gid : p->socket_gid;
	ret = dev->spec ? vu_dev_attach(dev) : -ENOMEM;
	if (ret) {
		pviod_device_free(dev);
		goto out_free;
	}
	if (!id)
		p->created[ti] = n + 1;
	pthread_mutex_lock(&p->lock);
	for (tail = &p->devices; *tail; tail = &(*tail)->next)
		;
	*tail = dev;
	pthread_mutex_unlock(&p->lock);
	if (out)
		*out = dev;
out_free:
	free(c.id);
	free(rest);
	return ret;
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
