// SPDX-License-Identifier: GPL-2.0
/*
 * vuser_blk_reconnect_test - a disk survives pviod crashes under I/O.
 *
 * The userspace driver keeps DEPTH verified requests in flight on a pviod
 * disk (file engine): writes of a block stamped with the block number and a
 * version, reads checked against the last version written, never two
 * requests on one block at once.  KILLS times pviod is SIGKILLed (every
 * other time at a random moment a little after a batch was made
 * available, else stopped before one was), started again on the same
 * socket and image, and the driver reconnects (vuser_blk_reconnect())
 * with its requests still in flight, as a guest does; pviod resubmits what
 * was in flight from the in-flight region the driver hands on.  Variants:
 * split and packed rings, each with and without VIRTIO_F_IN_ORDER (pviod's
 * in-order=on; each checks that VIRTIO_F_RING_PACKED, bit 34, and
 * VIRTIO_F_IN_ORDER, bit 35, were negotiated as asked: with IN_ORDER the
 * driver reaps used buffers in batches, oldest first, and pviod gives them
 * back in the order it popped them, across every restart).
 *
 *   crash   every request submitted completes exactly once, successfully
 *           (a completion seen twice breaks the ring: its id is no longer
 *           in flight), with the data of the model; at the end every block
 *           reads back as the last write that completed to it; the last
 *           pviod exits cleanly.
 */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vuser.h"
#include "pvtest.h"

#define BLOCK 4096u
#define BLOCKS 256u /* the span exercised: 1 MiB */
#define DEPTH 32u
#define KILLS 5u
#define OPS_BETWEEN 3000u /* completions between two kills, at least */

/* Word @w of block @b at version @v: never 0 for v > 0, so a lost write shows. */
static uint64_t blk_word(uint64_t b, uint64_t v, uint64_t w)
{
	uint64_t x = ((b << 40) ^ (v << 12) ^ w) * 0x9e3779b97f4a7c15ull;

	return v ? (x ^ (x >> 31)) | 1 : 0;
}

static void blk_fill(uint64_t *p, uint64_t b, uint64_t v)
{
	unsigned int i;

	for (i = 0; i < BLOCK / 8; i++)
		p[i] = blk_word(b, v, i);
}

/* The first word that differs from version @v of block @b, or -1. */
static int blk_check(const uint64_t *p, uint64_t b, uint64_t v)
{
	unsigned int i;

	for (i = 0; i < BLOCK / 8; i++)
		if (p[i] != blk_word(b, v, i))
			return (int)i;
	return -1;
}

/* What a request in flight is about (its req->priv). */
struct op {
	uint32_t block;
	uint64_t version; /* written, or expected by a read */
	unsigned int submitted; /* times submitted: always 1 */
};

FIXTURE(brecon)
{
	char dir[64], sock[128], img[128], why[256];
	struct pvt_pviod pviod;
	struct vuser_blk blk;
	struct vuser_blk_opts opts;
	uint8_t *bufs; /* DEPTH blocks of guest memory, one per request */
	struct op ops[DEPTH];
	uint64_t ver[BLOCKS]; /* the last version whose write completed */
	uint64_t next_ver[BLOCKS]; /* the last version handed to a write */
	bool busy[BLOCKS]; /* a request on the block is in flight */
	unsigned int seed;
	uint64_t completed, writes, reads;
	bool open;
};

FIXTURE_VARIANT(brecon)
{
	bool packed; /* VIRTIO_F_RING_PACKED */
	bool in_order; /* VIRTIO_F_IN_ORDER */
};

/* clang-format would glue the brace to the macro, which checkpatch rejects. */
/* clang-format off */
FIXTURE_VARIANT_ADD(brecon, split) { .packed = false };
FIXTURE_VARIANT_ADD(brecon, packed) { .packed = true };
FIXTURE_VARIANT_ADD(brecon, split_in_order) { .packed = false, .in_order = true };
FIXTURE_VARIANT_ADD(brecon, packed_in_order) { .packed = true, .in_order = true };
/* clang-format on */

static int start_pviod(FIXTURE_DATA(brecon) * self, bool in_order, unsigned int n)
{
	char arg[400], log[160];
	const char *const args[] = { "--device", arg, NULL };

	snprintf(arg, sizeof(arg), "blk,socket=%s,file=%s%s", self->sock, self->img,
		 in_order ? ",in-order=on" : "");
	snprintf(log, sizeof(log), "%s/pviod.%u.log", self->dir, n);
	return pvt_pviod_start(&self->pviod, log, args, 5000);
}

/* Lines of pviod's logs 1..@n that say it resubmitted requests from its region. */
static unsigned int resubmissions(const char *dir, unsigned int n)
{
	unsigned int i, count = 0;
	char path[160], line[512];
	FILE *f;

	for (i = 1; i <= n; i++) {
		snprintf(path, sizeof(path), "%s/pviod.%u.log", dir, i);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			count += !!strstr(line, "left in flight");
		fclose(f);
	}
	return count;
}

