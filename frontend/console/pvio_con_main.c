// SPDX-License-Identifier: GPL-2.0
/*
 * pvio_con_main.c - pvio_con.ko, the virtio console frontend (virtio 1.2
 * §5.3) on the pvio bus: probe and remove, the queues and the ports'
 * buffers, the module.  The ports' character devices are in
 * pvio_con_port.c, the console port in pvio_con_hvc.c, the control messages
 * in pvio_con_ctrl.c; the design and the locking rules are at the top of
 * pvio_con.h.
 */
#include <linux/dma-mapping.h>
#include <linux/idr.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "pvio_con.h"
#include "pvio_con_hvc.h"

#define PVCON_CFG(f) offsetof(struct pvio_console_config, f)

static DEFINE_IDA(pvcon_ida);

/**
 * pvcon_free - free the device's structure with its last reference
 * @kref: pvcon.kref (probe holds one, every open file one)
 */
void pvcon_free(struct kref *kref)
{
	struct pvcon *con = container_of(kref, struct pvcon, kref);

	kfree(con->ports);
	kfree(con->vqs);
	kfree(con);
}

/* ---- buffers ------------------------------------------------------------ */

static void *pvcon_rx_buf(struct pvcon_port *port, unsigned int i, dma_addr_t *dma)
{
	*dma = port->rx_dma + (dma_addr_t)i * PAGE_SIZE;
	return (u8 *)port->rx_mem + (size_t)i * PAGE_SIZE;
}

/**
 * pvcon_rx_post - post a receive buffer again
 * @port: the port, with rx_lock held
 * @buf: one of its receive buffers
 *
 * Return: 0 or -errno from pvring_drv_add().
 */
int pvcon_rx_post(struct pvcon_port *port, u8 *buf)
{
	size_t off = buf - (u8 *)port->rx_mem;
	struct pvring_sg sg = { port->rx_dma + off, PAGE_SIZE };

	return pvring_drv_add(&port->rxvq->ring, &sg, 0, 1, buf);
}

/**
 * pvcon_tx_reclaim - put the used transmit buffers back on the free stack
 * @port: the port, with tx_lock held
 *
 * Re-arms the queue's interrupt once nothing is left to reap (under
 * EVENT_IDX the used event moves up to what was reaped; without it, the
 * device interrupts for every buffer anyway), so the next used buffer wakes
 * a writer that waits for room.  Buffers used meanwhile are reaped too.
 */
void pvcon_tx_reclaim(struct pvcon_port *port)
{
	struct pvring_drv *ring = &port->txvq->ring;
	u32 len;
	u8 *buf;

	do {
		while ((buf = pvring_drv_get_used(ring, &len)))
			port->tx_free[port->tx_nfree++] = (buf - (u8 *)port->tx_mem) / PVCON_TX_BUF;
	} while (!pvring_drv_enable_cb(ring));
}

/**
 * pvcon_rx_pending_locked - is a received buffer there to read?
 * @port: the port, with rx_lock held
 *
 * A partly read buffer, or a used one.  When there is none, re-arms the
 * queue's interrupt (see pvcon_tx_reclaim()) before saying so, so whoever
 * then waits is woken by the next buffer the device uses.
 *
 * Return: true when pvring_drv_get_used() has a buffer (or @rx_cur is set);
 * false on a broken ring.
 */
bool pvcon_rx_pending_locked(struct pvcon_port *port)
{
	struct pvring_drv *ring = &port->rxvq->ring;

	return port->rx_cur || pvring_drv_more_used(ring) || !pvring_drv_enable_cb(ring);
}

/**
 * pvcon_port_buffers_setup - allocate a port's buffers, post the receive ones
 * @port: the port, at its first DEVICE_ADD (con->lock held)
 *
 * Return: 0 or -errno; nothing stays allocated on failure.
 */
