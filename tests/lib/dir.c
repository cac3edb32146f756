// SPDX-License-Identifier: GPL-2.0
/*
 * dir.c - a test's temporary directory removed with all it holds (the
 * peers' sockets, logs and images), without a shell.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>

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
