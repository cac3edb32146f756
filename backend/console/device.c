// SPDX-License-Identifier: GPL-2.0
/*
 * device.c - the virtio-console device (virtio 1.2 §5.3): F_SIZE,
 * F_MULTIPORT with named ports, F_EMERG_WRITE.
 *
 * Queues: 0/1 port 0 receive/transmit, 2/3 control receive/transmit, then
 * 2k+2 / 2k+3 receive/transmit of port k >= 1.
 *
 * Every port has an output sink (out=pty|unix:PATH|file:PATH|stdio; port k
 * >= 1 uses PATH.k, a pty each; stdio serves port 0 only) and two bounded
 * byte rings under the device lock:
 *
 *   out   guest -> sink.  A worker's queue_serve copies transmit chains in and
 *         completes them at once; the device's I/O thread writes them to
 *         the sink.  While a reader is connected and keeps up, a full ring
 *         holds the transmit queue back (the guest waits, no byte is lost).
 *         With no reader, or one that accepted nothing for stall_ms, every
 *         byte that does not fit is dropped and counted: the guest, and
 *         every other queue on the same worker, never waits on a sink.
 *   in    sink -> guest.  The I/O thread reads the sink only while there is
 *         room and the guest has the port open; a worker copies it into
 *         receive chains.
 *
 * Threads: workers run queue_serve (the rings are theirs); the I/O thread
 * owns the sink fds; the control thread runs features/config/start/stop.
 * Wake-ups go both ways through eventfds: the I/O thread wakes a queue by
 * writing to a dup() of the queue's kick eventfd (taken in queue_start,
 * closed in queue_stop, both under the lock), so the worker runs the
 * queue's kick handler as if the driver had kicked; a worker wakes the I/O
 * thread through io_wake_fd.  No fd is ever written to outside the lock
 * that guards its lifetime.
 *
 * Losses, traffic and state are logged on SIGUSR1 (the ->stats op, on
 * the daemon's stats thread, under the lock) and when pviod exits.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "console/console.h"
#include "core/options.h"

/* --- wake-ups (lock held) -------------------------------------------------------- */

void pviod_con_queue_wake(struct pviod_con *con, unsigned int qi)
{
	if (qi < con->dev->nqueues && con->wake_fd[qi] >= 0)
		eventfd_write(con->wake_fd[qi], 1);
}

void pviod_con_io_wake(struct pviod_con *con)
{
	eventfd_write(con->io_wake_fd, 1);
}

unsigned int pviod_con_rxq(unsigned int port)
{
	return port ? 2 * port + 2 : 0;
}

unsigned int pviod_con_txq(unsigned int port)
{
	return pviod_con_rxq(port) + 1;
}

/* Queue a control message for the driver (multiport only); lock held. */
void pviod_con_ctrl_send(struct pviod_con *con, unsigned int id, uint16_t event, uint16_t value,
			 const void *extra, size_t extra_len)
{
	struct pvio_console_control c = {
		.id = cpu_to_le32(id),
		.event = cpu_to_le16(event),
		.value = cpu_to_le16(value),
	};
	struct pviod_con_msg *m;

	if (!con->multiport)
		return;
	if (con->ctrl_len == PVIOD_CON_CTRL_MAX) {
		con->ctrl_dropped++;
		return;
	}
	m = &con->ctrl[(con->ctrl_head + con->ctrl_len++) % PVIOD_CON_CTRL_MAX];
	memcpy(m->buf, &c, sizeof(c));
	/* Most messages carry nothing after the header: memcpy(NULL) is undefined. */
	if (extra_len)
		memcpy(m->buf + sizeof(c), extra, extra_len);
	m->len = (uint32_t)(sizeof(c) + extra_len);
	pviod_con_queue_wake(con, 2);
}

