// SPDX-License-Identifier: GPL-2.0
/*
 * stats_test - pviod's SIGUSR1 dump: one pviod with a blk, a net
 * (backend=loop) and a console device on two workers, each driven by the
 * userspace driver (frontend/virtio-user) with a known amount of traffic; then
 * SIGUSR1, and the log must show exactly those numbers for every device.
 *
 *   while_connected   the dump while every queue runs
 *   after_disconnect  the drivers are gone (their queues stopped): the
 *                     counters are still there, and add up over a second
 *                     session
 *
 * Either way pviod must log no sanitizer report, and exit 0 on SIGTERM.
 * Under `make SAN=tsan` the pviod next to this test is the TSan one: the
 * dump reads counters the workers write, so TSan checks its design.
 *
 * tap-run: timeout=120
 */
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "vuser.h"
#include "pvtest.h"

#define IMG_BYTES (4u << 20)
#define BLK_WRITES 8
#define BLK_READS 4
#define BLK_IO 4096
#define NET_QSIZE 64
#define NET_EXTRA 10 /* frames beyond the posted receive buffers: no buffer */
#define NET_FRAME 100
#define CON_BYTES 1000

/* What the dump must say, given the traffic above (k sessions of it). */
#define BLK_LINE \
	"blk0: queue 0: %d requests: %d reads %d bytes, %d writes %d bytes, %d flushes, 0 other, %d errors"
#define NET_LINE \
	"net0: pair 0: tx %d frames %d bytes, 0 bad header, 0 bad chain, %d dropped; rx %d frames %d bytes, %d no buffer, 0 dropped, 0 filtered"

FIXTURE(stats)
{
	char dir[64], log[128], img[128], out[128];
	char bsock[128], nsock[128], csock[128];
	struct pvt_pviod pviod;
	bool up;
};

FIXTURE_SETUP(stats)
{
	static char b[PATH_MAX + 400], n[PATH_MAX], c[PATH_MAX + 400];

	snprintf(self->dir, sizeof(self->dir), "/tmp/pviod_stats.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->log, sizeof(self->log), "%s/pviod.log", self->dir);
	snprintf(self->img, sizeof(self->img), "%s/img", self->dir);
	snprintf(self->out, sizeof(self->out), "%s/con.out", self->dir);
	snprintf(self->bsock, sizeof(self->bsock), "%s/blk.sock", self->dir);
	snprintf(self->nsock, sizeof(self->nsock), "%s/net.sock", self->dir);
	snprintf(self->csock, sizeof(self->csock), "%s/con.sock", self->dir);
	ASSERT_EQ(0, pvt_image_create(self->img, IMG_BYTES));

	if (pvt_pviod_find(&self->pviod))
		SKIP(return, "pviod not built (%.200s); set PVIOD=path", self->pviod.bin);
	snprintf(b, sizeof(b), "blk,socket=%s,file=%s", self->bsock, self->img);
	snprintf(n, sizeof(n), "net,socket=%s,backend=loop", self->nsock);
	snprintf(c, sizeof(c), "console,socket=%s,out=file:%s", self->csock, self->out);
	{
		const char *const args[] = { "-w", "2", "-d", b, "-d", n, "-d", c, NULL };

		/* Each of the three sockets within 5 s. */
		ASSERT_EQ(0, pvt_pviod_start(&self->pviod, self->log, args, 5000))
		pvt_dump_log(self->log);
	}
	self->up = true;
}

FIXTURE_TEARDOWN(stats)
{
	if (self->pviod.pid > 0)
		pvt_pviod_stop(&self->pviod, PVT_STOP_MS);
	if (self->dir[0] && pvt_rmtree(self->dir))
		TH_LOG("cannot remove %s", self->dir);
}

/* The three drivers, one session each. */
struct drivers {
	struct vuser_blk blk;
	struct vuser_net net;
	struct vuser_console con;
	bool blk_open, net_open, con_open;
};

/* Writes, reads, a flush and one read past the end (an error). */
static int blk_traffic(struct drivers *d, const char *sock)
{
	struct vuser_blk_opts o = { .socket_path = sock, .buf_bytes = 1u << 20 };
	struct vuser_blk *blk = &d->blk;
	uint8_t *buf;
	int r, i;

	r = vuser_blk_open(blk, &o);
	if (r) {
		fprintf(stderr, "# %s\n", vuser_dev_errmsg(&blk->dev));
		return r;
	}
	d->blk_open = true;
	buf = vuser_blk_alloc(blk, BLK_IO);
	memset(buf, 0x5a, BLK_IO);
	for (i = 0; i < BLK_WRITES && !r; i++)
		r = vuser_blk_sync(blk, 0, PVIO_BLK_T_OUT, (uint64_t)i * BLK_IO, buf, BLK_IO);
	for (i = 0; i < BLK_READS && !r; i++)
		r = vuser_blk_sync(blk, 0, PVIO_BLK_T_IN, (uint64_t)i * BLK_IO, buf, BLK_IO);
	if (!r)
		r = vuser_blk_sync(blk, 0, PVIO_BLK_T_FLUSH, 0, NULL, 0);
	if (!r && vuser_blk_sync(blk, 0, PVIO_BLK_T_IN, IMG_BYTES, buf, BLK_IO) != -EIO)
		r = -EPROTO;
	return r;
}

/* Every transmit buffer back from the device (it has handled them all). */
static int net_tx_drain(struct vuser_net *net)
{
	long end = pvt_ms() + 5000;
	int r;

	while (net->tx_nfree < net->txq->num) {
		r = vuser_net_reap_tx(net);
		if (r < 0)
			return r;
		if (pvt_ms() > end)
			return -ETIMEDOUT;
		usleep(1000);
	}
	return 0;
}

/*
 * NET_QSIZE + NET_EXTRA frames out, none taken in meanwhile: the loop
 * fills the NET_QSIZE posted receive buffers and drops the rest (no buffer);
 * then every reflected frame is read back.
 */
static int net_traffic(struct drivers *d, const char *sock)
{
	struct vuser_net_opts o = { .socket_path = sock, .queue_size = NET_QSIZE };
	uint8_t frame[NET_FRAME] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1 };
	struct vuser_net *net = &d->net;
	uint8_t in[2048];
	int r, i, got = 0;

	frame[12] = 0x88; /* a local experimental ethertype */
	frame[13] = 0xb5;
	r = vuser_net_open(net, &o);
	if (r) {
		fprintf(stderr, "# %s\n", vuser_dev_errmsg(&net->dev));
		return r;
	}
	d->net_open = true;
	for (i = 0; i < NET_QSIZE + NET_EXTRA && !r; i++) {
		r = vuser_net_send(net, frame, sizeof(frame));
		if (r == -EAGAIN) {
			vuser_net_flush(net);
			r = net_tx_drain(net);
			i--;
		}
	}
	if (!r)
		r = vuser_net_flush(net);
	if (!r)
		r = net_tx_drain(net);
	while (!r && got < NET_QSIZE) {
		r = vuser_net_recv(net, in, sizeof(in));
		if (r == -EAGAIN) {
			r = vuser_net_wait_rx(net, 5000);
			continue;
		}
		if (r == NET_FRAME)
			got++;
		r = r < 0 ? r : 0;
	}
	if (r)
		fprintf(stderr, "# net: %d after %d frames received: %s\n", r, got,
			vuser_dev_errmsg(&net->dev));
	return r;
}

