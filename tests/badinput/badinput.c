// SPDX-License-Identifier: GPL-2.0
/*
 * badinput - hostile front-ends against a running pviod (TAP 13).
 *
 * One pviod serves three disks: "a" takes the abuse, "b" is a witness driven
 * through the userspace driver (frontend/virtio-user), "ro" is read-only.  Every
 * test opens a raw vhost-user connection to a (or ro), sets it up as far as
 * it needs, does one hostile thing and asserts the exact outcome:
 *
 *   ACK(errno)   the request is refused with an error REPLY_ACK, the
 *                connection lives on (a GET_FEATURES is still answered)
 *   CLOSED       pviod closes the connection (a malformed message)
 *   EMPTY        the bad chain comes back in the used ring with length 0
 *   IOERR/UNSUPP the request completes with that status byte
 *   BROKEN       the queue breaks: its error eventfd fires and GET_STATUS
 *                reports DEVICE_NEEDS_RESET
 *
 * and after every test that pviod is alive and disk b still writes and reads
 * back a fresh pattern through the driver.  Ring-level attacks write the
 * descriptor table and avail ring by hand in the memfd "guest memory" this
 * test shares with pviod (the raw front-end of tests/lib/raw.c, shared with
 * badnet.c); nothing here goes through a test hook in pviod.
 *
 * PVIOD=path overrides $(O)/pviod.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "raw.h"
#include "vuser.h"
#include "pvtest.h"

#define GUEST_SIZE (1u << 20)
#define NUM 16
#define DESC_GPA 0x0000
#define AVAIL_GPA 0x1000
#define USED_GPA 0x2000
#define HDR_GPA 0x10000
#define STATUS_GPA 0x10100
#define DATA_GPA 0x11000
#define IND_GPA 0x20000
#define DISK_SECTORS 2048 /* 1 MiB images */
#define WAIT_MS 2000
#define DISCARD_SEG_MAX 16 /* pviod's config max_discard_seg */

#define PF_WANTED                                                                             \
	(PVIO_BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK) | PVIO_BIT(VHOST_USER_PROTOCOL_F_STATUS) | \
	 PVIO_BIT(VHOST_USER_PROTOCOL_F_CONFIG))
#define F_WANTED                                                       \
	(PVIO_BIT(PVIO_F_VERSION_1) | PVIO_BIT(PVIO_F_INDIRECT_DESC) | \
	 PVIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES))

static char sock_a[PATH_MAX], sock_b[PATH_MAX], sock_ro[PATH_MAX], logpath[PATH_MAX];
static struct pvt_pviod pviod;
static struct vuser_blk witness;
static uint8_t *witness_buf;
static unsigned int witness_round;

/* --- the raw protocol (tests/lib/raw.c), set up for a disk ------------------------- */

/* The connection lives: GET_FEATURES is answered. */
static bool raw_alive(struct raw *r)
{
	uint64_t v;

	return raw_get_u64(r, VHOST_USER_GET_FEATURES, &v) == 0 && (v & F_WANTED) == F_WANTED;
}

static int raw_negotiate_blk(struct raw *r)
{
	return raw_negotiate(r, PF_WANTED, F_WANTED);
}

/* Negotiate, map memory and start queue 0 with kick, call and err eventfds. */
static int raw_setup(struct raw *r, const char *path)
{
	if (raw_connect(r, path) || raw_negotiate_blk(r) || raw_mem(r, GUEST_SIZE, 1))
		return -1;
	return raw_vring(r, 0, NUM, 0, DESC_GPA, AVAIL_GPA, USED_GPA);
}

/* --- hand-made chains ---------------------------------------------------------------- */

static void hdr_set(struct raw *r, uint32_t type, uint64_t sector)
{
	struct pvio_blk_req_hdr *h = (void *)(r->mem + HDR_GPA);

	h->type = cpu_to_le32(type);
	h->ioprio = 0;
	h->sector = cpu_to_le64(sector);
	r->mem[STATUS_GPA] = 0xee; /* "untouched" */
}

