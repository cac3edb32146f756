// SPDX-License-Identifier: GPL-2.0
/*
 * net_announce_test - SEND_RARP (PROTOCOL_F_RARP), the announce after a
 * migration, against a running pviod whose net devices are driven by raw
 * vhost-user front-ends (tests/lib/raw.h), as QEMU sends it on the
 * destination for a guest without VIRTIO_NET_F_GUEST_ANNOUNCE.
 *
 *   loop
 *       the RARP request comes back on the loop device's receive queue:
 *       header, then the 60 bytes of a broadcast RARP request from the MAC.
 *   switch_learns
 *       three ports of one switch: the RARP is flooded to the two others,
 *       and the switch learned the MAC's port: a frame sent to it from
 *       port b reaches a only (before the announce it was flooded to c too).
 *   offered_to_net_only
 *       a net device offers RARP; a blk device does not, refuses it in
 *       SET_PROTOCOL_FEATURES and SEND_RARP without it.
 *   bad_payloads
 *       a short payload, a multicast, the broadcast and the zero address
 *       are malformed: the connection is closed with a message naming the
 *       address, pviod lives on and takes the next front-end.
 *
 * tap-run: timeout=60
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "pvtest.h"
#include "raw.h"
#include "virtio_net.h"

#define PROTO (PVIO_BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK) | PVIO_BIT(VHOST_USER_PROTOCOL_F_RARP))
#define FEATURES (PVIO_BIT(PVIO_F_VERSION_1) | PVIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES))
#define MEM_BYTES (1u << 20)
#define NUM 8
#define RX_BUF_GPA 0x10000 /* NUM receive buffers of RX_BUF_LEN */
#define RX_BUF_LEN 2048
#define TX_BUF_GPA 0x20000
#define HDR_LEN 12
#define DEVS 4 /* loop, switch a, b, c */

static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

/* What QEMU's announce looks like on the wire, written out byte by byte. */
static const uint8_t rarp_want[60] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, /* dst, src */
	0x80, 0x35, /* ethertype RARP */
	0x00, 0x01, 0x08, 0x00, 6,    4,    0x00, 0x03, /* Ethernet, IPv4, 6, 4, reverse request */
	0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0,	  0,	0,    0, /* sender MAC, IP 0 */
	0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0,	  0,	0,    0, /* target MAC, IP 0 */
	/* 18 bytes of padding, zero */
};

FIXTURE(announce)
{
	char dir[64];
	char sock[DEVS][128];
	char blk_sock[128], img[128], log[128];
	struct pvt_pviod pv;
	struct raw fe[DEVS];
};

FIXTURE_SETUP(announce)
{
	static const char *const names[DEVS] = { "l", "a", "b", "c" };
	char spec[DEVS][256], blk[512];
	const char *const args[] = { "--workers", "2",	      "--device", spec[0],    "--device",
				     spec[1],	  "--device", spec[2],	  "--device", spec[3],
				     "--device",  blk,	      NULL };
	int i, ret;

	signal(SIGPIPE, SIG_IGN);
	snprintf(self->dir, sizeof(self->dir), "/tmp/pvio-announce.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	for (i = 0; i < DEVS; i++) {
		snprintf(self->sock[i], sizeof(self->sock[i]), "%s/%s.sock", self->dir, names[i]);
		snprintf(spec[i], sizeof(spec[i]), "net,id=%s,socket=%s,backend=%s", names[i],
			 self->sock[i], i ? "switch:announce" : "loop");
		raw_init(&self->fe[i]);
	}
	snprintf(self->img, sizeof(self->img), "%s/d.img", self->dir);
	snprintf(self->blk_sock, sizeof(self->blk_sock), "%s/d.sock", self->dir);
	ASSERT_EQ(0, pvt_image_create(self->img, 1 << 20));
	snprintf(blk, sizeof(blk), "blk,id=d,socket=%s,file=%s,direct=off", self->blk_sock,
		 self->img);
	snprintf(self->log, sizeof(self->log), "%s/pviod.log", self->dir);
	ret = pvt_pviod_start(&self->pv, self->log, args, 10000);
	if (ret == -ENOENT)
		SKIP(return, "pviod not built");
	ASSERT_EQ(0, ret);
	for (i = 0; i < DEVS; i++)
		ASSERT_EQ(0, pvt_wait_socket(self->sock[i], self->pv.pid, 10000));
	ASSERT_EQ(0, pvt_wait_socket(self->blk_sock, self->pv.pid, 10000));
}

FIXTURE_TEARDOWN(announce)
{
	int i, status;

	for (i = 0; i < DEVS; i++)
		raw_close(&self->fe[i]);
	if (!self->pv.pid)
		return;
	status = pvt_pviod_stop(&self->pv, 10000);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		pvt_dump_log(self->log);
	if (pvt_rmtree(self->dir))
		TH_LOG("could not remove %s", self->dir);
}

/*
 * Connect, negotiate, map memory, start rx0 with NUM buffers posted and
 * tx0 empty.  Return: 0, or which step failed.
 */
