// SPDX-License-Identifier: GPL-2.0
/*
 * blk_req_test - the virtio-blk request parser (backend/blk/request.c) on
 * hand-made chains: where the header, data and status byte are found
 * whatever the descriptor split, and which status a bad request gets.
 */
#include <string.h>

#include "kselftest_harness.h"
#include "blk/blk.h"

#define CAP 2048 /* sectors */

struct chain {
	struct pvring_seg seg[8];
	struct pvring_chain c;
	struct pvio_blk_req_hdr hdr;
	uint8_t data[4096];
	uint8_t status;
};

static const struct pviod_blk_limits lim_rw = { .capacity = CAP, .flush = true, .discard = true };
static const struct pviod_blk_limits lim_ro = { .capacity = CAP, .readonly = true, .flush = true };

static void seg_add(struct chain *ch, void *p, size_t len, bool writable)
{
	ch->seg[ch->c.nseg].base = p;
	ch->seg[ch->c.nseg].len = len;
	ch->c.nseg++;
	/* One buffer of the driver's per segment, as the ring reports them. */
	ch->c.ndesc++;
	if (len > ch->c.max_len)
		ch->c.max_len = len;
	if (!writable)
		ch->c.nout = ch->c.nseg;
}

/* header | data (readable for OUT, writable for IN) | status */
static void chain_std(struct chain *ch, uint32_t type, uint64_t sector, size_t len)
{
	memset(ch, 0, sizeof(*ch));
	ch->hdr.type = cpu_to_le32(type);
	ch->hdr.sector = cpu_to_le64(sector);
	seg_add(ch, &ch->hdr, sizeof(ch->hdr), false);
	if (len)
		seg_add(ch, ch->data, len, type == PVIO_BLK_T_IN || type == PVIO_BLK_T_GET_ID);
	seg_add(ch, &ch->status, 1, true);
}

TEST(in_standard)
{
	struct chain ch;
	struct pviod_blk_parsed p;

	chain_std(&ch, PVIO_BLK_T_IN, 8, 4096);
	ASSERT_EQ(0, pviod_blk_req_parse(&p, ch.seg, &ch.c, &lim_rw));
	EXPECT_EQ(PVIO_BLK_T_IN, p.type);
	EXPECT_EQ(8, p.sector);
	EXPECT_EQ((uint8_t *)&ch.status, p.status);
	EXPECT_EQ(1, p.ndata);
	EXPECT_EQ(4096, p.data_len);
	EXPECT_EQ((void *)ch.data, p.data[0].base);
}

TEST(out_header_data_in_one_segment)
{
	/* Header and data share one readable buffer; status shares the last writable one. */
	static uint8_t buf[16 + 512];
	static uint8_t tail[8];
	struct pvio_blk_req_hdr hdr = { .type = cpu_to_le32(PVIO_BLK_T_OUT),
					.sector = cpu_to_le64(3) };
	struct pviod_blk_parsed p;
	struct chain ch;

	memset(&ch, 0, sizeof(ch));
	memcpy(buf, &hdr, sizeof(hdr));
	seg_add(&ch, buf, 10, false); /* the header split 10 + 6 */
	seg_add(&ch, buf + 10, sizeof(buf) - 10, false);
	seg_add(&ch, tail, sizeof(tail), true);
	ASSERT_EQ(0, pviod_blk_req_parse(&p, ch.seg, &ch.c, &lim_rw));
	EXPECT_EQ(PVIO_BLK_T_OUT, p.type);
	EXPECT_EQ(3, p.sector);
	EXPECT_EQ((uint8_t *)&tail[7], p.status);
	EXPECT_EQ(512, p.data_len);
	EXPECT_EQ((void *)(buf + 16), p.data[0].base);
}

TEST(no_status_byte)
{
	struct chain ch;
	struct pviod_blk_parsed p;

	memset(&ch, 0, sizeof(ch));
	seg_add(&ch, &ch.hdr, sizeof(ch.hdr), false);
	EXPECT_EQ(-EINVAL, pviod_blk_req_parse(&p, ch.seg, &ch.c, &lim_rw));
}

