// SPDX-License-Identifier: GPL-2.0
/*
 * backreq_test - the back-end channel (PROTOCOL_F_BACKEND_REQ), against a
 * running pviod with two disks, each driven by a raw vhost-user front-end
 * (tests/lib/raw.h) that hands pviod a socketpair's end with
 * SET_BACKEND_REQ_FD; the image is grown and pvioctl refresh run.
 *
 *   config_change_acked
 *       CONFIG_CHANGE_MSG arrives with NEED_REPLY; GET_CONFIG, asked before
 *       the ack as QEMU does, has the new capacity; after the ack a second
 *       resize is told as well.
 *   peer_never_acks
 *       disk a's front-end never answers: control socket requests and the
 *       other disk's whole resize round trip go on meanwhile; after the
 *       timeout pviod closes a's channel only (a's session stays).
 *   peer_closes_channel
 *       the front-end closes its end: a resize is still served, pviod lives.
 *   bad_fd_rejected
 *       an eventfd and a datagram socket are refused with an error ack; the
 *       session goes on.
 *   data_path_follows
 *       a third disk through the userspace driver: a write past the end
 *       fails with IOERR, is served once the image grew and refresh ran,
 *       reads back in pviod and in the image; after a shrink a read past the
 *       new end fails again.
 *   net_link
 *       pvioctl link on a loop net device: CONFIG_CHANGE_MSG each way, the
 *       config's status follows; on a blk device pvioctl fails.
 *   console_resize
 *       a console device on a pty: the test sets the window size on the
 *       pty's slave (TIOCSWINSZ, as a terminal emulator does); pviod sees it
 *       on its next tick, sends CONFIG_CHANGE_MSG, GET_CONFIG has the new
 *       cols and rows (F_SIZE); the same size again tells nothing.
 *
 * tap-run: timeout=60
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "pvtest.h"
#include "raw.h"
#include "vuser.h"
#include "virtio_console.h"
#include "virtio_net.h"

#define IMG_BYTES (1u << 20)
#define PROTO                                                                                 \
	(PVIO_BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK) | PVIO_BIT(VHOST_USER_PROTOCOL_F_CONFIG) | \
	 PVIO_BIT(VHOST_USER_PROTOCOL_F_BACKEND_REQ))
#define FEATURES (PVIO_BIT(PVIO_F_VERSION_1) | PVIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES))
/* pviod's VU_BACKREQ_TIMEOUT_MS, and some slack. */
#define ACK_TIMEOUT_MS 3000

FIXTURE(backreq)
{
	char dir[64];
	char rpc[128];
	char img[2][128];
	char sock[2][128];
	char net_sock[128];
	char con_sock[128], con_pty[128];
	char c_img[128], c_sock[128];
	struct pvt_pviod pv;
	struct raw fe[2];
	int chan[2][2]; /* per disk: [0] pviod's end (-1 once sent), [1] ours */
};

/* pvioctl -s RPC ARGS...; its exit status. */
static int run_pvioctl(const struct pvt_pviod *pv, const char *rpc, const char *args)
{
	char bin[PATH_MAX], cmd[PATH_MAX + 512];
	int st;

	snprintf(bin, sizeof(bin), "%s", pv->bin);
	snprintf(cmd, sizeof(cmd), "%s/pvioctl -s %s %s >/dev/null", dirname(bin), rpc, args);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int grow(const char *img, off_t bytes)
{
	return truncate(img, bytes) ? -errno : 0;
}

/* GET_CONFIG of @size bytes at @off into @buf: 0 or -errno. */
static int get_config(struct raw *r, uint32_t off, uint32_t size, void *buf)
{
	struct vhost_user_config c = { .offset = off, .size = size };
	struct vhost_user_msg m;
	int ret;

	ret = raw_send(r, VHOST_USER_GET_CONFIG, 0, &c, 12 + size, NULL, 0);
	if (!ret)
		ret = raw_recv(r, &m);
	if (ret)
		return ret;
	if (m.hdr.size != 12 + size)
		return -EPROTO;
	memcpy(buf, m.payload.config.payload, size);
	return 0;
}

/* The blk config's capacity (sectors), or -errno. */
static long long get_capacity(struct raw *r)
{
	uint64_t cap;
	int ret = get_config(r, 0, 8, &cap);

	return ret ? ret : (long long)cap;
}

/* The next message on our end of a channel within @ms: 1, 0 on EOF, -ETIMEDOUT. */
static int chan_recv(int fd, struct vhost_user_msg *m, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, ms) != 1)
		return -ETIMEDOUT;
	n = recv(fd, m, sizeof(m->hdr), MSG_WAITALL);
	if (n == 0)
		return 0;
	if (n != (ssize_t)sizeof(m->hdr) || m->hdr.size)
		return -EPROTO;
	return 1;
}

