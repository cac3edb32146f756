// SPDX-License-Identifier: GPL-2.0
/*
 * pvio_con_port.c - the ports of pvio_con.ko: /dev/vportNpM character
 * devices (class "pvio-ports", a sysfs "name" attribute), their file
 * operations, and port add and remove.  Locking rules: pvio_con.h.
 */
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "pvio_compat.h"
#include "pvio_con.h"

static dev_t pvcon_devt_base;
static struct class *pvcon_class;

/**
 * pvcon_chrdev_init - the ports' char device region and class "pvio-ports"
 *
 * Return: 0 or -errno.
 */
int __init pvcon_chrdev_init(void)
{
	int err;

	err = alloc_chrdev_region(&pvcon_devt_base, 0, MINORMASK, "pvio-ports");
	if (err)
		return err;
	pvcon_class = pvio_compat_class_create("pvio-ports");
	if (IS_ERR(pvcon_class)) {
		err = PTR_ERR(pvcon_class);
		goto err_unregister_region;
	}
	return 0;

err_unregister_region:
	unregister_chrdev_region(pvcon_devt_base, MINORMASK);
	return err;
}

/**
 * pvcon_chrdev_exit - undo pvcon_chrdev_init()
 */
void pvcon_chrdev_exit(void)
{
	class_destroy(pvcon_class);
	unregister_chrdev_region(pvcon_devt_base, MINORMASK);
}

/**
 * pvcon_chrdev_devt - the first device number of a device's ports
 * @index: the device's number, N in /dev/vportNpM
 *
 * Return: the dev_t of port 0; port M is that + M (PVCON_PORTS_MAX each).
 */
dev_t pvcon_chrdev_devt(int index)
{
	return MKDEV(MAJOR(pvcon_devt_base), index * PVCON_PORTS_MAX);
}

static ssize_t name_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct pvcon_port *port = dev_get_drvdata(dev);
	ssize_t n;

	mutex_lock(&port->con->lock);
	n = sysfs_emit(buf, "%s\n", port->name ? port->name : "");
	mutex_unlock(&port->con->lock);
	return n;
}
static DEVICE_ATTR_RO(name);

static struct attribute *pvcon_port_attrs[] = {
	&dev_attr_name.attr,
	NULL,
};
ATTRIBUTE_GROUPS(pvcon_port);

static int pvcon_fop_open(struct inode *inode, struct file *filp)
{
	struct pvcon_port *port = container_of(inode->i_cdev, struct pvcon_port, cdev);
	struct pvcon *con = port->con;
	int err = 0;

	mutex_lock(&con->lock);
	if (!port->present || con->removing)
		err = -ENXIO;
	else if (port->guest_open)
		err = -EBUSY; /* one opener, as the host sees one connection */
	if (!err) {
		port->guest_open = true;
		kref_get(&con->kref);
		filp->private_data = port;
	}
	mutex_unlock(&con->lock);
	if (err)
		return err;
	pvcon_ctrl_send(con, port->id, PVIO_CONSOLE_PORT_OPEN, 1);
	return stream_open(inode, filp);
}

static int pvcon_fop_release(struct inode *inode, struct file *filp)
{
	struct pvcon_port *port = filp->private_data;
	struct pvcon *con = port->con;
	bool tell;

	mutex_lock(&con->lock);
	port->guest_open = false;
	tell = port->present && !con->removing;
	mutex_unlock(&con->lock);
	if (tell)
		pvcon_ctrl_send(con, port->id, PVIO_CONSOLE_PORT_OPEN, 0);
	kref_put(&con->kref, pvcon_free);
	return 0;
}

/* Suspended, a resume failed, or broken: the port's queues are not to be used. */
static bool pvcon_gone(struct pvcon_port *port)
{
	return !READ_ONCE(port->present) || READ_ONCE(port->con->frozen) ||
	       pvio_device_is_broken(port->con->pdev);
}

static bool pvcon_rx_ready(struct pvcon_port *port)
{
	unsigned long flags;
	bool ready;

	spin_lock_irqsave(&port->rx_lock, flags);
	ready = !port->con->frozen && pvcon_rx_pending_locked(port);
	spin_unlock_irqrestore(&port->rx_lock, flags);
	return ready;
}

