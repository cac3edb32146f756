// SPDX-License-Identifier: GPL-2.0
/*
 * dev.c - the vhost-user control connection: messages, negotiation and
 * device start (QEMU docs/interop/vhost-user.rst).
 *
 * The back-end is a peer we do not trust to behave: every reply is awaited
 * with poll() and a timeout, its header is checked (request code, REPLY
 * flag, version, exact size) before the payload is used, stray file
 * descriptors are closed, and a closed socket is reported as such.  So a
 * back-end that dies, hangs or talks nonsense costs at most one timeout and
 * leaves a sentence in dev->errmsg.
 *
 * Order of the conversation (what QEMU does for a vhost-user device):
 *   SET_OWNER, GET_FEATURES, [GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES],
 *   [GET_QUEUE_NUM], [GET_CONFIG], SET_FEATURES, [GET_INFLIGHT_FD, or
 *   reconnecting SET_INFLIGHT_FD], SET_MEM_TABLE, then per
 *   queue SET_VRING_NUM, SET_VRING_BASE, SET_VRING_ADDR, SET_VRING_CALL,
 *   SET_VRING_KICK, and [SET_VRING_ENABLE 1] once all queues are set up.
 * With REPLY_ACK every request without a reply of its own carries
 * NEED_REPLY, so each step is confirmed before the next.
 *
 * vuser_dev_reconnect() has the same conversation with a restarted back-end,
 * resuming each ring where the dead one left it.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vuser.h"

static const char *const vuser_msg_names[VHOST_USER_REQUEST_MAX] = {
	[VHOST_USER_GET_FEATURES] = "GET_FEATURES",
	[VHOST_USER_SET_FEATURES] = "SET_FEATURES",
	[VHOST_USER_SET_OWNER] = "SET_OWNER",
	[VHOST_USER_SET_MEM_TABLE] = "SET_MEM_TABLE",
	[VHOST_USER_SET_VRING_NUM] = "SET_VRING_NUM",
	[VHOST_USER_SET_VRING_ADDR] = "SET_VRING_ADDR",
	[VHOST_USER_SET_VRING_BASE] = "SET_VRING_BASE",
	[VHOST_USER_GET_VRING_BASE] = "GET_VRING_BASE",
	[VHOST_USER_SET_VRING_KICK] = "SET_VRING_KICK",
	[VHOST_USER_SET_VRING_CALL] = "SET_VRING_CALL",
	[VHOST_USER_GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES",
	[VHOST_USER_SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES",
	[VHOST_USER_GET_QUEUE_NUM] = "GET_QUEUE_NUM",
	[VHOST_USER_SET_VRING_ENABLE] = "SET_VRING_ENABLE",
	[VHOST_USER_GET_CONFIG] = "GET_CONFIG",
	[VHOST_USER_SET_STATUS] = "SET_STATUS",
	[VHOST_USER_GET_INFLIGHT_FD] = "GET_INFLIGHT_FD",
	[VHOST_USER_SET_INFLIGHT_FD] = "SET_INFLIGHT_FD",
};

static const char *vuser_msg_name(unsigned int req)
{
	if (req < VHOST_USER_REQUEST_MAX && vuser_msg_names[req])
		return vuser_msg_names[req];
	return "request";
}

/*
 * Protocol features we implement.  Everything else (LOG_SHMFD, BACKEND_REQ,
 * ...) needs machinery a benchmark client has no use for, and leaving it off
 * keeps the back-end from expecting it.  With INFLIGHT_SHMFD the back-end
 * keeps an in-flight region (vuser_dev_inflight_get()) that makes a
 * reconnect exact.
 */
#define VUSER_PROTOCOL_FEATURES                                                           \
	(PVIO_BIT(VHOST_USER_PROTOCOL_F_MQ) | PVIO_BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK) | \
	 PVIO_BIT(VHOST_USER_PROTOCOL_F_CONFIG) | PVIO_BIT(VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD))

/**
 * vuser_dev_err - record an error for the user
 * @dev: the device
 * @err: the -errno to return
 * @fmt: what went wrong
 *
 * Return: @err, so callers can write "return vuser_dev_err(...)".
 */
int vuser_dev_err(struct vuser_dev *dev, int err, const char *fmt, ...)
{
	int n;
	va_list ap;

	n = snprintf(dev->errmsg, sizeof(dev->errmsg), "vhost-user %s: ", dev->path);
	if (n < 0 || (size_t)n >= sizeof(dev->errmsg))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(dev->errmsg + n, sizeof(dev->errmsg) - n, fmt, ap);
	va_end(ap);
	return err;
}

/**
 * vuser_dev_errmsg - the last error, as a sentence
 * @dev: the device
 *
 * Return: the message, or "" when nothing failed.
 */
const char *vuser_dev_errmsg(const struct vuser_dev *dev)
{
	return dev->errmsg;
}

/**
 * vuser_dev_has - was a feature negotiated?
 * @dev: the device after negotiation
 * @feature: a virtio feature bit number
 */
