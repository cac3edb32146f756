# SPDX-License-Identifier: GPL-2.0
#
# tests/backend/net: pviod's net device.
#
#   net_hdr_test    unit: transmit header checks, software checksum, tap offloads,
#                   the switch's forwarding table (learning, moves, ageing)
#   net_gso_test    unit: software TCP segmentation (GSO) for receivers without
#                   GUEST_TSO4/6, checked on the bytes, and the flow hash
#   net_filter_test unit: the receive filter (RX modes, MAC table, MAC address,
#                   VLANs) and the control commands that program it
#                   (its integration test is tests/user/vuser_net_filter_test)
#   net_loop.sh     integration: pvio-bench net reflect --verify against backend=loop
#   net_dpdk.sh     integration: dpdk-testpmd virtio_user (io, txonly) against loop
#   net_announce_test  integration: SEND_RARP after a migration, raw front-ends
#                   on a loop device and three switch ports (the RARP's bytes,
#                   the switch learning the port, malformed payloads refused)
#   net_announce_qemu.sh  integration: QEMU 7.2 and 10.0 (firmware only, no
#                   guest disk) send SEND_RARP on QMP announce-self, pviod announces
#   vuser_net_switch_test  integration (tests/user/): two userspace drivers on
#                   one switch: a TSO super-frame segmented for a receiver without
#                   GUEST_TSO4/6, flows spread over the receiver's active pairs
#
# The VM tests are tests/vm/pviod_net_tap.sh and pviod_net_switch.sh; the net
# benchmark (net_bench.sh) is in frontend/bench/.
#
# Built like tests/backend/backend.mk's unit tests, with pviod's objects.

NET_TEST_UNIT := $(O)/tests/backend/net_hdr_test $(O)/tests/backend/net_filter_test \
	$(O)/tests/backend/net_gso_test

UNIT_TESTS += $(NET_TEST_UNIT)
PROGS += $(NET_TEST_UNIT)
INTEGRATION_TESTS += tests/backend/net_loop.sh tests/backend/net_dpdk.sh

# The switch's software GSO and multi-queue receive, end to end through the
# userspace driver (tests/user/vuser_net_switch_test.c; built by
# tests/user/user.mk's rules, listed here so that fragment stays untouched).
NET_TEST_VUSER := $(O)/tests/user/vuser_net_switch_test
INTEGRATION_TESTS += $(NET_TEST_VUSER)
PROGS += $(NET_TEST_VUSER)

$(NET_TEST_UNIT): $(PVIOD_OBJS) $(TEST_LIB)
$(NET_TEST_UNIT): TEST_LDLIBS := $(PVIOD_LIBS)

# SEND_RARP (the announce after a migration): raw front-ends on a loop device
# and three ports of one switch; QEMU sending it (QMP announce-self).
ANNOUNCE_TEST := $(BACKEND_TEST_DIR)/net_announce_test
INTEGRATION_TESTS += $(ANNOUNCE_TEST) tests/backend/net_announce_qemu.sh
PROGS += $(ANNOUNCE_TEST)

$(ANNOUNCE_TEST): $(TEST_LIB) | $(O)/pviod

# The loop back-end's fast path in one process, driven by the ring's driver
# side shaped like DPDK's virtio_user: a unit test (every frame back, in
# order, intact; split and packed, with and without IN_ORDER), and with
# arguments the harness for instruction counts per frame (see its header).
NET_LOOP_COST := $(BACKEND_TEST_DIR)/net_loop_cost
UNIT_TESTS += $(NET_LOOP_COST)
PROGS += $(NET_LOOP_COST)
$(NET_LOOP_COST): $(PVIOD_OBJS) $(TEST_LIB) $(O)/ring/pvring_drv.o
$(NET_LOOP_COST): TEST_LDLIBS := $(PVIOD_LIBS)
