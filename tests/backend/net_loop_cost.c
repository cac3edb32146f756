// SPDX-License-Identifier: GPL-2.0
/*
 * net_loop_cost.c - pviod's net loop path in one process, for instruction
 * counts: a driver shaped like DPDK's virtio_user (each transmit frame one
 * readable descriptor, 12-byte header then 64 bytes; each receive buffer one
 * writable descriptor of 2048 bytes; IN_ORDER, MRG_RXBUF, no EVENT_IDX) and
 * pviod's loop back-end, served by calling the transmit queue's serve and
 * the worker's end-of-batch flush directly (no io_uring, no threads).
 *
 *   net_loop_cost [--packed] [--frames N] [--burst B] [--num N] [--no-in-order]
 *
 * Under callgrind, the device's cost per frame is the inclusive count of
 * dev_round() divided by the frames printed:
 *
 *   valgrind --tool=callgrind --toggle-collect=dev_round \
 *       build/tests/backend/net_loop_cost --packed
 *
 * Every frame that comes back is checked (length, header, its sequence
 * number in order): exit 1 on the first one wrong.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "pvring_drv.h"
#include "core/device.h"
#include "core/queue.h"
#include "core/worker.h"
#include "net/net.h"

#define MEM_SIZE (16u << 20)
#define RX_BUF 2048u
#define TX_BUF 128u
#define FRAME 64u
#define MAX_NUM 4096u
#define USAGE "usage: net_loop_cost [--packed] [--frames N] [--burst B] [--num N] [--no-in-order]\n"

struct side {
	struct pvring_drv drv;
	struct pvring_drv_slot slot[MAX_NUM];
	uint64_t ring_gpa, buf_gpa;
};

static uint8_t *mem;
static struct pvring_mem pm;
static struct side rx, tx;
static struct pviod_device dev;
static struct pviod_queue q[2];
static struct pviod_worker worker;
static struct pviod_net *net;

/* The three areas of a ring at @gpa (16 KiB apart at most for 1024 entries). */
static void ring_areas(enum pvring_format f, unsigned int num, uint64_t gpa, void **desc,
		       void **drv, void **devp)
{
	struct pvring_layout l;

	if (pvring_layout(f, num, &l))
		abort();
	*desc = mem + gpa;
	*drv = mem + gpa + ((l.desc_bytes + 4095) & ~4095ul);
	*devp = mem + gpa + ((l.desc_bytes + 4095) & ~4095ul) + 4096 +
		((l.driver_bytes + 4095) & ~4095ul);
}

static void side_init(struct side *s, enum pvring_format f, unsigned int num, bool in_order,
		      uint64_t ring_gpa, uint64_t buf_gpa, struct pviod_queue *dq)
{
	struct pvring_drv_config dc = { .format = f, .num = num, .in_order = in_order };
	struct pvring_dev_config cfg = { .format = f,
					 .num = num,
					 .in_order = in_order,
					 .mem = &pm,
					 /* A fresh ring: both wrap counters 1 (bits 15 and 31). */
					 .base = f == PVRING_PACKED ? 0x80008000u : 0 };
	struct pvring_layout l;

	s->ring_gpa = ring_gpa;
	s->buf_gpa = buf_gpa;
	ring_areas(f, num, ring_gpa, &dc.desc, &dc.driver, &dc.device);
	dc.slot = s->slot;
	if (pvring_drv_init(&s->drv, &dc))
		abort();
	if (pviod_queue_setup(dq, num))
		abort();
	pvring_layout(f, num, &l);
	dq->ring_state = l.dev_state_bytes ? aligned_alloc(64, (l.dev_state_bytes + 63) & ~63ul) :
					     NULL;
	dq->ring_state_bytes = l.dev_state_bytes;
	cfg.desc = dc.desc;
	cfg.driver = dc.driver;
	cfg.device = dc.device;
	cfg.state = dq->ring_state;
	if (pvring_dev_init(&dq->ring, &cfg))
		abort();
	dq->worker = &worker;
	dq->call_fd = -1;
	dq->kick_fd = -1;
	dq->err_fd = -1;
}

