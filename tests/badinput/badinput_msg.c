// SPDX-License-Identifier: GPL-2.0
/*
 * badinput_msg.c - badinput's attacks on vhost-user messages (memory tables,
 * sizes, versions, fds, requests and queue indices pviod must refuse or
 * close the connection on) and on the connection itself (a peer gone mid
 * message or mid header, replies to a peer that left, a session after a
 * broken ring).
 */
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "badinput.h"

/* --- vhost-user messages ----------------------------------------------------------------- */

static const char *mem_table_bad(struct raw *r, const struct vhost_user_mem_region *reg,
				 unsigned int n, long want)
{
	struct vhost_user_memory t = { .nregions = n };
	int fds[VHOST_USER_MEM_REGIONS_MAX], i;
	long ret;

	if (raw_connect(r, sock_a) || raw_negotiate_blk(r))
		return "connect";
	for (i = 0; i < (int)n; i++) {
		fds[i] = memfd_create("badinput", MFD_CLOEXEC);
		if (fds[i] < 0 || ftruncate(fds[i], GUEST_SIZE))
			return "memfd";
		t.regions[i] = reg[i];
	}
	ret = raw_ack(r, VHOST_USER_SET_MEM_TABLE, &t, 8 + 32 * n, fds, n);
	for (i = 0; i < (int)n; i++)
		close(fds[i]);
	if (ret != want)
		return "not the expected ACK";
	if (!raw_alive(r))
		return "connection lost";
	return NULL;
}

const char *t_mem_overlap(struct raw *r)
{
	struct vhost_user_mem_region reg[2] = {
		{ 0, 0x80000, RAW_UVA, 0 },
		{ 0x40000, 0x80000, RAW_UVA + 0x100000, 0 },
	};

	return mem_table_bad(r, reg, 2, EINVAL);
}

const char *t_mem_zero_size(struct raw *r)
{
	struct vhost_user_mem_region reg[1] = { { 0, 0, RAW_UVA, 0 } };

	return mem_table_bad(r, reg, 1, EINVAL);
}

const char *t_mem_past_eof(struct raw *r)
{
	struct vhost_user_mem_region reg[1] = { { 0, 16 * GUEST_SIZE, RAW_UVA, 0 } };

	return mem_table_bad(r, reg, 1, EINVAL);
}

const char *t_mem_too_many(struct raw *r)
{
	struct vhost_user_memory t = { .nregions = VHOST_USER_MEM_REGIONS_MAX + 1 };
	int fd = memfd_create("badinput", MFD_CLOEXEC);

	if (raw_connect(r, sock_a) || raw_negotiate_blk(r))
		return "connect";
	/* A payload that claims 9 regions: bigger than the table can be. */
	if (raw_send(r, VHOST_USER_SET_MEM_TABLE, VHOST_USER_FLAG_NEED_REPLY, &t,
		     8 + 32 * VHOST_USER_MEM_REGIONS_MAX, &fd, 1))
		return "send";
	close(fd);
	if (!raw_closed(r))
		return "connection not closed";
	return NULL;
}

/*
 * Guest memory its front-end did not let pviod seal (raw_mem()'s memfd has
 * no MFD_ALLOW_SEALING), shrunk under pviod after it was mapped: pviod's
 * next access there faults, and only this device breaks
 * (backend/core/peermem.c).  Sets disk a up, makes a @type request of @len
 * bytes at DATA_GPA available, shrinks the memory to @keep bytes, kicks.
 */
static const char *mem_shrunk(struct raw *r, uint32_t type, uint32_t len, off_t keep)
{
	if (raw_setup(r, sock_a))
		return "set-up failed";
	chain3(r, type, 0, DATA_GPA, len, true);
	raw_avail_add(&r->vq[0], 0);
	raw_avail_publish(&r->vq[0]);
	if (ftruncate(r->memfd, keep))
		return "ftruncate";
	raw_kick(&r->vq[0]);
	return NULL;
}

/* The rings themselves vanish: the worker's read of the avail ring faults. */
const char *t_mem_shrunk_rings(struct raw *r)
{
	return mem_shrunk(r, PVIO_BLK_T_IN, 512, 0) ?: expect_broken(r);
}

/* A read into vanished memory: the kernel's copy fails, not pviod. */
const char *t_mem_shrunk_read_data(struct raw *r)
{
	return mem_shrunk(r, PVIO_BLK_T_IN, 4096, DATA_GPA) ?:
							      expect_status(r, PVIO_BLK_S_IOERR, 1);
}

/* GET_ID's answer is copied by pviod itself: that copy faults. */
const char *t_mem_shrunk_get_id(struct raw *r)
{
	return mem_shrunk(r, PVIO_BLK_T_GET_ID, 20, DATA_GPA) ?: expect_broken(r);
}

const char *t_wrong_size(struct raw *r)
{
	uint64_t v = 0;

	if (raw_connect(r, sock_a))
		return "connect";
	if (raw_send(r, VHOST_USER_SET_FEATURES, 0, &v, 4, NULL, 0))
		return "send";
	if (!raw_closed(r))
		return "connection not closed";
	return NULL;
}

const char *t_payload_too_big(struct raw *r)
{
	struct vhost_user_hdr h = { VHOST_USER_SET_FEATURES, VHOST_USER_VERSION, 65536 };

	if (raw_connect(r, sock_a))
		return "connect";
	if (raw_send_bytes(r, &h, sizeof(h), NULL, 0))
		return "send";
	if (!raw_closed(r))
		return "connection not closed";
	return NULL;
}

const char *t_bad_version(struct raw *r)
{
	struct vhost_user_hdr h = { VHOST_USER_GET_FEATURES, 2, 0 };

	if (raw_connect(r, sock_a))
		return "connect";
	if (raw_send_bytes(r, &h, sizeof(h), NULL, 0))
		return "send";
	if (!raw_closed(r))
		return "connection not closed";
	return NULL;
}

