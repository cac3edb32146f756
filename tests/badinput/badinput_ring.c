// SPDX-License-Identifier: GPL-2.0
/*
 * badinput_ring.c - badinput's attacks on the ring: descriptors outside
 * guest memory or across a region's end, zero and 4 GiB lengths, loops,
 * nested and misshapen indirect tables, avail entries and indices out of
 * range, ring sizes and addresses pviod must refuse.
 */
#include "badinput.h"

const char *t_desc_outside_memory(struct raw *r)
{
	if (raw_setup(r, sock_a))
		return "set-up of device a failed";
	chain3(r, PVIO_BLK_T_IN, 0, GUEST_SIZE + 0x1000, 512, true);
	avail_push(r, 0, 1);
	return expect_empty(r);
}

const char *t_desc_straddles_region(struct raw *r)
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
const char *t_desc_len_zero_status(struct raw *r)
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

const char *t_desc_len_zero_data(struct raw *r)
{
	if (raw_setup(r, sock_a))
		return "set-up of device a failed";
	chain3(r, PVIO_BLK_T_IN, 0, DATA_GPA, 0, true);
	avail_push(r, 0, 1);
	return expect_status(r, PVIO_BLK_S_OK, 1);
}

const char *t_desc_len_4g(struct raw *r)
{
	if (raw_setup(r, sock_a))
		return "set-up of device a failed";
	chain3(r, PVIO_BLK_T_IN, 0, DATA_GPA, 0xffffffffu, true);
	avail_push(r, 0, 1);
	return expect_empty(r);
}

const char *t_chain_loop(struct raw *r)
{
	if (raw_setup(r, sock_a))
		return "set-up of device a failed";
	chain3(r, PVIO_BLK_T_IN, 0, DATA_GPA, 512, true);
	raw_desc_set(&r->vq[0].desc[1], DATA_GPA, 512, PVRING_DESC_F_NEXT,
		     0); /* back to the head */
	avail_push(r, 0, 1);
	return expect_empty(r);
}

const char *t_indirect_in_indirect(struct raw *r)
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

const char *t_indirect_len_not_16(struct raw *r)
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

const char *t_avail_idx_jump(struct raw *r)
{
	if (raw_setup(r, sock_a))
		return "set-up of device a failed";
	chain3(r, PVIO_BLK_T_IN, 0, DATA_GPA, 512, true);
	avail_push(r, 0, NUM + 1);
	return expect_broken(r);
}

const char *t_avail_head_out_of_range(struct raw *r)
{
	if (raw_setup(r, sock_a))
		return "set-up of device a failed";
	avail_push(r, NUM + 3, 1);
	return expect_broken(r);
}

const char *t_ring_size_not_pow2(struct raw *r)
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

const char *t_ring_size_too_big(struct raw *r)
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

const char *t_ring_addr_outside(struct raw *r)
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
