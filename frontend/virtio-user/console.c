// SPDX-License-Identifier: GPL-2.0
/*
 * console.c - virtio-console over the vhost-user front-end (virtio 1.2
 * §5.3): port 0 on vrings 0/1; with MULTIPORT the control queues on 2/3 and
 * port k on 2k+2 / 2k+3.
 *
 * Open negotiates MULTIPORT, SIZE and EMERG_WRITE (the caller writes emerg_wr
 * with vuser_dev_config_write()), posts every receive buffer, sends DEVICE_READY
 * and answers each DEVICE_ADD with PORT_READY, the way Linux's virtio_console
 * does.  Control messages from the device (CONSOLE_PORT,
 * PORT_NAME, PORT_OPEN, RESIZE) are taken whenever the caller reads, writes
 * or waits, and recorded in struct vuser_console_port.
 *
 * Data: transmit copies into a pool of device-readable buffers (one chain
 * each); receive keeps every rx buffer posted and hands out bytes in order,
 * reposting a buffer once it has been read to its end.  Everything the
 * device writes (lengths, control messages) is bounded before use.
 *
 * One thread at a time per device.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vuser.h"

#define VUSER_CON_CTRL_BUF (sizeof(struct pvio_console_control) + VUSER_CONSOLE_NAME_MAX)

static int vuser_console_post(struct vuser_console *con, struct vuser_queue *q, uint8_t *buf,
			      uint32_t len)
{
	struct pvring_sg sg = { vuser_mem_gpa(&con->dev.mem, buf), len };

	return pvring_drv_add(&q->ring, &sg, 0, 1, buf);
}

static int vuser_console_ctrl_send(struct vuser_console *con, unsigned int id, uint16_t event,
				   uint16_t value)
{
	struct pvio_console_control c = {
		.id = cpu_to_le32(id),
		.event = cpu_to_le16(event),
		.value = cpu_to_le16(value),
	};
	struct pvring_sg sg;
	uint8_t *buf;
	uint32_t len;
	int r;

	while ((buf = pvring_drv_get_used(&con->ctxq->ring, &len)))
		con->ctx_free[con->ctx_nfree++] = (uint16_t)((buf - con->ctxbufs) / sizeof(c));
	if (!con->ctx_nfree) {
		r = vuser_queue_wait(con->ctxq, -1);
		if (r)
			return r;
		return vuser_console_ctrl_send(con, id, event, value);
	}
	buf = con->ctxbufs + (size_t)con->ctx_free[--con->ctx_nfree] * sizeof(c);
	memcpy(buf, &c, sizeof(c));
	sg.addr = vuser_mem_gpa(&con->dev.mem, buf);
	sg.len = sizeof(c);
	r = pvring_drv_add(&con->ctxq->ring, &sg, 1, 0, buf);
	if (r)
		return vuser_dev_err(&con->dev, r, "control transmit queue is broken");
	vuser_queue_kick(con->ctxq);
	return 0;
}

static int vuser_console_ctrl_handle(struct vuser_console *con, const uint8_t *buf, uint32_t len)
{
	struct pvio_console_control c;
	struct pvio_console_resize rs;
	struct vuser_console_port *p;
	uint32_t id;

	if (len < sizeof(c))
		return vuser_dev_err(&con->dev, -EPROTO, "control message of %u bytes", len);
	memcpy(&c, buf, sizeof(c));
	id = le32_to_cpu(c.id);
	con->ctrl_msgs++;
	if (id >= con->nports)
		return vuser_dev_err(&con->dev, -EPROTO, "control event %u for port %u of %u",
				     le16_to_cpu(c.event), id, con->nports);
	p = &con->ports[id];
	switch (le16_to_cpu(c.event)) {
	case PVIO_CONSOLE_DEVICE_ADD:
		/* A port added already is answered again, as Linux does. */
		p->added = true;
		return vuser_console_ctrl_send(con, id, PVIO_CONSOLE_PORT_READY, 1);
	case PVIO_CONSOLE_DEVICE_REMOVE:
		p->added = false;
		p->host_open = false;
		return 0;
	case PVIO_CONSOLE_CONSOLE_PORT:
		/* As Linux: a repeat (after a back-end restart) changes nothing. */
		if (p->console)
			return 0;
		p->console = true;
		/* As Linux: a console port is open on the guest side from the start. */
		return vuser_console_ctrl_send(con, id, PVIO_CONSOLE_PORT_OPEN, 1);
	case PVIO_CONSOLE_PORT_OPEN:
		p->host_open = le16_to_cpu(c.value) != 0;
		return 0;
	case PVIO_CONSOLE_PORT_NAME:
		len -= sizeof(c);
		if (len >= sizeof(p->name))
			len = sizeof(p->name) - 1;
		memcpy(p->name, buf + sizeof(c), len);
		p->name[len] = '\0';
		return 0;
	case PVIO_CONSOLE_RESIZE:
		if (len < sizeof(c) + sizeof(rs))
			return vuser_dev_err(&con->dev, -EPROTO, "RESIZE of %u bytes", len);
		memcpy(&rs, buf + sizeof(c), sizeof(rs));
		p->cols = le16_to_cpu(rs.cols);
		p->rows = le16_to_cpu(rs.rows);
		p->resizes++;
		return 0;
	default:
		return vuser_dev_err(&con->dev, -EPROTO, "unknown control event %u",
				     le16_to_cpu(c.event));
	}
}

