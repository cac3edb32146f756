// SPDX-License-Identifier: GPL-2.0
/*
 * announce.c - telling the network where a migrated guest is now.
 *
 * After a migration the switches between the hosts still send the guest's
 * frames to the old host until the guest transmits.  A driver that
 * negotiated VIRTIO_NET_F_GUEST_ANNOUNCE announces itself (QEMU asks it
 * to); for one that did not, QEMU sends SEND_RARP with the guest's MAC and
 * the back-end sends a broadcast RARP request from that address, as QEMU
 * does for its own NICs.  pviod hands it to the device's back-end as if
 * the guest had sent it on queue pair 0: out of the tap, into the switch
 * (which learns the address's new port and floods it), or back into the
 * guest through the loop.
 *
 * Threads: pviod_net_announce() runs on the control thread and waits for
 * pair 0's worker to send the frame (pviod_worker_queue_call()), the one
 * thread that may touch the pair's back-end state.
 */
#include <string.h>

#include "core/worker.h"
#include "net/net.h"

/* clang-format off */
#define PVIOD_NET_ETH_P_RARP	0x8035
#define PVIOD_NET_ETH_P_IP	0x0800
#define PVIOD_NET_ARP_HRD_ETHER	1
#define PVIOD_NET_RARP_REQUEST	3	/* RFC 903: "request reverse" */
/* clang-format on */

struct pviod_net_announce {
	uint8_t frame[PVIOD_NET_RARP_FRAME_LEN];
};

static void pviod_net_be16_put(uint8_t *p, unsigned int v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * The RARP request that announces @mac, into @frame: broadcast, from @mac,
 * ethertype RARP; Ethernet hardware, IPv4 protocol, opcode "request
 * reverse", sender and target hardware address @mac, both protocol
 * addresses 0; zero-padded to Ethernet's 60-byte minimum.
 */
static void pviod_net_rarp_build(uint8_t *frame, const uint8_t *mac)
{
	uint8_t *a = frame + PVIOD_NET_ETH_HLEN;

	memset(frame, 0, PVIOD_NET_RARP_FRAME_LEN);
	memset(frame, 0xff, 6);
	memcpy(frame + 6, mac, 6);
	pviod_net_be16_put(frame + 12, PVIOD_NET_ETH_P_RARP);
	pviod_net_be16_put(a, PVIOD_NET_ARP_HRD_ETHER);
	pviod_net_be16_put(a + 2, PVIOD_NET_ETH_P_IP);
	a[4] = 6; /* hardware address length */
	a[5] = 4; /* protocol address length */
	pviod_net_be16_put(a + 6, PVIOD_NET_RARP_REQUEST);
	memcpy(a + 8, mac, 6); /* sender hardware address; its IPv4 address (a + 14) is 0 */
	memcpy(a + 18, mac, 6); /* target hardware address; its IPv4 address (a + 24) is 0 */
}

/* Pair 0's worker: the frame into the back-end, as pviod_net_tx_one() hands it a guest's. */
static void pviod_net_announce_send(struct pviod_queue *q, void *arg)
{
	struct pviod_net_pair *p = &pviod_net_of(q->dev)->pairs[0];
	const struct pviod_net_backend_ops *be = p->net->be;
	struct pviod_net_announce *a = arg;
	struct pvio_net_hdr h = { 0 };
	struct iovec iov[2] = {
		{ .iov_base = &h, .iov_len = PVIOD_NET_HDR_LEN },
		{ .iov_base = a->frame, .iov_len = sizeof(a->frame) },
	};

	be->tx(p, iov, 2, PVIOD_NET_HDR_LEN + sizeof(a->frame));
	if (be->tx_flush)
		be->tx_flush(p);
}

/**
 * pviod_net_announce - the ->announce op: send a RARP request from @mac
 * @dev: a net device (control thread)
 * @mac: the guest's unicast address (the vhost-user layer checked it)
 */
void pviod_net_announce(struct pviod_device *dev, const uint8_t *mac)
{
	struct pviod_net *net = pviod_net_of(dev);
	struct pviod_net_announce a;
	int ret;

	pviod_net_rarp_build(a.frame, mac);
	ret = pviod_worker_queue_call(net->pairs[0].txq, pviod_net_announce_send, &a);
	if (ret) {
		pr_warn("%s: announcing %02x:%02x:%02x:%02x:%02x:%02x failed: %s", dev->name,
			mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], strerror(-ret));
		return;
	}
	pr_info("%s: announced %02x:%02x:%02x:%02x:%02x:%02x through %s", dev->name, mac[0], mac[1],
		mac[2], mac[3], mac[4], mac[5], net->be->name);
}
