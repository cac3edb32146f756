// SPDX-License-Identifier: GPL-2.0
/*
 * raw.c - the raw vhost-user front-end of the bad-input tests (see raw.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "pvtest.h"
#include "raw.h"

unsigned int raw_inputs;

/**
 * raw_init - an unconnected front-end, every fd closed
 * @r: the front-end
 */
void raw_init(struct raw *r)
{
	unsigned int i;

	memset(r, 0, sizeof(*r));
	r->sock = -1;
	r->memfd = -1;
	for (i = 0; i < RAW_VQ_MAX; i++) {
		r->vq[i].kick = -1;
		r->vq[i].call = -1;
		r->vq[i].err = -1;
	}
}

/**
 * raw_connect - connect to a vhost-user socket
 * @r: the front-end, initialised here
 * @path: the socket
 *
 * pviod serves one front-end per device: this waits (up to 2 s) until the
 * last one's reset lets a new connection in.
 *
 * Return: 0 or -errno.
 */
int raw_connect(struct raw *r, const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int i;

	raw_init(r);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	for (i = 0; i < 200; i++) {
		r->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (connect(r->sock, (struct sockaddr *)&sun, sizeof(sun)) == 0)
			return 0;
		close(r->sock);
		r->sock = -1;
		usleep(10000);
	}
	return -errno;
}

static void raw_close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/**
 * raw_close - disconnect and free everything
 * @r: the front-end (initialised)
 */
void raw_close(struct raw *r)
{
	unsigned int i;

	raw_close_fd(&r->sock);
	if (r->mem)
		munmap(r->mem, r->mem_size);
	r->mem = NULL;
	raw_close_fd(&r->memfd);
	for (i = 0; i < RAW_VQ_MAX; i++) {
		raw_close_fd(&r->vq[i].kick);
		raw_close_fd(&r->vq[i].call);
		raw_close_fd(&r->vq[i].err);
	}
}

/**
 * raw_send_bytes - send bytes as they are, with file descriptors
 * @r: the front-end
 * @buf: the bytes
 * @len: how many
 * @fds: sent with SCM_RIGHTS (at most PVT_FD_MAX)
 * @nfds: how many
 *
 * Return: 0 or -errno.
 */
int raw_send_bytes(struct raw *r, const void *buf, size_t len, const int *fds, unsigned int nfds)
{
	raw_inputs++;
	return pvt_fd_send(r->sock, buf, len, fds, nfds);
}

/**
 * raw_send - send one vhost-user message
 * @r: the front-end
 * @req: VHOST_USER_*
 * @flags: added to the version (VHOST_USER_FLAG_NEED_REPLY)
 * @payload: @size bytes
 * @size: the header's size field, and the bytes sent after it
 * @fds: sent with it
 * @nfds: how many
 *
 * Return: 0 or -errno.
 */
int raw_send(struct raw *r, uint32_t req, uint32_t flags, const void *payload, uint32_t size,
	     const int *fds, unsigned int nfds)
{
	struct vhost_user_msg m;

	memset(&m, 0, sizeof(m));
	m.hdr.request = req;
	m.hdr.flags = VHOST_USER_VERSION | flags;
	m.hdr.size = size;
	if (size)
		memcpy(&m.payload, payload, size);
	return raw_send_bytes(r, &m, sizeof(m.hdr) + size, fds, nfds);
}

/**
 * raw_recv - one reply
 * @r: the front-end
 * @m: the reply
 *
 * Return: 0, -ECONNRESET when pviod closed the connection, -ETIMEDOUT,
 * -EPROTO for a malformed reply.
 */
int raw_recv(struct raw *r, struct vhost_user_msg *m)
{
	struct pollfd pfd = { .fd = r->sock, .events = POLLIN };
	ssize_t n;

	if (poll(&pfd, 1, RAW_WAIT_MS) != 1)
		return -ETIMEDOUT;
	n = recv(r->sock, &m->hdr, sizeof(m->hdr), MSG_WAITALL);
	if (n <= 0)
		return -ECONNRESET;
	if (n != sizeof(m->hdr) || m->hdr.size > VHOST_USER_PAYLOAD_MAX)
		return -EPROTO;
	if (m->hdr.size && recv(r->sock, &m->payload, m->hdr.size, MSG_WAITALL) != m->hdr.size)
		return -ECONNRESET;
	return 0;
}

/**
 * raw_ack - send with NEED_REPLY and read the REPLY_ACK
 * @r: the front-end
 * @req: as for raw_send()
 * @payload: as for raw_send()
 * @size: as for raw_send()
 * @fds: as for raw_send()
 * @nfds: as for raw_send()
 *
 * Return: the acked value (0 or a positive errno), or -errno.
 */
