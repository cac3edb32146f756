// SPDX-License-Identifier: GPL-2.0
/*
 * blk_verify: data-integrity tests for a virtio block device, run inside the
 * test guest (built static) against whichever driver and back-end the VM
 * test chose.  Kselftest harness, TAP 13.
 *
 *   blk_verify --dev /dev/vda [--expect-ro] [--size BYTES]
 *	the tests below; the device is overwritten.  Without --dev,
 *	$PVIO_BLK_DEV; with neither the run is skipped (exit 4).
 *   blk_verify stamp DEV SEED
 *	write the seeded stamp (blocks at seed-chosen offsets, and a
 *	written-then-zeroed range at the end), flush, and exit 0.
 *   blk_verify check IMAGE SEED
 *	on the host, after the guest powered off: verify the stamp in the
 *	back-end's image file.
 *
 * The I/O is O_DIRECT through Linux native AIO (raw syscalls: no libaio in
 * a static build), so "queue depth" is the number of requests really in
 * flight in the guest's block layer.  Every block carries its own offset and
 * a generation number in its first words, so a misdirected or a lost write
 * is told apart from corruption.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/aio_abi.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"

#define BV_MAGIC 0x7076696f626c6b00ULL /* "pvioblk\0" */
#define BV_ALIGN 4096
#define BV_STAMP_BLOCKS 32
#define BV_STAMP_BS 4096
#define BV_TAIL (1024 * 1024) /* stamp's zero-range area at the end */
#define BV_ZERO_OFF (256 * 1024) /* zeroed: [OFF, OFF + LEN) of the tail */
#define BV_ZERO_LEN (512 * 1024)

static const char *bv_dev;
static int bv_expect_ro;
static uint64_t bv_expect_size;

/* ---- pattern ------------------------------------------------------------ */

static uint64_t bv_mix(uint64_t x)
{
	/* splitmix64 finaliser: a good hash of (seed, offset, word). */
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/*
 * Block content for (seed, byte offset, generation): word 0 the offset,
 * word 1 magic ^ generation, then a keyed stream.  Unique per offset and
 * generation, so stale and misplaced data are both caught.
 */
static void bv_fill(void *buf, size_t len, uint64_t seed, uint64_t off, uint32_t gen)
{
	uint64_t *w = buf;
	size_t i, n = len / 8;
	uint64_t k = bv_mix(seed ^ bv_mix(off) ^ ((uint64_t)gen << 40));

	for (i = 0; i < n; i++) {
		if (i % 64 == 0)
			w[i] = off + i * 8;
		else if (i % 64 == 1)
			w[i] = BV_MAGIC ^ gen;
		else
			w[i] = bv_mix(k + i);
	}
}

/* Index of the first 8-byte word that differs from bv_fill(), or -1. */
static long bv_check(const void *buf, size_t len, uint64_t seed, uint64_t off, uint32_t gen)
{
	const uint64_t *w = buf;
	size_t i, n = len / 8;
	uint64_t k = bv_mix(seed ^ bv_mix(off) ^ ((uint64_t)gen << 40));
	uint64_t want;

	for (i = 0; i < n; i++) {
		if (i % 64 == 0)
			want = off + i * 8;
		else if (i % 64 == 1)
			want = BV_MAGIC ^ gen;
		else
			want = bv_mix(k + i);
		if (w[i] != want)
			return (long)i;
	}
	return -1;
}

static int bv_is_zero(const void *buf, size_t len)
{
	const uint64_t *w = buf;
	size_t i;

	for (i = 0; i < len / 8; i++)
		if (w[i])
			return 0;
	return 1;
}

/* ---- Linux native AIO, raw ---------------------------------------------- */

struct bv_io {
	uint64_t off; /* device byte offset */
	void *buf; /* BV_ALIGN-aligned, bs bytes */
};

/*
 * Run @n requests of @bs bytes (@write or read) with at most @qd in flight.
 * Returns 0, or -errno of the first failed request (-EIO for a short one).
 */
static int bv_aio_run(int fd, int write, struct bv_io *io, size_t n, size_t bs, unsigned int qd)
{
	aio_context_t ctx = 0;
	struct iocb *cbs, **ptrs;
	struct io_event ev[64];
	size_t next = 0, done = 0;
	unsigned int inflight = 0;
	int ret = 0;
	long r;

	cbs = calloc(qd, sizeof(*cbs));
	ptrs = calloc(qd, sizeof(*ptrs));
	if (!cbs || !ptrs) {
		ret = -ENOMEM;
		goto out_free;
	}
	if (syscall(__NR_io_setup, qd, &ctx) < 0) {
		ret = -errno;
		goto out_free;
	}
	/* Slot i of cbs is reused for the next request once its own completes. */
	while (done < n) {
		unsigned int nsub = 0, i;

		for (i = 0; i < qd && next < n && inflight + nsub < qd; i++) {
			struct iocb *cb = &cbs[i];

			if (cb->aio_data)
				continue; /* slot busy */
			memset(cb, 0, sizeof(*cb));
			cb->aio_fildes = fd;
			cb->aio_lio_opcode = write ? IOCB_CMD_PWRITE : IOCB_CMD_PREAD;
			cb->aio_buf = (uint64_t)(uintptr_t)io[next].buf;
			cb->aio_nbytes = bs;
			cb->aio_offset = (int64_t)io[next].off;
			cb->aio_data = next + 1;
			ptrs[nsub++] = cb;
			next++;
		}
		if (nsub) {
			r = syscall(__NR_io_submit, ctx, (long)nsub, ptrs);
			if (r != (long)nsub) {
				ret = r < 0 ? -errno : -EAGAIN;
				goto out_destroy;
			}
			inflight += nsub;
		}
		r = syscall(__NR_io_getevents, ctx, 1L, (long)(sizeof(ev) / sizeof(ev[0])), ev,
			    NULL);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto out_destroy;
		}
		for (i = 0; i < (unsigned int)r; i++) {
			struct iocb *cb = (struct iocb *)(uintptr_t)ev[i].obj;

			if (ev[i].res != (int64_t)bs && !ret)
				ret = ev[i].res < 0 ? (int)ev[i].res : -EIO;
			cb->aio_data = 0;
			inflight--;
			done++;
		}
		if (ret)
			goto out_destroy;
	}
out_destroy:
	/* io_destroy waits for whatever is still in flight. */
	syscall(__NR_io_destroy, ctx);
out_free:
	free(ptrs);
	free(cbs);
	return ret;
}