/* The usual three descriptors at 0..2: header, data, status. */
static void chain3(struct raw *r, uint32_t type, uint64_t sector, uint64_t data, uint32_t len,
		   bool data_write)
{
	hdr_set(r, type, sector);
	raw_desc_set(&r->vq[0].desc[0], HDR_GPA, 16, PVRING_DESC_F_NEXT, 1);
	raw_desc_set(&r->vq[0].desc[1], data, len,
		     PVRING_DESC_F_NEXT | (data_write ? PVRING_DESC_F_WRITE : 0), 2);
	raw_desc_set(&r->vq[0].desc[2], STATUS_GPA, 1, PVRING_DESC_F_WRITE, 0);
}

/* Make head available (moving avail->idx by @step) and kick. */
static void avail_push(struct raw *r, uint16_t head, uint16_t step)
{
	raw_avail_add(&r->vq[0], head);
	r->vq[0].avail_idx += step - 1;
	raw_avail_publish(&r->vq[0]);
	raw_kick(&r->vq[0]);
}

/* Wait for used->idx to reach @n; the len of the last used element, or -1. */
static long used_wait(struct raw *r, uint16_t n)
{
	if (!raw_used_wait(&r->vq[0], n))
		return -1;
	return le32_to_cpu(r->vq[0].used->ring[(n - 1) % NUM].len);
}

/* --- the checks after every test ------------------------------------------------------- */

static bool pviod_alive(void)
{
	int status;

	return waitpid(pviod.pid, &status, WNOHANG) == 0 && kill(pviod.pid, 0) == 0;
}

static bool witness_ok(char *why, size_t len)
{
	uint64_t off = (uint64_t)(witness_round % 64) * 4096;
	int ret;

	witness_round++;
	memset(witness_buf, 0x40 + witness_round % 64, 4096);
	ret = vuser_blk_sync(&witness, 0, PVIO_BLK_T_OUT, off, witness_buf, 4096);
	if (ret) {
		snprintf(why, len, "device b: write: %s", strerror(-ret));
		return false;
	}
	memset(witness_buf, 0, 4096);
	ret = vuser_blk_sync(&witness, 0, PVIO_BLK_T_IN, off, witness_buf, 4096);
	if (ret) {
		snprintf(why, len, "device b: read: %s", strerror(-ret));
		return false;
	}
	if (witness_buf[0] != 0x40 + witness_round % 64 ||
	    witness_buf[4095] != 0x40 + witness_round % 64) {
		snprintf(why, len, "device b: read back the wrong data");
		return false;
	}
	return true;
}

/* --- the tests --------------------------------------------------------------------------- */

/* Each returns NULL on success, else what went wrong; *what says the outcome seen. */
typedef const char *(*bad_fn)(struct raw *r);

/* A bad chain with a good head: returned with length 0, status untouched, ring goes on. */
static const char *expect_empty(struct raw *r)
{
	if (used_wait(r, 1))
		return "bad chain not returned with used len 0";
	if (r->mem[STATUS_GPA] != 0xee)
		return "status byte written for a bad chain";
	/* The queue goes on: a good request after it. */
	chain3(r, PVIO_BLK_T_IN, 0, DATA_GPA, 512, true);
	avail_push(r, 0, 1);
	if (used_wait(r, 2) != 513)
		return "the ring did not go on after the bad chain";
	if (r->mem[STATUS_GPA] != PVIO_BLK_S_OK)
		return "good request after a bad chain failed";
	return NULL;
}

static const char *expect_status(struct raw *r, uint8_t st, long len)
{
	if (used_wait(r, 1) != len)
		return "wrong used len";
	if (r->mem[STATUS_GPA] != st)
		return "wrong status byte";
	return NULL;
}

static const char *expect_broken(struct raw *r)
{
	if (!raw_fired(r->vq[0].err, WAIT_MS))
		return "error eventfd not signalled";
	if (!raw_needs_reset(r))
		return "GET_STATUS lacks DEVICE_NEEDS_RESET";
	return NULL;
}

