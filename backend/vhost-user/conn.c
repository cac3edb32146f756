// SPDX-License-Identifier: GPL-2.0
/*
 * conn.c - a device's vhost-user socket and the connection with its
 * front-end, on the control thread's event loop.
 *
 * The listening socket is in the loop while no front-end is connected, the
 * connection while one is.  A readable connection is read without blocking
 * into its struct vu_rx: a whole message is handled to the end (including
 * waiting for a queue to drain), a partial one waits in the buffer for the
 * next event, so a peer that stalls mid-message holds only its own
 * connection.  A malformed message or a closed connection ends that
 * session only: its queues stop, its memory is unmapped, and the device
 * listens again so the front-end can reconnect; other devices are not
 * touched.
 */
#include <errno.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/device.h"
#include "vhost-user/msg.h"
#include "vhost-user/vu.h"

/* Messages handled per readable event of one connection before the others' turn. */
#define VU_CONN_BURST 16

/**
 * vu_conn_close - end the session with the front-end; listen again
 * @vu: the device's vhost-user side
 *
 * Every queue stops once its in-flight requests completed, every fd the
 * front-end passed is closed and its memory unmapped.
 */
void vu_conn_close(struct vu_dev *vu)
{
	struct pviod_device *dev = vu->dev;

	if (vu->conn_fd < 0)
		return;
	vu_session_reset(vu);
	vu_rx_reset(&vu->rx);
	pviod_event_del(dev->env->loop, vu->conn_fd);
	close(vu->conn_fd);
	vu->conn_fd = -1;
	pr_info("%s: front-end disconnected; waiting for a new connection on %s", dev->name,
		dev->socket_path);
	if (vu->listen_fd >= 0) {
		int ret = pviod_event_add(dev->env->loop, vu->listen_fd, &vu->listen_io);

		if (ret)
			pr_err("%s: cannot wait for a new connection: %s", dev->name,
			       strerror(-ret));
	}
}

/*
 * Receive what has arrived; dispatch the message once it is whole.
 * Return: 1 when a message was handled, 0 when the rest has not arrived,
 * -errno to close the connection.
 */
static int vu_conn_rx(struct vu_dev *vu)
{
	struct vu_rx *rx = &vu->rx;
	int ret;

	ret = vu_socket_recv_step(vu->conn_fd, rx);
	if (ret <= 0) {
		if (ret < 0 && ret != -ECONNRESET)
			pr_err("%s: reading a vhost-user message: %s", vu->dev->name,
			       strerror(-ret));
		return ret;
	}
	ret = vu_msg_dispatch(vu, &rx->msg, rx->fds, rx->nfds);
	/* The dispatcher took or closed every fd. */
	vu_rx_init(rx);
	if (ret) {
		pr_err("%s: closing the connection after request %u: %s", vu->dev->name,
		       rx->msg.hdr.request, strerror(-ret));
		return ret;
	}
	return 1;
}

/**
 * vu_conn_handle - receive from the connection, handle a message if whole
 * @vu: a connected device's vhost-user side
 *
 * Never blocks: a partial message stays in vu->rx until the rest arrives.
 *
 * Return: 0 to keep the connection, -errno to close it.
 */
int vu_conn_handle(struct vu_dev *vu)
{
	int ret = vu_conn_rx(vu);

	return ret < 0 ? ret : 0;
}

static void vu_listen_ready(struct pviod_io *io, int res)
{
	struct vu_dev *vu = (struct vu_dev *)((char *)io - offsetof(struct vu_dev, listen_io));
	struct pviod_device *dev = vu->dev;
	int ret;

	ret = vu_socket_accept(vu->listen_fd, &vu->conn_fd);
	if (ret) {
		pr_warn("%s: accept: %s", dev->name, strerror(-ret));
		return;
	}
	/* One front-end at a time: the next waits in the backlog. */
	pviod_event_del(dev->env->loop, vu->listen_fd);
	ret = pviod_event_add(dev->env->loop, vu->conn_fd, &vu->conn_io);
	if (ret) {
		pr_err("%s: cannot serve the new connection: %s", dev->name, strerror(-ret));
		close(vu->conn_fd);
		vu->conn_fd = -1;
		pviod_event_add(dev->env->loop, vu->listen_fd, &vu->listen_io);
		return;
	}
	pr_info("%s: front-end connected", dev->name);
}

