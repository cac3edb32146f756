// SPDX-License-Identifier: GPL-2.0
/*
 * vu_msg_test - pviod's vhost-user message handling, driven through a
 * socketpair: the test is the front-end, vu_conn_handle() the back-end
 * handling one message at a time.  The central check (sizes, fds, queue
 * index, unknown requests), REPLY_ACK without double replies, and a whole
 * session that maps memory, starts a ring and serves virtio-blk requests
 * from a memfd "guest" into a temporary image; the dirty log of blk with
 * both ring formats and of net receive (a net device with backend=loop in
 * the blk one's place).
 */
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "blk/blk.h"
#include "core/worker.h"
#include "net/net.h"
#include "vhost-user/msg.h"
#include "vhost-user/socket.h"
#include "pvtest.h"

#define GUEST_SIZE (1u << 20)
#define GUEST_UVA 0x7000000000ull /* the "front-end's" address of gpa 0 */
#define RING_NUM 16 /* each request takes 3 descriptors at 3 * its number */
#define DESC_GPA 0x0000
#define AVAIL_GPA 0x1000
#define USED_GPA 0x2000
#define BUF_GPA 0x10000

FIXTURE(vu)
{
	int sv[2];
	char dir[64];
	char img[96];
	struct pviod_workers workers;
	struct pviod_env env;
	struct pviod_device *dev;
};

FIXTURE_SETUP(vu)
{
	struct pviod_worker_config wc = { .nworkers = 1 };
	struct timeval tv = { .tv_sec = 2 };
	char opts[256];

	pviod_log_level = PVIOD_LOG_ERR - 1; /* quiet: errors are expected here */
	strcpy(self->dir, "/tmp/pviod-test.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->img, sizeof(self->img), "%s/img", self->dir);
	ASSERT_EQ(0, pvt_image_create(self->img, 1 << 20));
	ASSERT_EQ(0, pviod_workers_start(&self->workers, &wc));
	/* No control loop: the test hands each message to vu_conn_handle(). */
	self->env.workers = &self->workers;
	snprintf(opts, sizeof(opts), "socket=%s/s,file=%s,queues=2,direct=off,serial=unit",
		 self->dir, self->img);
	ASSERT_EQ(0, pviod_blk_create(&self->env, "blk0", opts, &self->dev));
	ASSERT_EQ(0, vu_dev_new(self->dev));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, self->sv));
	setsockopt(self->sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	self->dev->vu->conn_fd = self->sv[0];
}

FIXTURE_TEARDOWN(vu)
{
	vu_session_reset(self->dev->vu);
	self->dev->vu->conn_fd = -1; /* the test's, closed below */
	vu_dev_detach(self->dev);
	pviod_workers_stop(&self->workers);
	pviod_device_free(self->dev);
	close(self->sv[0]);
	close(self->sv[1]);
	if (pvt_rmtree(self->dir))
		TH_LOG("could not remove %s", self->dir);
}

/* Send one request and let pviod handle it; returns what the handling returned. */
static int xfer(struct __test_metadata *_metadata, FIXTURE_DATA(vu) * self, uint32_t req,
		uint32_t flags, const void *payload, uint32_t size, const int *fds,
		unsigned int nfds)
{
	struct vhost_user_msg m;

	memset(&m, 0, sizeof(m));
	m.hdr.request = req;
	m.hdr.flags = VHOST_USER_VERSION | flags;
	m.hdr.size = size;
	if (size)
		memcpy(&m.payload, payload, size);
	if (vu_socket_send(self->sv[1], &m, fds, nfds)) {
		TH_LOG("send failed");
		return -999;
	}
	return vu_conn_handle(self->dev->vu);
}

static int reply(FIXTURE_DATA(vu) * self, struct vhost_user_msg *m)
{
	int fds[VHOST_USER_MAX_FDS];
	unsigned int nfds;

	return vu_socket_recv(self->sv[1], m, fds, &nfds);
}

static bool no_reply_pending(FIXTURE_DATA(vu) * self)
{
	char c;

	return recv(self->sv[1], &c, 1, MSG_DONTWAIT | MSG_PEEK) < 0 && errno == EAGAIN;
}

static uint64_t u64_of(const struct vhost_user_msg *m)
{
	uint64_t v;

	memcpy(&v, &m->payload, sizeof(v));
	return v;
}

TEST_F(vu, get_features)
{
	struct vhost_user_msg m;
	uint64_t f;

	ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_GET_FEATURES, 0, NULL, 0, NULL, 0));
	ASSERT_EQ(0, reply(self, &m));
	EXPECT_EQ(VHOST_USER_GET_FEATURES, m.hdr.request);
	EXPECT_EQ(VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY, m.hdr.flags);
	ASSERT_EQ(8, m.hdr.size);
	f = u64_of(&m);
	EXPECT_TRUE(f & PVIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES));
	EXPECT_TRUE(f & PVIO_BIT(PVIO_F_VERSION_1));
	EXPECT_TRUE(f & PVIO_BIT(PVIO_F_EVENT_IDX));
	EXPECT_TRUE(f & PVIO_BIT(PVIO_BLK_F_FLUSH));
}

TEST_F(vu, wrong_sizes)
{
	uint64_t v = 0;

	EXPECT_EQ(-EMSGSIZE, xfer(_metadata, self, VHOST_USER_SET_FEATURES, 0, &v, 4, NULL, 0));
	/* A closed connection would be re-accepted; the handler refused first. */
	EXPECT_EQ(-EMSGSIZE, xfer(_metadata, self, VHOST_USER_GET_FEATURES, 0, &v, 8, NULL, 0));
	EXPECT_EQ(-EMSGSIZE, xfer(_metadata, self, VHOST_USER_SET_VRING_ADDR, 0, &v, 8, NULL, 0));
	EXPECT_TRUE(no_reply_pending(self));
}

TEST_F(vu, extra_fds_closed)
{
	int before;
	uint64_t v = 0;
	int efd[2];

	efd[0] = eventfd(0, EFD_CLOEXEC);
	efd[1] = eventfd(0, EFD_CLOEXEC);
	before = pvt_proc_fds(0);
	EXPECT_EQ(-EBADF, xfer(_metadata, self, VHOST_USER_SET_OWNER, 0, NULL, 0, efd, 2));
	/* Both received copies were closed by the central check. */
	EXPECT_EQ(before, pvt_proc_fds(0));
	/* KICK without NOFD needs exactly one fd; CALL with NOFD none. */
	EXPECT_EQ(-EBADF, xfer(_metadata, self, VHOST_USER_SET_VRING_KICK, 0, &v, 8, efd, 2));
	EXPECT_EQ(before, pvt_proc_fds(0));
	v = VHOST_USER_VRING_NOFD_MASK;
	EXPECT_EQ(-EBADF, xfer(_metadata, self, VHOST_USER_SET_VRING_CALL, 0, &v, 8, efd, 1));
	EXPECT_EQ(before, pvt_proc_fds(0));
	close(efd[0]);
	close(efd[1]);
}

