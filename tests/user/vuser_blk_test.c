// SPDX-License-Identifier: GPL-2.0
/*
 * vuser_blk_test - the userspace driver against real vhost-user-blk back-ends:
 * qemu-storage-daemon (which no one here wrote) and pviod.
 *
 * Each test starts its own back-end on a fresh image in /dev/shm, connects,
 * and checks data end to end: seeded patterns written at several queue
 * depths and on several queues read back intact, flush, discard,
 * write-zeroes reading back as zeroes, get-id, and errors for requests past
 * the end.  Variants cover the back-end, the queue count, the depth and the
 * ring format (packed: pviod only; qemu-storage-daemon does not offer it).
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "vuser.h"
#include "bench_lib.h"
#include "pvtest.h"

#define IMG_BYTES (64u << 20)
#define SEED 0x5eed

enum backend { BE_QSD, BE_PVIOD };

FIXTURE(blk)
{
	char dir[64];
	char sock[128];
	char img[128];
	char log[128];
	pid_t daemon;
	struct vuser_blk blk;
	bool open;
	char why[256]; /* why the back-end is missing (SKIP) */
};

FIXTURE_VARIANT(blk)
{
	enum backend backend;
	unsigned int queues;
	unsigned int depth;
	unsigned int bs;
	bool packed; /* require VIRTIO_F_RING_PACKED */
};

/* clang-format would glue the brace to the macro, which checkpatch rejects. */
/* clang-format off */
FIXTURE_VARIANT_ADD(blk, qsd_q1_d1) { .backend = BE_QSD, .queues = 1, .depth = 1, .bs = 4096 };
FIXTURE_VARIANT_ADD(blk, qsd_q1_d32) { .backend = BE_QSD, .queues = 1, .depth = 32, .bs = 4096 };
FIXTURE_VARIANT_ADD(blk, qsd_q4_d8_64k) {
	.backend = BE_QSD, .queues = 4, .depth = 8, .bs = 65536 };
FIXTURE_VARIANT_ADD(blk, qsd_q2_d128) { .backend = BE_QSD, .queues = 2, .depth = 128, .bs = 4096 };
FIXTURE_VARIANT_ADD(blk, pviod_q1_d1) { .backend = BE_PVIOD, .queues = 1, .depth = 1, .bs = 4096 };
FIXTURE_VARIANT_ADD(blk, pviod_q1_d32) {
	.backend = BE_PVIOD, .queues = 1, .depth = 32, .bs = 4096 };
FIXTURE_VARIANT_ADD(blk, pviod_q4_d8_64k) {
	.backend = BE_PVIOD, .queues = 4, .depth = 8, .bs = 65536 };
FIXTURE_VARIANT_ADD(blk, pviod_q2_d128) {
	.backend = BE_PVIOD, .queues = 2, .depth = 128, .bs = 4096 };
FIXTURE_VARIANT_ADD(blk, pviod_packed_q1_d1) {
	.backend = BE_PVIOD, .queues = 1, .depth = 1, .bs = 4096, .packed = true };
FIXTURE_VARIANT_ADD(blk, pviod_packed_q4_d8_64k) {
	.backend = BE_PVIOD, .queues = 4, .depth = 8, .bs = 65536, .packed = true };
FIXTURE_VARIANT_ADD(blk, pviod_packed_q2_d128) {
	.backend = BE_PVIOD, .queues = 2, .depth = 128, .bs = 4096, .packed = true };
/* clang-format on */

/*
 * struct _test_data_blk and _fixture_variant_blk are FIXTURE_DATA(blk) and
 * FIXTURE_VARIANT(blk) spelled out: as a parameter type,
 * checkpatch and clang-format read the macro as a multiplication.
 */
static int start_backend(struct _test_data_blk *self, const struct _fixture_variant_blk *variant,
			 char *why, size_t whylen)
{
	char arg[512], nq[16];
	struct pvt_pviod pviod;
	int ret;

	ret = pvt_image_create(self->img, IMG_BYTES);
	if (ret) {
		snprintf(why, whylen, "cannot create %s: %s", self->img, strerror(-ret));
		return -1;
	}
	snprintf(nq, sizeof(nq), "%u", variant->queues);
	if (variant->backend == BE_QSD) {
		char bd[300], exp[400];

		snprintf(bd, sizeof(bd), "driver=file,node-name=f,filename=%s", self->img);
		/* One line for the --export string; clang-format would end a line with "(". */
		/* clang-format off */
		snprintf(exp, sizeof(exp),
			 "type=vhost-user-blk,id=e,node-name=disk,addr.type=unix,addr.path=%s,writable=on,num-queues=%s",
			 self->sock, nq);
		/* clang-format on */
		char *const argv[] = { "qemu-storage-daemon",
				       "--blockdev",
				       bd,
				       "--blockdev",
				       "driver=raw,node-name=disk,file=f",
				       "--export",
				       exp,
				       NULL };

		self->daemon = pvt_spawn(argv, self->log, -1);
	} else {
		if (pvt_pviod_find(&pviod)) {
			snprintf(why, whylen, "pviod not built (%.180s); set PVIOD=path",
				 pviod.bin);
			return 1;
		}
		snprintf(arg, sizeof(arg), "blk,socket=%s,file=%s,queues=%s", self->sock, self->img,
			 nq);
		char *const argv[] = { pviod.bin, "--device", arg, NULL };

		self->daemon = pvt_spawn(argv, self->log, -1);
	}
	if (pvt_wait_socket(self->sock, self->daemon, 10000)) {
		snprintf(why, whylen, "back-end did not create %s within 10 s", self->sock);
		pvt_dump_log(self->log);
		return -1;
	}
	return 0;
}

