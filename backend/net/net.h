/* SPDX-License-Identifier: GPL-2.0 */
/*
 * net.h - pviod's virtio-net device: what device.c (features, config,
 * set-up), rx.c / tx.c / ctrl.c (the data path), hdr.c and gso.c (header
 * checks, software segmentation), filter.c (the receive filter), fdb.c
 * (the switch's address table) and the back-ends (tap.c, switch.c,
 * loop.c) share.
 *
 * Queues: rx0, tx0, rx1, tx1, ..., then the control queue.  Each queue pair
 * is served by ONE worker (device.c gives the rx queue the tx queue's worker),
 * so everything that touches a pair's two rings runs on one thread: the
 * transmit path, the loop's reflection into rx, and the draining of the
 * pair's receive source (the tap fd, or the switch port's inbox for that
 * pair) into rx.  No lock is taken on the data path of a pair; the switch
 * hands frames between ports (possibly on different workers) through the
 * receiving pair's inbox, which has its own lock, never through another
 * port's ring.
 */
#ifndef PVIOD_NET_H
#define PVIOD_NET_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "core/device.h"
#include "virtio_net.h"

/* A table aligned by hand, values and comments in columns. */
/* clang-format off */
#define PVIOD_NET_PAIRS_MAX	16
/* The largest frame either way: a 64 KiB GSO super-frame plus Ethernet and VLAN headers. */
#define PVIOD_NET_FRAME_MAX	(65535 + 14 + 4)
#define PVIOD_NET_HDR_LEN	((unsigned int)sizeof(struct pvio_net_hdr))
#define PVIOD_NET_ETH_HLEN	14
#define PVIOD_NET_SEGS		128	/* host segments of one chain */
#define PVIOD_NET_BATCH		64	/* chains popped per round before one publish + notify */
#define PVIOD_NET_KICK_BUDGET	256	/* chains per kick before yielding to other queues */
#define PVIOD_NET_TXB_SEGS	4	/* segments of a transmit chain kept per burst slot */
/* The offloads a transmit header can ask for; with none negotiated it is all zero. */
#define PVIOD_NET_TX_HDR_OFFLOADS                                   \
	(PVIO_BIT(PVIO_NET_F_CSUM) | PVIO_BIT(PVIO_NET_F_HOST_TSO4) | \
	 PVIO_BIT(PVIO_NET_F_HOST_TSO6))
#define PVIOD_NET_MTU_DEFAULT	1500
/* clang-format on */

/*
 * Per queue pair; written only by the pair's worker, read there on SIGUSR1
 * (stats.c) and at exit for the log.
 */
struct pviod_net_stats {
	uint64_t tx_frames;
	uint64_t tx_bytes;
	uint64_t tx_bad_hdr; /* header failed pviod_net_hdr_check() */
	uint64_t tx_bad_chain; /* unusable descriptor chain */
	uint64_t tx_dropped; /* back-end could not take it */
	uint64_t rx_frames;
	uint64_t rx_bytes;
	uint64_t rx_no_buf; /* dropped: the guest posted too few receive buffers */
	uint64_t rx_dropped; /* dropped: offload the guest did not negotiate, bad chain */
	uint64_t rx_filtered; /* dropped by the driver's RX mode / MAC / VLAN filter */
};

/*
 * The receive filter the driver programs through the control queue
 * (CTRL_RX, CTRL_MAC, CTRL_VLAN), filter.c.  Off (every frame is
 * delivered) until the driver sends its first CTRL_RX or CTRL_MAC command:
 * QEMU keeps the control queue to itself and never tells us the guest's
 * MAC, so a device that has never been told must not filter.
 *
 * Written by one thread at a time (net->filter_lock); read by every pair's
 * worker without a lock, under a sequence count: the writer makes @seq odd,
 * writes, makes it even again; a reader that saw it odd or changed looks
 * again.  @on is read first and alone, so the unfiltered path is one load.
 * Every field is accessed with relaxed atomics only (filter.c's
 * helpers, a byte or a VLAN word at a time): loads that meet a store are
 * then defined, and a torn table is what @seq throws away.
 */
#define PVIOD_NET_MAC_TABLE_MAX 64 /* entries per table; a larger table is refused */
#define PVIOD_NET_VLAN_IDS 4096