int pvcon_port_buffers_setup(struct pvcon_port *port)
{
	struct device *dma = pvio_dma_dev(port->con->pdev);
	int err;

	port->rx_mem =
		dma_alloc_coherent(dma, PVCON_RX_BUFS * PAGE_SIZE, &port->rx_dma, GFP_KERNEL);
	if (!port->rx_mem)
		return -ENOMEM;
	port->tx_mem =
		dma_alloc_coherent(dma, PVCON_TX_BUFS * PVCON_TX_BUF, &port->tx_dma, GFP_KERNEL);
	if (!port->tx_mem) {
		err = -ENOMEM;
		goto err_free_rx;
	}
	err = pvcon_port_buffers_post(port);
	if (err)
		goto err_free_tx;
	port->setup = true;
	return 0;

err_free_tx:
	/* Nothing was made available to a device that could use it: the ring broke. */
	dma_free_coherent(dma, PVCON_TX_BUFS * PVCON_TX_BUF, port->tx_mem, port->tx_dma);
err_free_rx:
	dma_free_coherent(dma, PVCON_RX_BUFS * PAGE_SIZE, port->rx_mem, port->rx_dma);
	port->rx_mem = NULL;
	port->tx_mem = NULL;
	return err;
}

/**
 * pvcon_port_buffers_post - give a port's buffers to fresh queues
 * @port: the port, its buffers allocated, its queues empty (at the first
 *	DEVICE_ADD, or on resume)
 *
 * Every transmit buffer is free, every receive buffer posted.
 *
 * Return: 0 or -errno from the ring (it is broken then).
 */
int pvcon_port_buffers_post(struct pvcon_port *port)
{
	unsigned int i, n = min_t(unsigned int, PVCON_RX_BUFS, port->rxvq->num);
	unsigned long flags;
	dma_addr_t d;
	int err = 0;

	spin_lock_irqsave(&port->tx_lock, flags);
	port->tx_nfree = 0;
	for (i = 0; i < min_t(unsigned int, PVCON_TX_BUFS, port->txvq->num); i++)
		port->tx_free[port->tx_nfree++] = i;
	spin_unlock_irqrestore(&port->tx_lock, flags);
	spin_lock_irqsave(&port->rx_lock, flags);
	port->rx_cur = NULL;
	for (i = 0; i < n && !err; i++)
		err = pvcon_rx_post(port, pvcon_rx_buf(port, i, &d));
	spin_unlock_irqrestore(&port->rx_lock, flags);
	if (!err)
		pvio_vq_kick(port->rxvq);
	return err;
}

/* ---- queue callbacks (hard irq) ----------------------------------------- */

static void pvcon_rx_done(struct pvio_vq *vq)
{
	struct pvcon_port *port = vq->priv;

	if (pvring_drv_broken(&vq->ring))
		pvio_device_broken(port->con->pdev, "receive ring broken");
	wake_up_interruptible(&port->waitq);
	/*
	 * Not port->console: that is set before hvc_alloc(), and the first
	 * hvc_alloc() creates the khvcd thread hvc_kick() wakes; a kick before
	 * then is wake_up_process(NULL).  port->hvc is published after it.
	 */
	if (READ_ONCE(port->hvc))
		hvc_kick();
}

static void pvcon_tx_done(struct pvio_vq *vq)
{
	struct pvcon_port *port = vq->priv;

	wake_up_interruptible(&port->waitq);
}

/* ---- probe / remove ----------------------------------------------------- */

static int pvcon_find_vqs(struct pvcon *con)
{
	struct pvio_vq_info *info;
	unsigned int i;
	int err;

	con->nvqs = con->multiport ? 2 * con->nports + 2 : 2;
	con->vqs = kcalloc(con->nvqs, sizeof(*con->vqs), GFP_KERNEL);
	info = kcalloc(con->nvqs, sizeof(*info), GFP_KERNEL);
	if (!con->vqs || !info) {
		kfree(info);
		return -ENOMEM;
	}
	for (i = 0; i < con->nvqs; i++) {
		unsigned int port = i < 2 ? 0 : (i - 2) / 2;

		if (i == 2 || i == 3) {
			info[i].callback = i == 2 ? pvcon_ctrl_rx_done : NULL;
			info[i].name = i == 2 ? "control-rx" : "control-tx";
			info[i].priv = con;
		} else {
			info[i].callback = (i & 1) ? pvcon_tx_done : pvcon_rx_done;
			info[i].name = (i & 1) ? "tx" : "rx";
			info[i].priv = &con->ports[port];
		}
	}
	err = pvio_find_vqs(con->pdev, con->nvqs, con->vqs, info, 0, NULL);
	kfree(info);
	if (err)
		return err;
	for (i = 0; i < con->nports; i++) {
		con->ports[i].rxvq = con->vqs[i ? 2 * i + 2 : 0];
		con->ports[i].txvq = con->vqs[i ? 2 * i + 3 : 1];
	}
	return 0;
}

