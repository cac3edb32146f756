// SPDX-License-Identifier: GPL-2.0
/*
 * net.c - virtio-net over the vhost-user front-end (virtio 1.2 §5.1), one
 * queue pair: vring 0 receives, vring 1 transmits.
 *
 * Every frame travels behind the 12-byte struct pvio_net_hdr (VERSION_1).
 * Transmit: header and frame are copied into one device-readable buffer
 * from a pool of txq->num buffers (ANY_LAYOUT is implied by VERSION_1).
 * Receive: rxq->num device-writable buffers stay posted; with MRG_RXBUF a
 * frame may span several of them, the first header's num_buffers says how
 * many, and each is reposted as soon as it is copied out.
 *
 * One thread at a time per device (the two queues share the caller).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vuser.h"

#define VUSER_NET_HDR sizeof(struct pvio_net_hdr)
#define VUSER_NET_CTRL_FEATURES                                                    \
	(PVIO_BIT(PVIO_NET_F_CTRL_VQ) | PVIO_BIT(PVIO_NET_F_CTRL_RX) |             \
	 PVIO_BIT(PVIO_NET_F_CTRL_RX_EXTRA) | PVIO_BIT(PVIO_NET_F_CTRL_MAC_ADDR) | \
	 PVIO_BIT(PVIO_NET_F_CTRL_VLAN))
#define VUSER_NET_CTRL_BUF (2 + VUSER_NET_CTRL_DATA_MAX + 1)

static int vuser_net_post_rx(struct vuser_net *net, uint8_t *buf)
{
	struct pvring_sg sg = { vuser_mem_gpa(&net->dev.mem, buf), net->rx_buf_size };

	return pvring_drv_add(&net->rxq->ring, &sg, 0, 1, buf);
}

/**
 * vuser_net_open - connect to a vhost-user net back-end and post receive buffers
 * @net: filled in
 * @opts: socket, ring size, largest frame, whether to offer MRG_RXBUF
 *
 * Return: 0 or -errno; vuser_dev_errmsg(&net->dev) says why.
 */
int vuser_net_open(struct vuser_net *net, const struct vuser_net_opts *opts)
{
	unsigned int qsize = opts->queue_size ? opts->queue_size : 256;
	unsigned int max_frame = opts->max_frame ? opts->max_frame : 1514;
	struct vuser_dev_opts dopts = {
		.socket_path = opts->socket_path,
		.device_id = PVIO_ID_NET,
		.timeout_ms = opts->timeout_ms,
		.hugetlb = opts->hugetlb,
		.features = PVIO_BIT(PVIO_F_EVENT_IDX) |
			    (opts->no_mrg_rxbuf ? 0 : PVIO_BIT(PVIO_NET_F_MRG_RXBUF)) |
			    (opts->ctrl_vq ? VUSER_NET_CTRL_FEATURES : 0) |
			    (opts->packed ? PVIO_BIT(PVIO_F_RING_PACKED) : 0) |
			    (opts->in_order ? PVIO_BIT(PVIO_F_IN_ORDER) : 0),
		.required = (opts->ctrl_vq ? PVIO_BIT(PVIO_NET_F_CTRL_VQ) : 0) |
			    (opts->packed ? PVIO_BIT(PVIO_F_RING_PACKED) : 0),
		.num_queues = opts->ctrl_vq ? 3 : 2,
		.queue_pairs = true,
		.queue_size = qsize,
	};
	unsigned int i;
	int r;

	memset(net, 0, sizeof(*net));
	if (max_frame < 60 || max_frame > 65535)
		return -EINVAL;
	net->tx_buf_size = (unsigned int)(VUSER_NET_HDR + max_frame + 63) & ~63u;
	/* Without MRG_RXBUF a buffer must hold the largest frame whole. */
	net->rx_buf_size = opts->rx_buf_size ? opts->rx_buf_size : 2048;
	dopts.mem_size =
		(size_t)qsize * (net->tx_buf_size + net->rx_buf_size + VUSER_NET_HDR + max_frame) +
		(1u << 20) + (opts->ctrl_vq ? VUSER_NET_CTRL_BUF + 64 : 0);
	r = vuser_dev_open(&net->dev, &dopts);
	if (r)
		return r;
	net->mrg_rxbuf = vuser_dev_has(&net->dev, PVIO_NET_F_MRG_RXBUF);
	if (!net->mrg_rxbuf && net->rx_buf_size < VUSER_NET_HDR + max_frame)
		net->rx_buf_size = (unsigned int)(VUSER_NET_HDR + max_frame);
	net->rxq = &net->dev.queues[0];
	net->txq = &net->dev.queues[1];
	net->rxbufs = vuser_mem_alloc(&net->dev.mem, (size_t)net->rxq->num * net->rx_buf_size, 64);
	net->txbufs = vuser_mem_alloc(&net->dev.mem, (size_t)net->txq->num * net->tx_buf_size, 64);
	net->tx_free = calloc(net->txq->num, sizeof(*net->tx_free));
	if (opts->ctrl_vq) {
		net->ctrlq = &net->dev.queues[2];
		net->ctrlbuf = vuser_mem_alloc(&net->dev.mem, VUSER_NET_CTRL_BUF, 64);
		if (!net->ctrlbuf) {
			r = vuser_dev_err(&net->dev, -ENOMEM,
					  "out of memory for the control buffer");
			goto err_close_dev;
		}
	}
	if (!net->rxbufs || !net->txbufs || !net->tx_free) {
		r = vuser_dev_err(&net->dev, -ENOMEM, "out of memory for net buffers");
		goto err_close_dev;
	}
	for (i = 0; i < net->txq->num; i++)
		net->tx_free[net->tx_nfree++] = (uint16_t)i;
	for (i = 0; i < net->rxq->num; i++) {
		r = vuser_net_post_rx(net, net->rxbufs + (size_t)i * net->rx_buf_size);
		if (r) {
			vuser_dev_err(&net->dev, r, "posting receive buffer %u", i);
			goto err_close_dev;
		}
	}
	vuser_queue_kick(net->rxq);
	return 0;

err_close_dev:
	free(net->tx_free);
	net->tx_free = NULL;
	vuser_dev_close(&net->dev);
	return r;
}

