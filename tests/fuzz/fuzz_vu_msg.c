// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_vu_msg - libFuzzer target: pviod's vhost-user message reception,
 * central check and dispatch, on a real virtio-blk device (a 1 MiB temporary
 * image, two queues) with the real workers.
 *
 * The input is a stream of messages, each:
 *   u8   fd spec: bits 0-3 how many fds to pass (0..10; more than the 8 the
 *        protocol allows are cut by the kernel and must be refused), bit 4
 *        eventfds instead of memfds, bit 5 small memfds (4 KiB, not 64 KiB),
 *        bit 6 write 1 to every eventfd passed (a kick)
 *   12   the vhost-user header as it goes on the wire (request, flags, size)
 *   size payload bytes; when the input ends first, what is left is sent and
 *        the peer shuts its side down (a peer that disconnects mid-message)
 *
 * Each message goes through a socketpair into vu_conn_handle(), replies
 * are drained; when pviod asks to close the connection the session is reset
 * as the event loop would, and the input ends.  After every input the session
 * is reset and no fd may be left open (the lowest free fd number is the same
 * as before the input) (pviod must close or keep every fd it
 * is passed, and drop the ones it kept at reset).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "blk/blk.h"
#include "vhost-user/msg.h"
#include "vhost-user/socket.h"

#include "fuzz_vu.h"
#include "tests/lib/pvtest.h"

#define FUZZ_FDS_MAX 10

static struct pviod_device *fuzz_dev;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_dev = fuzz_vu_blk_create("queues=2,direct=off,serial=fuzz");
	return 0;
}

static int fuzz_fd_make(uint8_t spec)
{
	int fd;

	if (spec & 0x10) {
		fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (fd >= 0 && (spec & 0x40))
			eventfd_write(fd, 1);
		return fd;
	}
	fd = memfd_create("fuzz-guest", MFD_CLOEXEC);
	if (fd >= 0 && ftruncate(fd, (spec & 0x20) ? 4096 : 65536)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void fuzz_drain(int s)
{
	char buf[8192];

	while (recv(s, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pviod_device *dev = fuzz_dev;
	int sv[2], floor = fuzz_fd_lowest();
	size_t pos = 0;

	fuzz_vu_conn_open(dev, sv);

	while (size - pos >= 1 + sizeof(struct vhost_user_hdr)) {
		uint8_t spec = data[pos++];
		unsigned int nfds = spec & 0xf, i;
		int fds[FUZZ_FDS_MAX];
		struct vhost_user_hdr hdr;
		size_t len, have;
		bool cut = false;
		char buf[sizeof(struct vhost_user_msg)];

		if (nfds > FUZZ_FDS_MAX)
			nfds = FUZZ_FDS_MAX;
		memcpy(&hdr, data + pos, sizeof(hdr));
		have = size - pos;
		len = sizeof(hdr) + (hdr.size <= VHOST_USER_PAYLOAD_MAX ? hdr.size : 0);
		if (len > have) {
			len = have;
			cut = true;
		}
		memcpy(buf, data + pos, len);
		pos += len;
		for (i = 0; i < nfds; i++) {
			fds[i] = fuzz_fd_make(spec);
			if (fds[i] < 0)
				abort();
		}
		if (pvt_fd_send_flags(sv[1], buf, len, fds, nfds, MSG_DONTWAIT))
			abort();
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		if (cut)
			shutdown(sv[1], SHUT_WR);
		if (vu_conn_handle(dev->vu))
			break;
		fuzz_drain(sv[1]);
		if (cut)
			break;
	}
	fuzz_vu_conn_close(dev, sv);
	fuzz_fd_check(floor);
	return 0;
}
