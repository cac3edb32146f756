// SPDX-License-Identifier: GPL-2.0
/*
 * sink.c - the host side of a console's ports: each port's output sink
 * (out=pty|unix:PATH|file:PATH|stdio; port k >= 1 uses PATH.k, a pty each;
 * stdio serves port 0 only), and the device's I/O thread, which owns the
 * sinks' fds: it writes the guest's output to them, reads the host's input
 * from them while there is room, accepts and loses readers, and watches a
 * terminal's window size.
 *
 * With no reader, or one that accepted nothing for stall_ms, output that
 * does not fit is dropped and counted: the guest, and every other queue on
 * the same worker, never waits on a sink.  The I/O thread wakes a queue
 * through a dup() of its kick eventfd (pviod_con_queue_wake()), under the
 * device lock that guards that fd's lifetime.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "console/console.h"

static void pviod_con_sink_close(struct pviod_con *con, struct pviod_con_port *p, const char *why)
{
	pr_info("%s: port %u: reader disconnected (%s); %zu buffered bytes dropped", con->dev->name,
		p->id, why, p->out.len);
	close(p->in_fd);
	p->in_fd = -1;
	p->out_fd = -1;
	p->host_open = false;
	p->stalled = false;
	p->disconnects++;
	p->lost_bytes += p->out.len;
	p->out.len = 0;
	p->out.head = 0;
	if (p->tx_blocked) {
		p->tx_blocked = false;
		pviod_con_queue_wake(con, pviod_con_txq(p->id));
	}
	if (p->guest_ready)
		pviod_con_ctrl_send(con, p->id, PVIO_CONSOLE_PORT_OPEN, 0, NULL, 0);
}

static void pviod_con_accept(struct pviod_con *con, struct pviod_con_port *p)
{
	int fd = accept4(p->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (p->in_fd >= 0) {
		pr_warn("%s: port %u: '%s' already has a reader; refusing another", con->dev->name,
			p->id, p->path);
		close(fd);
		return;
	}
	pthread_mutex_lock(&con->lock);
	p->in_fd = fd;
	p->out_fd = fd;
	p->host_open = true;
	p->stalled = false;
	p->progress_ms = pviod_con_now_ms();
	if (p->guest_ready)
		pviod_con_ctrl_send(con, p->id, PVIO_CONSOLE_PORT_OPEN, 1, NULL, 0);
	pthread_mutex_unlock(&con->lock);
	pr_info("%s: port %u: reader connected on %s", con->dev->name, p->id, p->path);
}

void pviod_con_sink_write(struct pviod_con *con, struct pviod_con_port *p)
{
	const uint8_t *data;
	ssize_t n;
	size_t len;

	pthread_mutex_lock(&con->lock);
	while (p->out_fd >= 0) {
		len = pviod_con_buf_peek(&p->out, &data);
		if (!len)
			break;
		n = write(p->out_fd, data, len);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			if (p->listen_fd >= 0) {
				pviod_con_sink_close(con, p, strerror(errno));
				break;
			}
			/* A file or terminal that fails: count it, keep the guest going. */
			if (pviod_ratelimit_ok(&con->dev->queues[pviod_con_txq(p->id)].rl))
				pr_err("%s: port %u: writing the sink: %s", con->dev->name, p->id,
				       strerror(errno));
			p->lost_bytes += p->out.len;
			p->out.len = 0;
			p->out.head = 0;
			break;
		}
		pviod_con_buf_consume(&p->out, (size_t)n);
		p->tx_bytes += (uint64_t)n;
		p->progress_ms = pviod_con_now_ms();
		if (p->stalled) {
			pr_info("%s: port %u: reader resumed", con->dev->name, p->id);
			p->stalled = false;
		}
	}
	if (p->tx_blocked && p->out.len < p->out_limit) {
		p->tx_blocked = false;
		pviod_con_queue_wake(con, pviod_con_txq(p->id));
	}
	pthread_mutex_unlock(&con->lock);
}

static void pviod_con_sink_read(struct pviod_con *con, struct pviod_con_port *p)
{
	uint8_t *dst;
	ssize_t n;
	size_t room;

	pthread_mutex_lock(&con->lock);
	room = pviod_con_buf_tail(&p->in, &dst);
	if (!room || !p->guest_open) {
		pthread_mutex_unlock(&con->lock);
		return;
	}
	n = read(p->in_fd, dst, room);
	if (n > 0) {
		p->in.len += (size_t)n;
		pviod_con_queue_wake(con, pviod_con_rxq(p->id));
	} else if (p->listen_fd >= 0 && (n == 0 || (errno != EAGAIN && errno != EINTR))) {
		pviod_con_sink_close(con, p, n == 0 ? "end of file" : strerror(errno));
	} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		/* stdin closed or a pty error: stop reading, keep writing. */
		p->in_fd = -1;
	}
	pthread_mutex_unlock(&con->lock);
}

