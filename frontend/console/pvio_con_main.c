// SPDX-License-Identifier: GPL-2.0
/*
 * pvio_con_main.c - the virtio console frontend (virtio 1.2 §5.3) on the pvio
 * bus.
 *
 * Port 0, or whichever port the device marks with CONSOLE_PORT, is an hvc
 * console (hvc0 for the first: usable with console=hvc0); every other port
 * is a character device /dev/vportNpM whose sysfs "name" attribute carries
 * PORT_NAME (udev, or the initramfs' mdev/test, makes /dev/virtio-ports/NAME).
 *
 * Queues are found once at probe for every port the device may have
 * (max_nr_ports, at most PVCON_PORTS_MAX); a port's buffers are allocated at
 * its first DEVICE_ADD and stay posted until the driver is unbound, so a
 * port removed and added again reuses them and no buffer is ever taken back
 * from a running device.
 *
 * Buffers are DMA-coherent pools: receive buffers of PAGE_SIZE stay posted;
 * transmit buffers of PVCON_TX_BUF bytes come from a free stack.
 *
 * Locking: per port, rx_lock guards the receive ring and the partly read
 * buffer (taken in the queue's hard irq, and by hvc's get_chars under its
 * own spinlock); tx_lock the transmit ring and its free stack; read_mutex
 * and write_mutex serialize readers and writers that copy to/from user
 * space outside the spinlocks.  con->lock (a mutex) serializes port add and
 * remove with open; ctrl_tx_lock the control transmit ring.  Control
 * messages are handled in ctrl_work (process context): adding a port
 * sleeps.
 *
 * Device data is bounded: a used length above the buffer, a control message
 * for a port that does not exist or a name that is too long is refused with
 * a rate-limited message, and a broken ring marks the device broken.
 */
#include <linux/cdev.h>
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/kref.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/tty.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include "pvio.h"
#include "pvio_con_hvc.h"
#include "virtio_console.h"

#define PVCON_PORTS_MAX 16
#define PVCON_RX_BUFS 32
#define PVCON_TX_BUFS 32
#define PVCON_TX_BUF (16 * 1024)
#define PVCON_CTRL_BUFS 32
#define PVCON_CTRL_BUF (sizeof(struct pvio_console_control) + 256)
#define PVCON_VTERM_BASE 0x70760000u /* apart from virtio_console's 1.. */
#define PVCON_CFG(f) offsetof(struct pvio_console_config, f)

struct pvcon;

/**
 * struct pvcon_port - one port and its queue pair
 * @con: the device
 * @id: port number
 * @present: DEVICE_ADD seen and no DEVICE_REMOVE since (con->lock)
 * @setup: buffers allocated and posted (con->lock)
 * @rxvq: receive queue
 * @txvq: transmit queue
 * @rx_mem: PVCON_RX_BUFS receive buffers of PAGE_SIZE, coherent
 * @rx_dma: their DMA address
 * @tx_mem: PVCON_TX_BUFS transmit buffers of PVCON_TX_BUF, coherent
 * @tx_dma: their DMA address
 * @rx_lock: receive ring, @rx_cur and its offsets
 * @rx_cur: a used receive buffer not yet read to its end, or NULL
 * @rx_len: its used length
 * @rx_off: bytes of it already read
 * @tx_lock: transmit ring and @tx_free
 * @tx_free: stack of free transmit buffer numbers
 * @tx_nfree: entries in @tx_free
 * @read_mutex: one reader at a time (copies to user space unlocked)
 * @write_mutex: one writer at a time
 * @waitq: readers, writers and pollers
 * @host_open: last PORT_OPEN from the device
 * @guest_open: a file has the port open (con->lock)
 * @console: CONSOLE_PORT: served by hvc, no character device
 * @hvc: the hvc console, or NULL
 * @vtermno: its hvc terminal number
 * @hvc_line: @hvc's line (/dev/hvcN), or -1 when hvc picked it (none free
 *	below PVCON_HVC_LINES: no tty to resize then)
 * @name: PORT_NAME, or NULL (con->lock; read by sysfs under it)
 * @cdev: the character device
 * @dev: its struct device (sysfs, /dev node), NULL when not created
 * @rx_bytes: statistics, bytes read
 * @tx_bytes: statistics, bytes written
 * @list: pvcon_consoles, for the hvc callbacks (pvcon_consoles_lock)
 */
