/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pvio_net.h - private state of pvio_net.ko, the virtio network frontend
 * (virtio 1.2 §5.1) on pvio_core.
 *
 * Queues: receiveq<i> is virtqueue 2i, transmitq<i> is 2i + 1, then the
 * control queue (F_CTRL_VQ).  One NAPI context per receive queue and one per
 * transmit queue.
 *
 * Ownership of the rings (struct pvring_drv allows one caller at a time):
 *   receive queue   the NAPI context that owns it: its poll, or whoever holds
 *                   it disabled (open before napi_enable(), the refill work,
 *                   close, the broken work, remove).  The queue's interrupt
 *                   touches the ring only after napi_schedule_prep() won.
 *   transmit queue  the netdev TX queue lock (__netif_tx_lock): taken by
 *                   ndo_start_xmit and by the TX NAPI poll that reaps sent
 *                   frames.  The interrupt only schedules NAPI.
 *   control queue   pvnet.ctrl_lock, a mutex: one command at a time, polled
 *                   for completion.  Taken by the ndo/ethtool paths and probe
 *                   (with RTNL held: RTNL nests outside ctrl_lock), by the
 *                   rx_mode work (without RTNL) and by the broken work before
 *                   it takes the ring's buffers back.
 *
 * System sleep: freeze detaches the netdev, stops NAPI and the refill, resets
 * the device, takes every buffer back and frees the queues (@frozen: no ring
 * exists); restore finds them again, selects the queue pairs, the MAC and
 * the VLAN filters once more, refills and attaches the netdev.  A device
 * that cannot be restored stays detached and broken.
 *
 * ndo_set_rx_mode runs under the address-list spinlock: it only schedules
 * rx_mode_work, which copies the lists and sends CTRL_RX / CTRL_MAC.
 */
#ifndef PVIO_NET_H
#define PVIO_NET_H

#include <linux/if_vlan.h>
#include <linux/mutex.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/u64_stats_sync.h>
#include <linux/workqueue.h>

#include "pvio.h"
#include "virtio_net.h"

#define PVNET_DRV_NAME "pvio_net"
#define PVNET_DRV_VERSION "1.0"

/* Header before every frame: 12 bytes, VERSION_1 is always negotiated. */
#define PVNET_HDR_LEN sizeof(struct pvio_net_hdr)
/* Bytes of a received frame copied into the skb head; the rest stays in pages. */
#define PVNET_COPY_LEN 128
/* A transmitted frame: header, linear part, page fragments. */
#define PVNET_TX_SEGS (MAX_SKB_FRAGS + 2)
/* A "big" receive buffer (no MRG_RXBUF, guest TSO): header + 64 KiB frame. */
#define PVNET_BIG_LEN (PVNET_HDR_LEN + ETH_HLEN + VLAN_HLEN + 65535)
#define PVNET_BIG_PAGES DIV_ROUND_UP(PVNET_BIG_LEN, PAGE_SIZE)
/* Largest MTU the device may be asked for (F_MTU absent). */
#define PVNET_MAX_MTU (65535 - ETH_HLEN - VLAN_HLEN)
/*
 * Entries per MAC filter table sent with CTRL_MAC_TABLE_SET (QEMU keeps 64 in
 * all).  A longer unicast list turns promiscuous mode on, a longer multicast
 * list all-multicast.
 */
#define PVNET_MAC_TABLE_MAX 64
/* Command data: the two MAC tables, each a le32 count and its entries. */
#define PVNET_CTRL_DATA_LEN (2 * (sizeof(__le32) + PVNET_MAC_TABLE_MAX * ETH_ALEN))

/**
 * struct pvnet_qstats - counters of one queue, for ethtool -S and stats64
 * @syncp: consistent 64-bit reads on 32-bit machines
 * @packets: frames received or sent
 * @bytes: their bytes, without the virtio-net header
 * @drops: frames dropped (malformed, no memory, broken device)
 * @kicks: notifications sent to the device
 */
struct pvnet_qstats {
	struct u64_stats_sync syncp;
	u64_stats_t packets;
	u64_stats_t bytes;
	u64_stats_t drops;
	u64_stats_t kicks;
};

/**
 * struct pvnet_rx_slot - one receive buffer offered to the device
 * @page: the page (head of a compound page frag) holding the buffer; for a
 *	big buffer, the first of its pages
 * @buf: CPU address of the buffer
 * @dma: device address of @buf
 * @pages: big buffers only: every page of the chain, @npages of them
 * @dmas: big buffers only: device address of each page
 * @npages: pages in a big buffer, 0 for a page-frag buffer
 */