/* CON_BYTES on port 0, until the sink (a file) holds them. */
static int con_traffic(struct drivers *d, const char *sock, const char *out, off_t want)
{
	struct vuser_console_opts o = { .socket_path = sock };
	struct vuser_console *con = &d->con;
	char buf[CON_BYTES];
	size_t sent = 0;
	struct stat st;
	long end;
	int r;

	memset(buf, 'x', sizeof(buf));
	r = vuser_console_open(con, &o);
	if (r) {
		fprintf(stderr, "# %s\n", vuser_dev_errmsg(&con->dev));
		return r;
	}
	d->con_open = true;
	while (sent < sizeof(buf)) {
		r = vuser_console_write(con, 0, buf + sent, sizeof(buf) - sent);
		if (r == -EAGAIN)
			r = vuser_queue_wait(con->ports[0].txq, 5000);
		else if (r > 0)
			sent += (size_t)r, r = 0;
		if (r < 0)
			break;
	}
	if (!r)
		r = vuser_console_tx_drain(con, 0, 5000);
	for (end = pvt_ms() + 5000; !r; usleep(10000)) {
		if (stat(out, &st) == 0 && st.st_size >= want)
			break;
		if (pvt_ms() > end)
			r = -ETIMEDOUT;
	}
	return r;
}

static void drivers_close(struct drivers *d)
{
	if (d->blk_open)
		vuser_blk_close(&d->blk);
	if (d->net_open)
		vuser_net_close(&d->net);
	if (d->con_open)
		vuser_console_close(&d->con);
	memset(d, 0, sizeof(*d));
}

/* Wait for the nth "SIGUSR1:" dump to be complete (its console line), copy the log after it. */
static bool dump_wait(const char *log, int nth, char *dump, size_t len)
{
	long end = pvt_ms() + 10000;
	char line[1024];
	size_t off;
	FILE *f;
	int seen;

	do {
		f = fopen(log, "r");
		if (!f)
			return false;
		seen = 0;
		off = 0;
		dump[0] = '\0';
		while (fgets(line, sizeof(line), f)) {
			if (strstr(line, "SIGUSR1: counters")) {
				seen++;
				continue;
			}
			if (seen == nth && off + strlen(line) < len) {
				memcpy(dump + off, line, strlen(line) + 1);
				off += strlen(line);
			}
		}
		fclose(f);
		if (seen == nth && strstr(dump, "console0: port 0:"))
			return true;
		usleep(20000);
	} while (pvt_ms() < end);
	return false;
}