bool vuser_dev_has(const struct vuser_dev *dev, unsigned int feature)
{
	return dev->features & PVIO_BIT(feature);
}

static bool vuser_dev_has_proto(const struct vuser_dev *dev, unsigned int feature)
{
	return dev->protocol_features & PVIO_BIT(feature);
}

static int64_t vuser_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Wait until the socket is ready for @events or the deadline passes.  A
 * hang-up is not an error here: the following recv/send reports it better.
 */
static int vuser_sock_wait(struct vuser_dev *dev, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = dev->sock, .events = events };
	int64_t left;
	int r;

	for (;;) {
		left = deadline - vuser_now_ms();
		if (left < 0)
			left = 0;
		r = poll(&pfd, 1, (int)left);
		if (r > 0)
			return 0;
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

/* Close the fds that came with a message, but the first when @keep wants one. */
static void vuser_close_fds(const struct msghdr *mh, int *keep)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR((struct msghdr *)mh, c)) {
		size_t i, n;
		int *fds;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		fds = (int *)CMSG_DATA(c);
		for (i = 0; i < n; i++) {
			if (keep && *keep < 0)
				*keep = fds[i];
			else
				close(fds[i]);
		}
	}
}

/*
 * Send one message with up to VHOST_USER_MAX_FDS descriptors.  The header and
 * payload go in one sendmsg(); a stream socket may still take them in parts,
 * so the rest is sent after waiting for room, bounded by the timeout.
 */
static int vuser_msg_send(struct vuser_dev *dev, struct vhost_user_msg *msg, const int *fds,
			  unsigned int nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VHOST_USER_MAX_FDS)];
		struct cmsghdr align;
	} cbuf;
	size_t total = sizeof(msg->hdr) + msg->hdr.size, done = 0;
	int64_t deadline = vuser_now_ms() + dev->timeout_ms;
	const char *name = vuser_msg_name(msg->hdr.request);
	ssize_t n;
	int r;

	while (done < total) {
		struct iovec iov = { (char *)msg + done, total - done };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

		if (!done && nfds) {
			struct cmsghdr *c;

			memset(&cbuf, 0, sizeof(cbuf));
			mh.msg_control = cbuf.buf;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
			c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
			memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
		}
		n = sendmsg(dev->sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			r = vuser_sock_wait(dev, POLLOUT, deadline);
			if (r == -ETIMEDOUT)
				return vuser_dev_err(dev, r,
						     "back-end did not take %s within %d ms", name,
						     dev->timeout_ms);
			if (r)
				return vuser_dev_err(dev, r, "poll: %s", strerror(-r));
			continue;
		}
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
			return vuser_dev_err(dev, -ECONNRESET,
					     "back-end closed the connection (sending %s)", name);
		return vuser_dev_err(dev, n < 0 ? -errno : -EIO, "sending %s: %s", name,
				     n < 0 ? strerror(errno) : "short write");
	}
	return 0;
}

/*
 * Receive exactly @len bytes before the deadline; fds that come along are
 * closed, but the first one when @fd is not NULL: it lands in *@fd (which
 * must be -1), for the caller to close.
 */
static int vuser_sock_recv(struct vuser_dev *dev, void *buf, size_t len, int64_t deadline,
			   const char *name, int *fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VHOST_USER_MAX_FDS)];
		struct cmsghdr align;
	} cbuf;
	size_t done = 0;
	ssize_t n;
	int r;

	while (done < len) {
		struct iovec iov = { (char *)buf + done, len - done };
		struct msghdr mh = { .msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = cbuf.buf,
				     .msg_controllen = sizeof(cbuf) };

		r = vuser_sock_wait(dev, POLLIN, deadline);
		/*
		 * clang-format off/on below: keeps a long error message whole on one line
		 * (greppable); clang-format would only fit it by ending the line with "(",
		 * which checkpatch rejects (OPEN_ENDED_LINE).
		 */
		/* clang-format off */
		if (r == -ETIMEDOUT)
			return vuser_dev_err(dev, r,
					     "no reply to %s within %d ms: the back-end is not answering",
					     name, dev->timeout_ms);
		/* clang-format on */
		if (r)
			return vuser_dev_err(dev, r, "poll: %s", strerror(-r));
		n = recvmsg(dev->sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return vuser_dev_err(dev, -errno, "receiving the reply to %s: %s", name,
					     strerror(errno));
		/* Only GET_INFLIGHT_FD's reply has one: any other is the peer's mistake. */
		vuser_close_fds(&mh, fd);
		/* clang-format off */
		if (n == 0)
			return vuser_dev_err(dev, -ECONNRESET,
					     "back-end closed the connection while we waited for the reply to %s",
					     name);
		/* clang-format on */
		done += (size_t)n;
	}
	return 0;
}

/*
 * Receive the reply to @req and check its header: the request code must be
 * the one we sent, the REPLY flag and version 1 set, and the size exactly
 * @size (every reply we take has a fixed size).  The payload lands in
 * msg->payload; with @fd, the first fd that came with it in *@fd (-1 when
 * none did; closed again when the reply is refused).
 */
