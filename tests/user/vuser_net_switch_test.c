// SPDX-License-Identifier: GPL-2.0
/*
 * vuser_net_switch_test - pviod's switch between two userspace drivers, for
 * what vuser_net (one queue pair, no offloads) cannot show: software GSO and
 * multi-queue receive.  Built on the library's device layer (vuser_dev_open()
 * with our own feature set and queues), with a minimal driver here.
 *
 * Port A negotiates CSUM and HOST_TSO4/6 and sends TCP super-frames (64 KiB
 * class, IPv4 and IPv6) with a header as Linux's TSO writes it.  Port B has
 * two queue pairs and no GUEST_TSO4/6: it must receive gso_size-sized
 * segments, checked on the bytes (lengths, IPv4 total length / id / header
 * checksum, IPv6 payload length, sequence numbers, FIN / PSH / CWR, the TCP
 * checksum verified by the tests' own routine, the reassembled payload).
 * Variants: B without GUEST_CSUM (complete checksums, flags 0) and with it
 * (partial checksums, NEEDS_CSUM, completed here as a guest would).
 *
 * Multi-queue: B sends VQ_PAIRS_SET over its control queue.  With one pair
 * active every frame arrives on pair 0 and none on pair 1; with two, 64 UDP
 * flows spread over both pairs, every flow on one pair only and in order;
 * back to one, pair 1 is silent again.
 */
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "vuser.h"
#include "pvtest.h"

#define QSIZE 256
#define RX_BUF 2048
#define NTX 4
#define TX_BUF (12 + PVIOD_FRAME_MAX_T)
#define PVIOD_FRAME_MAX_T (65535 + 14 + 4)
#define MSS4 1448
#define MSS6 1428
#define NFLOWS 64u
#define PER_FLOW 4u

static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 0, 0x0b };

/* A driver of our own over the library's device: npairs pairs, optional control queue. */
struct drv {
	struct vuser_dev dev;
	unsigned int npairs;
	bool open;
	uint8_t *rxbufs; /* npairs * QSIZE buffers of RX_BUF */
	uint8_t *txbufs; /* NTX buffers of TX_BUF, for pair 0 */
	uint8_t *tx_free[NTX]; /* stack of free transmit buffers */
	unsigned int tx_nfree;
	struct vuser_queue *ctrl;
	uint8_t *ctrlbuf;
};

static struct vuser_queue *rxq(struct drv *d, unsigned int pair)
{
	return &d->dev.queues[2 * pair];
}

static struct vuser_queue *txq(struct drv *d, unsigned int pair)
{
	return &d->dev.queues[2 * pair + 1];
}

static int post_rx(struct drv *d, unsigned int pair, uint8_t *buf)
{
	struct pvring_sg sg = { vuser_mem_gpa(&d->dev.mem, buf), RX_BUF };

	return pvring_drv_add(&rxq(d, pair)->ring, &sg, 0, 1, buf);
}

static int drv_open(struct drv *d, const char *sock, uint64_t features, unsigned int npairs,
		    bool ctrl)
{
	struct vuser_dev_opts o = {
		.socket_path = sock,
		.device_id = PVIO_ID_NET,
		.timeout_ms = 5000,
		.features = PVIO_BIT(PVIO_F_EVENT_IDX) | features |
			    (ctrl ? PVIO_BIT(PVIO_NET_F_CTRL_VQ) : 0),
		.required = features | (ctrl ? PVIO_BIT(PVIO_NET_F_CTRL_VQ) : 0),
		.num_queues = 2 * npairs + (ctrl ? 1 : 0),
		.queue_pairs = true,
		.queue_size = QSIZE,
		.mem_size = (size_t)npairs * QSIZE * RX_BUF + (size_t)NTX * TX_BUF + 8192,
	};
	unsigned int p, i;
	int r;

	memset(d, 0, sizeof(*d));
	r = vuser_dev_open(&d->dev, &o);
	if (r)
		return r;
	d->open = true;
	d->npairs = npairs;
	d->rxbufs = vuser_mem_alloc(&d->dev.mem, (size_t)npairs * QSIZE * RX_BUF, 64);
	d->txbufs = vuser_mem_alloc(&d->dev.mem, (size_t)NTX * TX_BUF, 64);
	if (ctrl) {
		d->ctrl = &d->dev.queues[2 * npairs];
		d->ctrlbuf = vuser_mem_alloc(&d->dev.mem, 64, 64);
	}
	if (!d->rxbufs || !d->txbufs || (ctrl && !d->ctrlbuf))
		return -ENOMEM;
	for (i = 0; i < NTX; i++)
		d->tx_free[d->tx_nfree++] = d->txbufs + (size_t)i * TX_BUF;
	for (p = 0; p < npairs; p++) {
		for (i = 0; i < QSIZE; i++) {
			r = post_rx(d, p, d->rxbufs + ((size_t)p * QSIZE + i) * RX_BUF);
			if (r)
				return r;
		}
		vuser_queue_kick(rxq(d, p));
	}
	return 0;
}