static const char *t_desc_outside_memory(struct raw *r)
{
	if (raw_setup(r, sock_a))
		return "set-up of device a failed";
	chain3(r, PVIO_BLK_T_IN, 0, GUEST_SIZE + 0x1000, 512, true);
	avail_push(r, 0, 1);
	return expect_empty(r);
}

static const char *t_desc_straddles_region(struct raw *r)
{
	if (raw_setup(r, sock_a))
		return "set-up of device a failed";
	chain3(r, PVIO_BLK_T_IN, 0, GUEST_SIZE - 256, 512, true);
	avail_push(r, 0, 1);
	return expect_empty(r);
}

/*
 * A zero-length descriptor has no byte: the last writable byte is then the
 * data buffer's last, which takes the status; 511 data bytes are no whole
 * sector, so IOERR lands there and the status descriptor is untouched.
 */
static const char *t_desc_len_zero_status(struct raw *r)
{
	if (raw_setup(r, sock_a))
		return "set-up of device a failed";
	chain3(r, PVIO_BLK_T_IN, 0, DATA_GPA, 512, true);
	raw_desc_set(&r->vq[0].desc[2], STATUS_GPA, 0, PVRING_DESC_F_WRITE, 0);
	r->mem[DATA_GPA + 511] = 0xee;
	avail_push(r, 0, 1);
	if (used_wait(r, 1) != 1)
		return "used len not 1";
	if (r->mem[DATA_GPA + 511] != PVIO_BLK_S_IOERR)
		return "IOERR not in the last writable byte";
	if (r->mem[STATUS_GPA] != 0xee)
		return "zero-length descriptor written";
	return NULL;
}

static const char *t_desc_len_zero_data(struct raw *r)
{
	if (raw_setup(r, sock_a))
		return "set-up of device a failed";
	chain3(r, PVIO_BLK_T_IN, 0, DATA_GPA, 0, true);
	avail_push(r, 0, 1);
	return expect_status(r, PVIO_BLK_S_OK, 1);
}

static const char *t_desc_len_4g(struct raw *r)
{
	if (raw_setup(r, sock_a))
		return "set-up of device a failed";
	chain3(r, PVIO_BLK_T_IN, 0, DATA_GPA, 0xffffffffu, true);
	avail_push(r, 0, 1);
	return expect_empty(r);
}

static const char *t_chain_loop(struct raw *r)
{
	if (raw_setup(r, sock_a))
		return "set-up of device a failed";
	chain3(r, PVIO_BLK_T_IN, 0, DATA_GPA, 512, true);
	raw_desc_set(&r->vq[0].desc[1], DATA_GPA, 512, PVRING_DESC_F_NEXT,
		     0); /* back to the head */
	avail_push(r, 0, 1);
	return expect_empty(r);
}

static const char *t_indirect_in_indirect(struct raw *r)
{
	struct pvring_desc *t;

	if (raw_setup(r, sock_a))
		return "set-up of device a failed";
	t = (void *)(r->mem + IND_GPA);
	hdr_set(r, PVIO_BLK_T_IN, 0);
	raw_desc_set(&t[0], IND_GPA + 0x100, 48, PVRING_DESC_F_INDIRECT, 0);
	raw_desc_set(&r->vq[0].desc[0], IND_GPA, 16, PVRING_DESC_F_INDIRECT, 0);
	avail_push(r, 0, 1);
	return expect_empty(r);
}

static const char *t_indirect_len_not_16(struct raw *r)
{
	struct pvring_desc *t;

	if (raw_setup(r, sock_a))
		return "set-up of device a failed";
	t = (void *)(r->mem + IND_GPA);
	hdr_set(r, PVIO_BLK_T_IN, 0);
	raw_desc_set(&t[0], HDR_GPA, 16, PVRING_DESC_F_NEXT, 1);
	raw_desc_set(&t[1], DATA_GPA, 512, PVRING_DESC_F_NEXT | PVRING_DESC_F_WRITE, 2);
	raw_desc_set(&t[2], STATUS_GPA, 1, PVRING_DESC_F_WRITE, 0);
	raw_desc_set(&r->vq[0].desc[0], IND_GPA, 40, PVRING_DESC_F_INDIRECT, 0);
	avail_push(r, 0, 1);
	return expect_empty(r);
}