TEST_F(vu, bad_queue_index)
{
	struct vhost_user_vring_state st = { .index = 2, .num = 8 };
	uint64_t v = 5 | VHOST_USER_VRING_NOFD_MASK;

	EXPECT_EQ(-ERANGE, xfer(_metadata, self, VHOST_USER_SET_VRING_NUM, 0, &st, 8, NULL, 0));
	EXPECT_EQ(-ERANGE, xfer(_metadata, self, VHOST_USER_SET_VRING_CALL, 0, &v, 8, NULL, 0));
	st.index = 1;
	EXPECT_EQ(0, xfer(_metadata, self, VHOST_USER_SET_VRING_NUM, 0, &st, 8, NULL, 0));
	st.num = 6; /* not a power of two */
	EXPECT_EQ(-EINVAL, xfer(_metadata, self, VHOST_USER_SET_VRING_NUM, 0, &st, 8, NULL, 0));
}

TEST_F(vu, unknown_and_unnegotiated_requests)
{
	uint64_t pf = PVIO_BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK);
	struct vhost_user_msg m;

	EXPECT_EQ(-EOPNOTSUPP, xfer(_metadata, self, 99, 0, NULL, 0, NULL, 0));
	EXPECT_EQ(-EOPNOTSUPP, xfer(_metadata, self, VHOST_USER_SET_LOG_BASE, 0, NULL, 0, NULL, 0));
	/* GET_CONFIG before CONFIG was negotiated. */
	EXPECT_EQ(-EOPNOTSUPP,
		  xfer(_metadata, self, VHOST_USER_GET_QUEUE_NUM, 0, NULL, 0, NULL, 0));
	EXPECT_TRUE(no_reply_pending(self));
	/* With REPLY_ACK and NEED_REPLY an unknown request gets an error ack instead. */
	ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_SET_PROTOCOL_FEATURES, 0, &pf, 8, NULL, 0));
	ASSERT_EQ(0, xfer(_metadata, self, 99, VHOST_USER_FLAG_NEED_REPLY, NULL, 0, NULL, 0));
	ASSERT_EQ(0, reply(self, &m));
	EXPECT_NE(0, u64_of(&m));
}

TEST_F(vu, reply_ack_once)
{
	uint64_t pf = PVIO_BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK) |
		      PVIO_BIT(VHOST_USER_PROTOCOL_F_MQ) | PVIO_BIT(VHOST_USER_PROTOCOL_F_CONFIG);
	struct vhost_user_vring_state st = { .index = 0, .num = 3 };
	struct vhost_user_msg m;

	ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_SET_PROTOCOL_FEATURES,
			  VHOST_USER_FLAG_NEED_REPLY, &pf, 8, NULL, 0));
	ASSERT_EQ(0, reply(self, &m));
	EXPECT_EQ(8, m.hdr.size);
	EXPECT_EQ(0, u64_of(&m));
	/* A failing request with NEED_REPLY: error ack, connection kept. */
	ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_SET_VRING_NUM, VHOST_USER_FLAG_NEED_REPLY,
			  &st, 8, NULL, 0));
	ASSERT_EQ(0, reply(self, &m));
	EXPECT_EQ(EINVAL, u64_of(&m));
	/* A request with its own reply is answered once, not acked on top. */
	ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_GET_QUEUE_NUM, VHOST_USER_FLAG_NEED_REPLY,
			  NULL, 0, NULL, 0));
	ASSERT_EQ(0, reply(self, &m));
	EXPECT_EQ(2, u64_of(&m));
	EXPECT_TRUE(no_reply_pending(self));
	/* Without NEED_REPLY nothing comes back. */
	ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_SET_OWNER, 0, NULL, 0, NULL, 0));
	EXPECT_TRUE(no_reply_pending(self));
}

TEST_F(vu, get_config)
{
	uint64_t pf = PVIO_BIT(VHOST_USER_PROTOCOL_F_CONFIG);
	struct vhost_user_config c = { .offset = 0, .size = 60 };
	struct pvio_blk_config bc;
	struct vhost_user_msg m;

	ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_SET_PROTOCOL_FEATURES, 0, &pf, 8, NULL, 0));
	ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_GET_CONFIG, 0, &c, 12 + 60, NULL, 0));
	ASSERT_EQ(0, reply(self, &m));
	ASSERT_EQ(12 + 60, m.hdr.size);
	memcpy(&bc, m.payload.raw + 12, 60);
	EXPECT_EQ(2048, le64_to_cpu(bc.capacity));
	EXPECT_EQ(2, le16_to_cpu(bc.num_queues));
	/* The payload size must match the config size it claims. */
	EXPECT_EQ(-EINVAL, xfer(_metadata, self, VHOST_USER_GET_CONFIG, 0, &c, 12 + 8, NULL, 0));
}

/*
 * Kick, call and error fds must be eventfds: /dev/zero, /dev/null or a pipe
 * whose writer is gone would read as endless kicks and spin a worker.
 */
TEST_F(vu, vring_fds_must_be_eventfds)
{
	static const uint32_t reqs[] = { VHOST_USER_SET_VRING_KICK, VHOST_USER_SET_VRING_CALL,
					 VHOST_USER_SET_VRING_ERR };
	uint64_t v = 1; /* queue 1 */
	int before = pvt_proc_fds(0);
	unsigned int i;
	int pipefd[2], fd, efd;

	ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC));
	close(pipefd[1]); /* a pipe whose writer is gone: read gives 0 at once */
	for (i = 0; i < 3; i++) {
		fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, fd);
		EXPECT_EQ(-EBADF, xfer(_metadata, self, reqs[i], 0, &v, 8, &fd, 1));
		close(fd);
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, fd);
		EXPECT_EQ(-EBADF, xfer(_metadata, self, reqs[i], 0, &v, 8, &fd, 1));
		close(fd);
		EXPECT_EQ(-EBADF, xfer(_metadata, self, reqs[i], 0, &v, 8, &pipefd[0], 1));
		efd = eventfd(0, EFD_CLOEXEC);
		ASSERT_LE(0, efd);
		EXPECT_EQ(0, xfer(_metadata, self, reqs[i], 0, &v, 8, &efd, 1));
		close(efd);
	}
	close(pipefd[0]);
	/* The refused fds were closed by pviod; the accepted ones are its own. */
	EXPECT_EQ(before + 3, pvt_proc_fds(0));
}

TEST_F(vu, bad_version)
{
	struct vhost_user_msg m;

	memset(&m, 0, sizeof(m));
	m.hdr.request = VHOST_USER_GET_FEATURES;
	m.hdr.flags = 2;
	ASSERT_EQ(0, vu_socket_send(self->sv[1], &m, NULL, 0));
	EXPECT_EQ(-EPROTO, vu_conn_handle(self->dev->vu));
}

/*
 * An in-flight area whose file is shorter than the mapping it claims would
 * raise SIGBUS in pviod at the first access: refused at SET_INFLIGHT_FD.
 */
TEST_F(vu, inflight_fd_too_short)
{
	uint64_t pf = PVIO_BIT(VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD);
	struct vhost_user_inflight inf = {
		.mmap_size = 16384, .mmap_offset = 0, .num_queues = 2, .queue_size = 16
	};
	int fd = memfd_create("short-inflight", MFD_CLOEXEC);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 4096));
	ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_SET_PROTOCOL_FEATURES, 0, &pf, 8, NULL, 0));
	EXPECT_EQ(-EINVAL, xfer(_metadata, self, VHOST_USER_SET_INFLIGHT_FD, 0, &inf, 24, &fd, 1));
	ASSERT_EQ(0, ftruncate(fd, 16384));
	EXPECT_EQ(0, xfer(_metadata, self, VHOST_USER_SET_INFLIGHT_FD, 0, &inf, 24, &fd, 1));
	close(fd);
}

