// SPDX-License-Identifier: GPL-2.0
/*
 * pvio_vq.c - virtqueues of a pvio device: ring memory, queue registers,
 * interrupts (one MSI-X vector per queue plus one for config changes, or a
 * shared INTx line with the ISR byte) and notifications.
 *
 * Interrupts, in the order the stock transport tries them: one MSI-X vector
 * per queue plus one for config changes; when the device has fewer vectors
 * (QEMU's virtio-serial-pci has 2 for up to 64 queues), one for config and
 * one shared by all the queues; then the INTx line.  A mode whose vectors the
 * device refuses is undone before the next is tried: the queues are enabled
 * only once every queue is programmed, so no reset is needed in between.
 *
 * Ring memory is DMA-coherent: the descriptor table, the available ring and
 * the used ring of a queue live in one block (the used ring on its own cache
 * line), the indirect tables of all its descriptors in another.  Addresses
 * given to the device come from the DMA API, so VIRTIO_F_ACCESS_PLATFORM
 * (an IOMMU in front of the device) works unchanged.
 */
#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "pvio_internal.h"

static unsigned int max_queue_size = 1024;
module_param(max_queue_size, uint, 0444);
MODULE_PARM_DESC(max_queue_size, "largest ring size used (power of two, default 1024)");

/* The device's area starts on its own cache line, away from what the driver writes. */
#define PVIO_DEVICE_AREA_ALIGN 64

static irqreturn_t pvio_vq_interrupt(int irq, void *opaque)
{
	struct pvio_vq *vq = opaque;

	/* After the device broke, the frontend's broken() path owns the queues. */
	if (unlikely(pvio_device_is_broken(vq->dev)))
		return IRQ_HANDLED;
	if (vq->callback)
		vq->callback(vq);
	return IRQ_HANDLED;
}

static irqreturn_t pvio_config_interrupt(int irq, void *opaque)
{
	pvio_config_irq(opaque);
	return IRQ_HANDLED;
}

/* The MSI-X vector shared by all the queues: each one looks at its ring. */
static irqreturn_t pvio_vqs_shared_interrupt(int irq, void *opaque)
{
	struct pvio_device *dev = opaque;
	unsigned int i;

	for (i = 0; i < dev->nvqs; i++)
		if (dev->vqs[i])
			pvio_vq_interrupt(irq, dev->vqs[i]);
	return IRQ_HANDLED;
}

/* INTx: one line for everything; the ISR byte says why (reading clears it). */
static irqreturn_t pvio_intx_interrupt(int irq, void *opaque)
{
	struct pvio_device *dev = opaque;
	unsigned int i;
	u8 isr;

	isr = ioread8(dev->isr);
	if (!isr)
		return IRQ_NONE;
	if (isr & PVIO_PCI_ISR_CONFIG)
		pvio_config_irq(dev);
	if (isr & PVIO_PCI_ISR_QUEUE)
		for (i = 0; i < dev->nvqs; i++)
			if (dev->vqs[i])
				pvio_vq_interrupt(irq, dev->vqs[i]);
	return IRQ_HANDLED;
}

/**
 * pvio_vqs_synchronize_irqs - wait for running interrupt handlers
 * @dev: the device
 */
void pvio_vqs_synchronize_irqs(struct pvio_device *dev)
{
	unsigned int i;

	if (dev->intx_requested)
		synchronize_irq(dev->pci->irq);
	if (dev->config_irq_requested)
		synchronize_irq(pci_irq_vector(dev->pci, 0));
	if (dev->shared_irq_requested)
		synchronize_irq(pci_irq_vector(dev->pci, 1));
	for (i = 0; i < dev->nvqs; i++)
		if (dev->vqs[i] && dev->vqs[i]->irq)
			synchronize_irq(dev->vqs[i]->irq);
}

/**
 * pvio_vq_notify - tell the device a queue has new buffers
 * @vq: the queue
 *
 * Any context; needs no lock.
 */
