/* SPDX-License-Identifier: GPL-2.0 */
/*
 * badnet.h - what the parts of badnet share (badnet.c describes the test):
 * the abused device's guest memory layout, one case's raw front-end and
 * what it expects (struct nt), the hostile driver that builds its chains
 * and checks what comes back (badnet_drv.c), and the cases, by what they
 * drive: transmit (badnet_tx.c), both rings at once (badnet_ring.c),
 * receive (badnet_rx.c).  badnet.c's table lists them in the order they
 * run.
 *
 * A case is const char *c_NAME(struct nt *n, int arg): it sets device a up
 * as it needs (nt_setup()), does its hostile or awkward thing, and checks
 * the one outcome it expects; it returns NULL when that was so, else what
 * went wrong.  n->want is how the device's counters must move.
 */
#ifndef PVIO_TESTS_BADNET_H
#define PVIO_TESTS_BADNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "raw.h"
#include "virtio_net.h"

/* Guest memory: four regions of 2 MiB, adjacent in guest-physical space. */
#define MEM_SIZE (8u << 20)
#define NREGIONS 4
#define BOUNDARY(i) ((i) * (MEM_SIZE / NREGIONS)) /* where region i starts */
#define NUM 256u
#define RXQ 0
#define TXQ 1
#define RX_DESC_GPA 0x0000
#define RX_AVAIL_GPA 0x1000
#define RX_USED_GPA 0x2000
#define TX_DESC_GPA 0x4000
#define TX_AVAIL_GPA 0x5000
#define TX_USED_GPA 0x6000
#define IND_GPA 0x10000 /* indirect tables */
#define IND_END 0x80000
#define TX_GPA 0x100000 /* transmit buffers */
#define TX_END 0x3c0000
#define RX_GPA 0x440000 /* receive buffers */
#define RX_END MEM_SIZE

#define HDR 12u /* struct pvio_net_hdr with VERSION_1 */
#define FRAME_MAX (65535 + 14 + 4) /* pviod's largest frame */
#define RX_BUF 2048 /* the usual receive buffer */
#define RX_BIG (HDR + FRAME_MAX) /* one that holds the largest frame exactly */
#define RXSEG_MAX 16
#define EXPECT_MAX 256
#define SETTLE_MS 30 /* how long "nothing more happens" is watched */

#define PF_WANTED                                                                             \
	(PVIO_BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK) | PVIO_BIT(VHOST_USER_PROTOCOL_F_STATUS) | \
	 PVIO_BIT(VHOST_USER_PROTOCOL_F_CONFIG))
#define F_BASE                                                         \
	(PVIO_BIT(PVIO_F_VERSION_1) | PVIO_BIT(PVIO_F_INDIRECT_DESC) | \
	 PVIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES))

/* A feature variant: every case runs once in each that it applies to. */
struct variant {
	const char *name;
	bool mrg; /* MRG_RXBUF */
	bool event_idx; /* EVENT_IDX */
};

/* The abused device's counters, as pviod logs them. */
struct cnt {
	uint64_t tx_frames, tx_bytes, tx_bad_hdr, tx_bad_chain, tx_dropped;
	uint64_t rx_frames, rx_bytes, rx_no_buf, rx_dropped, rx_filtered;
};

/* A receive chain we posted: where its buffers are. */
struct rxc {
	unsigned int nd; /* 0: not posted (or already returned) */
	uint64_t gpa[RXSEG_MAX];
	uint32_t len[RXSEG_MAX];
};

/* One case's front-end and what it expects. */
struct nt {
	struct raw r;
	const char *sock; /* device a's socket */
	const struct variant *v;
	struct raw_vq *rx, *tx;
	uint64_t tx_next, ind_next, rx_next; /* bump allocators in guest memory */
	uint16_t tx_desc, rx_desc; /* next free descriptor */
	uint16_t tx_seen, rx_seen; /* used entries checked so far */
	uint16_t txh[NUM]; /* the head put in each avail slot */
	struct rxc rxc[NUM];
	unsigned int exp_k[EXPECT_MAX], exp_len[EXPECT_MAX], nexp; /* frames due back */
	struct cnt want; /* what the counters must move by */
	bool no_call; /* rx_expect(): the driver suppressed the receive call */
	uint16_t base; /* where both rings' indices start */
	uint64_t extra; /* features negotiated beyond the variant's */
	char why[256];
	uint8_t buf[HDR + FRAME_MAX + 64]; /* a chain's bytes */
	uint8_t got[HDR + FRAME_MAX + RX_BUF]; /* a received frame */
};

/* --- the hostile driver (badnet_drv.c) --------------------------------------------------- */

