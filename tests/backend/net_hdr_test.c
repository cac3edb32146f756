// SPDX-License-Identifier: GPL-2.0
/*
 * net_hdr_test - pviod's net device, the parts that need no peer: the
 * checks on a transmit header (every field a hostile driver controls), the
 * software checksum for receivers without GUEST_CSUM, the tap offload
 * mapping, and the switch's forwarding table (learning, a station that
 * moves, ageing, a full bucket, a port that leaves).
 */
#include <errno.h>
#include <string.h>
#include <linux/if_tun.h>

#include "kselftest_harness.h"
#include "net/net.h"

#define F_ALL                                                         \
	(PVIO_BIT(PVIO_NET_F_CSUM) | PVIO_BIT(PVIO_NET_F_HOST_TSO4) | \
	 PVIO_BIT(PVIO_NET_F_HOST_TSO6))

static struct pvio_net_hdr hdr(uint8_t flags, uint8_t gso, uint16_t hdr_len, uint16_t gso_size,
			       uint16_t cs, uint16_t co)
{
	struct pvio_net_hdr h = {
		.flags = flags,
		.gso_type = gso,
		.hdr_len = cpu_to_le16(hdr_len),
		.gso_size = cpu_to_le16(gso_size),
		.csum_start = cpu_to_le16(cs),
		.csum_offset = cpu_to_le16(co),
	};
	return h;
}

TEST(plain_frame_ok)
{
	struct pvio_net_hdr h = hdr(0, 0, 0, 0, 0, 0);

	EXPECT_EQ(0, pviod_net_hdr_check(&h, 60, 0));
	EXPECT_EQ(0, pviod_net_hdr_check(&h, 14, 0));
	EXPECT_EQ(0, pviod_net_hdr_check(&h, PVIOD_NET_FRAME_MAX, 0));
}

TEST(frame_length_bounds)
{
	struct pvio_net_hdr h = hdr(0, 0, 0, 0, 0, 0);

	EXPECT_EQ(-EMSGSIZE, pviod_net_hdr_check(&h, 0, F_ALL));
	EXPECT_EQ(-EMSGSIZE, pviod_net_hdr_check(&h, 13, F_ALL));
	EXPECT_EQ(-EMSGSIZE, pviod_net_hdr_check(&h, PVIOD_NET_FRAME_MAX + 1, F_ALL));
}

/* §5.1.6.2.2: the device ignores flag bits it does not recognise. */
TEST(unknown_flags_ignored)
{
	struct pvio_net_hdr h = hdr(0x80, 0, 0, 0, 0, 0);

	EXPECT_EQ(0, pviod_net_hdr_check(&h, 60, F_ALL));
	h = hdr(PVIO_NET_HDR_F_RSC_INFO, 0, 0, 0, 0, 0);
	EXPECT_EQ(0, pviod_net_hdr_check(&h, 60, F_ALL));
	/* DATA_VALID is harmless on transmit. */
	h = hdr(PVIO_NET_HDR_F_DATA_VALID, 0, 0, 0, 0, 0);
	EXPECT_EQ(0, pviod_net_hdr_check(&h, 60, F_ALL));
}

TEST(csum_needs_feature_and_fits)
{
	/* TCP over IPv4: checksum at 14 + 20 + 16. */
	struct pvio_net_hdr h = hdr(PVIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 34, 16);

	EXPECT_EQ(-EOPNOTSUPP, pviod_net_hdr_check(&h, 60, 0));
	EXPECT_EQ(0, pviod_net_hdr_check(&h, 60, F_ALL));
	/* The two checksum bytes must be inside the frame. */
	EXPECT_EQ(0, pviod_net_hdr_check(&h, 52, F_ALL));
	EXPECT_EQ(-EINVAL, pviod_net_hdr_check(&h, 51, F_ALL));
	h = hdr(PVIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 0xffff, 0xffff);
	EXPECT_EQ(-EINVAL, pviod_net_hdr_check(&h, 65000, F_ALL));
	/* Before the end of the Ethernet header. */
	h = hdr(PVIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 4, 2);
	EXPECT_EQ(-EINVAL, pviod_net_hdr_check(&h, 60, F_ALL));
}

TEST(gso_checks)
{
	struct pvio_net_hdr h =
		hdr(PVIO_NET_HDR_F_NEEDS_CSUM, PVIO_NET_HDR_GSO_TCPV4, 54, 1448, 34, 16);

	EXPECT_EQ(0, pviod_net_hdr_check(&h, 30000, F_ALL));
	EXPECT_EQ(-EOPNOTSUPP, pviod_net_hdr_check(&h, 30000, PVIO_BIT(PVIO_NET_F_CSUM)));
	h.gso_size = 0;
	EXPECT_EQ(-EINVAL, pviod_net_hdr_check(&h, 30000, F_ALL));
	h = hdr(PVIO_NET_HDR_F_NEEDS_CSUM, PVIO_NET_HDR_GSO_TCPV4, 60000, 1448, 34, 16);
	EXPECT_EQ(-EINVAL, pviod_net_hdr_check(&h, 30000, F_ALL));
	/* TSO without a partial checksum cannot be segmented correctly. */
	h = hdr(0, PVIO_NET_HDR_GSO_TCPV4, 54, 1448, 0, 0);
	EXPECT_EQ(-EINVAL, pviod_net_hdr_check(&h, 30000, F_ALL));
	h = hdr(PVIO_NET_HDR_F_NEEDS_CSUM, PVIO_NET_HDR_GSO_TCPV6, 74, 1428, 54, 16);
	EXPECT_EQ(0, pviod_net_hdr_check(&h, 30000, F_ALL));
	EXPECT_EQ(-EOPNOTSUPP,
		  pviod_net_hdr_check(&h, 30000, F_ALL & ~PVIO_BIT(PVIO_NET_F_HOST_TSO6)));
	h.gso_type = PVIO_NET_HDR_GSO_UDP;
	EXPECT_EQ(-EOPNOTSUPP, pviod_net_hdr_check(&h, 30000, F_ALL));
	h.gso_type = PVIO_NET_HDR_GSO_TCPV4 | PVIO_NET_HDR_GSO_ECN;
	EXPECT_EQ(-EOPNOTSUPP, pviod_net_hdr_check(&h, 30000, F_ALL));
	h.gso_type = 42;
	EXPECT_EQ(-EINVAL, pviod_net_hdr_check(&h, 30000, F_ALL));
}

