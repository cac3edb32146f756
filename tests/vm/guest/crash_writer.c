// SPDX-License-Identifier: GPL-2.0
/*
 * crash_writer: the guest workload of tests/vm/pviod_crash_recovery.sh, and
 * the host's check of the image afterwards.  Built static for the guest.
 *
 *   crash_writer run DATA CTRL SEED NPROC
 *	NPROC processes, each owning 1/NPROC of DATA, write 4 KiB blocks
 *	(O_DIRECT, one at a time) at seeded offsets and read each back at once;
 *	every 8th write also re-reads an older block of their own and checks it
 *	holds its last generation.  They stop when the first sector of CTRL
 *	(a disk the host writes) starts with "STOP", then re-read every block
 *	they wrote.  Prints TAP, and "# counts: N0 N1 ..." for the host: the
 *	number of writes each process saw complete.  Every 250 ms the total
 *	so far goes to CTRL's second sector ("progress N"), for the host.
 *   crash_writer check IMAGE SEED NPROC N0 N1 ...
 *	on the host: replay each process's sequence up to its count and check
 *	that every block of IMAGE holds the last write the guest saw complete.
 *
 * Write i (from 1) of process w goes to block hash(seed, w, i) of w's part
 * and carries (offset, generation i, seed) in its first words and a keyed
 * stream after: a lost, stale, misplaced or torn write is caught.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>

#define CW_BS 4096
#define CW_MAGIC 0x6372617368777200ULL /* "crashwr\0" */
#define CW_NPROC_MAX 16

static uint64_t cw_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t cw_block(uint64_t seed, unsigned int w, uint64_t i, uint64_t nblocks)
{
	return cw_mix(seed ^ cw_mix(((uint64_t)w << 48) ^ i)) % nblocks;
}

static void cw_fill(uint64_t *b, uint64_t seed, uint64_t off, uint64_t gen)
{
	uint64_t k = cw_mix(seed ^ cw_mix(off) ^ (gen << 20));
	unsigned int i;

	b[0] = off;
	b[1] = CW_MAGIC ^ gen;
	b[2] = seed;
	for (i = 3; i < CW_BS / 8; i++)
		b[i] = cw_mix(k + i);
}

/* 0 when @b is generation @gen of @off; else prints why. */
static int cw_check(const uint64_t *b, uint64_t seed, uint64_t off, uint64_t gen, const char *who)
{
	static uint64_t want[CW_BS / 8];
	unsigned int i;

	if (gen == 0) {
		for (i = 0; i < CW_BS / 8; i++)
			if (b[i])
				goto bad;
		return 0;
	}
	cw_fill(want, seed, off, gen);
	if (!memcmp(b, want, CW_BS))
		return 0;
bad:
	printf("# %s: block at %" PRIu64 ": expected generation %" PRIu64 ", found offset %" PRIu64
	       " generation %" PRIu64 "%s\n",
	       who, off, gen, b[0], (uint64_t)(b[1] ^ CW_MAGIC),
	       b[0] == off && (b[1] ^ CW_MAGIC) == gen ? " (torn)" : "");
	return -1;
}

static int cw_stop_requested(int ctrl, void *buf)
{
	if (pread(ctrl, buf, 512, 0) != 512)
		return 0;
	return !memcmp(buf, "STOP", 4);
}

/* Shared by the fork()ed writers and the parent: every access is __atomic_*(). */
struct cw_shared {
	uint64_t count[CW_NPROC_MAX]; /* writes seen complete */
	int stop;
	int failed[CW_NPROC_MAX];
};

static int cw_worker(const char *dev, uint64_t seed, unsigned int w, unsigned int nproc,
		     struct cw_shared *sh)
{
	uint64_t size, nblocks, base, i, *gen, *buf;
	int fd, bad = 0;

	fd = open(dev, O_RDWR | O_DIRECT);
	if (fd < 0 || ioctl(fd, BLKGETSIZE64, &size)) {
		printf("# worker %u: %s: %s\n", w, dev, strerror(errno));
		return 1;
	}
	nblocks = size / CW_BS / nproc;
	base = (uint64_t)w * nblocks * CW_BS;
	gen = calloc(nblocks, sizeof(*gen));
	if (!gen || posix_memalign((void **)&buf, CW_BS, CW_BS))
		return 1;
	for (i = 1; !__atomic_load_n(&sh->stop, __ATOMIC_RELAXED) && !bad; i++) {
		uint64_t b = cw_block(seed, w, i, nblocks), off = base + b * CW_BS;

		cw_fill(buf, seed, off, i);
		if (pwrite(fd, buf, CW_BS, (off_t)off) != CW_BS) {
			printf("# worker %u: write %" PRIu64 " at %" PRIu64 ": %s\n", w, i, off,
			       strerror(errno));
			bad = 1;
			break;
		}
		gen[b] = i;
		__atomic_store_n(&sh->count[w], i, __ATOMIC_RELAXED);
		memset(buf, 0xa5, CW_BS);
		if (pread(fd, buf, CW_BS, (off_t)off) != CW_BS ||
		    cw_check(buf, seed, off, i, "read-back")) {
			bad = 1;
			break;
		}
		if (i % 8 == 0) {
			uint64_t o = cw_mix(i ^ seed) % nblocks;

			if (pread(fd, buf, CW_BS, (off_t)(base + o * CW_BS)) != CW_BS ||
			    cw_check(buf, seed, base + o * CW_BS, gen[o], "re-read"))
				bad = 1;
		}
	}
	/* The final pass: every block holds its last generation (or zeroes). */
	for (i = 0; i < nblocks && !bad; i++) {
		if (pread(fd, buf, CW_BS, (off_t)(base + i * CW_BS)) != CW_BS ||
		    cw_check(buf, seed, base + i * CW_BS, gen[i], "final pass"))
			bad = 1;
	}
	__atomic_store_n(&sh->failed[w], bad, __ATOMIC_RELAXED);
	close(fd);
	return bad;
}

