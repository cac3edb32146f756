// SPDX-License-Identifier: GPL-2.0
/*
 * filter.c - the receive filter a virtio-net driver programs through
 * the control queue (virtio 1.2 §5.1.6.5.1-3): RX modes, the MAC table, the
 * device's MAC address and the VLAN filter, and the per-frame decision.
 *
 * The command data is the driver's: every length is checked exactly, a
 * table larger than PVIOD_NET_MAC_TABLE_MAX entries is refused, and a
 * refused command leaves the filter as it was (the driver sees
 * PVIO_NET_ERR).  Pure functions, no pviod state, so
 * tests/backend/net_filter_test.c and the fuzz target call them directly.
 *
 * Ordering: see struct pviod_net_filter.  The writer (serialised by the
 * caller) makes @seq odd with an acquire-release increment, writes, and
 * makes it even again with a release store; the reader loads @seq with
 * acquire, decides, then re-reads @seq with a release fetch_add of 0 (a
 * "read-don't-modify-write"), so a decision made on a half-written table is
 * thrown away.  No fences: GCC's ThreadSanitizer does not model them and
 * refuses to build them, while it does model these read-modify-writes.
 *
 * The table itself is written and read with relaxed atomic accesses, a byte
 * (a 64-bit word for the VLAN bitmap) at a time, by the helpers below and
 * nowhere else: a reader may well load a field while the writer stores it,
 * and only atomics make that defined (and quiet under TSan).  They order
 * nothing; @seq does.  On x86-64 and arm64 each is one plain load or store
 * instruction, no lock prefix, no barrier.  The writer's own loads are
 * relaxed atomics too, for uniformity (writers are serialised: they never
 * race each other).
 */
#include <string.h>

#include "net/net.h"

