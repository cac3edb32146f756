// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_inflight - libFuzzer target: crash recovery from an in-flight area a
 * front-end hands back (SET_INFLIGHT_FD after a pviod restart), on a real
 * virtio-blk device with the real workers.
 *
 * The area is the peer's memory: after a crash it holds whatever the dead
 * pviod (or a hostile front-end) left there.  The input is
 *   u8   log2 of the queue size (taken modulo 8, plus 1: 2..256 entries)
 *   u16  used->idx in the guest's used ring, and the SET_VRING_BASE value
 *   u16  avail->idx in the guest's avail ring
 *   then the queue's in-flight region (header and descriptor states), the
 *   descriptor table and the avail ring entries, in that order, each
 *   zero-filled where the input ends first.
 * The harness negotiates INFLIGHT_SHMFD, sends the guest memory (a memfd
 * with the rings), the area, the ring and its kick, so pviod recovers the
 * region and serves what it resubmits and what is available, then stops
 * the ring with GET_VRING_BASE.  Checked afterwards: nothing is left in
 * flight in the region, its used_idx is the used ring's, and no fd leaked
 * across the session's reset.
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
#include "pvring.h"
#include "vhost_user_inflight.h"
#include "vhost-user/msg.h"
#include "vhost-user/socket.h"
#include "virtio_config.h"

#define GUEST_SIZE (1u << 16)
#define DESC_GPA 0x0000
#define AVAIL_GPA 0x1000
#define USED_GPA 0x2000
#define GUEST_UVA 0x7f0000000000ull

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
	fuzz_env.workers = &fuzz_workers;
	snprintf(opts, sizeof(opts), "socket=%s/s,file=%s,queues=1,direct=off", dir, img);
	if (pviod_blk_create(&fuzz_env, "blk0", opts, &fuzz_dev) || vu_dev_new(fuzz_dev))
		abort();
	unlink(img);
	rmdir(dir);
	return 0;
}

