# SPDX-License-Identifier: GPL-2.0
# The ring: one implementation, linked into every userspace part.
RING_OBJS := $(O)/ring/pvring_drv.o $(O)/ring/pvring_dev.o
$(O)/libpvring.a: $(RING_OBJS)
	$(AR) rcs $@ $^