struct pvcon_port {
	struct pvcon *con;
	unsigned int id;
	bool present;
	bool setup;
	struct pvio_vq *rxvq;
	struct pvio_vq *txvq;
	void *rx_mem;
	dma_addr_t rx_dma;
	void *tx_mem;
	dma_addr_t tx_dma;
	spinlock_t rx_lock; /* receive ring, rx_cur/len/off */
	u8 *rx_cur;
	u32 rx_len;
	u32 rx_off;
	spinlock_t tx_lock; /* transmit ring and tx_free */
	u16 tx_free[PVCON_TX_BUFS];
	unsigned int tx_nfree;
	struct mutex read_mutex; /* one reader at a time */
	struct mutex write_mutex; /* one writer at a time */
	wait_queue_head_t waitq;
	bool host_open;
	bool guest_open;
	bool console;
	struct hvc_struct *hvc;
	u32 vtermno;
	int hvc_line;
	char *name;
	struct cdev cdev;
	struct device *dev;
	u64 rx_bytes;
	u64 tx_bytes;
	struct list_head list;
};

/**
 * struct pvcon - one virtio console device
 * @pdev: the pvio device
 * @kref: the device's references: probe, and every open file
 * @index: N in /dev/vportNpM
 * @multiport: MULTIPORT negotiated
 * @nports: ports served (max_nr_ports, at most PVCON_PORTS_MAX)
 * @ports: @nports ports
 * @vqs: every queue
 * @nvqs: entries in @vqs
 * @lock: port add/remove against open/release and sysfs
 * @ctrl_rx_mem: control receive buffers, coherent
 * @ctrl_rx_dma: their DMA address
 * @ctrl_tx_mem: control transmit buffers, coherent
 * @ctrl_tx_dma: their DMA address
 * @ctrl_rx_lock: the control receive ring
 * @ctrl_tx_lock: the control transmit ring and @ctrl_tx_free
 * @ctrl_tx_free: stack of free control transmit buffers
 * @ctrl_tx_nfree: entries in it
 * @ctrl_work: handles control messages in process context
 * @removing: remove() started: ctrl_work adds nothing more
 * @devt: first dev_t of the @nports minors
 */
struct pvcon {
	struct pvio_device *pdev;
	struct kref kref;
	int index;
	bool multiport;
	unsigned int nports;
	struct pvcon_port *ports;
	struct pvio_vq **vqs;
	unsigned int nvqs;
	struct mutex lock; /* port add/remove vs open/release/sysfs */
	void *ctrl_rx_mem;
	dma_addr_t ctrl_rx_dma;
	void *ctrl_tx_mem;
	dma_addr_t ctrl_tx_dma;
	spinlock_t ctrl_rx_lock; /* control receive ring */
	spinlock_t ctrl_tx_lock; /* control transmit ring, ctrl_tx_free */
	u16 ctrl_tx_free[PVCON_CTRL_BUFS];
	unsigned int ctrl_tx_nfree;
	struct work_struct ctrl_work;
	bool removing;
	dev_t devt;
};

static DEFINE_IDA(pvcon_ida);
static DEFINE_IDA(pvcon_vterm_ida);
static dev_t pvcon_devt_base;
static struct class *pvcon_class;
static DEFINE_SPINLOCK(pvcon_consoles_lock); /* pvcon_consoles */
static LIST_HEAD(pvcon_consoles);
/* Picking a line and allocating on it, as one step for all devices. */
static DEFINE_MUTEX(pvcon_hvc_mutex);

static void pvcon_free(struct kref *kref)
{
	struct pvcon *con = container_of(kref, struct pvcon, kref);

	kfree(con->ports);
	kfree(con->vqs);
	kfree(con);
}