static int vuser_msg_recv_reply_fd(struct vuser_dev *dev, unsigned int req,
				   struct vhost_user_msg *msg, size_t size, int *fd)
{
	int64_t deadline = vuser_now_ms() + dev->timeout_ms;
	const char *name = vuser_msg_name(req);
	int r;

	if (fd)
		*fd = -1;
	r = vuser_sock_recv(dev, &msg->hdr, sizeof(msg->hdr), deadline, name, fd);
	if (r)
		goto err_close_fd;
	/* clang-format off */
	if (msg->hdr.request != req) {
		r = vuser_dev_err(dev, -EPROTO,
				  "reply to %s (%u) carries request code %u: the back-end is out of step",
				  name, req, msg->hdr.request);
		goto err_close_fd;
	}
	/* clang-format on */
	if ((msg->hdr.flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION ||
	    !(msg->hdr.flags & VHOST_USER_FLAG_REPLY)) {
		r = vuser_dev_err(dev, -EPROTO,
				  "reply to %s has flags 0x%x, want version 1 and REPLY (0x%x)",
				  name, msg->hdr.flags, VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY);
		goto err_close_fd;
	}
	if (msg->hdr.size != size) {
		/* Drain a sane-sized payload so the stream stays in step for the message. */
		if (msg->hdr.size <= VHOST_USER_PAYLOAD_MAX)
			vuser_sock_recv(dev, &msg->payload, msg->hdr.size, deadline, name, fd);
		r = vuser_dev_err(dev, -EPROTO, "reply to %s has %u payload bytes, expected %zu",
				  name, msg->hdr.size, size);
		goto err_close_fd;
	}
	r = vuser_sock_recv(dev, &msg->payload, size, deadline, name, fd);
	if (!r)
		return 0;
err_close_fd:
	if (fd && *fd >= 0) {
		close(*fd);
		*fd = -1;
	}
	return r;
}

static int vuser_msg_recv_reply(struct vuser_dev *dev, unsigned int req, struct vhost_user_msg *msg,
				size_t size)
{
	return vuser_msg_recv_reply_fd(dev, req, msg, size, NULL);
}

static void vuser_msg_init(struct vhost_user_msg *msg, unsigned int req, size_t size)
{
	memset(&msg->hdr, 0, sizeof(msg->hdr));
	msg->hdr.request = req;
	msg->hdr.flags = VHOST_USER_VERSION;
	msg->hdr.size = (uint32_t)size;
}

/*
 * Send a request that has no reply of its own.  With REPLY_ACK it asks for
 * one and checks the u64 status (0 = success), so a back-end that rejects a
 * step says so here instead of failing obscurely later.
 */
static int vuser_msg_call(struct vuser_dev *dev, struct vhost_user_msg *msg, const int *fds,
			  unsigned int nfds)
{
	unsigned int req = msg->hdr.request;
	struct vhost_user_msg reply;
	int r;

	if (vuser_dev_has_proto(dev, VHOST_USER_PROTOCOL_F_REPLY_ACK))
		msg->hdr.flags |= VHOST_USER_FLAG_NEED_REPLY;
	r = vuser_msg_send(dev, msg, fds, nfds);
	if (r || !(msg->hdr.flags & VHOST_USER_FLAG_NEED_REPLY))
		return r;
	r = vuser_msg_recv_reply(dev, req, &reply, sizeof(reply.payload.u64));
	if (r)
		return r;
	if (reply.payload.u64)
		return vuser_dev_err(dev, -EIO, "back-end rejected %s (status %llu)",
				     vuser_msg_name(req), (unsigned long long)reply.payload.u64);
	return 0;
}

static int vuser_msg_get_u64(struct vuser_dev *dev, unsigned int req, uint64_t *val)
{
	struct vhost_user_msg msg;
	int r;

	vuser_msg_init(&msg, req, 0);
	r = vuser_msg_send(dev, &msg, NULL, 0);
	if (r)
		return r;
	r = vuser_msg_recv_reply(dev, req, &msg, sizeof(msg.payload.u64));
	if (r)
		return r;
	*val = msg.payload.u64;
	return 0;
}

static int vuser_msg_set_u64(struct vuser_dev *dev, unsigned int req, uint64_t val)
{
	struct vhost_user_msg msg;

	vuser_msg_init(&msg, req, sizeof(msg.payload.u64));
	msg.payload.u64 = val;
	return vuser_msg_call(dev, &msg, NULL, 0);
}

static int vuser_msg_set_state(struct vuser_dev *dev, unsigned int req, unsigned int index,
			       unsigned int num)
{
	struct vhost_user_msg msg;

	vuser_msg_init(&msg, req, sizeof(msg.payload.state));
	msg.payload.state.index = index;
	msg.payload.state.num = num;
	return vuser_msg_call(dev, &msg, NULL, 0);
}

/**
 * vuser_dev_connect - connect to a back-end's socket
 * @dev: zeroed device; sock, path and timeout are filled in
 * @path: the Unix socket path the back-end listens on
 * @timeout_ms: per-reply timeout (0: VUSER_TIMEOUT_MS_DEFAULT)
 *
 * Return: 0, -ENAMETOOLONG, or the -errno of socket()/connect().
 */
int vuser_dev_connect(struct vuser_dev *dev, const char *path, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	dev->sock = -1;
	dev->timeout_ms = timeout_ms > 0 ? timeout_ms : VUSER_TIMEOUT_MS_DEFAULT;
	snprintf(dev->path, sizeof(dev->path), "%s", path);
	if (strlen(path) >= sizeof(sa.sun_path))
		return vuser_dev_err(dev, -ENAMETOOLONG, "socket path longer than %zu bytes",
				     sizeof(sa.sun_path) - 1);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	dev->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (dev->sock < 0)
		return vuser_dev_err(dev, -errno, "socket: %s", strerror(errno));
	if (connect(dev->sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;

		close(dev->sock);
		dev->sock = -1;
		/* clang-format off */
		return vuser_dev_err(dev, err,
				     "cannot connect: %s (is the back-end running and listening there?)",
				     strerror(-err));
		/* clang-format on */
	}
	return 0;
}

/**
 * vuser_dev_negotiate - agree on features and read the device config
 * @dev: a connected device
 * @opts: the features the caller can use and needs, queues wanted
 *
 * Return: 0, -ENOTSUP when a required feature is missing, or the error of a
 * message exchange.
 */
int vuser_dev_negotiate(struct vuser_dev *dev, const struct vuser_dev_opts *opts)
{
	uint64_t want, pf = 0, qnum;
	struct vhost_user_msg msg;
	int r;

	/* No payload, and no ack: REPLY_ACK is not negotiated yet. */
	vuser_msg_init(&msg, VHOST_USER_SET_OWNER, 0);
	r = vuser_msg_send(dev, &msg, NULL, 0);
	if (r)
		return r;
	r = vuser_msg_get_u64(dev, VHOST_USER_GET_FEATURES, &dev->dev_features);
	if (r)
		return r;

	if (dev->dev_features & PVIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES)) {
		r = vuser_msg_get_u64(dev, VHOST_USER_GET_PROTOCOL_FEATURES, &pf);
		if (r)
			return r;
		pf &= VUSER_PROTOCOL_FEATURES;
		r = vuser_msg_set_u64(dev, VHOST_USER_SET_PROTOCOL_FEATURES, pf);
		if (r)
			return r;
		/* Only now may requests carry NEED_REPLY. */
		dev->protocol_features = pf;
	}

	dev->max_queues = 1;
	if (vuser_dev_has_proto(dev, VHOST_USER_PROTOCOL_F_MQ)) {
		r = vuser_msg_get_u64(dev, VHOST_USER_GET_QUEUE_NUM, &qnum);
		if (r)
			return r;
		if (qnum == 0 || qnum > 0xffff)
			return vuser_dev_err(dev, -EPROTO, "GET_QUEUE_NUM says %llu queues",
					     (unsigned long long)qnum);
		dev->max_queues = (unsigned int)qnum;
	}
	/* A net back-end counts queue pairs (QEMU reads it so too); one pair without MQ. */
	if (opts->queue_pairs)
		dev->max_queues *= 2;

	if (opts->config_size && vuser_dev_has_proto(dev, VHOST_USER_PROTOCOL_F_CONFIG)) {
		r = vuser_dev_get_config(dev, dev->config, opts->config_size);
		if (r)
			return r;
		dev->config_len = opts->config_size;
	}

	want = opts->features | PVIO_BIT(PVIO_F_VERSION_1);
	dev->features = dev->dev_features & want;
	if ((dev->features & opts->required) != opts->required)
		return vuser_dev_err(dev, -ENOTSUP,
				     "back-end lacks required features 0x%llx (it offers 0x%llx)",
				     (unsigned long long)(opts->required & ~dev->features),
				     (unsigned long long)dev->dev_features);
	/* clang-format off */
	if (!(dev->features & PVIO_BIT(PVIO_F_VERSION_1)))
		return vuser_dev_err(dev, -ENOTSUP,
				     "back-end does not offer VIRTIO_F_VERSION_1; legacy devices are not supported");
	/* clang-format on */
	/*
	 * Echo PROTOCOL_FEATURES back: it makes rings start disabled until
	 * SET_VRING_ENABLE, so no back-end runs a ring we have not finished.
	 */
	if (dev->dev_features & PVIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES))
		dev->features |= PVIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES);
	/* A net device's control queue follows its queue pairs (not in GET_QUEUE_NUM). */
	if (opts->queue_pairs && vuser_dev_has(dev, PVIO_NET_F_CTRL_VQ))
		dev->max_queues++;
	return vuser_msg_set_u64(dev, VHOST_USER_SET_FEATURES, dev->features);
}

