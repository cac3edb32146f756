// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_inflight - libFuzzer target: crash recovery from an in-flight area a
 * front-end hands back (SET_INFLIGHT_FD after a pviod restart), on a real
 * virtio-blk device with the real workers.
 *
 * The area is the peer's memory: after a crash it holds whatever the dead
 * pviod (or a hostile front-end) left there.  The input is
 *   u8   bits 0-2: log2 of the queue size, minus 1 (2..256 entries);
 *        bit 7: a packed ring (VIRTIO_F_RING_PACKED), else split
 *   u16  split: used->idx in the guest's used ring, and the SET_VRING_BASE
 *        value; packed: the used half of SET_VRING_BASE (off_wrap)
 *   u16  split: avail->idx in the guest's avail ring; packed: the avail half
 *   then the queue's in-flight region (header and descriptor states, the
 *   split or the packed layout), the descriptor table (or ring) and, split,
 *   the avail ring entries, in that order, each zero-filled where the
 *   input ends first.
 * The harness negotiates INFLIGHT_SHMFD, sends the guest memory (a memfd
 * with the rings), the area, the ring and its kick, so pviod recovers the
 * region and serves what it resubmits and what is available, then stops
 * the ring with GET_VRING_BASE.  Checked afterwards: nothing is left in
 * flight in the region, its used position is the ring's (split: used->idx;
 * packed: the used half of the base pviod stopped at, before the batch as
 * well as after), a packed region's free list holds every entry once, and
 * no fd leaked across the session's reset.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "blk/blk.h"
#include "pvring.h"
#include "vhost_user_inflight.h"
#include "vhost-user/msg.h"
#include "vhost-user/socket.h"
#include "virtio_config.h"

#include "fuzz_vu.h"
#include "tests/lib/pvtest.h"

#define GUEST_SIZE (1u << 16)
#define DESC_GPA 0x0000
#define AVAIL_GPA 0x1000
#define USED_GPA 0x2000
#define GUEST_UVA 0x7f0000000000ull

static struct pviod_device *fuzz_dev;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_dev = fuzz_vu_create(FUZZ_VU_BLK, "queues=1,direct=off");
	return 0;
}

