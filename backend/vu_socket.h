/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vu_socket.h - the vhost-user Unix socket: listen, accept, one message in
 * with its fds, one reply out.
 */
#ifndef PVIOD_VU_SOCKET_H
#define PVIOD_VU_SOCKET_H

#include "vhost_user.h"

int vu_socket_listen(const char *path, int *fd);
int vu_socket_accept(int listen_fd, int *fd);
int vu_socket_recv(int fd, struct vhost_user_msg *msg, int *fds, unsigned int *nfds);
int vu_socket_send(int fd, const struct vhost_user_msg *msg, const int *fds, unsigned int nfds);
void vu_fds_close(int *fds, unsigned int nfds);

#endif /* PVIOD_VU_SOCKET_H */
