/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pvio_con_hvc.h - the interface of the hvc console layer that pvio_con
 * calls.
 *
 * drivers/tty/hvc/hvc_console.h is not shipped in linux-headers, so what
 * pvio_con passes to and gets from the EXPORTed hvc functions is declared
 * here: struct hv_ops (the callbacks pvio_con hands to hvc; Linux 6.1's
 * members, checked against linux-source-6.1) and the prototypes.  struct
 * hvc_struct stays opaque: pvio_con keeps the pointer hvc_alloc() returns
 * and never looks inside it.
 *
 * A window-size change goes to the hvc line's tty as hvc's own resize work
 * does it (tty_do_resize() on the open tty), found by its device number:
 * HVC_MAJOR 229 (Documentation/admin-guide/devices.txt) and the line, which
 * pvio_con picks itself with hvc_instantiate() before hvc_alloc().
 */
#ifndef PVIO_CON_HVC_H
#define PVIO_CON_HVC_H

#include <linux/types.h>

/* hvc's tty major: /dev/hvc0 is 229:0, /dev/hvc1 229:1, ... */
#define PVCON_HVC_MAJOR 229
/* Lines hvc_instantiate() takes: hvc_console.h's MAX_NR_HVC_CONSOLES. */
#define PVCON_HVC_LINES 16

struct hvc_struct;

/* Linux 6.1's drivers/tty/hvc/hvc_console.h: hvc calls these. */
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

/*
 * Reserves console line @index (0..PVCON_HVC_LINES - 1) for @vtermno and
 * @ops: 0, or -1 when the line is taken (by a console or an hvc tty that is
 * still around).  hvc_alloc() with the same @vtermno and @ops then uses that
 * line.  There is no call to give a line back but hvc_remove().
 */
int hvc_instantiate(u32 vtermno, int index, const struct hv_ops *ops);
struct hvc_struct *hvc_alloc(u32 vtermno, int data, const struct hv_ops *ops, int outbuf_size);
int hvc_remove(struct hvc_struct *hp);
void hvc_kick(void);

#endif /* PVIO_CON_HVC_H */
