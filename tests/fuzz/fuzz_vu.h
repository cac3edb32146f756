/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fuzz_vu.h - what the fuzz targets that talk vhost-user to a real pviod
 * device share (fuzz_vu.c): a virtio-blk device on a 1 MiB temporary image,
 * a virtio-net device on the loop back-end or a console whose ports write
 * to /dev/null, all on one set of real workers, a session on a socketpair (messages with fds go in
 * with tests/lib/fd.c's pvt_fd_send_flags(), MSG_DONTWAIT), and the check
 * that an input leaked no fd.  Each target hands every
 * message to vu_conn_handle() itself: there is no event loop.
 */
#ifndef PVIO_TESTS_FUZZ_VU_H
#define PVIO_TESTS_FUZZ_VU_H

#include <stddef.h>

struct pviod_device;

enum fuzz_vu_kind { FUZZ_VU_BLK, FUZZ_VU_NET, FUZZ_VU_CONSOLE };

struct pviod_device *fuzz_vu_create(enum fuzz_vu_kind kind, const char *opts);
void fuzz_vu_conn_open(struct pviod_device *dev, int sv[2]);
void fuzz_vu_conn_close(struct pviod_device *dev, int sv[2]);
int fuzz_fd_lowest(void);
void fuzz_fd_check(int floor);

#endif /* PVIO_TESTS_FUZZ_VU_H */
