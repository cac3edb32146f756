// SPDX-License-Identifier: GPL-2.0
/*
 * vuser_console_reconnect_test - the console survives pviod crashes.
 *
 * The userspace driver plays a guest on port 1 of a ports=2 console with a
 * unix sink; a peer thread plays the host side of that sink.  Both send
 * 32-byte sequence-numbered records (magic, sequence number, a check word
 * made from the two) and check what they receive.  pviod is SIGKILLed in
 * the middle of the traffic CRASHES times, started again on the same
 * sockets, and the driver reconnects (vuser_console_reconnect()) without
 * repeating the port handshake, as a guest does.
 *
 * Each test runs on split and on packed rings (variants split, packed; the
 * packed one checks that VIRTIO_F_RING_PACKED, bit 34, was negotiated), with
 * the in-flight region pviod keeps and the reconnect hands on.
 *
 *   crash   after each restart traffic resumes both ways within 5 s; over
 *           the whole run every record arrives intact and in order, none
 *           twice; records are missing only across a crash, and no more
 *           than pviod and the sink socket can hold at that moment
 *           (Documentation/console.rst, "Back-end restarts"); bytes that
 *           are not whole records only at a crash point, fewer than one
 *           record each.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vuser.h"
#include "pvtest.h"

#define REC 32u
#define REC_MAGIC 0x70766365636f6e73ull /* "pvceecons" in a word */
#define CRASHES 3u
#define PORT 1u
#define BUFFER 65536u /* pviod's buffer=: what it holds back from the sink */
#define PVIOD_IN_SIZE (64u << 10) /* pviod's sink -> guest ring per port (PVIOD_CON_IN_SIZE) */
#define TRAFFIC_MS 1200 /* between crashes */

enum { DIR_H2G = 1, DIR_G2H = 2 };

static uint64_t rec_check(uint64_t seq, uint64_t dir)
{
	uint64_t x = (seq ^ (dir << 56)) * 0x9e3779b97f4a7c15ull;

	return x ^ (x >> 29);
}

static void rec_make(uint8_t *b, uint64_t seq, uint64_t dir)
{
	uint64_t w[4] = { REC_MAGIC, seq, rec_check(seq, dir), ~seq };

	memcpy(b, w, REC);
}

/* A receiver's view of one direction's record stream. */
struct verify {
	uint64_t dir;
	uint8_t acc[REC];
	size_t n; /* bytes in acc */
	uint64_t next; /* the sequence number expected next */
	uint64_t got; /* atomic: records taken */
	uint64_t gaps; /* places where records were missing */
	uint64_t missing; /* records missing in all */
	uint64_t max_gap; /* the most at one place */
	uint64_t dups; /* records seen again or out of order */
	uint64_t skipped; /* bytes that were no whole record */
};

static bool rec_valid(const struct verify *v, const uint8_t *b, uint64_t *seq)
{
	uint64_t w[4];

	memcpy(w, b, REC);
	*seq = w[1];
	return w[0] == REC_MAGIC && w[2] == rec_check(w[1], v->dir) && w[3] == ~w[1];
}

static void verify_feed(struct verify *v, const uint8_t *b, size_t len)
{
	uint64_t seq;

	while (len--) {
		v->acc[v->n++] = *b++;
		if (v->n < REC)
			continue;
		if (!rec_valid(v, v->acc, &seq)) {
			/* Not a record here: slide by a byte (the cut at a crash). */
			memmove(v->acc, v->acc + 1, REC - 1);
			v->n = REC - 1;
			v->skipped++;
			continue;
		}
		v->n = 0;
		if (seq < v->next) {
			v->dups++;
			continue;
		}
		if (seq > v->next) {
			v->gaps++;
			v->missing += seq - v->next;
			if (seq - v->next > v->max_gap)
				v->max_gap = seq - v->next;
		}
		v->next = seq + 1;
		__atomic_store_n(&v->got, v->got + 1, __ATOMIC_RELEASE);
	}
}

/* A stream ended (the sink connection): a partial record there is the cut. */
static void verify_cut(struct verify *v)
{
	v->skipped += v->n;
	v->n = 0;
}

/* The host side of port 1's sink: reconnects whenever pviod goes away. */
struct peer {
	pthread_t thread;
	char path[108]; /* sun_path */
	bool stop; /* atomic */
	int err; /* first failure, 0 when none */
	unsigned int connections; /* atomic */
	int sndbuf; /* the socket's send buffer, as the kernel sizes it */
	uint64_t sent; /* atomic: records written to the socket, whole */
	struct verify in; /* guest -> host */
};

