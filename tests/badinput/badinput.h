/* SPDX-License-Identifier: GPL-2.0 */
/*
 * badinput.h - what the parts of badinput share (badinput.c describes the
 * test): the guest memory layout of the raw front-end, the disk set-up and
 * hand-made chains (badinput_drv.c), and the tests, by the layer of pviod
 * they attack: the ring (badinput_ring.c), vhost-user messages and the
 * connection (badinput_msg.c), block requests (badinput_blk.c).
 * badinput.c's table lists them in the order they run.
 *
 * A test is const char *t_NAME(struct raw *r): it connects to disk a (or
 * ro), sets it up as far as it needs, does one hostile thing and checks the
 * exact outcome; NULL when it was as expected, else what went wrong.
 */
#ifndef PVIO_TESTS_BADINPUT_H
#define PVIO_TESTS_BADINPUT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "raw.h"
#include "virtio_blk.h"

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

/* The sockets of the abused disk and of the read-only one (badinput.c). */
extern char sock_a[PATH_MAX], sock_ro[PATH_MAX];

/* --- the raw protocol set up for a disk, hand-made chains (badinput_drv.c) --------------- */

bool raw_alive(struct raw *r);
int raw_negotiate_blk(struct raw *r);
int raw_setup(struct raw *r, const char *path);
void hdr_set(struct raw *r, uint32_t type, uint64_t sector);
void chain3(struct raw *r, uint32_t type, uint64_t sector, uint64_t data, uint32_t len,
	    bool data_write);
void avail_push(struct raw *r, uint16_t head, uint16_t step);
long used_wait(struct raw *r, uint16_t n);
const char *expect_empty(struct raw *r);
const char *expect_status(struct raw *r, uint8_t st, long len);
const char *expect_broken(struct raw *r);

/* --- the tests --------------------------------------------------------------------------- */

/* The ring: descriptors, indirect tables, avail entries, ring set-up (badinput_ring.c). */
const char *t_desc_outside_memory(struct raw *r);
const char *t_desc_straddles_region(struct raw *r);
const char *t_desc_len_zero_status(struct raw *r);
const char *t_desc_len_zero_data(struct raw *r);
const char *t_desc_len_4g(struct raw *r);
const char *t_chain_loop(struct raw *r);
const char *t_indirect_in_indirect(struct raw *r);
const char *t_indirect_len_not_16(struct raw *r);
const char *t_avail_idx_jump(struct raw *r);
const char *t_avail_head_out_of_range(struct raw *r);
const char *t_ring_size_not_pow2(struct raw *r);
const char *t_ring_size_too_big(struct raw *r);
const char *t_ring_addr_outside(struct raw *r);

/* vhost-user messages, and the connection (badinput_msg.c). */
const char *t_mem_overlap(struct raw *r);
const char *t_mem_zero_size(struct raw *r);
const char *t_mem_past_eof(struct raw *r);
const char *t_mem_too_many(struct raw *r);
const char *t_mem_shrunk_rings(struct raw *r);
const char *t_mem_shrunk_read_data(struct raw *r);
const char *t_mem_shrunk_get_id(struct raw *r);
const char *t_wrong_size(struct raw *r);
const char *t_payload_too_big(struct raw *r);
const char *t_bad_version(struct raw *r);
const char *t_too_many_fds(struct raw *r);
const char *t_more_fds_than_protocol(struct raw *r);
const char *t_too_few_fds(struct raw *r);
const char *t_unknown_request(struct raw *r);
const char *t_queue_index_out_of_range(struct raw *r);
const char *t_kick_before_ring(struct raw *r);
const char *t_disconnect_mid_message(struct raw *r);
const char *t_disconnect_mid_header(struct raw *r);
const char *t_sigpipe(struct raw *r);
const char *t_session_after_break(struct raw *r);

/* Block requests (badinput_blk.c). */
const char *t_header_too_short(struct raw *r);
const char *t_status_readonly(struct raw *r);
const char *t_sectors_beyond_capacity(struct raw *r);
const char *t_sectors_wrap(struct raw *r);
const char *t_write_readonly_disk(struct raw *r);
const char *t_discard_too_many(struct raw *r);

#endif /* PVIO_TESTS_BADINPUT_H */