static int chan_ack(int fd, uint64_t v)
{
	struct vhost_user_msg m = { .hdr = { .request = VHOST_USER_BACKEND_CONFIG_CHANGE_MSG,
					     .flags = VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY,
					     .size = 8 } };

	m.payload.u64 = v;
	return send(fd, &m, 12 + 8, MSG_NOSIGNAL) == 20 ? 0 : -errno;
}

/*
 * Connect @r to @path, negotiate @features, hand over a channel (acked):
 * 0 and our end in *@ours, or an error.
 */
static long connect_listening(struct raw *r, const char *path, uint64_t features, int *ours)
{
	int chan[2];
	long ret;

	raw_init(r);
	if (raw_connect(r, path) || raw_negotiate(r, PROTO, features))
		return -EPROTO;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, chan))
		return -errno;
	ret = raw_ack(r, VHOST_USER_SET_BACKEND_REQ_FD, NULL, 0, &chan[0], 1);
	/* pviod has its end now: ours sees EOF when pviod closes it. */
	close(chan[0]);
	*ours = chan[1];
	return ret;
}

/* Connect front-end @i, negotiate, hand over a channel (acked). */
static long setup_fe(FIXTURE_DATA(backreq) * self, int i)
{
	return connect_listening(&self->fe[i], self->sock[i], FEATURES, &self->chan[i][1]);
}

FIXTURE_SETUP(backreq)
{
	char spec[2][512], log[128];
	char net[256], c[512], con[320];
	const char *const args[] = { "--workers", "1",	      "--rpc",	  self->rpc,  "--device",
				     spec[0],	  "--device", spec[1],	  "--device", net,
				     "--device",  c,	      "--device", con,	      NULL };
	int i, ret;

	signal(SIGPIPE, SIG_IGN);
	snprintf(self->dir, sizeof(self->dir), "/tmp/pvio-backreq.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->rpc, sizeof(self->rpc), "%s/control.sock", self->dir);
	for (i = 0; i < 2; i++) {
		snprintf(self->img[i], sizeof(self->img[i]), "%s/%c.img", self->dir, 'a' + i);
		snprintf(self->sock[i], sizeof(self->sock[i]), "%s/%c.sock", self->dir, 'a' + i);
		ASSERT_EQ(0, pvt_image_create(self->img[i], IMG_BYTES));
		snprintf(spec[i], sizeof(spec[i]), "blk,id=%c,socket=%s,file=%s,direct=off",
			 'a' + i, self->sock[i], self->img[i]);
		self->chan[i][0] = -1;
		self->chan[i][1] = -1;
		self->fe[i].sock = -1;
	}
	snprintf(self->c_img, sizeof(self->c_img), "%s/c.img", self->dir);
	snprintf(self->c_sock, sizeof(self->c_sock), "%s/c.sock", self->dir);
	ASSERT_EQ(0, pvt_image_create(self->c_img, IMG_BYTES));
	snprintf(c, sizeof(c), "blk,id=c,socket=%s,file=%s", self->c_sock, self->c_img);
	snprintf(self->net_sock, sizeof(self->net_sock), "%s/n.sock", self->dir);
	snprintf(net, sizeof(net), "net,id=n,socket=%s,backend=loop", self->net_sock);
	snprintf(self->con_sock, sizeof(self->con_sock), "%s/t.sock", self->dir);
	snprintf(self->con_pty, sizeof(self->con_pty), "%s/t.pty", self->dir);
	snprintf(con, sizeof(con), "console,id=t,socket=%s,out=pty:%s", self->con_sock,
		 self->con_pty);
	snprintf(log, sizeof(log), "%s/pviod.log", self->dir);
	ret = pvt_pviod_start(&self->pv, log, args, 10000);
	if (ret == -ENOENT)
		SKIP(return, "pviod not built");
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, pvt_wait_socket(self->rpc, self->pv.pid, 10000));
	ASSERT_EQ(0, setup_fe(self, 0));
	ASSERT_EQ(0, setup_fe(self, 1));
}

