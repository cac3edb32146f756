// SPDX-License-Identifier: GPL-2.0
/*
 * socket.c - the vhost-user Unix socket.
 *
 * A message is the 12-byte header (with the SCM_RIGHTS fds, which ride on
 * its first byte) and then exactly hdr.size payload bytes.  pviod reads it
 * with vu_socket_recv_step(), which never blocks: whatever has arrived is
 * added to the connection's struct vu_rx, and the control loop polls again
 * for the rest, so a front-end that sends half a message holds nothing but
 * its own connection.  vu_socket_recv() is the blocking form, for front-ends
 * (the unit tests).  Nothing here interprets the message beyond the
 * header's version and size; that is vu_msg.c's table.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include "core/log.h"
#include "vhost-user/socket.h"

/*
 * A front-end that sent a header must send the rest promptly: the control
 * thread serves every device, so one stalled peer may hold it this long.
 */
#define VU_SOCKET_TIMEOUT_S 5

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

/*
 * Does a process listen on the socket at @path?  A stale socket (its
 * daemon died) refuses connections; a live one accepts, and the peer sees
 * a connection that closes at once, as after any failed handshake.
 */
static bool vu_socket_live(const struct sockaddr_un *sun)
{
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool live;

	if (s < 0)
		return false;
	live = connect(s, (const struct sockaddr *)sun, sizeof(*sun)) == 0 || errno == EAGAIN;
	close(s);
	return live;
}

/**
 * vu_socket_listen - create the listening socket at @path, which must be free
 * @path: the socket's path
 * @fd: out: the listening socket
 * @lock_fd: out: a lock on "@path.lock", held for as long as we listen
 *
 * Two daemons, or two devices of one, must never take a socket from each
 * other: the lock file (flock, so another open of it in this process
 * conflicts too) refuses a second pviod; a socket some other process
 * listens on is refused too; only a stale socket is replaced.
 *
 * Return: 0; -EADDRINUSE when the path is in use; -EEXIST when something
 * that is not a socket is there; another -errno.
 */