/*
 * Guest memory a front-end could shrink under pviod is sealed against it
 * when the file allows seals: its ftruncate() to less then fails.
 */
TEST_F(vu, mem_table_sealed_against_shrinking)
{
	struct vhost_user_memory t = { .nregions = 1 };
	int fd = memfd_create("sealable-guest", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, GUEST_SIZE));
	t.regions[0] = (struct vhost_user_mem_region){ 0, GUEST_SIZE, GUEST_UVA, 0 };
	ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_SET_MEM_TABLE, 0, &t, 8 + 32, &fd, 1));
	EXPECT_TRUE(fcntl(fd, F_GET_SEALS) & F_SEAL_SHRINK);
	EXPECT_EQ(-1, ftruncate(fd, GUEST_SIZE / 2));
	EXPECT_EQ(EPERM, errno);
	close(fd);
}

TEST_F(vu, mem_table_fd_count)
{
	struct vhost_user_memory t = { .nregions = 2 };
	int efd = eventfd(0, EFD_CLOEXEC);
	int before = pvt_proc_fds(0);

	ASSERT_LE(0, efd);
	EXPECT_EQ(-EINVAL,
		  xfer(_metadata, self, VHOST_USER_SET_MEM_TABLE, 0, &t, 8 + 2 * 32, &efd, 1));
	EXPECT_EQ(before, pvt_proc_fds(0));
	close(efd);
}

/*
 * A whole session: memory from a memfd, one ring, blk requests written by
 * hand as a driver would, answered through the used ring and the call fd.
 */
struct guest {
	int memfd;
	uint8_t *mem;
	struct pvring_desc *desc;
	struct pvring_avail *avail;
	struct pvring_used *used;
	int kick, call;
	uint16_t avail_idx;
};

static void guest_req(struct guest *g, uint16_t head, uint32_t type, uint64_t sector,
		      uint64_t data_gpa, uint32_t len, bool data_writable)
{
	struct pvio_blk_req_hdr *hdr = (void *)(g->mem + BUF_GPA + head * 0x100);
	uint16_t d = head * 3;

	hdr->type = cpu_to_le32(type);
	hdr->ioprio = 0;
	hdr->sector = cpu_to_le64(sector);
	g->desc[d] = (struct pvring_desc){ cpu_to_le64(BUF_GPA + head * 0x100), cpu_to_le32(16),
					   cpu_to_le16(PVRING_DESC_F_NEXT), cpu_to_le16(d + 1) };
	g->desc[d + 1] = (struct pvring_desc){
		cpu_to_le64(data_gpa), cpu_to_le32(len),
		cpu_to_le16(PVRING_DESC_F_NEXT | (data_writable ? PVRING_DESC_F_WRITE : 0)),
		cpu_to_le16(d + 2)
	};
	g->desc[d + 2] = (struct pvring_desc){ cpu_to_le64(BUF_GPA + head * 0x100 + 0x80),
					       cpu_to_le32(1), cpu_to_le16(PVRING_DESC_F_WRITE),
					       0 };
	g->mem[BUF_GPA + head * 0x100 + 0x80] = 0xff;
	g->avail->ring[g->avail_idx % RING_NUM] = cpu_to_le16(d);
	pvring_store_release(&g->avail->idx, cpu_to_le16(++g->avail_idx));
}

static uint8_t guest_status(struct guest *g, uint16_t head)
{
	return g->mem[BUF_GPA + head * 0x100 + 0x80];
}

/* The len the device gave back for request @head (the latest if several). */
static uint32_t guest_used_len(struct guest *g, uint16_t head)
{
	uint16_t i, n = le16_to_cpu(g->used->idx);
	uint32_t len = ~0u;

	for (i = 0; i < n; i++)
		if (le32_to_cpu(g->used->ring[i % RING_NUM].id) == head * 3u)
			len = le32_to_cpu(g->used->ring[i % RING_NUM].len);
	return len;
}

static bool guest_wait_used(struct guest *g, uint16_t n)
{
	uint64_t v;
	int i;

	for (i = 0; i < 2000; i++) {
		if (le16_to_cpu(pvring_load_acquire(&g->used->idx)) == n)
			return eventfd_read(g->call, &v) == 0;
		usleep(1000);
	}
	return false;
}

/* The guest's memory (a memfd), its split ring areas' places, its kick and call fds. */
static void guest_mem_new(struct __test_metadata *_metadata, struct guest *g)
{
	memset(g, 0, sizeof(*g));
	g->memfd = memfd_create("guest", MFD_CLOEXEC);
	ASSERT_EQ(0, ftruncate(g->memfd, GUEST_SIZE));
	g->mem = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, g->memfd, 0);
	ASSERT_NE(MAP_FAILED, g->mem);
	g->desc = (void *)(g->mem + DESC_GPA);
	g->avail = (void *)(g->mem + AVAIL_GPA);
	g->used = (void *)(g->mem + USED_GPA);
	g->kick = eventfd(0, EFD_CLOEXEC);
	g->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

/*
 * Ring 0 of RING_NUM entries from @base, at the guest's addresses, with its
 * fds (ERR @err when >= 0), then enabled: running.
 */
static void ring0_start(struct __test_metadata *_metadata, FIXTURE_DATA(vu) * self, struct guest *g,
			uint32_t base, int err)
{
	struct vhost_user_vring_state st = { 0, RING_NUM };
	struct vhost_user_vring_addr a = { .index = 0,
					   .desc_user_addr = GUEST_UVA + DESC_GPA,
					   .used_user_addr = GUEST_UVA + USED_GPA,
					   .avail_user_addr = GUEST_UVA + AVAIL_GPA };
	uint64_t v = 0;

	ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_SET_VRING_NUM, 0, &st, 8, NULL, 0));
	st.num = base;
	ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_SET_VRING_BASE, 0, &st, 8, NULL, 0));
	ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_SET_VRING_ADDR, 0, &a, 40, NULL, 0));
	ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_SET_VRING_CALL, 0, &v, 8, &g->call, 1));
	if (err >= 0)
		ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_SET_VRING_ERR, 0, &v, 8, &err, 1));
	ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_SET_VRING_KICK, 0, &v, 8, &g->kick, 1));
	/* PROTOCOL_FEATURES negotiated: the ring waits for SET_VRING_ENABLE. */
	EXPECT_FALSE(self->dev->queues[0].running);
	st = (struct vhost_user_vring_state){ 0, 1 };
	ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_SET_VRING_ENABLE, 0, &st, 8, NULL, 0));
	EXPECT_TRUE(self->dev->queues[0].running);
}

/*
 * Negotiate, map the guest's memory and start ring 0 (its ERR fd @err when
 * >= 0), as a driver's front-end would.
 */
static void guest_start_with(struct __test_metadata *_metadata, FIXTURE_DATA(vu) * self,
			     struct guest *g, int err, uint64_t pf_more)
{
	uint64_t pf = PVIO_BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK) | pf_more;
	uint64_t f = PVIO_BIT(PVIO_F_VERSION_1) | PVIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES);
	struct vhost_user_memory t = { .nregions = 1 };
	struct vhost_user_msg m;

	guest_mem_new(_metadata, g);

	ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_SET_PROTOCOL_FEATURES, 0, &pf, 8, NULL, 0));
	ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_SET_FEATURES, 0, &f, 8, NULL, 0));
	t.regions[0] = (struct vhost_user_mem_region){ 0, GUEST_SIZE, GUEST_UVA, 0 };
	ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_SET_MEM_TABLE, VHOST_USER_FLAG_NEED_REPLY, &t,
			  8 + 32, &g->memfd, 1));
	ASSERT_EQ(0, reply(self, &m));
	ASSERT_EQ(0, u64_of(&m));
	ring0_start(_metadata, self, g, 0, err);
}