static int fe_start(struct raw *r, const char *sock)
{
	struct raw_vq *rx = &r->vq[0];
	unsigned int i;

	if (raw_connect(r, sock))
		return 1;
	if (raw_negotiate(r, PROTO, FEATURES))
		return 2;
	if (raw_mem(r, MEM_BYTES, 1))
		return 3;
	if (raw_vring(r, 0, NUM, 0, 0x0000, 0x1000, 0x2000) ||
	    raw_vring(r, 1, NUM, 0, 0x3000, 0x4000, 0x5000))
		return 4;
	for (i = 0; i < NUM; i++) {
		raw_desc_set(&rx->desc[i], RX_BUF_GPA + i * RX_BUF_LEN, RX_BUF_LEN,
			     PVRING_DESC_F_WRITE, 0);
		raw_avail_add(rx, (uint16_t)i);
	}
	raw_avail_publish(rx);
	raw_kick(rx);
	return 0;
}

/* SEND_RARP for @mac (@size bytes of payload), acked: the ack, or -errno. */
static long send_rarp(struct raw *r, const uint8_t *mac, uint32_t size)
{
	uint64_t v = 0;

	memcpy(&v, mac, 6);
	return raw_ack(r, VHOST_USER_SEND_RARP, &v, size, NULL, 0);
}

/* The frame received in used slot @slot of rx0 (after its header); its length in *@len. */
static const uint8_t *rx_frame(struct raw *r, uint16_t slot, uint32_t *len)
{
	struct pvring_used_elem *e = &r->vq[0].used->ring[slot % NUM];
	uint32_t id = le32_to_cpu(e->id);

	*len = le32_to_cpu(e->len);
	if (id >= NUM || *len < HDR_LEN)
		return NULL;
	*len -= HDR_LEN;
	return r->mem + RX_BUF_GPA + id * RX_BUF_LEN + HDR_LEN;
}

/* Does the log say @what (within a second: pviod logs as it goes)? */
static bool log_has(const char *log, const char *what)
{
	char cmd[512];
	int i;

	snprintf(cmd, sizeof(cmd), "grep -qF -- '%s' %s", what, log);
	for (i = 0; i < 20; i++) {
		if (system(cmd) == 0)
			return true;
		usleep(50 * 1000);
	}
	return false;
}

TEST_F(announce, loop)
{
	struct raw *r = &self->fe[0];
	const uint8_t *f;
	uint32_t len;
	uint8_t hdr[HDR_LEN], zero[HDR_LEN - 2] = { 0 };

	ASSERT_EQ(0, fe_start(r, self->sock[0]));
	ASSERT_EQ(0, send_rarp(r, guest_mac, 8));
	ASSERT_TRUE(raw_used_wait(&r->vq[0], 1));
	EXPECT_TRUE(raw_fired(r->vq[0].call, RAW_WAIT_MS));
	f = rx_frame(r, 0, &len);
	ASSERT_NE(NULL, f);
	ASSERT_EQ(sizeof(rarp_want), len);
	EXPECT_EQ(0, memcmp(f, rarp_want, sizeof(rarp_want)));
	/* A plain header: no offload, one buffer. */
	memcpy(hdr, f - HDR_LEN, HDR_LEN);
	EXPECT_EQ(0, memcmp(hdr, zero, sizeof(zero)));
	EXPECT_EQ(1, hdr[10] | hdr[11] << 8);
	/* QEMU repeats the announce: each one is a frame. */
	ASSERT_EQ(0, send_rarp(r, guest_mac, 8));
	ASSERT_TRUE(raw_used_wait(&r->vq[0], 2));
	f = rx_frame(r, 1, &len);
	ASSERT_NE(NULL, f);
	EXPECT_EQ(0, memcmp(f, rarp_want, sizeof(rarp_want)));
	EXPECT_TRUE(log_has(self->log, "l: announced 52:54:00:12:34:56 through loop"));
}

/* Port @from sends one frame to @dst (a tx chain: header, then the frame). */
static void tx_to(struct raw *r, const uint8_t *dst, const uint8_t *src)
{
	struct raw_vq *tx = &r->vq[1];
	uint16_t head = tx->avail_idx % NUM;
	uint8_t *b = r->mem + TX_BUF_GPA + head * 256;

	memset(b, 0, HDR_LEN + 64);
	pvt_eth_put(b + HDR_LEN, dst, src, -1, 0x88b5); /* local experimental ethertype */
	memcpy(b + HDR_LEN + 14, "announce", 8);
	raw_desc_set(&tx->desc[head], TX_BUF_GPA + head * 256, HDR_LEN + 64, 0, 0);
	raw_avail_add(tx, head);
	raw_avail_publish(tx);
	raw_kick(tx);
}