/* A UDP/IPv4 frame whose checksum the stack left partial; the filled one must verify. */
TEST(csum_fill_verifies)
{
	uint8_t f[14 + 20 + 8 + 5] = { 0 };
	struct pvio_net_hdr h = hdr(PVIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 34, 6);
	uint32_t sum = 0;
	size_t i;

	memcpy(f + 42, "hello", 5);
	f[34 + 4] = 0;
	f[34 + 5] = 13; /* UDP length */
	/* A made-up pseudo-header partial sum, as a driver would store it. */
	f[34 + 6] = 0x12;
	f[34 + 7] = 0x34;
	ASSERT_EQ(0, pviod_net_csum_fill(&h, f, sizeof(f)));
	EXPECT_EQ(0, h.flags & PVIO_NET_HDR_F_NEEDS_CSUM);
	EXPECT_NE(0, h.flags & PVIO_NET_HDR_F_DATA_VALID);
	/*
	 * The receiver's check: the range, checksum included, plus the
	 * pseudo-header sum the driver had put there, folds to 0xffff.
	 */
	sum = 0x1234;
	for (i = 34; i + 1 < sizeof(f); i += 2)
		sum += (uint32_t)f[i] << 8 | f[i + 1];
	sum += (uint32_t)f[sizeof(f) - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	EXPECT_EQ(0xffff, sum);
	h = hdr(PVIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 40, 10);
	EXPECT_EQ(-EINVAL, pviod_net_csum_fill(&h, f, sizeof(f)));
}

TEST(tap_offloads)
{
	EXPECT_EQ(0, pviod_net_tap_offloads(PVIO_BIT(PVIO_NET_F_GUEST_TSO4)));
	EXPECT_EQ(TUN_F_CSUM, pviod_net_tap_offloads(PVIO_BIT(PVIO_NET_F_GUEST_CSUM)));
	EXPECT_EQ(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6,
		  pviod_net_tap_offloads(PVIO_BIT(PVIO_NET_F_GUEST_CSUM) |
					 PVIO_BIT(PVIO_NET_F_GUEST_TSO4) |
					 PVIO_BIT(PVIO_NET_F_GUEST_TSO6)));
}

static struct pviod_net_fdb fdb;

TEST(fdb_learn_move_age)
{
	const uint8_t a[6] = { 2, 0, 0, 0, 0, 1 }, b[6] = { 2, 0, 0, 0, 0, 2 };
	int p1, p2;

	pviod_net_fdb_init(&fdb, 1000);
	EXPECT_EQ(NULL, pviod_net_fdb_lookup(&fdb, a, 0));
	pviod_net_fdb_learn(&fdb, a, &p1, 10);
	pviod_net_fdb_learn(&fdb, b, &p2, 10);
	EXPECT_EQ(&p1, pviod_net_fdb_lookup(&fdb, a, 20));
	EXPECT_EQ(&p2, pviod_net_fdb_lookup(&fdb, b, 20));
	/* a moved to port 2. */
	pviod_net_fdb_learn(&fdb, a, &p2, 30);
	EXPECT_EQ(&p2, pviod_net_fdb_lookup(&fdb, a, 40));
	/* b unseen for longer than the age: forgotten (flooded again). */
	EXPECT_EQ(NULL, pviod_net_fdb_lookup(&fdb, b, 2000));
	EXPECT_EQ(&p2, pviod_net_fdb_lookup(&fdb, a, 1000));
	pviod_net_fdb_forget_port(&fdb, &p2);
	EXPECT_EQ(NULL, pviod_net_fdb_lookup(&fdb, a, 1000));
}

TEST(fdb_full_bucket_evicts_oldest)
{
	uint8_t m[6] = { 2, 0, 0, 0, 0, 0 };
	int p;
	unsigned int i;

	pviod_net_fdb_init(&fdb, 1000000);
	/* Same hash: only the first byte differs, and it is XORed into the hash as is. */
	for (i = 0; i <= PVIOD_NET_FDB_WAYS; i++) {
		m[1] = (uint8_t)i;
		m[2] = (uint8_t)i; /* cancels m[1] in the hash */
		pviod_net_fdb_learn(&fdb, m, &p, 100 + i);
	}
	/* The first one (oldest) went; the newest is there. */
	m[1] = 0;
	m[2] = 0;
	EXPECT_EQ(NULL, pviod_net_fdb_lookup(&fdb, m, 200));
	m[1] = PVIOD_NET_FDB_WAYS;
	m[2] = PVIOD_NET_FDB_WAYS;
	EXPECT_EQ(&p, pviod_net_fdb_lookup(&fdb, m, 200));
}

TEST_HARNESS_MAIN