static void guest_start(struct __test_metadata *_metadata, FIXTURE_DATA(vu) * self, struct guest *g,
			int err)
{
	guest_start_with(_metadata, self, g, err, 0);
}

static void guest_stop(struct guest *g)
{
	close(g->kick);
	close(g->call);
	munmap(g->mem, GUEST_SIZE);
	close(g->memfd);
}

TEST_F(vu, session_blk_io)
{
	struct vhost_user_vring_state st;
	struct vhost_user_msg m;
	struct guest g;
	uint8_t buf[4096];
	uint64_t v = 0;
	int fd, err;

	guest_start(_metadata, self, &g, -1);

	/* OUT 4 KiB at sector 8, then IN it back elsewhere. */
	memset(g.mem + 0x20000, 0x5a, 4096);
	guest_req(&g, 0, PVIO_BLK_T_OUT, 8, 0x20000, 4096, false);
	eventfd_write(g.kick, 1);
	ASSERT_TRUE(guest_wait_used(&g, 1));
	EXPECT_EQ(PVIO_BLK_S_OK, guest_status(&g, 0));
	guest_req(&g, 1, PVIO_BLK_T_IN, 8, 0x30000, 4096, true);
	guest_req(&g, 2, PVIO_BLK_T_FLUSH, 0, 0x40000, 0, false);
	eventfd_write(g.kick, 1);
	ASSERT_TRUE(guest_wait_used(&g, 3));
	EXPECT_EQ(PVIO_BLK_S_OK, guest_status(&g, 1));
	EXPECT_EQ(PVIO_BLK_S_OK, guest_status(&g, 2));
	EXPECT_EQ(0, memcmp(g.mem + 0x20000, g.mem + 0x30000, 4096));
	/* A used element's len counts the data and the status byte. */
	EXPECT_EQ(4097, guest_used_len(&g, 1));
	/* Unsupported type, out of range, and a descriptor outside memory. */
	guest_req(&g, 0, 42, 0, 0x20000, 512, false);
	guest_req(&g, 1, PVIO_BLK_T_IN, 2048, 0x30000, 512, true);
	guest_req(&g, 2, PVIO_BLK_T_IN, 0, GUEST_SIZE + 4096, 512, true);
	eventfd_write(g.kick, 1);
	ASSERT_TRUE(guest_wait_used(&g, 6));
	EXPECT_EQ(PVIO_BLK_S_UNSUPP, guest_status(&g, 0));
	EXPECT_EQ(PVIO_BLK_S_IOERR, guest_status(&g, 1));
	EXPECT_EQ(0, guest_used_len(&g, 2)); /* bad chain: returned empty */
	/* The ring goes on after a bad chain. */
	guest_req(&g, 3, PVIO_BLK_T_GET_ID, 0, 0x30000, 20, true);
	eventfd_write(g.kick, 1);
	ASSERT_TRUE(guest_wait_used(&g, 7));
	EXPECT_EQ(0, memcmp(g.mem + 0x30000, "unit", 5));

	/* The image holds the write. */
	fd = open(self->img, O_RDONLY);
	ASSERT_EQ(4096, pread(fd, buf, 4096, 8 * 512));
	close(fd);
	EXPECT_EQ(0x5a, buf[0]);
	EXPECT_EQ(0x5a, buf[4095]);

	/* GET_VRING_BASE stops the ring and returns the next avail index. */
	st = (struct vhost_user_vring_state){ 0, 0 };
	ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_GET_VRING_BASE, 0, &st, 8, NULL, 0));
	ASSERT_EQ(0, reply(self, &m));
	memcpy(&st, &m.payload, sizeof(st));
	EXPECT_EQ(7, st.num);
	EXPECT_FALSE(self->dev->queues[0].running);

	/*
	 * A jumping avail index breaks the ring: the error eventfd says so
	 * (the queue's own state is the worker's); the connection lives on.
	 */
	err = eventfd(0, EFD_CLOEXEC);
	ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_SET_VRING_ERR, 0, &v, 8, &err, 1));
	ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_SET_VRING_KICK, 0, &v, 8, &g.kick, 1));
	pvring_store_release(&g.avail->idx, cpu_to_le16(g.avail_idx + 100));
	eventfd_write(g.kick, 1);
	{
		struct pollfd pfd = { .fd = err, .events = POLLIN };

		EXPECT_EQ(1, poll(&pfd, 1, 2000));
	}
	ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_GET_FEATURES, 0, NULL, 0, NULL, 0));
	ASSERT_EQ(0, reply(self, &m));
	close(err);
	guest_stop(&g);
}

/*
 * A chain made available again before the driver saw it used (here: the
 * same head twice in one kick) breaks the queue instead of completing
 * twice: the first completes, the second never, and the ERR fd fires.
 */
TEST_F(vu, head_in_flight_made_available_again)
{
	struct pollfd pfd;
	struct guest g;
	int err = eventfd(0, EFD_CLOEXEC);

	ASSERT_LE(0, err);
	guest_start(_metadata, self, &g, err);
	guest_req(&g, 0, PVIO_BLK_T_IN, 0, 0x30000, 4096, true);
	g.avail->ring[g.avail_idx % RING_NUM] = cpu_to_le16(0);
	pvring_store_release(&g.avail->idx, cpu_to_le16(++g.avail_idx));
	eventfd_write(g.kick, 1);
	pfd = (struct pollfd){ .fd = err, .events = POLLIN };
	EXPECT_EQ(1, poll(&pfd, 1, 2000));
	usleep(50 * 1000);
	EXPECT_EQ(1, le16_to_cpu(pvring_load_acquire(&g.used->idx)));
	EXPECT_EQ(PVIO_BLK_S_OK, guest_status(&g, 0));
	close(err);
	guest_stop(&g);
}

/* --- dirty logging (VHOST_F_LOG_ALL) ------------------------------------------------ */

#define LOG_BYTES 4096 /* a page of log: 128 MiB of guest memory */

/* SET_LOG_BASE and its reply: the u64 status (0: the log was taken). */
static uint64_t log_base(struct __test_metadata *_metadata, FIXTURE_DATA(vu) * self, int fd,
			 uint64_t size, uint64_t offset)
{
	struct vhost_user_log l = { .mmap_size = size, .mmap_offset = offset };
	struct vhost_user_msg m;

	if (xfer(_metadata, self, VHOST_USER_SET_LOG_BASE, 0, &l, sizeof(l), &fd, fd >= 0 ? 1 : 0))
		return ~0ull;
	if (reply(self, &m) || m.hdr.request != VHOST_USER_SET_LOG_BASE ||
	    m.hdr.flags != (VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY))
		return ~0ull;
	return u64_of(&m);
}

/* SET_FEATURES with NEED_REPLY: the ack's status. */
static uint64_t features_acked(struct __test_metadata *_metadata, FIXTURE_DATA(vu) * self,
			       uint64_t f)
{
	struct vhost_user_msg m;

	if (xfer(_metadata, self, VHOST_USER_SET_FEATURES, VHOST_USER_FLAG_NEED_REPLY, &f, 8, NULL,
		 0) ||
	    reply(self, &m))
		return ~0ull;
	return u64_of(&m);
}