static int cw_run(const char *dev, const char *ctrl_dev, uint64_t seed, unsigned int nproc)
{
	struct cw_shared *sh;
	pid_t pids[CW_NPROC_MAX];
	uint64_t total = 0, last = 0;
	unsigned int w, ticks = 0;
	int ctrl, st, failed = 0;
	char *pbuf;
	void *cbuf;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ctrl = open(ctrl_dev, O_RDWR | O_DIRECT);
	if (sh == MAP_FAILED || ctrl < 0 || posix_memalign(&cbuf, 4096, 4096) ||
	    posix_memalign((void **)&pbuf, 4096, 4096)) {
		printf("not ok 1 set-up: %s\n", strerror(errno));
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (w = 0; w < nproc; w++) {
		pids[w] = fork();
		if (pids[w] == 0)
			_exit(cw_worker(dev, seed, w, nproc, sh));
	}
	while (!cw_stop_requested(ctrl, cbuf)) {
		usleep(250000);
		ticks++;
		for (total = 0, w = 0; w < nproc; w++)
			total += __atomic_load_n(&sh->count[w], __ATOMIC_RELAXED);
		/*
		 * Each tick: the host waits for this to move after every
		 * restart of pviod, to see that I/O resumed.
		 */
		memset(pbuf, 0, 512);
		snprintf(pbuf, 512, "progress %" PRIu64 "\n", total);
		if (pwrite(ctrl, pbuf, 512, 512) != 512)
			printf("# progress to the control disk: %s\n", strerror(errno));
		if (ticks % 40 == 0) {
			printf("# %u s: %" PRIu64 " writes completed (+%" PRIu64 ")\n", ticks / 4,
			       total, total - last);
			last = total;
		}
		for (w = 0; w < nproc; w++)
			if (__atomic_load_n(&sh->failed[w], __ATOMIC_RELAXED))
				break;
		if (w < nproc)
			break;
	}
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELAXED);
	for (w = 0; w < nproc; w++) {
		if (waitpid(pids[w], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			failed = 1;
	}
	for (total = 0, w = 0; w < nproc; w++)
		total += __atomic_load_n(&sh->count[w], __ATOMIC_RELAXED);
	printf("%s 1 %u writers: %" PRIu64
	       " writes completed, each read back and verified, then every block re-read\n",
	       failed ? "not ok" : "ok", nproc, total);
	printf("# counts:");
	for (w = 0; w < nproc; w++)
		printf(" %" PRIu64, __atomic_load_n(&sh->count[w], __ATOMIC_RELAXED));
	printf("\n");
	return failed;
}

static int cw_image_check(const char *img, uint64_t seed, unsigned int nproc, char **counts)
{
	uint64_t size, nblocks, w, i, *gen, verified = 0, writes = 0;
	static uint64_t buf[CW_BS / 8];
	struct stat stbuf;
	int fd, bad = 0;

	fd = open(img, O_RDONLY);
	if (fd < 0 || fstat(fd, &stbuf)) {
		fprintf(stderr, "crash_writer: %s: %s\n", img, strerror(errno));
		return 1;
	}
	size = (uint64_t)stbuf.st_size;
	nblocks = size / CW_BS / nproc;
	gen = calloc(nblocks, sizeof(*gen));
	if (!gen)
		return 1;
	for (w = 0; w < nproc; w++) {
		uint64_t n = strtoull(counts[w], NULL, 10), base = w * nblocks * CW_BS;

		memset(gen, 0, nblocks * sizeof(*gen));
		for (i = 1; i <= n; i++)
			gen[cw_block(seed, (unsigned int)w, i, nblocks)] = i;
		writes += n;
		for (i = 0; i < nblocks; i++) {
			if (pread(fd, buf, CW_BS, (off_t)(base + i * CW_BS)) != CW_BS ||
			    cw_check(buf, seed, base + i * CW_BS, gen[i], "image")) {
				bad++;
				continue;
			}
			if (gen[i])
				verified++;
		}
	}
	printf("# image: %" PRIu64 " writes replayed, %" PRIu64
	       " written blocks hold their last completed write, %d bad\n",
	       writes, verified, bad);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && !strcmp(argv[1], "run")) {
		unsigned int n = (unsigned int)atoi(argv[5]);

		if (!n || n > CW_NPROC_MAX)
			return 2;
		return cw_run(argv[2], argv[3], strtoull(argv[4], NULL, 0), n);
	}
	if (argc >= 5 && !strcmp(argv[1], "check")) {
		unsigned int n = (unsigned int)atoi(argv[4]);

		if (!n || n > CW_NPROC_MAX || (unsigned int)argc != 5 + n)
			return 2;
		return cw_image_check(argv[2], strtoull(argv[3], NULL, 0), n, argv + 5);
	}
	fprintf(stderr, "usage: crash_writer run DATA CTRL SEED NPROC\n"
			"       crash_writer check IMAGE SEED NPROC N0 N1 ...\n");
	return 2;
}
