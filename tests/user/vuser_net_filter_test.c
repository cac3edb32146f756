// SPDX-License-Identifier: GPL-2.0
/*
 * vuser_net_filter_test - pviod's receive filter, programmed through the
 * control queue by the userspace driver (vuser_net_ctrl()).  Two ports of one
 * pviod switch: port A (control queue, filter programmed) and port B (no
 * control queue) which sends.  A frame to a MAC nobody has is flooded to A:
 * A takes it while it never sent a command (today's behaviour, and QEMU's),
 * not once it set a MAC table, again with PROMISC on or the address in its
 * unicast table; broadcast always arrives (until NOBCAST).  Malformed
 * commands get PVIO_NET_ERR and change nothing.  pviod counts the frames it
 * filtered and exits 0.
 */
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "vuser.h"
#include "pvtest.h"

static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 0, 0x0b };
static const uint8_t mac_x[6] = { 0x02, 0, 0, 0, 0, 0x99 }; /* nobody's */
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

FIXTURE(filt)
{
	char dir[64], sock_a[128], sock_b[128], log[128];
	struct pvt_pviod pviod;
	struct vuser_net a, b;
	bool a_open, b_open;
};

/* From B to @dst, tagged @tag (byte 14). */
static int send_b(struct vuser_net *b, const uint8_t *dst, uint8_t tag)
{
	uint8_t fr[60] = { 0 };
	int r;

	pvt_eth_put(fr, dst, mac_b, -1, 0x88b5); /* local experimental ethertype */
	fr[14] = tag;
	r = vuser_net_send(b, fr, sizeof(fr));
	if (!r)
		r = vuser_net_flush(b);
	return r;
}

/* The tag of the next frame A receives, or -ETIMEDOUT. */
static int recv_a(struct vuser_net *a, int timeout_ms)
{
	uint8_t fr[2048];
	int r;

	for (;;) {
		r = vuser_net_recv(a, fr, sizeof(fr));
		if (r >= 15)
			return fr[14];
		if (r != -EAGAIN)
			return r < 0 ? r : -EPROTO;
		r = vuser_net_wait_rx(a, timeout_ms);
		if (r)
			return r;
	}
}

static int table(struct vuser_net *n, const uint8_t *uc, uint32_t nuc)
{
	uint8_t buf[8 + 6 * 4];
	uint32_t le = cpu_to_le32(nuc);

	memcpy(buf, &le, 4);
	if (nuc) /* an empty table passes uc == NULL: no memcpy() from NULL */
		memcpy(buf + 4, uc, 6 * nuc);
	le = 0;
	memcpy(buf + 4 + 6 * nuc, &le, 4);
	return vuser_net_ctrl(n, PVIO_NET_CTRL_MAC, PVIO_NET_CTRL_MAC_TABLE_SET, buf, 8 + 6 * nuc);
}

static int rxmode(struct vuser_net *n, uint8_t cmd, uint8_t on)
{
	return vuser_net_ctrl(n, PVIO_NET_CTRL_RX, cmd, &on, 1);
}

FIXTURE_SETUP(filt)
{
	struct vuser_net_opts o = { .timeout_ms = 5000 };
	char da[300], db[300];
	const char *const args[] = { "--device", da, "--device", db, NULL };

	snprintf(self->dir, sizeof(self->dir), "/tmp/pvio-vu-filt.%d", getpid());
	mkdir(self->dir, 0700);
	snprintf(self->sock_a, sizeof(self->sock_a), "%s/a.sock", self->dir);
	snprintf(self->sock_b, sizeof(self->sock_b), "%s/b.sock", self->dir);
	snprintf(self->log, sizeof(self->log), "%s/pviod.log", self->dir);
	if (pvt_pviod_find(&self->pviod))
		SKIP(return, "pviod not built (%.180s); set PVIOD=path", self->pviod.bin);
	snprintf(da, sizeof(da), "net,socket=%s,backend=switch:filt%d,mac=02:00:00:00:00:0a",
		 self->sock_a, getpid());
	snprintf(db, sizeof(db), "net,socket=%s,backend=switch:filt%d,mac=02:00:00:00:00:0b",
		 self->sock_b, getpid());
	/* Each of the two sockets within 10 s. */
	ASSERT_EQ(0, pvt_pviod_start(&self->pviod, self->log, args, 10000));
	o.socket_path = self->sock_a;
	o.ctrl_vq = true;
	ASSERT_EQ(0, vuser_net_open(&self->a, &o)) TH_LOG("%s", vuser_dev_errmsg(&self->a.dev));
	self->a_open = true;
	o.socket_path = self->sock_b;
	o.ctrl_vq = false;
	ASSERT_EQ(0, vuser_net_open(&self->b, &o)) TH_LOG("%s", vuser_dev_errmsg(&self->b.dev));
	self->b_open = true;
}