/* The device's turn: what the worker does on a busy-poll that finds frames. */
__attribute__((noinline)) void dev_round(void);
__attribute__((noinline)) void dev_round(void)
{
	struct pviod_queue *d;

	while (pviod_net_tx_queue_serve(&q[1]) == PVIOD_SERVE_MORE)
		;
	while ((d = worker.dirty)) {
		worker.dirty = d->dirty_next;
		pviod_queue_flush(d);
	}
}

static int rx_post(unsigned int i)
{
	struct pvring_sg sg = { rx.buf_gpa + (uint64_t)i * RX_BUF, RX_BUF };

	return pvring_drv_stage(&rx.drv, &sg, 0, 1, (void *)(uintptr_t)(i + 1));
}

/*
 * One run of @frames frames: 0 when every frame came back right, else 1
 * (said on stderr).  Prints the run's line with @prefix.
 */
static int run(enum pvring_format f, bool in_order, unsigned long frames, unsigned int burst,
	       unsigned int num, const char *prefix)
{
	unsigned long sent = 0, got = 0, rounds = 0;
	unsigned int i, tx_free_next = 0;
	uint64_t features;
	struct pviod_net_pair *p;
	int ret = 1;

	memset(&rx, 0, sizeof(rx));
	memset(&tx, 0, sizeof(tx));
	memset(&dev, 0, sizeof(dev));
	memset(q, 0, sizeof(q));
	memset(&worker, 0, sizeof(worker));
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		abort();
	pm.nregions = 1;
	pm.region[0] = (struct pvring_mem_region){ 0, MEM_SIZE, mem };

	net = calloc(1, sizeof(*net) + sizeof(net->pairs[0]));
	if (!net)
		abort();
	dev.name = "net0";
	dev.nqueues = 2;
	dev.queues = q;
	dev.priv = net;
	net->dev = &dev;
	net->be = &pviod_net_loop_ops;
	net->npairs = 1;
	net->hdr_len = PVIOD_NET_HDR_LEN;
	features = PVIO_BIT(PVIO_F_VERSION_1) | PVIO_BIT(PVIO_NET_F_MRG_RXBUF);
	if (in_order)
		features |= PVIO_BIT(PVIO_F_IN_ORDER);
	if (f == PVRING_PACKED)
		features |= PVIO_BIT(PVIO_F_RING_PACKED);
	net->features = features;
	p = &net->pairs[0];
	p->net = net;
	p->rxq = &q[0];
	p->txq = &q[1];
	p->src_fd = -1;
	p->bounce = calloc(1, PVIOD_NET_HDR_LEN + PVIOD_NET_FRAME_MAX);
	p->gso_seg = calloc(1, PVIOD_NET_HDR_LEN + PVIOD_NET_FRAME_MAX);
	for (i = 0; i < 2; i++) {
		pviod_queue_init(&q[i], &dev, i);
		q[i].priv = p;
	}
	side_init(&rx, f, num, in_order, 0x0, MEM_SIZE / 2, &q[0]);
	side_init(&tx, f, num, in_order, 0x100000, 0x200000, &q[1]);
	p->rx_live = 1;

	/* The driver fills its receive ring, then sends and re-posts as frames come back. */
	for (i = 0; i < num; i++)
		if (rx_post(i))
			abort();
	pvring_drv_publish(&rx.drv);
	while (got < frames) {
		unsigned int n = 0;
		uint32_t len;
		void *t;

		while (n < burst && sent < frames && pvring_drv_num_free(&tx.drv)) {
			uint64_t gpa = tx.buf_gpa + (uint64_t)tx_free_next * TX_BUF;
			struct pvring_sg sg = { gpa, PVIOD_NET_HDR_LEN + FRAME };
			uint8_t *b = mem + gpa;

			memset(b, 0, PVIOD_NET_HDR_LEN);
			memset(b + PVIOD_NET_HDR_LEN, 0xab, 12);
			memcpy(b + PVIOD_NET_HDR_LEN + 16, &sent, sizeof(sent));
			t = (void *)(uintptr_t)(tx_free_next + 1);
			if (pvring_drv_stage(&tx.drv, &sg, 1, 0, t))
				break;
			tx_free_next = (tx_free_next + 1) % num;
			sent++;
			n++;
		}
		pvring_drv_publish(&tx.drv);
		dev_round();
		rounds++;
		while (pvring_drv_get_used(&tx.drv, &len))
			;
		while ((t = pvring_drv_get_used(&rx.drv, &len))) {
			unsigned int b = (unsigned int)(uintptr_t)t - 1;
			const uint8_t *d = mem + rx.buf_gpa + (uint64_t)b * RX_BUF;
			uint64_t seq;

			memcpy(&seq, d + PVIOD_NET_HDR_LEN + 16, sizeof(seq));
			if (len != PVIOD_NET_HDR_LEN + FRAME || d[10] != 1 || seq != got) {
				fprintf(stderr,
					"net_loop_cost: frame %lu back wrong (len %u, seq %llu)\n",
					got, len, (unsigned long long)seq);
				goto out;
			}
			got++;
			if (rx_post(b))
				abort();
		}
		pvring_drv_publish(&rx.drv);
		if (pvring_drv_broken(&rx.drv) || pvring_drv_broken(&tx.drv) || q[0].broken ||
		    q[1].broken) {
			fprintf(stderr, "net_loop_cost: a ring broke\n");
			goto out;
		}
		if (!n && sent < frames) {
			fprintf(stderr, "net_loop_cost: no progress (sent %lu, back %lu)\n", sent,
				got);
			goto out;
		}
	}
	printf("%s%s%s num %u burst %u: %lu frames in %lu rounds; rx %llu frames, %llu no buf\n",
	       prefix, f == PVRING_PACKED ? "packed" : "split", in_order ? " in-order" : "", num,
	       burst, got, rounds, (unsigned long long)p->st.rx_frames,
	       (unsigned long long)p->st.rx_no_buf);
	ret = 0;
out:
	for (i = 0; i < 2; i++)
		pviod_queue_fini(&q[i]);
	free(p->bounce);
	free(p->gso_seg);
	free(net);
	munmap(mem, MEM_SIZE);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "packed", no_argument, NULL, 'p' },
					      { "frames", required_argument, NULL, 'f' },
					      { "burst", required_argument, NULL, 'b' },
					      { "num", required_argument, NULL, 'n' },
					      { "no-in-order", no_argument, NULL, 'o' },
					      { NULL, 0, NULL, 0 } };
	enum pvring_format f = PVRING_SPLIT;
	unsigned long frames = 1000000;
	unsigned int num = 1024, burst = 64, i;
	bool in_order = true;
	int c, fails = 0;

	if (argc == 1) {
		/* As a test: each format, with and without IN_ORDER, 8 laps of a 256 ring. */
		printf("TAP version 13\n1..4\n");
		for (i = 0; i < 4; i++) {
			int r = run(i & 1 ? PVRING_PACKED : PVRING_SPLIT, i < 2, 256 * 8 + 17, 32,
				    256, "# ");

			printf("%s %u - %s%s: every frame back, in order, intact\n",
			       r ? "not ok" : "ok", i + 1, i & 1 ? "packed" : "split",
			       i < 2 ? " in-order" : "");
			fails += r;
		}
		return fails ? 1 : 0;
	}
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			f = PVRING_PACKED;
			break;
		case 'f':
			frames = strtoul(optarg, NULL, 0);
			break;
		case 'b':
			burst = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'n':
			num = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'o':
			in_order = false;
			break;
		default:
			fputs(USAGE, stderr);
			return 2;
		}
	}
	if (num > MAX_NUM || num * RX_BUF > MEM_SIZE / 2 || !burst) {
		fprintf(stderr, "net_loop_cost: --num up to %u, --burst > 0\n", MAX_NUM);
		return 2;
	}
	return run(f, in_order, frames, burst, num, "");
}