static int peer_connect(struct peer *pr)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t sl = sizeof(pr->sndbuf);
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", pr->path);
	while (!__atomic_load_n(&pr->stop, __ATOMIC_ACQUIRE)) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &pr->sndbuf, &sl);
			return fd;
		}
		close(fd);
		usleep(10000);
	}
	return -ECANCELED;
}

static void *peer_main(void *arg)
{
	struct peer *pr = arg;
	uint8_t out[REC * 64], buf[65536];
	uint64_t seq = 0;

	while (!__atomic_load_n(&pr->stop, __ATOMIC_ACQUIRE)) {
		int fd = peer_connect(pr);
		bool up = fd >= 0, can_send = true;
		/* Each connection starts on a record boundary: a cut record is not resent. */
		size_t out_off = 0, out_len = 0;

		if (fd == -ECANCELED)
			break;
		if (fd < 0) {
			pr->err = fd;
			break;
		}
		__atomic_fetch_add(&pr->connections, 1, __ATOMIC_RELEASE);
		while (up && !__atomic_load_n(&pr->stop, __ATOMIC_ACQUIRE)) {
			short ev = POLLIN | (can_send ? POLLOUT : 0);
			struct pollfd pfd = { .fd = fd, .events = ev };
			ssize_t n;

			if (poll(&pfd, 1, 100) <= 0)
				continue;
			if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
				n = read(fd, buf, sizeof(buf));
				if (n > 0)
					verify_feed(&pr->in, buf, (size_t)n);
				else if (n == 0 || (errno != EAGAIN && errno != EINTR))
					up = false;
			}
			if (up && (pfd.revents & POLLOUT)) {
				if (out_off == out_len) {
					for (out_len = 0; out_len < sizeof(out); out_len += REC)
						rec_make(out + out_len, seq++, DIR_H2G);
					out_off = 0;
				}
				n = send(fd, out + out_off, out_len - out_off, MSG_NOSIGNAL);
				if (n > 0) {
					out_off += (size_t)n;
					__atomic_store_n(&pr->sent, seq - (out_len - out_off) / REC,
							 __ATOMIC_RELEASE);
				} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
					/* Read what pviod wrote before it went, to the end. */
					can_send = false;
				}
			}
		}
		/* The records not wholly sent are gone with the connection. */
		close(fd);
		verify_cut(&pr->in);
	}
	return NULL;
}

static int start_pviod(struct pvt_pviod *p, const char *dir, const char *sock, unsigned int n)
{
	char arg[512], log[160];
	const char *const args[] = { "--device", arg, NULL };

	snprintf(arg, sizeof(arg), "console,socket=%s,out=unix:%s/out,ports=2,buffer=%u", sock, dir,
		 BUFFER);
	snprintf(log, sizeof(log), "%s/pviod.%u.log", dir, n);
	return pvt_pviod_start(p, log, args, 5000);
}

FIXTURE(recon)
{
	char dir[64], sock[128], why[256];
	struct pvt_pviod pviod;
	struct vuser_console con;
	struct vuser_console_opts opts;
	struct peer peer;
	struct verify in; /* host -> guest, seen by the driver */
	uint64_t sent; /* guest -> host records queued */
	bool open, peer_started;
};

FIXTURE_VARIANT(recon)
{
	bool packed; /* VIRTIO_F_RING_PACKED */
};

/* clang-format would glue the brace to the macro, which checkpatch rejects. */
/* clang-format off */
FIXTURE_VARIANT_ADD(recon, split) { .packed = false };
FIXTURE_VARIANT_ADD(recon, packed) { .packed = true };
/* clang-format on */