static void drv_close(struct drv *d)
{
	if (d->open)
		vuser_dev_close(&d->dev);
	d->open = false;
}

/* Send one frame behind header @h on pair 0; waits for a free buffer. */
static int drv_send(struct drv *d, const struct pvio_net_hdr *h, const void *frame, size_t len)
{
	struct pvring_sg sg;
	uint8_t *buf;
	uint32_t ulen;
	int r;

	if (12 + len > TX_BUF)
		return -EMSGSIZE;
	for (;;) {
		while ((buf = pvring_drv_get_used(&txq(d, 0)->ring, &ulen)))
			d->tx_free[d->tx_nfree++] = buf;
		if (d->tx_nfree)
			break;
		r = vuser_queue_wait(txq(d, 0), -1);
		if (r)
			return r;
	}
	buf = d->tx_free[--d->tx_nfree];
	memcpy(buf, h, 12);
	memcpy(buf + 12, frame, len);
	sg.addr = vuser_mem_gpa(&d->dev.mem, buf);
	sg.len = (uint32_t)(12 + len);
	r = pvring_drv_add(&txq(d, 0)->ring, &sg, 1, 0, buf);
	if (r) {
		d->tx_nfree++;
		return r;
	}
	vuser_queue_kick(txq(d, 0));
	return 0;
}

/* One frame from @pair's receive queue; its header into @h.  -ETIMEDOUT when none came. */
static int drv_recv(struct drv *d, unsigned int pair, struct pvio_net_hdr *h, uint8_t *out,
		    size_t cap, int timeout_ms)
{
	struct vuser_queue *q = rxq(d, pair);
	uint8_t *buf;
	uint32_t len;
	int r;

	while (!(buf = pvring_drv_get_used(&q->ring, &len))) {
		r = vuser_queue_wait(q, timeout_ms);
		if (r)
			return r;
	}
	if (len < 12 || len - 12 > cap) {
		post_rx(d, pair, buf);
		return -EPROTO;
	}
	memcpy(h, buf, 12);
	memcpy(out, buf + 12, len - 12);
	post_rx(d, pair, buf);
	vuser_queue_kick(q);
	return (int)(len - 12);
}

static int drv_ctrl(struct drv *d, uint8_t cls, uint8_t cmd, const void *data, size_t len)
{
	struct pvring_sg sg[2];
	uint8_t *ack = d->ctrlbuf + 2 + len;
	uint32_t ulen;
	int r;

	d->ctrlbuf[0] = cls;
	d->ctrlbuf[1] = cmd;
	memcpy(d->ctrlbuf + 2, data, len);
	*ack = 0xff;
	sg[0] = (struct pvring_sg){ vuser_mem_gpa(&d->dev.mem, d->ctrlbuf), (uint32_t)(2 + len) };
	sg[1] = (struct pvring_sg){ vuser_mem_gpa(&d->dev.mem, ack), 1 };
	r = pvring_drv_add(&d->ctrl->ring, sg, 1, 1, d->ctrlbuf);
	if (r)
		return r;
	vuser_queue_kick(d->ctrl);
	while (!pvring_drv_get_used(&d->ctrl->ring, &ulen)) {
		r = vuser_queue_wait(d->ctrl, -1);
		if (r)
			return r;
	}
	return READ_ONCE(*ack) == PVIO_NET_OK ? 0 : -EPROTO;
}

static int pairs_set(struct drv *d, uint16_t n)
{
	uint16_t le = cpu_to_le16(n);

	return drv_ctrl(d, PVIO_NET_CTRL_MQ, PVIO_NET_CTRL_MQ_VQ_PAIRS_SET, &le, 2);
}

/* --- frames (the reference checksum: tests/lib/frame.c) ---------------------------- */

