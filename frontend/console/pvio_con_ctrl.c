// SPDX-License-Identifier: GPL-2.0
/*
 * pvio_con_ctrl.c - the control queue of pvio_con.ko (MULTIPORT): its
 * buffers, sending a message, and handling the device's messages (port
 * add/remove, console port, open/close, name, window size) in process
 * context.  Locking rules: pvio_con.h.
 */
#include <linux/dma-mapping.h>
#include <linux/slab.h>

#include "pvio_con.h"

/**
 * pvcon_ctrl_setup - allocate the control buffers, post the receive ones
 * @con: the device, at probe with MULTIPORT
 *
 * Return: 0 or -errno; pvcon_buffers_free() frees what was allocated.
 */
int pvcon_ctrl_setup(struct pvcon *con)
{
	struct device *dma = pvio_dma_dev(con->pdev);

	con->ctrl_rx_mem = dma_alloc_coherent(dma, PVCON_CTRL_BUFS * PVCON_CTRL_BUF,
					      &con->ctrl_rx_dma, GFP_KERNEL);
	con->ctrl_tx_mem = dma_alloc_coherent(dma,
					      PVCON_CTRL_BUFS * sizeof(struct pvio_console_control),
					      &con->ctrl_tx_dma, GFP_KERNEL);
	if (!con->ctrl_rx_mem || !con->ctrl_tx_mem)
		return -ENOMEM;
	return pvcon_ctrl_post(con);
}

/**
 * pvcon_ctrl_post - give the control buffers to fresh control queues
 * @con: the device, its control queues empty (at probe, or on resume)
 *
 * Every transmit buffer is free, every receive buffer posted (not kicked).
 *
 * Return: 0 or -errno from the ring.
 */
int pvcon_ctrl_post(struct pvcon *con)
{
	unsigned int i, n = min_t(unsigned int, PVCON_CTRL_BUFS, con->vqs[2]->num);
	unsigned long flags;
	int err = 0;

	spin_lock_irqsave(&con->ctrl_tx_lock, flags);
	con->ctrl_tx_nfree = 0;
	for (i = 0; i < min_t(unsigned int, PVCON_CTRL_BUFS, con->vqs[3]->num); i++)
		con->ctrl_tx_free[con->ctrl_tx_nfree++] = i;
	spin_unlock_irqrestore(&con->ctrl_tx_lock, flags);
	spin_lock_irqsave(&con->ctrl_rx_lock, flags);
	for (i = 0; i < n && !err; i++) {
		struct pvring_sg sg = { con->ctrl_rx_dma + i * PVCON_CTRL_BUF, PVCON_CTRL_BUF };

		err = pvring_drv_add(&con->vqs[2]->ring, &sg, 0, 1,
				     (u8 *)con->ctrl_rx_mem + i * PVCON_CTRL_BUF);
	}
	spin_unlock_irqrestore(&con->ctrl_rx_lock, flags);
	return err;
}

/**
 * pvcon_ctrl_send - send one control message to the device
 * @con: the device
 * @id: port
 * @event: PVIO_CONSOLE_*
 * @value: its value
 *
 * Does not sleep: with every control buffer in flight it spins up to a
 * second for one to come back.  Nothing is sent without MULTIPORT.
 *
 * Return: 0, -EBUSY (no buffer came back) or -errno from the ring.
 */
int pvcon_ctrl_send(struct pvcon *con, u32 id, u16 event, u16 value)
{
	struct pvio_console_control *c;
	unsigned long flags, timeout = jiffies + HZ;
	struct pvring_sg sg;
	unsigned int slot;
	u32 len;
	int err;

	if (!con->multiport)
		return 0;
	spin_lock_irqsave(&con->ctrl_tx_lock, flags);
	if (con->frozen) {
		spin_unlock_irqrestore(&con->ctrl_tx_lock, flags);
		return -ENODEV;
	}
	for (;;) {
		while ((c = pvring_drv_get_used(&con->vqs[3]->ring, &len)))
			con->ctrl_tx_free[con->ctrl_tx_nfree++] =
				(struct pvio_console_control *)c -
				(struct pvio_console_control *)con->ctrl_tx_mem;
		if (con->ctrl_tx_nfree || pvring_drv_broken(&con->vqs[3]->ring) ||
		    time_after(jiffies, timeout))
			break;
		cpu_relax();
	}
	if (!con->ctrl_tx_nfree) {
		spin_unlock_irqrestore(&con->ctrl_tx_lock, flags);
		return -EBUSY;
	}
	slot = con->ctrl_tx_free[--con->ctrl_tx_nfree];
	c = (struct pvio_console_control *)con->ctrl_tx_mem + slot;
	c->id = cpu_to_le32(id);
	c->event = cpu_to_le16(event);
	c->value = cpu_to_le16(value);
	sg.addr = con->ctrl_tx_dma + slot * sizeof(*c);
	sg.len = sizeof(*c);
	err = pvring_drv_add(&con->vqs[3]->ring, &sg, 1, 0, c);
	if (err)
		con->ctrl_tx_nfree++;
	else
		pvio_vq_kick(con->vqs[3]);
	spin_unlock_irqrestore(&con->ctrl_tx_lock, flags);
	return err;
}