static bool has(const char *dump, const char *want)
{
	if (strstr(dump, want))
		return true;
	fprintf(stderr, "# expected in the dump: %s\n", want);
	return false;
}

static void check_dump(struct __test_metadata *_metadata, const char *dump, int sessions)
{
	const char *l = dump, *nl;
	char want[512];
	int k = sessions;

	for (; *l; l = nl + 1) {
		nl = strchrnul(l, '\n');
		fprintf(stderr, "# | %.*s\n", (int)(nl - l), l);
		if (!*nl)
			break;
	}

	snprintf(want, sizeof(want), BLK_LINE, k * (BLK_WRITES + BLK_READS + 2), k * BLK_READS,
		 k * BLK_READS * BLK_IO, k * BLK_WRITES, k * BLK_WRITES * BLK_IO, k, k);
	EXPECT_TRUE(has(dump, want));
	snprintf(want, sizeof(want), NET_LINE, k * (NET_QSIZE + NET_EXTRA),
		 k * (NET_QSIZE + NET_EXTRA) * NET_FRAME, k * NET_EXTRA, k * NET_QSIZE,
		 k * NET_QSIZE * NET_FRAME, k * NET_EXTRA);
	EXPECT_TRUE(has(dump, want));
	snprintf(want, sizeof(want), "console0: port 0: to sink %d bytes, lost 0, from sink 0",
		 k * CON_BYTES);
	EXPECT_TRUE(has(dump, want));
}

/*
 * struct _test_data_stats is FIXTURE_DATA(stats) spelled out: as a parameter
 * type, checkpatch and clang-format read the macro as a multiplication.
 * Session @k: the drivers stay connected (d->*_open) for the caller to close.
 */
static void traffic(struct __test_metadata *_metadata, struct _test_data_stats *self,
		    struct drivers *d, int k)
{
	ASSERT_EQ(0, blk_traffic(d, self->bsock));
	ASSERT_EQ(0, net_traffic(d, self->nsock));
	ASSERT_EQ(0, con_traffic(d, self->csock, self->out, (off_t)k * CON_BYTES));
}

/* SIGTERM: exit 0, and no sanitizer or error report in the whole log. */
static void check_exit(struct __test_metadata *_metadata, struct _test_data_stats *self)
{
	char line[1024];
	int status;
	FILE *f;

	/* Up to 20 s to exit; killed after that, which fails the check. */
	status = pvt_pviod_stop(&self->pviod, 20000);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
	pvt_dump_log(self->log);
	f = fopen(self->log, "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		EXPECT_EQ(NULL, strstr(line, "Sanitizer")) TH_LOG("%s", line);
		EXPECT_EQ(NULL, strstr(line, "runtime error")) TH_LOG("%s", line);
		EXPECT_EQ(NULL, strstr(line, "error:")) TH_LOG("%s", line);
	}
	fclose(f);
}

TEST_F_TIMEOUT(stats, while_connected, 60)
{
	static struct drivers d;
	static char dump[16384];

	if (!self->up)
		SKIP(return, "pviod did not start");
	traffic(_metadata, self, &d, 1);
	/* Every driver still connected: their queues run during the dump. */
	kill(self->pviod.pid, SIGUSR1);
	ASSERT_TRUE(dump_wait(self->log, 1, dump, sizeof(dump))) pvt_dump_log(self->log);
	check_dump(_metadata, dump, 1);
	drivers_close(&d);
	check_exit(_metadata, self);
}

TEST_F_TIMEOUT(stats, after_disconnect, 60)
{
	static struct drivers d;
	static char dump[16384];

	if (!self->up)
		SKIP(return, "pviod did not start");
	/* Before any traffic: every device says zero. */
	kill(self->pviod.pid, SIGUSR1);
	ASSERT_TRUE(dump_wait(self->log, 1, dump, sizeof(dump))) pvt_dump_log(self->log);
	EXPECT_TRUE(has(dump, "blk0: queue 0: 0 requests:"));
	EXPECT_TRUE(has(dump, "net0: pair 0: tx 0 frames 0 bytes"));
	EXPECT_TRUE(has(dump, "console0: port 0: to sink 0 bytes"));
	/* Two sessions, each closed: their queues are stopped during the dump. */
	traffic(_metadata, self, &d, 1);
	drivers_close(&d);
	traffic(_metadata, self, &d, 2);
	drivers_close(&d);
	kill(self->pviod.pid, SIGUSR1);
	ASSERT_TRUE(dump_wait(self->log, 2, dump, sizeof(dump))) pvt_dump_log(self->log);
	check_dump(_metadata, dump, 2);
	check_exit(_metadata, self);
}

TEST_HARNESS_MAIN