void pviod_con_ctrl_resize(struct pviod_con *con, struct pviod_con_port *p)
{
	/* Linux reads cols then rows, as protocol/virtio_console.h lays it out. */
	struct pvio_console_resize r = { .cols = cpu_to_le16(p->cols),
					 .rows = cpu_to_le16(p->rows) };

	if (p->guest_ready)
		pviod_con_ctrl_send(con, p->id, PVIO_CONSOLE_RESIZE, 0, &r, sizeof(r));
}

/* --- segments ------------------------------------------------------------------- */

/* Copy the readable part of a chain into @b; returns bytes that did not fit. */
static uint64_t pviod_con_chain_to_buf(struct pviod_con_buf *b, const struct pvring_seg *seg,
				       unsigned int nout)
{
	uint64_t lost = 0;
	unsigned int i;

	for (i = 0; i < nout; i++)
		lost += seg[i].len - pviod_con_buf_put(b, seg[i].base, seg[i].len);
	return lost;
}

/* Fill the writable part of a chain from @b; returns bytes written. */
static uint32_t pviod_con_buf_to_chain(struct pviod_con_buf *b, const struct pvring_seg *seg,
				       unsigned int nout, unsigned int nseg)
{
	uint32_t done = 0;
	unsigned int i;

	for (i = nout; i < nseg && b->len; i++) {
		size_t off = 0;

		while (off < seg[i].len && b->len) {
			const uint8_t *p;
			size_t n = pviod_con_buf_peek(b, &p);

			if (n > seg[i].len - off)
				n = seg[i].len - off;
			memcpy((uint8_t *)seg[i].base + off, p, n);
			pviod_con_buf_consume(b, n);
			off += n;
			done += (uint32_t)n;
		}
	}
	return done;
}

/*
 * Pop one chain: 1, 0 when the ring is empty, -EIO when it broke.  A bad
 * chain with a good head is given back empty and the next one popped.
 */
static int pviod_con_pop(struct pviod_queue *q, struct pvring_chain *c, struct pvring_seg *seg)
{
	int ret;

	for (;;) {
		ret = pviod_queue_pop(q, c, seg, PVIOD_CON_SEGS);
		if (ret >= 0 || ret == -EIO)
			return ret;
		if (pviod_ratelimit_ok(&q->rl))
			pr_err("%s: queue %u: bad descriptor chain at head %u: %s", q->dev->name,
			       q->index, c->head, strerror(-ret));
		pviod_queue_complete(q, c->head, 0);
	}
}

/* --- the data path (worker) --------------------------------------------------------- */

static enum pviod_serve pviod_con_tx_serve(struct pviod_con *con, struct pviod_queue *q,
					   struct pviod_con_port *p)
{
	enum pviod_serve r = PVIOD_SERVE_EMPTY;
	struct pvring_seg seg[PVIOD_CON_SEGS];
	struct pvring_chain c;
	bool wake = false;

	pthread_mutex_lock(&con->lock);
	for (;;) {
		if (p->host_open && !p->stalled && p->out.len >= p->out_limit) {
			/* The I/O thread wakes the queue once the sink took some. */
			p->tx_blocked = true;
			r = PVIOD_SERVE_BLOCKED;
			break;
		}
		if (pviod_con_pop(q, &c, seg) <= 0)
			break;
		/*
		 * The reader's time to take it counts from now: the I/O thread
		 * does not tick while every buffer is empty (sink.c).
		 */
		if (p->host_open && !p->out.len)
			p->progress_ms = pviod_con_now_ms();
		if (p->host_open)
			p->lost_bytes += pviod_con_chain_to_buf(&p->out, seg, c.nout);
		else
			p->lost_bytes += c.out_len;
		wake = wake || p->out.len;
		pviod_queue_complete(q, c.head, 0);
	}
	if (wake)
		pviod_con_io_wake(con);
	pthread_mutex_unlock(&con->lock);
	return r;
}

