// SPDX-License-Identifier: GPL-2.0
/*
 * vuser_fault_test - the driver against back-ends that misbehave.
 *
 * A fake back-end runs as a thread of the test: it listens on a socket,
 * accepts the driver, and then closes mid-negotiation, stays silent, answers
 * with the wrong size, request code or flags, or completes the handshake and
 * then breaks the ring, stalls the I/O or hangs up with I/O in flight.  The
 * driver must return a clear error within its timeout every time, and never
 * hang (the harness's per-test timeout is the backstop).
 */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/eventfd.h>

#include "kselftest_harness.h"
#include "vuser.h"
#include "pvtest.h"

#define TIMEOUT_MS 500

enum fake_mode {
	FAKE_CLOSE_EARLY, /* close after reading GET_FEATURES */
	FAKE_SILENT, /* read everything, answer nothing */
	FAKE_WRONG_SIZE, /* GET_FEATURES reply with a 4-byte payload */
	FAKE_WRONG_CODE, /* GET_FEATURES reply carrying SET_FEATURES */
	FAKE_NO_REPLY_FLAG, /* GET_FEATURES reply without FLAG_REPLY */
	FAKE_NACK, /* REPLY_ACK negotiated, then SET_FEATURES rejected */
	FAKE_BROKEN_RING, /* handshake, then used->idx jumps past the ring */
	FAKE_BAD_ID, /* handshake, then a used id that was never offered */
	FAKE_STALL_IO, /* handshake, then never complete anything */
	FAKE_CLOSE_IO, /* handshake, then hang up on the first kick */
};

struct fake {
	enum fake_mode mode;
	int lsock;
	int csock;
	pthread_t tid;
	struct pvring_used *used; /* the driver's used ring (same process) */
	unsigned int num;
	int kick_fd, call_fd;
	atomic_bool stop; /* set by the test, polled by the fake */
};

static int fake_recv(struct fake *f, struct vhost_user_msg *m, int *fds, unsigned int *nfds)
{
	if (pvt_fd_recv(f->csock, &m->hdr, sizeof(m->hdr), fds, VHOST_USER_MAX_FDS, nfds))
		return -1;
	if (m->hdr.size > VHOST_USER_PAYLOAD_MAX)
		return -1;
	if (m->hdr.size &&
	    recv(f->csock, &m->payload, m->hdr.size, MSG_WAITALL) != (ssize_t)m->hdr.size)
		return -1;
	return 0;
}

static void fake_reply_u64(struct fake *f, unsigned int req, uint32_t flags, uint32_t size,
			   uint64_t val)
{
	struct vhost_user_msg m = { .hdr = { .request = req, .flags = flags, .size = size } };

	m.payload.u64 = val;
	if (send(f->csock, &m, sizeof(m.hdr) + size, MSG_NOSIGNAL) < 0)
		return;
}

static void *fake_run(void *arg)
{
	struct fake *f = arg;
	const uint32_t reply = VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY;
	struct vhost_user_msg m;
	int fds[VHOST_USER_MAX_FDS];
	unsigned int nfds, i;
	uint64_t features = PVIO_BIT(PVIO_F_VERSION_1);

	if (f->mode == FAKE_NACK)
		features |= PVIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES);
	f->csock = accept(f->lsock, NULL, NULL);
	if (f->csock < 0)
		return NULL;
	while (!atomic_load_explicit(&f->stop, memory_order_relaxed) &&
	       fake_recv(f, &m, fds, &nfds) == 0) {
		unsigned int req = m.hdr.request;
		bool ack = m.hdr.flags & VHOST_USER_FLAG_NEED_REPLY;

		if (req == VHOST_USER_SET_VRING_ADDR) {
			f->used = (struct pvring_used *)(uintptr_t)m.payload.addr.used_user_addr;
		} else if (req == VHOST_USER_SET_VRING_NUM) {
			f->num = m.payload.state.num;
		} else if (req == VHOST_USER_SET_VRING_KICK && nfds) {
			__atomic_store_n(&f->kick_fd, fds[0], __ATOMIC_RELEASE);
			nfds = 0;
		} else if (req == VHOST_USER_SET_VRING_CALL && nfds) {
			__atomic_store_n(&f->call_fd, fds[0], __ATOMIC_RELEASE);
			nfds = 0;
		}
		for (i = 0; i < nfds; i++)
			close(fds[i]);

		if (f->mode == FAKE_SILENT)
			continue;
		if (req == VHOST_USER_GET_FEATURES) {
			switch (f->mode) {
			case FAKE_CLOSE_EARLY:
				close(f->csock);
				f->csock = -1;
				return NULL;
			case FAKE_WRONG_SIZE:
				fake_reply_u64(f, req, reply, 4, features);
				continue;
			case FAKE_WRONG_CODE:
				fake_reply_u64(f, VHOST_USER_SET_FEATURES, reply, 8, features);
				continue;
			case FAKE_NO_REPLY_FLAG:
				fake_reply_u64(f, req, VHOST_USER_VERSION, 8, features);
				continue;
			default:
				fake_reply_u64(f, req, reply, 8, features);
				continue;
			}
		}
		if (req == VHOST_USER_GET_PROTOCOL_FEATURES) {
			fake_reply_u64(f, req, reply, 8, PVIO_BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK));
			continue;
		}
		if (ack)
			fake_reply_u64(f, req, reply, 8,
				       f->mode == FAKE_NACK && req == VHOST_USER_SET_FEATURES);
	}
	return NULL;
}