static void pvcon_ctrl_handle(struct pvcon *con, const u8 *buf, u32 len)
{
	struct pvio_console_control c;
	struct pvio_console_resize rs;
	struct pvcon_port *port;
	u16 event, value;
	u32 id;

	if (len < sizeof(c)) {
		dev_err_ratelimited(&con->pdev->dev, "control message of %u bytes\n", len);
		return;
	}
	memcpy(&c, buf, sizeof(c));
	id = le32_to_cpu(c.id);
	event = le16_to_cpu(c.event);
	value = le16_to_cpu(c.value);
	if (id >= con->nports) {
		dev_err_ratelimited(&con->pdev->dev, "control event %u for port %u of %u\n", event,
				    id, con->nports);
		if (event == PVIO_CONSOLE_DEVICE_ADD)
			pvcon_ctrl_send(con, id, PVIO_CONSOLE_PORT_READY, 0);
		return;
	}
	port = &con->ports[id];
	mutex_lock(&con->lock);
	switch (event) {
	case PVIO_CONSOLE_DEVICE_ADD:
		if (!con->removing) {
			/* Present already: the device announces its ports again after a resume. */
			bool reopen = port->present && port->guest_open;
			int err = pvcon_port_add(con, id);

			mutex_unlock(&con->lock);
			pvcon_ctrl_send(con, id, PVIO_CONSOLE_PORT_READY, !err);
			if (reopen)
				pvcon_ctrl_send(con, id, PVIO_CONSOLE_PORT_OPEN, 1);
			return;
		}
		break;
	case PVIO_CONSOLE_DEVICE_REMOVE:
		pvcon_port_remove(port);
		break;
	case PVIO_CONSOLE_CONSOLE_PORT:
		/* A console already (after a resume): only tell the device it is open. */
		if (port->present && (port->console || !pvcon_port_console_add(port))) {
			mutex_unlock(&con->lock);
			pvcon_ctrl_send(con, id, PVIO_CONSOLE_PORT_OPEN, 1);
			return;
		}
		break;
	case PVIO_CONSOLE_PORT_OPEN:
		WRITE_ONCE(port->host_open, value != 0);
		wake_up_interruptible(&port->waitq);
		break;
	case PVIO_CONSOLE_PORT_NAME:
		if (port->present && !port->name && len > sizeof(c)) {
			port->name = kstrndup(buf + sizeof(c), len - sizeof(c), GFP_KERNEL);
			if (port->dev) {
				sysfs_notify(&port->dev->kobj, NULL, "name");
				kobject_uevent(&port->dev->kobj, KOBJ_CHANGE);
			}
		}
		break;
	case PVIO_CONSOLE_RESIZE:
		/* struct pvio_console_resize is cols, then rows (Documentation/console.rst). */
		if (len >= sizeof(c) + sizeof(rs)) {
			memcpy(&rs, buf + sizeof(c), sizeof(rs));
			pvcon_hvc_resize(port, le16_to_cpu(rs.cols), le16_to_cpu(rs.rows));
		}
		break;
	default:
		dev_err_ratelimited(&con->pdev->dev, "port %u: unknown control event %u\n", id,
				    event);
	}
	mutex_unlock(&con->lock);
}

/**
 * pvcon_ctrl_work - handle the control messages the device sent
 * @work: pvcon.ctrl_work
 *
 * Process context (adding a port sleeps); each buffer is copied out and
 * posted again before its message is handled.
 */
void pvcon_ctrl_work(struct work_struct *work)
{
	struct pvcon *con = container_of(work, struct pvcon, ctrl_work);
	struct pvio_vq *vq = con->vqs[2];
	u8 msg[PVCON_CTRL_BUF];
	unsigned long flags;
	u32 len;
	u8 *buf;

	for (;;) {
		spin_lock_irqsave(&con->ctrl_rx_lock, flags);
		buf = pvring_drv_get_used(&vq->ring, &len);
		if (buf) {
			struct pvring_sg sg = { con->ctrl_rx_dma + (buf - (u8 *)con->ctrl_rx_mem),
						PVCON_CTRL_BUF };

			len = min_t(u32, len, PVCON_CTRL_BUF);
			memcpy(msg, buf, len);
			pvring_drv_add(&vq->ring, &sg, 0, 1, buf);
			pvio_vq_kick(vq);
		} else if (pvring_drv_broken(&vq->ring)) {
			spin_unlock_irqrestore(&con->ctrl_rx_lock, flags);
			pvio_device_broken(con->pdev, "control ring broken");
			return;
		} else if (!pvring_drv_enable_cb(&vq->ring)) {
			/* Used while the interrupt was re-armed: no callback for it. */
			spin_unlock_irqrestore(&con->ctrl_rx_lock, flags);
			continue;
		}
		spin_unlock_irqrestore(&con->ctrl_rx_lock, flags);
		if (!buf)
			return;
		pvcon_ctrl_handle(con, msg, len);
	}
}

/**
 * pvcon_ctrl_rx_done - the control receive queue's callback (hard irq)
 * @vq: the queue
 */
void pvcon_ctrl_rx_done(struct pvio_vq *vq)
{
	struct pvcon *con = vq->priv;

	schedule_work(&con->ctrl_work);
}
