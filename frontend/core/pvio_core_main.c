// SPDX-License-Identifier: GPL-2.0
/*
 * pvio_core_main.c - the pvio bus and the virtio PCI transport (modern
 * interface, virtio 1.2 §4.1) without the kernel's virtio core.
 *
 * The PCI driver finds the vendor capabilities, maps the four structures and
 * creates one struct pvio_device on the pvio bus per virtio device; frontends
 * register a struct pvio_driver for a device type and the bus matches them.
 * Feature negotiation happens in the bus probe, before the frontend's probe.
 *
 * Which devices are bound: by default (types=0) the device types that have a
 * registered frontend.  A frontend's registration takes the virtio PCI
 * functions of its type that no driver owns yet; a device another driver
 * (the stock virtio_pci) owns is left to it, with a line in the log.  The
 * "types" module parameter, a bitmask of device types, overrides the rule;
 * writing it at run time rebinds (pvio_pci_rebind()).  pvio_core has no PCI
 * module alias: it is loaded on purpose (as a frontend's dependency), never
 * by udev for every virtio device (Documentation/frontend.rst).
 *
 * Locking: the bus serializes probe/remove of one device (device_lock).
 * pvio_bind_lock serializes the rebinding walks over the PCI devices and
 * guards pvio_driver_types.
 * config_lock guards the config-change state, taken from the config irq.
 * The status register is written only from probe/remove/reset paths, which
 * the bus serializes, and from pvio_device_ready() called by the frontend's
 * probe.
 */
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/idr.h>
#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/slab.h>

#include "pvio_compat.h"
#include "pvio_internal.h"

static struct pci_driver pvio_pci_driver;
static void pvio_pci_rebind(int only_type, bool release);

/* 0: the types with a registered frontend; else the types to bind. */
static unsigned int types;
/* Device types with a registered frontend. */
static unsigned long pvio_driver_types;
static DEFINE_MUTEX(pvio_bind_lock);
/*
 * Set once the PCI driver is registered, cleared before it goes (under
 * pvio_bind_lock): outside, a write to "types" is only stored.
 */
static bool pvio_core_ready;

static int pvio_types_set(const char *val, const struct kernel_param *kp)
{
	int err;

	err = param_set_uint(val, kp);
	if (err || !READ_ONCE(pvio_core_ready))
		return err;
	pvio_pci_rebind(-1, true);
	return 0;
}

static const struct kernel_param_ops pvio_types_ops = {
	.set = pvio_types_set,
	.get = param_get_uint,
};
module_param_cb(types, &pvio_types_ops, &types, 0644);
MODULE_PARM_DESC(types, "bitmask of device types to bind (default 0: those with a frontend)");

static DEFINE_IDA(pvio_index_ida);

/*
 * Feature bits the transport itself implements.  NOTIFICATION_DATA (§2.9):
 * a kick carries the ring position (pvio_vq_notify()).
 */
#define PVIO_TRANSPORT_FEATURES                                          \
	(PVIO_BIT(PVIO_F_VERSION_1) | PVIO_BIT(PVIO_F_ACCESS_PLATFORM) | \
	 PVIO_BIT(PVIO_F_NOTIFICATION_DATA))
/*
 * Ring features a frontend may ask for in pvio_driver.features.  IN_ORDER:
 * the ring reaps batches (ring/pvring_drv.h); a frontend asks for it when
 * nothing of its own assumes one used element per buffer.
 */
#define PVIO_RING_FEATURES \
	(PVIO_BIT(PVIO_F_INDIRECT_DESC) | PVIO_BIT(PVIO_F_EVENT_IDX) | PVIO_BIT(PVIO_F_IN_ORDER))

/*
 * The packed ring format (virtio 1.2 §2.8) is the ring's, not a frontend's:
 * every frontend gets it when the device offers it, unless ring_packed=0.
 */
static bool ring_packed = true;
module_param(ring_packed, bool, 0444);
MODULE_PARM_DESC(ring_packed, "use packed rings when the device offers them (default 1)");
/* Device-specific feature bits: 0..23 (virtio 1.2 §6). */
#define PVIO_DEVICE_FEATURES GENMASK_ULL(23, 0)

/* Longest wait for a reset to complete before giving up on the device. */
#define PVIO_RESET_TIMEOUT_MS 1000
/* Config reads retried this many times while the generation keeps moving. */
#define PVIO_CONFIG_RETRIES 64

/* ---- status, reset ---------------------------------------------------- */

u8 pvio_get_status(struct pvio_device *dev)
{
	return ioread8(&dev->common->device_status);
}