/* Every page marked in @log, in order, into @pages; returns how many. */
static unsigned int log_pages(const uint8_t *log, uint64_t *pages, unsigned int max)
{
	unsigned int i, n = 0;

	for (i = 0; i < LOG_BYTES * 8; i++)
		if ((log[i / 8] >> (i % 8)) & 1 && n < max)
			pages[n++] = i;
	return n;
}

static int log_fd_new(uint8_t **map)
{
	int fd = memfd_create("log", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0 || ftruncate(fd, LOG_BYTES))
		return -1;
	*map = mmap(NULL, LOG_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	return *map == MAP_FAILED ? -1 : fd;
}

/*
 * Exactly the pages pviod wrote are marked, at page granularity, and the
 * used ring's: blk reads (one page, two pages straddled), a GET_ID, the
 * status bytes, and nothing of what it only read (a write's data, the
 * descriptors) nor of a read that failed (only its status byte).
 */
TEST_F(vu, dirty_log_marks_written_pages)
{
	uint64_t f = PVIO_BIT(PVIO_F_VERSION_1) | PVIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES);
	const uint64_t want[] = { USED_GPA >> 12, BUF_GPA >> 12, 0x30, 0x51, 0x52, 0x60 };
	struct vhost_user_vring_state st = { 0, 0 };
	struct vhost_user_vring_addr a;
	struct vhost_user_msg m;
	uint64_t pages[64], zero = 0;
	unsigned int n, i;
	struct guest g;
	uint8_t *log;
	int lfd;

	guest_start_with(_metadata, self, &g, -1, PVIO_BIT(VHOST_USER_PROTOCOL_F_LOG_SHMFD));
	lfd = log_fd_new(&log);
	ASSERT_LE(0, lfd);

	/* Not logging yet: a read marks nothing. */
	memset(g.mem + 0x20000, 0x5a, 4096);
	guest_req(&g, 0, PVIO_BLK_T_OUT, 8, 0x20000, 4096, false);
	guest_req(&g, 1, PVIO_BLK_T_IN, 8, 0x30000, 4096, true);
	eventfd_write(g.kick, 1);
	ASSERT_TRUE(guest_wait_used(&g, 2));
	ASSERT_EQ(0, log_base(_metadata, self, lfd, LOG_BYTES, 0));
	EXPECT_EQ(0, log_pages(log, pages, 64));

	/* LOG_ALL, then the ring's F_LOG with the used ring's guest address. */
	ASSERT_EQ(0, features_acked(_metadata, self, f | PVIO_BIT(VHOST_F_LOG_ALL)));
	a = (struct vhost_user_vring_addr){ .index = 0,
					    .flags = VHOST_USER_VRING_F_LOG,
					    .desc_user_addr = GUEST_UVA + DESC_GPA,
					    .used_user_addr = GUEST_UVA + USED_GPA,
					    .avail_user_addr = GUEST_UVA + AVAIL_GPA,
					    .log_guest_addr = USED_GPA };
	ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_SET_VRING_ADDR, 0, &a, 40, NULL, 0));
	ASSERT_TRUE(self->dev->queues[0].running);
	EXPECT_EQ(0, log_pages(log, pages, 64));

	guest_req(&g, 0, PVIO_BLK_T_OUT, 16, 0x40000, 4096, false); /* read only: 0x40 clean */
	guest_req(&g, 1, PVIO_BLK_T_IN, 8, 0x30000, 4096, true);
	guest_req(&g, 2, PVIO_BLK_T_IN, 8, 0x51f00, 512, true); /* straddles 0x51 and 0x52 */
	guest_req(&g, 3, PVIO_BLK_T_GET_ID, 0, 0x60000, 20, true);
	guest_req(&g, 4, PVIO_BLK_T_IN, 4096, 0x70000, 512, true); /* out of range: no data */
	eventfd_write(g.kick, 1);
	ASSERT_TRUE(guest_wait_used(&g, 7));
	EXPECT_EQ(PVIO_BLK_S_OK, guest_status(&g, 2));
	EXPECT_EQ(PVIO_BLK_S_IOERR, guest_status(&g, 4));
	/* GET_VRING_BASE: the ring stops, and the log holds all it wrote. */
	ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_GET_VRING_BASE, 0, &st, 8, NULL, 0));
	ASSERT_EQ(0, reply(self, &m));
	memcpy(&st, &m.payload, sizeof(st));
	EXPECT_EQ(7, st.num);
	n = log_pages(log, pages, 64);
	ASSERT_EQ(sizeof(want) / sizeof(want[0]), n);
	for (i = 0; i < n; i++)
		EXPECT_EQ(want[i], pages[i]);

	/* Logging off again: nothing more is marked. */
	memset(log, 0, LOG_BYTES);
	ASSERT_EQ(0, features_acked(_metadata, self, f));
	a.flags = 0;
	ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_SET_VRING_ADDR, 0, &a, 40, NULL, 0));
	ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_SET_VRING_KICK, 0, &zero, 8, &g.kick, 1));
	guest_req(&g, 1, PVIO_BLK_T_IN, 8, 0x30000, 4096, true);
	eventfd_write(g.kick, 1);
	ASSERT_TRUE(guest_wait_used(&g, 8));
	EXPECT_EQ(0, log_pages(log, pages, 64));
	munmap(log, LOG_BYTES);
	close(lfd);
	guest_stop(&g);
}

/*
 * A log that cannot be used is refused whole, in the reply, with the
 * session going on; LOG_ALL without a log fails instead of losing pages.
 */
TEST_F(vu, dirty_log_bad_logs_refused)
{
	uint64_t f = PVIO_BIT(PVIO_F_VERSION_1) | PVIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES);
	struct vhost_user_log l = { .mmap_size = LOG_BYTES };
	int before;
	struct guest g;
	uint8_t *log;
	int lfd, fds[2];

	guest_start_with(_metadata, self, &g, -1, PVIO_BIT(VHOST_USER_PROTOCOL_F_LOG_SHMFD));
	lfd = log_fd_new(&log);
	ASSERT_LE(0, lfd);
	before = pvt_proc_fds(0);
	EXPECT_EQ(EBADF, log_base(_metadata, self, -1, LOG_BYTES, 0)); /* no fd */
	EXPECT_EQ(EINVAL, log_base(_metadata, self, lfd, 0, 0)); /* empty */
	EXPECT_EQ(EINVAL, log_base(_metadata, self, lfd, 2 * LOG_BYTES, 0)); /* past the file */
	EXPECT_EQ(EINVAL, log_base(_metadata, self, lfd, LOG_BYTES, LOG_BYTES)); /* likewise */
	EXPECT_EQ(EINVAL, log_base(_metadata, self, lfd, 64, 100)); /* unaligned */
	/* 16 bytes cover 512 KiB: the memory table has 1 MiB. */
	EXPECT_EQ(EINVAL, log_base(_metadata, self, lfd, 16, 0));
	EXPECT_EQ(EINVAL, log_base(_metadata, self, lfd, 1ull << 40, 0)); /* absurd */
	EXPECT_EQ(before, pvt_proc_fds(0));
	/* Two fds: malformed, closed by the central check. */
	fds[0] = lfd;
	fds[1] = lfd;
	EXPECT_EQ(-EBADF, xfer(_metadata, self, VHOST_USER_SET_LOG_BASE, 0, &l, 16, fds, 2));
	EXPECT_EQ(before, pvt_proc_fds(0));
	/* No log was taken: LOG_ALL cannot start the ring, and says so. */
	EXPECT_NE(0, features_acked(_metadata, self, f | PVIO_BIT(VHOST_F_LOG_ALL)));
	EXPECT_FALSE(self->dev->queues[0].running);
	/* A good log then lets it run. */
	EXPECT_EQ(0, log_base(_metadata, self, lfd, 32, 0));
	EXPECT_EQ(0, features_acked(_metadata, self, f | PVIO_BIT(VHOST_F_LOG_ALL)));
	EXPECT_TRUE(self->dev->queues[0].running);
	munmap(log, LOG_BYTES);
	close(lfd);
	guest_stop(&g);
}

