# SPDX-License-Identifier: GPL-2.0
#
# frontend/user: the userspace vhost-user front-end (libpvio-vu.a).  pvio-bench
# is built by frontend/bench/bench.mk; tests live in tests/user/user.mk.

VU_SRCS := vu_dev.c vu_mem.c vu_queue.c vu_blk.c vu_net.c vu_console.c
VU_OBJS := $(addprefix $(O)/frontend/user/,$(VU_SRCS:.c=.o))
VU_LIB := $(O)/libpvio-vu.a
VU_CFLAGS_EXTRA := -I$(CURDIR)/frontend/user
# Spelled out: ring/ring.mk sorts after this fragment, so $(RING_OBJS) is
# still empty when these prerequisites are read.
VU_RING_OBJS := $(O)/ring/pvring_drv.o

$(O)/frontend/user/%.o: frontend/user/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(VU_CFLAGS_EXTRA) -MMD -MP -c -o $@ $<

$(VU_LIB): $(VU_OBJS) $(VU_RING_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

PROGS += $(VU_LIB)
