# SPDX-License-Identifier: GPL-2.0
#
# backend/pvioctl: pviod's control client (JSON-RPC over pviod --rpc's
# socket, json-c), and its man page.

PROGS += $(O)/pvioctl
INSTALL_BIN += $(O)/pvioctl
INSTALL_MAN8 += Documentation/pvioctl.8

$(O)/pvioctl: $(O)/backend/pvioctl/pvioctl.o
	$(CC) -o $@ $^ $(ALL_LDFLAGS) -ljson-c