int vu_socket_listen(const char *path, int *fd, int *lock_fd)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char lock_path[sizeof(sun.sun_path) + 8];
	struct stat st;
	int s, l, ret;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	snprintf(lock_path, sizeof(lock_path), "%s.lock", path);
	l = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (l < 0)
		return -errno;
	if (flock(l, LOCK_EX | LOCK_NB) < 0) {
		ret = errno == EWOULDBLOCK ? -EADDRINUSE : -errno;
		close(l);
		return ret;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			ret = -EEXIST;
			goto err_unlock;
		}
		if (vu_socket_live(&sun)) {
			ret = -EADDRINUSE;
			goto err_unlock;
		}
		unlink(path);
	}
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		ret = -errno;
		goto err_unlock;
	}
	if (bind(s, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		goto err_close;
	/* One front-end at a time; a reconnecting one waits in the backlog. */
	if (listen(s, 4) < 0)
		goto err_unlink;
	*fd = s;
	*lock_fd = l;
	return 0;

err_unlink:
	ret = -errno;
	unlink(path);
	close(s);
	goto err_unlock;
err_close:
	ret = -errno;
	close(s);
err_unlock:
	unlink(lock_path);
	close(l);
	return ret;
}

/**
 * vu_socket_unlisten - close a listening socket and free its path
 * @path: as given to vu_socket_listen()
 * @fd: the listening socket
 * @lock_fd: its lock
 */
void vu_socket_unlisten(const char *path, int fd, int lock_fd)
{
	char lock_path[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];

	close(fd);
	unlink(path);
	snprintf(lock_path, sizeof(lock_path), "%s.lock", path);
	/* Removed while still held: whoever locks the path next makes a new one. */
	unlink(lock_path);
	close(lock_fd);
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
	memset((char *)&msg->payload + msg->hdr.size, 0, sizeof(msg->payload) - msg->hdr.size);
	return 0;

err_close_fds:
	vu_fds_close(fds, n);
	*nfds = 0;
	return ret;
}

/**
 * vu_rx_init - an empty receive buffer, no fds
 * @rx: the buffer (a zeroed one is empty too: only @nfds fds are valid)
 */
void vu_rx_init(struct vu_rx *rx)
{
	unsigned int i;

	rx->got = 0;
	rx->nfds = 0;
	for (i = 0; i < VHOST_USER_MAX_FDS; i++)
		rx->fds[i] = -1;
}

/**
 * vu_rx_reset - drop a partial message: close its fds, start again
 * @rx: the buffer
 */
void vu_rx_reset(struct vu_rx *rx)
{
	vu_fds_close(rx->fds, rx->nfds);
	vu_rx_init(rx);
}

/* Keep the fds of one recvmsg(); -EPROTO when they are more than a message may carry. */
static int vu_rx_take_fds(struct vu_rx *rx, struct msghdr *mh)
{
	struct cmsghdr *cmsg;
	int ret = 0;

	for (cmsg = CMSG_FIRSTHDR(mh); cmsg; cmsg = CMSG_NXTHDR(mh, cmsg)) {
		unsigned int k, cnt;
		int *data;

		if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		cnt = (unsigned int)((cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		data = (int *)CMSG_DATA(cmsg);
		for (k = 0; k < cnt; k++) {
			int rfd;

			memcpy(&rfd, &data[k], sizeof(rfd));
			if (rx->nfds < VHOST_USER_MAX_FDS) {
				rx->fds[rx->nfds++] = rfd;
			} else {
				close(rfd);
				ret = -EPROTO;
			}
		}
	}
	if (mh->msg_flags & MSG_CTRUNC)
		ret = -EPROTO;
	if (ret)
		pr_err("vhost-user: more than %d fds with one message", VHOST_USER_MAX_FDS);
	return ret;
}

/**
 * vu_socket_recv_step - receive what has arrived of the current message
 * @fd: the connection (need not be O_NONBLOCK: every read is MSG_DONTWAIT)
 * @rx: the message so far; complete when this returns 1
 *
 * Reads at most up to the end of the current message, never into the next
 * one.  After 1, the caller dispatches rx->msg with rx->fds (taking or
 * closing them) and calls vu_rx_init() before the next step.
 *
 * Return: 1 when the message is complete (the payload past hdr.size is
 * zeroed); 0 when the rest has not arrived yet (poll and call again);
 * -ECONNRESET when the peer closed (also mid-message); -EPROTO for a bad
 * version, too many fds or a payload over VHOST_USER_PAYLOAD_MAX; another
 * -errno from recvmsg().  On error the buffer is reset (fds closed).
 */
int vu_socket_recv_step(int fd, struct vu_rx *rx)
{
	char control[CMSG_SPACE(VHOST_USER_MAX_FDS * sizeof(int))];
	const size_t hlen = sizeof(rx->msg.hdr);
	ssize_t got;
	int ret;

	for (;;) {
		size_t want = rx->got < hlen ? hlen : hlen + rx->msg.hdr.size;
		struct iovec iov = {
			.iov_base = (char *)&rx->msg + rx->got,
			.iov_len = want - rx->got,
		};
		struct msghdr mh = {
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = control,
			.msg_controllen = sizeof(control),
		};

		if (rx->got == want)
			break;
		got = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (got <= 0) {
			ret = got ? -errno : -ECONNRESET;
			goto err_reset;
		}
		ret = vu_rx_take_fds(rx, &mh);
		if (ret)
			goto err_reset;
		rx->got += (size_t)got;
		if (rx->got != hlen)
			continue;
		/* The header is complete: is the rest of the message acceptable? */
		if ((rx->msg.hdr.flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION) {
			pr_err("vhost-user: request %u: version %u, expected %u",
			       rx->msg.hdr.request, rx->msg.hdr.flags & VHOST_USER_VERSION_MASK,
			       VHOST_USER_VERSION);
			ret = -EPROTO;
			goto err_reset;
		}
		if (rx->msg.hdr.size > VHOST_USER_PAYLOAD_MAX) {
			pr_err("vhost-user: request %u: payload of %u bytes, at most %d",
			       rx->msg.hdr.request, rx->msg.hdr.size, VHOST_USER_PAYLOAD_MAX);
			ret = -EPROTO;
			goto err_reset;
		}
	}
	/* Handlers may read a fixed-size struct past a short payload: zeros, not stale bytes. */
	memset((char *)&rx->msg.payload + rx->msg.hdr.size, 0,
	       sizeof(rx->msg.payload) - rx->msg.hdr.size);
	return 1;

err_reset:
	vu_rx_reset(rx);
	return ret;
}

/**
 * vu_socket_send - send one message (header and hdr.size payload bytes)
 * @fd: the connection
 * @msg: the message
 * @fds: fds to pass along, or NULL
 * @nfds: how many
 *
 * Return: 0 or -errno (never SIGPIPE; -EAGAIN when the peer's socket buffer
 * is full: it is not reading).
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
		/*
		 * Never wait for a front-end that does not read its replies:
		 * the control thread serves every device.  A full socket
		 * buffer (-EAGAIN) closes that connection.
		 */
		n = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
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