void pvio_vq_notify(struct pvio_vq *vq)
{
	if (unlikely(pvio_device_is_broken(vq->dev)))
		return;
	/* The ring's kick_prepare() already ordered the ring stores before this. */
	if (vq->notify_with_data)
		iowrite32(READ_ONCE(vq->notify_data), vq->notify);
	else
		iowrite16(vq->index, vq->notify);
}
EXPORT_SYMBOL_GPL(pvio_vq_notify);

/**
 * pvio_vq_irq_offset - first MSI-X vector of the queues, for blk_mq_pci_map_queues()
 * @dev: the device, after pvio_find_vqs()
 *
 * Return: the vector index of queue 0 when every queue has its own vector with
 * managed affinity, else -1 (map queues to CPUs without interrupt affinity).
 */
int pvio_vq_irq_offset(struct pvio_device *dev)
{
	return dev->msix ? 1 : -1;
}
EXPORT_SYMBOL_GPL(pvio_vq_irq_offset);

static void pvio_vq_free(struct pvio_device *dev, struct pvio_vq *vq)
{
	struct device *dma = pvio_dma_dev(dev);

	if (vq->indirect_mem)
		dma_free_coherent(dma, vq->indirect_bytes, vq->indirect_mem, vq->indirect_dma);
	if (vq->ring_mem)
		dma_free_coherent(dma, vq->ring_bytes, vq->ring_mem, vq->ring_dma);
	kfree(vq->slot);
	kfree(vq);
}

/* Allocates the ring memory of queue @index and sets up the driver side. */
static struct pvio_vq *pvio_vq_alloc(struct pvio_device *dev, unsigned int index, unsigned int num,
				     unsigned int indirect_max, const struct pvio_vq_info *info)
{
	struct device *dma = pvio_dma_dev(dev);
	struct pvring_drv_config cfg = { .num = num };
	struct pvring_layout l;
	struct pvio_vq *vq;
	int err;

	vq = kzalloc(sizeof(*vq), GFP_KERNEL);
	if (!vq)
		return ERR_PTR(-ENOMEM);
	vq->dev = dev;
	vq->index = index;
	vq->num = num;
	vq->callback = info->callback;
	vq->priv = info->priv;
	vq->vector = PVIO_PCI_NO_VECTOR;
	snprintf(vq->name, sizeof(vq->name), "%s-%s", dev_name(&dev->dev),
		 info->name ? info->name : "vq");

	vq->slot = kcalloc(num, sizeof(*vq->slot), GFP_KERNEL);
	if (!vq->slot)
		goto err_free;

	cfg.format = pvio_has_feature(dev, PVIO_F_RING_PACKED) ? PVRING_PACKED : PVRING_SPLIT;
	err = pvring_layout(cfg.format, num, &l);
	if (err) {
		pvio_vq_free(dev, vq);
		return ERR_PTR(err);
	}
	/* One block: desc, then the driver area, then the device area on its own lines. */
	vq->driver_off = ALIGN(l.desc_bytes, l.driver_align);
	vq->device_off = ALIGN(vq->driver_off + l.driver_bytes, PVIO_DEVICE_AREA_ALIGN);
	vq->ring_bytes = vq->device_off + l.device_bytes;
	vq->ring_mem = dma_alloc_coherent(dma, vq->ring_bytes, &vq->ring_dma, GFP_KERNEL);
	if (!vq->ring_mem)
		goto err_free;

	/* Indirect tables are an optimisation: go without them if memory is short. */
	if (indirect_max >= 2 && pvio_has_feature(dev, PVIO_F_INDIRECT_DESC)) {
		vq->indirect_bytes = num * pvring_indirect_bytes(indirect_max);
		vq->indirect_mem = dma_alloc_coherent(dma, vq->indirect_bytes, &vq->indirect_dma,
						      GFP_KERNEL | __GFP_NOWARN);
		if (!vq->indirect_mem)
			dev_info(&dev->dev,
				 "queue %u: no memory for indirect tables, going without\n", index);
	}

	cfg.event_idx = pvio_has_feature(dev, PVIO_F_EVENT_IDX);
	cfg.in_order = pvio_has_feature(dev, PVIO_F_IN_ORDER);
	cfg.desc = vq->ring_mem;
	cfg.driver = vq->ring_mem + vq->driver_off;
	cfg.device = vq->ring_mem + vq->device_off;
	cfg.slot = vq->slot;
	if (vq->indirect_mem) {
		cfg.indirect = vq->indirect_mem;
		cfg.indirect_addr = vq->indirect_dma;
		cfg.indirect_max = indirect_max;
	}
	err = pvring_drv_init(&vq->ring, &cfg);
	if (err) {
		pvio_vq_free(dev, vq);
		return ERR_PTR(err);
	}
	return vq;

err_free:
	pvio_vq_free(dev, vq);
	return ERR_PTR(-ENOMEM);
}