#define TCP_HLEN 32 /* with a timestamp option, as Linux sends */

static uint8_t pay(size_t i)
{
	return (uint8_t)(i * 13 + (i >> 9));
}

/*
 * A super-frame from A to B as Linux's TSO hands it to virtio-net: the TCP
 * checksum field holds the pseudo-header sum, NEEDS_CSUM names it.
 */
static size_t super_frame(uint8_t *f, struct pvio_net_hdr *h, bool v6, size_t payload, uint32_t seq)
{
	unsigned int l3 = 14, l4 = v6 ? 54 : 34, i;
	uint8_t *ip = f + l3, *th = f + l4;
	size_t len = l4 + TCP_HLEN + payload;

	pvt_eth_put(f, mac_b, mac_a, -1, v6 ? 0x86dd : 0x0800);
	if (!v6) {
		memset(ip, 0, 20);
		ip[0] = 0x45;
		pvt_be16_put(ip + 2, (unsigned int)(len - l3 > 0xffff ? 0 : len - l3));
		pvt_be16_put(ip + 4, 0x1234);
		pvt_be16_put(ip + 6, 0x4000);
		ip[8] = 64;
		ip[9] = 6;
		ip[12] = 192, ip[13] = 168, ip[14] = 7, ip[15] = 1;
		ip[16] = 192, ip[17] = 168, ip[18] = 7, ip[19] = 2;
		pvt_be16_put(ip + 10, (uint16_t)~pvt_csum_fold(pvt_csum_add(0, ip, 20)));
	} else {
		memset(ip, 0, 40);
		ip[0] = 0x60;
		pvt_be16_put(ip + 4, (unsigned int)(len - l4));
		ip[6] = 6;
		ip[7] = 64;
		ip[8] = 0xfd;
		ip[23] = 1;
		ip[24] = 0xfd;
		ip[39] = 2;
	}
	memset(th, 0, TCP_HLEN);
	pvt_be16_put(th, 44444);
	pvt_be16_put(th + 2, 5201);
	th[4] = (uint8_t)(seq >> 24);
	th[5] = (uint8_t)(seq >> 16);
	th[6] = (uint8_t)(seq >> 8);
	th[7] = (uint8_t)seq;
	th[11] = 1;
	th[12] = TCP_HLEN / 4 << 4;
	th[13] = 0x80 | 0x10 | 0x08 | 0x01; /* CWR ACK PSH FIN */
	pvt_be16_put(th + 14, 512);
	th[20] = 1, th[21] = 1, th[22] = 8, th[23] = 10; /* NOP NOP timestamp */
	for (i = 0; i < payload; i++)
		f[l4 + TCP_HLEN + i] = pay(i);
	pvt_be16_put(th + 16, pvt_csum_fold(pvt_tcp_pseudo_sum(f + 14, v6, len - l4)));
	memset(h, 0, sizeof(*h));
	h->flags = PVIO_NET_HDR_F_NEEDS_CSUM;
	h->gso_type = v6 ? PVIO_NET_HDR_GSO_TCPV6 : PVIO_NET_HDR_GSO_TCPV4;
	h->gso_size = cpu_to_le16(v6 ? MSS6 : MSS4);
	h->hdr_len = cpu_to_le16((uint16_t)(l4 + TCP_HLEN));
	h->csum_start = cpu_to_le16((uint16_t)l4);
	h->csum_offset = cpu_to_le16(16);
	return len;
}

/* A UDP frame of flow @flow (source port), numbered @n in its payload. */
static size_t udp_frame(uint8_t *f, unsigned int flow, unsigned int n)
{
	uint8_t *ip = f + 14;

	memset(f, 0, 80);
	pvt_eth_put(f, mac_b, mac_a, -1, 0x0800);
	ip[0] = 0x45;
	pvt_be16_put(ip + 2, 66);
	ip[8] = 64;
	ip[9] = 17;
	ip[12] = 192, ip[13] = 168, ip[14] = 7, ip[15] = 1;
	ip[16] = 192, ip[17] = 168, ip[18] = 7, ip[19] = 2;
	pvt_be16_put(ip + 10, (uint16_t)~pvt_csum_fold(pvt_csum_add(0, ip, 20)));
	pvt_be16_put(ip + 20, 20000 + flow);
	pvt_be16_put(ip + 22, 7);
	pvt_be16_put(ip + 24, 46);
	f[42] = (uint8_t)flow;
	f[43] = (uint8_t)n;
	return 80;
}

