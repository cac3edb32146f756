// SPDX-License-Identifier: GPL-2.0
/*
 * queue.c - one virtqueue of the front-end: its ring in guest memory, the
 * kick eventfd (we -> back-end) and the call eventfd (back-end -> we).
 *
 * The data path is pvring_drv: callers add buffers and reap used ones
 * directly on q->ring.  This file only adds what needs the operating system
 * or a clock: notifying the back-end, and waiting until it completes
 * something (polling the used ring for the queue's adaptive window, then
 * sleeping), bounded by a timeout and cut short when the back-end's socket
 * hangs up.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vuser.h"

/**
 * vuser_queue_init - allocate a queue's ring in guest memory and its eventfds
 * @q: the queue
 * @dev: its device (guest memory already created, features negotiated)
 * @index: the vhost-user vring index
 * @num: ring size, power of two
 * @indirect_max: descriptors per indirect table, 0 for none
 *
 * Return: 0, -ENOMEM when guest memory is too small, or eventfd's -errno.
 */
int vuser_queue_init(struct vuser_queue *q, struct vuser_dev *dev, unsigned int index,
		     unsigned int num, unsigned int indirect_max)
{
	struct pvring_drv_config cfg = { .num = num };
	struct pvring_layout l;
	int r;

	memset(q, 0, sizeof(*q));
	q->dev = dev;
	q->index = index;
	q->num = num;
	q->kick_fd = -1;
	q->call_fd = -1;
	pvring_poll_init(&q->poll, PVRING_POLL_ADAPTIVE, PVRING_POLL_MAX_NS_DEFAULT, 0, 0);
	cfg.event_idx = vuser_dev_has(dev, PVIO_F_EVENT_IDX);
	cfg.in_order = vuser_dev_has(dev, PVIO_F_IN_ORDER);
	cfg.format = vuser_dev_has(dev, PVIO_F_RING_PACKED) ? PVRING_PACKED : PVRING_SPLIT;
	r = pvring_layout(cfg.format, num, &l);
	if (r)
		return vuser_dev_err(dev, r, "ring %u: size %u is not a power of two up to %u",
				     index, num, PVRING_MAX_SIZE);
	/* Each area on lines of its own: the two sides write different ones. */
	cfg.desc = vuser_mem_alloc(&dev->mem, l.desc_bytes, 4096);
	cfg.driver = vuser_mem_alloc(&dev->mem, l.driver_bytes, 64);
	cfg.device = vuser_mem_alloc(&dev->mem, l.device_bytes, 4096);
	if (indirect_max >= 2) {
		size_t ind_bytes = num * pvring_indirect_bytes(indirect_max);

		cfg.indirect = vuser_mem_alloc(&dev->mem, ind_bytes, 64);
		cfg.indirect_addr = vuser_mem_gpa(&dev->mem, cfg.indirect);
		cfg.indirect_max = indirect_max;
		if (!cfg.indirect)
			return vuser_dev_err(dev, -ENOMEM, "guest memory too small for queue %u",
					     index);
	}
	if (!cfg.desc || !cfg.driver || !cfg.device)
		return vuser_dev_err(dev, -ENOMEM, "guest memory too small for queue %u", index);
	q->slot = calloc(num, sizeof(*q->slot));
	if (!q->slot)
		return vuser_dev_err(dev, -ENOMEM, "out of memory");
	cfg.slot = q->slot;
	q->area[0] = cfg.desc;
	q->area[1] = cfg.driver;
	q->area[2] = cfg.device;
	r = pvring_drv_init(&q->ring, &cfg);
	if (r) {
		vuser_dev_err(dev, r, "cannot set up ring %u of size %u", index, num);
		goto err_free_slot;
	}
	/* Off but while vuser_queue_wait() sleeps: the device need not call. */
	pvring_drv_disable_cb(&q->ring);
	q->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	q->call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->kick_fd < 0 || q->call_fd < 0) {
		r = vuser_dev_err(dev, -errno, "eventfd: %s", strerror(errno));
		goto err_close_fds;
	}
	return 0;

