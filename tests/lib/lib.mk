# SPDX-License-Identifier: GPL-2.0
#
# tests/lib: libpvtest.a, what several tests share (pvtest.h):
#
#   proc.c    the processes a test runs as its peers: spawned to die with
#             the test, their sockets waited for, stopped and reaped
#   pviod.c   pviod among them: which binary, its sockets, its exit status
#   fd.c      file descriptors over a unix socket (SCM_RIGHTS)
#   frame.c   frames: byte order, the reference Internet checksum, the TCP
#             pseudo header, Ethernet headers
#   raw.c     the raw vhost-user front-end of the bad-input tests (raw.h)
#   blk_io.c  a thread of the userspace driver keeping a disk busy with
#             verified I/O (its users link $(VUSER_LIB) too)
#   dir.c     a test's temporary directory: disk images made in it, and
#             the whole removed (rm -rf without a shell)
#
# and the shell tests' library: tap.sh (TAP output), lib.sh (tap.sh, the
# checks that SKIP a test, a temp dir and exit trap, pviod started and
# stopped); for the storage tests blk.sh (one blk device driven by
# pvio-bench, start-up refusals), nbd.sh (nbdkit servers) and ceph.sh (a
# throwaway cluster); for the net VM tests netns.sh (a network namespace
# of the test's own); tcp_sink.py, the host's end of the VM tests' TCP
# uploads.
#
# Built per $(O) with the tests' flags (sanitizers included); a fragment
# whose programs use it names $(TEST_LIB) (tests/tests.mk) among their
# prerequisites.

TEST_LIB_OBJS := $(addprefix $(O)/tests/lib/,proc.o pviod.o fd.o frame.o raw.o blk_io.o dir.o)

$(O)/tests/lib/blk_io.o: TEST_INCLUDES := -I$(CURDIR)/frontend/virtio-user

$(TEST_LIB): $(TEST_LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^
