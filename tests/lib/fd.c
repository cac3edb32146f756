// SPDX-License-Identifier: GPL-2.0
/*
 * fd.c - bytes with file descriptors over a unix socket (SCM_RIGHTS), as
 * vhost-user carries them; for the tests' own front-ends and back-ends.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pvtest.h"

/**
 * pvt_fd_send_flags - send bytes as they are, with file descriptors
 * @sock: a unix stream socket
 * @buf: the bytes
 * @len: how many (all are sent in one sendmsg())
 * @fds: sent with SCM_RIGHTS, with the first byte
 * @nfds: how many, at most PVT_FD_MAX
 * @flags: sendmsg() flags besides MSG_NOSIGNAL (MSG_DONTWAIT: a full socket
 *         is -EAGAIN instead of a wait)
 *
 * MSG_NOSIGNAL: a peer that hung up is -EPIPE, not SIGPIPE.
 *
 * Return: 0, -EINVAL for too many fds, -EMSGSIZE when sendmsg() took only
 * part of @buf, or sendmsg()'s -errno.
 */
int pvt_fd_send_flags(int sock, const void *buf, size_t len, const int *fds, unsigned int nfds,
		      int flags)
{
	char control[CMSG_SPACE(PVT_FD_MAX * sizeof(int))];
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cmsg;
	ssize_t n;

	if (nfds > PVT_FD_MAX)
		return -EINVAL;
	if (nfds) {
		memset(control, 0, sizeof(control));
		mh.msg_control = control;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cmsg = CMSG_FIRSTHDR(&mh);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cmsg), fds, nfds * sizeof(int));
	}
	n = sendmsg(sock, &mh, MSG_NOSIGNAL | flags);
	if (n == (ssize_t)len)
		return 0;
	return n < 0 ? -errno : -EMSGSIZE;
}

/**
 * pvt_fd_send - pvt_fd_send_flags() that waits for room in the socket
 * @sock: a unix stream socket
 * @buf: the bytes
 * @len: how many
 * @fds: sent with the first byte
 * @nfds: how many, at most PVT_FD_MAX
 *
 * Return: as pvt_fd_send_flags().
 */
int pvt_fd_send(int sock, const void *buf, size_t len, const int *fds, unsigned int nfds)
{
	return pvt_fd_send_flags(sock, buf, len, fds, nfds, 0);
}

/**
 * pvt_fd_recv - receive exactly @len bytes and the fds that came with them
 * @sock: a unix stream socket
 * @buf: where
 * @len: how many (MSG_WAITALL)
 * @fds: the descriptors received; the caller owns them
 * @max: room in @fds (at most PVT_FD_MAX are taken; more are closed)
 * @nfds: how many are in @fds
 *
 * Return: 0, or -1 when fewer than @len bytes came (the peer hung up, or an
 * error).
 */
int pvt_fd_recv(int sock, void *buf, size_t len, int *fds, unsigned int max, unsigned int *nfds)
{
	char control[CMSG_SPACE(PVT_FD_MAX * sizeof(int))];
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = control,
			     .msg_controllen = sizeof(control) };
	struct cmsghdr *c;
	ssize_t n;

	*nfds = 0;
	n = recvmsg(sock, &mh, MSG_WAITALL);
	if (n != (ssize_t)len)
		return -1;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		unsigned int k = (unsigned int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int)), i;
		int fd;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		for (i = 0; i < k; i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*nfds < max)
				fds[(*nfds)++] = fd;
			else
				close(fd);
		}
	}
	return 0;
}