/* --- fixture ---------------------------------------------------------------------- */

FIXTURE(sw)
{
	char dir[64], sock_a[128], sock_b[128], log[128];
	struct pvt_pviod pviod;
	struct drv a, b;
};

FIXTURE_VARIANT(sw)
{
	bool guest_csum; /* B negotiates GUEST_CSUM: partial checksums */
};

/* clang-format would glue the brace to the macro, which checkpatch rejects. */
/* clang-format off */
FIXTURE_VARIANT_ADD(sw, csum_full) { .guest_csum = false };
FIXTURE_VARIANT_ADD(sw, csum_partial) { .guest_csum = true };
/* clang-format on */

FIXTURE_SETUP(sw)
{
	char da[300], db[300];
	const char *const args[] = { "--device", da, "--device", db, NULL };
	uint64_t fb = PVIO_BIT(PVIO_NET_F_MQ) |
		      (variant->guest_csum ? PVIO_BIT(PVIO_NET_F_GUEST_CSUM) : 0);

	snprintf(self->dir, sizeof(self->dir), "/tmp/pvio-vu-sw.%d", getpid());
	mkdir(self->dir, 0700);
	snprintf(self->sock_a, sizeof(self->sock_a), "%s/a.sock", self->dir);
	snprintf(self->sock_b, sizeof(self->sock_b), "%s/b.sock", self->dir);
	snprintf(self->log, sizeof(self->log), "%s/pviod.log", self->dir);
	if (pvt_pviod_find(&self->pviod))
		SKIP(return, "pviod not built (%.180s); set PVIOD=path", self->pviod.bin);
	snprintf(da, sizeof(da), "net,socket=%s,backend=switch:sw%d,mac=02:00:00:00:00:0a",
		 self->sock_a, getpid());
	snprintf(db, sizeof(db), "net,socket=%s,backend=switch:sw%d,mac=02:00:00:00:00:0b,queues=2",
		 self->sock_b, getpid());
	/* Each of the two sockets within 10 s. */
	ASSERT_EQ(0, pvt_pviod_start(&self->pviod, self->log, args, 10000));
	ASSERT_EQ(0, drv_open(&self->a, self->sock_a,
			      PVIO_BIT(PVIO_NET_F_CSUM) | PVIO_BIT(PVIO_NET_F_HOST_TSO4) |
				      PVIO_BIT(PVIO_NET_F_HOST_TSO6),
			      1, false))
	TH_LOG("%s", vuser_dev_errmsg(&self->a.dev));
	ASSERT_EQ(0, drv_open(&self->b, self->sock_b, fb, 2, true))
	TH_LOG("%s", vuser_dev_errmsg(&self->b.dev));
	/* B did not negotiate TSO: pviod must not think it did. */
	ASSERT_FALSE(vuser_dev_has(&self->b.dev, PVIO_NET_F_GUEST_TSO4));
}

FIXTURE_TEARDOWN(sw)
{
	drv_close(&self->b);
	drv_close(&self->a);
	if (self->pviod.pid > 0) {
		pvt_pviod_stop(&self->pviod, PVT_STOP_MS);
		pvt_dump_log(self->log);
	}
	unlink(self->sock_a);
	unlink(self->sock_b);
	unlink(self->log);
	rmdir(self->dir);
}

static uint8_t sframe[PVIOD_FRAME_MAX_T], rframe[RX_BUF], reasm[PVIOD_FRAME_MAX_T];

/*
 * A sends one super-frame; B must get it as segments, on one pair, in order,
 * each correct on the bytes.  @pair: where they are expected (-1: either).
 */
