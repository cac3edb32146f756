// SPDX-License-Identifier: GPL-2.0
/*
 * net_filter_test - pviod's receive filter (backend/net/filter.c): the
 * control-queue commands that program it (every length a hostile driver
 * can send, oversized tables, unnegotiated commands) and the per-frame
 * decision (RX modes, MAC tables, the device address, VLAN ids).
 */
#include <string.h>

#include "kselftest_harness.h"
#include "net/net.h"
#include "pvtest.h"

#define F_RX                                                                 \
	(PVIO_BIT(PVIO_NET_F_CTRL_RX) | PVIO_BIT(PVIO_NET_F_CTRL_RX_EXTRA) | \
	 PVIO_BIT(PVIO_NET_F_CTRL_MAC_ADDR) | PVIO_BIT(PVIO_NET_F_CTRL_VLAN))

static const uint8_t dev_mac[6] = { 0x02, 0x70, 0x76, 1, 2, 3 };
static const uint8_t other[6] = { 0x02, 0x70, 0x76, 9, 9, 9 };
static const uint8_t listed[6] = { 0x02, 0x70, 0x76, 4, 5, 6 };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };
static const uint8_t mcast2[6] = { 0x33, 0x33, 0, 0, 0, 1 };

/* A 60-byte frame to @dst, untagged or with 802.1Q id @vid (>= 0). */
static bool deliver(const struct pviod_net_filter *f, const uint8_t *dst, int vid)
{
	uint8_t fr[60] = { 0 };

	/* IPv4 untagged; tagged, an EtherType of 0 after the tag. */
	pvt_eth_put(fr, dst, other, vid, vid >= 0 ? 0 : 0x0800);
	return pviod_net_filter_accept(f, fr, sizeof(fr));
}

static uint8_t rx(struct pviod_net_filter *f, uint8_t cmd, uint8_t on)
{
	return pviod_net_filter_ctrl(f, F_RX, PVIO_NET_CTRL_RX, cmd, &on, 1);
}

/* MAC_TABLE_SET with @nu unicast (listed) and @nm multicast (mcast) entries. */
static uint8_t table(struct pviod_net_filter *f, uint32_t nu, uint32_t nm, int extra)
{
	static uint8_t buf[8 + 6 * 200 + 8];
	size_t off = 0;
	uint32_t le;
	unsigned int i;

	le = cpu_to_le32(nu);
	memcpy(buf, &le, 4);
	off = 4;
	for (i = 0; i < nu && off < 8 + 6 * 190; i++, off += 6)
		memcpy(buf + off, listed, 6);
	le = cpu_to_le32(nm);
	memcpy(buf + off, &le, 4);
	off += 4;
	for (i = 0; i < nm && off < 8 + 6 * 190; i++, off += 6)
		memcpy(buf + off, mcast, 6);
	return pviod_net_filter_ctrl(f, F_RX, PVIO_NET_CTRL_MAC, PVIO_NET_CTRL_MAC_TABLE_SET, buf,
				     (size_t)((ssize_t)off + extra));
}

FIXTURE(filt)
{
	struct pviod_net_filter f;
};

FIXTURE_SETUP(filt)
{
	memset(&self->f, 0, sizeof(self->f));
	pviod_net_filter_init(&self->f, dev_mac, true);
}

FIXTURE_TEARDOWN(filt)
{
}

TEST_F(filt, unprogrammed_delivers_everything)
{
	uint16_t vid = cpu_to_le16(5);

	EXPECT_TRUE(deliver(&self->f, other, -1));
	EXPECT_TRUE(deliver(&self->f, dev_mac, -1));
	EXPECT_TRUE(deliver(&self->f, mcast, -1));
	EXPECT_TRUE(deliver(&self->f, other, 7));
	/* A VLAN change alone does not turn the filter on. */
	EXPECT_EQ(PVIO_NET_OK, pviod_net_filter_ctrl(&self->f, F_RX, PVIO_NET_CTRL_VLAN,
						     PVIO_NET_CTRL_VLAN_ADD, (uint8_t *)&vid, 2));
	EXPECT_TRUE(deliver(&self->f, other, 7));
}