struct pvnet_rx_slot {
	struct page *page;
	void *buf;
	dma_addr_t dma;
	struct page **pages;
	dma_addr_t *dmas;
	unsigned int npages;
};

/**
 * struct pvnet_rq - a receive queue
 * @napi: its NAPI context; owns the ring (see the top of the file)
 * @vq: the virtqueue
 * @net: the device it belongs to
 * @slots: receive buffer state, one per ring entry
 * @free: stack of free indices into @slots
 * @nfree: entries on @free
 * @frag: page fragment the buffers are carved from
 * @stats: counters; written by the owner of @napi
 * @index: queue pair number
 * @name: "input.N", the interrupt's name
 */
struct pvnet_rq {
	struct napi_struct napi;
	struct pvio_vq *vq;
	struct pvnet *net;
	struct pvnet_rx_slot *slots;
	u16 *free;
	unsigned int nfree;
	struct page_frag frag;
	struct pvnet_qstats stats;
	unsigned int index;
	char name[16];
};

/**
 * struct pvnet_tx_slot - one frame in flight on a transmit queue
 * @skb: the frame
 * @nseg: segments mapped in @addr / @len; 0 is the linear part (mapped
 *	with dma_map_single() when @linear), the rest are page fragments
 * @linear: segment 0 is the linear part
 * @addr: device addresses of the mapped segments
 * @len: their lengths
 */
struct pvnet_tx_slot {
	struct sk_buff *skb;
	unsigned int nseg;
	bool linear;
	dma_addr_t addr[PVNET_TX_SEGS];
	u32 len[PVNET_TX_SEGS];
};

/**
 * struct pvnet_sq - a transmit queue
 * @napi: reaps sent frames; takes the netdev TX queue lock
 * @vq: the virtqueue
 * @net: the device it belongs to
 * @slots: frames in flight, one per ring entry
 * @free: stack of free indices into @slots
 * @nfree: entries on @free
 * @hdrs: virtio-net header per slot, DMA-coherent
 * @hdrs_dma: device address of @hdrs
 * @stats: counters; written under the TX queue lock
 * @index: queue pair number
 * @name: "output.N", the interrupt's name
 *
 * Everything but @napi is used under the netdev TX queue lock of @index.
 */
struct pvnet_sq {
	struct napi_struct napi;
	struct pvio_vq *vq;
	struct pvnet *net;
	struct pvnet_tx_slot *slots;
	u16 *free;
	unsigned int nfree;
	struct pvio_net_hdr *hdrs;
	dma_addr_t hdrs_dma;
	struct pvnet_qstats stats;
	unsigned int index;
	char name[16];
};

/**
 * struct pvnet_ctrl - buffers of one control command, DMA-coherent
 * @hdr: class and command (device-readable)
 * @data: the command's data (device-readable)
 * @ack: PVIO_NET_OK or PVIO_NET_ERR (device-writable)
 */
struct pvnet_ctrl {
	struct pvio_net_ctrl_hdr hdr;
	u8 data[PVNET_CTRL_DATA_LEN];
	u8 ack;
};

/**
 * struct pvnet - one network device
 * @pdev: the pvio device
 * @dev: the net_device (this structure is its private area)
 * @rqs: receive queues, @max_pairs of them
 * @sqs: transmit queues, @max_pairs of them
 * @cvq: control queue, or NULL without F_CTRL_VQ
 * @ctrl: command buffers of @cvq, under @ctrl_lock
 * @ctrl_dma: device address of @ctrl
 * @ctrl_lock: serializes the commands on @cvq (see the top of the file)
 * @ctrl_refused: classes of commands the device answered PVIO_NET_ERR to,
 *	one bit per class, so that each is logged once; atomic bitops
 * @rx_mode_work: sends the receive mode and MAC tables (ndo_set_rx_mode)
 * @rx_mode_enabled: @rx_mode_work may be scheduled (probe done, not removed);
 *	written under the netdev address-list lock (netif_addr_lock_bh)
 * @max_pairs: queue pairs set up (F_MQ: max_virtqueue_pairs, capped)
 * @curr_pairs: queue pairs in use (ethtool -L), under RTNL
 * @mergeable: F_MRG_RXBUF: a received frame may span buffers
 * @big: no F_MRG_RXBUF but guest TSO: page-chain buffers of 64 KiB
 * @rx_buf_len: bytes per receive buffer (mergeable and small buffers)
 * @tx_min_free: ring entries a frame may take (1 with indirect tables)
 * @refill: retries filling the receive rings after an allocation failure
 * @refill_lock: protects @refill_enabled
 * @refill_enabled: @refill may be scheduled (the device is open)
 * @broken_work: resets a broken device and takes its buffers back
 * @broken_done: the broken work ran: rings are empty and stay so
 * @frozen: suspended, or a resume failed: no queue exists (under RTNL)
 */
