// SPDX-License-Identifier: GPL-2.0
/*
 * pvio_con_hvc.c - the console port of pvio_con.ko on hvc: hvc's
 * get_chars/put_chars callbacks, the port's hvc line and window size.
 * pvio_con_hvc.h says which part of hvc this uses and how; locking rules:
 * pvio_con.h.
 */
#include <linux/idr.h>
#include <linux/module.h>
#include <linux/tty.h>

#include "pvio_con.h"
#include "pvio_con_hvc.h"

#define PVCON_VTERM_BASE 0x70760000u /* apart from virtio_console's 1.. */

static DEFINE_IDA(pvcon_vterm_ida);
static DEFINE_SPINLOCK(pvcon_consoles_lock); /* pvcon_consoles */
static LIST_HEAD(pvcon_consoles);
/* Picking a line and allocating on it, as one step for all devices. */
static DEFINE_MUTEX(pvcon_hvc_mutex);

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
			/* Nothing used: the interrupt is re-armed, hvc_kick() comes. */
			if (!pvcon_rx_pending_locked(port))
				break;
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
	int n = 0;

	if (!port || !port->setup)
		return -EPIPE;
	spin_lock_irqsave(&port->rx_lock, flags);
	/* Suspended: nothing to read until the queues are back. */
	if (!port->con->frozen)
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
 * EMERG_WRITE: each byte written to emerg_wr goes to the device's console
 * port at once, without a queue (virtio 1.2 §5.3.4).  For the output printed
 * while the queues are gone (suspended, broken).  Any context.  Returns the
 * bytes written, or -EPIPE without the feature (hvc drops the output then).
 */
static int pvcon_emerg_write(struct pvcon *con, const char *buf, int count)
{
	int i;

	if (!con->emerg_write)
		return -EPIPE;
	for (i = 0; i < count; i++)
		pvio_cwrite32(con->pdev, offsetof(struct pvio_console_config, emerg_wr),
			      (u8)buf[i]);
	return count;
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
	if (port->con->frozen || pvio_device_is_broken(port->con->pdev)) {
		/* No queue to use: the emergency register, or the output is lost. */
		n = pvcon_emerg_write(port->con, buf, count);
		spin_unlock_irqrestore(&port->tx_lock, flags);
		return n;
	}
	n = pvcon_tx_put_locked(port, buf, count);
	while (!n && !pvring_drv_broken(&port->txvq->ring) && spins++ < 100000) {
		cpu_relax();
		n = pvcon_tx_put_locked(port, buf, count);
	}
	spin_unlock_irqrestore(&port->tx_lock, flags);
	port->tx_bytes += n;
	return n;
}

/* Gives @hp's tty, if it is open, the window size @ws.  Process context. */
static void pvcon_tty_resize(struct hvc_struct *hp, int line, struct winsize *ws)
{
	struct tty_struct *tty;

	if (line < 0)
		return;
	/* A reference to the tty if it exists; opens nothing. */
	tty = tty_kopen_shared(MKDEV(PVCON_HVC_MAJOR, line));
	if (IS_ERR_OR_NULL(tty))
		return;
	/* hvc's tty points at its line's hvc_struct: check that the line is ours. */
	if (tty->driver_data == hp)
		tty_do_resize(tty, ws);
	tty_kref_put(tty);
}

/*
 * hvc calls this when the console's tty is opened (process context, the
 * tty locked, no hvc lock held): the tty starts with the size the device
 * gave.  pvio_con takes no interrupt for hvc, which keeps polling.
 */
static int pvcon_hvc_notifier_add(struct hvc_struct *hp, int data)
{
	struct winsize ws = {};
	struct pvcon_port *port;
	unsigned long flags;
	int line = -1;

	spin_lock_irqsave(&pvcon_consoles_lock, flags);
	list_for_each_entry(port, &pvcon_consoles, list) {
		if (port->hvc == hp) {
			ws.ws_col = READ_ONCE(port->cols);
			ws.ws_row = READ_ONCE(port->rows);
			line = port->hvc_line;
			break;
		}
	}
	spin_unlock_irqrestore(&pvcon_consoles_lock, flags);
	if (ws.ws_col && ws.ws_row)
		pvcon_tty_resize(hp, line, &ws);
	return 0;
}

static const struct hv_ops pvcon_hv_ops = {
	.get_chars = pvcon_hvc_get_chars,
	.put_chars = pvcon_hvc_put_chars,
	.notifier_add = pvcon_hvc_notifier_add,
};

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

/**
 * pvcon_port_console_add - make a present port an hvc console
 * @port: the port (CONSOLE_PORT, or port 0 without MULTIPORT), con->lock held
 *
 * Return: 0 or -errno.
 */
int pvcon_port_console_add(struct pvcon_port *port)
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
	if (port->hvc_line >= 0)
		dev_info(&port->con->pdev->dev, "port %u: console on hvc%d\n", port->id,
			 port->hvc_line);
	else
		dev_info(&port->con->pdev->dev, "port %u: console on hvc, no line below %d free\n",
			 port->id, PVCON_HVC_LINES);
	return 0;
}

/**
 * pvcon_port_console_del - remove a port's hvc console, if it has one
 * @port: the port, con->lock held
 */
void pvcon_port_console_del(struct pvcon_port *port)
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

/**
 * pvcon_hvc_resize - F_SIZE or RESIZE: set the console tty's window size
 * @port: the port, con->lock held (process context)
 * @cols: columns
 * @rows: rows
 *
 * The size is kept for the tty's next open (pvcon_hvc_notifier_add()); an
 * open tty gets it now: its window size, then SIGWINCH to its foreground
 * process group (tty_do_resize()), as hvc's own resize work does it.
 * Nothing more happens for a port that is no console.
 */
void pvcon_hvc_resize(struct pvcon_port *port, u16 cols, u16 rows)
{
	struct winsize ws = { .ws_row = rows, .ws_col = cols };
	unsigned long flags;

	/* Under the lock pvcon_hvc_notifier_add() reads them with. */
	spin_lock_irqsave(&pvcon_consoles_lock, flags);
	WRITE_ONCE(port->cols, cols);
	WRITE_ONCE(port->rows, rows);
	spin_unlock_irqrestore(&pvcon_consoles_lock, flags);
	if (port->hvc)
		pvcon_tty_resize(port->hvc, port->hvc_line, &ws);
}