TEST_F(filt, programmed_default)
{
	ASSERT_EQ(PVIO_NET_OK, table(&self->f, 0, 0, 0));
	EXPECT_TRUE(deliver(&self->f, dev_mac, -1));
	EXPECT_FALSE(deliver(&self->f, other, -1));
	EXPECT_TRUE(deliver(&self->f, bcast, -1));
	EXPECT_FALSE(deliver(&self->f, mcast, -1));
}

TEST_F(filt, tables)
{
	ASSERT_EQ(PVIO_NET_OK, table(&self->f, 1, 1, 0));
	EXPECT_TRUE(deliver(&self->f, listed, -1));
	EXPECT_TRUE(deliver(&self->f, mcast, -1));
	EXPECT_FALSE(deliver(&self->f, mcast2, -1));
	EXPECT_FALSE(deliver(&self->f, other, -1));
	/* A new table replaces the old. */
	ASSERT_EQ(PVIO_NET_OK, table(&self->f, 0, 0, 0));
	EXPECT_FALSE(deliver(&self->f, listed, -1));
	EXPECT_FALSE(deliver(&self->f, mcast, -1));
}

TEST_F(filt, table_bounds)
{
	EXPECT_EQ(PVIO_NET_OK, table(&self->f, PVIOD_NET_MAC_TABLE_MAX, 1, 0));
	EXPECT_EQ(PVIO_NET_OK, table(&self->f, 1, PVIOD_NET_MAC_TABLE_MAX, 0));
	/* Oversized: refused, the last table stays. */
	EXPECT_EQ(PVIO_NET_ERR, table(&self->f, PVIOD_NET_MAC_TABLE_MAX + 1, 0, 0));
	EXPECT_EQ(PVIO_NET_ERR, table(&self->f, 0, PVIOD_NET_MAC_TABLE_MAX + 1, 0));
	EXPECT_EQ(64, self->f.mc_n);
	EXPECT_EQ(1, self->f.uc_n);
	/* Lengths must match the counts exactly. */
	EXPECT_EQ(PVIO_NET_ERR, table(&self->f, 1, 1, 1));
	EXPECT_EQ(PVIO_NET_ERR, table(&self->f, 1, 1, -1));
	EXPECT_EQ(PVIO_NET_ERR, table(&self->f, 2, 0, -6));
	EXPECT_EQ(PVIO_NET_ERR, table(&self->f, 0, 0, -1));
	EXPECT_EQ(PVIO_NET_ERR, table(&self->f, 0xffffffffu, 0, 0));
	EXPECT_EQ(PVIO_NET_ERR, pviod_net_filter_ctrl(&self->f, F_RX, PVIO_NET_CTRL_MAC,
						      PVIO_NET_CTRL_MAC_TABLE_SET, NULL, 0));
}

TEST_F(filt, rx_modes)
{
	ASSERT_EQ(PVIO_NET_OK, rx(&self->f, PVIO_NET_CTRL_RX_PROMISC, 0));
	EXPECT_FALSE(deliver(&self->f, other, -1));
	ASSERT_EQ(PVIO_NET_OK, rx(&self->f, PVIO_NET_CTRL_RX_PROMISC, 1));
	EXPECT_TRUE(deliver(&self->f, other, -1));
	EXPECT_TRUE(deliver(&self->f, other, 99)); /* promisc: VLANs too */
	ASSERT_EQ(PVIO_NET_OK, rx(&self->f, PVIO_NET_CTRL_RX_PROMISC, 0));
	ASSERT_EQ(PVIO_NET_OK, rx(&self->f, PVIO_NET_CTRL_RX_ALLMULTI, 1));
	EXPECT_TRUE(deliver(&self->f, mcast2, -1));
	ASSERT_EQ(PVIO_NET_OK, rx(&self->f, PVIO_NET_CTRL_RX_NOMULTI, 1));
	EXPECT_FALSE(deliver(&self->f, mcast2, -1));
	EXPECT_TRUE(deliver(&self->f, bcast, -1));
	ASSERT_EQ(PVIO_NET_OK, rx(&self->f, PVIO_NET_CTRL_RX_NOBCAST, 1));
	EXPECT_FALSE(deliver(&self->f, bcast, -1));
	ASSERT_EQ(PVIO_NET_OK, rx(&self->f, PVIO_NET_CTRL_RX_ALLUNI, 1));
	EXPECT_TRUE(deliver(&self->f, other, -1));
	ASSERT_EQ(PVIO_NET_OK, rx(&self->f, PVIO_NET_CTRL_RX_NOUNI, 1));
	EXPECT_FALSE(deliver(&self->f, other, -1));
	EXPECT_FALSE(deliver(&self->f, dev_mac, -1));
}