/**
 * vuser_dev_get_config - read the device configuration space (GET_CONFIG)
 * @dev: a device that negotiated PROTOCOL_F_CONFIG
 * @buf: filled with @len bytes from offset 0
 * @len: at most VHOST_USER_CONFIG_SIZE_MAX
 *
 * Return: 0, -ENOTSUP without PROTOCOL_F_CONFIG, -EPROTO when the back-end
 * answers with another size (it means "failed" in vhost-user).
 */
int vuser_dev_get_config(struct vuser_dev *dev, void *buf, size_t len)
{
	const size_t hdr = offsetof(struct vhost_user_config, payload);
	struct vhost_user_msg msg;
	int r;

	if (!vuser_dev_has_proto(dev, VHOST_USER_PROTOCOL_F_CONFIG))
		return vuser_dev_err(dev, -ENOTSUP, "back-end does not support GET_CONFIG");
	if (len > VHOST_USER_CONFIG_SIZE_MAX)
		return vuser_dev_err(dev, -EINVAL, "config read of %zu bytes", len);
	vuser_msg_init(&msg, VHOST_USER_GET_CONFIG, hdr + len);
	memset(&msg.payload.config, 0, sizeof(msg.payload.config));
	msg.payload.config.offset = 0;
	msg.payload.config.size = (uint32_t)len;
	r = vuser_msg_send(dev, &msg, NULL, 0);
	if (r)
		return r;
	r = vuser_msg_recv_reply(dev, VHOST_USER_GET_CONFIG, &msg, hdr + len);
	if (r)
		return r;
	if (msg.payload.config.size != len)
		return vuser_dev_err(dev, -EPROTO, "GET_CONFIG reply is for %u bytes, asked %zu",
				     msg.payload.config.size, len);
	memcpy(buf, msg.payload.config.payload, len);
	return 0;
}

