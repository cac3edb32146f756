// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_ring - libFuzzer target: the device side of a split or packed
 * virtqueue (ring/pvring_dev.h) over a hostile driver.
 *
 * Input:
 *   byte 0      bits 0-3: log2 of the ring size (capped at 9: 512 entries)
 *               bit 4: EVENT_IDX, bit 5: INDIRECT_DESC, bit 6: packed
 *   byte 1      segment room per pop (1..64); bit 7 (packed): give a chain
 *               that ran out of room back and pop it again, as pviod's net
 *               device does
 *   bytes 2-3   where to resume (SET_VRING_BASE: split, the first avail
 *               index; packed, off_wrap with the offset taken modulo the size)
 *   the rest    guest memory from gpa 0 on, zero padded.  Split: the avail
 *               ring at gpa 0 (flags, idx, ring[], used_event), the
 *               descriptor table at gpa 0x800.  Packed: the driver event
 *               suppression at gpa 0, the descriptor ring at gpa 0x800 (the
 *               device writes used descriptors there).  Anything else
 *               (buffers, indirect tables) after
 *
 * Guest memory is four regions, each its own heap allocation of exactly its
 * size, so ASan catches a byte read or written outside any of them:
 *   R0  gpa 0x0000_0000 .. 0x0000_8000   (the rings and the input's bytes)
 *   R1  gpa 0x0000_8000 .. 0x0000_9000   adjacent to R0: buffers straddle
 *   R2  gpa 0x0010_0000 .. 0x0010_1000   after a gap
 *   R3  gpa 2^64 - 4096 .. 2^64          at the top: lengths that wrap
 *
 * Every chain popped must come back as segments that each lie inside one
 * region, readable before writable, totalling the byte counts reported.
 * Pops go on until the ring is empty or broken; every head is pushed back
 * and the notification paths are run as well.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pvring_dev.h"

#define FUZZ_R0_SIZE 0x8000
#define FUZZ_DESC_GPA 0x800
#define FUZZ_NUM_LOG2_MAX 9
#define FUZZ_SEG_MAX 64

static const struct {
	u64 gpa;
	u64 size;
} fuzz_ring_layout[] = {
	{ 0x0, FUZZ_R0_SIZE },
	{ 0x8000, 0x1000 },
	{ 0x100000, 0x1000 },
	{ 0xfffffffffffff000ull, 0x1000 },
};

#define FUZZ_NREGIONS (sizeof(fuzz_ring_layout) / sizeof(fuzz_ring_layout[0]))

static void fuzz_ring_seg_check(const struct pvring_mem *mem, const struct pvring_seg *s)
{
	unsigned int i;

	for (i = 0; i < mem->nregions; i++) {
		const struct pvring_mem_region *r = &mem->region[i];
		const u8 *b = s->base;

		if (b >= r->hva && b < r->hva + r->size && s->len <= (size_t)(r->hva + r->size - b))
			return;
	}
	fprintf(stderr, "segment %p + %zu lies in no region\n", s->base, s->len);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pvring_seg seg[FUZZ_SEG_MAX];
	struct pvring_dev_config cfg = { 0 };
	struct pvring_mem mem = { 0 };
	struct pvring_dev vr;
	struct pvring_layout l;
	void *device, *state = NULL;
	unsigned int num, max_seg, i, pops;
	bool packed, retry;
	uint8_t mode;
	int ret;

	if (size < 4)
		return 0;
	mode = data[0];
	num = 1u << ((data[0] & 0xf) > FUZZ_NUM_LOG2_MAX ? FUZZ_NUM_LOG2_MAX : (data[0] & 0xf));
	packed = mode & 0x40;
	retry = packed && (data[1] & 0x80);
	max_seg = 1 + (data[1] & 0x7f) % FUZZ_SEG_MAX;
	cfg.base = (u16)(data[2] | data[3] << 8);
	if (packed)
		cfg.base = (cfg.base & 0x8000) | (cfg.base & (num - 1));
	data += 4;
	size -= 4;

	for (i = 0; i < FUZZ_NREGIONS; i++) {
		struct pvring_mem_region *r = &mem.region[i];

		r->gpa = fuzz_ring_layout[i].gpa;
		r->size = fuzz_ring_layout[i].size;
		r->hva = calloc(1, r->size);
		if (!r->hva)
			abort();
		mem.nregions++;
	}
	memcpy(mem.region[0].hva, data, size < FUZZ_R0_SIZE ? size : FUZZ_R0_SIZE);
	/*
	 * The used ring (split) or device event suppression (packed) is the
	 * device's to write: private, exactly sized; so is its private state.
	 */
	cfg.format = packed ? PVRING_PACKED : PVRING_SPLIT;
	if (pvring_layout(cfg.format, num, &l))
		abort();
	device = calloc(1, l.device_bytes);
	if (l.dev_state_bytes)
		state = malloc(l.dev_state_bytes);
	if (!device || (l.dev_state_bytes && !state))
		abort();

	cfg.num = num;
	cfg.event_idx = mode & 0x10;
	cfg.indirect = mode & 0x20;
	cfg.driver = mem.region[0].hva;
	cfg.desc = mem.region[0].hva + FUZZ_DESC_GPA;
	cfg.device = device;
	cfg.state = state;
	cfg.mem = &mem;
	if (pvring_dev_init(&vr, &cfg))
		abort();

	for (pops = 0; pops < num + 2; pops++) {
		unsigned int room = max_seg;
		struct pvring_chain c;
		u64 out = 0, in = 0;

		ret = pvring_dev_pop(&vr, &c, seg, room);
		if (ret == -ENOBUFS && retry && c.head_valid) {
			pvring_dev_unpop(&vr, 1);
			room = FUZZ_SEG_MAX;
			ret = pvring_dev_pop(&vr, &c, seg, room);
		}
		if (ret == 0 || ret == -EIO)
			break;
		if (ret < 0) {
			if (ret != -ELOOP && ret != -EFAULT && ret != -EINVAL && ret != -ENOBUFS)
				abort();
			if (!c.head_valid)
				abort();
			pvring_dev_push_used(&vr, c.head, 0);
			continue;
		}
		if (ret != 1 || !c.head_valid || c.head >= num || c.nseg > room || c.nout > c.nseg)
			abort();
		for (i = 0; i < c.nseg; i++) {
			fuzz_ring_seg_check(&mem, &seg[i]);
			if (i < c.nout)
				out += seg[i].len;
			else
				in += seg[i].len;
		}
		if (out != c.out_len || in != c.in_len)
			abort();
		pvring_dev_push_used(&vr, c.head, (u32)in);
	}
	(void)pvring_dev_should_notify(&vr);
	pvring_dev_disable_notify(&vr);
	(void)pvring_dev_enable_notify(&vr);

	free(device);
	free(state);
	for (i = 0; i < mem.nregions; i++)
		free(mem.region[i].hva);
	return 0;
}