static enum pviod_serve pviod_con_rx_serve(struct pviod_con *con, struct pviod_queue *q,
					   struct pviod_con_port *p)
{
	enum pviod_serve r = PVIOD_SERVE_IDLE;
	struct pvring_seg seg[PVIOD_CON_SEGS];
	struct pvring_chain c;
	size_t before;
	uint32_t n;

	pthread_mutex_lock(&con->lock);
	before = p->in.len;
	while (p->in.len) {
		if (pviod_con_pop(q, &c, seg) <= 0) {
			/* Input waits for buffers: the driver's kick brings us back. */
			r = PVIOD_SERVE_EMPTY;
			break;
		}
		n = pviod_con_buf_to_chain(&p->in, seg, c.nout, c.nseg);
		p->rx_bytes += n;
		pviod_queue_complete(q, c.head, n);
	}
	pthread_mutex_unlock(&con->lock);
	/* Room again: the I/O thread may read the sink. */
	if (before == p->in.cap && before != p->in.len)
		pviod_con_io_wake(con);
	return r;
}

/* A control message from the driver; lock held. */
static void pviod_con_ctrl_handle(struct pviod_con *con, const struct pvio_console_control *c)
{
	uint32_t id = le32_to_cpu(c->id);
	uint16_t event = le16_to_cpu(c->event), value = le16_to_cpu(c->value);
	struct pviod_con_port *p;
	unsigned int i;

	if (event == PVIO_CONSOLE_DEVICE_READY) {
		if (value != 1) {
			pr_warn("%s: the driver failed to set up the device", con->dev->name);
			return;
		}
		for (i = 0; i < con->nports; i++)
			pviod_con_ctrl_send(con, i, PVIO_CONSOLE_DEVICE_ADD, 0, NULL, 0);
		return;
	}
	if (id >= con->nports) {
		if (pviod_ratelimit_ok(&con->dev->queues[3].rl))
			pr_warn("%s: control event %u for port %u, which does not exist",
				con->dev->name, event, id);
		return;
	}
	p = &con->ports[id];
	switch (event) {
	case PVIO_CONSOLE_PORT_READY:
		if (value != 1) {
			pr_warn("%s: port %u: the driver failed to add it", con->dev->name, id);
			return;
		}
		p->guest_ready = true;
		if (id == 0) {
			pviod_con_ctrl_send(con, 0, PVIO_CONSOLE_CONSOLE_PORT, 1, NULL, 0);
			if (p->cols && p->rows)
				pviod_con_ctrl_resize(con, p);
		}
		if (p->name)
			pviod_con_ctrl_send(con, id, PVIO_CONSOLE_PORT_NAME, 0, p->name,
					    strlen(p->name) + 1);
		pviod_con_ctrl_send(con, id, PVIO_CONSOLE_PORT_OPEN, p->host_open, NULL, 0);
		break;
	case PVIO_CONSOLE_PORT_OPEN:
		p->guest_open = value || id == 0;
		if (!p->guest_open) {
			/* As Linux does: unread input goes. */
			p->in.len = 0;
			p->in.head = 0;
		}
		pviod_con_io_wake(con);
		break;
	default:
		if (pviod_ratelimit_ok(&con->dev->queues[3].rl))
			pr_warn("%s: port %u: unexpected control event %u from the driver",
				con->dev->name, id, event);
	}
}

static enum pviod_serve pviod_con_ctrl_tx_serve(struct pviod_con *con, struct pviod_queue *q)
{
	struct pvring_seg seg[PVIOD_CON_SEGS];
	struct pvio_console_control msg;
	struct pvring_chain c;

	while (pviod_con_pop(q, &c, seg) > 0) {
		if (c.out_len < sizeof(msg)) {
			if (pviod_ratelimit_ok(&q->rl))
				pr_warn("%s: control message of %llu bytes ignored", q->dev->name,
					(unsigned long long)c.out_len);
		} else {
			struct pviod_con_buf b = { .data = (uint8_t *)&msg, .cap = sizeof(msg) };

			pviod_con_chain_to_buf(&b, seg, c.nout);
			pthread_mutex_lock(&con->lock);
			pviod_con_ctrl_handle(con, &msg);
			pthread_mutex_unlock(&con->lock);
		}
		pviod_queue_complete(q, c.head, 0);
	}
	return PVIOD_SERVE_EMPTY;
}