/*
 * Tells the device where queue @vq is and with which vector; the queue is
 * enabled later, once every queue is programmed (pvio_find_vqs_mode()).
 */
static int pvio_vq_program(struct pvio_device *dev, struct pvio_vq *vq)
{
	u64 notify_off;

	iowrite16(vq->index, &dev->common->queue_select);
	iowrite16(vq->num, &dev->common->queue_size);
	pvio_iowrite64_twopart(vq->ring_dma, &dev->common->queue_desc);
	pvio_iowrite64_twopart(vq->ring_dma + vq->driver_off, &dev->common->queue_driver);
	pvio_iowrite64_twopart(vq->ring_dma + vq->device_off, &dev->common->queue_device);
	if (vq->vector != PVIO_PCI_NO_VECTOR) {
		iowrite16(vq->vector, &dev->common->queue_msix_vector);
		/* A device out of vectors answers NO_VECTOR (§4.1.5.1.2.1). */
		if (ioread16(&dev->common->queue_msix_vector) != vq->vector) {
			dev_err(&dev->dev, "queue %u: device refused MSI-X vector %u\n", vq->index,
				vq->vector);
			return -EBUSY;
		}
	}
	/* The notify address comes from the device: keep it inside the mapping. */
	notify_off = (u64)ioread16(&dev->common->queue_notify_off) * dev->notify_mult;
	/* NOTIFICATION_DATA: a 32-bit write (§4.1.4.4.1 sizes the area for it). */
	vq->notify_with_data = pvio_has_feature(dev, PVIO_F_NOTIFICATION_DATA);
	if (notify_off + (vq->notify_with_data ? sizeof(u32) : sizeof(u16)) > dev->notify_len) {
		dev_err(&dev->dev, "queue %u: notify offset %llu is beyond the notify area (%zu)\n",
			vq->index, notify_off, dev->notify_len);
		return -EINVAL;
	}
	vq->notify = dev->notify_base + notify_off;
	return 0;
}

/*
 * Asks for @nvec MSI-X vectors: 0 for config changes, the others for the
 * queues (i + 1 for queue i, or 1 shared by all of them).
 */
static int pvio_setup_msix(struct pvio_device *dev, unsigned int nvec, struct irq_affinity *desc)
{
	unsigned int flags = PCI_IRQ_MSIX;
	int n, err;

	/*
	 * A descriptor without PCI_IRQ_AFFINITY makes the PCI core WARN: pass
	 * one only when the frontend asked for managed affinity, with the
	 * config vector kept out of the spreading.
	 */
	if (desc) {
		flags |= PCI_IRQ_AFFINITY;
		desc->pre_vectors = 1;
	}
	n = pci_alloc_irq_vectors_affinity(dev->pci, nvec, nvec, flags, desc);
	if (n < 0)
		return n;
	err = request_irq(pci_irq_vector(dev->pci, 0), pvio_config_interrupt, 0,
			  dev_name(&dev->dev), dev);
	if (err)
		goto err_free_vectors;
	dev->config_irq_requested = true;
	iowrite16(0, &dev->common->config_msix_vector);
	if (ioread16(&dev->common->config_msix_vector) != 0) {
		dev_err(&dev->dev, "device refused the MSI-X config vector\n");
		err = -EBUSY;
		goto err_free_config_irq;
	}
	return 0;

err_free_config_irq:
	dev->config_irq_requested = false;
	free_irq(pci_irq_vector(dev->pci, 0), dev);
err_free_vectors:
	pci_free_irq_vectors(dev->pci);
	return err;
}