/**
 * vuser_console_ctrl_poll - take every control message the device has sent
 * @con: the console
 *
 * Return: messages handled, or -errno (-EPROTO for a message that makes no
 * sense, -EIO for a broken ring).
 */
int vuser_console_ctrl_poll(struct vuser_console *con)
{
	uint8_t *buf;
	uint32_t len;
	int n = 0, r = 0;

	if (!con->multiport)
		return 0;
	while ((buf = pvring_drv_get_used(&con->crxq->ring, &len))) {
		if (len > VUSER_CON_CTRL_BUF) {
			r = vuser_dev_err(&con->dev, -EPROTO,
					  "control message of %u bytes in a %zu-byte buffer", len,
					  VUSER_CON_CTRL_BUF);
		} else {
			r = vuser_console_ctrl_handle(con, buf, len);
		}
		vuser_console_post(con, con->crxq, buf, VUSER_CON_CTRL_BUF);
		if (r)
			break;
		n++;
	}
	vuser_queue_kick(con->crxq);
	if (!r && pvring_drv_broken(&con->crxq->ring))
		r = vuser_dev_err(&con->dev, -EIO, "back-end broke the control receive queue");
	return r ? r : n;
}

/**
 * vuser_console_wait_ctrl - sleep until a control message arrives, then take it
 * @con: the console
 * @timeout_ms: at most this long (<0: the device's timeout)
 *
 * Return: messages handled (>0), -ETIMEDOUT, or another -errno.
 */
int vuser_console_wait_ctrl(struct vuser_console *con, int timeout_ms)
{
	int r;

	if (!con->multiport)
		return -EOPNOTSUPP;
	r = vuser_queue_wait(con->crxq, timeout_ms);
	return r ? r : vuser_console_ctrl_poll(con);
}

/* What open and reconnect ask of the device layer. */
static void vuser_console_dev_opts(const struct vuser_console_opts *opts,
				   struct vuser_dev_opts *dopts)
{
	unsigned int qsize = opts->queue_size ? opts->queue_size : 128;
	unsigned int bufsz = opts->buf_size ? opts->buf_size : 4096;

	memset(dopts, 0, sizeof(*dopts));
	dopts->socket_path = opts->socket_path;
	dopts->device_id = PVIO_ID_CONSOLE;
	dopts->timeout_ms = opts->timeout_ms;
	dopts->features = PVIO_BIT(PVIO_F_EVENT_IDX) | PVIO_BIT(PVIO_CONSOLE_F_SIZE) |
			  PVIO_BIT(PVIO_CONSOLE_F_EMERG_WRITE) |
			  (opts->no_multiport ? 0 : PVIO_BIT(PVIO_CONSOLE_F_MULTIPORT)) |
			  (opts->packed ? PVIO_BIT(PVIO_F_RING_PACKED) : 0);
	dopts->required = opts->packed ? PVIO_BIT(PVIO_F_RING_PACKED) : 0;
	dopts->num_queues = opts->no_multiport ? 2 : 0;
	dopts->queue_size = qsize;
	dopts->config_size = sizeof(struct pvio_console_config);
	/* Enough for 2 x (VUSER_MAX_QUEUES / 2) data queues' buffers plus control. */
	dopts->mem_size = (size_t)VUSER_MAX_QUEUES * qsize * bufsz + (4u << 20);
}