FIXTURE_SETUP(blk)
{
	struct vuser_blk_opts o = {
		.num_queues = variant->queues,
		.depth = variant->depth,
		.buf_bytes = (size_t)variant->queues * variant->depth * variant->bs + (1u << 20),
		.timeout_ms = 5000,
		.packed = variant->packed,
	};
	char why[256] = "";
	int r;

	snprintf(self->dir, sizeof(self->dir), "/tmp/pvio-vu-blk.%d", getpid());
	mkdir(self->dir, 0700);
	snprintf(self->sock, sizeof(self->sock), "%s/sock", self->dir);
	snprintf(self->log, sizeof(self->log), "%s/backend.log", self->dir);
	snprintf(self->img, sizeof(self->img), "/dev/shm/pvio-vu-blk.%d.img", getpid());
	self->daemon = 0;
	self->open = false;
	r = start_backend(self, variant, why, sizeof(why));
	if (r > 0) {
		/* The 6.1 harness runs the test body after a SKIP in setup: tell it. */
		snprintf(self->why, sizeof(self->why), "%s", why);
		SKIP(return, "%s", why);
	}
	ASSERT_EQ(0, r) TH_LOG("%s", why);
	o.socket_path = self->sock;
	r = vuser_blk_open(&self->blk, &o);
	if (r)
		pvt_dump_log(self->log);
	ASSERT_EQ(0, r) TH_LOG("%s", vuser_dev_errmsg(&self->blk.dev));
	self->open = true;
}

FIXTURE_TEARDOWN(blk)
{
	if (self->open)
		vuser_blk_close(&self->blk);
	pvt_stop(self->daemon, PVT_STOP_MS);
	unlink(self->img);
	unlink(self->sock);
	unlink(self->log);
	rmdir(self->dir);
}

/*
 * Run @n I/Os of @bs bytes at offsets base, base+stride, ... on queue @qi
 * with @depth in flight.  Writes carry the pattern; reads are checked.
 * Returns 0 or a negative error; *bad is the first bad offset for -EILSEQ.
 */
static int run_ios(struct vuser_blk *blk, unsigned int qi, unsigned int depth, unsigned int type,
		   uint64_t base, uint64_t stride, unsigned int bs, unsigned int n, uint8_t *bufs,
		   struct bench_pattern_miss *miss)
{
	struct vuser_blk_req *done[64], *req;
	unsigned int next = 0, completed = 0, i;
	int r;

	while (completed < n) {
		while (next < n && (req = vuser_blk_req_get(blk, qi))) {
			unsigned int slot = (unsigned int)(req - blk->bq[qi].reqs);

			req->type = type;
			req->offset = base + (uint64_t)next * stride;
			req->buf = bufs + (size_t)slot * bs;
			req->len = bs;
			if (type == PVIO_BLK_T_OUT)
				bench_pattern_fill(req->buf, bs, SEED, req->offset);
			else
				memset(req->buf, 0xee, bs);
			r = vuser_blk_submit(blk, qi, req);
			if (r)
				return r;
			next++;
			if (depth && next - completed >= depth)
				break;
		}
		r = vuser_blk_wait(blk, qi, done, 64, -1);
		if (r < 0)
			return r;
		for (i = 0; i < (unsigned int)r; i++) {
			req = done[i];
			completed++;
			if (req->result)
				return req->result;
			if (type == PVIO_BLK_T_IN &&
			    bench_pattern_check(req->buf, bs, SEED, req->offset, miss))
				return -EILSEQ;
			vuser_blk_req_put(blk, qi, req);
		}
	}
	return 0;
}