TEST_F(filt, rx_bad_commands)
{
	uint8_t two[2] = { 1, 0 }, on = 2;

	EXPECT_EQ(PVIO_NET_ERR, rx(&self->f, PVIO_NET_CTRL_RX_NOBCAST + 1, 1));
	EXPECT_EQ(PVIO_NET_ERR, rx(&self->f, 0xff, 1));
	EXPECT_EQ(PVIO_NET_ERR, pviod_net_filter_ctrl(&self->f, F_RX, PVIO_NET_CTRL_RX, 0, two, 2));
	EXPECT_EQ(PVIO_NET_ERR, pviod_net_filter_ctrl(&self->f, F_RX, PVIO_NET_CTRL_RX, 0, two, 0));
	EXPECT_EQ(PVIO_NET_ERR, pviod_net_filter_ctrl(&self->f, F_RX, PVIO_NET_CTRL_RX, 0, &on, 1));
	/* Not negotiated: CTRL_RX, or CTRL_RX_EXTRA for the extra modes. */
	EXPECT_EQ(PVIO_NET_ERR, pviod_net_filter_ctrl(&self->f, 0, PVIO_NET_CTRL_RX, 0, two, 1));
	EXPECT_EQ(PVIO_NET_ERR,
		  pviod_net_filter_ctrl(&self->f, PVIO_BIT(PVIO_NET_F_CTRL_RX), PVIO_NET_CTRL_RX,
					PVIO_NET_CTRL_RX_NOUNI, two, 1));
	EXPECT_EQ(PVIO_NET_OK,
		  pviod_net_filter_ctrl(&self->f, PVIO_BIT(PVIO_NET_F_CTRL_RX), PVIO_NET_CTRL_RX,
					PVIO_NET_CTRL_RX_ALLMULTI, two, 1));
	EXPECT_EQ(PVIO_NET_ERR, pviod_net_filter_ctrl(&self->f, F_RX, 9, 0, two, 1));
	/* Nothing refused turned the filter on... but the ALLMULTI did. */
	EXPECT_EQ(1, self->f.on);
	EXPECT_EQ(1u << PVIO_NET_CTRL_RX_ALLMULTI, self->f.rx_mode);
}

TEST_F(filt, mac_addr_set)
{
	uint8_t buf[7];

	memcpy(buf, listed, 6);
	EXPECT_EQ(PVIO_NET_ERR, pviod_net_filter_ctrl(&self->f, F_RX, PVIO_NET_CTRL_MAC,
						      PVIO_NET_CTRL_MAC_ADDR_SET, buf, 5));
	EXPECT_EQ(PVIO_NET_ERR, pviod_net_filter_ctrl(&self->f, F_RX, PVIO_NET_CTRL_MAC,
						      PVIO_NET_CTRL_MAC_ADDR_SET, buf, 7));
	EXPECT_EQ(PVIO_NET_ERR,
		  pviod_net_filter_ctrl(&self->f, PVIO_BIT(PVIO_NET_F_CTRL_RX), PVIO_NET_CTRL_MAC,
					PVIO_NET_CTRL_MAC_ADDR_SET, buf, 6));
	EXPECT_EQ(PVIO_NET_ERR, pviod_net_filter_ctrl(&self->f, F_RX, PVIO_NET_CTRL_MAC,
						      PVIO_NET_CTRL_MAC_ADDR_SET, mcast, 6));
	EXPECT_EQ(PVIO_NET_ERR,
		  pviod_net_filter_ctrl(&self->f, F_RX, PVIO_NET_CTRL_MAC, 2, buf, 6));
	EXPECT_EQ(0, self->f.on);
	ASSERT_EQ(PVIO_NET_OK, pviod_net_filter_ctrl(&self->f, F_RX, PVIO_NET_CTRL_MAC,
						     PVIO_NET_CTRL_MAC_ADDR_SET, buf, 6));
	EXPECT_TRUE(deliver(&self->f, listed, -1));
	EXPECT_FALSE(deliver(&self->f, dev_mac, -1));
	pviod_net_filter_mac_set(&self->f, dev_mac);
	EXPECT_TRUE(deliver(&self->f, dev_mac, -1));
}