/* After the handshake: wait for the first kick, then do the mode's damage. */
static void fake_misbehave(struct fake *f)
{
	uint64_t v = 1;
	struct pollfd pfd = { .events = POLLIN };
	long deadline = pvt_ms() + 5000;

	/* Without REPLY_ACK the driver does not wait for us to take the fds. */
	while ((__atomic_load_n(&f->kick_fd, __ATOMIC_ACQUIRE) < 0 ||
		__atomic_load_n(&f->call_fd, __ATOMIC_ACQUIRE) < 0) &&
	       pvt_ms() < deadline)
		usleep(1000);
	pfd.fd = f->kick_fd;
	if (poll(&pfd, 1, 5000) <= 0)
		return;
	switch (f->mode) {
	case FAKE_BROKEN_RING:
		__atomic_store_n(&f->used->idx, (uint16_t)(f->num + 5), __ATOMIC_RELEASE);
		break;
	case FAKE_BAD_ID:
		f->used->ring[0].id = f->num + 3;
		f->used->ring[0].len = 1;
		__atomic_store_n(&f->used->idx, 1, __ATOMIC_RELEASE);
		break;
	case FAKE_CLOSE_IO:
		shutdown(f->csock, SHUT_RDWR);
		return;
	default:
		return;
	}
	if (write(f->call_fd, &v, sizeof(v)) < 0)
		return;
}

FIXTURE(fault)
{
	char path[108];
	struct fake fake;
	struct vuser_blk blk;
};

FIXTURE_VARIANT(fault)
{
	enum fake_mode mode;
	int want; /* the error vuser_blk_open / the I/O must return */
	bool during_io; /* the failure comes after a successful open */
	const char *msg; /* a word the error message must contain */
};

/* clang-format would glue the brace to the macro, which checkpatch rejects. */
/* clang-format off */
FIXTURE_VARIANT_ADD(fault, close_mid_negotiation) {
	.mode = FAKE_CLOSE_EARLY, .want = -ECONNRESET, .msg = "closed" };
FIXTURE_VARIANT_ADD(fault, silent) { .mode = FAKE_SILENT, .want = -ETIMEDOUT, .msg = "no reply" };
FIXTURE_VARIANT_ADD(fault, wrong_size) {
	.mode = FAKE_WRONG_SIZE, .want = -EPROTO, .msg = "payload bytes" };
FIXTURE_VARIANT_ADD(fault, wrong_request_code) {
	.mode = FAKE_WRONG_CODE, .want = -EPROTO, .msg = "request code" };
FIXTURE_VARIANT_ADD(fault, no_reply_flag) { .mode = FAKE_NO_REPLY_FLAG, .want = -EPROTO,
					    .msg = "flags" };
FIXTURE_VARIANT_ADD(fault, nack) { .mode = FAKE_NACK, .want = -EIO, .msg = "rejected" };
FIXTURE_VARIANT_ADD(fault, broken_used_idx) {
	.mode = FAKE_BROKEN_RING, .want = -EIO, .during_io = true, .msg = "broke" };