static const char *t_avail_idx_jump(struct raw *r)
{
	if (raw_setup(r, sock_a))
		return "set-up of device a failed";
	chain3(r, PVIO_BLK_T_IN, 0, DATA_GPA, 512, true);
	avail_push(r, 0, NUM + 1);
	return expect_broken(r);
}

static const char *t_avail_head_out_of_range(struct raw *r)
{
	if (raw_setup(r, sock_a))
		return "set-up of device a failed";
	avail_push(r, NUM + 3, 1);
	return expect_broken(r);
}

static const char *t_ring_size_not_pow2(struct raw *r)
{
	struct vhost_user_vring_state st = { 0, 100 };

	if (raw_connect(r, sock_a) || raw_negotiate_blk(r))
		return "connect";
	if (raw_ack(r, VHOST_USER_SET_VRING_NUM, &st, 8, NULL, 0) != EINVAL)
		return "not ACK(EINVAL)";
	if (!raw_alive(r))
		return "connection lost";
	return NULL;
}

static const char *t_ring_size_too_big(struct raw *r)
{
	struct vhost_user_vring_state st = { 0, 65536 };

	if (raw_connect(r, sock_a) || raw_negotiate_blk(r))
		return "connect";
	if (raw_ack(r, VHOST_USER_SET_VRING_NUM, &st, 8, NULL, 0) != EINVAL)
		return "not ACK(EINVAL)";
	if (!raw_alive(r))
		return "connection lost";
	return NULL;
}

static const char *t_ring_addr_outside(struct raw *r)
{
	struct vhost_user_vring_state st = { 0, NUM };
	struct vhost_user_vring_addr a = {
		.index = 0,
		.desc_user_addr = RAW_UVA + GUEST_SIZE - 64, /* 256 bytes needed */
		.used_user_addr = RAW_UVA + USED_GPA,
		.avail_user_addr = RAW_UVA + AVAIL_GPA,
	};

	if (raw_connect(r, sock_a) || raw_negotiate_blk(r) || raw_mem(r, GUEST_SIZE, 1))
		return "connect";
	if (raw_ack(r, VHOST_USER_SET_VRING_NUM, &st, 8, NULL, 0))
		return "SET_VRING_NUM";
	if (raw_ack(r, VHOST_USER_SET_VRING_ADDR, &a, sizeof(a), NULL, 0) != EFAULT)
		return "not ACK(EFAULT)";
	a.desc_user_addr = 0x1000; /* below every region */
	if (raw_ack(r, VHOST_USER_SET_VRING_ADDR, &a, sizeof(a), NULL, 0) != EFAULT)
		return "not ACK(EFAULT) below memory";
	if (!raw_alive(r))
		return "connection lost";
	return NULL;
}

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

static const char *t_mem_overlap(struct raw *r)
{
	struct vhost_user_mem_region reg[2] = {
		{ 0, 0x80000, RAW_UVA, 0 },
		{ 0x40000, 0x80000, RAW_UVA + 0x100000, 0 },
	};

	return mem_table_bad(r, reg, 2, EINVAL);
}

static const char *t_mem_zero_size(struct raw *r)
{
	struct vhost_user_mem_region reg[1] = { { 0, 0, RAW_UVA, 0 } };

	return mem_table_bad(r, reg, 1, EINVAL);
}

static const char *t_mem_past_eof(struct raw *r)
{
	struct vhost_user_mem_region reg[1] = { { 0, 16 * GUEST_SIZE, RAW_UVA, 0 } };

	return mem_table_bad(r, reg, 1, EINVAL);
}

static const char *t_mem_too_many(struct raw *r)
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

static const char *t_wrong_size(struct raw *r)
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