const char *t_too_many_fds(struct raw *r)
{
	int e[2] = { eventfd(0, EFD_CLOEXEC), eventfd(0, EFD_CLOEXEC) };

	if (raw_connect(r, sock_a))
		return "connect";
	if (raw_send(r, VHOST_USER_SET_OWNER, 0, NULL, 0, e, 2))
		return "send";
	close(e[0]);
	close(e[1]);
	if (!raw_closed(r))
		return "connection not closed";
	return NULL;
}

const char *t_more_fds_than_protocol(struct raw *r)
{
	int e[12], i;

	for (i = 0; i < 12; i++)
		e[i] = eventfd(0, EFD_CLOEXEC);
	if (raw_connect(r, sock_a))
		return "connect";
	if (raw_send(r, VHOST_USER_GET_FEATURES, 0, NULL, 0, e, 12))
		return "send";
	for (i = 0; i < 12; i++)
		close(e[i]);
	if (!raw_closed(r))
		return "connection not closed";
	return NULL;
}

const char *t_too_few_fds(struct raw *r)
{
	uint64_t v = 0; /* NOFD clear: one fd is due */

	if (raw_connect(r, sock_a))
		return "connect";
	if (raw_send(r, VHOST_USER_SET_VRING_KICK, 0, &v, 8, NULL, 0))
		return "send";
	if (!raw_closed(r))
		return "connection not closed";
	return NULL;
}

const char *t_unknown_request(struct raw *r)
{
	if (raw_connect(r, sock_a) || raw_negotiate_blk(r))
		return "connect";
	if (raw_ack(r, 99, NULL, 0, NULL, 0) != EOPNOTSUPP)
		return "not ACK(EOPNOTSUPP)";
	if (raw_ack(r, VHOST_USER_POSTCOPY_ADVISE, NULL, 0, NULL, 0) != EOPNOTSUPP)
		return "POSTCOPY_ADVISE not ACK(EOPNOTSUPP)";
	if (!raw_alive(r))
		return "connection lost";
	return NULL;
}

const char *t_queue_index_out_of_range(struct raw *r)
{
	struct vhost_user_vring_state st = { 7, NUM };

	if (raw_connect(r, sock_a) || raw_negotiate_blk(r))
		return "connect";
	if (raw_send(r, VHOST_USER_SET_VRING_NUM, VHOST_USER_FLAG_NEED_REPLY, &st, 8, NULL, 0))
		return "send";
	if (!raw_closed(r))
		return "connection not closed";
	return NULL;
}

const char *t_kick_before_ring(struct raw *r)
{
	uint64_t v = 0;
	int kick = eventfd(0, EFD_CLOEXEC);
	long ret;

	if (raw_connect(r, sock_a) || raw_negotiate_blk(r))
		return "connect";
	ret = raw_ack(r, VHOST_USER_SET_VRING_KICK, &v, 8, &kick, 1);
	eventfd_write(kick, 1);
	close(kick);
	if (ret)
		return "SET_VRING_KICK before the ring not ACK(0)";
	v = 1;
	if (raw_ack(r, VHOST_USER_SET_VRING_ENABLE, &(struct vhost_user_vring_state){ 0, 1 }, 8,
		    NULL, 0))
		return "SET_VRING_ENABLE";
	if (!raw_alive(r))
		return "connection lost";
	if (raw_needs_reset(r))
		return "device needs reset after a kick on nothing";
	return NULL;
}

/* --- the connection ---------------------------------------------------------------------- */

const char *t_disconnect_mid_message(struct raw *r)
{
	struct vhost_user_hdr h = { VHOST_USER_SET_VRING_ADDR, VHOST_USER_VERSION, 40 };
	char buf[sizeof(h) + 10] = { 0 };

	if (raw_connect(r, sock_a))
		return "connect";
	memcpy(buf, &h, sizeof(h));
	if (raw_send_bytes(r, buf, sizeof(buf), NULL, 0))
		return "send";
	raw_close(r);
	/* pviod must take a new front-end on the same socket. */
	if (raw_connect(r, sock_a) || raw_negotiate_blk(r))
		return "reconnect";
	if (!raw_alive(r))
		return "new connection not served";
	return NULL;
}

const char *t_disconnect_mid_header(struct raw *r)
{
	struct vhost_user_hdr h = { VHOST_USER_GET_FEATURES, VHOST_USER_VERSION, 0 };

	if (raw_connect(r, sock_a))
		return "connect";
	if (raw_send_bytes(r, &h, 5, NULL, 0))
		return "send";
	raw_close(r);
	if (raw_connect(r, sock_a) || !raw_alive(r))
		return "new connection not served";
	return NULL;
}

const char *t_sigpipe(struct raw *r)
{
	int i;

	if (raw_connect(r, sock_a))
		return "connect";
	/* Replies owed to a peer that is gone: pviod writes into a dead socket. */
	for (i = 0; i < 64; i++)
		if (raw_send(r, VHOST_USER_GET_FEATURES, 0, NULL, 0, NULL, 0))
			return "send";
	shutdown(r->sock, SHUT_RD);
	raw_close(r);
	usleep(200000);
	if (raw_connect(r, sock_a) || !raw_alive(r))
		return "new connection not served";
	return NULL;
}

const char *t_session_after_break(struct raw *r)
{
	/* A broken queue is per-device: a fresh session on a works again. */
	if (raw_setup(r, sock_a))
		return "set-up of device a failed";
	chain3(r, PVIO_BLK_T_OUT, 8, DATA_GPA, 4096, false);
	avail_push(r, 0, 1);
	return expect_status(r, PVIO_BLK_S_OK, 1);
}