/**
 * vuser_net_close - disconnect and free
 * @net: an open net device
 */
void vuser_net_close(struct vuser_net *net)
{
	vuser_dev_close(&net->dev);
	free(net->tx_free);
	net->tx_free = NULL;
}

/**
 * vuser_net_reap_tx - take back transmit buffers the back-end has sent
 * @net: the device
 *
 * Return: buffers reclaimed, or -EIO when the back-end broke the ring.
 */
int vuser_net_reap_tx(struct vuser_net *net)
{
	uint8_t *buf;
	uint32_t len;
	int n = 0;

	while ((buf = pvring_drv_get_used(&net->txq->ring, &len))) {
		net->tx_free[net->tx_nfree++] = (uint16_t)((buf - net->txbufs) / net->tx_buf_size);
		n++;
	}
	if (pvring_drv_broken(&net->txq->ring))
		return vuser_dev_err(&net->dev, -EIO, "back-end broke the transmit queue");
	return n;
}

/**
 * vuser_net_send - queue one frame for transmission (no notification yet)
 * @net: the device
 * @frame: Ethernet frame without FCS
 * @len: bytes, 14 up to the max_frame given at open
 *
 * Call vuser_net_flush() after a batch to notify the back-end.
 *
 * Return: 0, -EAGAIN when every transmit buffer is in flight, -EMSGSIZE,
 * -EIO when the ring is broken.
 */
int vuser_net_send(struct vuser_net *net, const void *frame, size_t len)
{
	struct pvring_sg sg;
	uint8_t *buf;
	int r;

	if (len < 14 || VUSER_NET_HDR + len > net->tx_buf_size)
		return -EMSGSIZE;
	if (!net->tx_nfree) {
		r = vuser_net_reap_tx(net);
		if (r < 0)
			return r;
		if (!net->tx_nfree)
			return -EAGAIN;
	}
	buf = net->txbufs + (size_t)net->tx_free[--net->tx_nfree] * net->tx_buf_size;
	/* No offloads negotiated: an all-zero header (num_buffers is rx-only). */
	memset(buf, 0, VUSER_NET_HDR);
	memcpy(buf + VUSER_NET_HDR, frame, len);
	sg.addr = vuser_mem_gpa(&net->dev.mem, buf);
	sg.len = (uint32_t)(VUSER_NET_HDR + len);
	r = pvring_drv_add(&net->txq->ring, &sg, 1, 0, buf);
	if (r) {
		net->tx_nfree++;
		return r == -EIO ? vuser_dev_err(&net->dev, r, "transmit queue is broken") : r;
	}
	return 0;
}

/**
 * vuser_net_flush - notify the back-end of queued frames, if it wants that
 * @net: the device
 *
 * Return: 0.
 */
int vuser_net_flush(struct vuser_net *net)
{
	vuser_queue_kick(net->txq);
	return 0;
}

/**
 * vuser_net_recv - take one received frame
 * @net: the device
 * @frame: where to copy it
 * @cap: bytes available at @frame
 *
 * Return: the frame's length, -EAGAIN when nothing is there, -EMSGSIZE when
 * it did not fit (dropped, counted in rx_dropped), -EPROTO for a frame the
 * back-end described impossibly, -EIO for a broken ring.
 */