/* What ends a blocking read's wait: data, the port gone, or the host closed. */
static bool pvcon_read_wakes(struct pvcon_port *port)
{
	return pvcon_rx_ready(port) || pvcon_gone(port) || !READ_ONCE(port->host_open);
}

static ssize_t pvcon_fop_read(struct file *filp, char __user *ubuf, size_t count, loff_t *ppos)
{
	struct pvcon_port *port = filp->private_data;
	size_t done = 0;
	int err;

	if (!count)
		return 0;
	if (mutex_lock_interruptible(&port->read_mutex))
		return -ERESTARTSYS;
	while (!pvcon_rx_ready(port)) {
		if (pvcon_gone(port)) {
			err = -ENODEV;
			goto out_unlock;
		}
		/* EOF while the host side is closed, as virtio_console does. */
		if (!READ_ONCE(port->host_open)) {
			err = 0;
			goto out_unlock;
		}
		if (filp->f_flags & O_NONBLOCK) {
			err = -EAGAIN;
			goto out_unlock;
		}
		err = wait_event_interruptible(port->waitq, pvcon_read_wakes(port));
		if (err)
			goto out_unlock;
	}
	while (done < count) {
		unsigned long flags;
		u8 *buf;
		u32 n;

		/* Take the buffer out under the lock, copy to user space without it. */
		spin_lock_irqsave(&port->rx_lock, flags);
		if (!port->rx_cur) {
			port->rx_cur = pvring_drv_get_used(&port->rxvq->ring, &port->rx_len);
			port->rx_off = 0;
			if (port->rx_cur && port->rx_len > PAGE_SIZE)
				port->rx_len = 0;
		}
		buf = port->rx_cur;
		n = buf ? min_t(u32, port->rx_len - port->rx_off, count - done) : 0;
		spin_unlock_irqrestore(&port->rx_lock, flags);
		if (!buf)
			break;
		if (copy_to_user(ubuf + done, buf + port->rx_off, n)) {
			err = done ? 0 : -EFAULT;
			goto out_unlock;
		}
		done += n;
		spin_lock_irqsave(&port->rx_lock, flags);
		port->rx_off += n;
		if (port->rx_off == port->rx_len) {
			pvcon_rx_post(port, port->rx_cur);
			port->rx_cur = NULL;
			pvio_vq_kick(port->rxvq);
		}
		spin_unlock_irqrestore(&port->rx_lock, flags);
	}
	port->rx_bytes += done;
	err = 0;
out_unlock:
	mutex_unlock(&port->read_mutex);
	return done ? (ssize_t)done : err;
}

static bool pvcon_tx_room(struct pvcon_port *port)
{
	unsigned long flags;
	bool room;

	spin_lock_irqsave(&port->tx_lock, flags);
	room = !port->con->frozen;
	if (room) {
		pvcon_tx_reclaim(port);
		room = port->tx_nfree > 0;
	}
	spin_unlock_irqrestore(&port->tx_lock, flags);
	return room;
}