/* One message with @nfds fds into pviod, its reply (if any) drained. */
static void fuzz_msg(int s, uint32_t req, const void *payload, uint32_t size, const int *fds,
		     unsigned int nfds)
{
	char control[CMSG_SPACE(sizeof(int))], buf[8192];
	struct vhost_user_msg m = { .hdr = { req, VHOST_USER_VERSION, size } };
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m.hdr) + size };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cmsg;

	if (size)
		memcpy(&m.payload, payload, size);
	if (nfds) {
		memset(control, 0, sizeof(control));
		mh.msg_control = control;
		mh.msg_controllen = CMSG_SPACE(sizeof(int));
		cmsg = CMSG_FIRSTHDR(&mh);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), fds, sizeof(int));
	}
	if (sendmsg(s, &mh, MSG_NOSIGNAL) != (ssize_t)iov.iov_len)
		abort();
	if (vu_conn_handle(fuzz_dev->vu))
		abort(); /* every message here is well-formed */
	while (recv(s, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

/* Copy up to @len input bytes to @dst, zero-filling the rest. */
static void fuzz_take(void *dst, size_t len, const uint8_t **data, size_t *size)
{
	size_t n = *size < len ? *size : len;

	memcpy(dst, *data, n);
	memset((uint8_t *)dst + n, 0, len - n);
	*data += n;
	*size -= n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vhost_user_memory table = { .nregions = 1 };
	struct vhost_user_inflight inf = { .num_queues = 1 };
	struct vhost_user_vring_state st = { 0 };
	struct vhost_user_vring_addr addr = { 0 };
	struct vhost_user_inflight_region *r;
	uint64_t f, area_size, u64;
	uint16_t num, used_idx, avail_idx, *avail, *used;
	int sv[2], mem_fd, area_fd, kick_fd, call_fd, floor = fuzz_fd_lowest();
	unsigned int i;
	uint8_t *mem;

	if (size < 5)
		return 0;
	num = (uint16_t)(2u << (data[0] % 8));
	memcpy(&used_idx, data + 1, 2);
	memcpy(&avail_idx, data + 3, 2);
	data += 5;
	size -= 5;

	/* Guest memory: the descriptor table, the avail ring, the used ring. */
	mem_fd = memfd_create("fuzz-guest", MFD_CLOEXEC);
	if (mem_fd < 0 || ftruncate(mem_fd, GUEST_SIZE))
		abort();
	mem = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, mem_fd, 0);
	if (mem == MAP_FAILED)
		abort();
	avail = (uint16_t *)(mem + AVAIL_GPA);
	used = (uint16_t *)(mem + USED_GPA);

	/* The area, as pviod's GET_INFLIGHT_FD lays it out, holding the input. */
	area_size = vhost_user_inflight_region_size(num);
	area_fd = memfd_create("fuzz-inflight", MFD_CLOEXEC);
	if (area_fd < 0 || ftruncate(area_fd, (off_t)area_size))
		abort();
	r = mmap(NULL, area_size, PROT_READ | PROT_WRITE, MAP_SHARED, area_fd, 0);
	if (r == MAP_FAILED)
		abort();
	fuzz_take(r, sizeof(*r) + num * sizeof(r->desc[0]), &data, &size);
	fuzz_take(mem + DESC_GPA, num * sizeof(struct pvring_desc), &data, &size);
	fuzz_take(avail + 2, num * sizeof(uint16_t), &data, &size);
	avail[1] = avail_idx;
	used[1] = used_idx;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		abort();
	fuzz_dev->vu->conn_fd = sv[0];
	f = PVIO_BIT(VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD);
	fuzz_msg(sv[1], VHOST_USER_SET_PROTOCOL_FEATURES, &f, 8, NULL, 0);
	f = PVIO_BIT(PVIO_F_VERSION_1) | PVIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES);
	fuzz_msg(sv[1], VHOST_USER_SET_FEATURES, &f, 8, NULL, 0);
	fuzz_msg(sv[1], VHOST_USER_SET_OWNER, NULL, 0, NULL, 0);
	table.regions[0] = (struct vhost_user_mem_region){ 0, GUEST_SIZE, GUEST_UVA, 0 };
	fuzz_msg(sv[1], VHOST_USER_SET_MEM_TABLE, &table, 8 + 32, &mem_fd, 1);
	inf.queue_size = num;
	inf.mmap_size = area_size;
	fuzz_msg(sv[1], VHOST_USER_SET_INFLIGHT_FD, &inf, sizeof(inf), &area_fd, 1);
	st.num = num;
	fuzz_msg(sv[1], VHOST_USER_SET_VRING_NUM, &st, sizeof(st), NULL, 0);
	st.num = used_idx;
	fuzz_msg(sv[1], VHOST_USER_SET_VRING_BASE, &st, sizeof(st), NULL, 0);
	addr.desc_user_addr = GUEST_UVA + DESC_GPA;
	addr.avail_user_addr = GUEST_UVA + AVAIL_GPA;
	addr.used_user_addr = GUEST_UVA + USED_GPA;
	fuzz_msg(sv[1], VHOST_USER_SET_VRING_ADDR, &addr, sizeof(addr), NULL, 0);
	call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	kick_fd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);
	if (call_fd < 0 || kick_fd < 0)
		abort();
	u64 = 0;
	fuzz_msg(sv[1], VHOST_USER_SET_VRING_CALL, &u64, 8, &call_fd, 1);
	fuzz_msg(sv[1], VHOST_USER_SET_VRING_KICK, &u64, 8, &kick_fd, 1);
	st.num = 1;
	fuzz_msg(sv[1], VHOST_USER_SET_VRING_ENABLE, &st, sizeof(st), NULL, 0);
	/* Stopping the ring completes everything it popped. */
	st.num = 0;
	fuzz_msg(sv[1], VHOST_USER_GET_VRING_BASE, &st, sizeof(st), NULL, 0);

	/* A region pviod adopted (version set) has nothing left in flight. */
	if (r->version == VHOST_USER_INFLIGHT_VERSION && r->desc_num == num) {
		for (i = 0; i < num; i++) {
			if (r->desc[i].inflight) {
				fprintf(stderr, "head %u still in flight after the ring stopped\n",
					i);
				abort();
			}
		}
		if (r->used_idx != used[1]) {
			fprintf(stderr, "region used_idx %u, used->idx %u\n", r->used_idx, used[1]);
			abort();
		}
	}

	vu_session_reset(fuzz_dev->vu);
	fuzz_dev->vu->conn_fd = -1;
	close(sv[0]);
	close(sv[1]);
	close(call_fd);
	close(kick_fd);
	munmap(r, area_size);
	munmap(mem, GUEST_SIZE);
	close(area_fd);
	close(mem_fd);
	if (fuzz_fd_lowest() != floor) {
		fprintf(stderr, "fd leak: lowest free fd %d, was %d\n", fuzz_fd_lowest(), floor);
		abort();
	}
	return 0;
}