void pvio_add_status(struct pvio_device *dev, u8 status)
{
	iowrite8(pvio_get_status(dev) | status, &dev->common->device_status);
}

/**
 * pvio_device_ready - tell the device the driver is ready (DRIVER_OK)
 * @dev: the device, from the frontend's probe after pvio_find_vqs()
 *
 * The queues may carry buffers as soon as this returns.
 */
void pvio_device_ready(struct pvio_device *dev)
{
	pvio_add_status(dev, PVIO_STATUS_DRIVER_OK);
}
EXPORT_SYMBOL_GPL(pvio_device_ready);

/**
 * pvio_device_reset - reset the device and wait until it stopped
 * @dev: the device
 *
 * On return the device no longer touches the rings or the buffers in them
 * (unless it is gone or hostile: after %PVIO_RESET_TIMEOUT_MS the device is
 * marked broken) and no queue callback is running.  Process context.
 */
void pvio_device_reset(struct pvio_device *dev)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(PVIO_RESET_TIMEOUT_MS);

	iowrite8(0, &dev->common->device_status);
	/*
	 * Modern devices may reset asynchronously: the reset is done when the
	 * status reads back 0 (§4.1.4.3.2).  A device that was unplugged reads
	 * all ones; do not wait for it.
	 */
	while (pvio_get_status(dev)) {
		if (!pci_device_is_present(dev->pci) || time_after(jiffies, deadline)) {
			pvio_device_broken(dev, "reset did not complete");
			break;
		}
		usleep_range(1000, 2000);
	}
	/* No interrupt handler still looks at the queues. */
	pvio_vqs_synchronize_irqs(dev);
}
EXPORT_SYMBOL_GPL(pvio_device_reset);

/**
 * pvio_device_broken - the device broke the protocol; stop using it
 * @dev: the device
 * @why: what it did, for the log
 *
 * Any context.  The first call logs (rate-limited), marks the device broken so
 * that frontends fail new I/O, sets FAILED and calls the frontend's broken()
 * callback, which resets the device and fails the I/O in flight.  Never a
 * BUG: the device's data is not trusted.
 */
void pvio_device_broken(struct pvio_device *dev, const char *why)
{
	struct pvio_driver *drv;

	if (xchg(&dev->broken, true))
		return;
	dev_err_ratelimited(&dev->dev, "device is broken (%s); failing its I/O\n", why);
	/* Paired with READ_ONCE() in pvio_device_is_broken(); xchg is a full barrier. */
	drv = dev->dev.driver ? to_pvio_driver(dev->dev.driver) : NULL;
	if (drv && drv->broken)
		drv->broken(dev);
}
EXPORT_SYMBOL_GPL(pvio_device_broken);

/* ---- device configuration space ------------------------------------ */

/*
 * A read of @len bytes at @off, at its natural width, retried until the
 * configuration generation is the same before and after (§4.1.4.3.1).
 * Out-of-range reads (a device whose config structure is too short) return 0.
 */
static u64 pvio_cread(struct pvio_device *dev, unsigned int off, unsigned int len)
{
	void __iomem *p = dev->device_cfg + off;
	unsigned int tries = 0;
	u8 gen, gen2;
	u64 val = 0;

	if (!dev->device_cfg || off + len > dev->device_cfg_len || off + len < off) {
		dev_warn_ratelimited(&dev->dev,
				     "config read of %u bytes at %u is out of range (%zu)\n", len,
				     off, dev->device_cfg_len);
		return 0;
	}
	do {
		gen = ioread8(&dev->common->config_generation);
		switch (len) {
		case 1:
			val = ioread8(p);
			break;
		case 2:
			val = ioread16(p);
			break;
		case 4:
			val = ioread32(p);
			break;
		case 8:
			val = ioread32(p) | ((u64)ioread32(p + 4) << 32);
			break;
		}
		gen2 = ioread8(&dev->common->config_generation);
		if (++tries > PVIO_CONFIG_RETRIES) {
			dev_warn_ratelimited(&dev->dev, "config generation keeps changing\n");
			break;
		}
	} while (gen != gen2);
	return val;
}

/**
 * pvio_cread8 - read a byte of device configuration
 * @dev: the device
 * @off: offset in the device-specific configuration structure
 *
 * Return: the value, 0 when out of range.  pvio_cread16/32/64 likewise.
 */
u8 pvio_cread8(struct pvio_device *dev, unsigned int off)
{
	return pvio_cread(dev, off, 1);
}
EXPORT_SYMBOL_GPL(pvio_cread8);

/** pvio_cread16 - read a little-endian 16-bit config field; see pvio_cread8() */
u16 pvio_cread16(struct pvio_device *dev, unsigned int off)
{
	return pvio_cread(dev, off, 2);
}
EXPORT_SYMBOL_GPL(pvio_cread16);