static void pvcon_buffers_free(struct pvcon *con)
{
	struct device *dma = pvio_dma_dev(con->pdev);
	unsigned int i;

	for (i = 0; i < con->nports; i++) {
		struct pvcon_port *port = &con->ports[i];

		if (port->rx_mem)
			dma_free_coherent(dma, PVCON_RX_BUFS * PAGE_SIZE, port->rx_mem,
					  port->rx_dma);
		if (port->tx_mem)
			dma_free_coherent(dma, PVCON_TX_BUFS * PVCON_TX_BUF, port->tx_mem,
					  port->tx_dma);
		port->rx_mem = NULL;
		port->tx_mem = NULL;
		port->setup = false;
	}
	if (con->ctrl_rx_mem)
		dma_free_coherent(dma, PVCON_CTRL_BUFS * PVCON_CTRL_BUF, con->ctrl_rx_mem,
				  con->ctrl_rx_dma);
	if (con->ctrl_tx_mem)
		dma_free_coherent(dma, PVCON_CTRL_BUFS * sizeof(struct pvio_console_control),
				  con->ctrl_tx_mem, con->ctrl_tx_dma);
	con->ctrl_rx_mem = NULL;
	con->ctrl_tx_mem = NULL;
}

static int pvcon_probe(struct pvio_device *pdev)
{
	struct pvcon *con;
	unsigned int i;
	int err;

	con = kzalloc(sizeof(*con), GFP_KERNEL);
	if (!con)
		return -ENOMEM;
	kref_init(&con->kref);
	con->pdev = pdev;
	mutex_init(&con->lock);
	spin_lock_init(&con->ctrl_rx_lock);
	spin_lock_init(&con->ctrl_tx_lock);
	INIT_WORK(&con->ctrl_work, pvcon_ctrl_work);
	con->multiport = pvio_has_feature(pdev, PVIO_CONSOLE_F_MULTIPORT);
	con->emerg_write = pvio_has_feature(pdev, PVIO_CONSOLE_F_EMERG_WRITE);
	con->nports = 1;
	if (con->multiport)
		con->nports = clamp_t(u32, pvio_cread32(pdev, PVCON_CFG(max_nr_ports)), 1,
				      PVCON_PORTS_MAX);
	con->index = ida_alloc(&pvcon_ida, GFP_KERNEL);
	if (con->index < 0) {
		err = con->index;
		goto err_put_con;
	}
	con->devt = pvcon_chrdev_devt(con->index);
	con->ports = kcalloc(con->nports, sizeof(*con->ports), GFP_KERNEL);
	if (!con->ports) {
		err = -ENOMEM;
		goto err_free_index;
	}
	for (i = 0; i < con->nports; i++) {
		struct pvcon_port *port = &con->ports[i];

		port->con = con;
		port->id = i;
		spin_lock_init(&port->rx_lock);
		spin_lock_init(&port->tx_lock);
		mutex_init(&port->read_mutex);
		mutex_init(&port->write_mutex);
		init_waitqueue_head(&port->waitq);
		INIT_LIST_HEAD(&port->list);
		port->hvc_line = -1;
	}
	/* Port 0's window size: its tty gets it when it is opened. */
	if (pvio_has_feature(pdev, PVIO_CONSOLE_F_SIZE)) {
		con->ports[0].cols = pvio_cread16(pdev, PVCON_CFG(cols));
		con->ports[0].rows = pvio_cread16(pdev, PVCON_CFG(rows));
	}
	err = pvcon_find_vqs(con);
	if (err)
		goto err_free_index;
	if (con->multiport) {
		err = pvcon_ctrl_setup(con);
		if (err)
			goto err_free_buffers;
	}
	dev_set_drvdata(&pdev->dev, con);
	pvio_device_ready(pdev);
	if (con->multiport) {
		pvio_vq_kick(con->vqs[2]);
		err = pvcon_ctrl_send(con, 0, PVIO_CONSOLE_DEVICE_READY, 1);
		if (err)
			goto err_reset;
	} else {
		/* Without MULTIPORT port 0 exists and is the console. */
		mutex_lock(&con->lock);
		err = pvcon_port_add(con, 0);
		if (!err)
			err = pvcon_port_console_add(&con->ports[0]);
		mutex_unlock(&con->lock);
		if (err)
			goto err_reset;
	}
	dev_info(&pdev->dev, "console: %u port(s)%s, features %#llx\n", con->nports,
		 con->multiport ? ", multiport" : "", pdev->features);
	return 0;

err_reset:
	pvio_device_reset(pdev);
	cancel_work_sync(&con->ctrl_work);
	mutex_lock(&con->lock);
	for (i = 0; i < con->nports; i++)
		pvcon_port_remove(&con->ports[i]);
	mutex_unlock(&con->lock);
	dev_set_drvdata(&pdev->dev, NULL);
err_free_buffers:
	pvio_del_vqs(pdev);
	pvcon_buffers_free(con);
err_free_index:
	ida_free(&pvcon_ida, con->index);
err_put_con:
	kref_put(&con->kref, pvcon_free);
	return err;
}

