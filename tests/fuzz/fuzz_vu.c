// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_vu.c - the set-up and the session of the fuzz targets that drive
 * real pviod devices over vhost-user (fuzz_vu_msg, fuzz_inflight); see
 * fuzz_vu.h.  Every failure here is the harness's, not pviod's: abort().
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/socket.h>

#include "blk/blk.h"
#include "console/console.h"
#include "net/net.h"
#include "core/worker.h"
#include "vhost-user/msg.h"
#include "vhost-user/socket.h"

#include "fuzz_vu.h"

static struct pviod_workers fuzz_workers;
static struct pviod_env fuzz_env;

/**
 * fuzz_vu_create - a device and its vhost-user side
 * @kind: virtio-blk ("blk0", on a 1 MiB image), virtio-net ("net0", on the
 *        loop back-end) or console ("con0", its ports writing to /dev/null)
 * @opts: the device options after socket= and file=, backend= or out=
 *        (queues=..., ports=...)
 *
 * The devices of a process share one worker, started with the first; pviod's
 * log is quiet unless FUZZ_VU_LOG is set.  The image and the sinks stay open;
 * their names and directory are gone before this returns.
 *
 * Return: the device; aborts on any failure.
 */
struct pviod_device *fuzz_vu_create(enum fuzz_vu_kind kind, const char *opts)
{
	struct pviod_worker_config wc = { .nworkers = 1 };
	char dir[] = "/tmp/pvio-fuzz.XXXXXX", path[3][64], all[320];
	struct pviod_device *dev;
	unsigned int i;
	int fd, ret;

	pviod_log_level = getenv("FUZZ_VU_LOG") ? PVIOD_LOG_DEBUG : PVIOD_LOG_ERR - 1;
	if (!mkdtemp(dir))
		abort();
	/* The image; the console's sinks: port 0 and port k >= 1 at PATH.k. */
	snprintf(path[0], sizeof(path[0]), "%s/img", dir);
	snprintf(path[1], sizeof(path[1]), "%s/con", dir);
	snprintf(path[2], sizeof(path[2]), "%s/con.1", dir);
	if (!fuzz_workers.n) {
		if (pviod_workers_start(&fuzz_workers, &wc))
			abort();
		fuzz_env.workers = &fuzz_workers;
	}
	switch (kind) {
	case FUZZ_VU_BLK:
		fd = open(path[0], O_CREAT | O_RDWR | O_CLOEXEC, 0600);
		if (fd < 0 || ftruncate(fd, 1 << 20))
			abort();
		close(fd);
		snprintf(all, sizeof(all), "socket=%s/s,file=%s,%s", dir, path[0], opts);
		ret = pviod_blk_create(&fuzz_env, "blk0", all, &dev);
		break;
	case FUZZ_VU_NET:
		snprintf(all, sizeof(all), "socket=%s/s,backend=loop,%s", dir, opts);
		ret = pviod_net_create(&fuzz_env, "net0", all, &dev);
		break;
	case FUZZ_VU_CONSOLE:
		if (symlink("/dev/null", path[1]) || symlink("/dev/null", path[2]))
			abort();
		snprintf(all, sizeof(all), "socket=%s/s,out=file:%s,%s", dir, path[1], opts);
		ret = pviod_console_create(&fuzz_env, "con0", all, &dev);
		break;
	default:
		abort();
	}
	if (ret || vu_dev_new(dev))
		abort();
	for (i = 0; i < 3; i++)
		unlink(path[i]);
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
	vu_rx_reset(&dev->vu->rx);
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