/*
 * One blk request in a packed ring: header, data, status in three
 * consecutive descriptors from @pos, buffer id @id; the head's flags are
 * stored last, with release, as a driver makes a chain available.
 */
static void guest_req_packed(struct guest *g, uint16_t pos, uint16_t id, uint32_t type,
			     uint64_t sector, uint64_t data_gpa, uint32_t len, bool data_writable)
{
	struct pvring_desc_packed *d = (void *)(g->mem + DESC_GPA);
	struct pvio_blk_req_hdr *hdr = (void *)(g->mem + BUF_GPA + id * 0x100);
	const uint16_t avail = PVRING_DESC_F_AVAIL; /* the driver's wrap counter is 1 */
	uint16_t f[3] = { avail | PVRING_DESC_F_NEXT,
			  avail | PVRING_DESC_F_NEXT | (data_writable ? PVRING_DESC_F_WRITE : 0),
			  avail | PVRING_DESC_F_WRITE };
	uint64_t addr[3] = { BUF_GPA + id * 0x100, data_gpa, BUF_GPA + id * 0x100 + 0x80 };
	uint32_t l[3] = { 16, len, 1 };
	int i;

	hdr->type = cpu_to_le32(type);
	hdr->ioprio = 0;
	hdr->sector = cpu_to_le64(sector);
	g->mem[BUF_GPA + id * 0x100 + 0x80] = 0xff;
	for (i = 2; i >= 0; i--) {
		d[pos + i].addr = cpu_to_le64(addr[i]);
		d[pos + i].len = cpu_to_le32(l[i]);
		d[pos + i].id = cpu_to_le16(id);
		if (i)
			d[pos + i].flags = cpu_to_le16(f[i]);
	}
	pvring_store_release(&d[pos].flags, cpu_to_le16(f[0]));
}

/* Has the device used the descriptor at @pos (first pass: AVAIL and USED both 1)? */
static bool guest_packed_used(struct guest *g, uint16_t pos)
{
	struct pvring_desc_packed *d = (void *)(g->mem + DESC_GPA);
	uint16_t both = PVRING_DESC_F_AVAIL | PVRING_DESC_F_USED;
	int i;

	for (i = 0; i < 2000; i++) {
		if ((le16_to_cpu(pvring_load_acquire(&d[pos].flags)) & both) == both)
			return true;
		usleep(1000);
	}
	return false;
}

/*
 * The packed ring: exactly the pages pviod wrote are marked, and the ring
 * areas it writes: the descriptor ring (used descriptors go over available
 * ones) and the device event area, at log_guest_addr; not the driver event
 * area, nor what it only read.
 */
TEST_F(vu, dirty_log_packed_ring)
{
	uint64_t f = PVIO_BIT(PVIO_F_VERSION_1) | PVIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES) |
		     PVIO_BIT(PVIO_F_RING_PACKED);
	uint64_t pf = PVIO_BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK) |
		      PVIO_BIT(VHOST_USER_PROTOCOL_F_LOG_SHMFD);
	/* Descriptors, device events, headers and status bytes, the reads' data. */
	const uint64_t want[] = { DESC_GPA >> 12, USED_GPA >> 12, BUF_GPA >> 12, 0x30, 0x51, 0x52 };
	struct vhost_user_memory t = { .nregions = 1 };
	struct vhost_user_vring_state st;
	struct vhost_user_vring_addr a;
	struct vhost_user_msg m;
	uint64_t pages[64], v = 0;
	unsigned int n, i;
	struct guest g;
	uint8_t *log;
	int lfd;

	guest_mem_new(_metadata, &g);
	lfd = log_fd_new(&log);
	ASSERT_LE(0, lfd);

	ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_SET_PROTOCOL_FEATURES, 0, &pf, 8, NULL, 0));
	ASSERT_EQ(0, features_acked(_metadata, self, f));
	t.regions[0] = (struct vhost_user_mem_region){ 0, GUEST_SIZE, GUEST_UVA, 0 };
	ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_SET_MEM_TABLE, VHOST_USER_FLAG_NEED_REPLY, &t,
			  8 + 32, &g.memfd, 1));
	ASSERT_EQ(0, reply(self, &m));
	ASSERT_EQ(0, u64_of(&m));
	ASSERT_EQ(0, log_base(_metadata, self, lfd, LOG_BYTES, 0));
	ASSERT_EQ(0, features_acked(_metadata, self, f | PVIO_BIT(VHOST_F_LOG_ALL)));
	st = (struct vhost_user_vring_state){ 0, RING_NUM };
	ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_SET_VRING_NUM, 0, &st, 8, NULL, 0));
	st.num = 1u << 15; /* descriptor 0, the driver's wrap counter 1: a new ring */
	ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_SET_VRING_BASE, 0, &st, 8, NULL, 0));
	/* Packed: descriptors, the driver's event area, the device's (what is logged). */
	a = (struct vhost_user_vring_addr){ .index = 0,
					    .flags = VHOST_USER_VRING_F_LOG,
					    .desc_user_addr = GUEST_UVA + DESC_GPA,
					    .avail_user_addr = GUEST_UVA + AVAIL_GPA,
					    .used_user_addr = GUEST_UVA + USED_GPA,
					    .log_guest_addr = USED_GPA };
	ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_SET_VRING_ADDR, 0, &a, 40, NULL, 0));
	ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_SET_VRING_CALL, 0, &v, 8, &g.call, 1));
	ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_SET_VRING_KICK, 0, &v, 8, &g.kick, 1));
	st = (struct vhost_user_vring_state){ 0, 1 };
	ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_SET_VRING_ENABLE, 0, &st, 8, NULL, 0));
	ASSERT_TRUE(self->dev->queues[0].running);

	memset(g.mem + 0x40000, 0x5a, 4096);
	guest_req_packed(&g, 0, 0, PVIO_BLK_T_OUT, 16, 0x40000, 4096, false); /* 0x40 clean */
	eventfd_write(g.kick, 1);
	/* Used descriptors go in order, each chain's at its first slot. */
	ASSERT_TRUE(guest_packed_used(&g, 0));
	/* The reads after the write (requests in one kick run in any order). */
	guest_req_packed(&g, 3, 1, PVIO_BLK_T_IN, 16, 0x30000, 4096, true);
	guest_req_packed(&g, 6, 2, PVIO_BLK_T_IN, 16, 0x51f00, 512, true); /* 0x51 and 0x52 */
	eventfd_write(g.kick, 1);
	ASSERT_TRUE(guest_packed_used(&g, 3));
	ASSERT_TRUE(guest_packed_used(&g, 6));
	EXPECT_EQ(PVIO_BLK_S_OK, guest_status(&g, 1));
	EXPECT_EQ(PVIO_BLK_S_OK, guest_status(&g, 2));
	EXPECT_EQ(0x5a, g.mem[0x30000]);
	EXPECT_EQ(0x5a, g.mem[0x51f00 + 511]);
	/* GET_VRING_BASE: the ring stops, and the log holds all it wrote. */
	st = (struct vhost_user_vring_state){ 0, 0 };
	ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_GET_VRING_BASE, 0, &st, 8, NULL, 0));
	ASSERT_EQ(0, reply(self, &m));
	n = log_pages(log, pages, 64);
	ASSERT_EQ(sizeof(want) / sizeof(want[0]), n);
	for (i = 0; i < n; i++)
		EXPECT_EQ(want[i], pages[i]);
	munmap(log, LOG_BYTES);
	close(lfd);
	guest_stop(&g);
}