static void pvcon_remove(struct pvio_device *pdev)
{
	struct pvcon *con = dev_get_drvdata(&pdev->dev);
	unsigned int i;

	mutex_lock(&con->lock);
	con->removing = true;
	mutex_unlock(&con->lock);
	pvio_device_reset(pdev);
	cancel_work_sync(&con->ctrl_work);
	mutex_lock(&con->lock);
	for (i = 0; i < con->nports; i++)
		pvcon_port_remove(&con->ports[i]);
	mutex_unlock(&con->lock);
	/*
	 * After the reset the device holds no buffer.  Open files keep con
	 * (not the queues): every file operation checks ->present first, under
	 * the port's own mutexes, so they fail with -ENODEV from here on.
	 */
	for (i = 0; i < con->nports; i++) {
		mutex_lock(&con->ports[i].read_mutex);
		mutex_lock(&con->ports[i].write_mutex);
	}
	pvio_del_vqs(pdev);
	pvcon_buffers_free(con);
	for (i = 0; i < con->nports; i++) {
		mutex_unlock(&con->ports[i].write_mutex);
		mutex_unlock(&con->ports[i].read_mutex);
	}
	ida_free(&pvcon_ida, con->index);
	dev_set_drvdata(&pdev->dev, NULL);
	kref_put(&con->kref, pvcon_free);
}

/* F_SIZE: port 0's window size changed (virtio 1.2 §5.3.6.1.1). */
static void pvcon_config_changed(struct pvio_device *pdev)
{
	struct pvcon *con = dev_get_drvdata(&pdev->dev);
	u16 cols, rows;

	if (!con || !pvio_has_feature(pdev, PVIO_CONSOLE_F_SIZE))
		return;
	cols = pvio_cread16(pdev, PVCON_CFG(cols));
	rows = pvio_cread16(pdev, PVCON_CFG(rows));
	mutex_lock(&con->lock);
	pvcon_hvc_resize(&con->ports[0], cols, rows);
	mutex_unlock(&con->lock);
}

static void pvcon_broken(struct pvio_device *pdev)
{
	struct pvcon *con = dev_get_drvdata(&pdev->dev);
	unsigned int i;

	if (!con)
		return;
	for (i = 0; i < con->nports; i++)
		wake_up_interruptible(&con->ports[i].waitq);
}

/* ---- system sleep (see the top of pvio_con.h) --------------------------- */