long raw_ack(struct raw *r, uint32_t req, const void *payload, uint32_t size, const int *fds,
	     unsigned int nfds)
{
	struct vhost_user_msg m;
	uint64_t v;
	int ret;

	ret = raw_send(r, req, VHOST_USER_FLAG_NEED_REPLY, payload, size, fds, nfds);
	if (ret)
		return ret;
	ret = raw_recv(r, &m);
	if (ret)
		return ret;
	if (m.hdr.size != 8)
		return -EPROTO;
	memcpy(&v, &m.payload, 8);
	return (long)v;
}

/**
 * raw_get_u64 - a request answered with one u64 (GET_FEATURES, GET_STATUS)
 * @r: the front-end
 * @req: the request
 * @v: the answer
 *
 * Return: 0 or -errno.
 */
int raw_get_u64(struct raw *r, uint32_t req, uint64_t *v)
{
	struct vhost_user_msg m;
	int ret;

	ret = raw_send(r, req, 0, NULL, 0, NULL, 0);
	if (ret)
		return ret;
	ret = raw_recv(r, &m);
	if (ret)
		return ret;
	memcpy(v, &m.payload, 8);
	return m.hdr.size == 8 ? 0 : -EPROTO;
}

/**
 * raw_closed - has pviod closed the connection?
 * @r: the front-end
 *
 * Return: true when the next read sees EOF.
 */
bool raw_closed(struct raw *r)
{
	struct vhost_user_msg m;

	return raw_recv(r, &m) == -ECONNRESET;
}

/**
 * raw_negotiate - SET_PROTOCOL_FEATURES, then SET_FEATURES (acked)
 * @r: the front-end
 * @protocol_features: VHOST_USER_PROTOCOL_F_* bits (REPLY_ACK among them)
 * @features: device features, with VHOST_USER_F_PROTOCOL_FEATURES
 *
 * Return: 0, or -EPROTO when the features are refused.
 */
int raw_negotiate(struct raw *r, uint64_t protocol_features, uint64_t features)
{
	int ret;

	ret = raw_send(r, VHOST_USER_SET_PROTOCOL_FEATURES, 0, &protocol_features, 8, NULL, 0);
	if (ret)
		return ret;
	return raw_ack(r, VHOST_USER_SET_FEATURES, &features, 8, NULL, 0) ? -EPROTO : 0;
}

/**
 * raw_uva - our "front-end address" of a guest-physical address
 * @r: the front-end, after raw_mem()
 * @gpa: inside guest memory
 *
 * Return: the address pviod translates (SET_VRING_ADDR).
 */
uint64_t raw_uva(const struct raw *r, uint64_t gpa)
{
	uint64_t rsize = r->mem_size / r->nregions;

	return RAW_UVA + gpa + (gpa / rsize) * RAW_UVA_GAP;
}

/**
 * raw_mem - create guest memory and send it (SET_MEM_TABLE, acked)
 * @r: the front-end
 * @size: bytes of guest memory, a multiple of @nregions pages
 * @nregions: regions of equal size, adjacent in guest-physical space, all
 *            of the one memfd
 *
 * Return: 0 or -errno.
 */
int raw_mem(struct raw *r, size_t size, unsigned int nregions)
{
	struct vhost_user_memory t = { .nregions = nregions };
	int fds[VHOST_USER_MEM_REGIONS_MAX];
	uint64_t rsize = size / nregions;
	unsigned int i;

	r->memfd = memfd_create("raw-guest", MFD_CLOEXEC);
	if (r->memfd < 0 || ftruncate(r->memfd, (off_t)size))
		return -errno;
	r->mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, r->memfd, 0);
	if (r->mem == MAP_FAILED) {
		r->mem = NULL;
		return -errno;
	}
	r->mem_size = size;
	r->nregions = nregions;
	for (i = 0; i < nregions; i++) {
		t.regions[i] = (struct vhost_user_mem_region){ i * rsize, rsize,
							       raw_uva(r, i * rsize), i * rsize };
		fds[i] = r->memfd;
	}
	return raw_ack(r, VHOST_USER_SET_MEM_TABLE, &t, 8 + 32 * nregions, fds, nregions) ?
		       -EPROTO :
		       0;
}

/**
 * raw_vring - set up and enable one ring, with kick, call and err eventfds
 * @r: the front-end, after raw_mem()
 * @qi: the vring index
 * @num: its size
 * @base: where both indices start (SET_VRING_BASE, and avail->idx and
 *        used->idx in memory): near 65535 to make them wrap
 * @desc_gpa: where the descriptor table is
 * @avail_gpa: where the avail ring is
 * @used_gpa: where the used ring is
 *
 * Return: 0, or a negative number saying which step failed.
 */