/**
 * vuser_console_open - connect to a vhost-user console and bring its ports up
 * @con: filled in
 * @opts: socket, ring and buffer sizes, whether to negotiate MULTIPORT
 *
 * With MULTIPORT, returns once every port was added (DEVICE_ADD answered
 * with PORT_READY); names and PORT_OPEN may follow later, see
 * vuser_console_wait_ctrl().
 *
 * Return: 0 or -errno; vuser_dev_errmsg(&con->dev) says why.
 */
int vuser_console_open(struct vuser_console *con, const struct vuser_console_opts *opts)
{
	unsigned int bufsz = opts->buf_size ? opts->buf_size : 4096, i, j, added;
	struct vuser_dev_opts dopts;
	size_t ctx_bytes;
	int r;

	memset(con, 0, sizeof(*con));
	con->buf_size = bufsz;
	vuser_console_dev_opts(opts, &dopts);
	r = vuser_dev_open(&con->dev, &dopts);
	if (r)
		return r;
	memcpy(&con->cfg, con->dev.config,
	       con->dev.config_len < sizeof(con->cfg) ? con->dev.config_len : sizeof(con->cfg));
	con->multiport = vuser_dev_has(&con->dev, PVIO_CONSOLE_F_MULTIPORT);
	con->nports = 1;
	if (con->multiport) {
		con->nports = le32_to_cpu(con->cfg.max_nr_ports);
		if (!con->nports || con->nports > (con->dev.nqueues - 2) / 2) {
			/*
			 * clang-format off/on below: keeps a long error message whole on one line
			 * (greppable); clang-format would only fit it by ending the line with "(",
			 * which checkpatch rejects (OPEN_ENDED_LINE).
			 */
			/* clang-format off */
			r = vuser_dev_err(&con->dev, -EPROTO,
					  "max_nr_ports %u does not fit the %u queues the back-end has",
					  con->nports, con->dev.nqueues);
			/* clang-format on */
			goto err_close_dev;
		}
		con->crxq = &con->dev.queues[2];
		con->ctxq = &con->dev.queues[3];
	}
	con->ports = calloc(con->nports, sizeof(*con->ports));
	if (!con->ports) {
		r = vuser_dev_err(&con->dev, -ENOMEM, "out of memory");
		goto err_close_dev;
	}
	for (i = 0; i < con->nports; i++) {
		struct vuser_console_port *p = &con->ports[i];

		p->rxq = &con->dev.queues[i ? 2 * i + 2 : 0];
		p->txq = &con->dev.queues[i ? 2 * i + 3 : 1];
		p->added = !con->multiport;
		p->rxbufs = vuser_mem_alloc(&con->dev.mem, (size_t)p->rxq->num * bufsz, 64);
		p->txbufs = vuser_mem_alloc(&con->dev.mem, (size_t)p->txq->num * bufsz, 64);
		p->tx_free = calloc(p->txq->num, sizeof(*p->tx_free));
		if (!p->rxbufs || !p->txbufs || !p->tx_free) {
			r = vuser_dev_err(&con->dev, -ENOMEM, "out of memory for port %u buffers",
					  i);
			goto err_free_ports;
		}
		for (j = 0; j < p->txq->num; j++)
			p->tx_free[p->tx_nfree++] = (uint16_t)j;
		for (j = 0; j < p->rxq->num; j++)
			vuser_console_post(con, p->rxq, p->rxbufs + (size_t)j * bufsz, bufsz);
		vuser_queue_kick(p->rxq);
	}
	if (!con->multiport)
		return 0;

	con->crxbufs =
		vuser_mem_alloc(&con->dev.mem, (size_t)con->crxq->num * VUSER_CON_CTRL_BUF, 64);
	ctx_bytes = (size_t)con->ctxq->num * sizeof(struct pvio_console_control);
	con->ctxbufs = vuser_mem_alloc(&con->dev.mem, ctx_bytes, 64);
	con->ctx_free = calloc(con->ctxq->num, sizeof(*con->ctx_free));
	if (!con->crxbufs || !con->ctxbufs || !con->ctx_free) {
		r = vuser_dev_err(&con->dev, -ENOMEM, "out of memory for control buffers");
		goto err_free_ports;
	}
	for (j = 0; j < con->ctxq->num; j++)
		con->ctx_free[con->ctx_nfree++] = (uint16_t)j;
	for (j = 0; j < con->crxq->num; j++)
		vuser_console_post(con, con->crxq, con->crxbufs + (size_t)j * VUSER_CON_CTRL_BUF,
				   VUSER_CON_CTRL_BUF);
	vuser_queue_kick(con->crxq);
	r = vuser_console_ctrl_send(con, 0, PVIO_CONSOLE_DEVICE_READY, 1);
	if (r)
		goto err_free_ports;
	for (;;) {
		for (added = 0, i = 0; i < con->nports; i++)
			added += con->ports[i].added;
		if (added == con->nports)
			return 0;
		r = vuser_console_wait_ctrl(con, -1);
		if (r < 0)
			goto err_free_ports;
	}

err_free_ports:
	vuser_console_close(con);
	return r;
err_close_dev:
	vuser_dev_close(&con->dev);
	return r;
}