TEST_F(blk, capacity_and_features)
{
	if (!self->open)
		SKIP(return, "%s", self->why);
	EXPECT_EQ((uint64_t)IMG_BYTES, self->blk.capacity_bytes);
	EXPECT_TRUE(vuser_dev_has(&self->blk.dev, PVIO_F_VERSION_1));
	/* Bit 34: packed exactly when asked for (pviod offers it, QSD does not). */
	EXPECT_EQ(variant->packed, vuser_dev_has(&self->blk.dev, PVIO_F_RING_PACKED));
	EXPECT_EQ(variant->packed,
		  !!(self->blk.dev.dev_features & PVIO_BIT(34)) && variant->packed);
	EXPECT_EQ(variant->queues, self->blk.nqueues);
	EXPECT_GE(self->blk.dev.max_queues, variant->queues);
}

TEST_F(blk, pattern_write_read)
{
	unsigned int d = variant->depth, bs = variant->bs;
	uint8_t *bufs = vuser_blk_alloc(&self->blk, (size_t)d * bs);
	struct bench_pattern_miss miss = { 0 };
	unsigned int n = IMG_BYTES / (3 * bs) - 1, i;
	int r;

	if (!self->open)
		SKIP(return, "%s", self->why);
	if (n > 512)
		n = 512;
	ASSERT_NE(NULL, bufs);
	/* Scattered: stride of 3 blocks, so neighbours are never written. */
	r = run_ios(&self->blk, 0, d, PVIO_BLK_T_OUT, bs, 3ull * bs, bs, n, bufs, &miss);
	ASSERT_EQ(0, r) TH_LOG("write: %s", vuser_dev_errmsg(&self->blk.dev));
	r = run_ios(&self->blk, 0, d, PVIO_BLK_T_IN, bs, 3ull * bs, bs, n, bufs, &miss);
	if (r)
		TH_LOG("read back: %s; first bad word at offset %llu: 0x%llx, want 0x%llx",
		       vuser_dev_errmsg(&self->blk.dev), (unsigned long long)miss.offset,
		       (unsigned long long)miss.found, (unsigned long long)miss.expected);
	ASSERT_EQ(0, r);
	/* A block that was never written reads as zeroes, not as a neighbour's data. */
	r = vuser_blk_sync(&self->blk, 0, PVIO_BLK_T_IN, 2ull * bs, bufs, bs);
	ASSERT_EQ(0, r);
	for (i = 0; i < bs; i++)
		ASSERT_EQ(0, bufs[i]) TH_LOG("byte %u of an unwritten block is %u", i, bufs[i]);
}

struct mq_arg {
	struct vuser_blk *blk;
	unsigned int qi, depth, bs;
	uint8_t *bufs;
	int result;
	struct bench_pattern_miss miss;
};

static void *mq_thread(void *p)
{
	struct mq_arg *a = p;
	uint64_t base = (uint64_t)a->qi * (8u << 20);

	/* Each queue owns an 8 MiB slice; write it, then read it back. */
	a->result = run_ios(a->blk, a->qi, a->depth, PVIO_BLK_T_OUT, base, a->bs, a->bs,
			    (8u << 20) / a->bs, a->bufs, &a->miss);
	if (!a->result)
		a->result = run_ios(a->blk, a->qi, a->depth, PVIO_BLK_T_IN, base, a->bs, a->bs,
				    (8u << 20) / a->bs, a->bufs, &a->miss);
	return NULL;
}

TEST_F(blk, queues_in_parallel)
{
	struct mq_arg args[8];
	pthread_t tid[8];
	unsigned int i, nq = variant->queues;

	if (!self->open)
		SKIP(return, "%s", self->why);
	ASSERT_LE(nq, 8u);
	for (i = 0; i < nq; i++) {
		args[i] = (struct mq_arg){
			.blk = &self->blk, .qi = i, .depth = variant->depth, .bs = variant->bs
		};
		args[i].bufs = vuser_blk_alloc(&self->blk, (size_t)variant->depth * variant->bs);
		ASSERT_NE(NULL, args[i].bufs);
	}
	for (i = 0; i < nq; i++)
		ASSERT_EQ(0, pthread_create(&tid[i], NULL, mq_thread, &args[i]));
	for (i = 0; i < nq; i++)
		pthread_join(tid[i], NULL);
	for (i = 0; i < nq; i++) {
		const char *e = vuser_dev_errmsg(&self->blk.dev);
		unsigned long long bad = args[i].miss.offset;

		EXPECT_EQ(0, args[i].result) TH_LOG("queue %u: %s (bad offset %llu)", i, e, bad);
	}
}

TEST_F(blk, flush)
{
	int r;

	if (!self->open)
		SKIP(return, "%s", self->why);
	ASSERT_TRUE(vuser_dev_has(&self->blk.dev, PVIO_BLK_F_FLUSH));
	r = vuser_blk_sync(&self->blk, 0, PVIO_BLK_T_FLUSH, 0, NULL, 0);
	EXPECT_EQ(0, r) TH_LOG("%s", vuser_dev_errmsg(&self->blk.dev));
}