static int pvio_setup_intx(struct pvio_device *dev)
{
	int err;

	err = request_irq(dev->pci->irq, pvio_intx_interrupt, IRQF_SHARED, dev_name(&dev->dev),
			  dev);
	if (err)
		return err;
	dev->intx_requested = true;
	return 0;
}

enum pvio_irq_mode {
	PVIO_IRQ_MSIX_PER_VQ,
	PVIO_IRQ_MSIX_SHARED,
	PVIO_IRQ_INTX,
};

/* Undoes a pvio_find_vqs_mode() that failed before enabling the queues. */
static void pvio_find_vqs_undo(struct pvio_device *dev)
{
	unsigned int i;

	/* The device must not signal vectors about to be freed. */
	if (dev->config_irq_requested) {
		for (i = 0; i < dev->nvqs; i++) {
			if (!dev->vqs[i] || dev->vqs[i]->vector == PVIO_PCI_NO_VECTOR)
				continue;
			iowrite16(i, &dev->common->queue_select);
			iowrite16(PVIO_PCI_NO_VECTOR, &dev->common->queue_msix_vector);
		}
		iowrite16(PVIO_PCI_NO_VECTOR, &dev->common->config_msix_vector);
	}
	pvio_del_vqs(dev);
}

static int pvio_find_vqs_mode(struct pvio_device *dev, unsigned int nvqs, struct pvio_vq *vqs[],
			      const struct pvio_vq_info info[], unsigned int indirect_max,
			      struct irq_affinity *desc, enum pvio_irq_mode mode)
{
	unsigned int i, num;
	int err;

	dev->vqs = kcalloc(nvqs, sizeof(*dev->vqs), GFP_KERNEL);
	if (!dev->vqs)
		return -ENOMEM;
	dev->nvqs = nvqs;

	switch (mode) {
	case PVIO_IRQ_MSIX_PER_VQ:
		err = pvio_setup_msix(dev, nvqs + 1, desc);
		if (!err)
			dev->msix = true;
		break;
	case PVIO_IRQ_MSIX_SHARED:
		/* No managed affinity: one vector serves every CPU's queues. */
		err = pvio_setup_msix(dev, 2, NULL);
		if (err)
			break;
		snprintf(dev->shared_irq_name, sizeof(dev->shared_irq_name), "%s-queues",
			 dev_name(&dev->dev));
		err = request_irq(pci_irq_vector(dev->pci, 1), pvio_vqs_shared_interrupt, 0,
				  dev->shared_irq_name, dev);
		if (!err)
			dev->shared_irq_requested = true;
		break;
	default:
		err = pvio_setup_intx(dev);
		break;
	}
	if (err)
		goto err_undo;

	for (i = 0; i < nvqs; i++) {
		struct pvio_vq *vq;

		iowrite16(i, &dev->common->queue_select);
		num = ioread16(&dev->common->queue_size);
		if (!num || ioread16(&dev->common->queue_enable)) {
			dev_err(&dev->dev, "queue %u is unavailable (size %u)\n", i, num);
			err = -ENOENT;
			goto err_undo;
		}
		/* The split ring needs a power of two; a smaller size is allowed. */
		num = rounddown_pow_of_two(min(num, max_queue_size ? max_queue_size : 1U));
		vq = pvio_vq_alloc(dev, i, num, indirect_max, &info[i]);
		if (IS_ERR(vq)) {
			err = PTR_ERR(vq);
			goto err_undo;
		}
		dev->vqs[i] = vq;
		if (mode == PVIO_IRQ_MSIX_PER_VQ) {
			vq->vector = i + 1;
			vq->irq = pci_irq_vector(dev->pci, vq->vector);
			err = request_irq(vq->irq, pvio_vq_interrupt, 0, vq->name, vq);
			if (err) {
				vq->irq = 0;
				goto err_undo;
			}
		} else if (mode == PVIO_IRQ_MSIX_SHARED) {
			vq->vector = 1;
		}
		err = pvio_vq_program(dev, vq);
		if (err)
			goto err_undo;
	}
	for (i = 0; i < nvqs; i++) {
		iowrite16(i, &dev->common->queue_select);
		iowrite16(1, &dev->common->queue_enable);
		vqs[i] = dev->vqs[i];
	}
	return 0;

err_undo:
	pvio_find_vqs_undo(dev);
	return err;
}

