// SPDX-License-Identifier: GPL-2.0
/*
 * net_switch.c - the switch back-end: every net device with the same
 * backend=switch:NAME is a port of one L2 learning switch inside pviod, so
 * guests talk to each other with no kernel in the path.
 *
 * A transmitted frame teaches the switch its source address (net_fdb.c);
 * its destination, when known, picks one port, otherwise (unknown,
 * broadcast, multicast) it is flooded to every other port.  Ports may be
 * served by different workers, so a frame is never written into another
 * port's ring: it is copied into that port's inbox (a bounded queue under
 * its own lock), and the inbox's eventfd wakes the receiving port's worker,
 * which drains it into its guest like a tap (net.c).  A full inbox, or a
 * port whose guest is not receiving, drops and counts: one slow guest never
 * blocks the others.
 *
 * Locks: pviod_net_switches_lock (the list of switches, control thread
 * only) > sw->lock (ports and table) > inbox->lock; nothing else is held
 * while a frame is copied.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "net.h"

#define PVIOD_NET_INBOX_SLOTS 512 /* frames queued per port */
#define PVIOD_NET_SWITCH_PORTS 64 /* ports a frame is flooded to at most */

struct pviod_net_frame {
	size_t len; /* header + frame */
	uint8_t data[];
};

struct pviod_net_port {
	struct pviod_net *net;
	struct pviod_net_switch *sw;
	struct pviod_net_port *next; /* sw->ports */
	/* The inbox: frames for our pair 0's receive queue. */
	pthread_mutex_t lock;
	struct pviod_net_frame *slot[PVIOD_NET_INBOX_SLOTS];
	unsigned int head, count; /* under lock */
	int efd; /* eventfd, readable while frames wait */
	uint64_t dropped; /* inbox full or guest not receiving (atomic) */
};

struct pviod_net_switch {
	char *name;
	unsigned int refs; /* ports; under pviod_net_switches_lock */
	struct pviod_net_switch *next;
	pthread_mutex_t lock;
	struct pviod_net_port *ports;
	struct pviod_net_fdb fdb;
};

static pthread_mutex_t pviod_net_switches_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pviod_net_switch *pviod_net_switches;

static uint64_t pviod_net_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static struct pviod_net_switch *pviod_net_switch_get(const char *name)
{
	struct pviod_net_switch *sw;

	for (sw = pviod_net_switches; sw; sw = sw->next)
		if (!strcmp(sw->name, name))
			goto out_ref;
	sw = calloc(1, sizeof(*sw));
	if (!sw)
		return NULL;
	sw->name = strdup(name);
	if (!sw->name) {
		free(sw);
		return NULL;
	}
	pthread_mutex_init(&sw->lock, NULL);
	pviod_net_fdb_init(&sw->fdb, PVIOD_NET_FDB_AGE_NS);
	sw->next = pviod_net_switches;
	pviod_net_switches = sw;
out_ref:
	sw->refs++;
	return sw;
}

static void pviod_net_switch_put(struct pviod_net_switch *sw)
{
	struct pviod_net_switch **pp;

	if (--sw->refs)
		return;
	for (pp = &pviod_net_switches; *pp; pp = &(*pp)->next) {
		if (*pp == sw) {
			*pp = sw->next;
			break;
		}
	}
	pthread_mutex_destroy(&sw->lock);
	free(sw->name);
	free(sw);
}

static int pviod_net_switch_open(struct pviod_net *net, const char *name)
{
	struct pviod_net_port *port = calloc(1, sizeof(*port));
	int ret;

	if (!port)
		return -ENOMEM;
	port->net = net;
	pthread_mutex_init(&port->lock, NULL);
	port->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (port->efd < 0) {
		ret = -errno;
		goto err_free;
	}
	pthread_mutex_lock(&pviod_net_switches_lock);
	port->sw = pviod_net_switch_get(name);
	if (!port->sw) {
		pthread_mutex_unlock(&pviod_net_switches_lock);
		ret = -ENOMEM;
		goto err_close;
	}
	pthread_mutex_lock(&port->sw->lock);
	port->next = port->sw->ports;
	port->sw->ports = port;
	pthread_mutex_unlock(&port->sw->lock);
	pthread_mutex_unlock(&pviod_net_switches_lock);
	/* Pair 0 receives everything the switch delivers to this port. */
	net->pairs[0].src_fd = port->efd;
	net->be_priv = port;
	return 0;

err_close:
	close(port->efd);
err_free:
	pthread_mutex_destroy(&port->lock);
	free(port);
	return ret;
}