/* --- in-flight tracking on a packed ring (QueueRegionPacked) ------------------------ */

/*
 * A packed session with an in-flight area, as QEMU runs one: INFLIGHT_SHMFD,
 * packed features, memory, the area (@area_fd >= 0: SET_INFLIGHT_FD with it,
 * as after a reconnect; else GET_INFLIGHT_FD, its fd returned), ring 0 of
 * RING_NUM at @base, started.
 */
static int packed_session(struct __test_metadata *_metadata, FIXTURE_DATA(vu) * self,
			  struct guest *g, int area_fd, uint32_t base, uint64_t *area_size)
{
	uint64_t f = PVIO_BIT(PVIO_F_VERSION_1) | PVIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES) |
		     PVIO_BIT(PVIO_F_RING_PACKED);
	uint64_t pf = PVIO_BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK) |
		      PVIO_BIT(VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD);
	struct vhost_user_inflight inf = { .num_queues = 2, .queue_size = RING_NUM };
	struct vhost_user_memory t = { .nregions = 1 };
	struct vhost_user_msg m;
	int fds[VHOST_USER_MAX_FDS];
	unsigned int nfds;

	EXPECT_EQ(0, xfer(_metadata, self, VHOST_USER_SET_PROTOCOL_FEATURES, 0, &pf, 8, NULL, 0));
	EXPECT_EQ(0, features_acked(_metadata, self, f));
	t.regions[0] = (struct vhost_user_mem_region){ 0, GUEST_SIZE, GUEST_UVA, 0 };
	EXPECT_EQ(0, xfer(_metadata, self, VHOST_USER_SET_MEM_TABLE, 0, &t, 8 + 32, &g->memfd, 1));
	if (area_fd < 0) {
		EXPECT_EQ(0, xfer(_metadata, self, VHOST_USER_GET_INFLIGHT_FD, 0, &inf, sizeof(inf),
				  NULL, 0));
		EXPECT_EQ(0, vu_socket_recv(self->sv[1], &m, fds, &nfds));
		EXPECT_EQ(1, nfds);
		memcpy(&inf, &m.payload, sizeof(inf));
		area_fd = fds[0];
		*area_size = inf.mmap_size;
	} else {
		inf.mmap_size = *area_size;
		EXPECT_EQ(0, xfer(_metadata, self, VHOST_USER_SET_INFLIGHT_FD, 0, &inf, sizeof(inf),
				  &area_fd, 1));
	}
	ring0_start(_metadata, self, g, base, -1);
	return area_fd;
}

/*
 * GET_INFLIGHT_FD after packed rings were negotiated lays the area out for
 * them; a session records its requests there and frees them when used.
 * Then pviod "dies" with a request it popped (the region as the dead one
 * left it: the chain's copies, its ring slot since written over by a used
 * descriptor) and a reconnect with QEMU's stale base resubmits exactly that
 * one, from the copies, at the region's used position.
 */
