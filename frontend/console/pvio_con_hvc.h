/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pvio_con_hvc.h - the part of the hvc console API pvio_con uses.
 *
 * drivers/tty/hvc/hvc_console.h is not shipped in linux-headers, so the
 * exported interface pvio_con calls is declared here.  It must match the
 * target kernel's header: struct hv_ops and struct hvc_struct below are
 * Linux 6.1's layouts (checked against linux-source-6.1's hvc_console.h).
 * Every member type comes from the installed headers, so only the order of
 * the members is copied, not any config-dependent size.
 *
 * struct hvc_struct is needed for one thing: hvc_resize(), a static inline
 * in hvc_console.h that takes hp->lock around the exported __hvc_resize().
 * pvcon_hvc_layout_ok() checks the copy against what hvc_alloc() filled in
 * (vtermno, ops, data) before pvio_con ever touches hp->lock; on a kernel
 * whose layout differs, resize is not forwarded (and pvio_con says so).
 */
#ifndef PVIO_CON_HVC_H
#define PVIO_CON_HVC_H

#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/termios.h>
#include <linux/tty_port.h>
#include <linux/types.h>
#include <linux/workqueue.h>

struct hvc_struct;

/* Linux 6.1's, first: struct hvc_struct points at a const one. */
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

/* Linux 6.1 drivers/tty/hvc/hvc_console.h; hvc_console.c owns every field. */
struct hvc_struct {
	struct tty_port port;
	spinlock_t lock; /* hvc_console.c's; held around __hvc_resize() */
	int index;
	int do_wakeup;
	char *outbuf;
	int outbuf_size;
	int n_outbuf;
	u32 vtermno;
	const struct hv_ops *ops;
	int irq_requested;
	int data;
	struct winsize ws;
	struct work_struct tty_resize;
	struct list_head next;
	unsigned long flags;
};

int hvc_instantiate(u32 vtermno, int index, const struct hv_ops *ops);
struct hvc_struct *hvc_alloc(u32 vtermno, int data, const struct hv_ops *ops, int outbuf_size);
int hvc_remove(struct hvc_struct *hp);
void hvc_kick(void);
void __hvc_resize(struct hvc_struct *hp, struct winsize ws);

/*
 * pvcon_hvc_layout_ok - does @hp, just returned by hvc_alloc(@vtermno, @data,
 * @ops), look like the layout above?  hvc_alloc() stores these three before
 * it returns; a kernel with another member order fails the check (a false
 * "ok" needs all three to land on equal values by chance).
 */
static inline bool pvcon_hvc_layout_ok(const struct hvc_struct *hp, u32 vtermno, int data,
				       const struct hv_ops *ops)
{
	return hp->vtermno == vtermno && hp->ops == ops && hp->data == data;
}

/* hvc_console.h's hvc_resize(): __hvc_resize() wants hp->lock held. */
static inline void pvcon_hvc_resize(struct hvc_struct *hp, struct winsize ws)
{
	unsigned long flags;

	spin_lock_irqsave(&hp->lock, flags);
	__hvc_resize(hp, ws);
	spin_unlock_irqrestore(&hp->lock, flags);
}

#endif /* PVIO_CON_HVC_H */