int vuser_net_recv(struct vuser_net *net, void *frame, size_t cap)
{
	struct pvring_drv *ring = &net->rxq->ring;
	const struct pvio_net_hdr *hdr;
	unsigned int nbufs, i;
	size_t total = 0, take;
	uint8_t *buf;
	uint32_t len;
	int err = 0;

	buf = pvring_drv_get_used(ring, &len);
	if (!buf) {
		if (pvring_drv_broken(ring))
			return vuser_dev_err(&net->dev, -EIO, "back-end broke the receive queue");
		return -EAGAIN;
	}
	hdr = (const struct pvio_net_hdr *)buf;
	/* Read the device's header once; bound what it claims by what exists. */
	nbufs = net->mrg_rxbuf ? le16_to_cpu(READ_ONCE(hdr->num_buffers)) : 1;
	if (len < VUSER_NET_HDR || nbufs == 0 || nbufs > net->rxq->num) {
		vuser_net_post_rx(net, buf);
		vuser_queue_kick(net->rxq);
		return vuser_dev_err(&net->dev, -EPROTO,
				     "received buffer of %u bytes claiming %u buffers", len, nbufs);
	}
	for (i = 0;; i++) {
		size_t off = i ? 0 : VUSER_NET_HDR;
		size_t n = len - off;

		take = total < cap ? (cap - total < n ? cap - total : n) : 0;
		memcpy((uint8_t *)frame + total, buf + off, take);
		if (take < n)
			err = -EMSGSIZE;
		total += n;
		vuser_net_post_rx(net, buf);
		if (i + 1 == nbufs)
			break;
		/* The device publishes all of a frame's buffers with one index update. */
		buf = pvring_drv_get_used(ring, &len);
		if (!buf) {
			err = vuser_dev_err(&net->dev, -EPROTO,
					    "frame announced %u buffers, only %u used", nbufs,
					    i + 1);
			break;
		}
	}
	vuser_queue_kick(net->rxq);
	if (err == -EMSGSIZE)
		net->rx_dropped++;
	return err ? err : (int)total;
}

/**
 * vuser_net_wait_rx - sleep until a frame arrives
 * @net: the device
 * @timeout_ms: at most this long (<0: the device's timeout)
 *
 * Return: 0 when something can be received, -ETIMEDOUT, -ECONNRESET, -EIO.
 */
int vuser_net_wait_rx(struct vuser_net *net, int timeout_ms)
{
	return vuser_queue_wait(net->rxq, timeout_ms);
}

/**
 * vuser_net_ctrl - send one control-queue command and wait for its ack
 * @net: a device opened with opts->ctrl_vq
 * @cls: PVIO_NET_CTRL_* class
 * @cmd: the command in that class
 * @data: its data (sent as given: the caller may send a malformed command)
 * @len: bytes at @data, up to VUSER_NET_CTRL_DATA_MAX
 *
 * Return: 0 when the device acked PVIO_NET_OK; -EPROTO for PVIO_NET_ERR;
 * -EOPNOTSUPP without a control queue; -EMSGSIZE; -ETIMEDOUT, -ECONNRESET
 * or -EIO from waiting.
 */
int vuser_net_ctrl(struct vuser_net *net, uint8_t cls, uint8_t cmd, const void *data, size_t len)
{
	struct pvring_sg sg[2];
	uint8_t *buf = net->ctrlbuf, *ack;
	uint32_t used_len;
	int r;

	if (!net->ctrlq)
		return -EOPNOTSUPP;
	if (len > VUSER_NET_CTRL_DATA_MAX)
		return -EMSGSIZE;
	buf[0] = cls;
	buf[1] = cmd;
	if (len)
		memcpy(buf + 2, data, len);
	ack = buf + 2 + len;
	*ack = 0xff; /* neither OK nor ERR until the device writes it */
	sg[0] = (struct pvring_sg){ vuser_mem_gpa(&net->dev.mem, buf), (uint32_t)(2 + len) };
	sg[1] = (struct pvring_sg){ vuser_mem_gpa(&net->dev.mem, ack), 1 };
	r = pvring_drv_add(&net->ctrlq->ring, sg, 1, 1, buf);
	if (r)
		return vuser_dev_err(&net->dev, r, "control queue: cannot add the command");
	vuser_queue_kick(net->ctrlq);
	while (!pvring_drv_get_used(&net->ctrlq->ring, &used_len)) {
		r = vuser_queue_wait(net->ctrlq, -1);
		if (r)
			return vuser_dev_err(&net->dev, r, "control class %u cmd %u: no answer",
					     cls, cmd);
	}
	return READ_ONCE(*ack) == PVIO_NET_OK ? 0 : -EPROTO;
}
