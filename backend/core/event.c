// SPDX-License-Identifier: GPL-2.0
/*
 * event.c - the control thread's loop.
 *
 * Control traffic is a few messages per second at most; what matters is
 * that it is simple to reason about: epoll, level-triggered, one event per
 * wait.  A handler may add and remove any descriptor, its own included; a
 * removed one is never reported again, so the objects behind it may go at
 * once (a device deleted while another device's message is handled).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>

#include "core/event.h"
#include "core/log.h"

/**
 * pviod_event_init - an empty loop
 * @loop: the loop
 *
 * Return: 0 or -errno.
 */
int pviod_event_init(struct pviod_event_loop *loop)
{
	loop->quit = false;
	loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	return loop->epoll_fd < 0 ? -errno : 0;
}

/**
 * pviod_event_fini - release the loop (its descriptors are the callers')
 * @loop: the loop
 */
void pviod_event_fini(struct pviod_event_loop *loop)
{
	if (loop->epoll_fd >= 0)
		close(loop->epoll_fd);
	loop->epoll_fd = -1;
}

/**
 * pviod_event_add - run @io->complete whenever @fd is readable
 * @loop: the loop
 * @fd: the descriptor, not yet in the loop
 * @io: the handler; it stays in use until pviod_event_del()
 *
 * Return: 0 or -errno.
 */
int pviod_event_add(struct pviod_event_loop *loop, int fd, struct pviod_io *io)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = io };

	return epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

/**
 * pviod_event_mod - also (or no longer) run @io->complete when @fd is writable
 * @loop: the loop
 * @fd: a descriptor in the loop
 * @io: its handler
 * @out: watch for writability too (a peer that has not taken a reply yet)
 *
 * Return: 0 or -errno.
 */
int pviod_event_mod(struct pviod_event_loop *loop, int fd, struct pviod_io *io, bool out)
{
	struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = io };

	return epoll_ctl(loop->epoll_fd, EPOLL_CTL_MOD, fd, &ev) ? -errno : 0;
}

/**
 * pviod_event_del - stop watching @fd (before it is closed)
 * @loop: the loop
 * @fd: a descriptor in the loop
 */
void pviod_event_del(struct pviod_event_loop *loop, int fd)
{
	epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
}

/**
 * pviod_event_run - handle events until a handler sets loop->quit
 * @loop: the loop
 *
 * Return: 0, or -errno when waiting failed.
 */
int pviod_event_run(struct pviod_event_loop *loop)
{
	while (!loop->quit) {
		struct epoll_event ev;
		struct pviod_io *io;
		int n;

		n = epoll_wait(loop->epoll_fd, &ev, 1, -1);
		if (n < 0) {
			int err = errno;

			if (err == EINTR)
				continue;
			pr_err("control loop: epoll_wait: %s", strerror(err));
			return -err;
		}
		if (n == 0)
			continue;
		io = ev.data.ptr;
		io->complete(io, 0);
	}
	return 0;
}