TEST(short_header)
{
	struct chain ch;
	struct pviod_blk_parsed p;

	memset(&ch, 0, sizeof(ch));
	seg_add(&ch, &ch.hdr, 8, false);
	seg_add(&ch, &ch.status, 1, true);
	EXPECT_EQ(PVIO_BLK_S_IOERR, pviod_blk_req_parse(&p, ch.seg, &ch.c, &lim_rw));
	EXPECT_EQ((uint8_t *)&ch.status, p.status);
}

TEST(beyond_capacity)
{
	struct chain ch;
	struct pviod_blk_parsed p;

	chain_std(&ch, PVIO_BLK_T_IN, CAP - 7, 4096);
	EXPECT_EQ(PVIO_BLK_S_IOERR, pviod_blk_req_parse(&p, ch.seg, &ch.c, &lim_rw));
	chain_std(&ch, PVIO_BLK_T_IN, CAP - 8, 4096);
	EXPECT_EQ(0, pviod_blk_req_parse(&p, ch.seg, &ch.c, &lim_rw));
	chain_std(&ch, PVIO_BLK_T_OUT, ~0ull, 512);
	EXPECT_EQ(PVIO_BLK_S_IOERR, pviod_blk_req_parse(&p, ch.seg, &ch.c, &lim_rw));
}

TEST(not_sector_multiple)
{
	struct chain ch;
	struct pviod_blk_parsed p;

	chain_std(&ch, PVIO_BLK_T_OUT, 0, 100);
	EXPECT_EQ(PVIO_BLK_S_IOERR, pviod_blk_req_parse(&p, ch.seg, &ch.c, &lim_rw));
}

TEST(write_to_readonly)
{
	struct chain ch;
	struct pviod_blk_parsed p;

	chain_std(&ch, PVIO_BLK_T_OUT, 0, 512);
	EXPECT_EQ(PVIO_BLK_S_IOERR, pviod_blk_req_parse(&p, ch.seg, &ch.c, &lim_ro));
	chain_std(&ch, PVIO_BLK_T_IN, 0, 512);
	EXPECT_EQ(0, pviod_blk_req_parse(&p, ch.seg, &ch.c, &lim_ro));
	chain_std(&ch, PVIO_BLK_T_DISCARD, 0, 16);
	EXPECT_EQ(PVIO_BLK_S_UNSUPP, pviod_blk_req_parse(&p, ch.seg, &ch.c, &lim_ro));
}

TEST(unknown_type)
{
	struct chain ch;
	struct pviod_blk_parsed p;

	chain_std(&ch, 77, 0, 0);
	EXPECT_EQ(PVIO_BLK_S_UNSUPP, pviod_blk_req_parse(&p, ch.seg, &ch.c, &lim_rw));
	chain_std(&ch, PVIO_BLK_T_FLUSH, 0, 0);
	EXPECT_EQ(0, pviod_blk_req_parse(&p, ch.seg, &ch.c, &lim_rw));
}

static void range_set(struct chain *ch, unsigned int i, uint64_t sector, uint32_t n, uint32_t flags)
{
	struct pvio_blk_discard_wz_seg s = {
		.sector = cpu_to_le64(sector),
		.num_sectors = cpu_to_le32(n),
		.flags = cpu_to_le32(flags),
	};

	memcpy(ch->data + i * sizeof(s), &s, sizeof(s));
}