static const char *t_payload_too_big(struct raw *r)
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

static const char *t_bad_version(struct raw *r)
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

static const char *t_too_many_fds(struct raw *r)
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

static const char *t_more_fds_than_protocol(struct raw *r)
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

static const char *t_too_few_fds(struct raw *r)
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

static const char *t_unknown_request(struct raw *r)
{
	if (raw_connect(r, sock_a) || raw_negotiate_blk(r))
		return "connect";
	if (raw_ack(r, 99, NULL, 0, NULL, 0) != EOPNOTSUPP)
		return "not ACK(EOPNOTSUPP)";
	if (raw_ack(r, VHOST_USER_SET_LOG_BASE, NULL, 0, NULL, 0) != EOPNOTSUPP)
		return "SET_LOG_BASE not ACK(EOPNOTSUPP)";
	if (!raw_alive(r))
		return "connection lost";
	return NULL;
}

static const char *t_queue_index_out_of_range(struct raw *r)
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

static const char *t_kick_before_ring(struct raw *r)
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

static const char *t_header_too_short(struct raw *r)
{
	if (raw_setup(r, sock_a))
		return "set-up of device a failed";
	chain3(r, PVIO_BLK_T_IN, 0, DATA_GPA, 512, true);
	raw_desc_set(&r->vq[0].desc[0], HDR_GPA, 8, PVRING_DESC_F_NEXT, 1);
	avail_push(r, 0, 1);
	return expect_status(r, PVIO_BLK_S_IOERR, 1);
}

static const char *t_status_readonly(struct raw *r)
{
	if (raw_setup(r, sock_a))
		return "set-up of device a failed";
	chain3(r, PVIO_BLK_T_OUT, 0, DATA_GPA, 512, false);
	raw_desc_set(&r->vq[0].desc[2], STATUS_GPA, 1, 0, 0); /* not device-writable */
	avail_push(r, 0, 1);
	return expect_empty(r);
}

static const char *t_sectors_beyond_capacity(struct raw *r)
{
	if (raw_setup(r, sock_a))
		return "set-up of device a failed";
	chain3(r, PVIO_BLK_T_IN, DISK_SECTORS, DATA_GPA, 512, true);
	avail_push(r, 0, 1);
	return expect_status(r, PVIO_BLK_S_IOERR, 1);
}

static const char *t_sectors_wrap(struct raw *r)
{
	if (raw_setup(r, sock_a))
		return "set-up of device a failed";
	chain3(r, PVIO_BLK_T_OUT, ~0ull - 1, DATA_GPA, 4096, false);
	avail_push(r, 0, 1);
	return expect_status(r, PVIO_BLK_S_IOERR, 1);
}

static const char *t_write_readonly_disk(struct raw *r)
{
	if (raw_setup(r, sock_ro))
		return "set-up of device ro failed";
	chain3(r, PVIO_BLK_T_OUT, 0, DATA_GPA, 512, false);
	avail_push(r, 0, 1);
	return expect_status(r, PVIO_BLK_S_IOERR, 1);
}

static const char *t_discard_too_many(struct raw *r)
{
	struct pvio_blk_discard_wz_seg *s;
	int i;

	if (raw_setup(r, sock_a))
		return "set-up of device a failed";
	s = (void *)(r->mem + DATA_GPA);
	for (i = 0; i < DISCARD_SEG_MAX + 1; i++) {
		s[i].sector = cpu_to_le64(i * 8);
		s[i].num_sectors = cpu_to_le32(8);
		s[i].flags = 0;
	}
	chain3(r, PVIO_BLK_T_DISCARD, 0, DATA_GPA, (DISCARD_SEG_MAX + 1) * 16, false);
	avail_push(r, 0, 1);
	return expect_status(r, PVIO_BLK_S_IOERR, 1);
}

static const char *t_disconnect_mid_message(struct raw *r)
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

static const char *t_disconnect_mid_header(struct raw *r)
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

static const char *t_sigpipe(struct raw *r)
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