/**
 * vuser_dev_config_write - write the device configuration space (SET_CONFIG)
 * @dev: a device that negotiated PROTOCOL_F_CONFIG
 * @offset: byte offset in the config space
 * @buf: @len bytes to write there
 * @len: at most VHOST_USER_CONFIG_SIZE_MAX - @offset
 *
 * Asks for a REPLY_ACK when the back-end offers it, so a refused write is
 * seen; without REPLY_ACK the write is unacknowledged (vhost-user has no
 * reply to SET_CONFIG).
 *
 * Return: 0, -ENOTSUP without PROTOCOL_F_CONFIG, -EINVAL on a bad range, or
 * the back-end's error from the ack.
 */
int vuser_dev_config_write(struct vuser_dev *dev, uint32_t offset, const void *buf, size_t len)
{
	const size_t hdr = offsetof(struct vhost_user_config, payload);
	struct vhost_user_msg msg;

	if (!vuser_dev_has_proto(dev, VHOST_USER_PROTOCOL_F_CONFIG))
		return vuser_dev_err(dev, -ENOTSUP, "back-end does not support SET_CONFIG");
	if (offset > VHOST_USER_CONFIG_SIZE_MAX || len > VHOST_USER_CONFIG_SIZE_MAX - offset)
		return vuser_dev_err(dev, -EINVAL, "config write of %zu bytes at %u", len, offset);
	vuser_msg_init(&msg, VHOST_USER_SET_CONFIG, hdr + len);
	memset(&msg.payload.config, 0, sizeof(msg.payload.config));
	msg.payload.config.offset = offset;
	msg.payload.config.size = (uint32_t)len;
	memcpy(msg.payload.config.payload, buf, len);
	return vuser_msg_call(dev, &msg, NULL, 0);
}

static int vuser_dev_set_mem_table(struct vuser_dev *dev)
{
	struct vhost_user_mem_region reg = {
		.guest_phys_addr = 0, /* guest-physical = offset in the memfd */
		.memory_size = dev->mem.size,
		.userspace_addr = (uint64_t)(uintptr_t)dev->mem.base,
		.mmap_offset = 0,
	};
	struct vhost_user_msg msg;

	vuser_msg_init(&msg, VHOST_USER_SET_MEM_TABLE,
		       offsetof(struct vhost_user_memory, regions) + sizeof(reg));
	memset(&msg.payload.memory, 0, sizeof(msg.payload.memory));
	msg.payload.memory.nregions = 1;
	memcpy(msg.payload.raw + offsetof(struct vhost_user_memory, regions), &reg, sizeof(reg));
	return vuser_msg_call(dev, &msg, &dev->mem.fd, 1);
}

/*
 * Does the device keep an in-flight region?  Whenever the back-end can, as
 * QEMU's vhost-user-blk asks: neither format resumes exactly from the ring
 * alone once the device used chains out of order.  Split: the avail entries
 * from used->idx are popped again, chains used out of order are served
 * twice and those they overtook never.  Packed: used descriptors written
 * over the heads of other chains destroy them.
 */
static bool vuser_dev_wants_inflight(const struct vuser_dev *dev)
{
	return vuser_dev_has_proto(dev, VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD);
}

