// SPDX-License-Identifier: GPL-2.0
/*
 * vuser_console_test - pviod's console device driven by the userspace driver.
 *
 *   names           ports=3 with names: DEVICE_ADD for each, CONSOLE_PORT for
 *                   port 0, PORT_NAME for the named ones
 *   resize          out=pty: a TIOCSWINSZ on the pty reaches us as RESIZE
 *   transfer_*      MiBs each way through a unix sink, byte-exact (a PRNG
 *                   stream checked by the peer and by us), variants for the
 *                   port and the buffer size
 *   reader_gone     the reader reads a little and disconnects: the driver's
 *                   writes keep completing, pviod counts the loss (SIGUSR1)
 *   reader_stuck    the reader connects and never reads: the same, after
 *                   stall-ms
 *   port0.*         port 0 alone: the driver declining MULTIPORT (pviod
 *                   ports=3 or ports=1) and MULTIPORT with ports=1:
 *     echo          1 MiB each way on port 0, byte-exact
 *     emerg         F_EMERG_WRITE: characters written to config emerg_wr
 *                   (SET_CONFIG) come out of port 0's sink, in order
 */
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <termios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "kselftest_harness.h"
#include "vuser.h"
#include "pvtest.h"

#define MIB (1u << 20)

struct prng {
	uint64_t s;
};

static uint8_t prng_next(struct prng *r)
{
	r->s = r->s * 6364136223846793005ull + 1442695040888963407ull;
	return (uint8_t)(r->s >> 33);
}

static void prng_fill(struct prng *r, uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = prng_next(r);
}

static uint64_t fnv(uint64_t h, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

static int start_pviod(const char *dir, const char *opts, const char *log, struct pvt_pviod *p,
		       char *sock, size_t socklen, char *why, size_t whylen)
{
	char arg[1024];
	const char *const args[] = { "--device", arg, NULL };

	if (pvt_pviod_find(p)) {
		snprintf(why, whylen, "pviod not built (%.180s); set PVIOD=path", p->bin);
		return -ENOENT;
	}
	snprintf(sock, socklen, "%s/vu.sock", dir);
	snprintf(arg, sizeof(arg), "console,socket=%s,%s", sock, opts);
	if (pvt_pviod_start(p, log, args, 5000)) {
		snprintf(why, whylen, "pviod did not create %s", sock);
		return -ETIMEDOUT;
	}
	return 0;
}

static int unix_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	for (int i = 0; i < 250; i++) {
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		usleep(20000);
	}
	close(fd);
	return -1;
}

/* Wait up to 200 ms for control messages; false once @end_ms has passed. */
static bool wait_ctrl_more(struct vuser_console *con, long end_ms)
{
	if (pvt_ms() >= end_ms)
		return false;
	vuser_console_wait_ctrl(con, 200);
	return true;
}

/*
 * Take control messages until @cond holds or 5 s pass.  A macro because
 * @cond is an expression over the ports that the control messages update:
 * it is evaluated again after each batch (once per loop, in one place).
 */
#define WAIT_CTRL(con, cond)                                     \
	({                                                       \
		struct vuser_console *__con = (con);             \
		long __end = pvt_ms() + 5000;                    \
		bool __ok;                                       \
		vuser_console_ctrl_poll(__con);                  \
		do {                                             \
			__ok = (cond);                           \
		} while (!__ok && wait_ctrl_more(__con, __end)); \
		__ok;                                            \
	})

static bool log_has(const char *log, const char *needle, char *line, size_t len)
{
	FILE *f = fopen(log, "r");
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, (int)len, f))
		found = !!strstr(line, needle);
	fclose(f);
	return found;
}

FIXTURE(con)
{
	char dir[64], sock[128], log[128], out[128], why[256];
	struct pvt_pviod pviod;
	struct vuser_console con;
	bool open;
};

FIXTURE_VARIANT(con)
{
	const char *opts; /* after socket=...; %s: the directory */
	unsigned int port; /* for the transfer tests */
	unsigned int mib;
	unsigned int buf_size;
};

/* clang-format would glue the brace to the macro, which checkpatch rejects. */
/* clang-format off */
FIXTURE_VARIANT_ADD(con, port1_4k) {
	.opts = "out=unix:%s/out,ports=3,names=:org.pvio.a:org.pvio.b", .port = 1, .mib = 8,
	.buf_size = 4096 };
FIXTURE_VARIANT_ADD(con, port0_64k) {
	.opts = "out=unix:%s/out,ports=2", .port = 0, .mib = 16, .buf_size = 65536 };