static enum pviod_serve pviod_con_ctrl_rx_serve(struct pviod_con *con, struct pviod_queue *q)
{
	enum pviod_serve r = PVIOD_SERVE_IDLE;
	struct pvring_seg seg[PVIOD_CON_SEGS];
	struct pvring_chain c;

	pthread_mutex_lock(&con->lock);
	while (con->ctrl_len) {
		struct pviod_con_msg *m = &con->ctrl[con->ctrl_head];
		struct pviod_con_buf b = { .data = m->buf, .cap = sizeof(m->buf), .len = m->len };
		uint32_t n;

		if (pviod_con_pop(q, &c, seg) <= 0) {
			r = PVIOD_SERVE_EMPTY;
			break;
		}
		n = pviod_con_buf_to_chain(&b, seg, c.nout, c.nseg);
		if (n < m->len && pviod_ratelimit_ok(&q->rl))
			pr_warn("%s: control buffer of %llu bytes too small for a %u-byte message",
				q->dev->name, (unsigned long long)c.in_len, m->len);
		con->ctrl_head = (con->ctrl_head + 1) % PVIOD_CON_CTRL_MAX;
		con->ctrl_len--;
		pviod_queue_complete(q, c.head, n);
	}
	pthread_mutex_unlock(&con->lock);
	return r;
}

static enum pviod_serve pviod_con_queue_serve(struct pviod_queue *q)
{
	struct pviod_con *con = pviod_con_of(q->dev);
	unsigned int port = q->index < 2 ? 0 : (q->index - 2) / 2;

	if (q->index == 2)
		return pviod_con_ctrl_rx_serve(con, q);
	if (q->index == 3)
		return pviod_con_ctrl_tx_serve(con, q);
	if (port >= con->nports)
		return PVIOD_SERVE_IDLE;
	if (q->index & 1)
		return pviod_con_tx_serve(con, q, &con->ports[port]);
	return pviod_con_rx_serve(con, q, &con->ports[port]);
}

/* --- control thread ------------------------------------------------------------------ */

/*
 * The control transmit queue starts past its first entry: the driver sent
 * DEVICE_READY to a back-end before us (we were restarted, or it
 * reconnected), and a guest driver never sends it again, nor PORT_READY or
 * PORT_OPEN for a port it already has.  So re-announce every port: DEVICE_ADD
 * for a port the driver has is answered with PORT_READY again (Linux's
 * virtio_console does so), which brings CONSOLE_PORT, PORT_NAME (both
 * ignored when repeated) and our PORT_OPEN; and take every port as open on
 * the guest side, which is what a driver with history most likely has.  A
 * port the guest had closed gets input it discards, as for any closed port.
 * See Documentation/console.rst, "Back-end restarts".  Lock held.
 */
static void pviod_con_resume(struct pviod_con *con)
{
	unsigned int i;

	pr_info("%s: the driver set up the ports with an earlier back-end: announcing them again",
		con->dev->name);
	for (i = 0; i < con->nports; i++) {
		con->ports[i].guest_open = true;
		pviod_con_ctrl_send(con, i, PVIO_CONSOLE_DEVICE_ADD, 0, NULL, 0);
	}
	pviod_con_io_wake(con);
}

/*
 * Does a starting ring resume past its first entry?  A fresh one starts at
 * 0 (split) or at 0 with both wrap counters set (packed).  A split ring
 * that took exactly a multiple of 65536 entries looks fresh: for the
 * control queue, that many control messages before a restart.
 */
static bool pviod_con_ring_used(const struct pvring_dev *r)
{
	return pvring_dev_base(r) != (pvring_dev_is_packed(r) ? 0x80008000u : 0);
}

