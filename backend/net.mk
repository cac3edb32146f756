# SPDX-License-Identifier: GPL-2.0
#
# backend/net: pviod's virtio-net device and its back-ends (tap, switch,
# loop).  Sorted after backend.mk, so PVIOD_OBJS (used by the unit tests'
# link) already exists; pviod's own rule was read with the older value, so
# the objects are added to its prerequisites here too ($^ links them all).

PVIOD_NET_OBJS := $(addprefix $(O)/backend/, net.o net_hdr.o net_gso.o net_filter.o net_fdb.o \
	net_tap.o net_switch.o net_stats.o)

PVIOD_OBJS += $(PVIOD_NET_OBJS)

$(O)/pviod: $(PVIOD_NET_OBJS)
