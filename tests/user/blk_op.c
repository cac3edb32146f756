// SPDX-License-Identifier: GPL-2.0
/*
 * blk_op.c - one virtio-blk request through the userspace driver, for the
 * shell tests of pviod's storage engines (tests/backend/blk_nbd.sh):
 *
 *   blk_op SOCKET features             the offered features, by name
 *   blk_op SOCKET size                 the capacity in bytes
 *   blk_op SOCKET write OFF LEN BYTE   LEN bytes of BYTE (0..255) at OFF
 *   blk_op SOCKET read OFF LEN BYTE    read, and check every byte is BYTE
 *   blk_op SOCKET flush|discard OFF LEN|zeroes OFF LEN|zeroes-unmap OFF LEN
 *
 * Exit status: 0 when the request succeeded (and read what it expected),
 * 1 when it failed (the status is printed: IOERR, UNSUPP or the transport's
 * error), 2 on bad usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vuser.h"

#define BLK_OP_LEN_MAX (64ull << 20) /* bytes in one request, at most */

static const struct {
	unsigned int bit;
	const char *name;
} blk_op_features[] = {
	{ PVIO_BLK_F_RO, "ro" },	   { PVIO_BLK_F_FLUSH, "flush" },
	{ PVIO_BLK_F_DISCARD, "discard" }, { PVIO_BLK_F_WRITE_ZEROES, "write-zeroes" },
	{ PVIO_BLK_F_MQ, "mq" },
};

static int blk_op_usage(void)
{
	fprintf(stderr, "usage: blk_op SOCKET features|size|flush\n"
			"       blk_op SOCKET write|read OFF LEN BYTE\n"
			"       blk_op SOCKET discard|zeroes|zeroes-unmap OFF LEN\n");
	return 2;
}

static const char *blk_op_result(int r)
{
	switch (r) {
	case -EIO:
		return "IOERR";
	case -EOPNOTSUPP:
		return "UNSUPP";
	default:
		return strerror(-r);
	}
}

int main(int argc, char **argv)
{
	struct vuser_blk_opts bo = { .num_queues = 1, .depth = 4, .timeout_ms = 60000 };
	struct vuser_blk blk;
	struct vuser_blk_req *req, *done;
	unsigned long long off = 0, len = 0, byte = 0;
	const char *op;
	unsigned int type, i;
	uint8_t *buf = NULL;
	int r;

	if (argc < 3)
		return blk_op_usage();
	bo.socket_path = argv[1];
	op = argv[2];
	if (argc >= 5) {
		off = strtoull(argv[3], NULL, 0);
		len = strtoull(argv[4], NULL, 0);
		if (len > BLK_OP_LEN_MAX)
			return blk_op_usage();
	}
	if (argc >= 6)
		byte = strtoull(argv[5], NULL, 0);
	if (byte > 255)
		return blk_op_usage();
	if (!strcmp(op, "write") || !strcmp(op, "read")) {
		if (argc != 6)
			return blk_op_usage();
		type = !strcmp(op, "write") ? PVIO_BLK_T_OUT : PVIO_BLK_T_IN;
	} else if (!strcmp(op, "discard") || !strcmp(op, "zeroes") || !strcmp(op, "zeroes-unmap")) {
		if (argc != 5)
			return blk_op_usage();
		type = !strcmp(op, "discard") ? PVIO_BLK_T_DISCARD : PVIO_BLK_T_WRITE_ZEROES;
	} else if (!strcmp(op, "flush")) {
		type = PVIO_BLK_T_FLUSH;
	} else if (!strcmp(op, "features") || !strcmp(op, "size")) {
		type = ~0u;
	} else {
		return blk_op_usage();
	}
	bo.buf_bytes = len + 4096;
	r = vuser_blk_open(&blk, &bo);
	if (r) {
		fprintf(stderr, "blk_op: %s\n", vuser_dev_errmsg(&blk.dev));
		return 1;
	}
	if (!strcmp(op, "features")) {
		for (i = 0; i < sizeof(blk_op_features) / sizeof(blk_op_features[0]); i++)
			if (vuser_dev_has(&blk.dev, blk_op_features[i].bit))
				printf("%s\n", blk_op_features[i].name);
		vuser_blk_close(&blk);
		return 0;
	}
	if (!strcmp(op, "size")) {
		printf("%llu\n", (unsigned long long)blk.capacity_bytes);
		vuser_blk_close(&blk);
		return 0;
	}
	if (type == PVIO_BLK_T_OUT || type == PVIO_BLK_T_IN) {
		buf = vuser_blk_alloc(&blk, len);
		if (!buf) {
			fprintf(stderr, "blk_op: no memory for %llu bytes\n", len);
			vuser_blk_close(&blk);
			return 1;
		}
		memset(buf, type == PVIO_BLK_T_OUT ? (int)byte : (int)(~byte & 0xff), len);
	}
	req = vuser_blk_req_get(&blk, 0);
	req->type = type;
	req->offset = off;
	req->buf = buf;
	req->len = (uint32_t)len;
	req->unmap = !strcmp(op, "zeroes-unmap");
	r = vuser_blk_submit(&blk, 0, req);
	if (!r)
		r = vuser_blk_wait(&blk, 0, &done, 1, -1);
	if (r >= 0)
		r = req->result;
	if (r) {
		printf("%s %llu %llu: %s\n", op, off, len, blk_op_result(r));
		vuser_blk_close(&blk);
		return 1;
	}
	if (type == PVIO_BLK_T_IN) {
		for (i = 0; i < len; i++) {
			if (buf[i] != byte) {
				printf("read %llu %llu: byte %llu is %u, expected %llu\n", off, len,
				       off + i, buf[i], byte);
				vuser_blk_close(&blk);
				return 1;
			}
		}
	}
	vuser_blk_close(&blk);
	return 0;
}