FIXTURE_TEARDOWN(backreq)
{
	char log[128];
	int i, status;

	for (i = 0; i < 2; i++) {
		raw_close(&self->fe[i]);
		if (self->chan[i][0] >= 0)
			close(self->chan[i][0]);
		if (self->chan[i][1] >= 0)
			close(self->chan[i][1]);
	}
	if (!self->pv.pid)
		return;
	status = pvt_pviod_stop(&self->pv, 10000);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	snprintf(log, sizeof(log), "%s/pviod.log", self->dir);
	if (!WIFEXITED(status) || WEXITSTATUS(status) || _metadata->passed == 0)
		pvt_dump_log(log);
	if (pvt_rmtree(self->dir))
		TH_LOG("could not remove %s", self->dir);
}

TEST_F(backreq, config_change_acked)
{
	struct vhost_user_msg m;

	ASSERT_EQ(IMG_BYTES / 512, get_capacity(&self->fe[0]));
	ASSERT_EQ(0, grow(self->img[0], 2 * IMG_BYTES));
	ASSERT_EQ(0, run_pvioctl(&self->pv, self->rpc, "refresh a"));
	ASSERT_EQ(1, chan_recv(self->chan[0][1], &m, 2000));
	EXPECT_EQ(VHOST_USER_BACKEND_CONFIG_CHANGE_MSG, m.hdr.request);
	EXPECT_EQ(VHOST_USER_VERSION | VHOST_USER_FLAG_NEED_REPLY, m.hdr.flags);
	/* QEMU reads the config before it acks: pviod must answer meanwhile. */
	EXPECT_EQ(2 * IMG_BYTES / 512, get_capacity(&self->fe[0]));
	ASSERT_EQ(0, chan_ack(self->chan[0][1], 0));
	/* Nothing changed: nothing is sent. */
	ASSERT_EQ(0, run_pvioctl(&self->pv, self->rpc, "refresh a"));
	EXPECT_EQ(-ETIMEDOUT, chan_recv(self->chan[0][1], &m, 300));
	/* A second resize, told again: the ack was taken. */
	ASSERT_EQ(0, grow(self->img[0], 3 * IMG_BYTES));
	ASSERT_EQ(0, run_pvioctl(&self->pv, self->rpc, "refresh a"));
	ASSERT_EQ(1, chan_recv(self->chan[0][1], &m, 2000));
	EXPECT_EQ(3 * IMG_BYTES / 512, get_capacity(&self->fe[0]));
	ASSERT_EQ(0, chan_ack(self->chan[0][1], 0));
	/* Shrunk: told too, and the capacity follows. */
	ASSERT_EQ(0, grow(self->img[0], IMG_BYTES));
	ASSERT_EQ(0, run_pvioctl(&self->pv, self->rpc, "refresh a"));
	ASSERT_EQ(1, chan_recv(self->chan[0][1], &m, 2000));
	EXPECT_EQ(IMG_BYTES / 512, get_capacity(&self->fe[0]));
	ASSERT_EQ(0, chan_ack(self->chan[0][1], 0));
}

TEST_F(backreq, peer_never_acks)
{
	struct vhost_user_msg m;
	uint64_t f;
	long t0;

	ASSERT_EQ(0, grow(self->img[0], 2 * IMG_BYTES));
	ASSERT_EQ(0, run_pvioctl(&self->pv, self->rpc, "refresh a"));
	ASSERT_EQ(1, chan_recv(self->chan[0][1], &m, 2000));
	t0 = pvt_ms();
	/* While a's ack is awaited: the control socket and disk b go on. */
	ASSERT_EQ(0, run_pvioctl(&self->pv, self->rpc, "list"));
	ASSERT_EQ(0, grow(self->img[1], 2 * IMG_BYTES));
	ASSERT_EQ(0, run_pvioctl(&self->pv, self->rpc, "refresh b"));
	ASSERT_EQ(1, chan_recv(self->chan[1][1], &m, 2000));
	EXPECT_EQ(2 * IMG_BYTES / 512, get_capacity(&self->fe[1]));
	ASSERT_EQ(0, chan_ack(self->chan[1][1], 0));
	EXPECT_GT(ACK_TIMEOUT_MS - 500, pvt_ms() - t0);
	/* Another change of a meanwhile waits for the ack that never comes. */
	ASSERT_EQ(0, grow(self->img[0], 3 * IMG_BYTES));
	ASSERT_EQ(0, run_pvioctl(&self->pv, self->rpc, "refresh a"));
	/* The timeout: a's channel closed, and nothing more sent on it. */
	EXPECT_EQ(0, chan_recv(self->chan[0][1], &m, ACK_TIMEOUT_MS + 2000));
	TH_LOG("a's channel closed %ld ms after its message", pvt_ms() - t0);
	EXPECT_LE(ACK_TIMEOUT_MS - 200, pvt_ms() - t0);
	/* a's session itself goes on, with the fresh config. */
	ASSERT_EQ(0, raw_get_u64(&self->fe[0], VHOST_USER_GET_FEATURES, &f));
	EXPECT_EQ(3 * IMG_BYTES / 512, get_capacity(&self->fe[0]));
	/* b's channel still works. */
	ASSERT_EQ(0, grow(self->img[1], 3 * IMG_BYTES));
	ASSERT_EQ(0, run_pvioctl(&self->pv, self->rpc, "refresh b"));
	ASSERT_EQ(1, chan_recv(self->chan[1][1], &m, 2000));
	ASSERT_EQ(0, chan_ack(self->chan[1][1], 0));
}