uint64_t area_alloc(uint64_t *next, uint64_t end, size_t len);
uint16_t desc_alloc(uint16_t *next, unsigned int n);
uint8_t frame_byte(unsigned int k, size_t j);
void stream_fill(struct nt *n, unsigned int k, size_t len, const struct pvio_net_hdr *h);
void expect_frame(struct nt *n, unsigned int k, size_t len);
void expect_lost(struct nt *n, size_t len);
void tx_push(struct nt *n, uint16_t head);
uint16_t tx_chain(struct nt *n, unsigned int k, size_t len, const uint32_t *sizes,
		  unsigned int nseg, bool indirect, const struct pvio_net_hdr *h);
uint16_t tx_good(struct nt *n, unsigned int k, size_t len, const uint32_t *sizes, unsigned int nseg,
		 bool indirect);
void used_event_set(struct raw_vq *q, uint16_t v);
void tx_kick(struct nt *n);
const char *tx_wait(struct nt *n, unsigned int count);
uint16_t rx_chain(struct nt *n, unsigned int nd, const uint32_t *lens, const uint16_t *flags);
void rx_kick(struct nt *n);
void rx_post(struct nt *n, unsigned int count, uint32_t size);
const char *rx_expect(struct nt *n);
const char *tx_reflect(struct nt *n, unsigned int count);
bool queue_broken(struct raw_vq *q);
const char *expect_healthy(struct nt *n);
const char *expect_broken(struct nt *n, struct raw_vq *q);
const char *used_stays(struct raw_vq *q, uint16_t idx);
const char *nt_setup(struct nt *n, unsigned int rx_count, uint32_t rx_size);
const char *nt_setup_default(struct nt *n);

/* --- the cases --------------------------------------------------------------------------- */

/* The bad transmit chains of c_bad_tx(): its @arg. */
enum {
	B_OUTSIDE,
	B_END_OF_MEMORY,
	B_ADDR_WRAPS,
	B_LOOP,
	B_NEXT_OUT_OF_RANGE,
	B_READABLE_AFTER_WRITABLE,
	B_IND_IN_IND,
	B_IND_LEN_NOT_16,
	B_IND_WITH_NEXT,
	B_IND_OUTSIDE,
	B_IND_LOOP,
	B_TOO_MANY_SEGS,
	B_LEN_ZERO,
	B_HEADER_SHORT,
	B_FRAME_TOO_LONG,
	B_FRAME_TOO_SHORT,
};

/* Transmit (badnet_tx.c). */
const char *c_segments(struct nt *n, int arg);
const char *c_mixed_burst(struct nt *n, int arg);
const char *c_header_split(struct nt *n, int arg);
const char *c_indirect(struct nt *n, int arg);
const char *c_burst_200(struct nt *n, int arg);
const char *c_max_frame(struct nt *n, int arg);
const char *c_min_frame(struct nt *n, int arg);
const char *c_zero_len_inside(struct nt *n, int arg);
const char *c_bad_tx(struct nt *n, int arg);
const char *c_tx_bad_headers(struct nt *n, int arg);
const char *c_tx_bad_headers_offloads(struct nt *n, int arg);
const char *c_tx_bad_mid_burst(struct nt *n, int arg);
const char *c_tx_head_out_of_range(struct nt *n, int arg);
const char *c_tx_long_then_bad_head(struct nt *n, int arg);
const char *c_tx_idx_jump(struct nt *n, int arg);

/* Both rings: indices that wrap, buffers across regions, notifications (badnet_ring.c). */
const char *c_wrap(struct nt *n, int arg);
const char *c_straddle_regions(struct nt *n, int arg);
const char *c_notify(struct nt *n, int arg);

/* Receive (badnet_rx.c). */
const char *c_rx_split(struct nt *n, int arg);
const char *c_rx_mrg_span(struct nt *n, int arg);
const char *c_rx_hdr_bytes(struct nt *n, int arg);
const char *c_rx_readable_first(struct nt *n, int arg);
const char *c_rx_all_readable(struct nt *n, int arg);
const char *c_rx_outside(struct nt *n, int arg);
const char *c_rx_loop(struct nt *n, int arg);
const char *c_rx_head_out_of_range(struct nt *n, int arg);
const char *c_rx_idx_jump(struct nt *n, int arg);
const char *c_rx_shorter_than_header(struct nt *n, int arg);
const char *c_rx_mrg_zero_second(struct nt *n, int arg);
const char *c_rx_no_buffers(struct nt *n, int arg);
const char *c_rx_too_few(struct nt *n, int arg);

#endif /* PVIO_TESTS_BADNET_H */