FIXTURE_VARIANT_ADD(con, port2_small_buffer) {
	.opts = "out=unix:%s/out,ports=3,buffer=8192", .port = 2, .mib = 4, .buf_size = 1024 };
/* clang-format on */

FIXTURE_SETUP(con)
{
	char opts[512];

	snprintf(self->dir, sizeof(self->dir), "/tmp/vuser_console.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->log, sizeof(self->log), "%s/pviod.log", self->dir);
	snprintf(opts, sizeof(opts), variant->opts, self->dir);
	if (!strncmp(_metadata->name, "resize", 6))
		snprintf(opts, sizeof(opts), "out=pty:%s/pty,ports=2", self->dir);
	else if (!strncmp(_metadata->name, "reader_", 7))
		snprintf(opts, sizeof(opts), "out=unix:%s/out,ports=2,buffer=65536,stall-ms=300",
			 self->dir);
	if (start_pviod(self->dir, opts, self->log, &self->pviod, self->sock, sizeof(self->sock),
			self->why, sizeof(self->why)))
		return;
	struct vuser_console_opts o = { .socket_path = self->sock, .buf_size = variant->buf_size };

	ASSERT_EQ(0, vuser_console_open(&self->con, &o))
	{
		TH_LOG("%s", vuser_dev_errmsg(&self->con.dev));
		pvt_dump_log(self->log);
	}
	self->open = true;
}

FIXTURE_TEARDOWN(con)
{
	if (self->open)
		vuser_console_close(&self->con);
	pvt_pviod_stop(&self->pviod, PVT_STOP_MS);
	if (self->dir[0] && pvt_rmtree(self->dir))
		TH_LOG("cannot remove %s", self->dir);
}

TEST_F_TIMEOUT(con, names, 30)
{
	struct vuser_console *c = &self->con;

	if (!self->open)
		SKIP(return, "%s", self->why);
	ASSERT_TRUE(c->multiport);
	ASSERT_GE(c->nports, 2u);
	for (unsigned int i = 0; i < c->nports; i++)
		EXPECT_TRUE(c->ports[i].added);
	EXPECT_TRUE(WAIT_CTRL(c, c->ports[0].console));
	if (strstr(variant->opts, "names=")) {
		ASSERT_TRUE(WAIT_CTRL(c, c->ports[2].name[0] != '\0'));
		EXPECT_STREQ("org.pvio.a", c->ports[1].name);
		EXPECT_STREQ("org.pvio.b", c->ports[2].name);
		EXPECT_STREQ("", c->ports[0].name);
	}
}

TEST_F_TIMEOUT(con, resize, 30)
{
	struct vuser_console *c = &self->con;
	struct winsize ws = { .ws_col = 132, .ws_row = 43 };
	char pty[160];
	int fd;

	if (!self->open)
		SKIP(return, "%s", self->why);
	snprintf(pty, sizeof(pty), "%s/pty", self->dir);
	fd = open(pty, O_RDWR | O_NOCTTY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, TIOCSWINSZ, &ws));
	ASSERT_TRUE(WAIT_CTRL(c, c->ports[0].resizes && c->ports[0].cols == 132));
	EXPECT_EQ(43, c->ports[0].rows);
	/* port 1 has its own pty and window */
	snprintf(pty, sizeof(pty), "%s/pty.1", self->dir);
	close(fd);
	fd = open(pty, O_RDWR | O_NOCTTY);
	ASSERT_LE(0, fd);
	ws.ws_col = 90;
	ws.ws_row = 30;
	ASSERT_EQ(0, ioctl(fd, TIOCSWINSZ, &ws));
	ASSERT_TRUE(WAIT_CTRL(c, c->ports[1].resizes && c->ports[1].cols == 90));
	EXPECT_EQ(30, c->ports[1].rows);
	close(fd);
}

/* The peer on pviod's unix sink: send @bytes of stream 1, then check @bytes of stream 2. */
static int peer_run(const char *path, size_t bytes)
{
	struct prng tx = { 1 }, rx = { 2 };
	uint8_t buf[65536], want[65536];
	size_t sent = 0, got = 0;
	int fd = unix_connect(path);

	if (fd < 0)
		return 10;
	while (sent < bytes) {
		size_t n = bytes - sent < sizeof(buf) ? bytes - sent : sizeof(buf);
		ssize_t w;

		prng_fill(&tx, buf, n);
		for (size_t off = 0; off < n; off += (size_t)w) {
			w = write(fd, buf + off, n - off);
			if (w <= 0)
				return 11;
		}
		sent += n;
	}
	while (got < bytes) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n <= 0)
			return 12;
		prng_fill(&rx, want, (size_t)n);
		if (memcmp(buf, want, (size_t)n))
			return 13;
		got += (size_t)n;
	}
	close(fd);
	return 0;
}