/* ---- device helpers ----------------------------------------------------- */

static void *bv_alloc(size_t len)
{
	void *p = NULL;

	if (posix_memalign(&p, BV_ALIGN, len))
		return NULL;
	return p;
}

static int bv_read_sysfs_u64(const char *dev, const char *attr, uint64_t *val)
{
	char path[256], buf[64];
	const char *name = strrchr(dev, '/');
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/sys/class/block/%s/%s", name ? name + 1 : dev, attr);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	ok = !!fgets(buf, sizeof(buf), f);
	fclose(f);
	if (!ok)
		return -EIO;
	*val = strtoull(buf, NULL, 0);
	return 0;
}

static int bv_pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	ssize_t r = pwrite(fd, buf, len, (off_t)off);

	if (r < 0)
		return -errno;
	return (size_t)r == len ? 0 : -EIO;
}

static int bv_pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	ssize_t r = pread(fd, buf, len, (off_t)off);

	if (r < 0)
		return -errno;
	return (size_t)r == len ? 0 : -EIO;
}

/* ---- tests -------------------------------------------------------------- */

/* The device under test, opened O_DIRECT (read-write unless it is read-only). */
struct bv_dev {
	int fd;
	int ro; /* BLKROGET */
	uint64_t size; /* bytes, BLKGETSIZE64 */
	int lbs; /* logical block size, BLKSSZGET */
	uint64_t seed; /* pattern seed, logged so a failure can be replayed */
};

/* Shared by the fixtures' set-up; the ASSERTs end the calling test. */
static void bv_dev_open(struct __test_metadata *_metadata, struct bv_dev *d)
{
	d->fd = open(bv_dev, O_RDONLY | O_DIRECT);
	ASSERT_LE(0, d->fd)
	TH_LOG("open %s: %s", bv_dev, strerror(errno));
	ASSERT_EQ(0, ioctl(d->fd, BLKROGET, &d->ro));
	ASSERT_EQ(0, ioctl(d->fd, BLKGETSIZE64, &d->size));
	ASSERT_EQ(0, ioctl(d->fd, BLKSSZGET, &d->lbs));
	d->seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	TH_LOG("%s: %" PRIu64 " bytes, lbs %d, %s, seed %#" PRIx64, bv_dev, d->size, d->lbs,
	       d->ro ? "read-only" : "writable", d->seed);
	if (!d->ro) {
		close(d->fd);
		d->fd = open(bv_dev, O_RDWR | O_DIRECT);
		ASSERT_LE(0, d->fd)
		TH_LOG("open %s read-write: %s", bv_dev, strerror(errno));
	}
}

