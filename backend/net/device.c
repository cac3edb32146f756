// SPDX-License-Identifier: GPL-2.0
/*
 * device.c - the virtio-net device (virtio 1.2 §5.1): features, config
 * space, queue set-up, and creation from --device options.  The data path
 * is rx.c (receive), tx.c (transmit) and ctrl.c (the control queue); the
 * back-ends are tap.c, switch.c and loop.c.
 *
 * Threads: see net.h.  The rx and tx queue of a pair share one worker.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/options.h"
#include "net/net.h"

/* --- queues ----------------------------------------------------------------------------- */

static bool pviod_net_is_ctrl(const struct pviod_net *net, const struct pviod_queue *q)
{
	return q->index == 2 * net->npairs;
}

static enum pviod_serve pviod_net_queue_serve(struct pviod_queue *q)
{
	struct pviod_net *net = pviod_net_of(q->dev);

	if (pviod_net_is_ctrl(net, q))
		return pviod_net_ctrl_queue_serve(q);
	if (q->index & 1)
		return pviod_net_tx_queue_serve(q);
	return pviod_net_rx_queue_serve(q);
}

static int pviod_net_queue_start(struct pviod_device *dev, struct pviod_queue *q)
{
	struct pviod_net *net = pviod_net_of(dev);
	struct pviod_net_pair *p;

	if (pviod_net_is_ctrl(net, q))
		return 0;
	p = &net->pairs[q->index / 2];
	q->priv = p;
	if (!(q->index & 1)) {
		p->rx_broken = false;
		p->rx_wait_buf = false;
		p->rx_staged = 0;
		/* Release: the ring set up by pvring_dev_init() before the worker looks. */
		__atomic_store_n(&p->rx_live, 1, __ATOMIC_RELEASE);
	}
	return 0;
}

/*
 * Transmit queues only: DPDK's in-order receive paths read a used element
 * per chain, its transmit clean-up follows a batch's id (as Linux does
 * everywhere).  A sent chain is used whole (length 0 of 0), so every run
 * of them batches.
 */
static bool pviod_net_queue_batch_used(struct pviod_device *dev, unsigned int index)
{
	struct pviod_net *net = pviod_net_of(dev);

	return index & 1 && index < 2 * net->npairs;
}

static void pviod_net_queue_stop(struct pviod_device *dev, struct pviod_queue *q)
{
	struct pviod_net *net = pviod_net_of(dev);

	if (!pviod_net_is_ctrl(net, q) && !(q->index & 1))
		__atomic_store_n(&net->pairs[q->index / 2].rx_live, 0, __ATOMIC_RELEASE);
}

/* --- features and config ------------------------------------------------------------- */

static uint64_t pviod_net_features(struct pviod_device *dev)
{
	return PVIO_BIT(PVIO_F_VERSION_1) | PVIO_BIT(PVIO_F_EVENT_IDX) |
	       PVIO_BIT(PVIO_F_INDIRECT_DESC) | PVIO_BIT(PVIO_F_IN_ORDER) |
	       PVIO_BIT(PVIO_NET_F_MAC) | PVIO_BIT(PVIO_NET_F_STATUS) | PVIO_BIT(PVIO_NET_F_MTU) |
	       PVIO_BIT(PVIO_NET_F_MRG_RXBUF) | PVIO_BIT(PVIO_NET_F_CSUM) |
	       PVIO_BIT(PVIO_NET_F_GUEST_CSUM) | PVIO_BIT(PVIO_NET_F_HOST_TSO4) |
	       PVIO_BIT(PVIO_NET_F_HOST_TSO6) | PVIO_BIT(PVIO_NET_F_GUEST_TSO4) |
	       PVIO_BIT(PVIO_NET_F_GUEST_TSO6) | PVIO_BIT(PVIO_NET_F_CTRL_VQ) |
	       PVIO_BIT(PVIO_NET_F_CTRL_RX) | PVIO_BIT(PVIO_NET_F_CTRL_RX_EXTRA) |
	       PVIO_BIT(PVIO_NET_F_CTRL_VLAN) | PVIO_BIT(PVIO_NET_F_CTRL_MAC_ADDR) |
	       PVIO_BIT(PVIO_NET_F_MQ);
}