TEST_F_TIMEOUT(con, transfer, 240)
{
	struct vuser_console *c = &self->con;
	const char *emsg = vuser_dev_errmsg(&c->dev); /* the device's buffer: always the latest */
	size_t bytes = (size_t)variant->mib * MIB, got = 0, sent = 0;
	struct prng in = { 1 }, outp = { 2 };
	uint64_t h_got = 1469598103934665603ull, h_want = h_got;
	static uint8_t buf[65536], want[65536];
	unsigned int port = variant->port;
	char path[160];
	long t0, t1, t2;
	int status, r;
	pid_t peer;

	if (!self->open)
		SKIP(return, "%s", self->why);
	if (port)
		snprintf(path, sizeof(path), "%s/out.%u", self->dir, port);
	else
		snprintf(path, sizeof(path), "%s/out", self->dir);
	peer = fork();
	ASSERT_LE(0, peer);
	if (!peer)
		_exit(peer_run(path, bytes));
	ASSERT_TRUE(WAIT_CTRL(c, c->ports[port].host_open));
	ASSERT_EQ(0, vuser_console_port_open(c, port, true));
	t0 = pvt_ms();
	/* host -> driver */
	while (got < bytes) {
		r = vuser_console_read(c, port, buf, sizeof(buf));
		if (r == -EAGAIN) {
			r = vuser_console_wait_rx(c, port, 10000);
			ASSERT_EQ(0, r) TH_LOG("%zu of %zu bytes: %s", got, bytes, emsg);
			continue;
		}
		ASSERT_LT(0, r) TH_LOG("%s", vuser_dev_errmsg(&c->dev));
		prng_fill(&in, want, (size_t)r);
		h_got = fnv(h_got, buf, (size_t)r);
		h_want = fnv(h_want, want, (size_t)r);
		got += (size_t)r;
	}
	ASSERT_EQ(h_want, h_got);
	t1 = pvt_ms();
	/* driver -> host, checked by the peer */
	while (sent < bytes) {
		size_t n = bytes - sent < sizeof(buf) ? bytes - sent : sizeof(buf);

		prng_fill(&outp, buf, n);
		for (size_t off = 0; off < n; off += (size_t)r) {
			r = vuser_console_write(c, port, buf + off, n - off);
			if (r == -EAGAIN) {
				ASSERT_EQ(0, vuser_queue_wait(c->ports[port].txq, 10000));
				r = 0;
				continue;
			}
			ASSERT_LT(0, r) TH_LOG("%s", vuser_dev_errmsg(&c->dev));
		}
		sent += n;
	}
	ASSERT_EQ(0, vuser_console_tx_drain(c, port, 10000));
	ASSERT_EQ(peer, waitpid(peer, &status, 0));
	t2 = pvt_ms();
	EXPECT_EQ(0, WEXITSTATUS(status))
	{
		TH_LOG("peer check failed (code %d)", WEXITSTATUS(status));
	}
	TH_LOG("port %u: %u MiB in %ld ms, %u MiB out in %ld ms", port, variant->mib, t1 - t0,
	       variant->mib, t2 - t1);
}

/* Write @bytes as fast as the device takes them; every write must complete. */
static int write_all(struct __test_metadata *_metadata, struct vuser_console *c, unsigned int port,
		     size_t bytes)
{
	static uint8_t buf[65536];
	size_t sent = 0;
	int r;

	memset(buf, 'x', sizeof(buf));
	while (sent < bytes) {
		r = vuser_console_write(c, port, buf,
					bytes - sent < sizeof(buf) ? bytes - sent : sizeof(buf));
		if (r == -EAGAIN) {
			r = vuser_queue_wait(c->ports[port].txq, 5000);
			if (r)
				return r;
			continue;
		}
		if (r < 0)
			return r;
		sent += (size_t)r;
	}
	return vuser_console_tx_drain(c, port, 5000);
}

/*
 * struct _test_data_con is FIXTURE_DATA(con) spelled out: as a parameter type,
 * checkpatch and clang-format read the macro as a multiplication.
 */
static void check_loss(struct __test_metadata *_metadata, struct _test_data_con *self)
{
	char line[512];

	kill(self->pviod.pid, SIGUSR1);
	usleep(500000);
	ASSERT_TRUE(log_has(self->log, "console0: port 1: to sink", line, sizeof(line)));
	TH_LOG("%s", strtok(line, "\n"));
	EXPECT_EQ(NULL, strstr(line, "lost 0,"));
}

