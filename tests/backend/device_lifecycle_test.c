// SPDX-License-Identifier: GPL-2.0
/*
 * device_lifecycle_test - devices added and removed while another device
 * serves verified I/O, all in one pviod context driven in-process.
 *
 * The test's main thread is pviod's control thread (pviod_run()); a timerfd
 * in its loop adds and removes devices one step per tick, as a management
 * request would.  Meanwhile a front-end thread (the userspace driver) writes
 * a pattern to another disk and reads it back, without pause.  What must
 * hold: the disk under I/O never sees an error; every removed device's
 * socket is gone; a device removed while a front-end is connected
 * disconnects that front-end instead of hanging it; and after a hundred
 * cycles pviod holds exactly the fds and threads it held before.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>

#include "kselftest_harness.h"
#include "daemon/pviod.h"
#include "pvtest.h"
#include "vuser.h"

#define CYCLES 100
#define IMG_BYTES (4u << 20)
#define BLOCK 4096u

/* A front-end on the device about to go: connects, does one read, waits. */
struct doomed {
	pthread_t thread;
	char sock[128];
	int opened; /* 0, or vuser_blk_open()'s error */
	int after; /* a request's result once the device went */
	bool ready; /* atomic: opened and read once */
	bool gone; /* atomic: the test removed the device */
};

static void *doomed_main(void *arg)
{
	struct doomed *d = arg;
	struct vuser_blk_opts o = { .socket_path = d->sock,
				    .buf_bytes = BLOCK,
				    .timeout_ms = 10000 };
	struct vuser_blk blk;
	uint8_t *buf;

	d->opened = vuser_blk_open(&blk, &o);
	if (d->opened) {
		__atomic_store_n(&d->ready, true, __ATOMIC_RELEASE);
		return NULL;
	}
	buf = vuser_blk_alloc(&blk, BLOCK);
	d->after = vuser_blk_sync(&blk, 0, PVIO_BLK_T_IN, 0, buf, BLOCK);
	__atomic_store_n(&d->ready, true, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&d->gone, __ATOMIC_ACQUIRE))
		usleep(1000);
	/* The device is gone: this must fail, not hang. */
	d->after = vuser_blk_sync(&blk, 0, PVIO_BLK_T_IN, 0, buf, BLOCK);
	vuser_blk_close(&blk);
	return NULL;
}

/* The management side: one step per timer tick, on the control thread. */
struct stepper {
	struct pviod_io io;
	int timer_fd;
	struct pviod *p;
	const struct pvt_blk_io *busy; /* the other disk's front-end */
	const char *dir;
	unsigned int step;
	struct pviod_device *dev; /* the device added and not yet removed */
	char sock[128];
	struct doomed doomed;
	bool doomed_started;
	int fds0, tasks0; /* after the first step: what every cycle returns to */
	unsigned int fd_drift, task_drift, stale_sockets, add_failures, del_failures;
	unsigned int doomed_cycles, doomed_bad;
};

static void stepper_tick(struct pviod_io *io, int res)
{
	struct stepper *s = (struct stepper *)io;
	static const char *const kinds[] = { "blk", "net", "console" };
	unsigned int cycle = s->step / 2;
	const char *kind = kinds[cycle % 3];
	char spec[512];
	uint64_t n;

	if (read(s->timer_fd, &n, sizeof(n)) != sizeof(n))
		return;
	/*
	 * The baseline fd and thread counts include the other disk's
	 * connection: no step before its front-end has done a round.
	 */
	if (!__atomic_load_n(&s->busy->rounds, __ATOMIC_RELAXED))
		return;
	if (s->doomed_started && !__atomic_load_n(&s->doomed.ready, __ATOMIC_ACQUIRE))
		return; /* give the doomed front-end its connection first */
	if (s->step == 2 * CYCLES) {
		s->p->loop.quit = true;
		return;
	}
	if (!(s->step & 1)) {
		/* Add. */
		snprintf(s->sock, sizeof(s->sock), "%s/dev%u.sock", s->dir, cycle);
		if (!strcmp(kind, "blk"))
			snprintf(spec, sizeof(spec), "blk,socket=%s,file=%s/b.img,direct=off",
				 s->sock, s->dir);
		else if (!strcmp(kind, "net"))
			snprintf(spec, sizeof(spec), "net,socket=%s,backend=loop,queues=2",
				 s->sock);
		else
			snprintf(spec, sizeof(spec),
				 "console,socket=%s,out=file:%s/con%u.out,ports=2", s->sock, s->dir,
				 cycle);
		if (pviod_device_add(s->p, spec, &s->dev)) {
			s->add_failures++;
			s->dev = NULL;
		} else if (!strcmp(kind, "blk") && cycle % 10 == 3) {
			/* This one goes with a front-end connected. */
			memset(&s->doomed, 0, sizeof(s->doomed));
			strcpy(s->doomed.sock, s->sock);
			s->doomed_started =
				!pthread_create(&s->doomed.thread, NULL, doomed_main, &s->doomed);
		}
	} else if (s->dev) {
		/* Remove. */
		if (pviod_device_del(s->p, s->dev))
			s->del_failures++;
		s->dev = NULL;
		if (access(s->sock, F_OK) == 0)
			s->stale_sockets++;
		if (s->doomed_started) {
			__atomic_store_n(&s->doomed.gone, true, __ATOMIC_RELEASE);
			pthread_join(s->doomed.thread, NULL);
			s->doomed_started = false;
			s->doomed_cycles++;
			if (s->doomed.opened || !s->doomed.after)
				s->doomed_bad++;
		}
		/* Back to where the first cycle started: same fds, same threads. */
		if (s->step == 1) {
			s->fds0 = pvt_proc_fds(0);
			s->tasks0 = pvt_proc_threads(0);
		} else {
			s->fd_drift += pvt_proc_fds(0) != s->fds0;
			s->task_drift += pvt_proc_threads(0) != s->tasks0;
		}
	}
	s->step++;
}