FIXTURE(dev)
{
	struct bv_dev d;
};

FIXTURE_SETUP(dev)
{
	bv_dev_open(_metadata, &self->d);
}

FIXTURE_TEARDOWN(dev)
{
	if (self->d.fd >= 0)
		close(self->d.fd);
}

/* Capacity: the ioctl, the file size and sysfs agree (and match --size). */
TEST_F(dev, capacity)
{
	uint64_t sectors = 0;
	off_t end = lseek(self->d.fd, 0, SEEK_END);

	ASSERT_LT(0, self->d.size);
	EXPECT_EQ((off_t)self->d.size, end);
	ASSERT_EQ(0, bv_read_sysfs_u64(bv_dev, "size", &sectors));
	EXPECT_EQ(self->d.size, sectors * 512);
	EXPECT_EQ(0, self->d.size % self->d.lbs);
	if (bv_expect_size)
		EXPECT_EQ(bv_expect_size, self->d.size);
}

/*
 * A read-only device refuses writes: either open(O_RDWR) fails, or every
 * write, discard and zero-out does; reads still work.
 */
TEST_F(dev, read_only)
{
	void *buf;
	int fd, r;
	uint64_t range[2] = { 0, 4096 };

	if (!self->d.ro) {
		if (bv_expect_ro)
			ASSERT_TRUE(self->d.ro)
		TH_LOG("%s should be read-only but BLKROGET says writable", bv_dev);
		SKIP(return, "%s is writable", bv_dev);
	}
	buf = bv_alloc(4096);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, bv_pread_all(self->d.fd, buf, 4096, 0));
	fd = open(bv_dev, O_RDWR | O_DIRECT);
	if (fd < 0) {
		EXPECT_TRUE(errno == EROFS || errno == EACCES || errno == EPERM)
		TH_LOG("open O_RDWR: unexpected %s", strerror(errno));
		free(buf);
		return;
	}
	memset(buf, 0xa5, 4096);
	r = bv_pwrite_all(fd, buf, 4096, 0);
	EXPECT_TRUE(r == -EPERM || r == -EROFS || r == -EIO)
	TH_LOG("write to a read-only device returned %d", r);
	EXPECT_NE(0, ioctl(fd, BLKZEROOUT, range));
	EXPECT_NE(0, ioctl(fd, BLKDISCARD, range));
	close(fd);
	free(buf);
}

/* Write, fsync and BLKFLSBUF, then read back through a new descriptor. */
TEST_F(dev, flush)
{
	const size_t len = 256 * 1024;
	void *buf;
	int fd;

	if (self->d.ro)
		SKIP(return, "read-only device");
	buf = bv_alloc(len);
	ASSERT_NE(NULL, buf);
	bv_fill(buf, len, self->d.seed, 0, 1);
	ASSERT_EQ(0, bv_pwrite_all(self->d.fd, buf, len, 0));
	ASSERT_EQ(0, fsync(self->d.fd));
	ASSERT_EQ(0, fdatasync(self->d.fd));
	/* Buffered write through the page cache, then flush it out. */
	fd = open(bv_dev, O_RDWR);
	ASSERT_LE(0, fd);
	bv_fill(buf, len, self->d.seed, len, 1);
	ASSERT_EQ(0, bv_pwrite_all(fd, buf, len, len));
	ASSERT_EQ(0, fsync(fd));
	ASSERT_EQ(0, ioctl(fd, BLKFLSBUF, 0));
	close(fd);
	memset(buf, 0, len);
	ASSERT_EQ(0, bv_pread_all(self->d.fd, buf, len, 0));
	EXPECT_EQ(-1, bv_check(buf, len, self->d.seed, 0, 1));
	ASSERT_EQ(0, bv_pread_all(self->d.fd, buf, len, len));
	EXPECT_EQ(-1, bv_check(buf, len, self->d.seed, len, 1));
	free(buf);
}

