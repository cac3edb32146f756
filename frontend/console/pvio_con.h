/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pvio_con.h - private state of pvio_con.ko, the virtio console frontend
 * (virtio 1.2 §5.3) on the pvio bus.
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
 * System sleep: freeze sets @frozen under every port's rx_lock and tx_lock
 * and the control transmit lock (whoever uses a ring checks it under the
 * lock), resets the device and frees the queues; the buffers stay allocated.
 * Restore finds the queues again, posts every buffer anew and, with
 * MULTIPORT, sends DEVICE_READY: the device announces its ports again, and
 * ports that are present already are only confirmed (PORT_READY, and
 * PORT_OPEN for an open port or the console).  While frozen, console output
 * goes through the emergency write register when the device offers it.
 *
 * Device data is bounded: a used length above the buffer, a control message
 * for a port that does not exist or a name that is too long is refused with
 * a rate-limited message, and a broken ring marks the device broken.
 *
 * Files: pvio_con_main.c probe and remove, the queues and the ports'
 * buffers, the module; pvio_con_port.c the ports' character devices;
 * pvio_con_hvc.c the console port on hvc; pvio_con_ctrl.c the control
 * queue and its messages.
 */
#ifndef PVIO_CON_H
#define PVIO_CON_H

#include <linux/cdev.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "pvio.h"
#include "virtio_console.h"

#define PVCON_PORTS_MAX 16
#define PVCON_RX_BUFS 32
#define PVCON_TX_BUFS 32
#define PVCON_TX_BUF (16 * 1024)
#define PVCON_CTRL_BUFS 32
#define PVCON_CTRL_BUF (sizeof(struct pvio_console_control) + 256)

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
 * @cols: the window size the device gave last (F_SIZE config for port 0,
 *	RESIZE), 0 when none; given to the tty when it is opened
 * @rows: likewise
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
	u16 cols;
	u16 rows;
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
 * @frozen: suspended (or a resume failed): no queue exists; written under
 *	every port's rx_lock and tx_lock and ctrl_tx_lock
 * @emerg_write: EMERG_WRITE negotiated: emerg_wr takes console output
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
	bool frozen;
	bool emerg_write;
	dev_t devt;
};

/* pvio_con_main.c */
void pvcon_free(struct kref *kref);
int pvcon_port_buffers_setup(struct pvcon_port *port);
int pvcon_port_buffers_post(struct pvcon_port *port);
int pvcon_rx_post(struct pvcon_port *port, u8 *buf);
void pvcon_tx_reclaim(struct pvcon_port *port);
bool pvcon_rx_pending_locked(struct pvcon_port *port);

/* pvio_con_port.c */
int __init pvcon_chrdev_init(void);
void pvcon_chrdev_exit(void);
dev_t pvcon_chrdev_devt(int index);
int pvcon_port_add(struct pvcon *con, unsigned int id);
void pvcon_port_remove(struct pvcon_port *port);

/* pvio_con_hvc.c */
int pvcon_port_console_add(struct pvcon_port *port);
void pvcon_port_console_del(struct pvcon_port *port);
void pvcon_hvc_resize(struct pvcon_port *port, u16 cols, u16 rows);

/* pvio_con_ctrl.c */
int pvcon_ctrl_setup(struct pvcon *con);
int pvcon_ctrl_post(struct pvcon *con);
int pvcon_ctrl_send(struct pvcon *con, u32 id, u16 event, u16 value);
void pvcon_ctrl_work(struct work_struct *work);
void pvcon_ctrl_rx_done(struct pvio_vq *vq);

#endif /* PVIO_CON_H */