struct pviod_net_filter {
	uint32_t seq; /* odd while being written; acquire / release */
	uint8_t on; /* a CTRL_RX or CTRL_MAC command was received */
	uint8_t rx_mode; /* bit per PVIO_NET_CTRL_RX_* that is on */
	uint8_t vlan_on; /* F_CTRL_VLAN negotiated: tagged frames must be in @vlan */
	uint8_t uc_n, mc_n; /* entries in @uc, @mc */
	uint8_t mac[6]; /* the device's address */
	uint8_t uc[PVIOD_NET_MAC_TABLE_MAX][6];
	uint8_t mc[PVIOD_NET_MAC_TABLE_MAX][6];
	uint64_t vlan[PVIOD_NET_VLAN_IDS / 64]; /* bit per VLAN id */
};

struct pviod_net;
struct pviod_net_pair;

/**
 * struct pviod_net_backend_ops - where a net device's frames go and come from
 *
 * Frames cross this interface with a 12-byte struct pvio_net_hdr in front
 * (num_buffers ignored), already checked.
 */
struct pviod_net_backend_ops {
	const char *name;
	/* Creation (control thread): set up, and each pair's ->src_fd (-1: none). */
	int (*open)(struct pviod_net *net, const char *arg);
	void (*close)(struct pviod_net *net);
	/* The driver's features changed (control thread, queues stopped). */
	int (*features_set)(struct pviod_net *net, uint64_t features);
	/* Worker: send one frame; iov[0] is the header. */
	void (*tx)(struct pviod_net_pair *p, const struct iovec *iov, unsigned int niov,
		   size_t len);
	/*
	 * Worker, optional: @n frames are about to be sent; start loading what
	 * receiving them will touch (the loop: its rx descriptors; then, with
	 * @bufs, it pops that many rx chains ahead and starts owning their
	 * buffers' first lines).
	 */
	void (*tx_prefetch)(struct pviod_net_pair *p, unsigned int n, bool bufs);
	/*
	 * Worker, optional: serve the transmit burst p->txb[0, @n) in order,
	 * each chain through pviod_net_tx_serve() unless the back-end has a
	 * faster way for it.  Without it every chain goes through ->tx.
	 */
	void (*tx_burst)(struct pviod_net_pair *p, unsigned int n);
	/* Worker: end of a transmit batch (the loop publishes its rx here). */
	void (*tx_flush)(struct pviod_net_pair *p);
	/*
	 * Worker, when ->src_fd polled readable: one frame (header first) into
	 * @buf; its length, or -EAGAIN when the source is empty.
	 */
	int (*rx_read)(struct pviod_net_pair *p, void *buf, size_t cap);
};

/*
 * A receive chain popped ahead of its frame (rx.c, pviod_net_rx_reserve()):
 * one writable segment, the common shape of DPDK's and Linux's buffers.
 */
struct pviod_net_rxb {
	uint16_t head;
	struct pvring_seg seg;
};

/* A transmit chain popped in the first pass over a burst (tx.c). */
struct pviod_net_txb {
	struct pvring_chain c;
	int ret; /* pvring_dev_pop()'s */
	bool big; /* its segments are in the pair's txseg, not in @seg */
	struct pvring_seg seg[PVIOD_NET_TXB_SEGS];
};

struct pviod_net_pair {
	struct pviod_net *net;
	unsigned int index;
	struct pviod_queue *rxq;
	struct pviod_queue *txq;
	/* rx ring set up and handed to the worker (set by the control thread, atomic). */
	int rx_live;
	/* Worker-owned. */
	bool rx_broken; /* a bad rx chain: drop until the queue restarts */
	bool rx_wait_buf; /* source not polled until the driver posts buffers */
	bool src_armed; /* poll on src_fd in flight */
	unsigned int rx_staged; /* used entries put, not yet published */
	/*
	 * Receive chains popped ahead (rxb[rxb_next, rxb_n) not used yet): the
	 * last ones popped, so pvring_dev_unpop() hands them back.
	 */
	unsigned int rxb_n;
	unsigned int rxb_next;
	unsigned int tx_budget;
	int src_fd; /* readable when rx_read has frames; -1: none */
	struct pviod_io src_io;
	uint8_t *bounce; /* PVIOD_NET_HDR_LEN + PVIOD_NET_FRAME_MAX: a tap / switch frame */
	uint8_t *gso_seg; /* as large: one segment of a super-frame segmented in software */
	struct pviod_net_txb txb[PVIOD_NET_BATCH]; /* the transmit burst being served */
	struct pviod_net_rxb rxb[PVIOD_NET_BATCH]; /* receive chains popped ahead */
	struct pvring_seg txseg[PVIOD_NET_SEGS]; /* a burst's last chain, when it has many */
	struct pvring_seg rxseg[PVIOD_NET_SEGS];
	struct iovec txiov[PVIOD_NET_SEGS + 1];
	struct pviod_net_stats st;
	struct pviod_ratelimit rl;
	void *be; /* the back-end's per-pair state */
};