/**
 * vuser_console_reconnect - carry on with a restarted back-end
 * @con: an open console whose back-end went away
 * @opts: the options it was opened with
 * @wait_ms: how long to wait for the new back-end to listen
 *
 * Like a guest whose vhost-user back-end restarts: the rings, buffers and
 * ports are kept and resumed (vuser_dev_reconnect()); the driver does not
 * repeat DEVICE_READY, PORT_READY or PORT_OPEN.  The device re-announces
 * its ports (DEVICE_ADD, answered with PORT_READY as Linux does) and says
 * again whether each host side is open; those messages are taken as the
 * caller reads, writes or waits.
 *
 * Return: 0 or -errno; vuser_dev_errmsg(&con->dev) says why.
 */
int vuser_console_reconnect(struct vuser_console *con, const struct vuser_console_opts *opts,
			    int wait_ms)
{
	struct vuser_dev_opts dopts;

	vuser_console_dev_opts(opts, &dopts);
	return vuser_dev_reconnect(&con->dev, &dopts, wait_ms);
}

/**
 * vuser_console_close - disconnect and free
 * @con: an open console
 */
void vuser_console_close(struct vuser_console *con)
{
	unsigned int i;

	vuser_dev_close(&con->dev);
	for (i = 0; con->ports && i < con->nports; i++)
		free(con->ports[i].tx_free);
	free(con->ports);
	free(con->ctx_free);
	con->ports = NULL;
	con->ctx_free = NULL;
}

/**
 * vuser_console_port_open - tell the device the port is open or closed on our side
 * @con: the console (MULTIPORT)
 * @port: the port
 * @open: PORT_OPEN value
 *
 * Return: 0 or -errno.
 */
int vuser_console_port_open(struct vuser_console *con, unsigned int port, bool open)
{
	if (!con->multiport)
		return port ? -EINVAL : 0;
	if (port >= con->nports)
		return -EINVAL;
	return vuser_console_ctrl_send(con, port, PVIO_CONSOLE_PORT_OPEN, open);
}

static void vuser_console_reap_tx(struct vuser_console_port *p, unsigned int bufsz)
{
	uint8_t *buf;
	uint32_t len;

	while ((buf = pvring_drv_get_used(&p->txq->ring, &len)))
		p->tx_free[p->tx_nfree++] = (uint16_t)((size_t)(buf - p->txbufs) / bufsz);
}

/**
 * vuser_console_write - queue bytes on a port and notify the device
 * @con: the console
 * @port: the port
 * @buf: the bytes
 * @len: how many
 *
 * Return: bytes queued (possibly fewer than @len), -EAGAIN when every
 * transmit buffer is in flight, -EINVAL for a port that does not exist,
 * -EIO for a broken ring.
 */
