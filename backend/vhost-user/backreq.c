// SPDX-License-Identifier: GPL-2.0
/*
 * backreq.c - the back-end's own channel (PROTOCOL_F_BACKEND_REQ, called
 * SLAVE_REQ before QEMU 8.1): the socket the front-end hands over with
 * SET_BACKEND_REQ_FD, on which pviod sends CONFIG_CHANGE_MSG when a device's
 * config space changed (a disk grew, a link went down, a console resized).
 *
 * The front-end is as hostile here as anywhere, and the control thread
 * serves every device, so nothing on this channel waits:
 *  - the message is sent with MSG_DONTWAIT; a socket that does not take
 *    its 12 bytes belongs to a front-end that does not read, and the
 *    channel is closed;
 *  - with REPLY_ACK, NEED_REPLY is set and the ack is read from the loop
 *    like any message (a partial one waits in its buffer), under a timer:
 *    no ack within VU_BACKREQ_TIMEOUT_MS closes the channel too;
 *  - one message at a time: a change while one is unanswered is sent once
 *    the ack came (the front-end reads the config then, so one message
 *    covers any number of changes).
 * Closing the channel costs that front-end later notifications, nothing
 * else: its session, its queues and every other device go on.  Whatever it
 * sends that is not the ack we wait for also closes the channel.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>

#include "vhost-user/vu.h"

/* How long a front-end may take to ack a CONFIG_CHANGE_MSG. */
#define VU_BACKREQ_TIMEOUT_MS 3000u

static struct vu_dev *vu_of_breq(struct vu_backreq *b)
{
	return (struct vu_dev *)((char *)b - offsetof(struct vu_dev, breq));
}

/**
 * vu_backreq_close - stop using the back-end channel
 * @vu: the device's vhost-user side
 * @why: for the log, or NULL when the session simply ends
 */
void vu_backreq_close(struct vu_dev *vu, const char *why)
{
	struct vu_backreq *b = &vu->breq;
	struct pviod_event_loop *loop = vu->dev->env->loop;

	if (b->fd < 0)
		return;
	if (why)
		pr_warn("%s: back-end channel closed: %s; the driver learns of no further config change in this session",
			vu->dev->name, why);
	if (loop) {
		pviod_event_del(loop, b->fd);
		pviod_event_del(loop, b->timer_fd);
	}
	close(b->fd);
	close(b->timer_fd);
	vu_rx_reset(&b->rx);
	b->fd = -1;
	b->timer_fd = -1;
	b->waiting = false;
	b->again = false;
}

static int vu_backreq_timer_set(struct vu_backreq *b, unsigned int ms)
{
	struct itimerspec its = { .it_value = { .tv_sec = ms / 1000,
						.tv_nsec = (long)(ms % 1000) * 1000000 } };

	return timerfd_settime(b->timer_fd, 0, &its, NULL) ? -errno : 0;
}

/* Send one CONFIG_CHANGE_MSG; with REPLY_ACK, wait (in the loop) for its ack. */
static void vu_backreq_send(struct vu_dev *vu)
{
	struct vu_backreq *b = &vu->breq;
	struct vhost_user_msg msg = { .hdr = { .request = VHOST_USER_BACKEND_CONFIG_CHANGE_MSG,
					       .flags = VHOST_USER_VERSION } };
	bool ack = vu_proto_has(vu, VHOST_USER_PROTOCOL_F_REPLY_ACK);
	char why[96];
	int ret;

	if (ack)
		msg.hdr.flags |= VHOST_USER_FLAG_NEED_REPLY;
	ret = vu_socket_send(b->fd, &msg, NULL, 0);
	if (ret) {
		snprintf(why, sizeof(why), "sending CONFIG_CHANGE_MSG: %s",
			 ret == -EAGAIN ? "the front-end does not read it" : strerror(-ret));
		vu_backreq_close(vu, why);
		return;
	}
	b->sent++;
	pr_debug("%s: CONFIG_CHANGE_MSG sent%s", vu->dev->name, ack ? ", waiting for the ack" : "");
	if (!ack)
		return;
	ret = vu_backreq_timer_set(b, VU_BACKREQ_TIMEOUT_MS);
	if (ret) {
		snprintf(why, sizeof(why), "its timer: %s", strerror(-ret));
		vu_backreq_close(vu, why);
		return;
	}
	b->waiting = true;
}

/**
 * vu_backreq_config_changed - tell the front-end the config space changed
 * @dev: the device, on the control thread (its ->config_notify)
 *
 * Nothing when no front-end or no back-end channel: a driver that connects
 * later reads the config space as it is then.
 */
void vu_backreq_config_changed(struct pviod_device *dev)
{
	struct vu_dev *vu = dev->vu;

	if (!vu || vu->conn_fd < 0 || vu->breq.fd < 0 ||
	    !vu_proto_has(vu, VHOST_USER_PROTOCOL_F_CONFIG)) {
		pr_debug("%s: config changed; no back-end channel to say so", dev->name);
		return;
	}
	if (vu->breq.waiting) {
		vu->breq.again = true;
		return;
	}
	vu_backreq_send(vu);
}

