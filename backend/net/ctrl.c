// SPDX-License-Identifier: GPL-2.0
/*
 * ctrl.c - the net device's control queue (virtio 1.2 §5.1.6.5): receive
 * mode, MAC and VLAN filters (filter.c checks and keeps them) and the
 * number of queue pairs in use.
 *
 * Threads: the control queue's worker; the filter is written under
 * net->filter_lock (net.h).
 */
#include <string.h>

#include "net/net.h"

#define PVIOD_NET_CTRL_MAX 1024 /* command bytes we read (MAC tables of up to ~160 entries) */

/*
 * One command; @len >= 2.  RX mode, MAC and VLAN commands go to the
 * receive filter (filter.c checks them); MQ is ours.
 */
static uint8_t pviod_net_ctrl_do(struct pviod_net *net, const uint8_t *cmd, size_t len)
{
	const struct pvio_net_ctrl_hdr *ch = (const void *)cmd;
	const uint8_t *data = cmd + sizeof(*ch);
	size_t dlen = len - sizeof(*ch);
	uint16_t pairs;
	uint8_t ack;

	switch (ch->class) {
	case PVIO_NET_CTRL_RX:
	case PVIO_NET_CTRL_MAC:
	case PVIO_NET_CTRL_VLAN:
		pthread_mutex_lock(&net->filter_lock);
		ack = pviod_net_filter_ctrl(&net->filter, pviod_net_features_get(net), ch->class,
					    ch->cmd, data, dlen);
		/* The config space shows the address the driver set. */
		if (ack == PVIO_NET_OK && ch->class == PVIO_NET_CTRL_MAC &&
		    ch->cmd == PVIO_NET_CTRL_MAC_ADDR_SET)
			memcpy(net->mac, data, 6);
		pthread_mutex_unlock(&net->filter_lock);
		return ack;
	case PVIO_NET_CTRL_MQ:
		if (ch->cmd != PVIO_NET_CTRL_MQ_VQ_PAIRS_SET || dlen != 2)
			return PVIO_NET_ERR;
		memcpy(&pairs, data, 2);
		pairs = le16_to_cpu(pairs);
		if (pairs < 1 || pairs > net->npairs)
			return PVIO_NET_ERR;
		__atomic_store_n(&net->active_pairs, pairs, __ATOMIC_RELAXED);
		return PVIO_NET_OK;
	default:
		return PVIO_NET_ERR;
	}
}

/* The ->queue_serve of the control queue. */
enum pviod_serve pviod_net_ctrl_queue_serve(struct pviod_queue *q)
{
	struct pviod_net *net = pviod_net_of(q->dev);
	struct pvring_seg seg[16];
	uint8_t cmd[PVIOD_NET_CTRL_MAX];
	struct pvring_chain c;
	unsigned int i, budget;
	int ret;

	for (budget = 0; budget < PVIOD_NET_KICK_BUDGET; budget++) {
		size_t got = 0;
		uint8_t ack = PVIO_NET_ERR;
		uint32_t used = 0;

		ret = pviod_queue_pop(q, &c, seg, 16);
		if (ret == 0 || !c.head_valid)
			return PVIOD_SERVE_EMPTY; /* empty, or the queue broke */
		if (ret > 0) {
			for (i = 0; i < c.nout && got < sizeof(cmd); i++) {
				size_t k = seg[i].len < sizeof(cmd) - got ? seg[i].len :
									    sizeof(cmd) - got;

				memcpy(cmd + got, seg[i].base, k);
				got += k;
			}
			if (got >= sizeof(struct pvio_net_ctrl_hdr) && c.out_len <= sizeof(cmd))
				ack = pviod_net_ctrl_do(net, cmd, got);
			/* The ack is the chain's last writable byte. */
			if (c.nseg > c.nout) {
				struct pvring_seg *last = &seg[c.nseg - 1];

				WRITE_ONCE(((uint8_t *)last->base)[last->len - 1], ack);
				pviod_queue_log_write(q, (uint8_t *)last->base + last->len - 1, 1);
				used = 1;
			}
			pr_debug("%s: control class %u cmd %u: %s", q->dev->name, cmd[0], cmd[1],
				 ack == PVIO_NET_OK ? "ok" : "error");
		}
		pviod_queue_complete(q, c.head, used);
		pviod_queue_log_prefix(q, c.head, 0); /* the ack, marked above */
	}
	return PVIOD_SERVE_MORE;
}