err_close_fds:
	if (q->kick_fd >= 0)
		close(q->kick_fd);
	if (q->call_fd >= 0)
		close(q->call_fd);
	q->kick_fd = -1;
	q->call_fd = -1;
err_free_slot:
	free(q->slot);
	q->slot = NULL;
	return r;
}

/**
 * vuser_queue_destroy - free a queue's private state and eventfds
 * @q: the queue; its ring memory goes with the guest memory
 */
void vuser_queue_destroy(struct vuser_queue *q)
{
	if (q->kick_fd >= 0)
		close(q->kick_fd);
	if (q->call_fd >= 0)
		close(q->call_fd);
	q->kick_fd = -1;
	q->call_fd = -1;
	free(q->slot);
	q->slot = NULL;
}

void vuser_queue_kick(struct vuser_queue *q)
{
	uint64_t one = 1;

	if (!pvring_drv_kick_prepare(&q->ring))
		return;
	q->kicks++;
	/* EAGAIN means the counter is already huge: the back-end will look anyway. */
	if (write(q->kick_fd, &one, sizeof(one)) < 0)
		return;
}

/**
 * vuser_queue_set_poll - how vuser_queue_wait() waits on this queue
 * @q: the queue (its one thread, or before it runs)
 * @mode: adaptive (the default), on (always poll @max_us first) or off
 *        (sleep at once)
 * @max_us: the longest window; 0: the default (50 us)
 */
void vuser_queue_set_poll(struct vuser_queue *q, enum pvring_poll_mode mode, unsigned int max_us)
{
	uint64_t ns = max_us ? (uint64_t)max_us * 1000u : PVRING_POLL_MAX_NS_DEFAULT;

	pvring_poll_init(&q->poll, mode,
			 ns > PVRING_POLL_MAX_NS_LIMIT ? PVRING_POLL_MAX_NS_LIMIT : (u32)ns, 0, 0);
}

/**
 * vuser_poll_mode_parse - "adaptive", "on" or "off"
 * @s: the text
 * @mode: out: the mode
 *
 * Return: 0 or -EINVAL.
 */
int vuser_poll_mode_parse(const char *s, enum pvring_poll_mode *mode)
{
	if (!strcmp(s, "adaptive"))
		*mode = PVRING_POLL_ADAPTIVE;
	else if (!strcmp(s, "on"))
		*mode = PVRING_POLL_ON;
	else if (!strcmp(s, "off"))
		*mode = PVRING_POLL_OFF;
	else
		return -EINVAL;
	return 0;
}

