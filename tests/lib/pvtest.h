/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pvtest.h - what several tests share (libpvtest.a, tests/lib/): the
 * processes a test runs as its peers, pviod among them, and what they
 * hold; file descriptors over a unix socket; frames and checksums; a
 * temporary directory's disk
 * images, and the directory removed.  The raw vhost-user front-end has its own
 * header, raw.h.
 *
 * Every function here is for tests: it prints nothing on success (but
 * pvt_growth_check()'s TAP comment line), returns 0 / -errno, and leaves
 * the assertions to its caller.
 */
#ifndef PVIO_TESTS_PVTEST_H
#define PVIO_TESTS_PVTEST_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* --- processes (proc.c) ------------------------------------------------------------------ */

/* How long pvt_stop() callers usually give a peer to exit on SIGTERM. */
#define PVT_STOP_MS 2000

long pvt_ms(void);
pid_t pvt_spawn(char *const argv[], const char *log, int stdin_fd);
int pvt_wait_socket(const char *path, pid_t pid, int timeout_ms);
int pvt_stop(pid_t pid, int grace_ms);
void pvt_dump_log(const char *log);
void pvt_exe_dir(char *buf, size_t len);

int pvt_proc_fds(pid_t pid);
int pvt_proc_threads(pid_t pid);
long pvt_proc_rss_kb(pid_t pid);

/* A process (pviod) that a test attacks again and again must not grow. */
#define PVT_RSS_SLACK_KB 1024 /* what malloc's arenas may still take in steady state */

struct pvt_growth {
	pid_t pid;
	int idle_fds; /* before the tests */
	int fds0; /* at the mark: after the warm-up runs */
	long rss0; /* KiB, at the mark */
};

void pvt_growth_start(struct pvt_growth *g, pid_t pid);
void pvt_growth_mark(struct pvt_growth *g);
const char *pvt_growth_check(const struct pvt_growth *g, const char *name, unsigned int runs,
			     char *why, size_t len);

/* --- pviod as a test's peer (pviod.c) ---------------------------------------------------- */

struct pvt_pviod {
	pid_t pid; /* 0 when not running */
	char bin[PATH_MAX]; /* $PVIOD, else the pviod of this test's build ($(O)/pviod) */
};

int pvt_pviod_find(struct pvt_pviod *p);
int pvt_pviod_start(struct pvt_pviod *p, const char *log, const char *const args[], int timeout_ms);
bool pvt_pviod_alive(const struct pvt_pviod *p);
int pvt_pviod_stop(struct pvt_pviod *p, int grace_ms);
int pvt_pviod_kill(struct pvt_pviod *p);

/* --- a front-end under verified I/O (blk_io.c; with libvuser.a) ------------------------ */

struct pvt_blk_io {
	pthread_t thread;
	char sock[128]; /* the disk's vhost-user socket */
	uint64_t bytes; /* the span written and read back, from offset 0 */
	bool stop; /* atomic */
	unsigned long rounds; /* atomic: verified write+read rounds so far */
	int err; /* the first failure (-errno, -EILSEQ), 0 when none */
};

int pvt_blk_io_start(struct pvt_blk_io *t);
int pvt_blk_io_stop(struct pvt_blk_io *t);

/* --- file descriptors over a unix socket (fd.c) ------------------------------------------ */

#define PVT_FD_MAX 16 /* per message: more than vhost-user allows, for tests that send too many */

int pvt_fd_send_flags(int sock, const void *buf, size_t len, const int *fds, unsigned int nfds,
		      int flags);
int pvt_fd_send(int sock, const void *buf, size_t len, const int *fds, unsigned int nfds);
int pvt_fd_recv(int sock, void *buf, size_t len, int *fds, unsigned int max, unsigned int *nfds);

/* --- directories (dir.c) ---------------------------------------------------------------- */

int pvt_rmtree(const char *path);
int pvt_image_create(const char *path, off_t bytes);

/* --- frames (frame.c) -------------------------------------------------------------------- */

void pvt_be16_put(uint8_t *p, unsigned int v);
unsigned int pvt_be16_get(const uint8_t *p);
uint32_t pvt_be32_get(const uint8_t *p);
uint32_t pvt_csum_add(uint32_t sum, const uint8_t *p, size_t len);
uint16_t pvt_csum_fold(uint32_t sum);
uint32_t pvt_tcp_pseudo_sum(const uint8_t *ip, bool ipv6, size_t tcp_len);
size_t pvt_eth_put(uint8_t *f, const uint8_t *dst, const uint8_t *src, int vid, unsigned int type);

#endif /* PVIO_TESTS_PVTEST_H */
