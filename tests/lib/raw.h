/* SPDX-License-Identifier: GPL-2.0 */
/*
 * raw.h - a raw vhost-user front-end for the bad-input tests
 * (tests/badinput/): it speaks the protocol message by message, shares a
 * memfd as "guest memory" and writes descriptor tables and avail rings by
 * hand, so a test can send pviod exactly the hostile bytes it wants.
 * Nothing here checks what the test asks for: that is the point.
 *
 * Guest memory is one memfd mapped once here (gpa = offset in it), handed
 * to pviod as one or more regions that are adjacent in guest-physical space
 * but far apart in "front-end" addresses, so a buffer may straddle two.
 */
#ifndef PVIO_TESTS_RAW_H
#define PVIO_TESTS_RAW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pvring_split.h"
#include "vhost_user.h"
#include "virtio_config.h"

#define RAW_UVA 0x7000000000ull /* our "front-end address" of gpa 0 */
#define RAW_UVA_GAP 0x100000000ull /* between two regions' front-end addresses */
#define RAW_WAIT_MS 2000 /* for every reply and every wait */
#define RAW_VQ_MAX 3

/* One ring, laid out by the test in guest memory. */
struct raw_vq {
	struct pvring_desc *desc;
	struct pvring_avail *avail;
	struct pvring_used *used;
	unsigned int num;
	int kick, call, err; /* eventfds: ours to write, pviod's to write */
	uint16_t avail_idx; /* our shadow of avail->idx */
};

/* A raw front-end: socket, memfd guest memory, up to RAW_VQ_MAX rings. */
struct raw {
	int sock;
	int memfd;
	uint8_t *mem;
	size_t mem_size;
	unsigned int nregions;
	struct raw_vq vq[RAW_VQ_MAX];
};

/* Hostile messages and chains sent so far (for the tests' summary lines). */
extern unsigned int raw_inputs;

void raw_init(struct raw *r);
int raw_connect(struct raw *r, const char *path);
void raw_close(struct raw *r);
int raw_send_bytes(struct raw *r, const void *buf, size_t len, const int *fds, unsigned int nfds);
int raw_send(struct raw *r, uint32_t req, uint32_t flags, const void *payload, uint32_t size,
	     const int *fds, unsigned int nfds);
int raw_recv(struct raw *r, struct vhost_user_msg *m);
long raw_ack(struct raw *r, uint32_t req, const void *payload, uint32_t size, const int *fds,
	     unsigned int nfds);
int raw_get_u64(struct raw *r, uint32_t req, uint64_t *v);
bool raw_closed(struct raw *r);
int raw_negotiate(struct raw *r, uint64_t protocol_features, uint64_t features);
int raw_mem(struct raw *r, size_t size, unsigned int nregions);
uint64_t raw_uva(const struct raw *r, uint64_t gpa);
int raw_vring(struct raw *r, unsigned int qi, unsigned int num, uint16_t base, uint64_t desc_gpa,
	      uint64_t avail_gpa, uint64_t used_gpa);

void raw_desc_set(struct pvring_desc *d, uint64_t addr, uint32_t len, uint16_t flags,
		  uint16_t next);
void raw_avail_add(struct raw_vq *q, uint16_t head);
void raw_avail_publish(struct raw_vq *q);
void raw_kick(struct raw_vq *q);
uint16_t raw_used_idx(const struct raw_vq *q);
bool raw_used_wait(const struct raw_vq *q, uint16_t n);
bool raw_fired(int fd, int timeout_ms);
bool raw_needs_reset(struct raw *r);

#endif /* PVIO_TESTS_RAW_H */