/** pvio_cread32 - read a little-endian 32-bit config field; see pvio_cread8() */
u32 pvio_cread32(struct pvio_device *dev, unsigned int off)
{
	return pvio_cread(dev, off, 4);
}
EXPORT_SYMBOL_GPL(pvio_cread32);

/** pvio_cread64 - read a little-endian 64-bit config field; see pvio_cread8() */
u64 pvio_cread64(struct pvio_device *dev, unsigned int off)
{
	return pvio_cread(dev, off, 8);
}
EXPORT_SYMBOL_GPL(pvio_cread64);

/**
 * pvio_cwrite8 - write a byte of device configuration
 * @dev: the device
 * @off: offset in the device-specific configuration structure
 * @val: the value
 */
void pvio_cwrite8(struct pvio_device *dev, unsigned int off, u8 val)
{
	if (!dev->device_cfg || off >= dev->device_cfg_len)
		return;
	iowrite8(val, dev->device_cfg + off);
}
EXPORT_SYMBOL_GPL(pvio_cwrite8);

/**
 * pvio_cwrite32 - write a little-endian 32-bit config field
 * @dev: the device
 * @off: offset in the device-specific configuration structure
 * @val: the value
 *
 * Any context (a console's emergency write calls it from printk).
 */
void pvio_cwrite32(struct pvio_device *dev, unsigned int off, u32 val)
{
	if (!dev->device_cfg || off + 4 > dev->device_cfg_len || off + 4 < off)
		return;
	iowrite32(val, dev->device_cfg + off);
}
EXPORT_SYMBOL_GPL(pvio_cwrite32);

/* ---- config-change notifications ------------------------------------ */

static void pvio_config_work(struct work_struct *work)
{
	struct pvio_device *dev = container_of(work, struct pvio_device, config_work);
	struct pvio_driver *drv;

	/* Runs only while the frontend is bound: see pvio_config_disable(). */
	drv = to_pvio_driver(dev->dev.driver);
	if (drv->config_changed)
		drv->config_changed(dev);
}

/* From the config vector or the INTx handler: hard-irq context. */
void pvio_config_irq(struct pvio_device *dev)
{
	unsigned long flags;

	spin_lock_irqsave(&dev->config_lock, flags);
	if (dev->config_enabled)
		schedule_work(&dev->config_work);
	else
		dev->config_pending = true;
	spin_unlock_irqrestore(&dev->config_lock, flags);
}

static void pvio_config_enable(struct pvio_device *dev)
{
	spin_lock_irq(&dev->config_lock);
	dev->config_enabled = true;
	if (dev->config_pending)
		schedule_work(&dev->config_work);
	dev->config_pending = false;
	spin_unlock_irq(&dev->config_lock);
}

static void pvio_config_disable(struct pvio_device *dev)
{
	spin_lock_irq(&dev->config_lock);
	dev->config_enabled = false;
	spin_unlock_irq(&dev->config_lock);
	flush_work(&dev->config_work);
}

/* ---- the pvio bus ------------------------------------------------------ */

static u64 pvio_get_device_features(struct pvio_device *dev)
{
	u64 f;

	iowrite32(0, &dev->common->device_feature_select);
	f = ioread32(&dev->common->device_feature);
	iowrite32(1, &dev->common->device_feature_select);
	f |= (u64)ioread32(&dev->common->device_feature) << 32;
	return f;
}

static void pvio_set_driver_features(struct pvio_device *dev, u64 f)
{
	iowrite32(0, &dev->common->driver_feature_select);
	iowrite32((u32)f, &dev->common->driver_feature);
	iowrite32(1, &dev->common->driver_feature_select);
	iowrite32(f >> 32, &dev->common->driver_feature);
}

/*
 * Without ACCESS_PLATFORM the device uses guest-physical addresses, which the
 * DMA API gives only when no IOMMU translates for it.
 */
static int pvio_check_dma_translation(struct pvio_device *dev)
{
	struct iommu_domain *domain;

	if (pvio_has_feature(dev, PVIO_F_ACCESS_PLATFORM))
		return 0;
	domain = iommu_get_domain_for_dev(&dev->pci->dev);
	if (domain && domain->type != IOMMU_DOMAIN_IDENTITY) {
		dev_err(&dev->dev,
			"an IOMMU translates for this device but it lacks VIRTIO_F_ACCESS_PLATFORM; give it iommu_platform=on\n");
		return -ENODEV;
	}
	return 0;
}