/* Sets con->frozen under every lock a ring user holds while it checks it. */
static void pvcon_set_frozen(struct pvcon *con, bool frozen)
{
	unsigned long flags;
	unsigned int i;

	for (i = 0; i < con->nports; i++) {
		struct pvcon_port *port = &con->ports[i];

		spin_lock_irqsave(&port->rx_lock, flags);
		spin_lock(&port->tx_lock);
		WRITE_ONCE(con->frozen, frozen);
		spin_unlock(&port->tx_lock);
		spin_unlock_irqrestore(&port->rx_lock, flags);
	}
	spin_lock_irqsave(&con->ctrl_tx_lock, flags);
	WRITE_ONCE(con->frozen, frozen);
	spin_unlock_irqrestore(&con->ctrl_tx_lock, flags);
}

static int pvcon_freeze(struct pvio_device *pdev)
{
	struct pvcon *con = dev_get_drvdata(&pdev->dev);
	unsigned int i;

	/* Readers and writers are frozen; the mutexes make sure none is inside. */
	for (i = 0; i < con->nports; i++) {
		mutex_lock(&con->ports[i].read_mutex);
		mutex_lock(&con->ports[i].write_mutex);
	}
	pvcon_set_frozen(con, true);
	pvio_device_reset(pdev);
	cancel_work_sync(&con->ctrl_work);
	pvio_del_vqs(pdev);
	for (i = 0; i < con->nports; i++) {
		mutex_unlock(&con->ports[i].write_mutex);
		mutex_unlock(&con->ports[i].read_mutex);
	}
	return 0;
}

static int pvcon_restore(struct pvio_device *pdev)
{
	struct pvcon *con = dev_get_drvdata(&pdev->dev);
	unsigned int i;
	int err;

	kfree(con->vqs);
	con->vqs = NULL;
	err = pvcon_find_vqs(con);
	if (err)
		return err;
	for (i = 0; i < con->nports && !err; i++)
		if (con->ports[i].setup)
			err = pvcon_port_buffers_post(&con->ports[i]);
	if (!err && con->multiport)
		err = pvcon_ctrl_post(con);
	if (err) {
		pvio_device_reset(pdev);
		pvio_del_vqs(pdev);
		return err;
	}
	pvcon_set_frozen(con, false);
	pvio_device_ready(pdev);
	if (con->multiport) {
		pvio_vq_kick(con->vqs[2]);
		err = pvcon_ctrl_send(con, 0, PVIO_CONSOLE_DEVICE_READY, 1);
	}
	/* Readers and writers waiting for room or data look again. */
	for (i = 0; i < con->nports; i++)
		wake_up_interruptible(&con->ports[i].waitq);
	if (con->ports[0].hvc)
		hvc_kick();
	return err;
}

static struct pvio_driver pvcon_driver = {
	.driver.name = "pvio_con",
	.type = PVIO_ID_CONSOLE,
	.features = PVIO_BIT(PVIO_CONSOLE_F_SIZE) | PVIO_BIT(PVIO_CONSOLE_F_MULTIPORT) |
		    PVIO_BIT(PVIO_CONSOLE_F_EMERG_WRITE) | PVIO_BIT(PVIO_F_EVENT_IDX),
	.probe = pvcon_probe,
	.remove = pvcon_remove,
	.config_changed = pvcon_config_changed,
	.broken = pvcon_broken,
	.freeze = pvcon_freeze,
	.restore = pvcon_restore,
};

static int __init pvcon_init(void)
{
	int err;

	err = pvcon_chrdev_init();
	if (err)
		return err;
	err = pvio_register_driver(&pvcon_driver);
	if (err)
		goto err_chrdev_exit;
	return 0;

err_chrdev_exit:
	pvcon_chrdev_exit();
	return err;
}

static void __exit pvcon_exit(void)
{
	pvio_unregister_driver(&pvcon_driver);
	pvcon_chrdev_exit();
}

module_init(pvcon_init);
module_exit(pvcon_exit);
MODULE_ALIAS("pvio:d00000003");
MODULE_DESCRIPTION("pvio virtio console: hvc console and /dev/vportNpM ports");
MODULE_LICENSE("GPL");