static int64_t vuser_queue_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t vuser_queue_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Has the back-end closed the control socket?  (Data on it is unexpected, not fatal.) */
static bool vuser_queue_peer_gone(struct vuser_dev *dev)
{
	char c;
	ssize_t n = recv(dev->sock, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	return n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
}

/*
 * Poll the used ring for the queue's window (used-buffer notifications are
 * off), looking at the clock once per 64 empty looks, and once more when
 * used buffers come: the gaps between those reads tell whether we were
 * preempted meanwhile (pvring_poll_gap()).  Return:
 * true when used buffers came (or the ring broke) meanwhile.
 */
static bool vuser_queue_poll(struct vuser_queue *q, uint64_t since, int64_t deadline_ms)
{
	unsigned int spins = 0;
	uint64_t now, last = since;

	/* After windows preempted in a row, this one ends at once. */
	if (pvring_poll_expired(&q->poll, 0))
		return false;
	for (;;) {
		if (pvring_drv_more_used(&q->ring)) {
			pvring_poll_gap(&q->poll, vuser_queue_now_ns() - last);
			q->poll_hits++;
			pvring_poll_hit(&q->poll);
			return true;
		}
		if (++spins % 64)
			continue;
		if (pvring_drv_broken(&q->ring))
			return true;
		now = vuser_queue_now_ns();
		pvring_poll_gap(&q->poll, now - last);
		last = now;
		if (pvring_poll_expired(&q->poll, now - since) ||
		    (int64_t)(now / 1000000u) >= deadline_ms)
			return false;
	}
}

/**
 * vuser_queue_wait - wait until the back-end has used a buffer
 * @q: the queue
 * @timeout_ms: at most this long; <0: the device's timeout
 *
 * Polls the used ring for the queue's window first (q->poll: adaptive by
 * default, vuser_queue_set_poll()), with used-buffer notifications off, so
 * a back-end that answers soon sends no call and we make no system call.
 * Then sleeps: re-enables notifications with pvring_drv_enable_cb(), which
 * re-checks the used ring after publishing the request, so a completion
 * that lands between our check and the sleep is never missed.
 * Notifications are disabled again before returning: a busy caller reaps
 * without them.  After a sleep the window adapts to how long we waited
 * (pvring_poll_woke()), to how its polls ended (pvring_poll_hit(),
 * pvring_poll_missed()) and to whether they were preempted (pvring_poll_gap()).
 *
 * Return: 0 when used buffers are ready to reap, -ETIMEDOUT, -ECONNRESET when
 * the back-end closed its socket, -EIO when it broke the ring.
 */
int vuser_queue_wait(struct vuser_queue *q, int timeout_ms)
{
	struct vuser_dev *dev = q->dev;
	struct pollfd pfd[2] = {
		{ .fd = q->call_fd, .events = POLLIN },
		{ .fd = dev->sock, .events = POLLIN },
	};
	int64_t deadline, left;
	uint64_t cnt, since;
	bool slept = false;
	int r;

	if (timeout_ms < 0)
		timeout_ms = dev->timeout_ms;
	deadline = vuser_queue_now_ms() + timeout_ms;
	if (pvring_drv_more_used(&q->ring))
		return 0;
	since = vuser_queue_now_ns();
	if (pvring_poll_window(&q->poll)) {
		if (vuser_queue_poll(q, since, deadline)) {
			if (!pvring_drv_broken(&q->ring))
				return 0;
		} else {
			/* A window that found nothing: enough in a row hold it at 0. */
			pvring_poll_missed(&q->poll);
		}
	}
	for (;;) {
		if (pvring_drv_more_used(&q->ring)) {
			if (slept)
				pvring_poll_woke(&q->poll, vuser_queue_now_ns() - since);
			return 0;
		}
		if (pvring_drv_broken(&q->ring)) {
			/* One greppable line; clang-format would end a line with "(". */
			/* clang-format off */
			return vuser_dev_err(dev, -EIO,
					     "back-end broke queue %u (used index or id out of range)",
					     q->index);
			/* clang-format on */
		}
		if (!pvring_drv_enable_cb(&q->ring)) {
			pvring_drv_disable_cb(&q->ring);
			continue;
		}
		left = deadline - vuser_queue_now_ms();
		if (left <= 0) {
			pvring_drv_disable_cb(&q->ring);
			/* Nothing within the timeout: no window would have paid. */
			pvring_poll_woke(&q->poll, vuser_queue_now_ns() - since);
			return vuser_dev_err(dev, -ETIMEDOUT,
					     "queue %u: back-end completed nothing within %d ms",
					     q->index, timeout_ms);
		}
		q->waits++;
		slept = true;
		r = poll(pfd, pfd[1].fd >= 0 ? 2 : 1, (int)left);
		pvring_drv_disable_cb(&q->ring);
		if (r < 0 && errno != EINTR)
			return vuser_dev_err(dev, -errno, "poll: %s", strerror(errno));
		if (r > 0 && (pfd[0].revents & POLLIN)) {
			/* Drain it; the ring, not the count, says what completed. */
			if (read(q->call_fd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
				return vuser_dev_err(dev, -errno, "read call eventfd: %s",
						     strerror(errno));
		}
		if (r > 0 && pfd[1].revents) {
			/*
			 * clang-format off/on below: keeps a long error message whole on one line
			 * (greppable); clang-format would only fit it by ending the line with "(",
			 * which checkpatch rejects (OPEN_ENDED_LINE).
			 */
			/* clang-format off */
			if (vuser_queue_peer_gone(dev))
				return vuser_dev_err(dev, -ECONNRESET,
						     "back-end closed the connection with requests in flight on queue %u",
						     q->index);
			/* clang-format on */
			pfd[1].fd = -1; /* a stray message: stop watching for this wait */
		}
	}
}