static void tso_roundtrip(struct __test_metadata *_metadata, FIXTURE_DATA(sw) * self,
			  const FIXTURE_VARIANT(sw) * variant, bool v6, size_t payload, int pair)
{
	const unsigned int l3 = 14, l4 = v6 ? 54 : 34, hl = l4 + TCP_HLEN;
	const unsigned int mss = v6 ? MSS6 : MSS4;
	const uint32_t seq0 = 0xfffff000u; /* wraps within the super-frame */
	unsigned int nseg = (unsigned int)((payload + mss - 1) / mss), i, got_pair = 0;
	struct pvio_net_hdr h, rh;
	size_t len = super_frame(sframe, &h, v6, payload, seq0), done = 0;
	int n;

	ASSERT_EQ(0, drv_send(&self->a, &h, sframe, len))
	TH_LOG("%s", vuser_dev_errmsg(&self->a.dev));
	for (i = 0; i < nseg; i++) {
		size_t plen = payload - done < mss ? payload - done : mss;
		const uint8_t *ip = rframe + l3, *th = rframe + l4;
		uint8_t want_flags = 0x10;
		uint32_t sum;

		if (i == 0) {
			/* Find the pair the flow landed on: the first frame tells. */
			n = -ETIMEDOUT;
			for (int t = 0; t < 100 && n == -ETIMEDOUT; t++) {
				for (got_pair = 0; got_pair < 2; got_pair++) {
					n = drv_recv(&self->b, got_pair, &rh, rframe,
						     sizeof(rframe), 20);
					if (n != -ETIMEDOUT)
						break;
				}
			}
			if (pair >= 0)
				EXPECT_EQ((unsigned int)pair, got_pair);
		} else {
			n = drv_recv(&self->b, got_pair, &rh, rframe, sizeof(rframe), 3000);
		}
		ASSERT_EQ((int)(hl + plen), n)
		TH_LOG("segment %u of %u: %s", i, nseg, vuser_dev_errmsg(&self->b.dev));
		/* Headers: addresses and ports as sent. */
		EXPECT_EQ(0, memcmp(rframe, sframe, l3));
		EXPECT_EQ(0, memcmp(th, sframe + l4, 4));
		if (!v6) {
			EXPECT_EQ(n - l3, pvt_be16_get(ip + 2));
			EXPECT_EQ(0x1234 + i, pvt_be16_get(ip + 4));
			EXPECT_EQ(0xffff, pvt_csum_fold(pvt_csum_add(0, ip, 20)));
		} else {
			EXPECT_EQ(n - l4, pvt_be16_get(ip + 4));
		}
		EXPECT_EQ(seq0 + (uint32_t)done, pvt_be32_get(th + 4));
		if (i == 0)
			want_flags |= 0x80;
		if (i + 1 == nseg)
			want_flags |= 0x08 | 0x01;
		EXPECT_EQ(want_flags, th[13]) TH_LOG("segment %u flags", i);
		/* The virtio header and the TCP checksum. */
		EXPECT_EQ(PVIO_NET_HDR_GSO_NONE, rh.gso_type);
		EXPECT_EQ(1, le16_to_cpu(rh.num_buffers));
		if (variant->guest_csum) {
			size_t cs = le16_to_cpu(rh.csum_start);

			ASSERT_EQ(PVIO_NET_HDR_F_NEEDS_CSUM, rh.flags);
			ASSERT_EQ(l4, cs);
			ASSERT_EQ(16, le16_to_cpu(rh.csum_offset));
			sum = pvt_csum_add(0, rframe + cs, (size_t)n - cs);
			pvt_be16_put(rframe + cs + 16, (uint16_t)~pvt_csum_fold(sum));
		} else {
			EXPECT_EQ(0, rh.flags);
		}
		sum = pvt_tcp_pseudo_sum(ip, v6, (size_t)n - l4);
		EXPECT_EQ(0xffff, pvt_csum_fold(pvt_csum_add(sum, th, (size_t)n - l4)))
		TH_LOG("segment %u: TCP checksum", i);
		memcpy(reasm + done, rframe + hl, plen);
		done += plen;
	}
	EXPECT_EQ(0, memcmp(reasm, sframe + hl, payload));
	/* Nothing more, on either pair. */
	EXPECT_EQ(-ETIMEDOUT, drv_recv(&self->b, 0, &rh, rframe, sizeof(rframe), 100));
	EXPECT_EQ(-ETIMEDOUT, drv_recv(&self->b, 1, &rh, rframe, sizeof(rframe), 100));
}

TEST_F(sw, tso4_segmented)
{
	/* 14 + 20 + 32 + 65000: 45 segments, the last one of 1280 bytes. */
	tso_roundtrip(_metadata, self, variant, false, 65000, 0);
	/* An odd-length last segment. */
	tso_roundtrip(_metadata, self, variant, false, 3 * MSS4 + 333, 0);
}

TEST_F(sw, tso6_segmented)
{
	tso_roundtrip(_metadata, self, variant, true, 65535 - 40 - TCP_HLEN, 0);
	tso_roundtrip(_metadata, self, variant, true, MSS6 + 1, 0);
}