/* One message with @nfds fds into pviod, its reply (if any) drained. */
static void fuzz_msg(int s, uint32_t req, const void *payload, uint32_t size, const int *fds,
		     unsigned int nfds)
{
	struct vhost_user_msg m = { .hdr = { req, VHOST_USER_VERSION, size } };
	char buf[8192];

	if (size)
		memcpy(&m.payload, payload, size);
	if (pvt_fd_send_flags(s, &m, sizeof(m.hdr) + size, fds, nfds, MSG_DONTWAIT))
		abort();
	if (vu_conn_handle(fuzz_dev->vu))
		abort(); /* every message here is well-formed */
	while (recv(s, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

/* Copy up to @len input bytes to @dst, zero-filling the rest. */
static void fuzz_take(void *dst, size_t len, const uint8_t **data, size_t *size)
{
	size_t n = *size < len ? *size : len;

	memcpy(dst, *data, n);
	memset((uint8_t *)dst + n, 0, len - n);
	*data += n;
	*size -= n;
}

/* A packed region adopted by pviod (version set) is whole again, its used position the ring's. */
static void fuzz_check_packed(const struct vhost_user_inflight_region_packed *r, uint16_t num,
			      uint32_t base)
{
	uint8_t seen[256] = { 0 };
	unsigned int i, n = 0;
	uint16_t f, used = (uint16_t)(base >> 16);

	if (r->version != VHOST_USER_INFLIGHT_VERSION || r->desc_num != num)
		return;
	for (i = 0; i < num; i++) {
		if (r->desc[i].inflight) {
			fprintf(stderr, "entry %u still in flight after the ring stopped\n", i);
			abort();
		}
	}
	for (f = r->free_head; f < num && n <= num; f = r->desc[f].next, n++) {
		if (seen[f]++) {
			fprintf(stderr, "entry %u twice in the free list\n", f);
			abort();
		}
	}
	if (n != num || r->old_free_head != r->free_head) {
		fprintf(stderr, "free list of %u entries (from %u, old %u), %u in the ring\n", n,
			r->free_head, r->old_free_head, num);
		abort();
	}
	if ((r->used_idx | r->used_wrap_counter << 15) != used ||
	    (r->old_used_idx | r->old_used_wrap_counter << 15) != used) {
		fprintf(stderr, "region used %u/%u (old %u/%u), the ring stopped at 0x%x\n",
			r->used_idx, r->used_wrap_counter, r->old_used_idx,
			r->old_used_wrap_counter, used);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vhost_user_memory table = { .nregions = 1 };
	struct vhost_user_inflight inf = { .num_queues = 1 };
	struct vhost_user_vring_state st = { 0 };
	struct vhost_user_vring_addr addr = { 0 };
	struct vhost_user_inflight_region *r;
	uint64_t f, area_size, u64;
	uint16_t num, used_idx, avail_idx, *avail, *used;
	int sv[2], mem_fd, area_fd, kick_fd, call_fd, floor = fuzz_fd_lowest();
	unsigned int i;
	uint8_t *mem;
	bool packed;

	if (size < 5)
		return 0;
	num = (uint16_t)(2u << (data[0] % 8));
	packed = data[0] & 0x80;
	memcpy(&used_idx, data + 1, 2);
	memcpy(&avail_idx, data + 3, 2);
	data += 5;
	size -= 5;

	/* Guest memory: the descriptor table, the avail ring, the used ring. */
	mem_fd = memfd_create("fuzz-guest", MFD_CLOEXEC);
	if (mem_fd < 0 || ftruncate(mem_fd, GUEST_SIZE))
		abort();
	mem = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, mem_fd, 0);
	if (mem == MAP_FAILED)
		abort();
	avail = (uint16_t *)(mem + AVAIL_GPA);
	used = (uint16_t *)(mem + USED_GPA);

	/* The area, as pviod's GET_INFLIGHT_FD lays it out, holding the input. */
	area_size = packed ? vhost_user_inflight_region_size_packed(num) :
			     vhost_user_inflight_region_size(num);
	area_fd = memfd_create("fuzz-inflight", MFD_CLOEXEC);
	if (area_fd < 0 || ftruncate(area_fd, (off_t)area_size))
		abort();
	r = mmap(NULL, area_size, PROT_READ | PROT_WRITE, MAP_SHARED, area_fd, 0);
	if (r == MAP_FAILED)
		abort();
	if (packed) {
		/*
		 * A base pviod takes (every message here is well-formed): offsets
		 * below the ring size, avail no further than a ring from used.
		 */
		used_idx = (used_idx & 0x8000) | (used_idx & 0x7fff) % num;
		avail_idx = (avail_idx & 0x8000) | (avail_idx & 0x7fff) % num;
		if ((uint16_t)(pvring_packed_seq(avail_idx, num) -
			       pvring_packed_seq(used_idx, num)) > num)
			avail_idx = used_idx;
		/* The ring's 16-byte descriptors, the event areas where avail and used were. */
		fuzz_take(r,
			  sizeof(struct vhost_user_inflight_region_packed) +
				  num * sizeof(struct vhost_user_inflight_desc_packed),
			  &data, &size);
		fuzz_take(mem + DESC_GPA, num * sizeof(struct pvring_desc_packed), &data, &size);
	} else {
		fuzz_take(r, sizeof(*r) + num * sizeof(r->desc[0]), &data, &size);
		fuzz_take(mem + DESC_GPA, num * sizeof(struct pvring_desc), &data, &size);
		fuzz_take(avail + 2, num * sizeof(uint16_t), &data, &size);
		avail[1] = avail_idx;
		used[1] = used_idx;
	}

	/* Whether the ring ran (a packed base can be refused): the device is idle here. */
	fuzz_dev->queues[0].stats.runs = 0;
	fuzz_vu_conn_open(fuzz_dev, sv);
	f = PVIO_BIT(VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD);
	fuzz_msg(sv[1], VHOST_USER_SET_PROTOCOL_FEATURES, &f, 8, NULL, 0);
	f = PVIO_BIT(PVIO_F_VERSION_1) | PVIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES) |
	    (packed ? PVIO_BIT(PVIO_F_RING_PACKED) : 0);
	fuzz_msg(sv[1], VHOST_USER_SET_FEATURES, &f, 8, NULL, 0);
	fuzz_msg(sv[1], VHOST_USER_SET_OWNER, NULL, 0, NULL, 0);
	table.regions[0] = (struct vhost_user_mem_region){ 0, GUEST_SIZE, GUEST_UVA, 0 };
	fuzz_msg(sv[1], VHOST_USER_SET_MEM_TABLE, &table, 8 + 32, &mem_fd, 1);
	inf.queue_size = num;
	inf.mmap_size = area_size;
	fuzz_msg(sv[1], VHOST_USER_SET_INFLIGHT_FD, &inf, sizeof(inf), &area_fd, 1);
	st.num = num;
	fuzz_msg(sv[1], VHOST_USER_SET_VRING_NUM, &st, sizeof(st), NULL, 0);
	st.num = packed ? avail_idx | (uint32_t)used_idx << 16 : used_idx;
	fuzz_msg(sv[1], VHOST_USER_SET_VRING_BASE, &st, sizeof(st), NULL, 0);
	addr.desc_user_addr = GUEST_UVA + DESC_GPA;
	addr.avail_user_addr = GUEST_UVA + AVAIL_GPA;
	addr.used_user_addr = GUEST_UVA + USED_GPA;
	fuzz_msg(sv[1], VHOST_USER_SET_VRING_ADDR, &addr, sizeof(addr), NULL, 0);
	call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	kick_fd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);
	if (call_fd < 0 || kick_fd < 0)
		abort();
	u64 = 0;
	fuzz_msg(sv[1], VHOST_USER_SET_VRING_CALL, &u64, 8, &call_fd, 1);
	fuzz_msg(sv[1], VHOST_USER_SET_VRING_KICK, &u64, 8, &kick_fd, 1);
	st.num = 1;
	fuzz_msg(sv[1], VHOST_USER_SET_VRING_ENABLE, &st, sizeof(st), NULL, 0);
	/* Stopping the ring completes everything it popped. */
	st.num = 0;
	fuzz_msg(sv[1], VHOST_USER_GET_VRING_BASE, &st, sizeof(st), NULL, 0);

	/* A region pviod adopted (version set) has nothing left in flight. */
	if (packed) {
		if (fuzz_dev->queues[0].stats.runs)
			fuzz_check_packed((void *)r, num, fuzz_dev->vu->vring[0].base);
	} else if (r->version == VHOST_USER_INFLIGHT_VERSION && r->desc_num == num) {
		for (i = 0; i < num; i++) {
			if (r->desc[i].inflight) {
				fprintf(stderr, "head %u still in flight after the ring stopped\n",
					i);
				abort();
			}
		}
		if (r->used_idx != used[1]) {
			fprintf(stderr, "region used_idx %u, used->idx %u\n", r->used_idx, used[1]);
			abort();
		}
	}

	fuzz_vu_conn_close(fuzz_dev, sv);
	close(call_fd);
	close(kick_fd);
	munmap(r, area_size);
	munmap(mem, GUEST_SIZE);
	close(area_fd);
	close(mem_fd);
	fuzz_fd_check(floor);
	return 0;
}
