// SPDX-License-Identifier: GPL-2.0
/*
 * dir.c - what a test keeps in its temporary directory: disk images made
 * there, and the directory removed with all it holds (the peers' sockets,
 * logs and images) without a shell.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <unistd.h>

#include "pvtest.h"

/* Depth first: a directory's entries are gone before it is. */
static int pvt_rmtree_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(path) ? -1 : 0;
}

/**
 * pvt_rmtree - remove a directory tree, as rm -rf would
 * @path: the directory (or file); symbolic links in it are removed, not followed
 *
 * A @path that does not exist is not an error.
 *
 * Return: 0, or -errno of the first entry that could not be removed (the
 * rest is left as it is).
 */
int pvt_rmtree(const char *path)
{
	if (nftw(path, pvt_rmtree_one, 16, FTW_DEPTH | FTW_PHYS) == 0)
		return 0;
	return errno == ENOENT ? 0 : -errno;
}

/**
 * pvt_image_create - a sparse disk image of @bytes zeros
 * @path: the file, created (or emptied first when it exists), mode 0600
 * @bytes: its size
 *
 * Return: 0, or -errno.
 */
int pvt_image_create(const char *path, off_t bytes)
{
	int fd = open(path, O_CREAT | O_RDWR | O_TRUNC | O_CLOEXEC, 0600);
	int ret;

	if (fd < 0)
		return -errno;
	ret = ftruncate(fd, bytes) ? -errno : 0;
	close(fd);
	return ret;
}