/*
 * GET_INFLIGHT_FD: the back-end makes the region (QEMU's "Inflight I/O
 * tracking": the ring format's layout, one region per queue) and hands us
 * its fd, which we keep for the device's life and give to every back-end
 * that follows (vuser_dev_inflight_set()).  The back-end tracks from now.
 */
static int vuser_dev_inflight_get(struct vuser_dev *dev)
{
	struct vhost_user_msg msg;
	int r, fd;

	vuser_msg_init(&msg, VHOST_USER_GET_INFLIGHT_FD, sizeof(msg.payload.inflight));
	memset(&msg.payload.inflight, 0, sizeof(msg.payload.inflight));
	msg.payload.inflight.num_queues = (uint16_t)dev->nqueues;
	msg.payload.inflight.queue_size = (uint16_t)dev->queues[0].num;
	r = vuser_msg_send(dev, &msg, NULL, 0);
	if (r)
		return r;
	r = vuser_msg_recv_reply_fd(dev, VHOST_USER_GET_INFLIGHT_FD, &msg,
				    sizeof(msg.payload.inflight), &fd);
	if (r)
		return r;
	if (fd < 0 || !msg.payload.inflight.mmap_size) {
		if (fd >= 0)
			close(fd);
		/* clang-format off */
		return vuser_dev_err(dev, -EPROTO,
				     "GET_INFLIGHT_FD reply has %s and %llu bytes: want an fd and a size",
				     fd < 0 ? "no fd" : "an fd",
				     (unsigned long long)msg.payload.inflight.mmap_size);
		/* clang-format on */
	}
	dev->inflight_fd = fd;
	dev->inflight = msg.payload.inflight;
	dev->inflight.num_queues = (uint16_t)dev->nqueues;
	dev->inflight.queue_size = (uint16_t)dev->queues[0].num;
	return 0;
}

/* SET_INFLIGHT_FD: a restarted back-end adopts the region its predecessor kept. */
static int vuser_dev_inflight_set(struct vuser_dev *dev)
{
	struct vhost_user_msg msg;

	vuser_msg_init(&msg, VHOST_USER_SET_INFLIGHT_FD, sizeof(msg.payload.inflight));
	msg.payload.inflight = dev->inflight;
	return vuser_msg_call(dev, &msg, &dev->inflight_fd, 1);
}

/*
 * Before any ring starts (after SET_FEATURES: the layout depends on the
 * format): hand the back-end the region we keep (SET_INFLIGHT_FD), or have
 * it make one (GET_INFLIGHT_FD) when we keep none yet.  Return: 1 when the
 * back-end took a kept region, whose chains in flight it resubmits; 0 when
 * it tracks from now, or keeps no region; or the error of the exchange.
 */
static int vuser_dev_inflight_setup(struct vuser_dev *dev)
{
	int r;

	if (!vuser_dev_wants_inflight(dev))
		return 0;
	if (dev->inflight_fd < 0)
		return vuser_dev_inflight_get(dev);
	r = vuser_dev_inflight_set(dev);
	return r ? r : 1;
}

/* Set up one ring on the back-end, resuming at @base (SET_VRING_BASE). */
static int vuser_dev_queue_start(struct vuser_dev *dev, struct vuser_queue *q, unsigned int base)
{
	struct vhost_user_msg msg;
	int r;

	r = vuser_msg_set_state(dev, VHOST_USER_SET_VRING_NUM, q->index, q->num);
	if (r)
		return r;
	r = vuser_msg_set_state(dev, VHOST_USER_SET_VRING_BASE, q->index, base);
	if (r)
		return r;
	vuser_msg_init(&msg, VHOST_USER_SET_VRING_ADDR, sizeof(msg.payload.addr));
	memset(&msg.payload.addr, 0, sizeof(msg.payload.addr));
	msg.payload.addr.index = q->index;
	msg.payload.addr.desc_user_addr = (uint64_t)(uintptr_t)q->area[0];
	msg.payload.addr.avail_user_addr = (uint64_t)(uintptr_t)q->area[1];
	msg.payload.addr.used_user_addr = (uint64_t)(uintptr_t)q->area[2];
	r = vuser_msg_call(dev, &msg, NULL, 0);
	if (r)
		return r;
	/*
	 * Call before kick: a back-end starts the ring when it gets the kick fd
	 * and must already know where to signal completions.
	 */
	vuser_msg_init(&msg, VHOST_USER_SET_VRING_CALL, sizeof(msg.payload.u64));
	msg.payload.u64 = q->index;
	r = vuser_msg_call(dev, &msg, &q->call_fd, 1);
	if (r)
		return r;
	vuser_msg_init(&msg, VHOST_USER_SET_VRING_KICK, sizeof(msg.payload.u64));
	msg.payload.u64 = q->index;
	return vuser_msg_call(dev, &msg, &q->kick_fd, 1);
}

/* SET_VRING_ENABLE 1 on every queue, once all are set up (PROTOCOL_FEATURES only). */
static int vuser_dev_enable(struct vuser_dev *dev)
{
	unsigned int i;
	int r;

	if (!(dev->features & PVIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES)))
		return 0;
	for (i = 0; i < dev->nqueues; i++) {
		r = vuser_msg_set_state(dev, VHOST_USER_SET_VRING_ENABLE, dev->queues[i].index, 1);
		if (r)
			return r;
	}
	return 0;
}