/* ---- buffers --------------------------------------------------------- */

static void *pvcon_rx_buf(struct pvcon_port *port, unsigned int i, dma_addr_t *dma)
{
	*dma = port->rx_dma + (dma_addr_t)i * PAGE_SIZE;
	return (u8 *)port->rx_mem + (size_t)i * PAGE_SIZE;
}

/* Post a receive buffer again; rx_lock held.  0 or -errno. */
static int pvcon_rx_post(struct pvcon_port *port, u8 *buf)
{
	size_t off = buf - (u8 *)port->rx_mem;
	struct pvring_sg sg = { port->rx_dma + off, PAGE_SIZE };

	return pvring_drv_add(&port->rxvq->ring, &sg, 0, 1, buf);
}

/* Reclaim used transmit buffers; tx_lock held. */
static void pvcon_tx_reclaim(struct pvcon_port *port)
{
	u32 len;
	u8 *buf;

	while ((buf = pvring_drv_get_used(&port->txvq->ring, &len)))
		port->tx_free[port->tx_nfree++] = (buf - (u8 *)port->tx_mem) / PVCON_TX_BUF;
}

static int pvcon_port_buffers_setup(struct pvcon_port *port)
{
	struct device *dma = pvio_dma_dev(port->con->pdev);
	unsigned long flags;
	unsigned int i, n = min_t(unsigned int, PVCON_RX_BUFS, port->rxvq->num);
	dma_addr_t d;
	int err = 0;

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
	port->tx_nfree = 0;
	for (i = 0; i < min_t(unsigned int, PVCON_TX_BUFS, port->txvq->num); i++)
		port->tx_free[port->tx_nfree++] = i;
	spin_lock_irqsave(&port->rx_lock, flags);
	for (i = 0; i < n && !err; i++)
		err = pvcon_rx_post(port, pvcon_rx_buf(port, i, &d));
	spin_unlock_irqrestore(&port->rx_lock, flags);
	if (err)
		goto err_free_tx;
	pvio_vq_kick(port->rxvq);
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

/* ---- control queue --------------------------------------------------- */

static int pvcon_ctrl_send(struct pvcon *con, u32 id, u16 event, u16 value)
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

/* ---- hvc ------------------------------------------------------------- */

static struct pvcon_port *pvcon_console_find(u32 vtermno)
{
	struct pvcon_port *port, *found = NULL;
	unsigned long flags;

	spin_lock_irqsave(&pvcon_consoles_lock, flags);
	list_for_each_entry(port, &pvcon_consoles, list) {
		if (port->vtermno == vtermno) {
			found = port;
			break;
		}
	}
	spin_unlock_irqrestore(&pvcon_consoles_lock, flags);
	return found;
}

/* Copy up to @count received bytes to @buf (kernel memory); rx_lock held. */
static int pvcon_rx_take_locked(struct pvcon_port *port, u8 *buf, int count)
{
	int done = 0;

	while (done < count) {
		u32 n;

		if (!port->rx_cur) {
			port->rx_cur = pvring_drv_get_used(&port->rxvq->ring, &port->rx_len);
			if (!port->rx_cur)
				break;
			port->rx_off = 0;
			if (port->rx_len > PAGE_SIZE) {
				dev_err_ratelimited(&port->con->pdev->dev,
						    "port %u: %u bytes used of a %lu-byte buffer\n",
						    port->id, port->rx_len, PAGE_SIZE);
				port->rx_len = 0;
			}
		}
		n = min_t(u32, port->rx_len - port->rx_off, count - done);
		memcpy(buf + done, port->rx_cur + port->rx_off, n);
		port->rx_off += n;
		done += n;
		if (port->rx_off == port->rx_len) {
			pvcon_rx_post(port, port->rx_cur);
			port->rx_cur = NULL;
			pvio_vq_kick(port->rxvq);
		}
	}
	return done;
}

static int pvcon_hvc_get_chars(u32 vtermno, char *buf, int count)
{
	struct pvcon_port *port = pvcon_console_find(vtermno);
	unsigned long flags;
	int n;

	if (!port || !port->setup)
		return -EPIPE;
	spin_lock_irqsave(&port->rx_lock, flags);
	n = pvcon_rx_take_locked(port, buf, count);
	spin_unlock_irqrestore(&port->rx_lock, flags);
	port->rx_bytes += n;
	return n;
}

/* Queue @count bytes from kernel memory; tx_lock held.  Bytes queued. */
static int pvcon_tx_put_locked(struct pvcon_port *port, const u8 *buf, int count)
{
	int done = 0;

	pvcon_tx_reclaim(port);
	while (done < count && port->tx_nfree) {
		unsigned int slot = port->tx_free[--port->tx_nfree];
		u32 n = min_t(u32, count - done, PVCON_TX_BUF);
		struct pvring_sg sg = { port->tx_dma + (dma_addr_t)slot * PVCON_TX_BUF, n };
		u8 *b = (u8 *)port->tx_mem + (size_t)slot * PVCON_TX_BUF;

		memcpy(b, buf + done, n);
		if (pvring_drv_add(&port->txvq->ring, &sg, 1, 0, b)) {
			port->tx_nfree++;
			break;
		}
		done += n;
	}
	if (done)
		pvio_vq_kick(port->txvq);
	return done;
}

/*
 * printk and the hvc tty call this in atomic context: it never sleeps.  With
 * every buffer in flight it waits for the device a bounded time (as long as
 * one buffer takes), then reports what it queued.
 */
static int pvcon_hvc_put_chars(u32 vtermno, const char *buf, int count)
{
	struct pvcon_port *port = pvcon_console_find(vtermno);
	unsigned long flags;
	int n, spins = 0;

	if (!port || !port->setup)
		return -EPIPE;
	spin_lock_irqsave(&port->tx_lock, flags);
	n = pvcon_tx_put_locked(port, buf, count);
	while (!n && !pvring_drv_broken(&port->txvq->ring) && spins++ < 100000) {
		cpu_relax();
		n = pvcon_tx_put_locked(port, buf, count);
	}
	spin_unlock_irqrestore(&port->tx_lock, flags);
	port->tx_bytes += n;
	return n;
}

static const struct hv_ops pvcon_hv_ops = {
	.get_chars = pvcon_hvc_get_chars,
	.put_chars = pvcon_hvc_put_chars,
};

/* ---- queue callbacks (hard irq) -------------------------------------- */

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

static void pvcon_ctrl_rx_done(struct pvio_vq *vq)
{
	struct pvcon *con = vq->priv;

	schedule_work(&con->ctrl_work);
}

/* ---- character devices ----------------------------------------------- */

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

static bool pvcon_rx_ready(struct pvcon_port *port)
{
	return port->rx_cur || pvring_drv_more_used(&port->rxvq->ring);
}

static bool pvcon_gone(struct pvcon_port *port)
{
	return !READ_ONCE(port->present) || pvio_device_is_broken(port->con->pdev);
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
	pvcon_tx_reclaim(port);
	room = port->tx_nfree > 0;
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
	.llseek = no_llseek,
};

/* ---- port add / remove (con->lock held) -------------------------------- */

/*
 * The first free hvc line (hvc0 when no other console came first), taken
 * for @vtermno with hvc_instantiate(): hvc_alloc() then uses that line, so
 * pvio_con knows its tty's device number.  Under pvcon_hvc_mutex.  -1 when
 * no line below PVCON_HVC_LINES is free (hvc_alloc() then numbers the line
 * itself, above them: a tty-less line).
 */
static int pvcon_hvc_line_reserve(u32 vtermno)
{
	int line;

	lockdep_assert_held(&pvcon_hvc_mutex);
	for (line = 0; line < PVCON_HVC_LINES; line++)
		if (!hvc_instantiate(vtermno, line, &pvcon_hv_ops))
			return line;
	return -1;
}

static int pvcon_port_console_add(struct pvcon_port *port)
{
	struct hvc_struct *hvc;
	unsigned long flags;
	int v = ida_alloc(&pvcon_vterm_ida, GFP_KERNEL);

	if (v < 0)
		return v;
	port->vtermno = PVCON_VTERM_BASE + v;
	port->console = true;
	/* Before the line is reserved: that may register the console, which prints at once. */
	spin_lock_irqsave(&pvcon_consoles_lock, flags);
	list_add_tail(&port->list, &pvcon_consoles);
	spin_unlock_irqrestore(&pvcon_consoles_lock, flags);
	mutex_lock(&pvcon_hvc_mutex);
	port->hvc_line = pvcon_hvc_line_reserve(port->vtermno);
	hvc = hvc_alloc(port->vtermno, 0, &pvcon_hv_ops, PAGE_SIZE);
	mutex_unlock(&pvcon_hvc_mutex);
	if (IS_ERR(hvc)) {
		int err = PTR_ERR(hvc);

		spin_lock_irqsave(&pvcon_consoles_lock, flags);
		list_del(&port->list);
		spin_unlock_irqrestore(&pvcon_consoles_lock, flags);
		port->console = false;
		if (port->hvc_line < 0) {
			ida_free(&pvcon_vterm_ida, v);
			return err;
		}
		/*
		 * hvc keeps the line reserved for this vtermno and &pvcon_hv_ops
		 * and has no call to release it: keep the vtermno, and the
		 * module, whose callbacks the line points to (they find no port
		 * and return -EPIPE).
		 */
		__module_get(THIS_MODULE);
		dev_err(&port->con->pdev->dev,
			"port %u: hvc_alloc() failed (%d); line hvc%d stays reserved, pvio_con loaded\n",
			port->id, err, port->hvc_line);
		port->hvc_line = -1;
		return err;
	}
	/* pvcon_rx_done() kicks hvc from now on (khvcd exists: hvc_alloc() made it). */
	WRITE_ONCE(port->hvc, hvc);
	port->host_open = true;
	return 0;
}

static void pvcon_port_console_del(struct pvcon_port *port)
{
	unsigned long flags;

	if (!port->hvc)
		return;
	hvc_remove(port->hvc);
	WRITE_ONCE(port->hvc, NULL);
	spin_lock_irqsave(&pvcon_consoles_lock, flags);
	list_del(&port->list);
	spin_unlock_irqrestore(&pvcon_consoles_lock, flags);
	ida_free(&pvcon_vterm_ida, port->vtermno - PVCON_VTERM_BASE);
	port->console = false;
	port->hvc_line = -1;
}

/*
 * RESIZE: the console tty's window size, then SIGWINCH to its foreground
 * process group (tty_do_resize()), as hvc's own resize work does it.  Only
 * while the tty is open, as there: tty_kopen_shared() takes a reference to
 * the tty if it exists and opens nothing.  con->lock held, process context.
 */
static void pvcon_hvc_resize(struct pvcon_port *port, u16 cols, u16 rows)
{
	struct winsize ws = { .ws_row = rows, .ws_col = cols };
	struct tty_struct *tty;

	if (!port->hvc || port->hvc_line < 0)
		return;
	tty = tty_kopen_shared(MKDEV(PVCON_HVC_MAJOR, port->hvc_line));
	if (IS_ERR_OR_NULL(tty))
		return;
	/* hvc's tty points at its line's hvc_struct: check that the line is ours. */
	if (tty->driver_data == port->hvc)
		tty_do_resize(tty, &ws);
	tty_kref_put(tty);
}

static int pvcon_port_add(struct pvcon *con, unsigned int id)
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

static void pvcon_port_remove(struct pvcon_port *port)
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
			int err = pvcon_port_add(con, id);

			mutex_unlock(&con->lock);
			pvcon_ctrl_send(con, id, PVIO_CONSOLE_PORT_READY, !err);
			return;
		}
		break;
	case PVIO_CONSOLE_DEVICE_REMOVE:
		pvcon_port_remove(port);
		break;
	case PVIO_CONSOLE_CONSOLE_PORT:
		if (port->present && !port->console && !pvcon_port_console_add(port)) {
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

static void pvcon_ctrl_work(struct work_struct *work)
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
		}
		spin_unlock_irqrestore(&con->ctrl_rx_lock, flags);
		if (!buf)
			return;
		pvcon_ctrl_handle(con, msg, len);
	}
}