static int pviod_net_features_set(struct pviod_device *dev, uint64_t f)
{
	struct pviod_net *net = pviod_net_of(dev);
	int ret = 0;

	/* virtio 1.2 §5.1.6: 12 bytes with VERSION_1 or MRG_RXBUF, else 10. */
	net->hdr_len = (f & (PVIO_BIT(PVIO_F_VERSION_1) | PVIO_BIT(PVIO_NET_F_MRG_RXBUF))) ?
			       PVIOD_NET_HDR_LEN :
			       PVIOD_NET_HDR_LEN - 2;
	__atomic_store_n(&net->active_pairs, 1, __ATOMIC_RELAXED);
	/* A new driver starts unfiltered, whatever the last one programmed. */
	pthread_mutex_lock(&net->filter_lock);
	pviod_net_filter_init(&net->filter, net->mac, f & PVIO_BIT(PVIO_NET_F_CTRL_VLAN));
	pthread_mutex_unlock(&net->filter_lock);
	if (net->be->features_set)
		ret = net->be->features_set(net, f);
	if (!ret)
		__atomic_store_n(&net->features, f, __ATOMIC_RELAXED);
	return ret;
}

static int pviod_net_config_read(struct pviod_device *dev, uint32_t off, void *buf, uint32_t len)
{
	struct pviod_net *net = pviod_net_of(dev);

	memcpy(net->config.mac, net->mac, 6);
	memcpy(buf, (const uint8_t *)&net->config + off, len);
	return 0;
}

static int pviod_net_config_write(struct pviod_device *dev, uint32_t off, const void *buf,
				  uint32_t len)
{
	struct pviod_net *net = pviod_net_of(dev);

	/* Legacy drivers set the MAC address by writing it; nothing else is writable. */
	if (off + len > 6)
		return -EPERM;
	pthread_mutex_lock(&net->filter_lock);
	memcpy(net->mac + off, buf, len);
	pviod_net_filter_mac_set(&net->filter, net->mac);
	pthread_mutex_unlock(&net->filter_lock);
	return 0;
}

static const struct pviod_device_ops pviod_net_ops;

/**
 * pviod_net_link_set - bring the link up or down, as the driver sees it
 * @dev: a net device, on the control thread
 * @up: the new state
 *
 * VIRTIO_NET_F_STATUS's LINK_UP bit in the config space; a front-end
 * that listens on the back-end channel is told (CONFIG_CHANGE_MSG), and
 * its driver reads the bit again.  Frames keep flowing: this is the
 * driver's view (its carrier), not a cable pulled out of the back-end.
 *
 * Return: 0, or -ENOTTY when @dev is not a net device.
 */
int pviod_net_link_set(struct pviod_device *dev, bool up)
{
	struct pviod_net *net;
	uint16_t st;

	if (dev->ops != &pviod_net_ops)
		return -ENOTTY;
	net = pviod_net_of(dev);
	st = le16_to_cpu(net->config.status);
	if (!!(st & PVIO_NET_S_LINK_UP) == up)
		return 0;
	st = up ? (st | PVIO_NET_S_LINK_UP) : (st & ~PVIO_NET_S_LINK_UP);
	net->config.status = cpu_to_le16(st);
	pr_info("%s: link %s", dev->name, up ? "up" : "down");
	pviod_device_refresh(dev);
	return 0;
}

/**
 * pviod_net_link_up - the link's state as the driver sees it
 * @dev: a net device, on the control thread
 */
bool pviod_net_link_up(struct pviod_device *dev)
{
	return le16_to_cpu(pviod_net_of(dev)->config.status) & PVIO_NET_S_LINK_UP;
}