/**
 * vuser_dev_start - share memory, set up and enable the queues
 * @dev: a negotiated device whose guest memory and queues are initialised
 * @opts: unused for now (reserved for per-queue options)
 *
 * Return: 0 or the error of a message exchange.
 */
int vuser_dev_start(struct vuser_dev *dev, const struct vuser_dev_opts *opts)
{
	unsigned int i;
	int r;

	r = vuser_dev_inflight_setup(dev);
	if (r < 0)
		return r;
	r = vuser_dev_set_mem_table(dev);
	if (r)
		return r;
	/*
	 * Fresh rings: the first descriptor; a packed ring's wrap counters
	 * start at 1 (bit 15 of each half of the packed encoding).
	 */
	for (i = 0; i < dev->nqueues; i++) {
		r = vuser_dev_queue_start(dev, &dev->queues[i],
					  vuser_dev_has(dev, PVIO_F_RING_PACKED) ? 0x80008000u : 0);
		if (r)
			return r;
	}
	return vuser_dev_enable(dev);
}

static int vuser_dev_connect_retry(struct vuser_dev *dev, const char *path, int wait_ms)
{
	int64_t deadline = vuser_now_ms() + wait_ms;
	int r;

	for (;;) {
		r = vuser_dev_connect(dev, path, dev->timeout_ms);
		if (r != -ENOENT && r != -ECONNREFUSED)
			return r;
		if (vuser_now_ms() >= deadline)
			return r;
		usleep(20000);
	}
}

/**
 * vuser_dev_reconnect - resume a device on a restarted back-end
 * @dev: an open device whose back-end went away (its socket hung up)
 * @opts: the options it was opened with (the same features are asked for)
 * @wait_ms: how long to keep trying to connect while nobody listens yet
 *
 * What QEMU does when its vhost-user chardev reconnects: a new connection,
 * the same negotiation, which must end with exactly the features the rings
 * run with, then the in-flight region the old back-end kept
 * (SET_INFLIGHT_FD), the same guest memory and, for each ring, its size,
 * where to resume (pvring_drv_resume_base(): split, the used index; packed,
 * the position after the last used descriptor, both halves of the packed
 * encoding), its addresses and its call and kick eventfds.  A back-end
 * with the region resubmits what was in flight from it and resumes where
 * it says; used buffers not yet reaped stay in the ring, reaped once.
 * Guest memory, rings, buffers and everything the device layer remembers
 * are kept: to the caller the device never went away.  Every queue is
 * kicked afterwards, because the new back-end has not seen the kicks the
 * old one swallowed.
 *
 * Return: 0; -EPROTO when the back-end now offers other features or fewer
 * queues; -ESTALE when a packed ring cannot be resumed without a region
 * (the old back-end used chains out of order, or died writing used ones)
 * and the new back-end takes none; -EIO when the old one broke a ring; the
 * error of connect() or of a message exchange.
 */