TEST(discard_ranges)
{
	struct pvio_blk_discard_wz_seg out[PVIOD_BLK_DISCARD_SEG_MAX];
	struct pviod_blk_parsed p;
	struct chain ch;
	unsigned int n;

	chain_std(&ch, PVIO_BLK_T_DISCARD, 0, 32);
	range_set(&ch, 0, 8, 8, 0);
	range_set(&ch, 1, 100, 1, 0);
	ASSERT_EQ(0, pviod_blk_req_parse(&p, ch.seg, &ch.c, &lim_rw));
	ASSERT_EQ(0, pviod_blk_ranges_parse(&p, &lim_rw, out, &n));
	ASSERT_EQ(2, n);
	EXPECT_EQ(8, out[0].sector);
	EXPECT_EQ(1, out[1].num_sectors);

	/* UNMAP is for WRITE_ZEROES only (§5.2.6.2). */
	range_set(&ch, 1, 100, 1, PVIO_BLK_WZ_F_UNMAP);
	EXPECT_EQ(PVIO_BLK_S_UNSUPP, pviod_blk_ranges_parse(&p, &lim_rw, out, &n));
	p.type = PVIO_BLK_T_WRITE_ZEROES;
	EXPECT_EQ(0, pviod_blk_ranges_parse(&p, &lim_rw, out, &n));
	range_set(&ch, 1, 100, 1, 4);
	EXPECT_EQ(PVIO_BLK_S_UNSUPP, pviod_blk_ranges_parse(&p, &lim_rw, out, &n));
	range_set(&ch, 1, CAP, 1, 0);
	EXPECT_EQ(PVIO_BLK_S_IOERR, pviod_blk_ranges_parse(&p, &lim_rw, out, &n));
	range_set(&ch, 1, 0, 0, 0);
	EXPECT_EQ(PVIO_BLK_S_IOERR, pviod_blk_ranges_parse(&p, &lim_rw, out, &n));
}

TEST(discard_too_many_ranges)
{
	struct pvio_blk_discard_wz_seg out[PVIOD_BLK_DISCARD_SEG_MAX];
	struct pviod_blk_parsed p;
	struct chain ch;
	unsigned int i, n;

	chain_std(&ch, PVIO_BLK_T_DISCARD, 0, (PVIOD_BLK_DISCARD_SEG_MAX + 1) * 16);
	for (i = 0; i <= PVIOD_BLK_DISCARD_SEG_MAX; i++)
		range_set(&ch, i, i, 1, 0);
	ASSERT_EQ(0, pviod_blk_req_parse(&p, ch.seg, &ch.c, &lim_rw));
	EXPECT_EQ(PVIO_BLK_S_IOERR, pviod_blk_ranges_parse(&p, &lim_rw, out, &n));

	chain_std(&ch, PVIO_BLK_T_DISCARD, 0, 24); /* not a multiple of 16 */
	EXPECT_EQ(PVIO_BLK_S_IOERR, pviod_blk_req_parse(&p, ch.seg, &ch.c, &lim_rw));
}

/* config size_max: a buffer of 1 MiB + 512 is refused, 1 MiB is fine. */
TEST(size_max)
{
	struct chain ch;
	struct pviod_blk_parsed p;

	chain_std(&ch, PVIO_BLK_T_IN, 0, 4096);
	ch.c.max_len = PVIOD_BLK_SIZE_MAX;
	EXPECT_EQ(0, pviod_blk_req_parse(&p, ch.seg, &ch.c, &lim_rw));
	chain_std(&ch, PVIO_BLK_T_IN, 0, 4096);
	ch.c.max_len = PVIOD_BLK_SIZE_MAX + 512;
	EXPECT_EQ(PVIO_BLK_S_IOERR, pviod_blk_req_parse(&p, ch.seg, &ch.c, &lim_rw));
	EXPECT_EQ((uint8_t *)&ch.status, p.status);
}

/* config seg_max: 254 data buffers beside the header and status, not one more. */
TEST(seg_max)
{
	struct chain ch;
	struct pviod_blk_parsed p;

	chain_std(&ch, PVIO_BLK_T_OUT, 0, 4096);
	ch.c.ndesc = PVIOD_BLK_SEG_MAX + 2;
	EXPECT_EQ(0, pviod_blk_req_parse(&p, ch.seg, &ch.c, &lim_rw));
	chain_std(&ch, PVIO_BLK_T_OUT, 0, 4096);
	ch.c.ndesc = PVIOD_BLK_SEG_MAX + 3;
	EXPECT_EQ(PVIO_BLK_S_IOERR, pviod_blk_req_parse(&p, ch.seg, &ch.c, &lim_rw));
}

TEST(get_id)
{
	struct chain ch;
	struct pviod_blk_parsed p;

	chain_std(&ch, PVIO_BLK_T_GET_ID, 0, 20);
	ASSERT_EQ(0, pviod_blk_req_parse(&p, ch.seg, &ch.c, &lim_rw));
	EXPECT_EQ(20, p.data_len);
}

TEST_HARNESS_MAIN
