/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * virtio_console.h - the virtio console device (virtio 1.2 §5.3).
 *
 * Queues: receiveq(port0), transmitq(port0), then with F_MULTIPORT
 * control receiveq, control transmitq, and receiveq/transmitq for ports
 * 1..max_nr_ports-1.  Control messages are struct pvio_console_control,
 * followed by a name for PORT_NAME and a struct pvio_console_resize for
 * RESIZE.
 */
#ifndef PVIO_VIRTIO_CONSOLE_H
#define PVIO_VIRTIO_CONSOLE_H

#include <linux/types.h>

/*
 * The wire tables below are aligned by hand, one column for values and one
 * for comments, to read like the spec; clang-format would collapse them.
 */
/* clang-format off */
#define PVIO_CONSOLE_F_SIZE		0	/* cols/rows are valid */
#define PVIO_CONSOLE_F_MULTIPORT	1	/* control queues, max_nr_ports */
#define PVIO_CONSOLE_F_EMERG_WRITE	2	/* emerg_wr is writable */

struct pvio_console_config {
	__le16 cols;
	__le16 rows;
	__le32 max_nr_ports;
	__le32 emerg_wr;		/* write a character here, no queue needed */
};

struct pvio_console_control {
	__le32 id;			/* port number */
	__le16 event;			/* PVIO_CONSOLE_* */
	__le16 value;
};

/* Control events (§5.3.6.2). */
#define PVIO_CONSOLE_DEVICE_READY	0	/* driver -> device */
#define PVIO_CONSOLE_DEVICE_ADD		1	/* device -> driver */
#define PVIO_CONSOLE_DEVICE_REMOVE	2	/* device -> driver */
#define PVIO_CONSOLE_PORT_READY		3	/* driver -> device */
#define PVIO_CONSOLE_CONSOLE_PORT	4	/* device -> driver */
#define PVIO_CONSOLE_RESIZE		5	/* device -> driver, + resize */
#define PVIO_CONSOLE_PORT_OPEN		6	/* both ways; value 1 open, 0 closed */
#define PVIO_CONSOLE_PORT_NAME		7	/* device -> driver, + name bytes */

/*
 * Follows RESIZE: cols first, then rows.  This is what Linux 6.1's
 * virtio_console reads (drivers/char/virtio_console.c, handle_control_message():
 * a struct { cols; rows; } whose fields it passes on as set_console_size(rows,
 * cols)) and the same order as cols/rows in the config space.  The virtio 1.2
 * text lists rows first; that order matches no driver (see
 * Documentation/console.rst).
 */
struct pvio_console_resize {
	__le16 cols;
	__le16 rows;
};

/* clang-format on */

_Static_assert(sizeof(struct pvio_console_config) == 12, "virtio_console_config is 12 bytes");
_Static_assert(sizeof(struct pvio_console_control) == 8, "virtio_console_control is 8 bytes");
_Static_assert(sizeof(struct pvio_console_resize) == 4, "console resize is 4 bytes");

#endif /* PVIO_VIRTIO_CONSOLE_H */