FIXTURE_SETUP(brecon)
{
	snprintf(self->dir, sizeof(self->dir), "/tmp/vuser_blkre.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->sock, sizeof(self->sock), "%s/vu.sock", self->dir);
	snprintf(self->img, sizeof(self->img), "%s/disk.img", self->dir);
	self->seed = (unsigned int)getpid() ^ (unsigned int)pvt_ms();
	TH_LOG("seed %u", self->seed);
	if (pvt_pviod_find(&self->pviod)) {
		snprintf(self->why, sizeof(self->why), "pviod not built (%.180s); set PVIOD=path",
			 self->pviod.bin);
		return;
	}
	ASSERT_EQ(0, pvt_image_create(self->img, (off_t)BLOCKS * BLOCK));
	ASSERT_EQ(0, start_pviod(self, variant->in_order, 0));
	self->opts.socket_path = self->sock;
	self->opts.depth = DEPTH;
	self->opts.buf_bytes = (size_t)DEPTH * BLOCK + BLOCK;
	self->opts.timeout_ms = 5000;
	self->opts.packed = variant->packed;
	self->opts.in_order = variant->in_order;
	ASSERT_EQ(0, vuser_blk_open(&self->blk, &self->opts))
	TH_LOG("%s", vuser_dev_errmsg(&self->blk.dev));
	self->open = true;
	/* The ring format asked for is the one the rings run with. */
	ASSERT_EQ(variant->packed, vuser_dev_has(&self->blk.dev, PVIO_F_RING_PACKED));
	ASSERT_EQ(variant->in_order, vuser_dev_has(&self->blk.dev, PVIO_F_IN_ORDER));
	/* Rings resume exactly only with the region pviod keeps. */
	ASSERT_EQ(true, self->blk.dev.inflight_fd >= 0);
	self->bufs = vuser_blk_alloc(&self->blk, (size_t)DEPTH * BLOCK);
	ASSERT_NE(NULL, self->bufs);
}

FIXTURE_TEARDOWN(brecon)
{
	if (self->open)
		vuser_blk_close(&self->blk);
	if (self->pviod.pid > 0)
		pvt_pviod_stop(&self->pviod, PVT_STOP_MS);
	if (self->dir[0] && pvt_rmtree(self->dir))
		TH_LOG("cannot remove %s", self->dir);
}

/* Submit requests on free blocks until DEPTH are in flight; -errno on failure. */
static int submit_some(FIXTURE_DATA(brecon) * self)
{
	struct vuser_blk_req *req;
	int r;

	while ((req = vuser_blk_req_get(&self->blk, 0))) {
		unsigned int slot = (unsigned int)(req - self->blk.bq[0].reqs);
		struct op *op = &self->ops[slot];
		uint32_t b;

		do
			b = (uint32_t)rand_r(&self->seed) % BLOCKS;
		while (self->busy[b]);
		self->busy[b] = true;
		op->block = b;
		op->submitted++;
		req->priv = op;
		req->buf = self->bufs + (size_t)slot * BLOCK;
		req->offset = (uint64_t)b * BLOCK;
		req->len = BLOCK;
		if (rand_r(&self->seed) & 1) {
			req->type = PVIO_BLK_T_OUT;
			op->version = ++self->next_ver[b];
			blk_fill(req->buf, b, op->version);
		} else {
			req->type = PVIO_BLK_T_IN;
			op->version = self->ver[b];
			memset(req->buf, 0xa5, BLOCK);
		}
		r = vuser_blk_submit(&self->blk, 0, req);
		if (r)
			return r;
	}
	vuser_blk_kick(&self->blk, 0);
	return 0;
}

/* Account for @n completed requests; -errno (and a log line) for a wrong one. */
static int complete(struct __test_metadata *_metadata, FIXTURE_DATA(brecon) * self,
		    struct vuser_blk_req **done, int n)
{
	int i, w;

	for (i = 0; i < n; i++) {
		struct vuser_blk_req *req = done[i];
		struct op *op = req->priv;

		if (op->submitted != 1 || !self->busy[op->block]) {
			TH_LOG("block %u: request completed with %u submissions", op->block,
			       op->submitted);
			return -EPROTO;
		}
		if (req->result) {
			TH_LOG("block %u: %s failed: %d", op->block,
			       req->type == PVIO_BLK_T_OUT ? "write" : "read", req->result);
			return req->result;
		}
		if (req->type == PVIO_BLK_T_OUT) {
			self->ver[op->block] = op->version;
			self->writes++;
		} else {
			w = blk_check(req->buf, op->block, op->version);
			if (w >= 0) {
				TH_LOG("block %u: read word %d is 0x%llx, version %llu has 0x%llx",
				       op->block, w, (unsigned long long)((uint64_t *)req->buf)[w],
				       (unsigned long long)op->version,
				       (unsigned long long)blk_word(op->block, op->version,
								    (uint64_t)w));
				return -EILSEQ;
			}
			self->reads++;
		}
		op->submitted = 0;
		self->busy[op->block] = false;
		self->completed++;
		vuser_blk_req_put(&self->blk, 0, req);
	}
	return 0;
}

/* Keep DEPTH in flight until @ops more completed; -errno on failure. */
static int run(struct __test_metadata *_metadata, FIXTURE_DATA(brecon) * self, uint64_t ops)
{
	struct vuser_blk_req *done[DEPTH];
	uint64_t until = self->completed + ops;
	int r;

	while (self->completed < until) {
		r = submit_some(self);
		if (r)
			return r;
		r = vuser_blk_wait(&self->blk, 0, done, DEPTH, -1);
		if (r < 0)
			return r;
		r = complete(_metadata, self, done, r);
		if (r)
			return r;
	}
	return 0;
}

TEST_F_TIMEOUT(brecon, crash, 60)
{
	struct vuser_blk_req *done[DEPTH];
	unsigned int i, k, held = 0, unserved = 0, before;
	uint64_t v;
	int r, st;

	if (!self->open)
		SKIP(return, "%s", self->why);
	ASSERT_EQ(0, run(_metadata, self, OPS_BETWEEN))
	TH_LOG("%s", vuser_dev_errmsg(&self->blk.dev));
	for (k = 1; k <= KILLS; k++) {
		if (k % 2) {
			/* A full queue, killed while pviod works on it. */
			ASSERT_EQ(0, submit_some(self));
			usleep((useconds_t)(rand_r(&self->seed) % 400));
		} else {
			/* Stopped first: what is added now only the next pviod serves. */
			ASSERT_EQ(0, kill(self->pviod.pid, SIGSTOP));
			before = self->blk.bq[0].inflight;
			ASSERT_EQ(0, submit_some(self));
			unserved += self->blk.bq[0].inflight - before;
		}
		ASSERT_EQ(0, pvt_pviod_kill(&self->pviod));
		/* What the dead pviod completed is reaped now or later: once either way. */
		r = vuser_blk_reap(&self->blk, 0, done,
				   (unsigned int)(rand_r(&self->seed) % 2) * DEPTH);
		ASSERT_LE(0, r) TH_LOG("%s", vuser_dev_errmsg(&self->blk.dev));
		ASSERT_EQ(0, complete(_metadata, self, done, r));
		held += self->blk.bq[0].inflight;
		ASSERT_EQ(0, start_pviod(self, variant->in_order, k));
		ASSERT_EQ(0, vuser_blk_reconnect(&self->blk, &self->opts, 5000))
		TH_LOG("kill %u: %s", k, vuser_dev_errmsg(&self->blk.dev));
		/* Resumed with the features the rings run with (else reconnect fails). */
		ASSERT_EQ(variant->in_order, vuser_dev_has(&self->blk.dev, PVIO_F_IN_ORDER));
		ASSERT_EQ(0, run(_metadata, self, OPS_BETWEEN))
		TH_LOG("kill %u: %s", k, vuser_dev_errmsg(&self->blk.dev));
	}
	/* Drain, then read every block back. */
	while (self->blk.bq[0].inflight) {
		r = vuser_blk_wait(&self->blk, 0, done, DEPTH, -1);
		ASSERT_LT(0, r) TH_LOG("%s", vuser_dev_errmsg(&self->blk.dev));
		ASSERT_EQ(0, complete(_metadata, self, done, r));
	}
	for (i = 0; i < BLOCKS; i++) {
		v = self->ver[i];
		ASSERT_EQ(0, vuser_blk_sync(&self->blk, 0, PVIO_BLK_T_IN, (uint64_t)i * BLOCK,
					    self->bufs, BLOCK));
		ASSERT_EQ(-1, blk_check((uint64_t *)self->bufs, i, v))
		TH_LOG("block %u does not read back as version %llu", i, (unsigned long long)v);
	}
	TH_LOG("%llu requests (%llu writes, %llu reads)", (unsigned long long)self->completed,
	       (unsigned long long)self->writes, (unsigned long long)self->reads);
	TH_LOG("%u kills, %u requests in flight at them (%u no pviod had seen)", KILLS, held,
	       unserved);
	TH_LOG("%u resubmissions from a region", resubmissions(self->dir, KILLS));
	/* The last pviod exits cleanly (a sanitizer build's report fails it). */
	vuser_blk_close(&self->blk);
	self->open = false;
	st = pvt_pviod_stop(&self->pviod, PVT_STOP_MS);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0)
	{
		char log[160];

		snprintf(log, sizeof(log), "%s/pviod.%u.log", self->dir, KILLS);
		TH_LOG("pviod wait status 0x%x", st);
		pvt_dump_log(log);
	}
	/* The reconnects had requests to resume that no pviod had served yet. */
	EXPECT_LT(0, unserved);
}

TEST_HARNESS_MAIN
