# SPDX-License-Identifier: GPL-2.0
#
# tests/backend/net_filter_race_test: pviod's receive filter reprogrammed by
# one thread while others decide on frames with it, as the control queue's
# worker and the pairs' workers do; a unit test, so it also runs under
# `make SAN=tsan` (scripts/check.sh's san phase), where ThreadSanitizer
# checks the filter's lock-free reads.  Built like tests/backend/backend.mk's
# unit tests, with pviod's objects.

NET_FILTER_RACE_TEST := $(O)/tests/backend/net_filter_race_test

UNIT_TESTS += $(NET_FILTER_RACE_TEST)
PROGS += $(NET_FILTER_RACE_TEST)

$(NET_FILTER_RACE_TEST): $(PVIOD_OBJS) $(TEST_LIB)
$(NET_FILTER_RACE_TEST): TEST_LDLIBS := $(PVIOD_LIBS)