struct pviod_net {
	struct pviod_device *dev;
	const struct pviod_net_backend_ops *be;
	char *be_arg; /* interface or switch name */
	unsigned int npairs;
	unsigned int mtu;
	uint8_t mac[6];
	uint64_t features; /* negotiated; atomic (the switch reads a peer's) */
	unsigned int hdr_len; /* 12, or 10 for a legacy driver without MRG_RXBUF */
	/*
	 * Control queue state (worker of the control queue): the pairs the
	 * driver receives on (VQ_PAIRS_SET; 1 without MQ).  The switch reads a
	 * peer's with a relaxed load to spread frames over them (switch.c).
	 */
	unsigned int active_pairs;
	pthread_mutex_t filter_lock; /* writers of @filter: control queue, config writes */
	struct pviod_net_filter filter;
	struct pvio_net_config config;
	void *be_priv;
	struct pviod_net_pair pairs[];
};

static inline struct pviod_net *pviod_net_of(struct pviod_device *dev)
{
	return dev->priv;
}

/* The negotiated features; the switch reads a peer's, hence atomic. */
static inline uint64_t pviod_net_features_get(const struct pviod_net *net)
{
	return __atomic_load_n(&net->features, __ATOMIC_RELAXED);
}

/* May the pair's worker touch the rx ring?  Only ever called on that worker. */
static inline bool pviod_net_rx_ok(struct pviod_net_pair *p)
{
	/* Acquire: pairs with the release in queue_start, after the ring's set-up. */
	return __atomic_load_n(&p->rx_live, __ATOMIC_ACQUIRE) && !p->rxq->stopping &&
	       !p->rxq->broken && !p->rx_broken;
}

/* A position in a source iovec. */
struct pviod_net_cursor {
	const struct iovec *iov;
	unsigned int niov;
	unsigned int i;
	size_t off;
};

/* device.c */
int pviod_net_create(const struct pviod_env *env, const char *name, const char *opts,
		     struct pviod_device **out);
int pviod_net_link_set(struct pviod_device *dev, bool up);
bool pviod_net_link_up(struct pviod_device *dev);

/* announce.c: the ->announce op (SEND_RARP after a migration). */
#define PVIOD_NET_RARP_FRAME_LEN 60 /* Ethernet's minimum: 14 + 28 bytes of RARP + padding */
void pviod_net_announce(struct pviod_device *dev, const uint8_t *mac);

/* rx.c */
size_t pviod_net_copy(struct pviod_net_cursor *src, const struct pvring_seg *seg, unsigned int nseg,
		      size_t n);
enum pviod_serve pviod_net_rx_queue_serve(struct pviod_queue *q);
void pviod_net_src_ready(struct pviod_io *io, int res);
int pviod_net_rx_put(struct pviod_net_pair *p, const struct iovec *iov, unsigned int niov,
		     size_t len);
void pviod_net_rx_flush(struct pviod_net_pair *p);
bool pviod_net_rx_ready(struct pviod_net_pair *p);
void pviod_net_rx_prefetch(struct pviod_net_pair *p, unsigned int n, bool bufs);
void pviod_net_rx_unreserve(struct pviod_net_pair *p);

/* tx.c */
enum pviod_serve pviod_net_tx_queue_serve(struct pviod_queue *q);
void pviod_net_tx_serve(struct pviod_net_pair *p, const struct pviod_net_txb *b);

/* ctrl.c */
enum pviod_serve pviod_net_ctrl_queue_serve(struct pviod_queue *q);

/* stats.c: the queue_stats op (SIGUSR1), on the pair's worker. */
void pviod_net_queue_stats(struct pviod_queue *q);
void pviod_net_queue_counters(struct pviod_queue *q, struct pviod_queue_counters *c);

/* hdr.c: pure, unit-tested. */
int pviod_net_hdr_check(const struct pvio_net_hdr *h, size_t frame_len, uint64_t features);
int pviod_net_csum_fill(struct pvio_net_hdr *h, uint8_t *frame, size_t frame_len);
uint64_t pviod_net_tap_offloads(uint64_t features);

/*
 * gso.c: pure, unit-tested (tests/backend/net_gso_test.c).  Software
 * segmentation of a TCP super-frame (gso_type TCPV4 / TCPV6, ECN or not)
 * for a receiver that did not negotiate the matching GUEST_TSO4/6 (or
 * GUEST_ECN), as Linux's GSO does, and the flow hash the switch spreads a
 * port's received frames over its active queue pairs with.
 */