static int pvio_negotiate(struct pvio_device *dev, struct pvio_driver *drv)
{
	u64 wanted = (drv->features & (PVIO_DEVICE_FEATURES | PVIO_RING_FEATURES)) |
		     PVIO_TRANSPORT_FEATURES | (ring_packed ? PVIO_BIT(PVIO_F_RING_PACKED) : 0);
	int err;

	dev->device_features = pvio_get_device_features(dev);
	if (!(dev->device_features & PVIO_BIT(PVIO_F_VERSION_1))) {
		dev_err(&dev->dev,
			"device does not offer VIRTIO_F_VERSION_1; legacy devices are not supported\n");
		return -ENODEV;
	}
	dev->features = dev->device_features & wanted;
	err = pvio_check_dma_translation(dev);
	if (err)
		return err;
	pvio_set_driver_features(dev, dev->features);
	pvio_add_status(dev, PVIO_STATUS_FEATURES_OK);
	/* The device may refuse the subset: FEATURES_OK does not stick then. */
	if (!(pvio_get_status(dev) & PVIO_STATUS_FEATURES_OK)) {
		dev_err(&dev->dev, "device refused features %#llx\n", dev->features);
		return -ENODEV;
	}
	return 0;
}

static int pvio_bus_match(struct device *d, pvio_compat_match_const struct device_driver *dd)
{
	const struct pvio_driver *drv = container_of(dd, struct pvio_driver, driver);

	return to_pvio_device(d)->type == drv->type;
}

static int pvio_bus_uevent(pvio_compat_uevent_const struct device *d, struct kobj_uevent_env *env)
{
	const struct pvio_device *dev = container_of(d, struct pvio_device, dev);

	return add_uevent_var(env, "MODALIAS=pvio:d%08X", dev->type);
}

static int pvio_bus_probe(struct device *d)
{
	struct pvio_device *dev = to_pvio_device(d);
	struct pvio_driver *drv = to_pvio_driver(d->driver);
	int err;

	WRITE_ONCE(dev->broken, false);
	pvio_add_status(dev, PVIO_STATUS_DRIVER);
	err = pvio_negotiate(dev, drv);
	if (err)
		goto err_fail;
	err = drv->probe(dev);
	if (err)
		goto err_fail;
	if (!(pvio_get_status(dev) & PVIO_STATUS_DRIVER_OK))
		pvio_device_ready(dev);
	pvio_config_enable(dev);
	return 0;

err_fail:
	pvio_add_status(dev, PVIO_STATUS_FAILED);
	pvio_device_reset(dev);
	pvio_del_vqs(dev);
	pvio_add_status(dev, PVIO_STATUS_ACKNOWLEDGE);
	return err;
}

static void pvio_bus_remove(struct device *d)
{
	struct pvio_device *dev = to_pvio_device(d);
	struct pvio_driver *drv = to_pvio_driver(d->driver);

	pvio_config_disable(dev);
	drv->remove(dev);
	/* In case the frontend left them: the device must not touch freed memory. */
	pvio_device_reset(dev);
	pvio_del_vqs(dev);
	dev->features = 0;
	pvio_add_status(dev, PVIO_STATUS_ACKNOWLEDGE);
}

static ssize_t type_show(struct device *d, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", to_pvio_device(d)->type);
}
static DEVICE_ATTR_RO(type);

static ssize_t features_show(struct device *d, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%#018llx\n", to_pvio_device(d)->features);
}
static DEVICE_ATTR_RO(features);

static ssize_t device_features_show(struct device *d, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%#018llx\n", to_pvio_device(d)->device_features);
}
static DEVICE_ATTR_RO(device_features);

static ssize_t broken_show(struct device *d, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", pvio_device_is_broken(to_pvio_device(d)));
}
static DEVICE_ATTR_RO(broken);

static struct attribute *pvio_dev_attrs[] = {
	&dev_attr_type.attr,
	&dev_attr_features.attr,
	&dev_attr_device_features.attr,
	&dev_attr_broken.attr,
	NULL,
};
ATTRIBUTE_GROUPS(pvio_dev);

static struct bus_type pvio_bus = {
	.name = "pvio",
	.match = pvio_bus_match,
	.uevent = pvio_bus_uevent,
	.probe = pvio_bus_probe,
	.remove = pvio_bus_remove,
	.dev_groups = pvio_dev_groups,
};

/**
 * __pvio_register_driver - register a frontend; use pvio_register_driver()
 * @drv: the frontend, with type, probe and remove set
 * @owner: its module
 *
 * Return: 0 or -errno.
 */
