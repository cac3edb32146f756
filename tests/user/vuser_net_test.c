// SPDX-License-Identifier: GPL-2.0
/*
 * vuser_net_test - the userspace driver's virtio-net against DPDK's vhost PMD:
 * dpdk-testpmd with net_vhost0 forwards (macswap, port looped to itself)
 * every frame we transmit back to our receive queue.  Frames of many sizes
 * carry a checksum and a sequence number; each must come back intact, with
 * its MAC addresses swapped, exactly once.  Variants: MRG_RXBUF with 2 KiB
 * buffers, MRG_RXBUF with 512-byte buffers (large frames span several), and
 * without MRG_RXBUF; two of them again over packed rings (bit 34 checked),
 * against a packed ring implementation no one here wrote; and with
 * VIRTIO_F_IN_ORDER over both formats (bit 35 checked), where the vhost PMD
 * may complete a transmit batch with one used element.
 */
#include <inttypes.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "vuser.h"
#include "bench_lib.h"
#include "pvtest.h"

#define NFRAMES 3000
#define WINDOW 64

FIXTURE(net)
{
	char dir[64], sock[128], log[128];
	pid_t pmd;
	int stdin_pipe[2];
	struct vuser_net net;
	bool open;
	char why[256];
};

FIXTURE_VARIANT(net)
{
	unsigned int rx_buf_size;
	bool no_mrg;
	bool packed; /* require VIRTIO_F_RING_PACKED (DPDK's vhost PMD offers it) */
	bool in_order; /* offer VIRTIO_F_IN_ORDER (the vhost PMD offers it too) */
};

/* clang-format would glue the brace to the macro, which checkpatch rejects. */
/* clang-format off */
FIXTURE_VARIANT_ADD(net, mrg_2k) { .rx_buf_size = 2048 };
FIXTURE_VARIANT_ADD(net, mrg_512) { .rx_buf_size = 512 };
FIXTURE_VARIANT_ADD(net, no_mrg) { .rx_buf_size = 2048, .no_mrg = true };
FIXTURE_VARIANT_ADD(net, packed_mrg_2k) { .rx_buf_size = 2048, .packed = true };
FIXTURE_VARIANT_ADD(net, packed_no_mrg) { .rx_buf_size = 2048, .no_mrg = true, .packed = true };
FIXTURE_VARIANT_ADD(net, in_order_mrg_512) { .rx_buf_size = 512, .in_order = true };
FIXTURE_VARIANT_ADD(net, packed_in_order_mrg_2k) { .rx_buf_size = 2048, .packed = true,
						   .in_order = true };
/* clang-format on */

static long meminfo_value(const char *key)
{
	char line[128];
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			v = strtol(line + strlen(key), NULL, 10);
	fclose(f);
	return v;
}

/* testpmd needs ~64 free 2 MiB pages; scripts/hugepages.sh when it exists, else do it here. */
static int ensure_hugepages(void)
{
	char cmd[256];
	FILE *f;

	if (meminfo_value("HugePages_Free:") >= 64)
		return 0;
	if (access("scripts/hugepages.sh", X_OK) == 0) {
		snprintf(cmd, sizeof(cmd), "scripts/hugepages.sh >/dev/null 2>&1");
		if (system(cmd) == 0 && meminfo_value("HugePages_Free:") >= 64)
			return 0;
	}
	f = fopen("/proc/sys/vm/nr_hugepages", "w");
	if (!f)
		return -1;
	fprintf(f, "%ld\n", meminfo_value("HugePages_Total:") + 128);
	fclose(f);
	return meminfo_value("HugePages_Free:") >= 64 ? 0 : -1;
}

static pid_t start_testpmd(char *vdev, char *prefix, const char *log, int stdin_fd)
{
	char *const argv[] = { "dpdk-testpmd",
			       "-l",
			       "0-1",
			       "--no-pci",
			       "--single-file-segments",
			       "--file-prefix",
			       prefix,
			       "-m",
			       "256",
			       "--vdev",
			       vdev,
			       "--",
			       "--forward-mode=macswap",
			       "--port-topology=loop",
			       "--auto-start",
			       "--nb-cores=1",
			       "--total-num-mbufs=8192",
			       NULL };

	return pvt_spawn(argv, log, stdin_fd);
}

FIXTURE_SETUP(net)
{
	struct vuser_net_opts o = { .queue_size = 256,
				    .rx_buf_size = variant->rx_buf_size,
				    .no_mrg_rxbuf = variant->no_mrg,
				    .packed = variant->packed,
				    .in_order = variant->in_order,
				    .timeout_ms = 5000 };
	char vdev[200], prefix[64];
	int r;

	self->open = false;
	self->pmd = 0;
	if (access("/usr/bin/dpdk-testpmd", X_OK)) {
		snprintf(self->why, sizeof(self->why),
			 "dpdk-testpmd not installed (apt-get install dpdk)");
		SKIP(return, "%s", self->why);
	}
	if (ensure_hugepages()) {
		snprintf(self->why, sizeof(self->why), "no free hugepages for testpmd");
		SKIP(return, "%s", self->why);
	}
	snprintf(self->dir, sizeof(self->dir), "/tmp/pvio-vu-net.%d", getpid());
	mkdir(self->dir, 0700);
	snprintf(self->sock, sizeof(self->sock), "%s/sock", self->dir);
	snprintf(self->log, sizeof(self->log), "%s/testpmd.log", self->dir);
	snprintf(vdev, sizeof(vdev), "net_vhost0,iface=%s,queues=1", self->sock);
	snprintf(prefix, sizeof(prefix), "pvio-vu-net-%d", getpid());
	/* testpmd quits when stdin ends: hand it a pipe we never write. */
	ASSERT_EQ(0, pipe(self->stdin_pipe));
	self->pmd = start_testpmd(vdev, prefix, self->log, self->stdin_pipe[0]);
	r = pvt_wait_socket(self->sock, self->pmd, 30000);
	if (r)
		pvt_dump_log(self->log);
	ASSERT_EQ(0, r) TH_LOG("testpmd did not create %s", self->sock);
	o.socket_path = self->sock;
	r = vuser_net_open(&self->net, &o);
	if (r)
		pvt_dump_log(self->log);
	ASSERT_EQ(0, r) TH_LOG("%s", vuser_dev_errmsg(&self->net.dev));
	self->open = true;
}