/* The cycles that remove a blk device with a front-end connected. */
static unsigned int doomed_expected(void)
{
	unsigned int c, n = 0;

	for (c = 0; c < CYCLES; c++)
		n += c % 3 == 0 && c % 10 == 3;
	return n;
}

TEST(add_and_remove_while_another_device_serves)
{
	/* pviod's default polling: the workers adapt their windows throughout. */
	struct pviod_worker_config wcfg = { .nworkers = 2,
					    .poll = PVRING_POLL_ADAPTIVE,
					    .poll_max_us = 50 };
	struct itimerspec its = { .it_interval = { 0, 3000000 }, .it_value = { 0, 3000000 } };
	char dir[] = "/tmp/pviod-lifecycle.XXXXXX", path[128], cmd[384];
	struct stepper s = { 0 };
	struct pvt_blk_io io = { .bytes = IMG_BYTES }; /* keeps disk a busy */
	struct pviod p = { 0 };
	sigset_t set;

	pviod_log_level = PVIOD_LOG_WARN;
	/* As main() does: the control loop reads these from a signalfd. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/a.img", dir);
	ASSERT_EQ(0, pvt_image_create(path, IMG_BYTES));
	snprintf(path, sizeof(path), "%s/b.img", dir);
	ASSERT_EQ(0, pvt_image_create(path, IMG_BYTES));
	ASSERT_EQ(0, pviod_init(&p, &wcfg, NULL));

	snprintf(io.sock, sizeof(io.sock), "%s/a.sock", dir);
	snprintf(cmd, sizeof(cmd), "blk,socket=%s,file=%s/a.img,direct=off,queues=1", io.sock, dir);
	ASSERT_EQ(0, pviod_device_add(&p, cmd, NULL));
	ASSERT_EQ(0, pvt_blk_io_start(&io));

	s.p = &p;
	s.busy = &io;
	s.dir = dir;
	s.io.complete = stepper_tick;
	s.timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	ASSERT_LE(0, s.timer_fd);
	ASSERT_EQ(0, timerfd_settime(s.timer_fd, 0, &its, NULL));
	ASSERT_EQ(0, pviod_event_add(&p.loop, s.timer_fd, &s.io));

	EXPECT_EQ(0, pviod_run(&p));

	pviod_event_del(&p.loop, s.timer_fd);
	close(s.timer_fd);
	/* The front-end's last requests need the control loop no more: only workers. */
	pvt_blk_io_stop(&io);
	EXPECT_EQ(0, pviod_fini(&p));

	EXPECT_EQ(2 * CYCLES, s.step);
	EXPECT_EQ(0, s.add_failures);
	EXPECT_EQ(0, s.del_failures);
	EXPECT_EQ(0, s.stale_sockets);
	EXPECT_EQ(0, s.fd_drift);
	EXPECT_EQ(0, s.task_drift);
	EXPECT_EQ(doomed_expected(), s.doomed_cycles);
	EXPECT_EQ(0, s.doomed_bad);
	EXPECT_EQ(0, io.err);
	EXPECT_LT(0, io.rounds);
	TH_LOG("%u add/remove cycles; the other disk did %lu verified write+read rounds meanwhile",
	       CYCLES, io.rounds);
	if (pvt_rmtree(dir))
		TH_LOG("could not remove %s", dir);
}

TEST_HARNESS_MAIN