int __pvio_register_driver(struct pvio_driver *drv, struct module *owner)
{
	int err;

	if (!drv->probe || !drv->remove || drv->type >= BITS_PER_LONG)
		return -EINVAL;
	drv->driver.bus = &pvio_bus;
	drv->driver.owner = owner;
	err = driver_register(&drv->driver);
	if (err)
		return err;
	/* Its type is now wanted: take the devices of that type nobody owns. */
	set_bit(drv->type, &pvio_driver_types);
	pvio_pci_rebind(drv->type, false);
	return 0;
}
EXPORT_SYMBOL_GPL(__pvio_register_driver);

/**
 * pvio_unregister_driver - unregister a frontend, removing it from its devices
 * @drv: the frontend
 *
 * The PCI functions of its type stay with pvio_core (a frontend loaded again
 * finds them); writing the "types" parameter gives them back.
 */
void pvio_unregister_driver(struct pvio_driver *drv)
{
	driver_unregister(&drv->driver);
	clear_bit(drv->type, &pvio_driver_types);
}
EXPORT_SYMBOL_GPL(pvio_unregister_driver);

/* ---- PCI ---------------------------------------------------------------- */

/* Device type from the PCI id, or -1 when the id is not a virtio device. */
static int pvio_pci_type(struct pci_dev *pci)
{
	if (pci->device >= 0x1000 && pci->device <= 0x103f)
		/* Transitional: the type is the subsystem device id. */
		return pci->subsystem_device;
	if (pci->device >= PVIO_PCI_DEVICE_MODERN_BASE && pci->device <= 0x107f)
		return pci->device - PVIO_PCI_DEVICE_MODERN_BASE;
	return -1;
}

static const char *pvio_type_name(int type)
{
	switch (type) {
	case PVIO_ID_NET:
		return "net";
	case PVIO_ID_BLOCK:
		return "block";
	case PVIO_ID_CONSOLE:
		return "console";
	default:
		return "other";
	}
}

/* Does pvio_core bind devices of @type?  See the top of this file. */
static bool pvio_type_wanted(int type)
{
	unsigned int t = READ_ONCE(types);

	if (type < 0 || type >= BITS_PER_LONG)
		return false;
	if (t)
		return type < 32 && (t & BIT(type));
	return test_bit(type, &pvio_driver_types);
}

/* One virtio PCI function of pvio_pci_rebind(). */
static void pvio_pci_rebind_one(struct pci_dev *pci, int type, bool release)
{
	const char *name = pvio_type_name(type);
	bool wanted = pvio_type_wanted(type);
	struct device_driver *owner;
	int err;

	device_lock(&pci->dev);
	owner = pci->dev.driver;
	device_unlock(&pci->dev);
	if (owner == &pvio_pci_driver.driver) {
		if (wanted || !release)
			return;
		pci_info(pci, "pvio: virtio %s device (type %d) no longer wanted; unbinding\n",
			 name, type);
		device_release_driver(&pci->dev);
	} else if (owner) {
		if (wanted)
			pci_info(pci,
				 "pvio: virtio %s device (type %d) is driven by %s; left to it\n",
				 name, type, owner->name);
	} else if (wanted) {
		err = device_driver_attach(&pvio_pci_driver.driver, &pci->dev);
		if (err && err != -ENODEV)
			pci_warn(pci, "pvio: cannot bind virtio %s device: %d\n", name, err);
	}
}

/*
 * Walks the virtio PCI functions: binds the wanted ones no driver owns and,
 * when @release, unbinds from pvio_core the ones no longer wanted.  @only_type
 * >= 0 limits the walk to one device type.  Process context, no lock held.
 */
static void pvio_pci_rebind(int only_type, bool release)
{
	struct pci_dev *pci = NULL;

	mutex_lock(&pvio_bind_lock);
	/* A write to "types" may race the module's unloading. */
	if (!pvio_core_ready) {
		mutex_unlock(&pvio_bind_lock);
		return;
	}
	while ((pci = pci_get_device(PVIO_PCI_VENDOR_ID, PCI_ANY_ID, pci))) {
		int type = pvio_pci_type(pci);

		if (type < 0 || (only_type >= 0 && type != only_type))
			continue;
		pvio_pci_rebind_one(pci, type, release);
	}
	mutex_unlock(&pvio_bind_lock);
}

/*
 * Find the first usable capability of @cfg_type: a memory BAR that holds the
 * whole structure and is at least @min_len long.  Returns its config offset,
 * or 0.
 */
