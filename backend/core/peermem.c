// SPDX-License-Identifier: GPL-2.0
/*
 * peermem.c - memory a peer shares with pviod, and what a fault on it does.
 *
 * pviod maps files its front-ends own: guest memory and in-flight areas.
 * A file is checked against the mapping and sealed against shrinking when
 * it allows seals (vhost-user/mem.c), but some cannot be sealed (hugetlbfs,
 * a plain file, a memfd created without MFD_ALLOW_SEALING), and a peer that
 * shrinks one of those under pviod turns pviod's next access there into
 * SIGBUS, whose default action would end every device of the daemon.
 *
 * So every such mapping is watched here, with the flag of the device it
 * belongs to.  The SIGBUS handler looks the faulting address up, replaces
 * the whole mapping in place with private anonymous memory (the faulting
 * access, and any after it, then completes on memory nobody else sees),
 * sets the device's flag and returns.  The queue core breaks every queue
 * of a device whose flag is set before it serves it again (core/queue.c),
 * so the front-end sees DEVICE_NEEDS_RESET and the other devices go on.
 * A fault outside every watched mapping is pviod's own bug: the handler
 * restores the default action and the access faults again, fatally.
 *
 * The handler reads the table without a lock: an entry's base is its
 * publication (stored last when watched, cleared first when unwatched),
 * and a mapping is unwatched only once no worker may touch it (its queues
 * stopped), just before it is unmapped.  mmap() and write() are system
 * calls with no user-space state, safe in a handler on Linux.
 *
 * What the peer loses: requests in flight on that device complete into the
 * replacement memory, and a write whose data the kernel reads from it after
 * the fault writes zeroes; the guest is never told that such a request
 * completed, and virtio-blk leaves an uncompleted write's range undefined.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/peermem.h"

/* Mappings watched at once: 32 regions and an in-flight area a device. */
#define PVIOD_PEERMEM_MAX 4096

struct pviod_peermem {
	uintptr_t base; /* 0: a free entry; published last, cleared first */
	size_t len;
	int *lost; /* set to 1 on a fault; may be NULL */
};

static struct pviod_peermem pviod_peermem[PVIOD_PEERMEM_MAX];
static pthread_mutex_t pviod_peermem_lock = PTHREAD_MUTEX_INITIALIZER;

static const char pviod_peermem_msg[] =
	"pviod: err: a front-end's memory vanished (SIGBUS): its device stops\n";

static void pviod_peermem_say(const char *s)
{
	ssize_t r = write(STDERR_FILENO, s, strlen(s));

	(void)r;
}

static void pviod_peermem_fault(int sig, siginfo_t *si, void *uctx)
{
	uintptr_t a = (uintptr_t)si->si_addr;
	unsigned int i;
	int saved = errno;

	(void)uctx;
	for (i = 0; i < PVIOD_PEERMEM_MAX; i++) {
		struct pviod_peermem *m = &pviod_peermem[i];
		uintptr_t base = __atomic_load_n(&m->base, __ATOMIC_ACQUIRE);

		if (!base || a < base || a - base >= m->len)
			continue;
		if (mmap((void *)base, m->len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
			break;
		if (m->lost)
			__atomic_store_n(m->lost, 1, __ATOMIC_RELEASE);
		pviod_peermem_say(pviod_peermem_msg);
		errno = saved;
		return;
	}
	/* Not a peer's memory: the access faults again, with the default action. */
	signal(sig, SIG_DFL);
	errno = saved;
}

/**
 * pviod_peermem_guard - install the SIGBUS handler (once a process)
 *
 * Return: 0 or -errno.
 */
int pviod_peermem_guard(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = pviod_peermem_fault;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL) < 0)
		return -errno;
	return 0;
}

/**
 * pviod_peermem_watch - recover from faults on a peer's mapping
 * @base: the mapping, as mmap() returned it
 * @len: its length, as given to mmap()
 * @lost: set to 1 (atomically) when a fault replaced it; NULL: nobody to tell
 *
 * Return: 0, or -ENOSPC when every entry is taken (reported by the caller).
 */
int pviod_peermem_watch(void *base, size_t len, int *lost)
{
	unsigned int i;
	int ret = -ENOSPC;

	pthread_mutex_lock(&pviod_peermem_lock);
	for (i = 0; i < PVIOD_PEERMEM_MAX; i++) {
		struct pviod_peermem *m = &pviod_peermem[i];

		if (m->base)
			continue;
		m->len = len;
		m->lost = lost;
		__atomic_store_n(&m->base, (uintptr_t)base, __ATOMIC_RELEASE);
		ret = 0;
		break;
	}
	pthread_mutex_unlock(&pviod_peermem_lock);
	return ret;
}

/**
 * pviod_peermem_unwatch - forget a mapping, before it is unmapped
 * @base: as given to pviod_peermem_watch(); unknown ones are ignored
 */
void pviod_peermem_unwatch(void *base)
{
	unsigned int i;

	pthread_mutex_lock(&pviod_peermem_lock);
	for (i = 0; i < PVIOD_PEERMEM_MAX; i++) {
		struct pviod_peermem *m = &pviod_peermem[i];

		if (m->base != (uintptr_t)base)
			continue;
		__atomic_store_n(&m->base, 0, __ATOMIC_RELEASE);
		break;
	}
	pthread_mutex_unlock(&pviod_peermem_lock);
}