static int pviod_con_queue_start(struct pviod_device *dev, struct pviod_queue *q)
{
	struct pviod_con *con = pviod_con_of(dev);
	int fd = dup(q->kick_fd);

	if (fd < 0)
		return -errno;
	pthread_mutex_lock(&con->lock);
	con->wake_fd[q->index] = fd;
	if (q->index == 3 && con->multiport && pviod_con_ring_used(&q->ring) && !con->resumed) {
		con->resumed = true;
		pviod_con_resume(con);
	}
	pthread_mutex_unlock(&con->lock);
	return 0;
}

static void pviod_con_queue_stop(struct pviod_device *dev, struct pviod_queue *q)
{
	struct pviod_con *con = pviod_con_of(dev);

	pthread_mutex_lock(&con->lock);
	if (con->wake_fd[q->index] >= 0)
		close(con->wake_fd[q->index]);
	con->wake_fd[q->index] = -1;
	pthread_mutex_unlock(&con->lock);
}

static uint64_t pviod_con_features(struct pviod_device *dev)
{
	return PVIO_BIT(PVIO_F_VERSION_1) | PVIO_BIT(PVIO_F_EVENT_IDX) |
	       PVIO_BIT(PVIO_F_INDIRECT_DESC) | PVIO_BIT(PVIO_CONSOLE_F_SIZE) |
	       PVIO_BIT(PVIO_CONSOLE_F_MULTIPORT) | PVIO_BIT(PVIO_CONSOLE_F_EMERG_WRITE);
}

/* Called with 0 on reset and disconnect: forget the driver's view of every port. */
static int pviod_con_features_set(struct pviod_device *dev, uint64_t features)
{
	struct pviod_con *con = pviod_con_of(dev);
	unsigned int i;

	pthread_mutex_lock(&con->lock);
	con->multiport = features & PVIO_BIT(PVIO_CONSOLE_F_MULTIPORT);
	con->ctrl_len = 0;
	con->resumed = false;
	for (i = 0; i < con->nports; i++) {
		struct pviod_con_port *p = &con->ports[i];

		p->guest_ready = false;
		/* Without MULTIPORT port 0 is open from the start. */
		p->guest_open = i == 0;
	}
	pviod_con_io_wake(con);
	pthread_mutex_unlock(&con->lock);
	return 0;
}

static int pviod_con_config_read(struct pviod_device *dev, uint32_t off, void *buf, uint32_t len)
{
	struct pviod_con *con = pviod_con_of(dev);
	struct pvio_console_config cfg = { .max_nr_ports = cpu_to_le32(con->nports) };

	pthread_mutex_lock(&con->lock);
	cfg.cols = cpu_to_le16(con->ports[0].cols);
	cfg.rows = cpu_to_le16(con->ports[0].rows);
	pthread_mutex_unlock(&con->lock);
	memcpy(buf, (const uint8_t *)&cfg + off, len);
	return 0;
}

/* emerg_wr: one character for port 0, no queue needed (virtio 1.2 §5.3.4). */
static int pviod_con_config_write(struct pviod_device *dev, uint32_t off, const void *buf,
				  uint32_t len)
{
	struct pviod_con *con = pviod_con_of(dev);
	struct pviod_con_port *p = &con->ports[0];
	uint32_t v = 0;
	uint8_t ch;

	if (off != offsetof(struct pvio_console_config, emerg_wr) || len != sizeof(v))
		return -EINVAL;
	memcpy(&v, buf, sizeof(v));
	ch = (uint8_t)le32_to_cpu(v);
	pthread_mutex_lock(&con->lock);
	con->emerg_chars++;
	if (!p->host_open || !pviod_con_buf_put(&p->out, &ch, 1))
		p->lost_bytes++;
	pviod_con_io_wake(con);
	pthread_mutex_unlock(&con->lock);
	return 0;
}