/* ---- probe / remove -------------------------------------------------- */

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

static int pvcon_ctrl_setup(struct pvcon *con)
{
	struct device *dma = pvio_dma_dev(con->pdev);
	unsigned int i, n = min_t(unsigned int, PVCON_CTRL_BUFS, con->vqs[2]->num);
	int err = 0;

	con->ctrl_rx_mem = dma_alloc_coherent(dma, PVCON_CTRL_BUFS * PVCON_CTRL_BUF,
					      &con->ctrl_rx_dma, GFP_KERNEL);
	con->ctrl_tx_mem = dma_alloc_coherent(dma,
					      PVCON_CTRL_BUFS * sizeof(struct pvio_console_control),
					      &con->ctrl_tx_dma, GFP_KERNEL);
	if (!con->ctrl_rx_mem || !con->ctrl_tx_mem)
		return -ENOMEM;
	for (i = 0; i < min_t(unsigned int, PVCON_CTRL_BUFS, con->vqs[3]->num); i++)
		con->ctrl_tx_free[con->ctrl_tx_nfree++] = i;
	for (i = 0; i < n && !err; i++) {
		struct pvring_sg sg = { con->ctrl_rx_dma + i * PVCON_CTRL_BUF, PVCON_CTRL_BUF };

		err = pvring_drv_add(&con->vqs[2]->ring, &sg, 0, 1,
				     (u8 *)con->ctrl_rx_mem + i * PVCON_CTRL_BUF);
	}
	return err;
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
	con->nports = 1;
	if (con->multiport)
		con->nports = clamp_t(u32, pvio_cread32(pdev, PVCON_CFG(max_nr_ports)), 1,
				      PVCON_PORTS_MAX);
	con->index = ida_alloc(&pvcon_ida, GFP_KERNEL);
	if (con->index < 0) {
		err = con->index;
		goto err_put_con;
	}
	con->devt = MKDEV(MAJOR(pvcon_devt_base), con->index * PVCON_PORTS_MAX);
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

static void pvcon_broken(struct pvio_device *pdev)
{
	struct pvcon *con = dev_get_drvdata(&pdev->dev);
	unsigned int i;

	if (!con)
		return;
	for (i = 0; i < con->nports; i++)
		wake_up_interruptible(&con->ports[i].waitq);
}

static struct pvio_driver pvcon_driver = {
	.driver.name = "pvio_con",
	.type = PVIO_ID_CONSOLE,
	.features = PVIO_BIT(PVIO_CONSOLE_F_MULTIPORT),
	.probe = pvcon_probe,
	.remove = pvcon_remove,
	.broken = pvcon_broken,
};

static int __init pvcon_init(void)
{
	int err;

	err = alloc_chrdev_region(&pvcon_devt_base, 0, MINORMASK, "pvio-ports");
	if (err)
		return err;
	pvcon_class = class_create(THIS_MODULE, "pvio-ports");
	if (IS_ERR(pvcon_class)) {
		err = PTR_ERR(pvcon_class);
		goto err_unregister_region;
	}
	err = pvio_register_driver(&pvcon_driver);
	if (err)
		goto err_destroy_class;
	return 0;

err_destroy_class:
	class_destroy(pvcon_class);
err_unregister_region:
	unregister_chrdev_region(pvcon_devt_base, MINORMASK);
	return err;
}

static void __exit pvcon_exit(void)
{
	pvio_unregister_driver(&pvcon_driver);
	class_destroy(pvcon_class);
	unregister_chrdev_region(pvcon_devt_base, MINORMASK);
}

module_init(pvcon_init);
module_exit(pvcon_exit);
MODULE_DESCRIPTION("pvio virtio console: hvc console and /dev/vportNpM ports");
MODULE_LICENSE("GPL");
