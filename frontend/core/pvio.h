/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pvio.h - the API of pvio_core.ko for guest frontends (pvio_blk.ko, ...).
 *
 * pvio_core binds virtio PCI devices itself (modern interface only) and puts
 * one struct pvio_device per device on the "pvio" bus.  A frontend registers a
 * struct pvio_driver naming the device type it drives; the bus matches them.
 *
 * Life of a device, as a frontend sees it:
 *
 *   probe(dev)       features already negotiated (dev->features); the
 *                    frontend reads its config, calls pvio_find_vqs(), sets
 *                    itself up, then pvio_device_ready() (DRIVER_OK) before
 *                    doing I/O.
 *   vq callback      hard-irq context, one at a time per queue; the frontend
 *                    reaps with pvring_drv_get_used() under its own lock.
 *   config_changed   process context, never concurrently with probe/remove.
 *   broken(dev)      any context, once: the device broke the protocol (or a
 *                    frontend said so with pvio_device_broken()); the
 *                    frontend should reset it and fail its I/O.
 *   remove(dev)      the frontend stops its I/O, calls pvio_device_reset()
 *                    then pvio_del_vqs().
 *   freeze(dev)      system sleep (suspend, hibernation), process context,
 *                    config_changed no longer called: the frontend stops and
 *                    drains its I/O (or keeps what it can resubmit), calls
 *                    pvio_device_reset() then pvio_del_vqs().
 *   restore(dev)     after resume (the host may have reset the device): the
 *                    core reset it again and negotiated the same features;
 *                    the frontend calls pvio_find_vqs(), refills its queues,
 *                    pvio_device_ready(), and restarts its I/O.  On failure
 *                    the core marks the device broken: the frontend fails
 *                    new I/O and must not touch queues it did not find.
 *
 * The ring itself (struct pvring_drv in vq->ring) is used directly through the
 * inline fast paths of pvring_drv.h, under the frontend's per-queue lock.
 */
#ifndef PVIO_H
#define PVIO_H

#include <linux/device.h>
#include <linux/interrupt.h>
#include <linux/mod_devicetable.h>
#include <linux/pci.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>

#include "pvring_drv.h"
#include "virtio_config.h"
#include "virtio_pci.h"

struct pvio_device;

/**
 * struct pvio_vq - one virtqueue of a pvio device
 * @ring: driver side of the ring; the frontend serializes all calls
 * @dev: the device this queue belongs to
 * @callback: called from the queue's interrupt (hard-irq context)
 * @priv: the frontend's cookie for this queue
 * @index: queue index on the device
 * @num: ring size (descriptors)
 * @notify: address to write @index to, to kick the device
 * @notify_data: with @notify_with_data, the 32-bit value to write instead
 *	(virtio 1.2 §4.1.5.2: @index, and the ring position in bits 16-31),
 *	set by pvio_vq_kick_prepare()
 * @notify_with_data: VIRTIO_F_NOTIFICATION_DATA negotiated
 * @vector: MSI-X vector index, or PVIO_PCI_NO_VECTOR with INTx
 * @irq: Linux irq number of @vector (0 with INTx)
 * @ring_mem: CPU address of the ring's three areas (one coherent block)
 * @ring_dma: device address of @ring_mem
 * @ring_bytes: size of @ring_mem
 * @driver_off: where the driver area starts in @ring_mem (the desc area at 0)
 * @device_off: where the device area starts in @ring_mem
 * @indirect_mem: indirect descriptor pool, or NULL
 * @indirect_dma: device address of @indirect_mem
 * @indirect_bytes: size of @indirect_mem
 * @slot: private per-descriptor state of @ring
 * @name: irq name, "<device>-<frontend's name>"
 */
struct pvio_vq {
	struct pvring_drv ring;
	struct pvio_device *dev;
	void (*callback)(struct pvio_vq *vq);
	void *priv;
	unsigned int index;
	unsigned int num;
	void __iomem *notify;
	u32 notify_data;
	bool notify_with_data;
	u16 vector;
	unsigned int irq;
	void *ring_mem;
	dma_addr_t ring_dma;
	size_t ring_bytes;
	size_t driver_off;
	size_t device_off;
	void *indirect_mem;
	dma_addr_t indirect_dma;
	size_t indirect_bytes;
	struct pvring_drv_slot *slot;
	char name[48];
};

/**
 * struct pvio_vq_info - what a frontend asks of one queue in pvio_find_vqs()
 * @callback: used-buffer notification handler (hard-irq context), or NULL
 * @name: short name for /proc/interrupts ("req.0")
 * @priv: stored in pvio_vq.priv
 */
struct pvio_vq_info {
	void (*callback)(struct pvio_vq *vq);
	const char *name;
	void *priv;
};

/**
 * struct pvio_device - a virtio PCI device driven by pvio_core
 * @dev: on the pvio bus; its parent is the PCI device
 * @pci: the PCI device
 * @type: virtio device type (PVIO_ID_*)
 * @index: instance number, for the name "pvioN"
 * @features: negotiated features; valid from the frontend's probe on
 * @device_features: what the device offered
 * @common: common configuration structure (BAR mapping)
 * @isr: ISR status byte (BAR mapping), read-to-clear
 * @device_cfg: device-specific configuration (BAR mapping), or NULL
 * @device_cfg_len: bytes of @device_cfg that may be accessed
 * @notify_base: start of the notification area (BAR mapping)
 * @notify_len: bytes of @notify_base that may be accessed
 * @notify_mult: queue_notify_off multiplier
 * @bars: bitmask of the BARs requested
 * @vqs: queues set up by pvio_find_vqs(), or NULL
 * @nvqs: number of entries in @vqs
 * @msix: true when every queue has its own MSI-X vector (vector 0: config)
 * @intx_requested: the shared INTx handler is installed
 * @config_irq_requested: the MSI-X config vector handler is installed
 * @shared_irq_requested: the queues share MSI-X vector 1 (the device has
 *	fewer vectors than queues + 1)
 * @shared_irq_name: its name, "<device>-queues"
 * @broken: the device broke the protocol; see pvio_device_broken()
 * @config_lock: protects @config_enabled and @config_pending
 * @config_enabled: config-change callbacks may be delivered
 * @config_pending: a change arrived while they could not
 * @config_work: delivers config_changed() in process context
 */
