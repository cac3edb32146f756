// SPDX-License-Identifier: GPL-2.0
/*
 * con_port_test: a virtio-console port from the guest's side, run inside the
 * test guest (built static) against pvio_con or the stock virtio_console,
 * whichever the VM test loaded.  Kselftest harness, TAP 13.
 *
 *   con_port_test --dev /dev/vportNpM --sysfs DIR --name NAME
 *
 * DIR is the port's class directory (/sys/class/pvio-ports/vportNpM or
 * /sys/class/virtio-ports/vportNpM).  The host end of the port is an echo
 * peer (tests/vm/pvio_con_port_peer.py): everything written comes back, except
 * the line HANGUP_MAGIC, on which the peer disconnects for HANGUP_SECS and
 * connects again.  Each test reads back all it wrote, so the next one starts
 * with an empty port.
 *
 *   sysfs_name      DIR/name is NAME
 *   nonblock_empty  O_NONBLOCK read of an empty port: -1 EAGAIN
 *   pollout         poll() says POLLOUT at once on an idle port
 *   blocking_echo   a blocking write of 4 KiB, blocking reads of it back
 *   pollin          no POLLIN while empty; POLLIN once the echo is in
 *   large_checksum  8 MiB written by a child, read by the parent through the
 *                   same descriptor, FNV-1a of both sides compared
 *   one_opener      a second open is EBUSY; close and reopen 20 times
 *   host_hangup     the host end disconnects (PORT_OPEN 0): POLLHUP and
 *                   read() = 0; it reconnects (PORT_OPEN 1): echo works
 *
 * A guest open/close is a PORT_OPEN to the device; QEMU's socket chardev
 * does not show it to the host (the socket stays connected), so the host
 * side of that is not observable here (pviod's unix sink makes it visible:
 * tests/user/vu_console_test).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"

#define HANGUP_MAGIC "PVIO-PEER-HANGUP\n"
#define HANGUP_SECS 2
#define LARGE_BYTES (8u << 20)

static const char *cp_dev;
static const char *cp_sysfs;
static const char *cp_name;

static uint64_t cp_fnv(uint64_t h, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

/* The byte at stream offset @off: a cheap pattern that is not periodic in 64 KiB. */
static uint8_t cp_byte(uint64_t off)
{
	uint64_t x = off * 0x9e3779b97f4a7c15ull;

	return (uint8_t)(x >> 56) ^ (uint8_t)(off >> 16);
}

static long cp_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read exactly @len bytes, blocking; -1 on error or EOF (errno 0 for EOF). */
static int cp_read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = read(fd, (char *)buf + got, len - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (!r)
				errno = 0;
			return -1;
		}
		got += (size_t)r;
	}
	return 0;
}

static int cp_write_full(int fd, const void *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t r = write(fd, (const char *)buf + off, len - off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		off += (size_t)r;
	}
	return 0;
}

static int cp_open(int flags)
{
	/* A port just reopened may still be finishing its release. */
	for (int i = 0; i < 50; i++) {
		int fd = open(cp_dev, flags | O_CLOEXEC);

		if (fd >= 0 || errno != EBUSY)
			return fd;
		usleep(20000);
	}
	return open(cp_dev, flags | O_CLOEXEC);
}

/* The 6.1 harness has timeouts only for fixture tests: an empty fixture. */
FIXTURE(slow)
{
	int unused;
};

FIXTURE_SETUP(slow)
{
}

FIXTURE_TEARDOWN(slow)
{
}

TEST(sysfs_name)
{
	char path[512], buf[256] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/name", cp_sysfs);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f) TH_LOG("%s: %s", path, strerror(errno));
	ASSERT_NE(NULL, fgets(buf, sizeof(buf), f));
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	EXPECT_STREQ(cp_name, buf);
}

TEST(nonblock_empty)
{
	char c;
	int fd = cp_open(O_RDWR | O_NONBLOCK);

	ASSERT_LE(0, fd) TH_LOG("%s: %s", cp_dev, strerror(errno));
	EXPECT_EQ(-1, read(fd, &c, 1));
	EXPECT_EQ(EAGAIN, errno);
	close(fd);
}

TEST(pollout)
{
	int fd = cp_open(O_RDWR);
	struct pollfd p = { .events = POLLOUT };

	ASSERT_LE(0, fd);
	p.fd = fd;
	ASSERT_EQ(1, poll(&p, 1, 1000));
	EXPECT_TRUE(p.revents & POLLOUT);
	EXPECT_FALSE(p.revents & (POLLERR | POLLHUP));
	close(fd);
}

TEST(blocking_echo)
{
	static uint8_t out[4096], in[4096];
	int fd = cp_open(O_RDWR);

	ASSERT_LE(0, fd);
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = cp_byte(i);
	ASSERT_EQ(0, cp_write_full(fd, out, sizeof(out)));
	ASSERT_EQ(0, cp_read_full(fd, in, sizeof(in))) TH_LOG("read: %s", strerror(errno));
	EXPECT_EQ(0, memcmp(out, in, sizeof(in)));
	close(fd);
}