static const char *t_session_after_break(struct raw *r)
{
	/* A broken queue is per-device: a fresh session on a works again. */
	if (raw_setup(r, sock_a))
		return "set-up of device a failed";
	chain3(r, PVIO_BLK_T_OUT, 8, DATA_GPA, 4096, false);
	avail_push(r, 0, 1);
	return expect_status(r, PVIO_BLK_S_OK, 1);
}

static const struct {
	const char *name;
	const char *outcome;
	bad_fn fn;
} tests[] = {
	{ "desc_addr_outside_guest_memory", "EMPTY", t_desc_outside_memory },
	{ "desc_straddles_end_of_region", "EMPTY", t_desc_straddles_region },
	{ "desc_len_zero_status", "IOERR in the last writable byte", t_desc_len_zero_status },
	{ "desc_len_zero_data", "OK, len 1", t_desc_len_zero_data },
	{ "desc_len_2^32-1", "EMPTY", t_desc_len_4g },
	{ "chain_loop", "EMPTY", t_chain_loop },
	{ "indirect_inside_indirect", "EMPTY", t_indirect_in_indirect },
	{ "indirect_len_not_multiple_of_16", "EMPTY", t_indirect_len_not_16 },
	{ "avail_idx_jumps_past_ring_size", "BROKEN", t_avail_idx_jump },
	{ "avail_head_out_of_range", "BROKEN", t_avail_head_out_of_range },
	{ "ring_size_not_power_of_two", "ACK(EINVAL)", t_ring_size_not_pow2 },
	{ "ring_size_above_32768", "ACK(EINVAL)", t_ring_size_too_big },
	{ "ring_addresses_outside_memory", "ACK(EFAULT)", t_ring_addr_outside },
	{ "mem_table_overlapping_regions", "ACK(EINVAL)", t_mem_overlap },
	{ "mem_table_zero_sized_region", "ACK(EINVAL)", t_mem_zero_size },
	{ "mem_table_region_past_end_of_file", "ACK(EINVAL)", t_mem_past_eof },
	{ "mem_table_too_many_regions", "CLOSED", t_mem_too_many },
	{ "message_wrong_size", "CLOSED", t_wrong_size },
	{ "message_payload_over_4096", "CLOSED", t_payload_too_big },
	{ "message_bad_version", "CLOSED", t_bad_version },
	{ "too_many_fds_for_request", "CLOSED", t_too_many_fds },
	{ "more_fds_than_protocol_allows", "CLOSED", t_more_fds_than_protocol },
	{ "too_few_fds", "CLOSED", t_too_few_fds },
	{ "unknown_request_codes", "ACK(EOPNOTSUPP)", t_unknown_request },
	{ "queue_index_out_of_range", "CLOSED", t_queue_index_out_of_range },
	{ "kick_before_ring_is_set", "ACK(0), ignored", t_kick_before_ring },
	{ "request_header_too_short", "IOERR", t_header_too_short },
	{ "status_byte_in_readonly_desc", "EMPTY", t_status_readonly },
	{ "sectors_beyond_capacity", "IOERR", t_sectors_beyond_capacity },
	{ "sector_wraps_64_bits", "IOERR", t_sectors_wrap },
	{ "write_to_readonly_disk", "IOERR", t_write_readonly_disk },
	{ "discard_too_many_segments", "IOERR", t_discard_too_many },
	{ "disconnect_mid_message", "reconnect served", t_disconnect_mid_message },
	{ "disconnect_mid_header", "reconnect served", t_disconnect_mid_header },
	{ "sigpipe_reply_to_gone_peer", "reconnect served", t_sigpipe },
	{ "session_after_broken_ring", "OK", t_session_after_break },
};

