# SPDX-License-Identifier: GPL-2.0
#
# backend: pviod, the vhost-user back-end daemon.
#
# PVIOD_OBJS is everything but main(), so the unit tests in tests/backend/
# link the same code the daemon runs.  The ring's objects are named here, not
# taken from $(RING_OBJS): ring/ring.mk is included after this fragment, and
# prerequisites are expanded when the rule is read.

PVIOD_OBJS := $(addprefix $(O)/backend/, log.o vu_socket.o vu_msg.o vu_mem.o vu_vring.o \
	worker.o event.o device.o options.o blk.o blk_req.o console.o inflight.o) $(O)/ring/pvring_dev.o

PROGS += $(O)/pviod

$(O)/pviod: $(O)/backend/main.o $(PVIOD_OBJS)
	$(CC) -o $@ $^ $(ALL_LDFLAGS) -luring