#define PVIOD_NET_GSO_HDR_MAX 160 /* Ethernet + 2 VLAN tags + IPv4 with options + TCP: 142 */
#define PVIOD_NET_FLOW_BYTES 128 /* frame bytes pviod_net_flow_hash() may look at */

struct pviod_net_gso {
	const uint8_t *frame; /* the super-frame (payload read from here) */
	size_t payload; /* bytes after the headers */
	unsigned int l3_off; /* IP header: after Ethernet and VLAN tags */
	unsigned int l4_off; /* TCP header */
	unsigned int hdr_len; /* through the TCP header: copied into every segment */
	unsigned int mss; /* gso_size: payload bytes per segment */
	unsigned int nsegs;
	bool ipv6;
	uint16_t ip_id; /* IPv4: the first segment's id; +1 per segment */
	uint32_t seq; /* the first segment's sequence number */
	uint32_t pseudo; /* pseudo-header sum: addresses and protocol */
	uint8_t hdr[PVIOD_NET_GSO_HDR_MAX]; /* the headers, copied once */
};

int pviod_net_gso_init(struct pviod_net_gso *g, const struct pvio_net_hdr *h, const uint8_t *frame,
		       size_t len);
int pviod_net_gso_seg(const struct pviod_net_gso *g, unsigned int i, bool partial,
		      struct pvio_net_hdr *h, uint8_t *out, size_t cap);
uint32_t pviod_net_flow_hash(const uint8_t *frame, size_t len);

/* filter.c: pure (the caller serialises writers), unit-tested. */
void pviod_net_filter_init(struct pviod_net_filter *f, const uint8_t *mac, bool vlan_on);
void pviod_net_filter_mac_set(struct pviod_net_filter *f, const uint8_t *mac);
uint8_t pviod_net_filter_ctrl(struct pviod_net_filter *f, uint64_t features, uint8_t cls,
			      uint8_t cmd, const uint8_t *data, size_t len);
bool __pviod_net_filter_accept(const struct pviod_net_filter *f, const uint8_t *eth, size_t len);

/**
 * pviod_net_filter_accept - may the driver receive this frame?
 * @f: the device's filter
 * @eth: the frame's first min(@len, 18) bytes (destination, source, type, VLAN tag)
 * @len: the frame's length
 *
 * One relaxed load while the driver never programmed a filter.
 *
 * Return: true to deliver.
 */
static inline bool pviod_net_filter_accept(const struct pviod_net_filter *f, const uint8_t *eth,
					   size_t len)
{
	if (likely(!__atomic_load_n(&f->on, __ATOMIC_RELAXED)))
		return true;
	return __pviod_net_filter_accept(f, eth, len);
}

/*
 * fdb.c: the switch's forwarding table, pure (the caller locks and gives
 * the time), unit-tested.  Set-associative: a bucket of PVIOD_NET_FDB_WAYS
 * entries per hash, so learning and lookup are bounded; a full bucket
 * evicts its oldest entry.
 */
#define PVIOD_NET_FDB_BUCKETS 256
#define PVIOD_NET_FDB_WAYS 4
#define PVIOD_NET_FDB_AGE_NS (300ULL * 1000000000ULL) /* as Linux bridges */

struct pviod_net_fdb_entry {
	uint8_t mac[6];
	const void *port; /* NULL: free */
	uint64_t seen_ns;
};

struct pviod_net_fdb {
	uint64_t age_ns;
	struct pviod_net_fdb_entry e[PVIOD_NET_FDB_BUCKETS][PVIOD_NET_FDB_WAYS];
};

void pviod_net_fdb_init(struct pviod_net_fdb *fdb, uint64_t age_ns);
void pviod_net_fdb_learn(struct pviod_net_fdb *fdb, const uint8_t *mac, const void *port,
			 uint64_t now_ns);
const void *pviod_net_fdb_lookup(struct pviod_net_fdb *fdb, const uint8_t *mac, uint64_t now_ns);
void pviod_net_fdb_forget_port(struct pviod_net_fdb *fdb, const void *port);

/* tap.c, switch.c, loop.c */
extern const struct pviod_net_backend_ops pviod_net_tap_ops;
extern const struct pviod_net_backend_ops pviod_net_switch_ops;
extern const struct pviod_net_backend_ops pviod_net_loop_ops;

#endif /* PVIOD_NET_H */