static int pvio_pci_find_cap(struct pci_dev *pci, u8 cfg_type, u32 min_len, u8 *bar_out,
			     u32 *off_out, u32 *len_out)
{
	int pos;

	for (pos = pci_find_capability(pci, PCI_CAP_ID_VNDR); pos > 0;
	     pos = pci_find_next_capability(pci, pos, PCI_CAP_ID_VNDR)) {
		u8 type, bar;
		u32 off, len;

		pci_read_config_byte(pci, pos + offsetof(struct pvio_pci_cap, cfg_type), &type);
		pci_read_config_byte(pci, pos + offsetof(struct pvio_pci_cap, bar), &bar);
		pci_read_config_dword(pci, pos + offsetof(struct pvio_pci_cap, offset), &off);
		pci_read_config_dword(pci, pos + offsetof(struct pvio_pci_cap, length), &len);
		if (type != cfg_type || bar > PCI_STD_NUM_BARS - 1)
			continue;
		if (!(pci_resource_flags(pci, bar) & IORESOURCE_MEM))
			continue;
		if (len < min_len || (u64)off + len > pci_resource_len(pci, bar))
			continue;
		*bar_out = bar;
		*off_out = off;
		*len_out = len;
		return pos;
	}
	return 0;
}

static void __iomem *pvio_pci_map(struct pvio_device *dev, u8 bar, u32 off, u32 len)
{
	void __iomem *p = pci_iomap_range(dev->pci, bar, off, len);

	if (!p)
		dev_err(&dev->pci->dev, "cannot map BAR %u [%#x + %#x]\n", bar, off, len);
	return p;
}

static void pvio_pci_unmap(struct pvio_device *dev)
{
	if (dev->device_cfg)
		pci_iounmap(dev->pci, dev->device_cfg);
	if (dev->notify_base)
		pci_iounmap(dev->pci, dev->notify_base);
	if (dev->isr)
		pci_iounmap(dev->pci, dev->isr);
	if (dev->common)
		pci_iounmap(dev->pci, dev->common);
	dev->device_cfg = NULL;
	dev->notify_base = NULL;
	dev->isr = NULL;
	dev->common = NULL;
}

/* Finds, requests and maps the four structures of the modern interface. */
static int pvio_pci_map_caps(struct pvio_device *dev)
{
	struct pci_dev *pci = dev->pci;
	u8 common_bar, isr_bar, notify_bar, cfg_bar;
	u32 common_off, isr_off, notify_off, cfg_off;
	u32 common_len, isr_len, notify_len, cfg_len;
	int notify_pos, mult_pos, cfg_pos, err;

	if (!pvio_pci_find_cap(pci, PVIO_PCI_CAP_COMMON_CFG, sizeof(struct pvio_pci_common_cfg),
			       &common_bar, &common_off, &common_len)) {
		dev_info(&pci->dev,
			 "no modern virtio interface (legacy-only device); not binding\n");
		return -ENODEV;
	}
	if (!pvio_pci_find_cap(pci, PVIO_PCI_CAP_ISR_CFG, 1, &isr_bar, &isr_off, &isr_len)) {
		dev_err(&pci->dev, "no usable ISR capability\n");
		return -ENODEV;
	}
	notify_pos = pvio_pci_find_cap(pci, PVIO_PCI_CAP_NOTIFY_CFG, 2, &notify_bar, &notify_off,
				       &notify_len);
	if (!notify_pos) {
		dev_err(&pci->dev, "no usable notify capability\n");
		return -ENODEV;
	}
	mult_pos = notify_pos + offsetof(struct pvio_pci_notify_cap, notify_off_multiplier);
	pci_read_config_dword(pci, mult_pos, &dev->notify_mult);
	/* Device config is optional: some device types have none. */
	cfg_pos = pvio_pci_find_cap(pci, PVIO_PCI_CAP_DEVICE_CFG, 1, &cfg_bar, &cfg_off, &cfg_len);

	dev->bars = BIT(common_bar) | BIT(isr_bar) | BIT(notify_bar);
	if (cfg_pos)
		dev->bars |= BIT(cfg_bar);
	err = pci_request_selected_regions(pci, dev->bars, "pvio");
	if (err)
		return err;

	err = -ENOMEM;
	dev->common = pvio_pci_map(dev, common_bar, common_off, sizeof(struct pvio_pci_common_cfg));
	if (!dev->common)
		goto err_unmap;
	dev->isr = pvio_pci_map(dev, isr_bar, isr_off, 1);
	if (!dev->isr)
		goto err_unmap;
	/* Map only the part of the notify area that can hold a queue's address. */
	dev->notify_len = notify_len;
	dev->notify_base = pvio_pci_map(dev, notify_bar, notify_off, notify_len);
	if (!dev->notify_base)
		goto err_unmap;
	if (cfg_pos) {
		dev->device_cfg_len = min_t(u32, cfg_len, PAGE_SIZE);
		dev->device_cfg = pvio_pci_map(dev, cfg_bar, cfg_off, dev->device_cfg_len);
		if (!dev->device_cfg)
			goto err_unmap;
	}
	return 0;

err_unmap:
	pvio_pci_unmap(dev);
	pci_release_selected_regions(pci, dev->bars);
	return err;
}