static void pviod_net_destroy(struct pviod_device *dev)
{
	struct pviod_net *net = pviod_net_of(dev);
	unsigned int i;

	if (!net)
		return;
	for (i = 0; i < net->npairs; i++) {
		struct pviod_net_stats *s = &net->pairs[i].st;

		if (s->tx_frames || s->rx_frames || s->rx_no_buf || s->tx_bad_hdr || s->rx_filtered)
			pr_info("%s: pair %u: tx %llu frames %llu bytes, %llu bad header, %llu bad chain, %llu dropped; rx %llu frames %llu bytes, %llu no buffer, %llu dropped, %llu filtered",
				dev->name, i, (unsigned long long)s->tx_frames,
				(unsigned long long)s->tx_bytes, (unsigned long long)s->tx_bad_hdr,
				(unsigned long long)s->tx_bad_chain,
				(unsigned long long)s->tx_dropped, (unsigned long long)s->rx_frames,
				(unsigned long long)s->rx_bytes, (unsigned long long)s->rx_no_buf,
				(unsigned long long)s->rx_dropped,
				(unsigned long long)s->rx_filtered);
	}
	if (net->be && net->be->close)
		net->be->close(net);
	for (i = 0; i < net->npairs; i++) {
		free(net->pairs[i].bounce);
		free(net->pairs[i].gso_seg);
	}
	free(net->be_arg);
	pthread_mutex_destroy(&net->filter_lock);
	free(net);
	dev->priv = NULL;
}

static const struct pviod_device_ops pviod_net_ops = {
	.name = "net",
	.features = pviod_net_features,
	.features_set = pviod_net_features_set,
	.config_read = pviod_net_config_read,
	.config_write = pviod_net_config_write,
	.config_size = sizeof(struct pvio_net_config),
	.queue_start = pviod_net_queue_start,
	.queue_batch_used = pviod_net_queue_batch_used,
	.queue_stop = pviod_net_queue_stop,
	.queue_serve = pviod_net_queue_serve,
	.queue_stats = pviod_net_queue_stats,
	.queue_counters = pviod_net_queue_counters,
	.announce = pviod_net_announce,
	.destroy = pviod_net_destroy,
};

/* --- creation ---------------------------------------------------------------------------- */

static int pviod_net_mac_parse(const char *s, uint8_t *mac)
{
	unsigned int b[6], i;
	char end;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &end) != 6)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		if (b[i] > 0xff)
			return -EINVAL;
		mac[i] = (uint8_t)b[i];
	}
	/* A multicast address cannot be a station's. */
	return mac[0] & 1 ? -EINVAL : 0;
}

/**
 * pviod_net_create - a net device from its --device options
 * @env: what it is created in
 * @name: its name, for messages
 * @opts: "socket=PATH,backend=tap:IFNAME|switch:NAME|loop[,queues=N][,mac=MAC][,mtu=N]"
 *        (what follows "net,")
 * @out: the device (not yet listening)
 *
 * Return: 0; -EINVAL for a bad option (the message says which); the
 * back-end's error otherwise (the message names the interface and errno).
 */
int pviod_net_create(const struct pviod_env *env, const char *name, const char *opts,
		     struct pviod_device **out)
{
	char *copy = strdup(opts), *tok, *save = NULL, *socket_path = NULL, *backend = NULL;
	const struct pviod_net_backend_ops *be = NULL;
	unsigned long queues = 1, mtu = PVIOD_NET_MTU_DEFAULT;
	unsigned int i;
	uint8_t mac[6] = { 0x02, 0x70, 0x76, 0, 0, 0 };
	bool have_mac = false;
	struct pviod_device *dev = NULL;
	struct pviod_net *net = NULL;
	const char *arg = "";
	uint32_t h = 2166136261u;
	int ret = -EINVAL;

	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *val;