/*
 * BLKZEROOUT zeroes exactly its range (a sector-aligned, not page-aligned
 * one) and leaves the neighbours alone.
 */
TEST_F(dev, write_zeroes)
{
	const size_t len = 512 * 1024;
	const uint64_t base = 1024 * 1024;
	uint64_t range[2], wz_max = 0, after;
	uint8_t *buf, *want;

	if (self->d.ro)
		SKIP(return, "read-only device");
	bv_read_sysfs_u64(bv_dev, "queue/write_zeroes_max_bytes", &wz_max);
	TH_LOG("write_zeroes_max_bytes %" PRIu64 "%s", wz_max,
	       wz_max ? "" : " (the kernel writes zero pages instead)");
	buf = bv_alloc(len);
	want = bv_alloc(len);
	ASSERT_TRUE(buf && want);
	bv_fill(want, len, self->d.seed, base, 2);
	ASSERT_EQ(0, bv_pwrite_all(self->d.fd, want, len, base));
	range[0] = base + 64 * 1024 + self->d.lbs;
	range[1] = 256 * 1024 - 2 * self->d.lbs;
	ASSERT_EQ(0, ioctl(self->d.fd, BLKZEROOUT, range))
	TH_LOG("BLKZEROOUT: %s", strerror(errno));
	ASSERT_EQ(0, bv_pread_all(self->d.fd, buf, len, base));
	EXPECT_TRUE(bv_is_zero(buf + (range[0] - base), range[1]));
	/* Before and after the range: the pattern, intact. */
	EXPECT_EQ(0, memcmp(buf, want, range[0] - base));
	after = range[0] - base + range[1];
	EXPECT_EQ(0, memcmp(buf + after, want + after, len - after));
	free(want);
	free(buf);
}

/*
 * BLKDISCARD succeeds and afterwards each block reads back either as zeroes
 * or as the old data (virtio-blk does not promise zeroes), never anything
 * else; reads of the range must not fail.
 */
TEST_F(dev, discard)
{
	const size_t len = 1024 * 1024;
	const uint64_t base = 2 * 1024 * 1024;
	uint64_t range[2], dmax = 0, gran = 0;
	size_t i, zeroed = 0;
	uint8_t *buf;

	if (self->d.ro)
		SKIP(return, "read-only device");
	if (bv_read_sysfs_u64(bv_dev, "queue/discard_max_bytes", &dmax) || !dmax)
		SKIP(return, "the device does not offer discard");
	bv_read_sysfs_u64(bv_dev, "queue/discard_granularity", &gran);
	buf = bv_alloc(len);
	ASSERT_NE(NULL, buf);
	bv_fill(buf, len, self->d.seed, base, 3);
	ASSERT_EQ(0, bv_pwrite_all(self->d.fd, buf, len, base));
	range[0] = base;
	range[1] = len;
	ASSERT_EQ(0, ioctl(self->d.fd, BLKDISCARD, range))
	TH_LOG("BLKDISCARD: %s", strerror(errno));
	ASSERT_EQ(0, bv_pread_all(self->d.fd, buf, len, base));
	for (i = 0; i < len; i += 4096) {
		if (bv_is_zero(buf + i, 4096)) {
			zeroed++;
			continue;
		}
		ASSERT_EQ(-1, bv_check(buf + i, 4096, self->d.seed, base + i, 3))
		TH_LOG("block at %" PRIu64 " neither zero nor the old data", base + i);
	}
	TH_LOG("discard: granularity %" PRIu64 ", %zu of %zu blocks read back as zeroes", gran,
	       zeroed, len / 4096);
}

/* Pattern write/read-back at several block sizes and queue depths. */
FIXTURE(pattern)
{
	struct bv_dev d;
};

FIXTURE_VARIANT(pattern)
{
	size_t bs;
	unsigned int qd;
	size_t total; /* bytes written in the first pass */
};

