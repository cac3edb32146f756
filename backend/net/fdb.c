// SPDX-License-Identifier: GPL-2.0
/*
 * fdb.c - the L2 switch's forwarding database: which port each source
 * MAC address was last seen on, forgotten after age_ns without traffic.
 *
 * No locking and no clock here: switch.c holds the switch's lock and
 * passes the time, so tests/backend/net_fdb_test.c can drive it.
 */
#include <string.h>

#include "net/net.h"

static unsigned int pviod_net_fdb_hash(const uint8_t *mac)
{
	/* The low bytes vary most between guests (OUI first). */
	return (unsigned int)(mac[5] ^ (mac[4] << 3) ^ (mac[3] << 5) ^ mac[2] ^ mac[1] ^ mac[0]) %
	       PVIOD_NET_FDB_BUCKETS;
}

/**
 * pviod_net_fdb_init - an empty table
 * @fdb: the table
 * @age_ns: how long an entry lives without being refreshed
 */
void pviod_net_fdb_init(struct pviod_net_fdb *fdb, uint64_t age_ns)
{
	memset(fdb, 0, sizeof(*fdb));
	fdb->age_ns = age_ns;
}

/**
 * pviod_net_fdb_learn - @mac was seen as a source on @port at @now_ns
 * @fdb: the table
 * @mac: a unicast address (the caller skips multicast sources)
 * @port: the port (non-NULL)
 * @now_ns: the time
 *
 * A station that moved is re-pointed; a full bucket loses its stalest entry.
 */
void pviod_net_fdb_learn(struct pviod_net_fdb *fdb, const uint8_t *mac, const void *port,
			 uint64_t now_ns)
{
	struct pviod_net_fdb_entry *b = fdb->e[pviod_net_fdb_hash(mac)], *victim = &b[0];
	unsigned int i;

	for (i = 0; i < PVIOD_NET_FDB_WAYS; i++) {
		if (b[i].port && !memcmp(b[i].mac, mac, 6)) {
			b[i].port = port;
			b[i].seen_ns = now_ns;
			return;
		}
	}
	for (i = 0; i < PVIOD_NET_FDB_WAYS; i++) {
		if (!b[i].port) {
			victim = &b[i];
			break;
		}
		if (b[i].seen_ns < victim->seen_ns)
			victim = &b[i];
	}
	memcpy(victim->mac, mac, 6);
	victim->port = port;
	victim->seen_ns = now_ns;
}

/**
 * pviod_net_fdb_lookup - the port @mac was last seen on
 * @fdb: the table
 * @mac: the destination
 * @now_ns: the time; an entry older than the table's age is dropped
 *
 * Return: the port, or NULL (unknown: the caller floods).
 */
const void *pviod_net_fdb_lookup(struct pviod_net_fdb *fdb, const uint8_t *mac, uint64_t now_ns)
{
	struct pviod_net_fdb_entry *b = fdb->e[pviod_net_fdb_hash(mac)];
	unsigned int i;

	for (i = 0; i < PVIOD_NET_FDB_WAYS; i++) {
		if (!b[i].port || memcmp(b[i].mac, mac, 6))
			continue;
		if (now_ns - b[i].seen_ns > fdb->age_ns) {
			b[i].port = NULL;
			return NULL;
		}
		return b[i].port;
	}
	return NULL;
}

/**
 * pviod_net_fdb_forget_port - drop every entry pointing at @port (it left)
 * @fdb: the table
 * @port: the port
 */
void pviod_net_fdb_forget_port(struct pviod_net_fdb *fdb, const void *port)
{
	unsigned int i, j;

	for (i = 0; i < PVIOD_NET_FDB_BUCKETS; i++)
		for (j = 0; j < PVIOD_NET_FDB_WAYS; j++)
			if (fdb->e[i][j].port == port)
				fdb->e[i][j].port = NULL;
}
