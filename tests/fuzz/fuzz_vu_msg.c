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
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "blk/blk.h"
#include "core/worker.h"
#include "vhost-user/msg.h"
#include "vhost-user/socket.h"

#define FUZZ_FDS_MAX 10

static struct pviod_workers fuzz_workers;
static struct pviod_env fuzz_env;
static struct pviod_device *fuzz_dev;

/* The lowest free fd number: it rises when an fd leaks. */
static int fuzz_fd_lowest(void)
{
	int fd = dup(0);

	if (fd >= 0)
		close(fd);
	return fd;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct pviod_worker_config wc = { .nworkers = 1 };
	char dir[] = "/tmp/pvio-fuzz.XXXXXX", img[64], opts[256];
	int fd;

	pviod_log_level = getenv("FUZZ_VU_LOG") ? PVIOD_LOG_DEBUG : PVIOD_LOG_ERR - 1;
	if (!mkdtemp(dir))
		abort();
	snprintf(img, sizeof(img), "%s/img", dir);
	fd = open(img, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, 1 << 20))
		abort();
	close(fd);
	if (pviod_workers_start(&fuzz_workers, &wc))
		abort();
	/* No control loop: each message is handed to vu_conn_handle(). */
	fuzz_env.workers = &fuzz_workers;
	snprintf(opts, sizeof(opts), "socket=%s/s,file=%s,queues=2,direct=off,serial=fuzz", dir,
		 img);
	if (pviod_blk_create(&fuzz_env, "blk0", opts, &fuzz_dev) || vu_dev_new(fuzz_dev))
		abort();
	/* The image stays open; its name and directory are not needed any more. */
	unlink(img);
	rmdir(dir);
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

/* Send header + payload with @nfds fds on the first byte. */
static int fuzz_send(int s, const void *buf, size_t len, const int *fds, unsigned int nfds)
{
	char control[CMSG_SPACE(FUZZ_FDS_MAX * sizeof(int))];
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cmsg;

	if (nfds) {
		memset(control, 0, sizeof(control));
		mh.msg_control = control;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cmsg = CMSG_FIRSTHDR(&mh);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cmsg), fds, nfds * sizeof(int));
	}
	return sendmsg(s, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)len ? 0 : -1;
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
	int sv[2], fd, floor = fuzz_fd_lowest();
	size_t pos = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		abort();
	dev->vu->conn_fd = sv[0];

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
		if (fuzz_send(sv[1], buf, len, fds, nfds))
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
	/* What vu_conn_close() does, minus the event loop. */
	vu_session_reset(dev->vu);
	dev->vu->conn_fd = -1;
	close(sv[0]);
	close(sv[1]);
	fd = fuzz_fd_lowest();
	if (fd != floor) {
		fprintf(stderr, "fd leak: lowest free fd %d, was %d\n", fd, floor);
		abort();
	}
	return 0;
}