/* clang-format would glue the brace to the macro, which checkpatch rejects. */
/* clang-format off */
FIXTURE_VARIANT_ADD(pattern, bs512_qd1) { .bs = 512, .qd = 1, .total = 512 << 10 };
FIXTURE_VARIANT_ADD(pattern, bs4k_qd1) { .bs = 4096, .qd = 1, .total = 2 << 20 };
FIXTURE_VARIANT_ADD(pattern, bs4k_qd32) { .bs = 4096, .qd = 32, .total = 4 << 20 };
FIXTURE_VARIANT_ADD(pattern, bs64k_qd8) { .bs = 64 << 10, .qd = 8, .total = 8 << 20 };
FIXTURE_VARIANT_ADD(pattern, bs1m_qd4) { .bs = 1 << 20, .qd = 4, .total = 16 << 20 };
/* clang-format on */

FIXTURE_SETUP(pattern)
{
	bv_dev_open(_metadata, &self->d);
}

FIXTURE_TEARDOWN(pattern)
{
	if (self->d.fd >= 0)
		close(self->d.fd);
}

/*
 * Pass 1 writes every chosen slot (random order, no two requests on the same
 * slot at once), pass 2 rewrites a random half with a new generation; each
 * pass is read back at the same queue depth and every block checked.
 */
TEST_F_TIMEOUT(pattern, write_verify, 180)
{
	size_t bs = variant->bs, n, nslots, i;
	unsigned int qd = variant->qd;
	struct bv_io *io;
	uint32_t *gen;
	uint64_t *slot;
	uint8_t *mem;

	if (self->d.ro)
		SKIP(return, "read-only device");
	if (bs < (size_t)self->d.lbs)
		SKIP(return, "bs %zu below the logical block size %d", bs, self->d.lbs);
	nslots = self->d.size / bs;
	n = variant->total / bs;
	if (n > nslots)
		n = nslots;
	ASSERT_LT(0, n);
	io = calloc(n, sizeof(*io));
	gen = calloc(n, sizeof(*gen));
	slot = calloc(nslots, sizeof(*slot));
	mem = bv_alloc(n * bs);
	ASSERT_TRUE(io && gen && slot && mem);

	/* A random sample of n distinct slots: partial Fisher-Yates. */
	for (i = 0; i < nslots; i++)
		slot[i] = i;
	for (i = 0; i < n; i++) {
		size_t j = i + bv_mix(self->d.seed + i) % (nslots - i);
		uint64_t t = slot[i];

		slot[i] = slot[j];
		slot[j] = t;
		io[i].off = slot[i] * bs;
		io[i].buf = mem + i * bs;
		gen[i] = 1;
		bv_fill(io[i].buf, bs, self->d.seed, io[i].off, gen[i]);
	}
	ASSERT_EQ(0, bv_aio_run(self->d.fd, 1, io, n, bs, qd));
	ASSERT_EQ(0, fsync(self->d.fd));

	for (int pass = 0; pass < 2; pass++) {
		size_t nw = 0;

		memset(mem, 0x5a, n * bs);
		ASSERT_EQ(0, bv_aio_run(self->d.fd, 0, io, n, bs, qd));
		for (i = 0; i < n; i++) {
			long bad = bv_check(io[i].buf, bs, self->d.seed, io[i].off, gen[i]);

			ASSERT_EQ(-1, bad)
			TH_LOG("pass %d: block %" PRIu64 " (gen %u) differs at byte %ld: %#" PRIx64,
			       pass, io[i].off, gen[i], bad * 8, ((uint64_t *)io[i].buf)[bad]);
		}
		if (pass == 1)
			break;
		/* Rewrite every other block (by random choice) with generation 2. */
		for (i = 0; i < n; i++) {
			if (bv_mix(self->d.seed ^ (i * 7919)) & 1) {
				gen[i] = 2;
				io[nw] = io[i];
				bv_fill(io[nw].buf, bs, self->d.seed, io[nw].off, 2);
				nw++;
			}
		}
		/* Rebuild the full list for the read-back after the rewrite. */
		if (nw)
			ASSERT_EQ(0, bv_aio_run(self->d.fd, 1, io, nw, bs, qd));
		for (i = 0; i < n; i++) {
			io[i].off = slot[i] * bs;
			io[i].buf = mem + i * bs;
		}
	}
	free(mem);
	free(slot);
	free(gen);
	free(io);
}

/* ---- stamp / check: data seen in the host's image after power-off -------- */