static int image(const char *dir, const char *name, char *path, size_t len)
{
	int fd;

	snprintf(path, len, "%s/%s.img", dir, name);
	fd = open(path, O_CREAT | O_RDWR | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, DISK_SECTORS * 512)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int main(void)
{
	char dir[] = "/tmp/pvio-badinput.XXXXXX";
	char img_a[PATH_MAX], img_b[PATH_MAX], img_ro[PATH_MAX], why[256];
	char dev_a[2 * PATH_MAX + 64], dev_b[2 * PATH_MAX + 64], dev_ro[2 * PATH_MAX + 64];
	unsigned int n = sizeof(tests) / sizeof(tests[0]), i, failed = 0;
	struct vuser_blk_opts bo = { 0 };
	int ret;

	signal(SIGPIPE, SIG_IGN);
	printf("TAP version 13\n1..%u\n", n);
	fflush(stdout);
	if (!mkdtemp(dir) || image(dir, "a", img_a, sizeof(img_a)) ||
	    image(dir, "b", img_b, sizeof(img_b)) || image(dir, "ro", img_ro, sizeof(img_ro))) {
		printf("Bail out! temporary images in /tmp\n");
		return 1;
	}
	snprintf(sock_a, sizeof(sock_a), "%s/a.sock", dir);
	snprintf(sock_b, sizeof(sock_b), "%s/b.sock", dir);
	snprintf(sock_ro, sizeof(sock_ro), "%s/ro.sock", dir);
	snprintf(logpath, sizeof(logpath), "%s/pviod.log", dir);
	snprintf(dev_a, sizeof(dev_a), "blk,socket=%s,file=%s,direct=off,queues=1", sock_a, img_a);
	snprintf(dev_b, sizeof(dev_b), "blk,socket=%s,file=%s,direct=off", sock_b, img_b);
	snprintf(dev_ro, sizeof(dev_ro), "blk,socket=%s,file=%s,readonly=on", sock_ro, img_ro);
	{
		const char *const args[] = {
			"--device", dev_a, "--device", dev_b, "--device", dev_ro, NULL,
		};

		if (pvt_pviod_start(&pviod, logpath, args, 5000)) {
			pvt_dump_log(logpath);
			printf("Bail out! pviod (%s) did not start\n", pviod.bin);
			return 1;
		}
	}
	bo.socket_path = sock_b;
	bo.depth = 1;
	bo.buf_bytes = 1 << 16;
	ret = vuser_blk_open(&witness, &bo);
	if (ret) {
		printf("Bail out! device b: %s\n", vuser_dev_errmsg(&witness.dev));
		pvt_pviod_stop(&pviod, PVT_STOP_MS);
		return 1;
	}
	witness_buf = vuser_blk_alloc(&witness, 4096);

	for (i = 0; i < n; i++) {
		struct raw r;
		unsigned int before = raw_inputs;
		const char *err;

		if (getenv("BADINPUT_ONLY") && strcmp(getenv("BADINPUT_ONLY"), tests[i].name)) {
			printf("ok %u %s # SKIP not selected\n", i + 1, tests[i].name);
			continue;
		}
		raw_init(&r);
		err = tests[i].fn(&r);

		raw_close(&r);
		if (!err && !pviod_alive())
			err = "pviod died";
		if (!err && !witness_ok(why, sizeof(why)))
			err = why;
		if (err) {
			failed++;
			printf("not ok %u %s # expected %s: %s\n", i + 1, tests[i].name,
			       tests[i].outcome, err);
		} else {
			printf("ok %u %s\n", i + 1, tests[i].name);
			printf("# %s: %s; %u hostile inputs; pviod alive, device b serves\n",
			       tests[i].name, tests[i].outcome, raw_inputs - before);
		}
		fflush(stdout);
		if (!pviod_alive()) {
			pvt_dump_log(logpath);
			printf("Bail out! pviod died\n");
			return 1;
		}
	}
	printf("# %u hostile inputs in %u tests, %u failed\n", raw_inputs, n, failed);
	vuser_blk_close(&witness);
	pvt_pviod_stop(&pviod, PVT_STOP_MS);
	if (failed)
		pvt_dump_log(logpath);
	{
		char cmd[PATH_MAX + 16];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd))
			fprintf(stderr, "# could not remove %s\n", dir);
	}
	return failed ? 1 : 0;
}
