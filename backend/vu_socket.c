// SPDX-License-Identifier: GPL-2.0
/*
 * vu_socket.c - the vhost-user Unix socket.
 *
 * A message is read with two reads: the 12-byte header (with the SCM_RIGHTS
 * fds, which ride on the first byte) and then exactly hdr.size payload bytes.
 * Nothing here interprets the message beyond the header's version and size;
 * that is vu_msg.c's table.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include "pviod.h"
#include "vu_socket.h"

/*
 * A front-end that sent a header must send the rest promptly: the control
 * thread serves every device, so one stalled peer may hold it this long.
 */
#define VU_SOCKET_TIMEOUT_S	5

/**
 * vu_fds_close - close received fds that nobody took
 * @fds: the array; taken entries are -1
 * @nfds: its length
 */
void vu_fds_close(int *fds, unsigned int nfds)
{
	unsigned int i;

	for (i = 0; i < nfds; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

/**
 * vu_socket_listen - create the listening socket at @path
 * @path: the socket's path; a stale socket there is replaced, anything else
 *        is an error
 * @fd: out: the listening socket
 *
 * Return: 0 or -errno.
 */
int vu_socket_listen(const char *path, int *fd)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int s, ret;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		unlink(path);
	}
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (bind(s, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		goto err_close;
	/* One front-end at a time; a reconnecting one waits in the backlog. */
	if (listen(s, 4) < 0)
		goto err_unlink;
	*fd = s;
	return 0;

err_unlink:
	ret = -errno;
	unlink(path);
	close(s);
	return ret;
err_close:
	ret = -errno;
	close(s);
	return ret;
}

/**
 * vu_socket_accept - accept one front-end
 * @listen_fd: from vu_socket_listen()
 * @fd: out: the connection
 *
 * Return: 0 or -errno.
 */
int vu_socket_accept(int listen_fd, int *fd)
{
	struct timeval tv = { .tv_sec = VU_SOCKET_TIMEOUT_S };
	int s;

	s = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (s < 0)
		return -errno;
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	*fd = s;
	return 0;
}

static int vu_socket_read_all(int fd, void *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = recv(fd, (char *)buf + done, len - done, 0);
		if (n == 0)
			return -ECONNRESET;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		}
		done += (size_t)n;
	}
	return 0;
}

/**
 * vu_socket_recv - read one message and the fds that came with it
 * @fd: the connection
 * @msg: out: header and payload
 * @fds: out: VHOST_USER_MAX_FDS slots; unused ones are -1
 * @nfds: out: how many fds arrived
 *
 * Return: 0; -ECONNRESET when the peer closed (also mid-message);
 * -EPROTO for a bad version, more fds than the protocol allows or a payload
 * over 4096 bytes.  On error no fd is left open.
 */
int vu_socket_recv(int fd, struct vhost_user_msg *msg, int *fds, unsigned int *nfds)
{
	char control[CMSG_SPACE(VHOST_USER_MAX_FDS * sizeof(int))];
	struct iovec iov = { .iov_base = &msg->hdr, .iov_len = sizeof(msg->hdr) };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control,
		.msg_controllen = sizeof(control),
	};
	struct cmsghdr *cmsg;
	unsigned int i, n = 0;
	ssize_t got;
	int ret;

	for (i = 0; i < VHOST_USER_MAX_FDS; i++)
		fds[i] = -1;
	*nfds = 0;
	do {
		got = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	} while (got < 0 && errno == EINTR);
	if (got == 0)
		return -ECONNRESET;
	if (got < 0)
		return errno == EAGAIN ? -ETIMEDOUT : -errno;

	for (cmsg = CMSG_FIRSTHDR(&mh); cmsg; cmsg = CMSG_NXTHDR(&mh, cmsg)) {
		unsigned int k, cnt;
		int *data;

		if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		cnt = (unsigned int)((cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		data = (int *)CMSG_DATA(cmsg);
		for (k = 0; k < cnt; k++) {
			int rfd;

			memcpy(&rfd, &data[k], sizeof(rfd));
			if (n < VHOST_USER_MAX_FDS)
				fds[n++] = rfd;
			else
				close(rfd);
		}
	}
	*nfds = n;
	if (mh.msg_flags & MSG_CTRUNC) {
		pr_err("vhost-user: more than %d fds with one message", VHOST_USER_MAX_FDS);
		ret = -EPROTO;
		goto err_close_fds;
	}
	/* The rest of the header, if the first read came up short. */
	if ((size_t)got < sizeof(msg->hdr)) {
		ret = vu_socket_read_all(fd, (char *)&msg->hdr + got, sizeof(msg->hdr) - got);
		if (ret)
			goto err_close_fds;
	}
	if ((msg->hdr.flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION) {
		pr_err("vhost-user: request %u: version %u, expected %u", msg->hdr.request,
		       msg->hdr.flags & VHOST_USER_VERSION_MASK, VHOST_USER_VERSION);
		ret = -EPROTO;
		goto err_close_fds;
	}
	if (msg->hdr.size > VHOST_USER_PAYLOAD_MAX) {
		pr_err("vhost-user: request %u: payload of %u bytes, at most %d", msg->hdr.request,
		       msg->hdr.size, VHOST_USER_PAYLOAD_MAX);
		ret = -EPROTO;
		goto err_close_fds;
	}
	ret = vu_socket_read_all(fd, &msg->payload, msg->hdr.size);
	if (ret)
		goto err_close_fds;
	/* Handlers may read a fixed-size struct past a short payload: zeros, not stale bytes. */
	memset((char *)&msg->payload + msg->hdr.size, 0,
	       sizeof(msg->payload) - msg->hdr.size);
	return 0;

err_close_fds:
	vu_fds_close(fds, n);
	*nfds = 0;
	return ret;
}

/**
 * vu_socket_send - send one message (header and hdr.size payload bytes)
 * @fd: the connection
 * @msg: the message
 * @fds: fds to pass along, or NULL
 * @nfds: how many
 *
 * Return: 0 or -errno (never SIGPIPE).
 */
int vu_socket_send(int fd, const struct vhost_user_msg *msg, const int *fds, unsigned int nfds)
{
	char control[CMSG_SPACE(VHOST_USER_MAX_FDS * sizeof(int))];
	struct iovec iov = {
		.iov_base = (void *)msg,
		.iov_len = sizeof(msg->hdr) + msg->hdr.size,
	};
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (nfds > VHOST_USER_MAX_FDS || msg->hdr.size > VHOST_USER_PAYLOAD_MAX)
		return -EINVAL;
	if (nfds) {
		struct cmsghdr *cmsg;

		memset(control, 0, sizeof(control));
		mh.msg_control = control;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cmsg = CMSG_FIRSTHDR(&mh);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cmsg), fds, nfds * sizeof(int));
	}
	for (;;) {
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if ((size_t)n >= iov.iov_len)
			break;
		/* Partial: the fds went with the first byte. */
		iov.iov_base = (char *)iov.iov_base + n;
		iov.iov_len -= (size_t)n;
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
	}
	return 0;
}