/* The channel is readable: the ack, part of it, or the front-end went. */
static void vu_backreq_ready(struct pviod_io *io, int res)
{
	struct vu_backreq *b = (struct vu_backreq *)((char *)io - offsetof(struct vu_backreq, io));
	struct vu_dev *vu = vu_of_breq(b);
	const struct vhost_user_msg *m = &b->rx.msg;
	char why[128];
	int ret;

	ret = vu_socket_recv_step(b->fd, &b->rx);
	if (ret == 0)
		return;
	if (ret < 0) {
		vu_backreq_close(vu, ret == -ECONNRESET ? NULL : strerror(-ret));
		if (ret == -ECONNRESET)
			pr_info("%s: the front-end closed the back-end channel", vu->dev->name);
		return;
	}
	vu_fds_close(b->rx.fds, b->rx.nfds);
	if (!b->waiting || m->hdr.request != VHOST_USER_BACKEND_CONFIG_CHANGE_MSG ||
	    !(m->hdr.flags & VHOST_USER_FLAG_REPLY) || m->hdr.size != sizeof(m->payload.u64)) {
		snprintf(why, sizeof(why),
			 "unexpected message %u (flags 0x%x, %u bytes, %s an ack was awaited)",
			 m->hdr.request, m->hdr.flags, m->hdr.size, b->waiting ? "while" : "no");
		vu_backreq_close(vu, why);
		return;
	}
	b->waiting = false;
	vu_backreq_timer_set(b, 0);
	if (m->payload.u64) {
		b->failed++;
		pr_warn("%s: the front-end failed CONFIG_CHANGE_MSG (status %llu)", vu->dev->name,
			(unsigned long long)m->payload.u64);
	} else {
		b->acked++;
	}
	vu_rx_init(&b->rx);
	if (b->again) {
		b->again = false;
		vu_backreq_send(vu);
	}
}

/* No ack in time. */
static void vu_backreq_timeout(struct pviod_io *io, int res)
{
	struct vu_backreq *b =
		(struct vu_backreq *)((char *)io - offsetof(struct vu_backreq, timer_io));
	uint64_t n;
	char why[96];

	if (read(b->timer_fd, &n, sizeof(n)) != sizeof(n) || !b->waiting)
		return;
	snprintf(why, sizeof(why), "no ack of CONFIG_CHANGE_MSG within %u ms",
		 VU_BACKREQ_TIMEOUT_MS);
	vu_backreq_close(vu_of_breq(b), why);
}

/* A Unix stream socket, or -EINVAL (reported). */
static int vu_backreq_fd_check(struct vu_dev *vu, int fd)
{
	int type = 0, domain = 0;
	socklen_t tlen = sizeof(type), dlen = sizeof(domain);
	struct stat st;

	if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    !getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) && type == SOCK_STREAM &&
	    !getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &dlen) && domain == AF_UNIX)
		return 0;
	pr_err("%s: SET_BACKEND_REQ_FD: the fd is not a Unix stream socket (a socketpair's end is expected)",
	       vu->dev->name);
	return -EINVAL;
}

/**
 * vu_backreq_set_fd - SET_BACKEND_REQ_FD: the back-end channel
 * @vu: the device's vhost-user side
 * @msg: the request
 * @fds: fds[0], the channel (taken on success)
 * @nfds: 1
 *
 * A second one replaces the first.
 *
 * Return: 0; -EINVAL when the fd is not a Unix stream socket; -errno when
 * it cannot be watched.
 */
int vu_backreq_set_fd(struct vu_dev *vu, struct vhost_user_msg *msg, int *fds, unsigned int nfds)
{
	struct vu_backreq *b = &vu->breq;
	struct pviod_event_loop *loop = vu->dev->env->loop;
	int ret;

	if (nfds != 1)
		return -EBADF;
	ret = vu_backreq_fd_check(vu, fds[0]);
	if (ret)
		return ret;
	vu_backreq_close(vu, NULL);
	b->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (b->timer_fd < 0)
		return -errno;
	b->fd = fds[0];
	if (fcntl(b->fd, F_SETFD, FD_CLOEXEC))
		goto err_errno;
	b->io.complete = vu_backreq_ready;
	b->timer_io.complete = vu_backreq_timeout;
	vu_rx_init(&b->rx);
	if (loop) {
		ret = pviod_event_add(loop, b->fd, &b->io);
		if (ret)
			goto err_close;
		ret = pviod_event_add(loop, b->timer_fd, &b->timer_io);
		if (ret) {
			pviod_event_del(loop, b->fd);
			goto err_close;
		}
	}
	fds[0] = -1;
	pr_debug("%s: back-end channel set", vu->dev->name);
	return 0;

err_errno:
	ret = -errno;
err_close:
	close(b->timer_fd);
	b->timer_fd = -1;
	b->fd = -1;
	return ret;
}

/**
 * vu_backreq_init - no back-end channel yet
 * @vu: the device's vhost-user side
 */
void vu_backreq_init(struct vu_dev *vu)
{
	vu->breq.fd = -1;
	vu->breq.timer_fd = -1;
	vu_rx_init(&vu->breq.rx);
}
