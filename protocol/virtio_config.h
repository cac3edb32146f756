/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * virtio_config.h - device status, generic feature bits and device types
 * (virtio 1.2 §2.1, §5, §6).
 */
#ifndef PVIO_VIRTIO_CONFIG_H
#define PVIO_VIRTIO_CONFIG_H

#include <linux/types.h>

/*
 * The wire tables below are aligned by hand, one column for values and one
 * for comments, to read like the spec; clang-format would collapse them.
 */
/* clang-format off */
/* Device status (§2.1), set by the driver in this order. */
#define PVIO_STATUS_ACKNOWLEDGE		1	/* the guest noticed the device */
#define PVIO_STATUS_DRIVER		2	/* it knows how to drive it */
#define PVIO_STATUS_DRIVER_OK		4	/* the driver is ready */
#define PVIO_STATUS_FEATURES_OK		8	/* feature negotiation is done */
#define PVIO_STATUS_DEVICE_NEEDS_RESET	64	/* the device hit an error */
#define PVIO_STATUS_FAILED		128	/* the driver gave up */

/* Reserved feature bits (§6): the transport and the ring. */
#define PVIO_F_NOTIFY_ON_EMPTY		24
#define PVIO_F_ANY_LAYOUT		27
#define PVIO_F_INDIRECT_DESC		28
#define PVIO_F_EVENT_IDX		29
#define PVIO_F_VERSION_1		32
#define PVIO_F_ACCESS_PLATFORM		33
#define PVIO_F_RING_PACKED		34
#define PVIO_F_IN_ORDER			35
#define PVIO_F_ORDER_PLATFORM		36
#define PVIO_F_SR_IOV			37
#define PVIO_F_NOTIFICATION_DATA	38
#define PVIO_F_RING_RESET		40

#define PVIO_BIT(nr)			(1ULL << (nr))

/* Device types (§5). */
#define PVIO_ID_NET			1
#define PVIO_ID_BLOCK			2
#define PVIO_ID_CONSOLE			3

/* clang-format on */

#endif /* PVIO_VIRTIO_CONFIG_H */