static uint64_t bv_stamp_off(uint64_t size, uint64_t seed, unsigned int i)
{
	uint64_t stride = (size - BV_TAIL) / BV_STAMP_BS / BV_STAMP_BLOCKS;

	return (i * stride + bv_mix(seed + i) % stride) * BV_STAMP_BS;
}

static int bv_stamp(const char *dev, uint64_t seed)
{
	uint8_t *buf = bv_alloc(BV_TAIL);
	uint64_t size, range[2];
	unsigned int i;
	int fd, ret = 1;

	fd = open(dev, O_RDWR | O_DIRECT);
	if (fd < 0 || !buf) {
		fprintf(stderr, "stamp: open %s: %s\n", dev, strerror(errno));
		return 1;
	}
	if (ioctl(fd, BLKGETSIZE64, &size) || size < 4 * BV_TAIL) {
		fprintf(stderr, "stamp: %s: no size, or below 4 MiB\n", dev);
		goto out;
	}
	for (i = 0; i < BV_STAMP_BLOCKS; i++) {
		uint64_t off = bv_stamp_off(size, seed, i);

		bv_fill(buf, BV_STAMP_BS, seed, off, 7);
		if (bv_pwrite_all(fd, buf, BV_STAMP_BS, off)) {
			fprintf(stderr, "stamp: write at %" PRIu64 ": %s\n", off, strerror(errno));
			goto out;
		}
	}
	bv_fill(buf, BV_TAIL, seed, size - BV_TAIL, 7);
	range[0] = size - BV_TAIL + BV_ZERO_OFF;
	range[1] = BV_ZERO_LEN;
	if (bv_pwrite_all(fd, buf, BV_TAIL, size - BV_TAIL) || fsync(fd) ||
	    ioctl(fd, BLKZEROOUT, range) || fsync(fd) || ioctl(fd, BLKFLSBUF, 0)) {
		fprintf(stderr, "stamp: tail write/zero-out/flush: %s\n", strerror(errno));
		goto out;
	}
	printf("# stamp: %u blocks and a zeroed range written to %s (%" PRIu64
	       " bytes), seed %" PRIu64 "\n",
	       BV_STAMP_BLOCKS, dev, size, seed);
	ret = 0;
out:
	close(fd);
	free(buf);
	return ret;
}

static int bv_stamp_check(const char *img, uint64_t seed)
{
	uint8_t *buf = bv_alloc(BV_TAIL), *want = bv_alloc(BV_TAIL);
	uint64_t size, tail;
	unsigned int i, bad = 0;
	struct stat st;
	int fd;

	fd = open(img, O_RDONLY);
	if (fd < 0 || fstat(fd, &st) || !buf || !want) {
		fprintf(stderr, "check: %s: %s\n", img, strerror(errno));
		return 1;
	}
	size = (uint64_t)st.st_size;
	for (i = 0; i < BV_STAMP_BLOCKS; i++) {
		uint64_t off = bv_stamp_off(size, seed, i);
		long w;

		if (bv_pread_all(fd, buf, BV_STAMP_BS, off)) {
			fprintf(stderr, "check: read at %" PRIu64 " failed\n", off);
			bad++;
			continue;
		}
		w = bv_check(buf, BV_STAMP_BS, seed, off, 7);
		if (w >= 0 && bad++ < 4)
			fprintf(stderr, "check: block at %" PRIu64 " differs at byte %ld\n", off,
				w * 8);
	}
	tail = size - BV_TAIL;
	if (bv_pread_all(fd, buf, BV_TAIL, tail)) {
		fprintf(stderr, "check: read of the last MiB failed\n");
		bad++;
	} else {
		bv_fill(want, BV_TAIL, seed, tail, 7);
		if (memcmp(buf, want, BV_ZERO_OFF) ||
		    memcmp(buf + BV_ZERO_OFF + BV_ZERO_LEN, want + BV_ZERO_OFF + BV_ZERO_LEN,
			   BV_TAIL - BV_ZERO_OFF - BV_ZERO_LEN)) {
			fprintf(stderr, "check: the data around the zeroed range differs\n");
			bad++;
		}
		if (!bv_is_zero(buf + BV_ZERO_OFF, BV_ZERO_LEN)) {
			fprintf(stderr, "check: the zeroed range is not zero in the image\n");
			bad++;
		}
	}
	close(fd);
	free(buf);
	free(want);
	if (bad)
		fprintf(stderr, "check: %s: %u mismatches (seed %" PRIu64 ")\n", img, bad, seed);
	return bad ? 1 : 0;
}