FIXTURE_VARIANT_ADD(fault, bad_used_id) {
	.mode = FAKE_BAD_ID, .want = -EIO, .during_io = true, .msg = "broke" };
FIXTURE_VARIANT_ADD(fault, io_never_completes) {
	.mode = FAKE_STALL_IO, .want = -ETIMEDOUT, .during_io = true, .msg = "not completed" };
FIXTURE_VARIANT_ADD(fault, hangup_with_io_in_flight) {
	.mode = FAKE_CLOSE_IO, .want = -ECONNRESET, .during_io = true, .msg = "closed" };
/* clang-format on */

FIXTURE_SETUP(fault)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(self->path, sizeof(self->path), "/tmp/pvio-vu-fault.%d.sock", getpid());
	unlink(self->path);
	memcpy(sa.sun_path, self->path, strlen(self->path) + 1);
	self->fake =
		(struct fake){ .mode = variant->mode, .csock = -1, .kick_fd = -1, .call_fd = -1 };
	self->fake.lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, self->fake.lsock);
	ASSERT_EQ(0, bind(self->fake.lsock, (struct sockaddr *)&sa, sizeof(sa)));
	ASSERT_EQ(0, listen(self->fake.lsock, 1));
	ASSERT_EQ(0, pthread_create(&self->fake.tid, NULL, fake_run, &self->fake));
}

FIXTURE_TEARDOWN(fault)
{
	/* The process exits right after; the fake's thread and fds go with it. */
	unlink(self->path);
}

TEST_F(fault, clear_error_in_bounded_time)
{
	struct vuser_blk_opts o = { .socket_path = self->path,
				    .depth = 4,
				    .buf_bytes = 1 << 20,
				    .timeout_ms = TIMEOUT_MS,
				    .no_indirect = true };
	struct vuser_blk_req *done, *req;
	uint8_t *buf;
	const char *emsg = vuser_dev_errmsg(&self->blk.dev); /* the device's buffer: the latest */
	long t0 = pvt_ms(), elapsed;
	int r;

	r = vuser_blk_open(&self->blk, &o);
	if (variant->during_io) {
		ASSERT_EQ(0, r) TH_LOG("%s", vuser_dev_errmsg(&self->blk.dev));
		buf = vuser_blk_alloc(&self->blk, 4096);
		ASSERT_NE(NULL, buf);
		req = vuser_blk_req_get(&self->blk, 0);
		req->type = PVIO_BLK_T_IN;
		req->offset = 0;
		req->buf = buf;
		req->len = 4096;
		ASSERT_EQ(0, vuser_blk_submit(&self->blk, 0, req));
		vuser_blk_kick(&self->blk, 0);
		t0 = pvt_ms();
		/* The fake sees the kick and does its damage before we wait. */
		fake_misbehave(&self->fake);
		r = vuser_blk_wait(&self->blk, 0, &done, 1, -1);
		/* One retry: the damage may land just after the first look. */
		if (r == -ETIMEDOUT && variant->want != -ETIMEDOUT)
			r = vuser_blk_wait(&self->blk, 0, &done, 1, -1);
	}
	elapsed = pvt_ms() - t0;
	EXPECT_EQ(variant->want, r) TH_LOG("got %d (%s): %s", r, strerror(-r), emsg);
	EXPECT_NE(NULL, strstr(emsg, variant->msg)) TH_LOG("'%s' lacks '%s'", emsg, variant->msg);
	EXPECT_GT(3 * TIMEOUT_MS, elapsed) TH_LOG("took %ld ms", elapsed);
	TH_LOG("%ld ms: %s", elapsed, vuser_dev_errmsg(&self->blk.dev));
	if (variant->during_io)
		vuser_blk_close(&self->blk);
	atomic_store_explicit(&self->fake.stop, true, memory_order_relaxed);
}

TEST(connect_refused)
{
	struct vuser_blk_opts o = { .socket_path = "/nonexistent/pvio.sock", .timeout_ms = 100 };
	struct vuser_blk blk;

	EXPECT_EQ(-ENOENT, vuser_blk_open(&blk, &o));
	EXPECT_NE(NULL, strstr(vuser_dev_errmsg(&blk.dev), "cannot connect"));
}

TEST_HARNESS_MAIN