static uint8_t pviod_net_filter_ld8(const uint8_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void pviod_net_filter_st8(uint8_t *p, uint8_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static uint64_t pviod_net_filter_ld64(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void pviod_net_filter_st64(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

/* Writer: @n bytes into the table (memcpy, a byte at a time). */
static void pviod_net_filter_copy(uint8_t *dst, const uint8_t *src, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		pviod_net_filter_st8(&dst[i], src[i]);
}

/* Reader: is the table's address @entry the frame's @mac (the frame's own bytes)? */
static bool pviod_net_filter_mac_eq(const uint8_t *entry, const uint8_t *mac)
{
	unsigned int i;

	for (i = 0; i < 6; i++)
		if (pviod_net_filter_ld8(&entry[i]) != mac[i])
			return false;
	return true;
}

static void pviod_net_filter_write_begin(struct pviod_net_filter *f)
{
	/*
	 * The acquire half keeps the table stores that follow after the odd
	 * count.  Pairs with the reader's release re-read of @seq in
	 * __pviod_net_filter_accept().
	 */
	__atomic_fetch_add(&f->seq, 1, __ATOMIC_ACQ_REL);
}

static void pviod_net_filter_write_end(struct pviod_net_filter *f)
{
	/*
	 * Pairs with the reader's acquire load of @seq.  The load is atomic
	 * too: readers' fetch_add of 0 write @seq concurrently.
	 */
	__atomic_store_n(&f->seq, __atomic_load_n(&f->seq, __ATOMIC_RELAXED) + 1, __ATOMIC_RELEASE);
}

/**
 * pviod_net_filter_init - an unprogrammed filter (every frame delivered)
 * @f: the filter
 * @mac: the device's address
 * @vlan_on: F_CTRL_VLAN negotiated (tagged frames filtered once programmed)
 */
void pviod_net_filter_init(struct pviod_net_filter *f, const uint8_t *mac, bool vlan_on)
{
	unsigned int i;

	pviod_net_filter_write_begin(f);
	pviod_net_filter_st8(&f->on, 0);
	pviod_net_filter_st8(&f->rx_mode, 0);
	pviod_net_filter_st8(&f->vlan_on, vlan_on);
	pviod_net_filter_st8(&f->uc_n, 0);
	pviod_net_filter_st8(&f->mc_n, 0);
	pviod_net_filter_copy(f->mac, mac, 6);
	for (i = 0; i < PVIOD_NET_VLAN_IDS / 64; i++)
		pviod_net_filter_st64(&f->vlan[i], 0);
	pviod_net_filter_write_end(f);
}

/**
 * pviod_net_filter_mac_set - the device's address changed (config write)
 * @f: the filter
 * @mac: the new address
 */
void pviod_net_filter_mac_set(struct pviod_net_filter *f, const uint8_t *mac)
{
	pviod_net_filter_write_begin(f);
	pviod_net_filter_copy(f->mac, mac, 6);
	pviod_net_filter_write_end(f);
}

/*
 * MAC_TABLE_SET: two tables, each a le32 count and that many 6-byte
 * addresses, filling the command exactly.
 */
static uint8_t pviod_net_filter_table(struct pviod_net_filter *f, const uint8_t *data, size_t len)
{
	uint32_t n1, n2;
	size_t off;

	if (len < 8)
		return PVIO_NET_ERR;
	memcpy(&n1, data, 4);
	n1 = le32_to_cpu(n1);
	if (n1 > PVIOD_NET_MAC_TABLE_MAX || len < 8 + (size_t)n1 * 6)
		return PVIO_NET_ERR;
	off = 4 + (size_t)n1 * 6;
	memcpy(&n2, data + off, 4);
	n2 = le32_to_cpu(n2);
	if (n2 > PVIOD_NET_MAC_TABLE_MAX || len != off + 4 + (size_t)n2 * 6)
		return PVIO_NET_ERR;
	pviod_net_filter_write_begin(f);
	pviod_net_filter_st8(&f->uc_n, (uint8_t)n1);
	pviod_net_filter_copy((uint8_t *)f->uc, data + 4, (size_t)n1 * 6);
	pviod_net_filter_st8(&f->mc_n, (uint8_t)n2);
	pviod_net_filter_copy((uint8_t *)f->mc, data + off + 4, (size_t)n2 * 6);
	pviod_net_filter_st8(&f->on, 1);
	pviod_net_filter_write_end(f);
	return PVIO_NET_OK;
}

/**
 * pviod_net_filter_ctrl - apply one CTRL_RX, CTRL_MAC or CTRL_VLAN command
 * @f: the filter (the caller serialises writers)
 * @features: the negotiated features (which commands are allowed)
 * @cls: the command's class
 * @cmd: the command
 * @data: the command's data (after the 2-byte header), the driver's bytes
 * @len: bytes at @data
 *
 * Return: PVIO_NET_OK, or PVIO_NET_ERR for an unknown or unnegotiated
 * command, a wrong length, an oversized table, a multicast device address
 * or a VLAN id over 4095 (the filter is then unchanged).
 */
uint8_t pviod_net_filter_ctrl(struct pviod_net_filter *f, uint64_t features, uint8_t cls,
			      uint8_t cmd, const uint8_t *data, size_t len)
{
	uint64_t *word;
	uint16_t vid;
	uint8_t bit;

	switch (cls) {
	case PVIO_NET_CTRL_RX:
		if (!(features & PVIO_BIT(PVIO_NET_F_CTRL_RX)) || len != 1 || data[0] > 1)
			return PVIO_NET_ERR;
		if (cmd > PVIO_NET_CTRL_RX_ALLMULTI &&
		    (cmd > PVIO_NET_CTRL_RX_NOBCAST ||
		     !(features & PVIO_BIT(PVIO_NET_F_CTRL_RX_EXTRA))))
			return PVIO_NET_ERR;
		bit = (uint8_t)(1u << cmd);
		pviod_net_filter_write_begin(f);
		if (data[0])
			pviod_net_filter_st8(&f->rx_mode, pviod_net_filter_ld8(&f->rx_mode) | bit);
		else
			pviod_net_filter_st8(&f->rx_mode,
					     pviod_net_filter_ld8(&f->rx_mode) & (uint8_t)~bit);
		pviod_net_filter_st8(&f->on, 1);
		pviod_net_filter_write_end(f);
		return PVIO_NET_OK;
	case PVIO_NET_CTRL_MAC:
		if (cmd == PVIO_NET_CTRL_MAC_TABLE_SET) {
			if (!(features & PVIO_BIT(PVIO_NET_F_CTRL_RX)))
				return PVIO_NET_ERR;
			return pviod_net_filter_table(f, data, len);
		}
		if (cmd != PVIO_NET_CTRL_MAC_ADDR_SET ||
		    !(features & PVIO_BIT(PVIO_NET_F_CTRL_MAC_ADDR)) || len != 6 || data[0] & 1)
			return PVIO_NET_ERR;
		pviod_net_filter_write_begin(f);
		pviod_net_filter_copy(f->mac, data, 6);
		pviod_net_filter_st8(&f->on, 1);
		pviod_net_filter_write_end(f);
		return PVIO_NET_OK;
	case PVIO_NET_CTRL_VLAN:
		if (!(features & PVIO_BIT(PVIO_NET_F_CTRL_VLAN)) || len != 2 ||
		    cmd > PVIO_NET_CTRL_VLAN_DEL)
			return PVIO_NET_ERR;
		memcpy(&vid, data, 2);
		vid = le16_to_cpu(vid);
		if (vid >= PVIOD_NET_VLAN_IDS)
			return PVIO_NET_ERR;
		/* A VLAN change alone does not turn filtering on (QEMU's rule for RX/MAC). */
		word = &f->vlan[vid / 64];
		pviod_net_filter_write_begin(f);
		if (cmd == PVIO_NET_CTRL_VLAN_ADD)
			pviod_net_filter_st64(word,
					      pviod_net_filter_ld64(word) | 1ULL << (vid % 64));
		else
			pviod_net_filter_st64(word,
					      pviod_net_filter_ld64(word) & ~(1ULL << (vid % 64)));
		pviod_net_filter_write_end(f);
		return PVIO_NET_OK;
	default:
		return PVIO_NET_ERR;
	}
}

/* @n is the count the reader loaded: bounded here, a torn one is caught by @seq. */
static bool pviod_net_mac_in(const uint8_t (*tab)[6], unsigned int n, const uint8_t *mac)
{
	unsigned int i;

	for (i = 0; i < n && i < PVIOD_NET_MAC_TABLE_MAX; i++)
		if (pviod_net_filter_mac_eq(tab[i], mac))
			return true;
	return false;
}

static bool pviod_net_filter_decide(const struct pviod_net_filter *f, const uint8_t *eth,
				    size_t len)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t mode = pviod_net_filter_ld8(&f->rx_mode);

	if (mode & (1u << PVIO_NET_CTRL_RX_PROMISC))
		return true;
	if (len < PVIOD_NET_ETH_HLEN)
		return false;
	/* 802.1Q: TPID 0x8100 at offset 12, the id in the low 12 bits of the TCI. */
	if (pviod_net_filter_ld8(&f->vlan_on) && len >= PVIOD_NET_ETH_HLEN + 4 && eth[12] == 0x81 &&
	    eth[13] == 0x00) {
		unsigned int vid = ((eth[14] & 0x0f) << 8) | eth[15];

		if (!(pviod_net_filter_ld64(&f->vlan[vid / 64]) & (1ULL << (vid % 64))))
			return false;
	}
	if (!memcmp(eth, bcast, 6))
		return !(mode & (1u << PVIO_NET_CTRL_RX_NOBCAST));
	if (eth[0] & 1) {
		if (mode & (1u << PVIO_NET_CTRL_RX_NOMULTI))
			return false;
		return (mode & (1u << PVIO_NET_CTRL_RX_ALLMULTI)) ||
		       pviod_net_mac_in(f->mc, pviod_net_filter_ld8(&f->mc_n), eth);
	}
	if (mode & (1u << PVIO_NET_CTRL_RX_NOUNI))
		return false;
	return (mode & (1u << PVIO_NET_CTRL_RX_ALLUNI)) || pviod_net_filter_mac_eq(f->mac, eth) ||
	       pviod_net_mac_in(f->uc, pviod_net_filter_ld8(&f->uc_n), eth);
}

/**
 * __pviod_net_filter_accept - the filter's decision once it is on
 * @f: the filter
 * @eth: the frame's first min(@len, 18) bytes
 * @len: the frame's length
 *
 * Virtio 1.2 §5.1.6.5.1: PROMISC takes everything; broadcast unless
 * NOBCAST; multicast with ALLMULTI or in the multicast table, never with
 * NOMULTI; unicast to the device's address, in the unicast table or with
 * ALLUNI, never with NOUNI.  With F_CTRL_VLAN, an 802.1Q frame whose id was
 * not added is dropped (except in PROMISC).
 *
 * Return: true to deliver.
 */
bool __pviod_net_filter_accept(const struct pviod_net_filter *f, const uint8_t *eth, size_t len)
{
	uint32_t seq;
	bool ok;

	for (;;) {
		/* Pairs with the release store in pviod_net_filter_write_end(). */
		seq = __atomic_load_n(&f->seq, __ATOMIC_ACQUIRE);
		if (seq & 1)
			continue; /* a writer is in: a few stores, soon done */
		ok = pviod_net_filter_decide(f, eth, len);
		/*
		 * The release half keeps the table loads above before this re-read;
		 * the same count means no writer began meanwhile.  Pairs with the
		 * acquire-release increment in pviod_net_filter_write_begin().  @seq
		 * is the one field a reader writes (adding 0): hence the cast.
		 */
		if (__atomic_fetch_add((uint32_t *)&f->seq, 0, __ATOMIC_RELEASE) == seq)
			return ok;
	}
}