FIXTURE_TEARDOWN(filt)
{
	if (self->b_open)
		vuser_net_close(&self->b);
	if (self->a_open)
		vuser_net_close(&self->a);
	if (self->pviod.pid > 0) {
		pvt_pviod_stop(&self->pviod, PVT_STOP_MS);
		pvt_dump_log(self->log);
	}
	unlink(self->sock_a);
	unlink(self->sock_b);
	unlink(self->log);
	rmdir(self->dir);
}

TEST_F(filt, unicast_refused_until_promisc)
{
	/* Never programmed: everything flooded to A arrives. */
	ASSERT_EQ(0, send_b(&self->b, mac_x, 1));
	ASSERT_EQ(1, recv_a(&self->a, 3000));

	/* Programmed: only A's address and broadcast. */
	ASSERT_EQ(0, table(&self->a, NULL, 0));
	ASSERT_EQ(0, send_b(&self->b, mac_x, 2));
	ASSERT_EQ(0, send_b(&self->b, mac_a, 3));
	ASSERT_EQ(0, send_b(&self->b, bcast, 4));
	EXPECT_EQ(3, recv_a(&self->a, 3000)); /* 2 was filtered */
	EXPECT_EQ(4, recv_a(&self->a, 3000));

	/* PROMISC on: the other station's frame arrives. */
	ASSERT_EQ(0, rxmode(&self->a, PVIO_NET_CTRL_RX_PROMISC, 1));
	ASSERT_EQ(0, send_b(&self->b, mac_x, 5));
	EXPECT_EQ(5, recv_a(&self->a, 3000));

	/* PROMISC off, the address in the unicast table: arrives; then NOBCAST. */
	ASSERT_EQ(0, rxmode(&self->a, PVIO_NET_CTRL_RX_PROMISC, 0));
	ASSERT_EQ(0, table(&self->a, mac_x, 1));
	ASSERT_EQ(0, rxmode(&self->a, PVIO_NET_CTRL_RX_NOBCAST, 1));
	ASSERT_EQ(0, send_b(&self->b, bcast, 6));
	ASSERT_EQ(0, send_b(&self->b, mac_x, 7));
	EXPECT_EQ(7, recv_a(&self->a, 3000));
	EXPECT_EQ(-ETIMEDOUT, recv_a(&self->a, 200));
}

TEST_F(filt, malformed_commands_refused)
{
	uint8_t big[VUSER_NET_CTRL_DATA_MAX] = { 0 }, two[2] = { 1, 0 };
	uint32_t le = cpu_to_le32(65);

	EXPECT_EQ(-EPROTO, vuser_net_ctrl(&self->a, PVIO_NET_CTRL_RX, 0, two, 2));
	EXPECT_EQ(-EPROTO, vuser_net_ctrl(&self->a, PVIO_NET_CTRL_RX, 0, NULL, 0));
	EXPECT_EQ(-EPROTO, vuser_net_ctrl(&self->a, PVIO_NET_CTRL_RX, 6, two, 1));
	EXPECT_EQ(-EPROTO, vuser_net_ctrl(&self->a, PVIO_NET_CTRL_MAC, 0, two, 2));
	EXPECT_EQ(-EPROTO, vuser_net_ctrl(&self->a, PVIO_NET_CTRL_MAC, 1, mac_a, 5));
	EXPECT_EQ(-EPROTO, vuser_net_ctrl(&self->a, PVIO_NET_CTRL_VLAN, 0, big, 3));
	EXPECT_EQ(-EPROTO, vuser_net_ctrl(&self->a, 77, 0, NULL, 0));
	/* 65 unicast entries: over the table's bound. */
	memcpy(big, &le, 4);
	EXPECT_EQ(-EPROTO, vuser_net_ctrl(&self->a, PVIO_NET_CTRL_MAC, 0, big, 8 + 65 * 6));
	/* Longer than pviod reads. */
	EXPECT_EQ(-EPROTO, vuser_net_ctrl(&self->a, PVIO_NET_CTRL_MAC, 0, big, sizeof(big)));
	/* Nothing took: the filter is still off, a stranger's frame arrives. */
	ASSERT_EQ(0, send_b(&self->b, mac_x, 9));
	EXPECT_EQ(9, recv_a(&self->a, 3000));
	/* A good MAC_ADDR_SET moves A: frames to the new address arrive, to the old not. */
	ASSERT_EQ(0, vuser_net_ctrl(&self->a, PVIO_NET_CTRL_MAC, 1, mac_x, 6));
	ASSERT_EQ(0, send_b(&self->b, mac_a, 10));
	ASSERT_EQ(0, send_b(&self->b, mac_x, 11));
	EXPECT_EQ(11, recv_a(&self->a, 3000));
}

TEST_HARNESS_MAIN