TEST_F(backreq, peer_closes_channel)
{
	uint64_t f;

	close(self->chan[0][1]);
	self->chan[0][1] = -1;
	ASSERT_EQ(0, grow(self->img[0], 2 * IMG_BYTES));
	ASSERT_EQ(0, run_pvioctl(&self->pv, self->rpc, "refresh a"));
	ASSERT_EQ(0, raw_get_u64(&self->fe[0], VHOST_USER_GET_FEATURES, &f));
	EXPECT_EQ(2 * IMG_BYTES / 512, get_capacity(&self->fe[0]));
	ASSERT_EQ(0, run_pvioctl(&self->pv, self->rpc, "list"));
}

TEST_F(backreq, bad_fd_rejected)
{
	int efd = eventfd(0, EFD_CLOEXEC), dgram[2];
	uint64_t f;

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, dgram));
	EXPECT_EQ(EINVAL, raw_ack(&self->fe[0], VHOST_USER_SET_BACKEND_REQ_FD, NULL, 0, &efd, 1));
	EXPECT_EQ(EINVAL,
		  raw_ack(&self->fe[0], VHOST_USER_SET_BACKEND_REQ_FD, NULL, 0, &dgram[0], 1));
	/* No fd at all. */
	EXPECT_EQ(EBADF, raw_ack(&self->fe[0], VHOST_USER_SET_BACKEND_REQ_FD, NULL, 0, NULL, 0));
	close(efd);
	close(dgram[0]);
	close(dgram[1]);
	ASSERT_EQ(0, raw_get_u64(&self->fe[0], VHOST_USER_GET_FEATURES, &f));
	EXPECT_TRUE(f & PVIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES));
}