int vuser_dev_reconnect(struct vuser_dev *dev, const struct vuser_dev_opts *opts, int wait_ms)
{
	uint64_t features = dev->features;
	char path[sizeof(dev->path)];
	bool tracked;
	unsigned int i;
	uint32_t base;
	int r;

	memcpy(path, dev->path, sizeof(path));
	if (dev->sock >= 0)
		close(dev->sock);
	dev->sock = -1;
	r = vuser_dev_connect_retry(dev, path, wait_ms);
	if (r)
		return r;
	/* The old back-end's protocol features do not hold for the new one. */
	dev->protocol_features = 0;
	r = vuser_dev_negotiate(dev, opts);
	if (r)
		return r;
	/* clang-format off */
	if (dev->features != features || dev->max_queues < dev->nqueues)
		return vuser_dev_err(dev, -EPROTO,
				     "the new back-end agreed to features 0x%llx and %u queues; the rings run with 0x%llx and %u",
				     (unsigned long long)dev->features, dev->max_queues,
				     (unsigned long long)features, dev->nqueues);
	/* clang-format on */
	/*
	 * The region goes to the new back-end; one that never had a region
	 * (the old back-end offered none) gets a fresh one, which tracks from
	 * here.
	 */
	r = vuser_dev_inflight_setup(dev);
	if (r < 0)
		return r;
	tracked = r;
	r = vuser_dev_set_mem_table(dev);
	if (r)
		return r;
	for (i = 0; i < dev->nqueues; i++) {
		struct vuser_queue *q = &dev->queues[i];

		/* The dead back-end no longer writes the ring: it is ours to read. */
		r = pvring_drv_resume_base(&q->ring, tracked, &base);
		/* clang-format off */
		if (r == -ESTALE)
			return vuser_dev_err(dev, r,
					     "queue %u: the old back-end used packed descriptors out of order or died writing them, and the new one keeps no in-flight region: cannot resume",
					     q->index);
		/* clang-format on */
		if (r)
			return vuser_dev_err(dev, r, "queue %u: the old back-end broke the ring",
					     q->index);
		r = vuser_dev_queue_start(dev, q, base);
		if (r)
			return r;
	}
	r = vuser_dev_enable(dev);
	if (r)
		return r;
	for (i = 0; i < dev->nqueues; i++) {
		uint64_t one = 1;

		dev->queues[i].kicks++;
		/* EAGAIN: the counter is huge already, the back-end looks anyway. */
		if (write(dev->queues[i].kick_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			return vuser_dev_err(dev, -errno, "kick queue %u: %s", i, strerror(errno));
	}
	return 0;
}

/**
 * vuser_dev_open - connect, negotiate, and start a device with its queues
 * @dev: filled in (need not be zeroed)
 * @opts: what to connect to and what to ask for
 *
 * Queues are vhost-user vrings 0..num_queues-1; the device layer decides what
 * each one is for.
 *
 * Return: 0, or -errno with vuser_dev_errmsg() saying why.
 */
int vuser_dev_open(struct vuser_dev *dev, const struct vuser_dev_opts *opts)
{
	unsigned int qsize = opts->queue_size ? opts->queue_size : VUSER_QUEUE_SIZE_DEFAULT;
	unsigned int i, nq;
	size_t ring_bytes;
	int r;

	memset(dev, 0, sizeof(*dev));
	dev->sock = -1;
	dev->mem.fd = -1;
	dev->inflight_fd = -1;
	r = vuser_dev_connect(dev, opts->socket_path, opts->timeout_ms);
	if (r)
		return r;
	r = vuser_dev_negotiate(dev, opts);
	if (r)
		goto err_close_sock;

	nq = opts->num_queues ? opts->num_queues : dev->max_queues;
	if (nq > dev->max_queues || nq > VUSER_MAX_QUEUES) {
		r = vuser_dev_err(dev, -EINVAL, "%u queues asked, the back-end has %u", nq,
				  dev->max_queues);
		goto err_close_sock;
	}
	if (!pvring_size_valid(qsize)) {
		r = vuser_dev_err(dev, -EINVAL, "queue size %u is not a power of two up to 32768",
				  qsize);
		goto err_close_sock;
	}

	/* Rings, indirect tables and alignment slack, then the caller's share. */
	ring_bytes = pvring_desc_bytes(qsize) + pvring_avail_bytes(qsize) +
		     pvring_used_bytes(qsize) + 4096;
	ring_bytes += (size_t)qsize * opts->indirect_max * sizeof(struct pvring_desc);
	r = vuser_mem_init(&dev->mem, opts->mem_size + nq * ring_bytes, opts->hugetlb);
	if (r) {
		vuser_dev_err(dev, r, "cannot create %zu bytes of %sguest memory: %s",
			      opts->mem_size + nq * ring_bytes, opts->hugetlb ? "hugetlb " : "",
			      strerror(-r));
		goto err_close_sock;
	}
	dev->queues = calloc(nq, sizeof(*dev->queues));
	if (!dev->queues) {
		r = vuser_dev_err(dev, -ENOMEM, "out of memory");
		goto err_destroy_mem;
	}
	for (i = 0; i < nq; i++) {
		r = vuser_queue_init(&dev->queues[i], dev, i, qsize,
				     vuser_dev_has(dev, PVIO_F_INDIRECT_DESC) ? opts->indirect_max :
										0);
		if (r)
			goto err_destroy_queues;
		dev->nqueues = i + 1;
	}
	r = vuser_dev_start(dev, opts);
	if (r)
		goto err_destroy_queues;
	return 0;

err_destroy_queues:
	if (dev->inflight_fd >= 0)
		close(dev->inflight_fd);
	dev->inflight_fd = -1;
	for (i = 0; i < dev->nqueues; i++)
		vuser_queue_destroy(&dev->queues[i]);
	free(dev->queues);
	dev->queues = NULL;
	dev->nqueues = 0;
err_destroy_mem:
	vuser_mem_destroy(&dev->mem);
err_close_sock:
	close(dev->sock);
	dev->sock = -1;
	return r;
}

/**
 * vuser_dev_close - disconnect and free everything
 * @dev: an open device (or one whose vuser_dev_open() failed: then a no-op)
 *
 * Closing the socket is the vhost-user way to stop a device: the back-end
 * stops its rings and unmaps our memory.
 */
void vuser_dev_close(struct vuser_dev *dev)
{
	unsigned int i;

	if (dev->sock >= 0)
		close(dev->sock);
	dev->sock = -1;
	if (dev->inflight_fd >= 0)
		close(dev->inflight_fd);
	dev->inflight_fd = -1;
	for (i = 0; i < dev->nqueues; i++)
		vuser_queue_destroy(&dev->queues[i]);
	free(dev->queues);
	dev->queues = NULL;
	dev->nqueues = 0;
	vuser_mem_destroy(&dev->mem);
}