/* Every tick: window sizes, and readers that stopped reading. */
static void pviod_con_tick(struct pviod_con *con, int64_t now)
{
	unsigned int i;

	pthread_mutex_lock(&con->lock);
	for (i = 0; i < con->nports; i++) {
		struct pviod_con_port *p = &con->ports[i];
		struct winsize ws;

		if (p->is_tty && ioctl(p->out_fd, TIOCGWINSZ, &ws) == 0 &&
		    (ws.ws_col != p->cols || ws.ws_row != p->rows)) {
			p->cols = ws.ws_col;
			p->rows = ws.ws_row;
			pr_info("%s: port %u: window %ux%u", con->dev->name, i, p->cols, p->rows);
			pviod_con_ctrl_resize(con, p);
			/* Port 0's size is in the config space too (F_SIZE): say it changed. */
			if (i == 0)
				pviod_device_changed(con->dev);
		}
		if (!p->out.len) {
			p->progress_ms = now;
		} else if (!p->stalled && now - p->progress_ms >= con->stall_ms) {
			pr_warn("%s: port %u: the reader took nothing for %u ms; dropping output beyond %zu bytes until it reads again",
				con->dev->name, i, con->stall_ms, p->out_limit);
			p->stalled = true;
			if (p->tx_blocked) {
				p->tx_blocked = false;
				pviod_con_queue_wake(con, pviod_con_txq(i));
			}
		}
	}
	pthread_mutex_unlock(&con->lock);
}

void *pviod_con_io_main(void *arg)
{
	struct pviod_con *con = arg;
	unsigned int nfd = 1 + 2 * con->nports, i, n;
	struct pollfd *pfd = calloc(nfd, sizeof(*pfd));
	struct pviod_con_port **who = calloc(nfd, sizeof(*who));
	int64_t next_tick = 0, now;
	bool tick;
	uint64_t v;

	if (!pfd || !who) {
		pr_err("%s: console I/O thread: out of memory", con->dev->name);
		goto out_free;
	}
	for (;;) {
		pthread_mutex_lock(&con->lock);
		if (con->exit) {
			pthread_mutex_unlock(&con->lock);
			break;
		}
		pfd[0] = (struct pollfd){ .fd = con->io_wake_fd, .events = POLLIN };
		n = 1;
		/*
		 * The tick is for a pty's window size and a stalled reader:
		 * without either, an idle console sleeps until an fd or the
		 * device wakes it.
		 */
		tick = false;
		for (i = 0; i < con->nports; i++) {
			struct pviod_con_port *p = &con->ports[i];

			tick |= p->is_tty || p->out.len;
			if (p->listen_fd >= 0 && p->in_fd < 0) {
				who[n] = p;
				pfd[n++] = (struct pollfd){ .fd = p->listen_fd, .events = POLLIN };
			}
			if (p->in_fd >= 0 && p->in_fd == p->out_fd) {
				short ev = 0;

				if (p->guest_open && pviod_con_buf_room(&p->in))
					ev |= POLLIN;
				if (p->out.len)
					ev |= POLLOUT;
				who[n] = p;
				pfd[n++] = (struct pollfd){ .fd = p->in_fd, .events = ev };
				continue;
			}
			if (p->in_fd >= 0 && p->guest_open && pviod_con_buf_room(&p->in)) {
				who[n] = p;
				pfd[n++] = (struct pollfd){ .fd = p->in_fd, .events = POLLIN };
			}
			if (p->out_fd >= 0 && p->out.len) {
				who[n] = p;
				pfd[n++] = (struct pollfd){ .fd = p->out_fd, .events = POLLOUT };
			}
		}
		pthread_mutex_unlock(&con->lock);

		if (poll(pfd, n, tick ? PVIOD_CON_TICK_MS : -1) < 0 && errno != EINTR) {
			pr_err("%s: console I/O thread: poll: %s", con->dev->name, strerror(errno));
			break;
		}
		if (pfd[0].revents & POLLIN)
			eventfd_read(con->io_wake_fd, &v);
		for (i = 1; i < n; i++) {
			struct pviod_con_port *p = who[i];

			if (!pfd[i].revents)
				continue;
			if (pfd[i].fd == p->listen_fd) {
				pviod_con_accept(con, p);
				continue;
			}
			if (pfd[i].revents & POLLOUT)
				pviod_con_sink_write(con, p);
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR) &&
			    p->in_fd == pfd[i].fd) {
				pviod_con_sink_read(con, p);
			} else if (pfd[i].revents & (POLLHUP | POLLERR) && p->listen_fd >= 0 &&
				   p->out_fd == pfd[i].fd) {
				pthread_mutex_lock(&con->lock);
				pviod_con_sink_close(con, p, "hang-up");
				pthread_mutex_unlock(&con->lock);
			}
		}
		/* Output that arrived while we slept: try it before the next poll. */
		for (i = 0; i < con->nports; i++)
			if (con->ports[i].out_fd >= 0)
				pviod_con_sink_write(con, &con->ports[i]);
		now = pviod_con_now_ms();
		if (now >= next_tick) {
			pviod_con_tick(con, now);
			next_tick = now + PVIOD_CON_TICK_MS;
		}
	}
