// SPDX-License-Identifier: GPL-2.0
/*
 * event.c - the control thread's loop, on its own io_uring.
 *
 * One poll is armed per device: on the listening socket while no front-end
 * is connected, on the connection while one is.  A readable connection is
 * read without blocking into its struct vu_rx: a whole message is handled
 * to the end (including waiting for a queue to drain), a partial one waits
 * in the buffer for the next poll, so a peer that stalls mid-message holds
 * only its own connection.  A malformed message or a closed connection
 * ends that session only: its queues stop, its memory is unmapped, and the
 * device listens again so the front-end can reconnect; other devices are
 * not touched.  SIGTERM and SIGINT arrive through a signalfd polled on the
 * same ring.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/signalfd.h>

#include "core/pviod.h"
#include "vhost-user/msg.h"
#include "vhost-user/socket.h"

/* Messages handled per readable event of one connection before the others' turn. */
#define PVIOD_CONN_BURST 16

struct pviod_event_loop {
	struct io_uring ring;
	struct pviod_io signal_io;
	int signal_fd;
	bool quit;
};

static struct pviod_event_loop *pviod_loop;

static void pviod_poll_arm(int fd, struct pviod_io *io)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&pviod_loop->ring);

	if (!sqe) {
		io_uring_submit(&pviod_loop->ring);
		sqe = io_uring_get_sqe(&pviod_loop->ring);
	}
	io_uring_prep_poll_add(sqe, fd, POLLIN);
	io_uring_sqe_set_data(sqe, io);
}

/**
 * pviod_conn_close - end the session with the front-end; listen again
 * @dev: the device
 *
 * Every queue stops once its in-flight requests completed, every fd the
 * front-end passed is closed and its memory unmapped.
 */
void pviod_conn_close(struct pviod_device *dev)
{
	if (dev->conn_fd < 0)
		return;
	vu_session_reset(dev);
	vu_rx_reset(&dev->rx);
	close(dev->conn_fd);
	dev->conn_fd = -1;
	pr_info("%s: front-end disconnected; waiting for a new connection on %s", dev->name,
		dev->socket_path);
	if (pviod_loop && dev->listen_fd >= 0)
		pviod_poll_arm(dev->listen_fd, &dev->listen_io);
}

/*
 * Receive what has arrived; dispatch the message once it is whole.
 * Return: 1 when a message was handled, 0 when the rest has not arrived,
 * -errno to close the connection.
 */
static int pviod_conn_rx(struct pviod_device *dev)
{
	struct vu_rx *rx = &dev->rx;
	int ret;

	ret = vu_socket_recv_step(dev->conn_fd, rx);
	if (ret <= 0) {
		if (ret < 0 && ret != -ECONNRESET)
			pr_err("%s: reading a vhost-user message: %s", dev->name, strerror(-ret));
		return ret;
	}
	ret = vu_msg_dispatch(dev, &rx->msg, rx->fds, rx->nfds);
	/* The dispatcher took or closed every fd. */
	vu_rx_init(rx);
	if (ret) {
		pr_err("%s: closing the connection after request %u: %s", dev->name,
		       rx->msg.hdr.request, strerror(-ret));
		return ret;
	}
	return 1;
}

/**
 * pviod_conn_handle - receive from the connection, handle a message if whole
 * @dev: a connected device
 *
 * Never blocks: a partial message stays in dev->rx until the rest arrives.
 *
 * Return: 0 to keep the connection, -errno to close it.
 */
int pviod_conn_handle(struct pviod_device *dev)
{
	int ret = pviod_conn_rx(dev);

	return ret < 0 ? ret : 0;
}

static void pviod_listen_done(struct pviod_io *io, int res)
{
	struct pviod_device *dev =
		(struct pviod_device *)((char *)io - offsetof(struct pviod_device, listen_io));
	int ret;

	if (res < 0 && res != -EINTR) {
		pr_err("%s: poll on the listening socket: %s", dev->name, strerror(-res));
		return;
	}
	ret = vu_socket_accept(dev->listen_fd, &dev->conn_fd);
	if (ret) {
		pr_warn("%s: accept: %s", dev->name, strerror(-ret));
		pviod_poll_arm(dev->listen_fd, &dev->listen_io);
		return;
	}
	pr_info("%s: front-end connected", dev->name);
	pviod_poll_arm(dev->conn_fd, &dev->conn_io);
}

