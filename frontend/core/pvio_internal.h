/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pvio_internal.h - what the files of pvio_core.ko share and frontends do not
 * see.  Registers of the common configuration structure are accessed as
 * ioread/iowrite of &dev->common->field, at the field's natural width.
 */
#ifndef PVIO_INTERNAL_H
#define PVIO_INTERNAL_H

#include <linux/io.h>

#include "pvio.h"

/* 64-bit registers are written as two 32-bit halves, low first (§4.1.3.1). */
static inline void pvio_iowrite64_twopart(u64 val, __le64 __iomem *reg)
{
	__le32 __iomem *lo = (__le32 __iomem *)reg;

	iowrite32((u32)val, lo);
	iowrite32(val >> 32, lo + 1);
}

u8 pvio_get_status(struct pvio_device *dev);
void pvio_add_status(struct pvio_device *dev, u8 status);
void pvio_config_irq(struct pvio_device *dev);
void pvio_vqs_synchronize_irqs(struct pvio_device *dev);

#endif /* PVIO_INTERNAL_H */
