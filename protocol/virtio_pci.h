/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * virtio_pci.h - the virtio-over-PCI transport, modern interface (virtio 1.2
 * §4.1): PCI ids, vendor capabilities and the common configuration layout.
 */
#ifndef PVIO_VIRTIO_PCI_H
#define PVIO_VIRTIO_PCI_H

#include <linux/types.h>

/*
 * The wire tables below are aligned by hand, one column for values and one
 * for comments, to read like the spec; clang-format would collapse them.
 */
/* clang-format off */
#define PVIO_PCI_VENDOR_ID		0x1af4
/* Transitional devices: 0x1000 + (type-specific); modern: 0x1040 + type. */
#define PVIO_PCI_DEVICE_TRANS_NET	0x1000
#define PVIO_PCI_DEVICE_TRANS_BLOCK	0x1001
#define PVIO_PCI_DEVICE_TRANS_CONSOLE	0x1003
#define PVIO_PCI_DEVICE_MODERN_BASE	0x1040

/* cfg_type of a virtio vendor capability (§4.1.4). */
#define PVIO_PCI_CAP_COMMON_CFG		1
#define PVIO_PCI_CAP_NOTIFY_CFG		2
#define PVIO_PCI_CAP_ISR_CFG		3
#define PVIO_PCI_CAP_DEVICE_CFG		4
#define PVIO_PCI_CAP_PCI_CFG		5
#define PVIO_PCI_CAP_SHARED_MEMORY_CFG	8
#define PVIO_PCI_CAP_VENDOR_CFG		9

/* A vendor-specific PCI capability (cap_vndr 0x09) describing one structure. */
struct pvio_pci_cap {
	__u8 cap_vndr;		/* PCI_CAP_ID_VNDR */
	__u8 cap_next;		/* next capability offset */
	__u8 cap_len;		/* length of this capability */
	__u8 cfg_type;		/* PVIO_PCI_CAP_* */
	__u8 bar;		/* BAR holding the structure, 0..5 */
	__u8 id;		/* several capabilities of one type */
	__u8 padding[2];
	__le32 offset;		/* within the BAR */
	__le32 length;		/* of the structure, bytes */
};

struct pvio_pci_notify_cap {
	struct pvio_pci_cap cap;
	__le32 notify_off_multiplier;	/* queue_notify_off is scaled by this */
};

/* The common configuration structure (§4.1.4.3), in the BAR. */
struct pvio_pci_common_cfg {
	/* About the whole device. */
	__le32 device_feature_select;	/* read-write */
	__le32 device_feature;		/* read-only */
	__le32 driver_feature_select;	/* read-write */
	__le32 driver_feature;		/* read-write */
	__le16 config_msix_vector;	/* read-write */
	__le16 num_queues;		/* read-only */
	__u8 device_status;		/* read-write; 0 resets */
	__u8 config_generation;		/* read-only */

	/* About the queue selected by queue_select. */
	__le16 queue_select;		/* read-write */
	__le16 queue_size;		/* read-write */
	__le16 queue_msix_vector;	/* read-write */
	__le16 queue_enable;		/* read-write */
	__le16 queue_notify_off;	/* read-only */
	__le64 queue_desc;		/* read-write */
	__le64 queue_driver;		/* read-write: the available ring */
	__le64 queue_device;		/* read-write: the used ring */
};

#define PVIO_PCI_NO_VECTOR		0xffff

/* ISR status bits (§4.1.4.5), read-to-clear. */
#define PVIO_PCI_ISR_QUEUE		0x1
#define PVIO_PCI_ISR_CONFIG		0x2

/* clang-format on */

_Static_assert(sizeof(struct pvio_pci_cap) == 16, "virtio_pci_cap is 16 bytes");
_Static_assert(sizeof(struct pvio_pci_notify_cap) == 20, "virtio_pci_notify_cap is 20 bytes");
_Static_assert(sizeof(struct pvio_pci_common_cfg) == 56, "virtio_pci_common_cfg is 56 bytes");

#endif /* PVIO_VIRTIO_PCI_H */