static void pviod_con_stats_print(struct pviod_con *con)
{
	unsigned int i;

	pthread_mutex_lock(&con->lock);
	for (i = 0; i < con->nports; i++) {
		struct pviod_con_port *p = &con->ports[i];

		pr_info("%s: port %u%s%s: to sink %llu bytes, lost %llu, from sink %llu, buffered %zu, reader %s%s, %llu disconnects",
			con->dev->name, i, p->name ? " " : "", p->name ? p->name : "",
			(unsigned long long)p->tx_bytes, (unsigned long long)p->lost_bytes,
			(unsigned long long)p->rx_bytes, p->out.len,
			p->host_open ? "connected" : "none", p->stalled ? " (stalled)" : "",
			(unsigned long long)p->disconnects);
	}
	if (con->ctrl_dropped || con->emerg_chars)
		pr_info("%s: %llu control messages dropped, %u emergency characters",
			con->dev->name, (unsigned long long)con->ctrl_dropped, con->emerg_chars);
	pthread_mutex_unlock(&con->lock);
}

/* SIGUSR1: the stats thread (every counter is under the lock). */
static void pviod_con_stats(struct pviod_device *dev)
{
	pviod_con_stats_print(pviod_con_of(dev));
}

/*
 * device_stats and SIGUSR1, on the queue's worker: a port's rx queue counts
 * what reached the guest, its tx queue what reached the sink and what was
 * lost; the control queues what was dropped.
 */
static void pviod_con_queue_counters(struct pviod_queue *q, struct pviod_queue_counters *c)
{
	struct pviod_con *con = pviod_con_of(q->dev);
	unsigned int port = q->index < 2 ? 0 : (q->index - 2) / 2;

	pthread_mutex_lock(&con->lock);
	if (q->index == 2) {
		pviod_counters_drop(c, "control", con->ctrl_dropped);
	} else if (q->index != 3 && port < con->nports) {
		const struct pviod_con_port *p = &con->ports[port];

		if (q->index & 1) {
			c->bytes = p->tx_bytes;
			pviod_counters_drop(c, "lost", p->lost_bytes);
		} else {
			c->bytes = p->rx_bytes;
		}
	}
	pthread_mutex_unlock(&con->lock);
}

/* The reader went away (lock held): drop what it did not take. */
static void pviod_con_destroy(struct pviod_device *dev)
{
	struct pviod_con *con = pviod_con_of(dev);
	unsigned int i;

	if (!con)
		return;
	if (con->io_started) {
		pthread_mutex_lock(&con->lock);
		con->exit = true;
		pviod_con_io_wake(con);
		pthread_mutex_unlock(&con->lock);
		pthread_join(con->io_thread, NULL);
		/* Whatever the sinks can take now, then the totals. */
		for (i = 0; i < con->nports; i++)
			if (con->ports[i].out_fd >= 0)
				pviod_con_sink_write(con, &con->ports[i]);
		pviod_con_stats_print(con);
	}
	for (i = 0; con->ports && i < con->nports; i++) {
		struct pviod_con_port *p = &con->ports[i];

		if (p->in_fd > STDERR_FILENO)
			close(p->in_fd);
		if (p->out_fd > STDERR_FILENO && p->out_fd != p->in_fd)
			close(p->out_fd);
		if (p->pty_slave_fd >= 0)
			close(p->pty_slave_fd);
		if (p->listen_fd >= 0) {
			close(p->listen_fd);
			unlink(p->path);
		} else if (con->out_kind == PVIOD_CON_PTY && p->path) {
			unlink(p->path);
		}
		free(p->out.data);
		free(p->in.data);
		free(p->name);
		free(p->path);
	}
	for (i = 0; con->wake_fd && i < dev->nqueues; i++)
		if (con->wake_fd[i] >= 0)
			close(con->wake_fd[i]);
	if (con->io_wake_fd >= 0)
		close(con->io_wake_fd);
	pthread_mutex_destroy(&con->lock);
	free(con->wake_fd);
	free(con->ctrl);
	free(con->ports);
	free(con);
	dev->priv = NULL;
}

