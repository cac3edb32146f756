/* SPDX-License-Identifier: GPL-2.0 */
/*
 * socket.h - the vhost-user Unix socket: listen, accept, one message in
 * with its fds, one reply out.
 */
#ifndef PVIOD_VU_SOCKET_H
#define PVIOD_VU_SOCKET_H

#include "vhost_user.h"

int vu_socket_listen(const char *path, int *fd, int *lock_fd);
void vu_socket_unlisten(const char *path, int fd, int lock_fd);
int vu_socket_accept(int listen_fd, int *fd);
int vu_socket_recv(int fd, struct vhost_user_msg *msg, int *fds, unsigned int *nfds);

/**
 * struct vu_rx - a message being assembled from a non-blocking connection
 * @msg: header and payload so far
 * @got: bytes of @msg received (header first, then hdr.size payload bytes)
 * @fds: the fds that came with it; unused slots are -1
 * @nfds: how many
 */
struct vu_rx {
	struct vhost_user_msg msg;
	size_t got;
	int fds[VHOST_USER_MAX_FDS];
	unsigned int nfds;
};

void vu_rx_init(struct vu_rx *rx);
void vu_rx_reset(struct vu_rx *rx);
int vu_socket_recv_step(int fd, struct vu_rx *rx);
int vu_socket_send(int fd, const struct vhost_user_msg *msg, const int *fds, unsigned int nfds);
void vu_fds_close(int *fds, unsigned int nfds);

#endif /* PVIOD_VU_SOCKET_H */