TEST_F(announce, switch_learns)
{
	static const uint8_t b_mac[6] = { 0x02, 0, 0, 0, 0, 0x0b };
	struct raw *a = &self->fe[1], *b = &self->fe[2], *c = &self->fe[3];
	const uint8_t *f;
	uint32_t len;

	ASSERT_EQ(0, fe_start(a, self->sock[1]));
	ASSERT_EQ(0, fe_start(b, self->sock[2]));
	ASSERT_EQ(0, fe_start(c, self->sock[3]));
	/* Before: the switch does not know guest_mac, so b's frame to it floods. */
	tx_to(b, guest_mac, b_mac);
	ASSERT_TRUE(raw_used_wait(&a->vq[0], 1));
	ASSERT_TRUE(raw_used_wait(&c->vq[0], 1));

	ASSERT_EQ(0, send_rarp(a, guest_mac, 8));
	ASSERT_TRUE(raw_used_wait(&b->vq[0], 1));
	ASSERT_TRUE(raw_used_wait(&c->vq[0], 2));
	f = rx_frame(b, 0, &len);
	ASSERT_NE(NULL, f);
	ASSERT_EQ(sizeof(rarp_want), len);
	EXPECT_EQ(0, memcmp(f, rarp_want, sizeof(rarp_want)));
	f = rx_frame(c, 1, &len);
	ASSERT_NE(NULL, f);
	ASSERT_EQ(sizeof(rarp_want), len);
	EXPECT_EQ(0, memcmp(f, rarp_want, sizeof(rarp_want)));
	/* Not back to the port it came from. */
	usleep(100 * 1000);
	EXPECT_EQ(1, raw_used_idx(&a->vq[0]));

	/* After: the switch learned a's port, the frame goes there only. */
	tx_to(b, guest_mac, b_mac);
	ASSERT_TRUE(raw_used_wait(&a->vq[0], 2));
	f = rx_frame(a, 1, &len);
	ASSERT_NE(NULL, f);
	EXPECT_EQ(0, memcmp(f, guest_mac, 6));
	EXPECT_EQ(0, memcmp(f + 14, "announce", 8));
	usleep(100 * 1000);
	EXPECT_EQ(2, raw_used_idx(&c->vq[0]));
}

TEST_F(announce, offered_to_net_only)
{
	uint64_t pf = 0, v = 0;
	struct raw d;

	ASSERT_EQ(0, raw_connect(&self->fe[0], self->sock[0]));
	ASSERT_EQ(0, raw_get_u64(&self->fe[0], VHOST_USER_GET_PROTOCOL_FEATURES, &pf));
	EXPECT_TRUE(pf & PVIO_BIT(VHOST_USER_PROTOCOL_F_RARP));

	raw_init(&d);
	ASSERT_EQ(0, raw_connect(&d, self->blk_sock));
	ASSERT_EQ(0, raw_get_u64(&d, VHOST_USER_GET_PROTOCOL_FEATURES, &pf));
	EXPECT_FALSE(pf & PVIO_BIT(VHOST_USER_PROTOCOL_F_RARP));
	EXPECT_TRUE(pf & PVIO_BIT(VHOST_USER_PROTOCOL_F_LOG_SHMFD));
	/* Not negotiable there: refused, and the connection with it. */
	pf = PROTO;
	ASSERT_EQ(0, raw_send(&d, VHOST_USER_SET_PROTOCOL_FEATURES, 0, &pf, 8, NULL, 0));
	EXPECT_TRUE(raw_closed(&d));
	raw_close(&d);
	/* Nor usable without it. */
	raw_init(&d);
	ASSERT_EQ(0, raw_connect(&d, self->blk_sock));
	ASSERT_EQ(0, raw_send(&d, VHOST_USER_SEND_RARP, 0, &v, 8, NULL, 0));
	EXPECT_TRUE(raw_closed(&d));
	raw_close(&d);
	EXPECT_TRUE(log_has(self->log, "SEND_RARP without its protocol feature"));
}

TEST_F(announce, bad_payloads)
{
	static const uint8_t bad[][6] = {
		{ 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 }, /* multicast */
		{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, /* broadcast */
		{ 0 },
	};
	static const char *const msgs[] = {
		"SEND_RARP for 01:00:5e:00:00:01: not a unicast address",
		"SEND_RARP for ff:ff:ff:ff:ff:ff: not a unicast address",
		"SEND_RARP for 00:00:00:00:00:00: not a unicast address",
	};
	struct raw *r = &self->fe[0];
	unsigned int i;

	/* The wrong size (the MAC alone): malformed. */
	ASSERT_EQ(0, fe_start(r, self->sock[0]));
	EXPECT_GT(0, send_rarp(r, guest_mac, 6));
	EXPECT_TRUE(log_has(self->log, "SEND_RARP with a payload of 6 bytes, expected 8"));
	raw_close(r);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		raw_init(r);
		ASSERT_EQ(0, fe_start(r, self->sock[0]));
		EXPECT_GT(0, send_rarp(r, bad[i], 8));
		EXPECT_TRUE(log_has(self->log, msgs[i]));
		/* Nothing was sent. */
		EXPECT_EQ(0, raw_used_idx(&r->vq[0]));
		raw_close(r);
	}
	/* pviod goes on: the next front-end announces. */
	raw_init(r);
	ASSERT_EQ(0, fe_start(r, self->sock[0]));
	ASSERT_EQ(0, send_rarp(r, guest_mac, 8));
	ASSERT_TRUE(raw_used_wait(&r->vq[0], 1));
}

TEST_HARNESS_MAIN
