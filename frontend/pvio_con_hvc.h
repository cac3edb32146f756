/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pvio_con_hvc.h - the part of the hvc console API pvio_con uses.
 *
 * drivers/tty/hvc/hvc_console.h is not shipped in linux-headers, so the
 * exported interface pvio_con calls is declared here.  It must match the
 * target kernel's header: struct hv_ops below is Linux 6.1's layout (checked
 * against linux-source-6.1); struct hvc_struct is used only as an opaque
 * pointer.
 */
#ifndef PVIO_CON_HVC_H
#define PVIO_CON_HVC_H

#include <linux/termios.h>
#include <linux/types.h>

struct hvc_struct;

struct hv_ops {
	int (*get_chars)(u32 vtermno, char *buf, int count);
	int (*put_chars)(u32 vtermno, const char *buf, int count);
	int (*flush)(u32 vtermno, bool wait);
	int (*notifier_add)(struct hvc_struct *hp, int irq);
	void (*notifier_del)(struct hvc_struct *hp, int irq);
	void (*notifier_hangup)(struct hvc_struct *hp, int irq);
	int (*tiocmget)(struct hvc_struct *hp);
	int (*tiocmset)(struct hvc_struct *hp, unsigned int set, unsigned int clear);
	void (*dtr_rts)(struct hvc_struct *hp, int raise);
};

int hvc_instantiate(u32 vtermno, int index, const struct hv_ops *ops);
struct hvc_struct *hvc_alloc(u32 vtermno, int data, const struct hv_ops *ops, int outbuf_size);
int hvc_remove(struct hvc_struct *hp);
void hvc_kick(void);
void __hvc_resize(struct hvc_struct *hp, struct winsize ws);

#endif /* PVIO_CON_HVC_H */