static ssize_t pvcon_fop_write(struct file *filp, const char __user *ubuf, size_t count,
			       loff_t *ppos)
{
	struct pvcon_port *port = filp->private_data;
	size_t done = 0;
	int err = 0;

	if (mutex_lock_interruptible(&port->write_mutex))
		return -ERESTARTSYS;
	while (done < count) {
		struct pvring_sg sg;
		unsigned long flags;
		unsigned int slot;
		u8 *b;
		u32 n;

		if (pvcon_gone(port)) {
			err = -ENODEV;
			break;
		}
		spin_lock_irqsave(&port->tx_lock, flags);
		pvcon_tx_reclaim(port);
		slot = port->tx_nfree ? port->tx_free[--port->tx_nfree] : UINT_MAX;
		spin_unlock_irqrestore(&port->tx_lock, flags);
		if (slot == UINT_MAX) {
			if (done || (filp->f_flags & O_NONBLOCK)) {
				err = -EAGAIN;
				break;
			}
			err = wait_event_interruptible(port->waitq,
						       pvcon_tx_room(port) || pvcon_gone(port));
			if (err)
				break;
			continue;
		}
		b = (u8 *)port->tx_mem + (size_t)slot * PVCON_TX_BUF;
		n = min_t(size_t, count - done, PVCON_TX_BUF);
		if (copy_from_user(b, ubuf + done, n)) {
			err = -EFAULT;
			spin_lock_irqsave(&port->tx_lock, flags);
			port->tx_free[port->tx_nfree++] = slot;
			spin_unlock_irqrestore(&port->tx_lock, flags);
			break;
		}
		sg.addr = port->tx_dma + (dma_addr_t)slot * PVCON_TX_BUF;
		sg.len = n;
		spin_lock_irqsave(&port->tx_lock, flags);
		err = pvring_drv_add(&port->txvq->ring, &sg, 1, 0, b);
		if (err)
			port->tx_free[port->tx_nfree++] = slot;
		else
			pvio_vq_kick(port->txvq);
		spin_unlock_irqrestore(&port->tx_lock, flags);
		if (err)
			break;
		done += n;
	}
	port->tx_bytes += done;
	mutex_unlock(&port->write_mutex);
	return done ? (ssize_t)done : err;
}

static __poll_t pvcon_fop_poll(struct file *filp, poll_table *wait)
{
	struct pvcon_port *port = filp->private_data;
	__poll_t mask = 0;

	poll_wait(filp, &port->waitq, wait);
	if (pvcon_gone(port))
		return EPOLLHUP | EPOLLERR;
	if (pvcon_rx_ready(port))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (pvcon_tx_room(port))
		mask |= EPOLLOUT | EPOLLWRNORM;
	if (!READ_ONCE(port->host_open))
		mask |= EPOLLHUP;
	return mask;
}

static const struct file_operations pvcon_fops = {
	.owner = THIS_MODULE,
	.open = pvcon_fop_open,
	.release = pvcon_fop_release,
	.read = pvcon_fop_read,
	.write = pvcon_fop_write,
	.poll = pvcon_fop_poll,
};

/* ---- port add / remove (con->lock held) --------------------------------- */

/**
 * pvcon_port_add - DEVICE_ADD: set a port up and create its /dev/vportNpM
 * @con: the device, con->lock held
 * @id: the port
 *
 * Allocates and posts the port's buffers at its first add.  Return: 0 (also
 * when the port is present already) or -errno.
 */
int pvcon_port_add(struct pvcon *con, unsigned int id)
{
	struct pvcon_port *port = &con->ports[id];
	int err;

	if (port->present)
		return 0;
	if (!port->setup) {
		err = pvcon_port_buffers_setup(port);
		if (err)
			return err;
	}
	port->host_open = false;
	port->present = true;
	cdev_init(&port->cdev, &pvcon_fops);
	port->cdev.owner = THIS_MODULE;
	err = cdev_add(&port->cdev, con->devt + id, 1);
	if (err)
		goto err_not_present;
	port->dev = device_create_with_groups(pvcon_class, &con->pdev->dev, con->devt + id, port,
					      pvcon_port_groups, "vport%dp%u", con->index, id);
	if (IS_ERR(port->dev)) {
		err = PTR_ERR(port->dev);
		port->dev = NULL;
		goto err_cdev_del;
	}
	return 0;

err_cdev_del:
	cdev_del(&port->cdev);
err_not_present:
	port->present = false;
	return err;
}

/**
 * pvcon_port_remove - DEVICE_REMOVE: take a port away, its hvc console too
 * @port: the port, con->lock held
 *
 * The port's buffers stay posted; its open file, if any, fails from now on.
 */
void pvcon_port_remove(struct pvcon_port *port)
{
	if (!port->present)
		return;
	WRITE_ONCE(port->present, false);
	pvcon_port_console_del(port);
	if (port->dev) {
		device_destroy(pvcon_class, port->con->devt + port->id);
		port->dev = NULL;
	}
	cdev_del(&port->cdev);
	kfree(port->name);
	port->name = NULL;
	wake_up_interruptible(&port->waitq);
}