/* Send PER_FLOW frames of each of NFLOWS flows, interleaved. */
static int send_flows(struct drv *a)
{
	struct pvio_net_hdr h = { 0 };
	uint8_t f[80];
	unsigned int i, k;
	int r;

	for (k = 0; k < PER_FLOW; k++) {
		for (i = 0; i < NFLOWS; i++) {
			r = drv_send(a, &h, f, udp_frame(f, i, k));
			if (r)
				return r;
		}
	}
	return 0;
}

/* Receive every flow's frames; per flow: the pair it came on (-1: none yet) and count. */
static int recv_flows(struct drv *b, int *flow_pair, unsigned int *per_pair)
{
	unsigned int next[NFLOWS] = { 0 }, total = 0, p;
	struct pvio_net_hdr rh;
	int n, idle = 0;

	for (p = 0; p < NFLOWS; p++)
		flow_pair[p] = -1;
	per_pair[0] = 0;
	per_pair[1] = 0;
	while (total < NFLOWS * PER_FLOW && idle < 300) {
		bool any = false;

		for (p = 0; p < 2; p++) {
			n = drv_recv(b, p, &rh, rframe, sizeof(rframe), 5);
			if (n == -ETIMEDOUT)
				continue;
			if (n != 80)
				return n < 0 ? n : -EPROTO;
			any = true;
			if (rframe[42] >= NFLOWS)
				return -EPROTO;
			if (flow_pair[rframe[42]] >= 0 && flow_pair[rframe[42]] != (int)p)
				return -EXDEV; /* a flow on two pairs */
			if (rframe[43] != next[rframe[42]]++)
				return -EILSEQ; /* out of order within its flow */
			flow_pair[rframe[42]] = (int)p;
			per_pair[p]++;
			total++;
		}
		idle = any ? 0 : idle + 1;
	}
	return total == NFLOWS * PER_FLOW ? 0 : -ETIMEDOUT;
}

TEST_F(sw, flows_spread_over_active_pairs)
{
	int flow_pair[NFLOWS];
	unsigned int per_pair[2], i, on1 = 0;
	struct pvio_net_hdr rh;

	/* No VQ_PAIRS_SET yet: one pair active, pair 1 gets nothing. */
	ASSERT_EQ(0, send_flows(&self->a)) TH_LOG("%s", vuser_dev_errmsg(&self->a.dev));
	ASSERT_EQ(0, recv_flows(&self->b, flow_pair, per_pair));
	EXPECT_EQ(NFLOWS * PER_FLOW, per_pair[0]);
	EXPECT_EQ(0u, per_pair[1]);

	/* Two pairs: the flows spread, each on one pair, in order. */
	ASSERT_EQ(0, pairs_set(&self->b, 2)) TH_LOG("%s", vuser_dev_errmsg(&self->b.dev));
	ASSERT_EQ(0, send_flows(&self->a));
	ASSERT_EQ(0, recv_flows(&self->b, flow_pair, per_pair));
	for (i = 0; i < NFLOWS; i++)
		on1 += flow_pair[i] == 1;
	TH_LOG("%u of %u flows on pair 1", on1, NFLOWS);
	EXPECT_LT(8u, on1);
	EXPECT_GT(NFLOWS - 8u, on1);
	EXPECT_EQ(on1 * PER_FLOW, per_pair[1]);
	/* A TCP super-frame is one flow too: all its segments on one pair. */
	tso_roundtrip(_metadata, self, variant, false, 20000, -1);

	/* Pairs out of range are refused; back to one: pair 1 is silent again. */
	EXPECT_EQ(-EPROTO, pairs_set(&self->b, 3));
	EXPECT_EQ(-EPROTO, pairs_set(&self->b, 0));
	ASSERT_EQ(0, pairs_set(&self->b, 1));
	ASSERT_EQ(0, send_flows(&self->a));
	ASSERT_EQ(0, recv_flows(&self->b, flow_pair, per_pair));
	EXPECT_EQ(NFLOWS * PER_FLOW, per_pair[0]);
	EXPECT_EQ(0u, per_pair[1]);
	EXPECT_EQ(-ETIMEDOUT, drv_recv(&self->b, 1, &rh, rframe, sizeof(rframe), 100));
}

TEST_HARNESS_MAIN
