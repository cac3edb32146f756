// SPDX-License-Identifier: GPL-2.0
/*
 * switch.c - the switch back-end: every net device with the same
 * backend=switch:NAME is a port of one L2 learning switch inside pviod, so
 * guests talk to each other with no kernel in the path.
 *
 * A transmitted frame teaches the switch its source address (fdb.c);
 * its destination, when known, picks one port, otherwise (unknown,
 * broadcast, multicast) it is flooded to every other port.  Ports may be
 * served by different workers, so a frame is never written into another
 * port's ring: it is copied into an inbox of that port (a bounded queue
 * under its own lock), and the inbox's eventfd wakes the worker of the
 * receiving queue pair, which drains it into its guest like a tap (rx.c).
 * A full inbox, or a pair whose guest is not receiving, drops and counts:
 * one slow guest never blocks the others.
 *
 * Multi-queue: a port has one inbox per queue pair, because each pair is
 * served by its own worker and drains its own source fd (net.h).  The
 * sender picks the pair as a multi-queue NIC or the tap does: a flow hash of
 * the frame (pviod_net_flow_hash(): IP addresses and TCP / UDP ports, else
 * MAC addresses) modulo the pairs the receiving driver made active
 * (VQ_PAIRS_SET; 1 without MQ), so one flow stays in order on one pair.
 * A pair at or above active_pairs receives nothing: nothing is queued for
 * it, and what it still held when the driver lowered the count is dropped
 * (and counted) when it drains.  The hash is computed once per transmitted
 * frame, whatever the number of ports it goes to.
 *
 * Locks: pviod_net_switches_lock (the list of switches, control thread
 * only) > sw->lock (ports and table) > one inbox's lock; nothing else is
 * held while a frame is copied, and an inbox lock only guards its ring of
 * slot pointers (push on the sender's worker, pop on the receiving pair's
 * worker).  The receiver's active_pairs and rx_live are read without a lock
 * (relaxed / acquire loads): a frame sent while the driver changes them may
 * land on the old choice, as on a NIC.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "net/net.h"

#define PVIOD_NET_INBOX_SLOTS 512 /* frames queued per port */
#define PVIOD_NET_SWITCH_PORTS 64 /* ports a frame is flooded to at most */

struct pviod_net_frame {
	size_t len; /* header + frame */
	uint8_t data[];
};

/* Frames for one queue pair's receive queue. */
struct pviod_net_inbox {
	pthread_mutex_t lock;
	struct pviod_net_frame *slot[PVIOD_NET_INBOX_SLOTS];
	unsigned int head, count; /* under lock */
	int efd; /* eventfd, readable while frames wait; the pair's src_fd */
	uint64_t dropped; /* full, pair not receiving or not active (atomic) */
};

