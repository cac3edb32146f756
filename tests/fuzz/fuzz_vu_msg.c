// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_vu_msg - libFuzzer target: pviod's vhost-user message reception,
 * central check and dispatch, and what the messages start, on a real device
 * with the real workers: a virtio-blk device (a 1 MiB temporary image, two
 * queues), a virtio-net device (the loop back-end, two queue pairs and the
 * control queue: SEND_RARP, the control commands, rx and tx) or
 * a console (two ports, MULTIPORT's control queues).
 *
 * The input is a byte choosing the device (taken modulo 3: blk, net,
 * console), then a stream of messages, each:
 *   u8   fd spec: bits 0-3 how many fds to pass (0..10; more than the 8 the
 *        protocol allows are cut by the kernel and must be refused), bit 4
 *        eventfds instead of memfds, bit 5 small memfds (4 KiB, not 64 KiB),
 *        bit 6 write 1 to every eventfd passed (a kick), bit 7 the memfds'
 *        contents follow: u16 length, then that many bytes written at the
 *        start of each (rings, descriptors and requests the workers serve)
 *   12   the vhost-user header as it goes on the wire (request, flags, size)
 *   size payload bytes; when the input ends first, what is left is sent and
 *        the peer shuts its side down (a peer that disconnects mid-message)
 *
 * Each message goes through a socketpair into vu_conn_handle(), replies
 * are drained; when pviod asks to close the connection the session is reset
 * as the event loop would, and the input ends.  After every input the session
 * is reset and no fd may be left open (the lowest free fd number is the same
 * as before the input) (pviod must close or keep every fd it
 * is passed, and drop the ones it kept at reset).  FUZZ_VU_COUNT=1 prints how
 * many inputs each device ran at exit.
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

static struct pviod_device *fuzz_dev[3];
static unsigned long long fuzz_dev_runs[3];

static void fuzz_count_print(void)
{
	fprintf(stderr, "fuzz_vu_msg: inputs blk %llu net %llu console %llu\n", fuzz_dev_runs[0],
		fuzz_dev_runs[1], fuzz_dev_runs[2]);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_dev[FUZZ_VU_BLK] = fuzz_vu_create(FUZZ_VU_BLK, "queues=2,direct=off,serial=fuzz");
	fuzz_dev[FUZZ_VU_NET] = fuzz_vu_create(FUZZ_VU_NET, "queues=2,mtu=1500");
	fuzz_dev[FUZZ_VU_CONSOLE] = fuzz_vu_create(FUZZ_VU_CONSOLE, "ports=2,names=a:b");
	if (getenv("FUZZ_VU_COUNT"))
		atexit(fuzz_count_print);
	return 0;
}

/* An fd of the kind @spec says; a memfd starts with @fill (@nfill bytes). */
static int fuzz_fd_make(uint8_t spec, const uint8_t *fill, size_t nfill)
{
	size_t size = (spec & 0x20) ? 4096 : 65536;
	int fd;

	if (spec & 0x10) {
		fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (fd >= 0 && (spec & 0x40))
			eventfd_write(fd, 1);
		return fd;
	}
	fd = memfd_create("fuzz-guest", MFD_CLOEXEC);
	if (fd >= 0 && (ftruncate(fd, (off_t)size) ||
			(nfill && pwrite(fd, fill, nfill < size ? nfill : size, 0) < 0))) {
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
	struct pviod_device *dev;
	int sv[2], floor;
	size_t pos = 1;

	if (!size)
		return 0;
	dev = fuzz_dev[data[0] % 3];
	fuzz_dev_runs[data[0] % 3]++;
	floor = fuzz_fd_lowest();
	fuzz_vu_conn_open(dev, sv);

	while (size - pos >= 1 + sizeof(struct vhost_user_hdr)) {
		uint8_t spec = data[pos++];
		unsigned int nfds = spec & 0xf, i;
		int fds[FUZZ_FDS_MAX];
		struct vhost_user_hdr hdr;
		const uint8_t *fill = NULL;
		size_t len, have, nfill = 0;
		bool cut = false;
		char buf[sizeof(struct vhost_user_msg)];

		if (nfds > FUZZ_FDS_MAX)
			nfds = FUZZ_FDS_MAX;
		if (spec & 0x80) {
			if (size - pos < 2)
				break;
			nfill = data[pos] | (size_t)data[pos + 1] << 8;
			pos += 2;
			if (nfill > size - pos)
				nfill = size - pos;
			fill = data + pos;
			pos += nfill;
			if (size - pos < sizeof(struct vhost_user_hdr))
				break;
		}
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
			fds[i] = fuzz_fd_make(spec, fill, nfill);
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