		if (pviod_opt_split("net", tok, &val))
			goto err_free_copy;
		if (!strcmp(tok, "socket")) {
			socket_path = val;
		} else if (!strcmp(tok, "backend")) {
			backend = val;
		} else if (!strcmp(tok, "queues")) {
			if (pviod_opt_uint("net", tok, val, 1, PVIOD_NET_PAIRS_MAX, &queues))
				goto err_free_copy;
		} else if (!strcmp(tok, "mtu")) {
			if (pviod_opt_uint("net", tok, val, 68,
					   PVIOD_NET_FRAME_MAX - PVIOD_NET_ETH_HLEN - 4, &mtu))
				goto err_free_copy;
		} else if (!strcmp(tok, "mac")) {
			if (pviod_net_mac_parse(val, mac)) {
				pviod_opt_err("net", "mac=%s: expected a unicast xx:xx:xx:xx:xx:xx",
					      val);
				goto err_free_copy;
			}
			have_mac = true;
		} else {
			pviod_opt_err("net",
				      "unknown option '%s' (socket, backend, queues, mac, mtu)",
				      tok);
			goto err_free_copy;
		}
	}
	if (!socket_path || !*socket_path || !backend) {
		pviod_opt_err("net",
			      "socket=PATH and backend=tap:IFNAME|switch:NAME|loop are required");
		goto err_free_copy;
	}
	if (!strcmp(backend, "loop")) {
		be = &pviod_net_loop_ops;
	} else if (!strncmp(backend, "tap:", 4) && backend[4]) {
		be = &pviod_net_tap_ops;
		arg = backend + 4;
	} else if (!strncmp(backend, "switch:", 7) && backend[7]) {
		be = &pviod_net_switch_ops;
		arg = backend + 7;
	} else {
		pviod_opt_err("net", "backend=%s: expected tap:IFNAME, switch:NAME or loop",
			      backend);
		goto err_free_copy;
	}
	if (!have_mac) {
		/* Stable across restarts: derived from the socket path (FNV-1a). */
		for (i = 0; socket_path[i]; i++)
			h = (h ^ (uint8_t)socket_path[i]) * 16777619u;
		mac[3] = (uint8_t)(h >> 16);
		mac[4] = (uint8_t)(h >> 8);
		mac[5] = (uint8_t)h;
	}

	dev = calloc(1, sizeof(*dev));
	net = calloc(1, sizeof(*net) + queues * sizeof(net->pairs[0]));
	if (!dev || !net) {
		free(net);
		ret = -ENOMEM;
		goto err_free_dev;
	}
	dev->priv = net;
	net->dev = dev;
	net->be = be;
	net->npairs = queues;
	net->mtu = mtu;
	net->hdr_len = PVIOD_NET_HDR_LEN;
	net->active_pairs = 1;
	memcpy(net->mac, mac, 6);
	pthread_mutex_init(&net->filter_lock, NULL);
	pviod_net_filter_init(&net->filter, mac, false);
	net->be_arg = strdup(arg);
	net->config.status = cpu_to_le16(PVIO_NET_S_LINK_UP);
	net->config.max_virtqueue_pairs = cpu_to_le16((uint16_t)queues);
	net->config.mtu = cpu_to_le16((uint16_t)mtu);
	net->config.speed = cpu_to_le32(0xffffffffu);
	net->config.duplex = 0xff;
	ret = pviod_device_init(dev, env, &pviod_net_ops, name, socket_path, 2 * queues + 1);
	if (ret || !net->be_arg)
		goto err_free_dev;
	for (i = 0; i < queues; i++) {
		struct pviod_net_pair *p = &net->pairs[i];

		p->net = net;
		p->index = i;
		p->rxq = &dev->queues[2 * i];
		p->txq = &dev->queues[2 * i + 1];
		/* One thread serves the pair: the loop and the drain touch both rings. */
		p->rxq->worker = p->txq->worker;
		p->src_fd = -1;
		p->src_io.complete = pviod_net_src_ready;
		p->bounce = malloc(PVIOD_NET_HDR_LEN + PVIOD_NET_FRAME_MAX);
		p->gso_seg = malloc(PVIOD_NET_HDR_LEN + PVIOD_NET_FRAME_MAX);
		if (!p->bounce || !p->gso_seg) {
			ret = -ENOMEM;
			goto err_free_dev;
		}
	}
	if (be->open) {
		ret = be->open(net, arg);
		if (ret) {
			net->be = NULL;
			goto err_free_dev;
		}
	}
	pr_info("%s: backend %s%s%s, %lu queue pair%s, mac %02x:%02x:%02x:%02x:%02x:%02x, mtu %lu",
		dev->name, be->name, *arg ? ":" : "", arg, queues, queues > 1 ? "s" : "", mac[0],
		mac[1], mac[2], mac[3], mac[4], mac[5], mtu);
	free(copy);
	*out = dev;
	return 0;

err_free_dev:
	if (dev) {
		pviod_net_destroy(dev);
		pviod_device_free(dev);
	}
err_free_copy:
	free(copy);
	return ret;
}