static void pvio_dev_release(struct device *d)
{
	kfree(to_pvio_device(d));
}

static int pvio_pci_probe(struct pci_dev *pci, const struct pci_device_id *id)
{
	struct pvio_device *dev;
	int type = pvio_pci_type(pci);
	int err;

	if (type < 0)
		return -ENODEV;
	if (!pvio_type_wanted(type)) {
		pci_info(pci, "pvio: virtio %s device (type %d): %s; left to another driver\n",
			 pvio_type_name(type), type,
			 READ_ONCE(types) ? "not in the types parameter" :
					    "no pvio frontend loaded for it");
		return -ENODEV;
	}

	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return -ENOMEM;
	dev->pci = pci;
	dev->type = type;
	spin_lock_init(&dev->config_lock);
	INIT_WORK(&dev->config_work, pvio_config_work);

	err = pci_enable_device(pci);
	if (err)
		goto err_free;
	err = pvio_pci_map_caps(dev);
	if (err)
		goto err_disable;
	err = dma_set_mask_and_coherent(&pci->dev, DMA_BIT_MASK(64));
	if (err)
		err = dma_set_mask_and_coherent(&pci->dev, DMA_BIT_MASK(32));
	if (err) {
		dev_err(&pci->dev, "no usable DMA mask\n");
		goto err_unmap;
	}
	pci_set_master(pci);

	dev->index = ida_alloc(&pvio_index_ida, GFP_KERNEL);
	if (dev->index < 0) {
		err = dev->index;
		goto err_clear_master;
	}

	/* Start from a clean device: it may have been used by firmware or kexec. */
	pvio_device_reset(dev);
	pvio_add_status(dev, PVIO_STATUS_ACKNOWLEDGE);

	dev->dev.parent = &pci->dev;
	dev->dev.bus = &pvio_bus;
	dev->dev.release = pvio_dev_release;
	device_initialize(&dev->dev);
	err = dev_set_name(&dev->dev, "pvio%d", dev->index);
	if (err)
		goto err_put;
	pci_set_drvdata(pci, dev);
	err = device_add(&dev->dev);
	if (err)
		goto err_put;
	return 0;

err_put:
	/* From device_initialize() on, the release callback frees dev. */
	pvio_device_reset(dev);
	ida_free(&pvio_index_ida, dev->index);
	pci_clear_master(pci);
	pvio_pci_unmap(dev);
	pci_release_selected_regions(pci, dev->bars);
	pci_disable_device(pci);
	put_device(&dev->dev);
	return err;
err_clear_master:
	pci_clear_master(pci);
err_unmap:
	pvio_pci_unmap(dev);
	pci_release_selected_regions(pci, dev->bars);
err_disable:
	pci_disable_device(pci);
err_free:
	kfree(dev);
	return err;
}

static void pvio_pci_remove(struct pci_dev *pci)
{
	struct pvio_device *dev = pci_get_drvdata(pci);
	int index = dev->index;

	/* Removes the frontend first (pvio_bus_remove). */
	device_del(&dev->dev);
	pvio_device_reset(dev);
	pci_clear_master(pci);
	pvio_pci_unmap(dev);
	pci_release_selected_regions(pci, dev->bars);
	pci_disable_device(pci);
	put_device(&dev->dev);
	ida_free(&pvio_index_ida, index);
}

static void pvio_pci_shutdown(struct pci_dev *pci)
{
	struct pvio_device *dev = pci_get_drvdata(pci);

	/* Stop DMA before the next kernel (kexec) or the firmware looks at memory. */
	iowrite8(0, &dev->common->device_status);
	pci_clear_master(pci);
}

#ifdef CONFIG_PM_SLEEP
/*
 * System sleep (suspend to RAM or idle, hibernation): the frontend stops its
 * I/O and frees its queues, and the PCI function is disabled; on the way back
 * the host may have reset the device (QEMU does on S3 wake-up), so it is
 * reset again, the same features negotiated and the frontend sets its queues
 * up anew.  A device no frontend drives was reset when it was unbound.
 */