/*
 * -f/-F FIXTURE and -t/-T TEST select or drop tests, like the option of the
 * same names in newer kselftest harnesses (6.1's has none): a read-only
 * device runs only what applies to it, instead of a column of SKIPs.
 */
#define BV_MAX_FILTERS 16

struct bv_filter {
	char kind; /* 'f', 'F', 't' or 'T' */
	const char *name;
};

static struct bv_filter bv_filters[BV_MAX_FILTERS];
static int bv_nfilters;

static int bv_wanted(const char *fixture, const char *test)
{
	int i, has_f = 0, has_t = 0, in_f = 0, in_t = 0;

	for (i = 0; i < bv_nfilters; i++) {
		const struct bv_filter *fl = &bv_filters[i];

		switch (fl->kind) {
		case 'F':
			if (!strcmp(fl->name, fixture))
				return 0;
			break;
		case 'T':
			if (!strcmp(fl->name, test))
				return 0;
			break;
		case 'f':
			has_f = 1;
			in_f |= !strcmp(fl->name, fixture);
			break;
		case 't':
			has_t = 1;
			in_t |= !strcmp(fl->name, test);
			break;
		}
	}
	if (has_f && has_t)
		return in_f || in_t;
	return (!has_f || in_f) && (!has_t || in_t);
}

/* Unlink unwanted tests (the list: next-linked, head->prev is the tail). */
static void bv_apply_filters(void)
{
	struct __fixture_metadata *f;

	for (f = __fixture_list; f; f = f->next) {
		struct __test_metadata *t = f->tests, *next, *head = NULL, *tail = NULL;

		for (; t; t = next) {
			next = t->next;
			if (!bv_wanted(f->name, t->name))
				continue;
			t->next = NULL;
			if (!head) {
				head = t;
			} else {
				tail->next = t;
				t->prev = tail;
			}
			tail = t;
			head->prev = tail;
		}
		f->tests = head;
	}
}

static void bv_usage(FILE *f)
{
	fprintf(f, "usage: blk_verify [--dev DEV] [--expect-ro] [--size BYTES]\n"
		   "                  [-f|-F FIXTURE]... [-t|-T TEST]...\n"
		   "       blk_verify stamp DEV SEED\n"
		   "       blk_verify check IMAGE SEED\n"
		   "DEV defaults to $PVIO_BLK_DEV; the tests overwrite it.\n"
		   "-f/-t run only the named fixtures/tests, -F/-T leave them out.\n"
		   "Fixtures: dev (capacity read_only flush write_zeroes discard),\n"
		   "pattern (write_verify, with bs/qd variants).\n");
}

int main(int argc, char **argv)
{
	int i;

	if (argc == 4 && !strcmp(argv[1], "stamp"))
		return bv_stamp(argv[2], strtoull(argv[3], NULL, 0));
	if (argc == 4 && !strcmp(argv[1], "check"))
		return bv_stamp_check(argv[2], strtoull(argv[3], NULL, 0));
	bv_dev = getenv("PVIO_BLK_DEV");
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			bv_usage(stdout);
			return 0;
		}
		if (!strcmp(a, "--dev") && i + 1 < argc) {
			bv_dev = argv[++i];
		} else if (!strcmp(a, "--expect-ro")) {
			bv_expect_ro = 1;
		} else if (!strcmp(a, "--size") && i + 1 < argc) {
			bv_expect_size = strtoull(argv[++i], NULL, 0);
		} else if (strlen(a) == 2 && a[0] == '-' && strchr("fFtT", a[1]) && i + 1 < argc &&
			   bv_nfilters < BV_MAX_FILTERS) {
			bv_filters[bv_nfilters].kind = a[1];
			bv_filters[bv_nfilters++].name = argv[++i];
		} else {
			fprintf(stderr, "blk_verify: bad argument '%s'\n", a);
			bv_usage(stderr);
			return 2;
		}
	}
	if (!bv_dev || !*bv_dev) {
		printf("TAP version 13\n1..0 # SKIP no device: pass --dev or set PVIO_BLK_DEV\n");
		return KSFT_SKIP;
	}
	bv_apply_filters();
	return test_harness_run(argc, argv);
}