static const struct pviod_device_ops pviod_con_ops = {
	.name = "console",
	.features = pviod_con_features,
	.features_set = pviod_con_features_set,
	.config_read = pviod_con_config_read,
	.config_write = pviod_con_config_write,
	.config_size = sizeof(struct pvio_console_config),
	.queue_start = pviod_con_queue_start,
	.queue_stop = pviod_con_queue_stop,
	.queue_serve = pviod_con_queue_serve,
	.stats = pviod_con_stats,
	.queue_counters = pviod_con_queue_counters,
	.destroy = pviod_con_destroy,
};

static int pviod_con_ports_init(struct pviod_con *con, const char *out_path, char *names,
				size_t buffer)
{
	unsigned int i;
	char *tok = names;
	int ret;

	for (i = 0; i < con->nports; i++) {
		struct pviod_con_port *p = &con->ports[i];
		char *end = tok ? strchr(tok, ':') : NULL;

		if (end)
			*end = '\0';
		p->con = con;
		p->id = i;
		p->listen_fd = -1;
		p->in_fd = -1;
		p->out_fd = -1;
		p->pty_slave_fd = -1;
		p->guest_open = i == 0;
		p->out_limit = buffer;
		if (tok && *tok) {
			if (strlen(tok) >= PVIOD_CON_NAME_MAX || strchr(tok, '/')) {
				pviod_opt_err("console", "port name '%s': under %d bytes, no '/'",
					      tok, PVIOD_CON_NAME_MAX);
				return -EINVAL;
			}
			p->name = strdup(tok);
		}
		tok = end ? end + 1 : NULL;
		if (out_path) {
			p->path = pviod_con_port_path(out_path, i);
			if (!p->path)
				return -ENOMEM;
		}
		p->out.cap = buffer + PVIOD_CON_OUT_SLACK;
		p->in.cap = PVIOD_CON_IN_SIZE;
		p->out.data = malloc(p->out.cap);
		p->in.data = malloc(p->in.cap);
		if (!p->out.data || !p->in.data)
			return -ENOMEM;
		ret = pviod_con_sink_open(con, p);
		if (ret)
			return ret;
	}
	if (tok)
		pr_warn("--device console: more names than ports=%u; extra ignored", con->nports);
	return 0;
}

/**
 * pviod_console_create - a console device from its --device options
 * @env: what it is created in
 * @name: its name, for messages
 * @opts: "socket=PATH,out=pty[:LINK]|unix:PATH|file:PATH|stdio[,ports=N]
 *        [,names=NAME0:NAME1:...][,buffer=BYTES][,stall-ms=MS]" (after "console,")
 * @out: the device (not yet listening)
 *
 * Port k >= 1 of unix:PATH, file:PATH and pty:LINK uses PATH.k; out=stdio
 * serves one port.
 *
 * Return: 0; -EINVAL for a bad option (the message says which); the sink's
 * open error otherwise (the message names the path).
 */
int pviod_console_create(const struct pviod_env *env, const char *name, const char *opts,
			 struct pviod_device **out)
{
	char *copy = strdup(opts), *tok, *save = NULL, *socket_path = NULL, *sink = NULL;
	char *names = NULL, *out_path = NULL;
	unsigned long nports = 1, buffer = PVIOD_CON_OUT_DEFAULT, stall = PVIOD_CON_STALL_MS;
	struct pviod_device *dev = NULL;
	struct pviod_con *con = NULL;
	unsigned int i;
	int ret = -EINVAL;

	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *val;