static int pvio_pci_freeze(struct device *d)
{
	struct pci_dev *pci = to_pci_dev(d);
	struct pvio_device *dev = pci_get_drvdata(pci);
	struct pvio_driver *drv;
	int err;

	/* Binding is blocked during system sleep: the driver stays as it is. */
	drv = dev->dev.driver ? to_pvio_driver(dev->dev.driver) : NULL;
	if (drv) {
		if (!drv->freeze || !drv->restore) {
			dev_err(&dev->dev, "%s cannot suspend; unbind it first\n",
				drv->driver.name);
			return -EOPNOTSUPP;
		}
		pvio_config_disable(dev);
		err = drv->freeze(dev);
		if (err) {
			dev_err(&dev->dev, "%s refused to suspend: %d\n", drv->driver.name, err);
			pvio_config_enable(dev);
			return err;
		}
		/* In case the frontend left them: nothing may point at freed rings. */
		pvio_device_reset(dev);
		pvio_del_vqs(dev);
		/*
		 * Negotiated again, without queues: the configuration space
		 * keeps the meaning the features give it while the system
		 * sleeps (the console's emergency write needs F_EMERG_WRITE
		 * negotiated; the device ignores emerg_wr after a reset).
		 */
		pvio_add_status(dev, PVIO_STATUS_ACKNOWLEDGE | PVIO_STATUS_DRIVER);
		pvio_set_driver_features(dev, dev->features);
		pvio_add_status(dev, PVIO_STATUS_FEATURES_OK);
	}
	pci_disable_device(pci);
	return 0;
}

static int pvio_pci_restore(struct device *d)
{
	struct pci_dev *pci = to_pci_dev(d);
	struct pvio_device *dev = pci_get_drvdata(pci);
	struct pvio_driver *drv;
	u64 features = dev->features;
	int err;

	err = pci_enable_device(pci);
	if (err)
		return err;
	pci_set_master(pci);
	pvio_device_reset(dev);
	WRITE_ONCE(dev->broken, false);
	pvio_add_status(dev, PVIO_STATUS_ACKNOWLEDGE);
	drv = dev->dev.driver ? to_pvio_driver(dev->dev.driver) : NULL;
	if (!drv)
		return 0;
	pvio_add_status(dev, PVIO_STATUS_DRIVER);
	err = pvio_negotiate(dev, drv);
	if (!err && dev->features != features) {
		dev_err(&dev->dev, "features changed across suspend (%#llx, now %#llx)\n", features,
			dev->features);
		err = -EIO;
	}
	if (!err)
		err = drv->restore(dev);
	if (err) {
		/* The frontend fails its I/O from now on; unbinding cleans up. */
		dev_err(&dev->dev, "cannot resume the device (%d); it is broken\n", err);
		WRITE_ONCE(dev->broken, true);
		pvio_add_status(dev, PVIO_STATUS_FAILED);
		return 0;
	}
	if (!(pvio_get_status(dev) & PVIO_STATUS_DRIVER_OK))
		pvio_device_ready(dev);
	pvio_config_enable(dev);
	return 0;
}
#endif

static SIMPLE_DEV_PM_OPS(pvio_pci_pm_ops, pvio_pci_freeze, pvio_pci_restore);

static const struct pci_device_id pvio_pci_ids[] = {
	{ PCI_DEVICE(PVIO_PCI_VENDOR_ID, PCI_ANY_ID) },
	{ 0 } /* end of table */
};

/*
 * No MODULE_DEVICE_TABLE: an alias would have udev load pvio_core for every
 * virtio device, racing the stock virtio_pci.  It comes with its frontends.
 */

static struct pci_driver pvio_pci_driver = {
	.name = "pvio_pci",
	.id_table = pvio_pci_ids,
	.probe = pvio_pci_probe,
	.remove = pvio_pci_remove,
	.shutdown = pvio_pci_shutdown,
	.driver.pm = &pvio_pci_pm_ops,
};

static int __init pvio_core_init(void)
{
	int err;

	err = bus_register(&pvio_bus);
	if (err)
		return err;
	err = pci_register_driver(&pvio_pci_driver);
	if (err)
		goto err_bus_unregister;
	mutex_lock(&pvio_bind_lock);
	WRITE_ONCE(pvio_core_ready, true);
	mutex_unlock(&pvio_bind_lock);
	return 0;

err_bus_unregister:
	bus_unregister(&pvio_bus);
	return err;
}

static void __exit pvio_core_exit(void)
{
	mutex_lock(&pvio_bind_lock);
	WRITE_ONCE(pvio_core_ready, false);
	mutex_unlock(&pvio_bind_lock);
	pci_unregister_driver(&pvio_pci_driver);
	bus_unregister(&pvio_bus);
	ida_destroy(&pvio_index_ida);
}

module_init(pvio_core_init);
module_exit(pvio_core_exit);

MODULE_DESCRIPTION("pvio: virtio PCI transport (modern interface) with pvio's split ring");
MODULE_LICENSE("GPL");