TEST_F(backreq, data_path_follows)
{
	struct vuser_blk_opts o = { .socket_path = self->c_sock,
				    .buf_bytes = 8192,
				    .timeout_ms = 10000 };
	struct vuser_blk blk;
	uint8_t *w, *r;
	int fd;

	ASSERT_EQ(0, vuser_blk_open(&blk, &o));
	w = vuser_blk_alloc(&blk, 4096);
	r = vuser_blk_alloc(&blk, 4096);
	ASSERT_NE(NULL, w);
	ASSERT_NE(NULL, r);
	memset(w, 0x5a, 4096);
	EXPECT_EQ(-EIO, vuser_blk_sync(&blk, 0, PVIO_BLK_T_OUT, IMG_BYTES, w, 4096));
	ASSERT_EQ(0, grow(self->c_img, 2 * IMG_BYTES));
	ASSERT_EQ(0, run_pvioctl(&self->pv, self->rpc, "refresh c"));
	EXPECT_EQ(0, vuser_blk_sync(&blk, 0, PVIO_BLK_T_OUT, IMG_BYTES, w, 4096));
	EXPECT_EQ(0, vuser_blk_sync(&blk, 0, PVIO_BLK_T_IN, IMG_BYTES, r, 4096));
	EXPECT_EQ(0, memcmp(w, r, 4096));
	EXPECT_EQ(0, vuser_blk_sync(&blk, 0, PVIO_BLK_T_FLUSH, 0, NULL, 0));
	fd = open(self->c_img, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	memset(r, 0, 4096);
	EXPECT_EQ(4096, pread(fd, r, 4096, IMG_BYTES));
	EXPECT_EQ(0, memcmp(w, r, 4096));
	close(fd);
	/* Shrunk: past the new end fails, before it still reads. */
	ASSERT_EQ(0, grow(self->c_img, IMG_BYTES));
	ASSERT_EQ(0, run_pvioctl(&self->pv, self->rpc, "refresh c"));
	EXPECT_EQ(-EIO, vuser_blk_sync(&blk, 0, PVIO_BLK_T_IN, IMG_BYTES, r, 4096));
	EXPECT_EQ(0, vuser_blk_sync(&blk, 0, PVIO_BLK_T_IN, IMG_BYTES - 4096, r, 4096));
	vuser_blk_close(&blk);
}

/* The net config's status (virtio 1.2 5.1.4: after the 6-byte MAC), or -errno. */
static int get_net_status(struct raw *r)
{
	uint16_t st;
	int ret = get_config(r, 6, 2, &st);

	return ret ? ret : st;
}

TEST_F(backreq, net_link)
{
	struct vhost_user_msg m;
	struct raw n;
	int ch;

	ASSERT_EQ(0, connect_listening(&n, self->net_sock, FEATURES | PVIO_BIT(PVIO_NET_F_STATUS),
				       &ch));
	EXPECT_EQ(PVIO_NET_S_LINK_UP, get_net_status(&n));
	ASSERT_EQ(0, run_pvioctl(&self->pv, self->rpc, "link n down"));
	ASSERT_EQ(1, chan_recv(ch, &m, 2000));
	EXPECT_EQ(0, get_net_status(&n));
	ASSERT_EQ(0, chan_ack(ch, 0));
	/* Already down: nothing to tell. */
	ASSERT_EQ(0, run_pvioctl(&self->pv, self->rpc, "link n down"));
	EXPECT_EQ(-ETIMEDOUT, chan_recv(ch, &m, 300));
	ASSERT_EQ(0, run_pvioctl(&self->pv, self->rpc, "link n up"));
	ASSERT_EQ(1, chan_recv(ch, &m, 2000));
	EXPECT_EQ(PVIO_NET_S_LINK_UP, get_net_status(&n));
	ASSERT_EQ(0, chan_ack(ch, 0));
	/* Not a net device; not a state. */
	EXPECT_EQ(1, run_pvioctl(&self->pv, self->rpc, "link a down 2>/dev/null"));
	EXPECT_EQ(2, run_pvioctl(&self->pv, self->rpc, "link n sideways 2>/dev/null"));
	close(ch);
	raw_close(&n);
}

/* The console config's cols and rows as cols << 16 | rows, or -errno. */
static long get_con_size(struct raw *r)
{
	struct pvio_console_config c;
	int ret = get_config(r, 0, 4, &c);

	return ret ? ret : (long)le16_to_cpu(c.cols) << 16 | le16_to_cpu(c.rows);
}

static int set_winsize(int fd, unsigned short cols, unsigned short rows)
{
	struct winsize ws = { .ws_row = rows, .ws_col = cols };

	return ioctl(fd, TIOCSWINSZ, &ws) ? -errno : 0;
}

TEST_F(backreq, console_resize)
{
	struct vhost_user_msg m;
	struct raw t;
	int ch, tty;

	ASSERT_EQ(0, connect_listening(&t, self->con_sock, FEATURES | PVIO_BIT(PVIO_CONSOLE_F_SIZE),
				       &ch));
	/* A new pty is 0x0 until someone sets it. */
	EXPECT_EQ(0, get_con_size(&t));
	tty = open(self->con_pty, O_RDWR | O_NOCTTY | O_CLOEXEC);
	ASSERT_LE(0, tty);
	ASSERT_EQ(0, set_winsize(tty, 132, 43));
	ASSERT_EQ(1, chan_recv(ch, &m, 2000));
	EXPECT_EQ(VHOST_USER_BACKEND_CONFIG_CHANGE_MSG, m.hdr.request);
	EXPECT_EQ(VHOST_USER_VERSION | VHOST_USER_FLAG_NEED_REPLY, m.hdr.flags);
	EXPECT_EQ(132L << 16 | 43, get_con_size(&t));
	ASSERT_EQ(0, chan_ack(ch, 0));
	/* The same size again: no change, nothing told (pviod ticks every 200 ms). */
	ASSERT_EQ(0, set_winsize(tty, 132, 43));
	EXPECT_EQ(-ETIMEDOUT, chan_recv(ch, &m, 600));
	/* Smaller: told again, the ack was taken. */
	ASSERT_EQ(0, set_winsize(tty, 80, 24));
	ASSERT_EQ(1, chan_recv(ch, &m, 2000));
	EXPECT_EQ(80L << 16 | 24, get_con_size(&t));
	ASSERT_EQ(0, chan_ack(ch, 0));
	close(tty);
	close(ch);
	raw_close(&t);
}

TEST_HARNESS_MAIN