out_free:
	free(who);
	free(pfd);
	return NULL;
}

char *pviod_con_port_path(const char *base, unsigned int id)
{
	char *s;

	if (!id)
		return strdup(base);
	if (asprintf(&s, "%s.%u", base, id) < 0)
		return NULL;
	return s;
}

static int pviod_con_fd_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

static int pviod_con_sink_open_pty(struct pviod_con *con, struct pviod_con_port *p)
{
	struct termios tio;
	int m, ret;

	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (m < 0 || grantpt(m) || unlockpt(m) || ptsname_r(m, p->pts, sizeof(p->pts))) {
		ret = -errno;
		goto err_close;
	}
	/* Held open, raw: the master never sees EIO, and nothing is echoed. */
	p->pty_slave_fd = open(p->pts, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (p->pty_slave_fd < 0) {
		ret = -errno;
		goto err_close;
	}
	if (tcgetattr(p->pty_slave_fd, &tio) == 0) {
		cfmakeraw(&tio);
		tcsetattr(p->pty_slave_fd, TCSANOW, &tio);
	}
	if (p->path) {
		unlink(p->path);
		if (symlink(p->pts, p->path)) {
			ret = -errno;
			pr_err("%s: port %u: cannot link '%s' to %s: %s", con->dev->name, p->id,
			       p->path, p->pts, strerror(-ret));
			goto err_close_slave;
		}
	}
	p->in_fd = m;
	p->out_fd = m;
	p->is_tty = true;
	p->host_open = true;
	pr_info("%s: port %u: pty %s%s%s", con->dev->name, p->id, p->pts, p->path ? " <- " : "",
		p->path ? p->path : "");
	return 0;

err_close_slave:
	close(p->pty_slave_fd);
	p->pty_slave_fd = -1;
err_close:
	if (!ret)
		ret = -EIO;
	if (m >= 0)
		close(m);
	return ret;
}

int pviod_con_sink_open(struct pviod_con *con, struct pviod_con_port *p)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, ret;

	switch (con->out_kind) {
	case PVIOD_CON_PTY:
		return pviod_con_sink_open_pty(con, p);
	case PVIOD_CON_FILE:
		fd = open(p->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NONBLOCK, 0644);
		if (fd < 0) {
			ret = -errno;
			pr_err("%s: port %u: cannot open output file '%s': %s", con->dev->name,
			       p->id, p->path, strerror(-ret));
			return ret;
		}
		p->out_fd = fd;
		p->host_open = true;
		return 0;
	case PVIOD_CON_STDIO:
		p->in_fd = STDIN_FILENO;
		p->out_fd = STDOUT_FILENO;
		p->is_tty = isatty(STDOUT_FILENO);
		pviod_con_fd_nonblock(STDIN_FILENO);
		pviod_con_fd_nonblock(STDOUT_FILENO);
		p->host_open = true;
		return 0;
	case PVIOD_CON_UNIX:
		if (strlen(p->path) >= sizeof(sa.sun_path)) {
			pr_err("%s: port %u: socket path '%s' is longer than %zu bytes",
			       con->dev->name, p->id, p->path, sizeof(sa.sun_path) - 1);
			return -ENAMETOOLONG;
		}
		strcpy(sa.sun_path, p->path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			return -errno;
		unlink(p->path);
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 4)) {
			ret = -errno;
			pr_err("%s: port %u: cannot listen on '%s': %s", con->dev->name, p->id,
			       p->path, strerror(-ret));
			close(fd);
			return ret;
		}
		p->listen_fd = fd;
		pr_info("%s: port %u: output socket %s", con->dev->name, p->id, p->path);
		return 0;
	}
	return -EINVAL;
}