TEST(pollin)
{
	struct pollfd p = { .events = POLLIN };
	static const char msg[] = "ping";
	char in[sizeof(msg)] = "";
	int fd = cp_open(O_RDWR);

	ASSERT_LE(0, fd);
	p.fd = fd;
	ASSERT_EQ(0, poll(&p, 1, 200)) TH_LOG("revents 0x%x on an empty port", p.revents);
	ASSERT_EQ(0, cp_write_full(fd, msg, sizeof(msg) - 1));
	ASSERT_EQ(1, poll(&p, 1, 10000));
	EXPECT_TRUE(p.revents & POLLIN);
	ASSERT_EQ(0, cp_read_full(fd, in, sizeof(msg) - 1));
	EXPECT_STREQ(msg, in);
	close(fd);
}

TEST_F_TIMEOUT(slow, large_checksum, 300)
{
	static uint8_t buf[65536];
	uint64_t h_in = 1469598103934665603ull, h_out = h_in;
	size_t got = 0;
	int fd = cp_open(O_RDWR), status;
	long t0 = cp_ms();
	pid_t child;

	ASSERT_LE(0, fd);
	for (uint64_t off = 0; off < LARGE_BYTES; off++) {
		uint8_t b = cp_byte(off);

		h_out = cp_fnv(h_out, &b, 1);
	}
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		static uint8_t wbuf[65536];

		for (uint64_t off = 0; off < LARGE_BYTES; off += sizeof(wbuf)) {
			for (size_t i = 0; i < sizeof(wbuf); i++)
				wbuf[i] = cp_byte(off + i);
			if (cp_write_full(fd, wbuf, sizeof(wbuf)))
				_exit(1);
		}
		_exit(0);
	}
	while (got < LARGE_BYTES) {
		ssize_t r = read(fd, buf, sizeof(buf));

		if (r < 0 && errno == EINTR)
			continue;
		ASSERT_LT(0, r) TH_LOG("after %zu bytes: %s", got, r ? strerror(errno) : "EOF");
		h_in = cp_fnv(h_in, buf, (size_t)r);
		got += (size_t)r;
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_EQ(0, status);
	EXPECT_EQ(h_out, h_in);
	TH_LOG("%u bytes each way in %ld ms, fnv1a 0x%016llx", LARGE_BYTES, cp_ms() - t0,
	       (unsigned long long)h_in);
	close(fd);
}

TEST(one_opener)
{
	int fd = cp_open(O_RDWR), fd2;

	ASSERT_LE(0, fd);
	fd2 = open(cp_dev, O_RDWR | O_CLOEXEC);
	EXPECT_EQ(-1, fd2);
	EXPECT_EQ(EBUSY, errno);
	if (fd2 >= 0)
		close(fd2);
	close(fd);
	for (int i = 0; i < 20; i++) {
		fd = cp_open(O_RDWR);
		ASSERT_LE(0, fd) TH_LOG("reopen %d: %s", i, strerror(errno));
		close(fd);
	}
}

TEST_F_TIMEOUT(slow, host_hangup, 60)
{
	struct pollfd p = { .events = POLLIN };
	static const char msg[] = "back";
	char in[sizeof(msg)] = "", c;
	int fd = cp_open(O_RDWR);
	long end;

	ASSERT_LE(0, fd);
	p.fd = fd;
	ASSERT_EQ(0, cp_write_full(fd, HANGUP_MAGIC, sizeof(HANGUP_MAGIC) - 1));
	/* The peer closes its socket: the device sends PORT_OPEN 0. */
	end = cp_ms() + 10000;
	while (!(p.revents & POLLHUP) && cp_ms() < end)
		poll(&p, 1, 200);
	ASSERT_TRUE(p.revents & POLLHUP) TH_LOG("no POLLHUP (revents 0x%x)", p.revents);
	EXPECT_EQ(0, read(fd, &c, 1));
	/* It connects again after HANGUP_SECS: PORT_OPEN 1, no POLLHUP. */
	end = cp_ms() + 10000 + HANGUP_SECS * 1000;
	do {
		usleep(100000);
		p.revents = 0;
		poll(&p, 1, 0);
	} while ((p.revents & POLLHUP) && cp_ms() < end);
	ASSERT_FALSE(p.revents & POLLHUP);
	ASSERT_EQ(0, cp_write_full(fd, msg, sizeof(msg) - 1));
	ASSERT_EQ(0, cp_read_full(fd, in, sizeof(msg) - 1)) TH_LOG("read: %s", strerror(errno));
	EXPECT_STREQ(msg, in);
	close(fd);
}

int main(int argc, char **argv)
{
	int i;

	for (i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--dev"))
			cp_dev = argv[i + 1];
		else if (!strcmp(argv[i], "--sysfs"))
			cp_sysfs = argv[i + 1];
		else if (!strcmp(argv[i], "--name"))
			cp_name = argv[i + 1];
		else
			break;
	}
	if (!cp_dev || !cp_sysfs || !cp_name) {
		fprintf(stderr,
			"usage: con_port_test --dev /dev/vportNpM --sysfs DIR --name NAME\n");
		return 2;
	}
	return test_harness_run(1, argv);
}