TEST_F_TIMEOUT(con, reader_gone, 60)
{
	struct vuser_console *c = &self->con;
	char path[160], buf[4096];
	int fd;

	if (!self->open)
		SKIP(return, "%s", self->why);
	snprintf(path, sizeof(path), "%s/out.1", self->dir);
	fd = unix_connect(path);
	ASSERT_LE(0, fd);
	ASSERT_TRUE(WAIT_CTRL(c, c->ports[1].host_open));
	ASSERT_EQ(0, vuser_console_port_open(c, 1, true));
	ASSERT_EQ(0, write_all(_metadata, c, 1, 64 * 1024));
	ASSERT_LT(0, read(fd, buf, sizeof(buf)));
	close(fd);
	ASSERT_TRUE(WAIT_CTRL(c, !c->ports[1].host_open));
	/* Nobody reads: 32 MiB must still complete, dropped and counted. */
	ASSERT_EQ(0, write_all(_metadata, c, 1, 32 * MIB)) TH_LOG("%s", vuser_dev_errmsg(&c->dev));
	/* Port 0 keeps working meanwhile. */
	ASSERT_EQ(0, write_all(_metadata, c, 0, 4096));
	check_loss(_metadata, self);
}

TEST_F_TIMEOUT(con, reader_stuck, 60)
{
	struct vuser_console *c = &self->con;
	char path[160];
	int fd;

	if (!self->open)
		SKIP(return, "%s", self->why);
	snprintf(path, sizeof(path), "%s/out.1", self->dir);
	fd = unix_connect(path);
	ASSERT_LE(0, fd);
	ASSERT_TRUE(WAIT_CTRL(c, c->ports[1].host_open));
	ASSERT_EQ(0, vuser_console_port_open(c, 1, true));
	/* Connected, never reads: after stall-ms the writes complete again. */
	ASSERT_EQ(0, write_all(_metadata, c, 1, 32 * MIB)) TH_LOG("%s", vuser_dev_errmsg(&c->dev));
	check_loss(_metadata, self);
	close(fd);
}

/* Port 0 alone: with and without MULTIPORT, emergency writes. */
FIXTURE(port0)
{
	char dir[64], sock[128], log[128], out[160], why[256];
	struct pvt_pviod pviod;
	struct vuser_console con;
	bool open;
};

FIXTURE_VARIANT(port0)
{
	const char *opts; /* after socket=...; %s: the directory */
	bool no_multiport; /* the driver declines MULTIPORT */
};

/* clang-format off */
FIXTURE_VARIANT_ADD(port0, decline_multiport_ports3) {
	.opts = "out=unix:%s/out,ports=3", .no_multiport = true };
FIXTURE_VARIANT_ADD(port0, decline_multiport_ports1) {
	.opts = "out=unix:%s/out,ports=1", .no_multiport = true };
FIXTURE_VARIANT_ADD(port0, multiport_ports1) {
	.opts = "out=unix:%s/out,ports=1", .no_multiport = false };
/* clang-format on */