TEST_F(blk, write_zeroes_reads_zeroes)
{
	unsigned int bs = 4096, n = 16;
	uint8_t *buf = vuser_blk_alloc(&self->blk, (size_t)n * bs);
	struct bench_pattern_miss miss;
	uint64_t off = 1u << 20;
	unsigned int i;
	int r;

	if (!self->open)
		SKIP(return, "%s", self->why);
	ASSERT_NE(NULL, buf);
	if (!vuser_dev_has(&self->blk.dev, PVIO_BLK_F_WRITE_ZEROES))
		SKIP(return, "back-end does not offer WRITE_ZEROES");
	bench_pattern_fill(buf, (size_t)n * bs, SEED, off);
	ASSERT_EQ(0, vuser_blk_sync(&self->blk, 0, PVIO_BLK_T_OUT, off, buf, n * bs));
	/* Zero the middle 8 blocks; the 4 on each side must keep the pattern. */
	r = vuser_blk_sync(&self->blk, 0, PVIO_BLK_T_WRITE_ZEROES, off + 4 * bs, NULL, 8 * bs);
	ASSERT_EQ(0, r) TH_LOG("%s", vuser_dev_errmsg(&self->blk.dev));
	memset(buf, 0xee, (size_t)n * bs);
	ASSERT_EQ(0, vuser_blk_sync(&self->blk, 0, PVIO_BLK_T_IN, off, buf, n * bs));
	EXPECT_EQ(0, bench_pattern_check(buf, 4 * bs, SEED, off, &miss));
	for (i = 4 * bs; i < 12 * bs; i++)
		ASSERT_EQ(0, buf[i]) TH_LOG("byte %u after WRITE_ZEROES is 0x%x", i, buf[i]);
	EXPECT_EQ(0, bench_pattern_check(buf + 12 * bs, 4 * bs, SEED, off + 12 * bs, &miss));
}

TEST_F(blk, discard)
{
	unsigned int bs = 4096;
	uint8_t *buf = vuser_blk_alloc(&self->blk, 16 * bs);
	struct bench_pattern_miss miss;
	uint64_t off = 2u << 20;
	int r;

	if (!self->open)
		SKIP(return, "%s", self->why);
	ASSERT_NE(NULL, buf);
	if (!vuser_dev_has(&self->blk.dev, PVIO_BLK_F_DISCARD))
		SKIP(return, "back-end does not offer DISCARD");
	bench_pattern_fill(buf, 16 * bs, SEED, off);
	ASSERT_EQ(0, vuser_blk_sync(&self->blk, 0, PVIO_BLK_T_OUT, off, buf, 16 * bs));
	r = vuser_blk_sync(&self->blk, 0, PVIO_BLK_T_DISCARD, off + 4 * bs, NULL, 8 * bs);
	EXPECT_EQ(0, r) TH_LOG("%s", vuser_dev_errmsg(&self->blk.dev));
	/* Discarded contents are unspecified; the blocks around them are not. */
	ASSERT_EQ(0, vuser_blk_sync(&self->blk, 0, PVIO_BLK_T_IN, off, buf, 16 * bs));
	EXPECT_EQ(0, bench_pattern_check(buf, 4 * bs, SEED, off, &miss));
	EXPECT_EQ(0, bench_pattern_check(buf + 12 * bs, 4 * bs, SEED, off + 12 * bs, &miss));
}

TEST_F(blk, get_id)
{
	char id[PVIO_BLK_ID_BYTES + 1];
	int r;

	if (!self->open)
		SKIP(return, "%s", self->why);
	r = vuser_blk_get_id(&self->blk, id, sizeof(id));
	/* UNSUPP is a valid answer; an I/O error or a hang is not. */
	if (r == -EOPNOTSUPP)
		SKIP(return, "back-end answers GET_ID with UNSUPP");
	ASSERT_EQ(0, r) TH_LOG("%s", vuser_dev_errmsg(&self->blk.dev));
	TH_LOG("serial: '%s'", id);
}

TEST_F(blk, beyond_capacity_fails)
{
	uint8_t *buf = vuser_blk_alloc(&self->blk, 4096);
	int r;

	if (!self->open)
		SKIP(return, "%s", self->why);
	ASSERT_NE(NULL, buf);
	r = vuser_blk_sync(&self->blk, 0, PVIO_BLK_T_IN, IMG_BYTES, buf, 4096);
	EXPECT_EQ(-EIO, r);
	r = vuser_blk_sync(&self->blk, 0, PVIO_BLK_T_OUT, IMG_BYTES - 2048, buf, 4096);
	EXPECT_EQ(-EIO, r);
	/* The device still works afterwards. */
	EXPECT_EQ(0, vuser_blk_sync(&self->blk, 0, PVIO_BLK_T_IN, 0, buf, 4096));
}

TEST_HARNESS_MAIN
