// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_vu.c - the set-up and the session of the fuzz targets that drive a
 * real pviod device over vhost-user (fuzz_vu_msg, fuzz_inflight); see
 * fuzz_vu.h.  Every failure here is the harness's, not pviod's: abort().
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/socket.h>

#include "blk/blk.h"
#include "core/worker.h"
#include "vhost-user/msg.h"
#include "vhost-user/socket.h"

#include "fuzz_vu.h"

static struct pviod_workers fuzz_workers;
static struct pviod_env fuzz_env;

/**
 * fuzz_vu_blk_create - a virtio-blk device "blk0" with its vhost-user side
 * @opts: the device options after socket= and file= (queues=...)
 *
 * One worker, pviod's log quiet unless FUZZ_VU_LOG is set.  The image stays
 * open; its name and directory are gone before this returns.
 *
 * Return: the device; aborts on any failure.
 */
struct pviod_device *fuzz_vu_blk_create(const char *opts)
{
	struct pviod_worker_config wc = { .nworkers = 1 };
	char dir[] = "/tmp/pvio-fuzz.XXXXXX", img[64], all[256];
	struct pviod_device *dev;
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
	snprintf(all, sizeof(all), "socket=%s/s,file=%s,%s", dir, img, opts);
	if (pviod_blk_create(&fuzz_env, "blk0", all, &dev) || vu_dev_new(dev))
		abort();
	unlink(img);
	rmdir(dir);
	return dev;
}

/**
 * fuzz_vu_conn_open - a new session: a socketpair whose first end is @dev's
 * @dev: the device
 * @sv: the pair; sv[1] is the front-end's end
 */
void fuzz_vu_conn_open(struct pviod_device *dev, int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		abort();
	dev->vu->conn_fd = sv[0];
}

/**
 * fuzz_vu_conn_close - end the session as vu_conn_close() does, minus the
 * event loop: the session reset, both ends closed
 * @dev: the device
 * @sv: the pair fuzz_vu_conn_open() made
 */
void fuzz_vu_conn_close(struct pviod_device *dev, int sv[2])
{
	vu_session_reset(dev->vu);
	dev->vu->conn_fd = -1;
	close(sv[0]);
	close(sv[1]);
}

/**
 * fuzz_fd_lowest - the lowest free fd number: it rises when an fd leaks
 *
 * Return: that number.
 */
int fuzz_fd_lowest(void)
{
	int fd = dup(0);

	if (fd >= 0)
		close(fd);
	return fd;
}

/**
 * fuzz_fd_check - abort when an fd leaked since fuzz_fd_lowest() said @floor
 * @floor: the lowest free fd number before the input
 */
void fuzz_fd_check(int floor)
{
	int fd = fuzz_fd_lowest();

	if (fd != floor) {
		fprintf(stderr, "fd leak: lowest free fd %d, was %d\n", fd, floor);
		abort();
	}
}