int vuser_console_write(struct vuser_console *con, unsigned int port, const void *buf, size_t len)
{
	struct vuser_console_port *p;
	size_t done = 0;
	int r;

	if (port >= con->nports)
		return -EINVAL;
	p = &con->ports[port];
	vuser_console_ctrl_poll(con);
	vuser_console_reap_tx(p, con->buf_size);
	while (done < len && p->tx_nfree) {
		uint16_t slot = p->tx_free[--p->tx_nfree];
		uint8_t *b = p->txbufs + (size_t)slot * con->buf_size;
		size_t n = len - done < con->buf_size ? len - done : con->buf_size;
		struct pvring_sg sg = { vuser_mem_gpa(&con->dev.mem, b), (uint32_t)n };

		memcpy(b, (const uint8_t *)buf + done, n);
		r = pvring_drv_add(&p->txq->ring, &sg, 1, 0, b);
		if (r) {
			p->tx_nfree++;
			return vuser_dev_err(&con->dev, r, "port %u: transmit queue is broken",
					     port);
		}
		done += n;
	}
	vuser_queue_kick(p->txq);
	if (pvring_drv_broken(&p->txq->ring))
		return vuser_dev_err(&con->dev, -EIO, "port %u: back-end broke the transmit queue",
				     port);
	return done ? (int)done : -EAGAIN;
}

/**
 * vuser_console_tx_drain - wait until the device took every queued byte
 * @con: the console
 * @port: the port
 * @timeout_ms: per wait (<0: the device's timeout)
 *
 * Return: 0, -ETIMEDOUT, or another -errno.
 */
int vuser_console_tx_drain(struct vuser_console *con, unsigned int port, int timeout_ms)
{
	struct vuser_console_port *p;
	int r;

	if (port >= con->nports)
		return -EINVAL;
	p = &con->ports[port];
	for (;;) {
		vuser_console_reap_tx(p, con->buf_size);
		if (p->tx_nfree == p->txq->num)
			return 0;
		r = vuser_queue_wait(p->txq, timeout_ms);
		if (r)
			return r;
	}
}

/**
 * vuser_console_read - take received bytes from a port
 * @con: the console
 * @port: the port
 * @buf: where to copy them
 * @cap: at most this many
 *
 * Return: bytes copied, -EAGAIN when nothing is there, -EPROTO when the
 * device claims to have written more than the buffer holds, -EIO for a
 * broken ring.
 */
int vuser_console_read(struct vuser_console *con, unsigned int port, void *buf, size_t cap)
{
	struct vuser_console_port *p;
	size_t done = 0;
	bool reposted = false;

	if (port >= con->nports)
		return -EINVAL;
	p = &con->ports[port];
	vuser_console_ctrl_poll(con);
	while (done < cap) {
		size_t n;

		if (!p->rx_cur) {
			p->rx_cur = pvring_drv_get_used(&p->rxq->ring, &p->rx_cur_len);
			if (!p->rx_cur)
				break;
			p->rx_cur_off = 0;
			if (p->rx_cur_len > con->buf_size) {
				vuser_console_post(con, p->rxq, p->rx_cur, con->buf_size);
				p->rx_cur = NULL;
				vuser_queue_kick(p->rxq);
				return vuser_dev_err(&con->dev, -EPROTO,
						     "port %u: %u bytes used of a %u-byte buffer",
						     port, p->rx_cur_len, con->buf_size);
			}
		}
		n = p->rx_cur_len - p->rx_cur_off;
		if (n > cap - done)
			n = cap - done;
		memcpy((uint8_t *)buf + done, p->rx_cur + p->rx_cur_off, n);
		done += n;
		p->rx_cur_off += (uint32_t)n;
		if (p->rx_cur_off == p->rx_cur_len) {
			vuser_console_post(con, p->rxq, p->rx_cur, con->buf_size);
			p->rx_cur = NULL;
			reposted = true;
		}
	}
	if (reposted)
		vuser_queue_kick(p->rxq);
	if (!done && pvring_drv_broken(&p->rxq->ring))
		return vuser_dev_err(&con->dev, -EIO, "port %u: back-end broke the receive queue",
				     port);
	return done ? (int)done : -EAGAIN;
}

/**
 * vuser_console_wait_rx - sleep until a port has received bytes
 * @con: the console
 * @port: the port
 * @timeout_ms: at most this long (<0: the device's timeout)
 *
 * Return: 0, -ETIMEDOUT, -ECONNRESET, -EIO.
 */
int vuser_console_wait_rx(struct vuser_console *con, unsigned int port, int timeout_ms)
{
	if (port >= con->nports)
		return -EINVAL;
	if (con->ports[port].rx_cur)
		return 0;
	return vuser_queue_wait(con->ports[port].rxq, timeout_ms);
}