FIXTURE_SETUP(port0)
{
	char opts[512];

	snprintf(self->dir, sizeof(self->dir), "/tmp/vuser_console.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->log, sizeof(self->log), "%s/pviod.log", self->dir);
	snprintf(self->out, sizeof(self->out), "%s/out", self->dir);
	snprintf(opts, sizeof(opts), variant->opts, self->dir);
	if (start_pviod(self->dir, opts, self->log, &self->pviod, self->sock, sizeof(self->sock),
			self->why, sizeof(self->why)))
		return;
	struct vuser_console_opts o = { .socket_path = self->sock,
					.no_multiport = variant->no_multiport };

	ASSERT_EQ(0, vuser_console_open(&self->con, &o))
	{
		TH_LOG("%s", vuser_dev_errmsg(&self->con.dev));
		pvt_dump_log(self->log);
	}
	self->open = true;
	ASSERT_EQ(!variant->no_multiport, self->con.multiport);
	if (variant->no_multiport) {
		/* Port 0 only, no control queues. */
		ASSERT_EQ(1u, self->con.nports);
		ASSERT_EQ(NULL, self->con.crxq);
		ASSERT_TRUE(self->con.ports[0].added);
		/* Port 1 does not exist for the driver. */
		ASSERT_EQ(-EINVAL, vuser_console_port_open(&self->con, 1, true));
	}
}

FIXTURE_TEARDOWN(port0)
{
	if (self->open)
		vuser_console_close(&self->con);
	pvt_pviod_stop(&self->pviod, PVT_STOP_MS);
	if (self->dir[0] && pvt_rmtree(self->dir))
		TH_LOG("cannot remove %s", self->dir);
}

TEST_F_TIMEOUT(port0, echo, 120)
{
	struct vuser_console *c = &self->con;
	const char *emsg = vuser_dev_errmsg(&c->dev); /* the device's buffer: always the latest */
	const size_t bytes = MIB;
	struct prng in = { 1 }, outp = { 2 };
	static uint8_t buf[65536], want[65536];
	size_t got = 0, sent = 0;
	int status, r;
	pid_t peer;

	if (!self->open)
		SKIP(return, "%s", self->why);
	peer = fork();
	ASSERT_LE(0, peer);
	if (!peer)
		_exit(peer_run(self->out, bytes));
	ASSERT_TRUE(!c->multiport || WAIT_CTRL(c, c->ports[0].host_open));
	ASSERT_EQ(0, vuser_console_port_open(c, 0, true));
	while (got < bytes) {
		r = vuser_console_read(c, 0, buf, sizeof(buf));
		if (r == -EAGAIN) {
			r = vuser_console_wait_rx(c, 0, 10000);
			ASSERT_EQ(0, r) TH_LOG("%zu of %zu bytes: %s", got, bytes, emsg);
			continue;
		}
		ASSERT_LT(0, r) TH_LOG("%s", vuser_dev_errmsg(&c->dev));
		prng_fill(&in, want, (size_t)r);
		ASSERT_EQ(0, memcmp(buf, want, (size_t)r)) TH_LOG("at byte %zu", got);
		got += (size_t)r;
	}
	while (sent < bytes) {
		size_t n = bytes - sent < sizeof(buf) ? bytes - sent : sizeof(buf);

		prng_fill(&outp, buf, n);
		for (size_t off = 0; off < n; off += (size_t)r) {
			r = vuser_console_write(c, 0, buf + off, n - off);
			if (r == -EAGAIN) {
				ASSERT_EQ(0, vuser_queue_wait(c->ports[0].txq, 10000));
				r = 0;
				continue;
			}
			ASSERT_LT(0, r) TH_LOG("%s", vuser_dev_errmsg(&c->dev));
		}
		sent += n;
	}
	ASSERT_EQ(0, vuser_console_tx_drain(c, 0, 10000));
	ASSERT_EQ(peer, waitpid(peer, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status))
	{
		TH_LOG("peer check failed (code %d)", WEXITSTATUS(status));
	}
}

TEST_F_TIMEOUT(port0, emerg, 30)
{
	static const char msg[] = "emergency: pvio says hi\n";
	struct vuser_console *c = &self->con;
	char got[sizeof(msg)] = "";
	const uint32_t emerg = offsetof(struct pvio_console_config, emerg_wr);
	size_t n = 0;
	int fd, wr;

	if (!self->open)
		SKIP(return, "%s", self->why);
	ASSERT_TRUE(vuser_dev_has(&c->dev, PVIO_CONSOLE_F_EMERG_WRITE));
	fd = unix_connect(self->out);
	ASSERT_LE(0, fd);
	/* pviod drops emergency characters while nobody reads port 0. */
	ASSERT_TRUE(!c->multiport || WAIT_CTRL(c, c->ports[0].host_open));
	if (!c->multiport)
		usleep(300000);
	for (size_t i = 0; i < sizeof(msg) - 1; i++) {
		__le32 v = cpu_to_le32((uint8_t)msg[i]);

		wr = vuser_dev_config_write(&c->dev, emerg, &v, sizeof(v));
		ASSERT_EQ(0, wr) TH_LOG("%s", vuser_dev_errmsg(&c->dev));
	}
	/* Only emerg_wr is writable: pviod refuses a write elsewhere. */
	{
		__le16 cols = cpu_to_le16(80);

		EXPECT_NE(0, vuser_dev_config_write(&c->dev, 0, &cols, sizeof(cols)));
	}
	while (n < sizeof(msg) - 1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		ASSERT_EQ(1, poll(&p, 1, 5000)) TH_LOG("%zu of %zu characters", n, sizeof(msg) - 1);
		r = read(fd, got + n, sizeof(msg) - 1 - n);
		ASSERT_LT(0, r);
		n += (size_t)r;
	}
	EXPECT_STREQ(msg, got);
	close(fd);
}

TEST_HARNESS_MAIN