int raw_vring(struct raw *r, unsigned int qi, unsigned int num, uint16_t base, uint64_t desc_gpa,
	      uint64_t avail_gpa, uint64_t used_gpa)
{
	struct raw_vq *q = &r->vq[qi];
	struct vhost_user_vring_state st = { qi, num };
	struct vhost_user_vring_addr a = {
		.index = qi,
		.desc_user_addr = raw_uva(r, desc_gpa),
		.used_user_addr = raw_uva(r, used_gpa),
		.avail_user_addr = raw_uva(r, avail_gpa),
	};
	uint64_t v = qi;

	q->desc = (void *)(r->mem + desc_gpa);
	q->avail = (void *)(r->mem + avail_gpa);
	q->used = (void *)(r->mem + used_gpa);
	q->num = num;
	q->avail_idx = base;
	q->avail->idx = cpu_to_le16(base);
	q->used->idx = cpu_to_le16(base);
	q->kick = eventfd(0, EFD_CLOEXEC);
	q->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	q->err = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->kick < 0 || q->call < 0 || q->err < 0)
		return -1;
	if (raw_ack(r, VHOST_USER_SET_VRING_NUM, &st, 8, NULL, 0))
		return -2;
	st.num = base;
	if (raw_ack(r, VHOST_USER_SET_VRING_BASE, &st, 8, NULL, 0) ||
	    raw_ack(r, VHOST_USER_SET_VRING_ADDR, &a, sizeof(a), NULL, 0) ||
	    raw_ack(r, VHOST_USER_SET_VRING_CALL, &v, 8, &q->call, 1) ||
	    raw_ack(r, VHOST_USER_SET_VRING_ERR, &v, 8, &q->err, 1) ||
	    raw_ack(r, VHOST_USER_SET_VRING_KICK, &v, 8, &q->kick, 1))
		return -3;
	st.num = 1;
	return raw_ack(r, VHOST_USER_SET_VRING_ENABLE, &st, 8, NULL, 0) ? -4 : 0;
}

/**
 * raw_desc_set - write one descriptor, as the driver would (little-endian)
 * @d: where
 * @addr: guest-physical address
 * @len: bytes
 * @flags: PVRING_DESC_F_*
 * @next: next index (with NEXT)
 */
void raw_desc_set(struct pvring_desc *d, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	d->addr = cpu_to_le64(addr);
	d->len = cpu_to_le32(len);
	d->flags = cpu_to_le16(flags);
	d->next = cpu_to_le16(next);
}

/**
 * raw_avail_add - put a head in the next avail slot; not yet published
 * @q: the ring
 * @head: any value (the test decides whether it is valid)
 */
void raw_avail_add(struct raw_vq *q, uint16_t head)
{
	q->avail->ring[q->avail_idx % q->num] = cpu_to_le16(head);
	q->avail_idx++;
	raw_inputs++;
}

/**
 * raw_avail_publish - store our avail index (release) for pviod to see
 * @q: the ring; its avail_idx may have been moved by hand
 */
void raw_avail_publish(struct raw_vq *q)
{
	pvring_store_release(&q->avail->idx, cpu_to_le16(q->avail_idx));
}

/**
 * raw_kick - notify pviod
 * @q: the ring
 */
void raw_kick(struct raw_vq *q)
{
	eventfd_write(q->kick, 1);
}

/**
 * raw_used_idx - the used index pviod published (acquire)
 * @q: the ring
 *
 * Return: used->idx.
 */
uint16_t raw_used_idx(const struct raw_vq *q)
{
	return le16_to_cpu(pvring_load_acquire(&q->used->idx));
}

/**
 * raw_used_wait - wait until used->idx is @n
 * @q: the ring
 * @n: the index to wait for
 *
 * Return: true when it got there within RAW_WAIT_MS.
 */
bool raw_used_wait(const struct raw_vq *q, uint16_t n)
{
	long t;

	for (t = 0; t < RAW_WAIT_MS; t += 1) {
		if (raw_used_idx(q) == n)
			return true;
		usleep(1000);
	}
	return false;
}

/**
 * raw_fired - did pviod signal an eventfd (call, err)?  Consumes the signal.
 * @fd: the eventfd (non-blocking)
 * @timeout_ms: how long to wait
 *
 * Return: true when it was signalled.
 */
bool raw_fired(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	eventfd_t v;

	if (poll(&pfd, 1, timeout_ms) != 1)
		return false;
	return eventfd_read(fd, &v) == 0;
}

/**
 * raw_needs_reset - does GET_STATUS report DEVICE_NEEDS_RESET?
 * @r: the front-end (with PROTOCOL_F_STATUS)
 *
 * Return: true when it does.
 */
bool raw_needs_reset(struct raw *r)
{
	uint64_t st = 0;

	return raw_get_u64(r, VHOST_USER_GET_STATUS, &st) == 0 &&
	       (st & PVIO_STATUS_DEVICE_NEEDS_RESET);
}