TEST_F(filt, vlan)
{
	uint16_t vid = cpu_to_le16(7);
	uint8_t three[3] = { 0 };

	ASSERT_EQ(PVIO_NET_OK, table(&self->f, 0, 0, 0));
	EXPECT_TRUE(deliver(&self->f, dev_mac, -1));
	EXPECT_FALSE(deliver(&self->f, dev_mac, 7));
	EXPECT_EQ(PVIO_NET_OK, pviod_net_filter_ctrl(&self->f, F_RX, PVIO_NET_CTRL_VLAN,
						     PVIO_NET_CTRL_VLAN_ADD, (uint8_t *)&vid, 2));
	EXPECT_TRUE(deliver(&self->f, dev_mac, 7));
	EXPECT_FALSE(deliver(&self->f, dev_mac, 8));
	EXPECT_FALSE(deliver(&self->f, other, 7)); /* still addressed elsewhere */
	EXPECT_EQ(PVIO_NET_OK, pviod_net_filter_ctrl(&self->f, F_RX, PVIO_NET_CTRL_VLAN,
						     PVIO_NET_CTRL_VLAN_DEL, (uint8_t *)&vid, 2));
	EXPECT_FALSE(deliver(&self->f, dev_mac, 7));
	vid = cpu_to_le16(4095);
	EXPECT_EQ(PVIO_NET_OK, pviod_net_filter_ctrl(&self->f, F_RX, PVIO_NET_CTRL_VLAN,
						     PVIO_NET_CTRL_VLAN_ADD, (uint8_t *)&vid, 2));
	EXPECT_TRUE(deliver(&self->f, dev_mac, 4095));
	vid = cpu_to_le16(4096);
	EXPECT_EQ(PVIO_NET_ERR, pviod_net_filter_ctrl(&self->f, F_RX, PVIO_NET_CTRL_VLAN,
						      PVIO_NET_CTRL_VLAN_ADD, (uint8_t *)&vid, 2));
	EXPECT_EQ(PVIO_NET_ERR, pviod_net_filter_ctrl(&self->f, F_RX, PVIO_NET_CTRL_VLAN,
						      PVIO_NET_CTRL_VLAN_ADD, three, 3));
	EXPECT_EQ(PVIO_NET_ERR, pviod_net_filter_ctrl(&self->f, F_RX, PVIO_NET_CTRL_VLAN,
						      PVIO_NET_CTRL_VLAN_ADD, three, 1));
	EXPECT_EQ(PVIO_NET_ERR,
		  pviod_net_filter_ctrl(&self->f, F_RX, PVIO_NET_CTRL_VLAN, 2, three, 2));
	EXPECT_EQ(PVIO_NET_ERR,
		  pviod_net_filter_ctrl(&self->f, PVIO_BIT(PVIO_NET_F_CTRL_RX), PVIO_NET_CTRL_VLAN,
					PVIO_NET_CTRL_VLAN_ADD, three, 2));
	/* Without F_CTRL_VLAN, tags are not looked at. */
	pviod_net_filter_init(&self->f, dev_mac, false);
	ASSERT_EQ(PVIO_NET_OK, table(&self->f, 0, 0, 0));
	EXPECT_TRUE(deliver(&self->f, dev_mac, 8));
}

TEST_F(filt, runts)
{
	uint8_t fr[14];

	ASSERT_EQ(PVIO_NET_OK, table(&self->f, 0, 0, 0));
	memcpy(fr, dev_mac, 6);
	EXPECT_FALSE(pviod_net_filter_accept(&self->f, fr, 6));
	EXPECT_TRUE(pviod_net_filter_accept(&self->f, fr, 14));
	/* A tag claimed by a 14-byte frame is not read past its end. */
	fr[12] = 0x81;
	fr[13] = 0;
	EXPECT_TRUE(pviod_net_filter_accept(&self->f, fr, 14));
}

TEST_HARNESS_MAIN