struct pviod_net_port {
	struct pviod_net *net;
	struct pviod_net_switch *sw;
	struct pviod_net_port *next; /* sw->ports */
	unsigned int ninbox; /* net->npairs */
	struct pviod_net_inbox inbox[]; /* one per queue pair */
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

/* Free what an inbox holds; returns how many frames that was. */
static unsigned int pviod_net_inbox_purge(struct pviod_net_inbox *in)
{
	unsigned int n = in->count;

	while (in->count) {
		free(in->slot[in->head]);
		in->head = (in->head + 1) % PVIOD_NET_INBOX_SLOTS;
		in->count--;
	}
	return n;
}

static void pviod_net_port_free(struct pviod_net_port *port, unsigned int ninbox)
{
	unsigned int i;

	for (i = 0; i < ninbox; i++) {
		pviod_net_inbox_purge(&port->inbox[i]);
		close(port->inbox[i].efd);
		pthread_mutex_destroy(&port->inbox[i].lock);
	}
	free(port);
}

static int pviod_net_switch_open(struct pviod_net *net, const char *name)
{
	struct pviod_net_port *port;
	unsigned int i;
	int ret;

	port = calloc(1, sizeof(*port) + net->npairs * sizeof(port->inbox[0]));
	if (!port)
		return -ENOMEM;
	port->net = net;
	port->ninbox = net->npairs;
	for (i = 0; i < port->ninbox; i++) {
		pthread_mutex_init(&port->inbox[i].lock, NULL);
		port->inbox[i].efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (port->inbox[i].efd < 0) {
			ret = -errno;
			pthread_mutex_destroy(&port->inbox[i].lock);
			goto err_free_inboxes;
		}
	}
	pthread_mutex_lock(&pviod_net_switches_lock);
	port->sw = pviod_net_switch_get(name);
	if (!port->sw) {
		pthread_mutex_unlock(&pviod_net_switches_lock);
		ret = -ENOMEM;
		goto err_free_inboxes;
	}
	pthread_mutex_lock(&port->sw->lock);
	port->next = port->sw->ports;
	port->sw->ports = port;
	pthread_mutex_unlock(&port->sw->lock);
	pthread_mutex_unlock(&pviod_net_switches_lock);
	/* Each pair drains its own inbox, on its own worker. */
	for (i = 0; i < port->ninbox; i++)
		net->pairs[i].src_fd = port->inbox[i].efd;
	net->be_priv = port;
	return 0;

err_free_inboxes:
	pviod_net_port_free(port, i);
	return ret;
}

static void pviod_net_switch_close(struct pviod_net *net)
{
	struct pviod_net_port *port = net->be_priv, **pp;
	struct pviod_net_switch *sw;
	unsigned int i;

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
	for (i = 0; i < port->ninbox; i++) {
		if (port->inbox[i].dropped)
			pr_info("%s: switch %s: %llu frames dropped at pair %u's inbox",
				net->dev->name, sw->name,
				(unsigned long long)port->inbox[i].dropped, i);
		net->pairs[i].src_fd = -1;
	}
	pviod_net_switch_put(sw);
	pthread_mutex_unlock(&pviod_net_switches_lock);
	pviod_net_port_free(port, port->ninbox);
	net->be_priv = NULL;
}

/*
 * The pairs @port's driver receives on: active_pairs (1 until it sends
 * VQ_PAIRS_SET with MQ), read without a lock; bounded by the inboxes.
 */
static unsigned int pviod_net_port_active(const struct pviod_net_port *port)
{
	unsigned int n = __atomic_load_n(&port->net->active_pairs, __ATOMIC_RELAXED);

	return n < 1 ? 1 : n > port->ninbox ? port->ninbox : n;
}

/*
 * Copy the frame into the inbox of @to's pair for flow @hash; never waits
 * for the receiving guest.
 */
static void pviod_net_port_deliver(struct pviod_net_port *to, uint32_t hash,
				   const struct iovec *iov, unsigned int niov, size_t len)
{
	unsigned int q = hash % pviod_net_port_active(to);
	struct pviod_net_inbox *in = &to->inbox[q];
	struct pviod_net_frame *f;
	size_t off = 0;
	unsigned int i;
	bool wake;

	/* A pair that is not receiving would only fill its inbox with stale frames. */
	if (!__atomic_load_n(&to->net->pairs[q].rx_live, __ATOMIC_ACQUIRE))
		goto out_drop;
	f = malloc(sizeof(*f) + len);
	if (!f)
		goto out_drop;
	f->len = len;
	for (i = 0; i < niov; i++) {
		memcpy(f->data + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	pthread_mutex_lock(&in->lock);
	if (in->count == PVIOD_NET_INBOX_SLOTS) {
		pthread_mutex_unlock(&in->lock);
		free(f);
		goto out_drop;
	}
	in->slot[(in->head + in->count) % PVIOD_NET_INBOX_SLOTS] = f;
	/* Only the empty -> non-empty edge needs a wake-up: the reader drains to empty. */
	wake = !in->count++;
	pthread_mutex_unlock(&in->lock);
	if (wake)
		eventfd_write(in->efd, 1);
	return;

out_drop:
	__atomic_add_fetch(&in->dropped, 1, __ATOMIC_RELAXED);
}

/* The frame's flow hash, from its first bytes wherever the driver split it. */
static uint32_t pviod_net_switch_hash(const struct iovec *iov, unsigned int niov, size_t len)
{
	uint8_t buf[PVIOD_NET_FLOW_BYTES];
	size_t want = len - iov[0].iov_len, got = 0;
	unsigned int i;

	if (want > sizeof(buf))
		want = sizeof(buf);
	if (niov >= 2 && iov[1].iov_len >= want)
		return pviod_net_flow_hash(iov[1].iov_base, want);
	for (i = 1; i < niov && got < want; i++) {
		size_t k = iov[i].iov_len < want - got ? iov[i].iov_len : want - got;

		memcpy(buf + got, iov[i].iov_base, k);
		got += k;
	}
	return pviod_net_flow_hash(buf, got);
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
	uint32_t hash;

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
	if (!n) {
		p->st.tx_dropped++;
		return;
	}
	hash = pviod_net_switch_hash(iov, niov, len);
	for (i = 0; i < n; i++)
		pviod_net_port_deliver(to[i], hash, iov, niov, len);
}

static int pviod_net_switch_rx_read(struct pviod_net_pair *p, void *buf, size_t cap)
{
	struct pviod_net_port *port = p->net->be_priv;
	struct pviod_net_inbox *in = &port->inbox[p->index];
	struct pviod_net_frame *f;
	unsigned int stale;
	eventfd_t v;
	int n;

	pthread_mutex_lock(&in->lock);
	if (unlikely(p->index >= pviod_net_port_active(port))) {
		/* The driver lowered active_pairs: this pair must not receive what it held. */
		stale = pviod_net_inbox_purge(in);
		eventfd_read(in->efd, &v);
		pthread_mutex_unlock(&in->lock);
		__atomic_add_fetch(&in->dropped, stale, __ATOMIC_RELAXED);
		return -EAGAIN;
	}
	if (!in->count) {
		/* Cleared only when empty, so a partly drained inbox keeps the fd readable. */
		eventfd_read(in->efd, &v);
		pthread_mutex_unlock(&in->lock);
		return -EAGAIN;
	}
	f = in->slot[in->head];
	in->head = (in->head + 1) % PVIOD_NET_INBOX_SLOTS;
	in->count--;
	pthread_mutex_unlock(&in->lock);
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