TEST_F(vu, inflight_packed_area_and_recovery)
{
	struct vhost_user_inflight_region_packed *r;
	struct pvring_desc_packed *d;
	uint64_t area_size = 0;
	unsigned int i, e[3];
	struct guest g;
	int area_fd, fd;

	guest_mem_new(_metadata, &g);
	d = (void *)(g.mem + DESC_GPA);
	fd = open(self->img, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(512, pwrite(fd, memset(g.mem + 0x60000, 0xa5, 512), 512, 24 * 512));

	area_fd = packed_session(_metadata, self, &g, -1, 1u << 15 | 1u << 31, &area_size);
	ASSERT_LE(0, area_fd);
	EXPECT_EQ(2 * vhost_user_inflight_region_size_packed(RING_NUM), area_size);
	r = mmap(NULL, area_size, PROT_READ | PROT_WRITE, MAP_SHARED, area_fd, 0);
	ASSERT_NE(MAP_FAILED, r);
	EXPECT_EQ(VHOST_USER_INFLIGHT_VERSION, r->version);
	EXPECT_EQ(RING_NUM, r->desc_num);
	for (i = 0; i < 3; i++)
		guest_req_packed(&g, 3 * i, i, PVIO_BLK_T_IN, 8, 0x30000 + i * 0x1000, 512, true);
	eventfd_write(g.kick, 1);
	ASSERT_TRUE(guest_packed_used(&g, 0));
	ASSERT_TRUE(guest_packed_used(&g, 3));
	ASSERT_TRUE(guest_packed_used(&g, 6));
	for (i = 0; i < 100 && (r->used_idx != 9 || r->old_used_idx != 9); i++)
		usleep(1000);
	EXPECT_EQ(9, r->used_idx);
	EXPECT_EQ(9, r->old_used_idx);
	EXPECT_EQ(1, r->used_wrap_counter);
	for (i = 0; i < RING_NUM; i++)
		EXPECT_EQ(0, r->desc[i].inflight);

	/* The next request, popped by a pviod that died: three entries from the free list. */
	vu_session_reset(self->dev->vu);
	guest_req_packed(&g, 9, 3, PVIO_BLK_T_IN, 24, 0x40000, 512, true);
	e[0] = r->free_head;
	e[1] = r->desc[e[0]].next;
	e[2] = r->desc[e[1]].next;
	ASSERT_LT(e[2], RING_NUM);
	for (i = 0; i < 3; i++) {
		r->desc[e[i]].addr = le64_to_cpu(d[9 + i].addr);
		r->desc[e[i]].len = le32_to_cpu(d[9 + i].len);
		r->desc[e[i]].id = le16_to_cpu(d[9 + i].id);
		r->desc[e[i]].flags = le16_to_cpu(d[9 + i].flags);
	}
	r->desc[e[0]].num = 3;
	r->desc[e[0]].last = (uint16_t)e[2];
	r->desc[e[0]].counter = 1000;
	r->desc[e[0]].inflight = 1;
	r->free_head = r->desc[e[2]].next;
	r->old_free_head = r->free_head;
	/* Its first ring descriptor, written over as a used descriptor would. */
	d[9].addr = cpu_to_le64(0xdead0000);
	d[9].id = cpu_to_le16(2);
	ASSERT_EQ(area_fd,
		  packed_session(_metadata, self, &g, area_fd, 1u << 15 | 1u << 31, &area_size));
	/* Resubmitted: served from the copies, used at 9; nothing else used. */
	for (i = 0;
	     i < 2000 && !(le16_to_cpu(pvring_load_acquire(&d[9].flags)) & PVRING_DESC_F_USED); i++)
		usleep(1000);
	EXPECT_EQ(3, le16_to_cpu(d[9].id));
	EXPECT_EQ(513, le32_to_cpu(d[9].len));
	EXPECT_EQ(PVIO_BLK_S_OK, guest_status(&g, 3));
	EXPECT_EQ(0xa5, g.mem[0x40000]);
	EXPECT_EQ(0xa5, g.mem[0x40000 + 511]);
	usleep(20 * 1000);
	EXPECT_EQ(0, le16_to_cpu(d[12].flags));
	for (i = 0; i < 100 && r->old_used_idx != 12; i++)
		usleep(1000);
	EXPECT_EQ(12, r->used_idx);
	EXPECT_EQ(12, r->old_used_idx);
	EXPECT_EQ(0, r->desc[e[0]].inflight);
	munmap(r, area_size);
	close(area_fd);
	close(fd);
	guest_stop(&g);
}

/*
 * The net device's receive path logs too: pviod's net device with
 * backend=loop copies a frame the guest transmits (ring 1) into a receive
 * buffer (ring 0).  Exactly the pages written are marked: the receive
 * buffer's first page (header and frame), and both used rings; not the
 * transmitted frame's page (only read) nor the second receive buffer
 * (not used).
 */
#define NET_TX_DESC 0x3000
#define NET_TX_AVAIL 0x4000
#define NET_TX_USED 0x5000

TEST_F(vu, dirty_log_marks_net_receive)
{
	uint64_t f = PVIO_BIT(PVIO_F_VERSION_1) | PVIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES);
	const uint64_t want[] = { USED_GPA >> 12, NET_TX_USED >> 12, 0x30 };
	struct pvring_desc *tdesc;
	struct pvring_avail *tavail;
	struct pvring_used *tused;
	struct vhost_user_vring_state st;
	struct vhost_user_vring_addr a;
	struct vhost_user_msg m;
	uint64_t pages[64], v = 0;
	unsigned int n, i;
	char opts[128];
	struct guest g;
	uint8_t *log;
	int lfd, tkick, tcall;

	/* The fixture's blk device gives way to a net device on the same socket pair. */
	vu_session_reset(self->dev->vu);
	self->dev->vu->conn_fd = -1;
	vu_dev_detach(self->dev);
	pviod_device_free(self->dev);
	snprintf(opts, sizeof(opts), "socket=%s/n,backend=loop", self->dir);
	ASSERT_EQ(0, pviod_net_create(&self->env, "net0", opts, &self->dev));
	ASSERT_EQ(0, vu_dev_new(self->dev));
	self->dev->vu->conn_fd = self->sv[0];

	/* Ring 0 (rx0) as guest_start_with() sets it up; then ring 1 (tx0). */
	guest_start_with(_metadata, self, &g, -1, PVIO_BIT(VHOST_USER_PROTOCOL_F_LOG_SHMFD));
	tdesc = (void *)(g.mem + NET_TX_DESC);
	tavail = (void *)(g.mem + NET_TX_AVAIL);
	tused = (void *)(g.mem + NET_TX_USED);
	tkick = eventfd(0, EFD_CLOEXEC);
	tcall = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	st = (struct vhost_user_vring_state){ 1, RING_NUM };
	ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_SET_VRING_NUM, 0, &st, 8, NULL, 0));
	st.num = 0;
	ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_SET_VRING_BASE, 0, &st, 8, NULL, 0));
	a = (struct vhost_user_vring_addr){ .index = 1,
					    .desc_user_addr = GUEST_UVA + NET_TX_DESC,
					    .used_user_addr = GUEST_UVA + NET_TX_USED,
					    .avail_user_addr = GUEST_UVA + NET_TX_AVAIL };
	ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_SET_VRING_ADDR, 0, &a, 40, NULL, 0));
	v = 1; /* the fd message's payload: the ring index */
	ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_SET_VRING_CALL, 0, &v, 8, &tcall, 1));
	ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_SET_VRING_KICK, 0, &v, 8, &tkick, 1));
	st = (struct vhost_user_vring_state){ 1, 1 };
	ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_SET_VRING_ENABLE, 0, &st, 8, NULL, 0));
	ASSERT_TRUE(self->dev->queues[1].running);

	lfd = log_fd_new(&log);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, log_base(_metadata, self, lfd, LOG_BYTES, 0));
	ASSERT_EQ(0, features_acked(_metadata, self, f | PVIO_BIT(VHOST_F_LOG_ALL)));
	for (i = 0; i < 2; i++) {
		a = (struct vhost_user_vring_addr){
			.index = i,
			.flags = VHOST_USER_VRING_F_LOG,
			.desc_user_addr = GUEST_UVA + (i ? NET_TX_DESC : DESC_GPA),
			.used_user_addr = GUEST_UVA + (i ? NET_TX_USED : USED_GPA),
			.avail_user_addr = GUEST_UVA + (i ? NET_TX_AVAIL : AVAIL_GPA),
			.log_guest_addr = i ? NET_TX_USED : USED_GPA
		};
		ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_SET_VRING_ADDR, 0, &a, 40, NULL, 0));
		ASSERT_TRUE(self->dev->queues[i].running);
	}
	EXPECT_EQ(0, log_pages(log, pages, 64));

	/* Two receive buffers, one frame: broadcast, 60 bytes, after its 12-byte header. */
	for (i = 0; i < 2; i++) {
		g.desc[i] = (struct pvring_desc){ cpu_to_le64(0x30000 + i * 0x10000),
						  cpu_to_le32(2048),
						  cpu_to_le16(PVRING_DESC_F_WRITE), 0 };
		g.avail->ring[i] = cpu_to_le16(i);
	}
	pvring_store_release(&g.avail->idx, cpu_to_le16(2));
	eventfd_write(g.kick, 1);
	memset(g.mem + 0x20000, 0, 12);
	memset(g.mem + 0x2000c, 0xff, 6);
	memset(g.mem + 0x20012, 0x5a, 54);
	tdesc[0] = (struct pvring_desc){ cpu_to_le64(0x20000), cpu_to_le32(72), 0, 0 };
	tavail->ring[0] = 0;
	pvring_store_release(&tavail->idx, cpu_to_le16(1));
	eventfd_write(tkick, 1);
	for (i = 0; i < 2000 && (le16_to_cpu(pvring_load_acquire(&tused->idx)) != 1 ||
				 le16_to_cpu(pvring_load_acquire(&g.used->idx)) != 1);
	     i++)
		usleep(1000);
	ASSERT_EQ(1, le16_to_cpu(tused->idx));
	ASSERT_EQ(1, le16_to_cpu(g.used->idx));
	EXPECT_EQ(72, le32_to_cpu(g.used->ring[0].len));
	EXPECT_EQ(0, memcmp(g.mem + 0x3000c, g.mem + 0x2000c, 60));

	for (i = 0; i < 2; i++) {
		st = (struct vhost_user_vring_state){ i, 0 };
		ASSERT_EQ(0, xfer(_metadata, self, VHOST_USER_GET_VRING_BASE, 0, &st, 8, NULL, 0));
		ASSERT_EQ(0, reply(self, &m));
	}
	n = log_pages(log, pages, 64);
	ASSERT_EQ(sizeof(want) / sizeof(want[0]), n);
	for (i = 0; i < n; i++)
		EXPECT_EQ(want[i], pages[i]);
	munmap(log, LOG_BYTES);
	close(lfd);
	close(tkick);
	close(tcall);
	guest_stop(&g);
}

TEST_HARNESS_MAIN