FIXTURE_TEARDOWN(net)
{
	if (self->open)
		vuser_net_close(&self->net);
	pvt_stop(self->pmd, PVT_STOP_MS);
	unlink(self->sock);
	unlink(self->log);
	rmdir(self->dir);
}

/*
 * net_warm_up - wait until the path through testpmd is up
 *
 * DPDK's vhost PMD can take frames off our transmit ring before it marks our
 * receive ring ready, and then drops their echoes: a real driver would wait
 * for link up.  Send a probe (sequence number NFRAMES, outside the test's
 * range) every 100 ms until one comes back, then drain what follows.
 *
 * Return: 0 once a probe came back, -ETIMEDOUT after @tries probes.
 */
static int net_warm_up(struct vuser_net *net, uint8_t *frame, size_t cap, unsigned int tries)
{
	uint64_t seq, ts;
	int r, back = 0;

	while (tries-- && !back) {
		bench_frame_build(frame, BENCH_FRAME_MIN, NFRAMES, BENCH_FRAME_MIN);
		if (vuser_net_send(net, frame, BENCH_FRAME_MIN) == -EAGAIN) {
			vuser_net_reap_tx(net);
			continue;
		}
		vuser_net_flush(net);
		if (vuser_net_wait_rx(net, 100))
			continue;
		while ((r = vuser_net_recv(net, frame, cap)) > 0)
			back |= !bench_frame_check(frame, (size_t)r, &seq, &ts) && seq == NFRAMES;
		vuser_net_reap_tx(net);
	}
	if (!back)
		return -ETIMEDOUT;
	/* Late echoes of earlier probes must not reach the test. */
	while (!vuser_net_wait_rx(net, 200))
		while (vuser_net_recv(net, frame, cap) > 0)
			;
	return 0;
}

TEST_F_TIMEOUT(net, frames_come_back_intact, 120)
{
	static uint8_t seen[NFRAMES];
	uint8_t frame[2048] __attribute__((aligned(8)));
	unsigned int sent = 0, got = 0, inflight, i;
	const char *emsg = vuser_dev_errmsg(&self->net.dev); /* the device's buffer: the latest */
	uint64_t seq, ts;
	int r, bad;

	if (!self->open)
		SKIP(return, "%s", self->why);
	ASSERT_EQ(variant->no_mrg, !self->net.mrg_rxbuf);
	ASSERT_EQ(variant->packed, vuser_dev_has(&self->net.dev, PVIO_F_RING_PACKED));
	ASSERT_EQ(variant->in_order, vuser_dev_has(&self->net.dev, PVIO_F_IN_ORDER));
	r = net_warm_up(&self->net, frame, sizeof(frame), 100);
	ASSERT_EQ(0, r) TH_LOG("no probe came back from testpmd within 10 s: %s", emsg);
	while (got < NFRAMES) {
		/* A window at a time: never more in flight than receive buffers. */
		for (inflight = 0; inflight < WINDOW && sent < NFRAMES; inflight++, sent++) {
			size_t len = BENCH_FRAME_MIN + (sent * 97) % (1514 - BENCH_FRAME_MIN + 1);

			bench_frame_build(frame, len, sent, len);
			r = vuser_net_send(&self->net, frame, len);
			if (r == -EAGAIN) {
				ASSERT_LE(0, vuser_net_reap_tx(&self->net));
				r = vuser_net_send(&self->net, frame, len);
			}
			ASSERT_EQ(0, r)
			TH_LOG("send %u: %s", sent, vuser_dev_errmsg(&self->net.dev));
		}
		vuser_net_flush(&self->net);
		while (inflight) {
			r = vuser_net_recv(&self->net, frame, sizeof(frame));
			if (r == -EAGAIN) {
				r = vuser_net_wait_rx(&self->net, 5000);
				ASSERT_EQ(0, r) TH_LOG("%u of %u frames back: %s", got, sent, emsg);
				continue;
			}
			ASSERT_LT(0, r) TH_LOG("recv: %d %s", r, vuser_dev_errmsg(&self->net.dev));
			bad = bench_frame_check(frame, (size_t)r, &seq, &ts);
			ASSERT_EQ(0, bad) TH_LOG("frame of %d bytes corrupted", r);
			ASSERT_EQ(ts, (uint64_t)r) TH_LOG("sent %" PRIu64 " bytes, got %d", ts, r);
			ASSERT_LT(seq, (uint64_t)NFRAMES);
			ASSERT_EQ(0, seen[seq]) TH_LOG("frame %" PRIu64 " came back twice", seq);
			/* macswap: the destination is now our source address. */
			ASSERT_EQ(0, memcmp(frame, "\x02\x00\x00\x00\x00\x01", 6));
			seen[seq] = 1;
			got++;
			inflight--;
		}
		ASSERT_LE(0, vuser_net_reap_tx(&self->net));
	}
	for (i = 0; i < NFRAMES; i++)
		ASSERT_EQ(1, seen[i]);
	EXPECT_EQ(0u, self->net.rx_dropped);
}

TEST_HARNESS_MAIN