static void vu_conn_ready(struct pviod_io *io, int res)
{
	struct vu_dev *vu = (struct vu_dev *)((char *)io - offsetof(struct vu_dev, conn_io));
	unsigned int i;
	int ret;

	/*
	 * What is queued, up to a bound: a front-end that floods requests
	 * gets its turn again after the other devices' events.
	 */
	for (i = 0; i < VU_CONN_BURST && vu->conn_fd >= 0; i++) {
		ret = vu_conn_rx(vu);
		if (ret < 0) {
			vu_conn_close(vu);
			return;
		}
		if (!ret)
			break;
	}
}

/**
 * vu_dev_new - give a device its vhost-user side, not yet listening
 * @dev: the device (its queues created)
 *
 * Return: 0 or -ENOMEM.
 */
int vu_dev_new(struct pviod_device *dev)
{
	struct vu_dev *vu = calloc(1, sizeof(*vu) + dev->nqueues * sizeof(vu->vring[0]));

	if (!vu)
		return -ENOMEM;
	vu->dev = dev;
	vu->s.mem.lost = &dev->mem_lost;
	vu->listen_fd = -1;
	vu->lock_fd = -1;
	vu->conn_fd = -1;
	vu->listen_io.complete = vu_listen_ready;
	vu->conn_io.complete = vu_conn_ready;
	vu_rx_init(&vu->rx);
	vu_backreq_init(vu);
	dev->vu = vu;
	dev->config_notify = vu_backreq_config_changed;
	return 0;
}

/* Why a socket path cannot be listened on, when the errno alone does not say. */
static const char *vu_listen_hint(int err)
{
	if (err == -EEXIST)
		return " (a non-socket file is in the way)";
	if (err == -EADDRINUSE)
		return " (another pviod, another --device or another process serves it)";
	return "";
}

/**
 * vu_dev_attach - serve a device over vhost-user: create its socket
 * @dev: the device, on the control thread
 *
 * Return: 0, or -errno (reported: which socket, why).
 */
int vu_dev_attach(struct pviod_device *dev)
{
	struct vu_dev *vu;
	int ret;

	ret = vu_dev_new(dev);
	if (ret)
		return ret;
	vu = dev->vu;
	ret = vu_socket_listen(dev->socket_path, &vu->listen_fd, &vu->lock_fd);
	if (ret) {
		pr_err("%s: cannot listen on socket '%s': %s%s", dev->name, dev->socket_path,
		       strerror(-ret), vu_listen_hint(ret));
		goto err_free;
	}
	/*
	 * Who may connect (socket-group=, socket-mode=), before the loop
	 * accepts anyone: until then the umask's mode lets only pviod's user.
	 */
	if ((dev->socket_chgrp && chown(dev->socket_path, (uid_t)-1, dev->socket_gid)) ||
	    (dev->socket_mode && chmod(dev->socket_path, dev->socket_mode))) {
		ret = -errno;
		pr_err("%s: socket '%s': cannot set its group or mode: %s", dev->name,
		       dev->socket_path, strerror(-ret));
		goto err_close;
	}
	ret = pviod_event_add(dev->env->loop, vu->listen_fd, &vu->listen_io);
	if (ret) {
		pr_err("%s: cannot wait for connections on '%s': %s", dev->name, dev->socket_path,
		       strerror(-ret));
		goto err_close;
	}
	pr_info("%s: listening on %s (%u queue%s)", dev->name, dev->socket_path, dev->nqueues,
		dev->nqueues > 1 ? "s" : "");
	return 0;

err_close:
	vu_socket_unlisten(dev->socket_path, vu->listen_fd, vu->lock_fd);
err_free:
	dev->config_notify = NULL;
	free(vu);
	dev->vu = NULL;
	return ret;
}

/**
 * vu_dev_detach - stop serving a device: its front-end and its socket go
 * @dev: the device, on the control thread (nothing when never attached)
 *
 * The session ends as if the front-end had disconnected (every queue
 * drained and stopped), then the socket is closed and removed.
 */
void vu_dev_detach(struct pviod_device *dev)
{
	struct pviod_event_loop *loop = dev->env->loop;
	struct vu_dev *vu = dev->vu;

	if (!vu)
		return;
	/* Without a loop (a unit test's device) nothing was ever added to one. */
	if (vu->conn_fd >= 0) {
		vu_session_reset(vu);
		vu_rx_reset(&vu->rx);
		if (loop)
			pviod_event_del(loop, vu->conn_fd);
		close(vu->conn_fd);
		vu->conn_fd = -1;
	} else if (vu->listen_fd >= 0 && loop) {
		pviod_event_del(loop, vu->listen_fd);
	}
	if (vu->listen_fd >= 0)
		vu_socket_unlisten(dev->socket_path, vu->listen_fd, vu->lock_fd);
	dev->config_notify = NULL;
	free(vu);
	dev->vu = NULL;
}