static void pviod_net_switch_close(struct pviod_net *net)
{
	struct pviod_net_port *port = net->be_priv, **pp;
	struct pviod_net_switch *sw;

	if (!port)
		return;
	sw = port->sw;
	pthread_mutex_lock(&pviod_net_switches_lock);
	pthread_mutex_lock(&sw->lock);
	for (pp = &sw->ports; *pp; pp = &(*pp)->next) {
		if (*pp == port) {
			*pp = port->next;
			break;
		}
	}
	pviod_net_fdb_forget_port(&sw->fdb, port);
	pthread_mutex_unlock(&sw->lock);
	if (port->dropped)
		pr_info("%s: switch %s: %llu frames dropped at this port's inbox", net->dev->name,
			sw->name, (unsigned long long)port->dropped);
	pviod_net_switch_put(sw);
	pthread_mutex_unlock(&pviod_net_switches_lock);
	while (port->count) {
		free(port->slot[port->head]);
		port->head = (port->head + 1) % PVIOD_NET_INBOX_SLOTS;
		port->count--;
	}
	close(port->efd);
	pthread_mutex_destroy(&port->lock);
	free(port);
	net->be_priv = NULL;
	net->pairs[0].src_fd = -1;
}

/* Copy the frame into @to's inbox; never waits for the receiving guest. */
static void pviod_net_port_deliver(struct pviod_net_port *to, const struct iovec *iov,
				   unsigned int niov, size_t len)
{
	struct pviod_net_frame *f;
	size_t off = 0;
	unsigned int i;
	bool wake;

	/* A guest that is not receiving would only fill the inbox with stale frames. */
	if (!__atomic_load_n(&to->net->pairs[0].rx_live, __ATOMIC_ACQUIRE))
		goto out_drop;
	f = malloc(sizeof(*f) + len);
	if (!f)
		goto out_drop;
	f->len = len;
	for (i = 0; i < niov; i++) {
		memcpy(f->data + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	pthread_mutex_lock(&to->lock);
	if (to->count == PVIOD_NET_INBOX_SLOTS) {
		pthread_mutex_unlock(&to->lock);
		free(f);
		goto out_drop;
	}
	to->slot[(to->head + to->count) % PVIOD_NET_INBOX_SLOTS] = f;
	/* Only the empty -> non-empty edge needs a wake-up: the reader drains to empty. */
	wake = !to->count++;
	pthread_mutex_unlock(&to->lock);
	if (wake)
		eventfd_write(to->efd, 1);
	return;

out_drop:
	__atomic_add_fetch(&to->dropped, 1, __ATOMIC_RELAXED);
}

static void pviod_net_switch_tx(struct pviod_net_pair *p, const struct iovec *iov,
				unsigned int niov, size_t len)
{
	struct pviod_net_port *self = p->net->be_priv, *to[PVIOD_NET_SWITCH_PORTS], *port;
	struct pviod_net_switch *sw = self->sw;
	uint8_t eth[12];
	size_t got = 0;
	unsigned int i, n = 0;
	const void *dst;

	/* The destination and source addresses, wherever the driver split the frame. */
	for (i = 1; i < niov && got < sizeof(eth); i++) {
		size_t k = iov[i].iov_len < sizeof(eth) - got ? iov[i].iov_len : sizeof(eth) - got;

		memcpy(eth + got, iov[i].iov_base, k);
		got += k;
	}
	if (got < sizeof(eth)) {
		p->st.tx_dropped++;
		return;
	}
	pthread_mutex_lock(&sw->lock);
	if (!(eth[6] & 1))
		pviod_net_fdb_learn(&sw->fdb, eth + 6, self, pviod_net_now_ns());
	dst = eth[0] & 1 ? NULL : pviod_net_fdb_lookup(&sw->fdb, eth, pviod_net_now_ns());
	if (dst) {
		if (dst != self)
			to[n++] = (struct pviod_net_port *)dst;
	} else {
		for (port = sw->ports; port && n < PVIOD_NET_SWITCH_PORTS; port = port->next)
			if (port != self)
				to[n++] = port;
	}
	/* Ports leave only at exit, after every worker stopped: safe to use unlocked. */
	pthread_mutex_unlock(&sw->lock);
	if (!n)
		p->st.tx_dropped++;
	for (i = 0; i < n; i++)
		pviod_net_port_deliver(to[i], iov, niov, len);
}

static int pviod_net_switch_rx_read(struct pviod_net_pair *p, void *buf, size_t cap)
{
	struct pviod_net_port *port = p->net->be_priv;
	struct pviod_net_frame *f;
	eventfd_t v;
	int n;

	pthread_mutex_lock(&port->lock);
	if (!port->count) {
		/* Cleared only when empty, so a partly drained inbox keeps the fd readable. */
		eventfd_read(port->efd, &v);
		pthread_mutex_unlock(&port->lock);
		return -EAGAIN;
	}
	f = port->slot[port->head];
	port->head = (port->head + 1) % PVIOD_NET_INBOX_SLOTS;
	port->count--;
	pthread_mutex_unlock(&port->lock);
	n = f->len <= cap ? (int)f->len : -EMSGSIZE;
	if (n > 0)
		memcpy(buf, f->data, f->len);
	free(f);
	return n;
}

const struct pviod_net_backend_ops pviod_net_switch_ops = {
	.name = "switch",
	.open = pviod_net_switch_open,
	.close = pviod_net_switch_close,
	.tx = pviod_net_switch_tx,
	.rx_read = pviod_net_switch_rx_read,
};