static void pviod_conn_done(struct pviod_io *io, int res)
{
	struct pviod_device *dev =
		(struct pviod_device *)((char *)io - offsetof(struct pviod_device, conn_io));
	unsigned int i;
	int ret;

	if (dev->conn_fd < 0)
		return;
	if (res < 0 && res != -EINTR) {
		pviod_conn_close(dev);
		return;
	}
	/*
	 * What is queued, up to a bound: a front-end that floods requests
	 * gets its turn again after the other devices' events.
	 */
	for (i = 0; i < PVIOD_CONN_BURST; i++) {
		ret = pviod_conn_rx(dev);
		if (ret < 0) {
			pviod_conn_close(dev);
			return;
		}
		if (!ret)
			break;
	}
	pviod_poll_arm(dev->conn_fd, &dev->conn_io);
}

static void pviod_signal_done(struct pviod_io *io, int res)
{
	struct signalfd_siginfo si;

	if (read(pviod_loop->signal_fd, &si, sizeof(si)) == sizeof(si))
		pr_info("signal %u: draining in-flight requests and exiting", si.ssi_signo);
	pviod_loop->quit = true;
}

/**
 * pviod_event_run - serve every device until SIGTERM or SIGINT
 * @devices: the devices, listening; SIGTERM/SIGINT blocked in every thread
 *
 * On the way out every queue is drained and every image flushed.
 *
 * Return: 0, or -errno when the loop could not run or a flush failed.
 */
int pviod_event_run(struct pviod_device *devices)
{
	struct pviod_event_loop loop = { .signal_fd = -1 };
	struct pviod_device *dev;
	sigset_t set;
	int ret;

	ret = io_uring_queue_init(64, &loop.ring, 0);
	if (ret) {
		pr_err("io_uring_queue_init: %s", strerror(-ret));
		return ret;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	loop.signal_fd = signalfd(-1, &set, SFD_CLOEXEC);
	if (loop.signal_fd < 0) {
		ret = -errno;
		goto err_ring_exit;
	}
	loop.signal_io.complete = pviod_signal_done;
	pviod_loop = &loop;
	pviod_poll_arm(loop.signal_fd, &loop.signal_io);
	for (dev = devices; dev; dev = dev->next) {
		dev->listen_io.complete = pviod_listen_done;
		dev->conn_io.complete = pviod_conn_done;
		pviod_poll_arm(dev->listen_fd, &dev->listen_io);
	}

	while (!loop.quit) {
		struct io_uring_cqe *cqe;
		struct pviod_io *io;

		ret = io_uring_submit_and_wait(&loop.ring, 1);
		if (ret < 0 && ret != -EINTR) {
			pr_err("control loop: %s", strerror(-ret));
			break;
		}
		while (!loop.quit && io_uring_peek_cqe(&loop.ring, &cqe) == 0) {
			int res = cqe->res;

			io = io_uring_cqe_get_data(cqe);
			/* Seen first: the handler may arm new polls on this ring. */
			io_uring_cqe_seen(&loop.ring, cqe);
			if (io)
				io->complete(io, res);
		}
	}

	ret = 0;
	for (dev = devices; dev; dev = dev->next) {
		pviod_device_queues_stop(dev);
		if (dev->ops->flush && dev->ops->flush(dev))
			ret = -EIO;
		if (dev->conn_fd >= 0) {
			vu_session_reset(dev);
			close(dev->conn_fd);
			dev->conn_fd = -1;
		}
	}
	pviod_loop = NULL;
	close(loop.signal_fd);
err_ring_exit:
	io_uring_queue_exit(&loop.ring);
	return ret;
}
