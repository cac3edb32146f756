/* SPDX-License-Identifier: GPL-2.0 */
/*
 * event.h - the control thread's event loop (event.c), and the completion
 * callback every asynchronous operation of pviod carries.
 *
 * The control thread waits for file descriptors (listening sockets,
 * front-end connections, signalfds) to become readable, with epoll: level-
 * triggered, and a descriptor taken out of the loop (pviod_event_del())
 * reports nothing after, so a handler may tear down any other device's
 * descriptors and free it at once.  Events are handled one at a time.
 */
#ifndef PVIOD_CORE_EVENT_H
#define PVIOD_CORE_EVENT_H

#include <stdbool.h>

/*
 * What to run when something completes.  Every SQE a worker submits carries
 * a pointer to one as user_data (0 for SQEs whose completion is ignored,
 * such as cancels), and ->complete gets the CQE's result; on the control
 * thread, a descriptor's one is run with 0 when it is readable (or hung up:
 * the read tells), or writable when pviod_event_mod() asked for that too.
 */
struct pviod_io {
	void (*complete)(struct pviod_io *io, int res);
};

struct pviod_event_loop {
	int epoll_fd;
	bool quit; /* set by a handler: pviod_event_run() returns */
};

int pviod_event_init(struct pviod_event_loop *loop);
void pviod_event_fini(struct pviod_event_loop *loop);
int pviod_event_add(struct pviod_event_loop *loop, int fd, struct pviod_io *io);
int pviod_event_mod(struct pviod_event_loop *loop, int fd, struct pviod_io *io, bool out);
void pviod_event_del(struct pviod_event_loop *loop, int fd);
int pviod_event_run(struct pviod_event_loop *loop);

#endif /* PVIOD_CORE_EVENT_H */