struct pvnet {
	struct pvio_device *pdev;
	struct net_device *dev;
	struct pvnet_rq *rqs;
	struct pvnet_sq *sqs;
	struct pvio_vq *cvq;
	struct pvnet_ctrl *ctrl;
	dma_addr_t ctrl_dma;
	struct mutex ctrl_lock; /* the control queue and @ctrl */
	unsigned long ctrl_refused;
	struct work_struct rx_mode_work;
	bool rx_mode_enabled;
	unsigned int max_pairs;
	unsigned int curr_pairs;
	bool mergeable;
	bool big;
	unsigned int rx_buf_len;
	unsigned int tx_min_free;
	struct delayed_work refill;
	spinlock_t refill_lock; /* refill_enabled */
	bool refill_enabled;
	struct work_struct broken_work;
	bool broken_done;
	bool frozen;
};

/* pvio_net_rx.c */
int pvnet_rq_init(struct pvnet *net, struct pvnet_rq *rq);
void pvnet_rq_free(struct pvnet *net, struct pvnet_rq *rq);
bool pvnet_rx_refill(struct pvnet_rq *rq, gfp_t gfp);
void pvnet_rx_detach_all(struct pvnet_rq *rq);
int pvnet_rx_poll(struct napi_struct *napi, int budget);
void pvnet_rx_done(struct pvio_vq *vq);
void pvnet_refill_schedule(struct pvnet *net, unsigned long delay);

/* pvio_net_tx.c */
int pvnet_sq_init(struct pvnet *net, struct pvnet_sq *sq);
void pvnet_sq_free(struct pvnet *net, struct pvnet_sq *sq);
void pvnet_tx_detach_all(struct pvnet_sq *sq);
int pvnet_tx_poll(struct napi_struct *napi, int budget);
void pvnet_tx_clean(struct pvnet_sq *sq, int budget);
void pvnet_tx_done(struct pvio_vq *vq);
netdev_tx_t pvnet_start_xmit(struct sk_buff *skb, struct net_device *dev);

/* pvio_net_ctrl.c */
int pvnet_ctrl_cmd(struct pvnet *net, u8 class, u8 cmd, const void *data, unsigned int len);
void pvnet_ctrl_warn(struct pvnet *net, u8 class, u8 cmd, int err);
int pvnet_set_pairs(struct pvnet *net, unsigned int pairs);
void pvnet_rx_mode_work(struct work_struct *work);
void pvnet_rx_mode_enable(struct pvnet *net, bool on);
void pvnet_set_rx_mode(struct net_device *dev);
int pvnet_set_mac_address(struct net_device *dev, void *p);
int pvnet_vlan_rx_add_vid(struct net_device *dev, __be16 proto, u16 vid);
int pvnet_vlan_rx_kill_vid(struct net_device *dev, __be16 proto, u16 vid);

/* pvio_net_ethtool.c */
extern const struct ethtool_ops pvnet_ethtool_ops;

static inline void pvnet_stats_add(struct pvnet_qstats *s, unsigned int packets, unsigned int bytes)
{
	u64_stats_update_begin(&s->syncp);
	u64_stats_add(&s->packets, packets);
	u64_stats_add(&s->bytes, bytes);
	u64_stats_update_end(&s->syncp);
}

static inline void pvnet_stats_inc_drops(struct pvnet_qstats *s)
{
	u64_stats_update_begin(&s->syncp);
	u64_stats_inc(&s->drops);
	u64_stats_update_end(&s->syncp);
}

static inline void pvnet_stats_inc_kicks(struct pvnet_qstats *s)
{
	u64_stats_update_begin(&s->syncp);
	u64_stats_inc(&s->kicks);
	u64_stats_update_end(&s->syncp);
}

#endif /* PVIO_NET_H */
