# SPDX-License-Identifier: GPL-2.0
#
# tests/badinput: hostile front-ends against a running pviod, both through
# the raw vhost-user front-end of tests/lib/raw.c (descriptor tables and
# avail rings written by hand):
#   badinput  three disks (one abused, one witness driven through
#             frontend/virtio-user, one read-only); see the header of
#             badinput.c.  Its parts (badinput.h): the disk set-up and chains
#             (badinput_drv.c) and the attacks on the ring, on messages and
#             the connection, on block requests (badinput_ring.c,
#             badinput_msg.c, badinput_blk.c).  Each attack runs
#             BADINPUT_REPEAT times (100 in `make check`, 1000 in
#             `make fuzz`), pviod's fds and RSS checked after
#   badnet    two loop net devices (one abused, one witness); see the
#             header of badnet.c.  Each case runs BADNET_REPEAT times (10
#             in `make check`, 1000 in `make fuzz`), pviod's fds and RSS
#             checked after.  Its parts (badnet.h): the hostile driver
#             (badnet_drv.c) and the transmit, both-ring and receive cases
#             (badnet_tx.c, badnet_ring.c, badnet_rx.c)

BADINPUT := $(O)/tests/badinput/badinput
BADNET := $(O)/tests/badinput/badnet

$(O)/tests/badinput/%.o: TEST_INCLUDES := -I$(CURDIR)/frontend/virtio-user

# Built by tests/tests.mk's rules; pviod is what they run: built with them.
$(BADINPUT): $(addprefix $(O)/tests/badinput/,badinput_drv.o badinput_ring.o badinput_msg.o \
	badinput_blk.o) $(VUSER_LIB) $(TEST_LIB) | $(O)/pviod
$(BADNET): $(addprefix $(O)/tests/badinput/,badnet_drv.o badnet_tx.o badnet_ring.o badnet_rx.o) \
	$(VUSER_LIB) $(TEST_LIB) | $(O)/pviod

PROGS += $(BADINPUT) $(BADNET)
INTEGRATION_TESTS += $(BADINPUT) $(BADNET)

# The long runs: every attack 1000 times.
.PHONY: fuzz-badinput fuzz-badnet
fuzz: fuzz-badinput fuzz-badnet
fuzz-badinput: $(BADINPUT)
	BADINPUT_REPEAT=1000 $(BADINPUT)
fuzz-badnet: $(BADNET)
	BADNET_REPEAT=1000 $(BADNET)
