// SPDX-License-Identifier: GPL-2.0
/*
 * lock.c - image locks: while pviod writes an image no other process may
 * write or read it, and while it reads one no other process may write it.
 *
 * The locks are QEMU's (block/file-posix.c), so QEMU and
 * qemu-storage-daemon honour pviod's and pviod theirs: open-file-
 * description read locks on byte 100 + i for each permission i the holder
 * uses and on byte 200 + i for each permission i it does not let others
 * have (CONSISTENT_READ 0, WRITE 1, WRITE_UNCHANGED 2, RESIZE 3).  Before
 * taking them a holder checks that nobody else forbids what it uses and
 * nobody else uses what it forbids.
 *
 * All devices of one pviod share one lock per image (one open file
 * description, so their locks never conflict with each other): two devices
 * on one image stay allowed, as the two ends of a migration within one
 * pviod need.  The table is process-wide, under its own mutex, so devices
 * come and go from any thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "blk/blk.h"

#define PVIOD_LOCK_PERM_BASE 100
#define PVIOD_LOCK_SHARED_BASE 200

/* QEMU's BLK_PERM_* bits. */
#define PVIOD_PERM_CONSISTENT_READ 0x01
#define PVIOD_PERM_WRITE 0x02
#define PVIOD_PERM_WRITE_UNCHANGED 0x04
#define PVIOD_PERM_RESIZE 0x08
#define PVIOD_PERM_BITS 4

struct pviod_blk_lock {
	dev_t dev;
	ino_t ino;
	int fd; /* the one open file description the locks are on */
	unsigned int users;
	bool write; /* the write locks are taken */
	struct pviod_blk_lock *next;
};

static pthread_mutex_t pviod_blk_locks_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pviod_blk_lock *pviod_blk_locks;

/* What a reader and a writer use, and what neither shares. */
static unsigned int pviod_lock_perm(bool write)
{
	return write ? PVIOD_PERM_CONSISTENT_READ | PVIOD_PERM_WRITE | PVIOD_PERM_WRITE_UNCHANGED :
		       PVIOD_PERM_CONSISTENT_READ;
}

#define PVIOD_LOCK_UNSHARED (PVIOD_PERM_WRITE | PVIOD_PERM_RESIZE)

/* Does another open file description hold a lock on byte @off? */
static int pviod_lock_byte_taken(int fd, off_t off)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = off, .l_len = 1 };

	if (fcntl(fd, F_OFD_GETLK, &fl) < 0)
		return -errno;
	return fl.l_type != F_UNLCK;
}

static int pviod_lock_byte_take(int fd, off_t off)
{
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = off, .l_len = 1 };

	return fcntl(fd, F_OFD_SETLK, &fl) < 0 ? -errno : 0;
}

/*
 * Check, then take, the locks of a reader or writer on @fd.
 * Return: 0, -EBUSY when another process's locks conflict, or -errno.
 */
static int pviod_lock_apply(int fd, bool write)
{
	unsigned int perm = pviod_lock_perm(write), i;
	int ret;

	for (i = 0; i < PVIOD_PERM_BITS; i++) {
		if (perm & (1u << i)) {
			ret = pviod_lock_byte_taken(fd, PVIOD_LOCK_SHARED_BASE + i);
			if (ret)
				return ret < 0 ? ret : -EBUSY;
		}
		if (PVIOD_LOCK_UNSHARED & (1u << i)) {
			ret = pviod_lock_byte_taken(fd, PVIOD_LOCK_PERM_BASE + i);
			if (ret)
				return ret < 0 ? ret : -EBUSY;
		}
	}
	for (i = 0; i < PVIOD_PERM_BITS; i++) {
		if (perm & (1u << i)) {
			ret = pviod_lock_byte_take(fd, PVIOD_LOCK_PERM_BASE + i);
			if (ret)
				return ret;
		}
		if (PVIOD_LOCK_UNSHARED & (1u << i)) {
			ret = pviod_lock_byte_take(fd, PVIOD_LOCK_SHARED_BASE + i);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/**
 * pviod_blk_lock_take - lock an image for reading or writing
 * @path: the image, for a descriptor of our own to hold the locks
 * @fd: an open descriptor of it (identifies the image)
 * @write: the device writes it
 * @out: the lock, for pviod_blk_lock_release()
 *
 * Return: 0; -EBUSY when another process reads or writes the image in a way
 * that excludes this use (its locks say so); another -errno.
 */
int pviod_blk_lock_take(const char *path, int fd, bool write, struct pviod_blk_lock **out)
{
	struct pviod_blk_lock *l;
	struct stat st;
	int ret;

	if (fstat(fd, &st) < 0)
		return -errno;
	pthread_mutex_lock(&pviod_blk_locks_lock);
	for (l = pviod_blk_locks; l; l = l->next)
		if (l->dev == st.st_dev && l->ino == st.st_ino)
			break;
	if (!l) {
		l = calloc(1, sizeof(*l));
		if (!l) {
			ret = -ENOMEM;
			goto out_unlock;
		}
		l->dev = st.st_dev;
		l->ino = st.st_ino;
		l->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (l->fd < 0) {
			ret = -errno;
			free(l);
			goto out_unlock;
		}
		ret = pviod_lock_apply(l->fd, write);
		if (ret) {
			close(l->fd);
			free(l);
			goto out_unlock;
		}
		l->write = write;
		l->next = pviod_blk_locks;
		pviod_blk_locks = l;
	} else if (write && !l->write) {
		/* A reader of this pviod is there: the writer's locks are added. */
		ret = pviod_lock_apply(l->fd, true);
		if (ret)
			goto out_unlock;
		l->write = true;
	}
	l->users++;
	*out = l;
	ret = 0;
out_unlock:
	pthread_mutex_unlock(&pviod_blk_locks_lock);
	return ret;
}

/**
 * pviod_blk_lock_release - a device no longer uses the image
 * @l: from pviod_blk_lock_take(), or NULL
 *
 * The last user's release drops the locks.
 */
void pviod_blk_lock_release(struct pviod_blk_lock *l)
{
	struct pviod_blk_lock **pp;

	if (!l)
		return;
	pthread_mutex_lock(&pviod_blk_locks_lock);
	if (--l->users == 0) {
		for (pp = &pviod_blk_locks; *pp; pp = &(*pp)->next) {
			if (*pp == l) {
				*pp = l->next;
				break;
			}
		}
		close(l->fd);
		free(l);
	}
	pthread_mutex_unlock(&pviod_blk_locks_lock);
}
