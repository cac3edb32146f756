/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rpc.h - pviod's control socket (rpc.c): JSON-RPC 2.0 over a Unix socket,
 * one request object per line in, one response object per line out.
 *
 * It runs on the control thread, in the same event loop as every
 * vhost-user socket, and never blocks it: clients are read and written
 * without waiting, a line longer than PVIOD_RPC_LINE_MAX gets an error and
 * is skipped, a client whose unread replies pass PVIOD_RPC_OUT_MAX is
 * dropped, and past PVIOD_RPC_CLIENTS_MAX clients a new one is told so and
 * closed.  Methods (Documentation/pvioctl.8 has their parameters and
 * results): device_add, device_del, device_list, device_stats,
 * device_refresh, net_link_set, log_level_set, version.
 */
#ifndef PVIOD_RPC_RPC_H
#define PVIOD_RPC_RPC_H

#include <stddef.h>

#include "core/event.h"

#define PVIOD_RPC_LINE_MAX (64 * 1024)
#define PVIOD_RPC_OUT_MAX (1024 * 1024)
#define PVIOD_RPC_CLIENTS_MAX 16

struct pviod;
struct pviod_rpc_client;

struct pviod_rpc {
	struct pviod *p;
	char *path;
	int listen_fd;
	int lock_fd;
	struct pviod_io listen_io;
	struct pviod_rpc_client *clients;
	unsigned int nclients;
};

int pviod_rpc_start(struct pviod_rpc *rpc, struct pviod *p, const char *path);
void pviod_rpc_stop(struct pviod_rpc *rpc);

#endif /* PVIOD_RPC_RPC_H */
