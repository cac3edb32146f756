# SPDX-License-Identifier: GPL-2.0
#
# backend: pviod, the vhost-user back-end daemon, one folder a part:
#
#   core/        what every device runs on: workers, the queue core, the control
#                loop, the device object, logging, option parsing
#   vhost-user/  the front-end's socket, messages, memory table, vrings, in-flight area
#   blk/         the virtio-blk device
#   net/         the virtio-net device and its back-ends (tap, switch, loop)
#   console/     the virtio-console device
#   daemon/      pviod itself: the command line, the context, the device list,
#                the SIGUSR1 counters
#   rpc/         the control socket (--rpc): JSON-RPC 2.0 with json-c; linked
#                into pviod only (PVIOD_RPC_OBJS), so the unit tests need no json-c
#
# Sources include each other by folder ("core/pviod.h"), from backend/.
# PVIOD_OBJS is everything but main(), so the unit tests in tests/backend/
# link the same code the daemon runs.  The ring's object is named here, not
# taken from $(RING_OBJS): ring/ring.mk is included after this fragment, and
# prerequisites are expanded when the rule is read.

PVIOD_CORE_OBJS := $(addprefix $(O)/backend/core/, log.o options.o event.o worker.o queue.o dirty.o \
	inflight.o device.o peermem.o)
PVIOD_VU_OBJS := $(addprefix $(O)/backend/vhost-user/, socket.o msg.o mem.o vring.o inflight.o \
	dirty.o backreq.o conn.o)
PVIOD_BLK_OBJS := $(addprefix $(O)/backend/blk/, device.o request.o file.o lock.o nbd.o rbd.o)
PVIOD_NET_OBJS := $(addprefix $(O)/backend/net/, device.o rx.o tx.o ctrl.o loop.o hdr.o gso.o \
	filter.o fdb.o tap.o switch.o stats.o announce.o)
PVIOD_CONSOLE_OBJS := $(addprefix $(O)/backend/console/, device.o sink.o)

PVIOD_DAEMON_OBJS := $(addprefix $(O)/backend/daemon/, daemon.o stats.o config.o)

PVIOD_OBJS := $(PVIOD_CORE_OBJS) $(PVIOD_VU_OBJS) $(PVIOD_BLK_OBJS) $(PVIOD_NET_OBJS) \
	$(PVIOD_CONSOLE_OBJS) $(PVIOD_DAEMON_OBJS) $(O)/ring/pvring_dev.o

PVIOD_RPC_OBJS := $(addprefix $(O)/backend/rpc/, rpc.o)
# What pviod's objects link with: io_uring, and the storage engines' libraries.
PVIOD_LIBS := -luring -lnbd -lrbd -lrados

PROGS += $(O)/pviod
INSTALL_BIN += $(O)/pviod
INSTALL_MAN8 += Documentation/pviod.8
INSTALL_UNIT += Documentation/pviod.service
INSTALL_CONF += Documentation/pviod.conf

$(O)/backend/%.o: ALL_CFLAGS += -I$(CURDIR)/backend

# Under valgrind a worker sleeps in poll(), not io_uring_enter() (core/worker.c):
# it asks valgrind.h whether it runs there, when the header is installed.
$(O)/backend/core/worker.o: ALL_CFLAGS += $(shell [ -f /usr/include/valgrind/valgrind.h ] && \
	echo -DPVIOD_HAVE_VALGRIND)

$(O)/pviod: $(O)/backend/daemon/main.o $(PVIOD_RPC_OBJS) $(PVIOD_OBJS)
	$(CC) -o $@ $^ $(ALL_LDFLAGS) $(PVIOD_LIBS) -ljson-c -lsystemd
