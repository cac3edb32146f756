# SPDX-License-Identifier: GPL-2.0
#
# frontend/virtio-user: the userspace vhost-user front-end (libvuser.a).
# pvio-bench is built by frontend/bench/bench.mk; tests live in
# tests/user/user.mk.

VU_SRCS := dev.c mem.c queue.c blk.c net.c console.c
VU_OBJS := $(addprefix $(O)/frontend/virtio-user/,$(VU_SRCS:.c=.o))
VU_LIB := $(O)/libvuser.a
VU_CFLAGS_EXTRA := -I$(CURDIR)/frontend/virtio-user
# Spelled out: ring/ring.mk sorts after this fragment, so $(RING_OBJS) is
# still empty when these prerequisites are read.
VU_RING_OBJS := $(O)/ring/pvring_drv.o

$(O)/frontend/virtio-user/%.o: frontend/virtio-user/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(VU_CFLAGS_EXTRA) -MMD -MP -c -o $@ $<

$(VU_LIB): $(VU_OBJS) $(VU_RING_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

PROGS += $(VU_LIB)