		if (pviod_opt_split("console", tok, &val))
			goto err_free_copy;
		if (!strcmp(tok, "socket")) {
			socket_path = val;
		} else if (!strcmp(tok, "out")) {
			sink = val;
		} else if (!strcmp(tok, "names")) {
			names = val;
		} else if (!strcmp(tok, "ports")) {
			if (pviod_opt_uint("console", tok, val, 1, PVIOD_CON_PORTS_MAX, &nports))
				goto err_free_copy;
		} else if (!strcmp(tok, "buffer")) {
			if (pviod_opt_uint("console", tok, val, 4096, 1ul << 30, &buffer))
				goto err_free_copy;
		} else if (!strcmp(tok, "stall-ms")) {
			if (pviod_opt_uint("console", tok, val, 1, 3600000, &stall))
				goto err_free_copy;
		} else {
			pviod_opt_err("console", "unknown option '%s' (%s)", tok,
				      "socket, out, ports, names, buffer, stall-ms");
			goto err_free_copy;
		}
	}
	if (!socket_path || !*socket_path || !sink) {
		pviod_opt_err("console",
			      "socket=PATH and out=pty|unix:PATH|file:PATH|stdio are required");
		goto err_free_copy;
	}
	dev = calloc(1, sizeof(*dev));
	con = calloc(1, sizeof(*con));
	if (!dev || !con) {
		free(con);
		ret = -ENOMEM;
		goto err_free_dev;
	}
	dev->priv = con;
	con->dev = dev;
	con->io_wake_fd = -1;
	pthread_mutex_init(&con->lock, NULL);
	if (!strcmp(sink, "pty") || !strncmp(sink, "pty:", 4)) {
		con->out_kind = PVIOD_CON_PTY;
		out_path = sink[3] ? sink + 4 : NULL;
	} else if (!strncmp(sink, "unix:", 5) && sink[5]) {
		con->out_kind = PVIOD_CON_UNIX;
		out_path = sink + 5;
	} else if (!strncmp(sink, "file:", 5) && sink[5]) {
		con->out_kind = PVIOD_CON_FILE;
		out_path = sink + 5;
	} else if (!strcmp(sink, "stdio")) {
		con->out_kind = PVIOD_CON_STDIO;
		if (nports > 1) {
			pviod_opt_err("console",
				      "out=stdio serves one port; use ports=1 or another out=");
			goto err_free_dev;
		}
	} else {
		pviod_opt_err("console",
			      "out=%s: expected pty, pty:LINK, unix:PATH, file:PATH or stdio",
			      sink);
		goto err_free_dev;
	}
	con->nports = (unsigned int)nports;
	con->stall_ms = (unsigned int)stall;
	ret = pviod_device_init(dev, env, &pviod_con_ops, name, socket_path, 2 * con->nports + 2);
	if (ret)
		goto err_free_dev;
	/* All of a device's queues on one worker: its sinks cost one thread's time only. */
	for (i = 1; i < dev->nqueues; i++)
		dev->queues[i].worker = dev->queues[0].worker;
	con->ports = calloc(con->nports, sizeof(*con->ports));
	con->wake_fd = malloc(dev->nqueues * sizeof(*con->wake_fd));
	con->ctrl = calloc(PVIOD_CON_CTRL_MAX, sizeof(*con->ctrl));
	con->io_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!con->ports || !con->wake_fd || !con->ctrl || con->io_wake_fd < 0) {
		ret = -ENOMEM;
		goto err_free_dev;
	}
	for (i = 0; i < dev->nqueues; i++)
		con->wake_fd[i] = -1;
	ret = pviod_con_ports_init(con, out_path, names, buffer);
	if (ret)
		goto err_free_dev;

	ret = -pthread_create(&con->io_thread, NULL, pviod_con_io_main, con);
	if (ret)
		goto err_free_dev;
	con->io_started = true;
	pr_info("%s: %u port%s, output buffer %lu bytes, stall %lu ms", dev->name, con->nports,
		con->nports > 1 ? "s" : "", buffer, stall);
	free(copy);
	*out = dev;
	return 0;

err_free_dev:
	if (dev) {
		pviod_con_destroy(dev);
		pviod_device_free(dev);
	}
err_free_copy:
	free(copy);
	return ret;
}