FIXTURE_SETUP(recon)
{
	snprintf(self->dir, sizeof(self->dir), "/tmp/vuser_conre.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->sock, sizeof(self->sock), "%s/vu.sock", self->dir);
	if (pvt_pviod_find(&self->pviod)) {
		snprintf(self->why, sizeof(self->why), "pviod not built (%.180s); set PVIOD=path",
			 self->pviod.bin);
		return;
	}
	ASSERT_EQ(0, start_pviod(&self->pviod, self->dir, self->sock, 0));
	self->opts.socket_path = self->sock;
	self->opts.buf_size = 4096;
	self->opts.packed = variant->packed;
	ASSERT_EQ(0, vuser_console_open(&self->con, &self->opts))
	TH_LOG("%s", vuser_dev_errmsg(&self->con.dev));
	self->open = true;
	/* The ring format asked for is the one the rings run with. */
	ASSERT_EQ(variant->packed, vuser_dev_has(&self->con.dev, PVIO_F_RING_PACKED));
	/* Rings resume exactly only with the region pviod keeps. */
	ASSERT_EQ(true, self->con.dev.inflight_fd >= 0);
	self->in.dir = DIR_H2G;
	self->peer.in.dir = DIR_G2H;
	snprintf(self->peer.path, sizeof(self->peer.path), "%s/out.%u", self->dir, PORT);
}

FIXTURE_TEARDOWN(recon)
{
	if (self->peer_started) {
		__atomic_store_n(&self->peer.stop, true, __ATOMIC_RELEASE);
		pthread_join(self->peer.thread, NULL);
	}
	if (self->open)
		vuser_console_close(&self->con);
	if (self->pviod.pid > 0)
		pvt_pviod_stop(&self->pviod, PVT_STOP_MS);
	if (self->dir[0] && pvt_rmtree(self->dir))
		TH_LOG("cannot remove %s", self->dir);
}

/*
 * Write whole records while buffers are free, read what came, then wait a
 * little for more (@wait); -errno on failure.
 */
static int drive(struct vuser_console *c, uint64_t *sent, struct verify *in, bool wait)
{
	uint8_t buf[4096];
	int n, r;

	/* Only while a reader is there: without one pviod drops output, crash or not. */
	while (c->ports[PORT].host_open) {
		for (n = 0; n < (int)sizeof(buf); n += REC)
			rec_make(buf + n, *sent + (uint64_t)n / REC, DIR_G2H);
		r = vuser_console_write(c, PORT, buf, sizeof(buf));
		if (r == -EAGAIN)
			break;
		if (r < 0)
			return r;
		if (r % REC)
			return -EILSEQ; /* a record split between chains */
		*sent += (uint64_t)r / REC;
	}
	while ((n = vuser_console_read(c, PORT, buf, sizeof(buf))) > 0)
		verify_feed(in, buf, (size_t)n);
	if (n != -EAGAIN || !wait)
		return n == -EAGAIN ? 0 : n;
	r = vuser_console_wait_rx(c, PORT, 2);
	return r == -ETIMEDOUT ? 0 : r;
}

/* Drive until both directions moved on past @h2g and @g2h, or 5 s pass. */
static bool traffic_moves(struct __test_metadata *_metadata, FIXTURE_DATA(recon) * self, long ms)
{
	uint64_t h2g = __atomic_load_n(&self->in.got, __ATOMIC_ACQUIRE);
	uint64_t g2h = __atomic_load_n(&self->peer.in.got, __ATOMIC_ACQUIRE);
	long end = pvt_ms() + ms, limit = pvt_ms() + ms + 5000;
	int r;

	for (;;) {
		r = drive(&self->con, &self->sent, &self->in, true);
		if (r) {
			TH_LOG("driver: %d: %s", r, vuser_dev_errmsg(&self->con.dev));
			return false;
		}
		if (pvt_ms() >= end && self->in.got > h2g &&
		    __atomic_load_n(&self->peer.in.got, __ATOMIC_ACQUIRE) > g2h)
			return true;
		if (pvt_ms() >= limit) {
			TH_LOG("no traffic: to guest %llu -> %llu, to host %llu -> %llu",
			       (unsigned long long)h2g, (unsigned long long)self->in.got,
			       (unsigned long long)g2h,
			       (unsigned long long)__atomic_load_n(&self->peer.in.got,
								   __ATOMIC_ACQUIRE));
			return false;
		}
	}
}

/* Take control messages until port 1's host side is open, or 5 s pass. */
static bool host_open(struct vuser_console *c)
{
	long end = pvt_ms() + 5000;

	vuser_console_ctrl_poll(c);
	while (!c->ports[PORT].host_open && pvt_ms() < end)
		vuser_console_wait_ctrl(c, 100);
	return c->ports[PORT].host_open;
}

TEST_F_TIMEOUT(recon, crash, 40)
{
	struct vuser_console *c = &self->con;
	/*
	 * What pviod held for the sink (up to buffer= and the chain that
	 * crossed it), and the transmit ring: a new pviod drops what it finds
	 * there while the sink's reader has not come back yet.
	 */
	uint64_t g2h_bound =
		(BUFFER + 4096 + (uint64_t)c->ports[PORT].txq->num * c->buf_size) / REC;
	uint64_t h2g_bound;
	unsigned int i;
	int st;

	if (!self->open)
		SKIP(return, "%s", self->why);
	ASSERT_EQ(0, vuser_console_port_open(c, PORT, true));
	ASSERT_EQ(0, -pthread_create(&self->peer.thread, NULL, peer_main, &self->peer));
	self->peer_started = true;
	ASSERT_TRUE(host_open(c));
	ASSERT_TRUE(traffic_moves(_metadata, self, TRAFFIC_MS));

	for (i = 1; i <= CRASHES; i++) {
		ASSERT_EQ(0, pvt_pviod_kill(&self->pviod));
		/*
		 * What the dead pviod completed is still in our rings: take it
		 * (and queue more: the new pviod finds it), then forget its
		 * PORT_OPEN (the new one says it again).
		 */
		ASSERT_EQ(0, drive(c, &self->sent, &self->in, false))
		TH_LOG("%s", vuser_dev_errmsg(&c->dev));
		c->ports[PORT].host_open = false;
		ASSERT_EQ(0, start_pviod(&self->pviod, self->dir, self->sock, i));
		ASSERT_EQ(0, vuser_console_reconnect(c, &self->opts, 5000))
		TH_LOG("%s", vuser_dev_errmsg(&c->dev));
		ASSERT_TRUE(host_open(c))
		TH_LOG("crash %u: port %u never reopened on the host side", i, PORT);
		ASSERT_TRUE(traffic_moves(_metadata, self, TRAFFIC_MS))
		TH_LOG("crash %u: traffic did not resume", i);
	}
	__atomic_store_n(&self->peer.stop, true, __ATOMIC_RELEASE);
	pthread_join(self->peer.thread, NULL);
	self->peer_started = false;
	/* The last pviod exits cleanly (a sanitizer build's report fails it). */
	vuser_console_close(c);
	self->open = false;
	st = pvt_pviod_stop(&self->pviod, PVT_STOP_MS);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0)
	{
		char log[160];

		snprintf(log, sizeof(log), "%s/pviod.%u.log", self->dir, CRASHES);
		TH_LOG("pviod wait status 0x%x", st);
		pvt_dump_log(log);
	}

	/* pviod's input ring, the socket's queue and the peer's batch cut short. */
	h2g_bound = (PVIOD_IN_SIZE + (uint64_t)self->peer.sndbuf) / REC + 64;
	TH_LOG("to guest: %llu records, %llu missing in %llu gaps (max %llu of %llu), %llu cut",
	       (unsigned long long)self->in.got, (unsigned long long)self->in.missing,
	       (unsigned long long)self->in.gaps, (unsigned long long)self->in.max_gap,
	       (unsigned long long)h2g_bound, (unsigned long long)self->in.skipped);
	TH_LOG("to host: %llu records, %llu missing in %llu gaps (max %llu of %llu), %llu cut",
	       (unsigned long long)self->peer.in.got, (unsigned long long)self->peer.in.missing,
	       (unsigned long long)self->peer.in.gaps, (unsigned long long)self->peer.in.max_gap,
	       (unsigned long long)g2h_bound, (unsigned long long)self->peer.in.skipped);
	EXPECT_EQ(0, self->peer.err);
	/*
	 * A connection can also land in the backlog of a listener that goes
	 * before accepting it (an end of file at once): at least one per pviod.
	 */
	EXPECT_LE(CRASHES + 1, self->peer.connections);
	/* In order, none twice, in both directions. */
	EXPECT_EQ(0, self->in.dups);
	EXPECT_EQ(0, self->peer.in.dups);
	/* Gaps only at crash points, each bounded by what was in flight. */
	EXPECT_LE(self->in.gaps, CRASHES);
	EXPECT_LE(self->peer.in.gaps, CRASHES);
	EXPECT_LE(self->in.max_gap, h2g_bound);
	EXPECT_LE(self->peer.in.max_gap, g2h_bound);
	/* A cut record at most per crash (and per end of a connection). */
	EXPECT_LT(self->in.skipped, (uint64_t)CRASHES * REC);
	EXPECT_LT(self->peer.in.skipped, (uint64_t)(CRASHES + 1) * REC);
}

TEST_HARNESS_MAIN