/**
 * pvio_find_vqs - set up the first @nvqs queues of a device
 * @dev: the device, in the frontend's probe (before pvio_device_ready())
 * @nvqs: how many queues
 * @vqs: out: the queues
 * @info: per queue: callback, name, cookie
 * @indirect_max: descriptors per indirect table (0: no indirect tables), used
 *	when VIRTIO_F_INDIRECT_DESC was negotiated
 * @desc: interrupt affinity for the queue vectors (pre_vectors is set to 1
 *	for the config vector), or NULL for no managed affinity
 *
 * Tries one MSI-X vector per queue plus one for config changes, then one
 * vector for config and one shared by the queues, then a shared INTx line.
 *
 * Return: 0 or -errno; on error nothing is left set up.
 */
int pvio_find_vqs(struct pvio_device *dev, unsigned int nvqs, struct pvio_vq *vqs[],
		  const struct pvio_vq_info info[], unsigned int indirect_max,
		  struct irq_affinity *desc)
{
	int err;

	if (dev->vqs || !nvqs)
		return -EINVAL;
	if (nvqs > ioread16(&dev->common->num_queues)) {
		dev_err(&dev->dev, "%u queues wanted, the device has %u\n", nvqs,
			ioread16(&dev->common->num_queues));
		return -ENOENT;
	}
	err = pvio_find_vqs_mode(dev, nvqs, vqs, info, indirect_max, desc, PVIO_IRQ_MSIX_PER_VQ);
	if (err && nvqs > 1) {
		dev_info(&dev->dev,
			 "no MSI-X vector per queue (%u wanted: %d); one shared by the %u queues\n",
			 nvqs + 1, err, nvqs);
		err = pvio_find_vqs_mode(dev, nvqs, vqs, info, indirect_max, desc,
					 PVIO_IRQ_MSIX_SHARED);
	}
	if (err) {
		dev_info(&dev->dev, "no usable MSI-X (%d), using INTx\n", err);
		err = pvio_find_vqs_mode(dev, nvqs, vqs, info, indirect_max, desc, PVIO_IRQ_INTX);
	}
	return err;
}
EXPORT_SYMBOL_GPL(pvio_find_vqs);

/**
 * pvio_del_vqs - free the queues and interrupts of a device
 * @dev: the device, after pvio_device_reset() (the device must not use the
 *	rings any more); the frontend has taken back every buffer
 *
 * Idempotent.
 */
void pvio_del_vqs(struct pvio_device *dev)
{
	unsigned int i;

	if (!dev->vqs)
		return;
	for (i = 0; i < dev->nvqs; i++) {
		struct pvio_vq *vq = dev->vqs[i];

		if (!vq)
			continue;
		if (vq->irq)
			free_irq(vq->irq, vq);
		pvio_vq_free(dev, vq);
	}
	if (dev->shared_irq_requested)
		free_irq(pci_irq_vector(dev->pci, 1), dev);
	if (dev->config_irq_requested)
		free_irq(pci_irq_vector(dev->pci, 0), dev);
	if (dev->intx_requested)
		free_irq(dev->pci->irq, dev);
	if (dev->msix || dev->config_irq_requested)
		pci_free_irq_vectors(dev->pci);
	dev->config_irq_requested = false;
	dev->shared_irq_requested = false;
	dev->intx_requested = false;
	dev->msix = false;
	kfree(dev->vqs);
	dev->vqs = NULL;
	dev->nvqs = 0;
}
EXPORT_SYMBOL_GPL(pvio_del_vqs);
