# SPDX-License-Identifier: GPL-2.0
#
# frontend/virtio-user: the userspace vhost-user front-end (libvuser.a).
# pvio-bench is built by frontend/bench/bench.mk; tests live in
# tests/user/user.mk.

VUSER_SRCS := dev.c mem.c queue.c blk.c net.c console.c
VUSER_OBJS := $(addprefix $(O)/frontend/virtio-user/,$(VUSER_SRCS:.c=.o))
VUSER_LIB := $(O)/libvuser.a
VUSER_CFLAGS_EXTRA := -I$(CURDIR)/frontend/virtio-user
# Spelled out: ring/ring.mk sorts after this fragment, so $(RING_OBJS) is
# still empty when these prerequisites are read.
VUSER_RING_OBJS := $(O)/ring/pvring_drv.o

$(O)/frontend/virtio-user/%.o: frontend/virtio-user/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(VUSER_CFLAGS_EXTRA) -MMD -MP -c -o $@ $<

$(VUSER_LIB): $(VUSER_OBJS) $(VUSER_RING_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

PROGS += $(VUSER_LIB)