struct pvio_device {
	struct device dev;
	struct pci_dev *pci;
	u32 type;
	int index;
	u64 features;
	u64 device_features;
	struct pvio_pci_common_cfg __iomem *common;
	u8 __iomem *isr;
	void __iomem *device_cfg;
	size_t device_cfg_len;
	void __iomem *notify_base;
	size_t notify_len;
	u32 notify_mult;
	int bars;
	struct pvio_vq **vqs;
	unsigned int nvqs;
	bool msix;
	bool intx_requested;
	bool config_irq_requested;
	bool shared_irq_requested;
	char shared_irq_name[32];
	bool broken;
	spinlock_t config_lock; /* config_enabled, config_pending */
	bool config_enabled;
	bool config_pending;
	struct work_struct config_work;
};

/**
 * struct pvio_driver - a frontend for one virtio device type
 * @driver: on the pvio bus
 * @type: virtio device type it drives (PVIO_ID_*)
 * @features: device-specific feature bits it understands, plus the ring's
 *	(PVIO_F_INDIRECT_DESC, PVIO_F_EVENT_IDX) if it wants them;
 *	VERSION_1 and ACCESS_PLATFORM are handled by the transport
 * @probe: set the device up (see the top of this file)
 * @remove: tear it down
 * @config_changed: the device's configuration changed (process context)
 * @broken: the device is broken: reset it and fail I/O (any context)
 * @freeze: system sleep: stop I/O, reset the device, free the queues; or NULL
 *	when the frontend cannot sleep (the system then does not either)
 * @restore: after resume: set the queues up again and restart I/O
 */
struct pvio_driver {
	struct device_driver driver;
	u32 type;
	u64 features;
	int (*probe)(struct pvio_device *dev);
	void (*remove)(struct pvio_device *dev);
	void (*config_changed)(struct pvio_device *dev);
	void (*broken)(struct pvio_device *dev);
	int (*freeze)(struct pvio_device *dev);
	int (*restore)(struct pvio_device *dev);
};

static inline struct pvio_device *to_pvio_device(struct device *d)
{
	return container_of(d, struct pvio_device, dev);
}

static inline struct pvio_driver *to_pvio_driver(struct device_driver *d)
{
	return container_of(d, struct pvio_driver, driver);
}

static inline bool pvio_has_feature(const struct pvio_device *dev, unsigned int bit)
{
	return dev->features & PVIO_BIT(bit);
}

/* The device to use with the DMA API for buffers the device reads or writes. */
static inline struct device *pvio_dma_dev(struct pvio_device *dev)
{
	return &dev->pci->dev;
}

static inline bool pvio_device_is_broken(const struct pvio_device *dev)
{
	return READ_ONCE(dev->broken);
}

int __pvio_register_driver(struct pvio_driver *drv, struct module *owner);
#define pvio_register_driver(drv) __pvio_register_driver(drv, THIS_MODULE)
void pvio_unregister_driver(struct pvio_driver *drv);

int pvio_find_vqs(struct pvio_device *dev, unsigned int nvqs, struct pvio_vq *vqs[],
		  const struct pvio_vq_info info[], unsigned int indirect_max,
		  struct irq_affinity *desc);
void pvio_del_vqs(struct pvio_device *dev);
int pvio_vq_irq_offset(struct pvio_device *dev);

void pvio_device_ready(struct pvio_device *dev);
void pvio_device_reset(struct pvio_device *dev);
void pvio_device_broken(struct pvio_device *dev, const char *why);

u8 pvio_cread8(struct pvio_device *dev, unsigned int off);
u16 pvio_cread16(struct pvio_device *dev, unsigned int off);
u32 pvio_cread32(struct pvio_device *dev, unsigned int off);
u64 pvio_cread64(struct pvio_device *dev, unsigned int off);
void pvio_cwrite8(struct pvio_device *dev, unsigned int off, u8 val);
void pvio_cwrite32(struct pvio_device *dev, unsigned int off, u32 val);

/**
 * pvio_vq_kick_prepare - does the device want a notification?
 * @vq: the queue, under the frontend's queue lock
 *
 * Return: true when pvio_vq_notify() must be called (it need not hold the lock).
 */
static inline bool pvio_vq_kick_prepare(struct pvio_vq *vq)
{
	bool kick = pvring_drv_kick_prepare(&vq->ring);

	/*
	 * NOTIFICATION_DATA: what was published, taken under the lock;
	 * pvio_vq_notify() may run after it, with a later kick's value.
	 */
	if (vq->notify_with_data && kick)
		WRITE_ONCE(vq->notify_data, vq->index | (u32)pvring_drv_notify_pos(&vq->ring)
								<< 16);
	return kick;
}

void pvio_vq_notify(struct pvio_vq *vq);

/**
 * pvio_vq_kick - prepare and notify in one go
 * @vq: the queue, under the frontend's queue lock
 */
static inline void pvio_vq_kick(struct pvio_vq *vq)
{
	if (pvio_vq_kick_prepare(vq))
		pvio_vq_notify(vq);
}

#endif /* PVIO_H */
