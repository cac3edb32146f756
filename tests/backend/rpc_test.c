// SPDX-License-Identifier: GPL-2.0
/*
 * rpc_test - pviod's control socket (pviod --rpc PATH), driven for real:
 * one pviod process, a device under verified I/O from the userspace driver
 * the whole time, and JSON-RPC requests over the socket.
 *
 *   cycles_while_another_device_serves
 *       100 device_add / device_del cycles, a front-end connected in
 *       between (it writes and reads back a block; every tenth cycle it is
 *       still connected when the device goes, and must then fail, not
 *       hang); every removed device's socket is gone; pviod holds exactly
 *       the fds and threads it held after the first cycle; device_list and
 *       device_stats answer with numbers.
 *   malformed_requests_never_hurt_the_data_path
 *       bad JSON, an unknown method, parameters of the wrong type, a 1 MiB
 *       line, a client that never reads its answers, more clients than
 *       pviod serves: each gets its JSON-RPC error or is dropped, a good
 *       request on a fresh connection is still answered, and the I/O on
 *       the other device never fails nor stops.
 *
 * tap-run: timeout=240
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <json-c/json.h>

#include "kselftest_harness.h"
#include "pvtest.h"
#include "vuser.h"

#define CYCLES 100
#define IMG_BYTES (4u << 20)
#define BLOCK 4096u

/* --- JSON-RPC ---------------------------------------------------------------------------- */

static int rpc_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 30 };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

static int send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One response line (a byte at a time: the tests never pipeline). */
static json_object *read_response(int fd)
{
	static char line[1 << 20];
	size_t len = 0;

	while (len < sizeof(line) - 1) {
		ssize_t n = recv(fd, line + len, 1, 0);

		if (n <= 0)
			return NULL;
		if (line[len] == '\n')
			break;
		len++;
	}
	line[len] = '\0';
	return json_tokener_parse(line);
}

/* Send @line (with its newline), return the response object. */
static json_object *rpc_raw(int fd, const char *line)
{
	if (send_all(fd, line, strlen(line)) || send_all(fd, "\n", 1))
		return NULL;
	return read_response(fd);
}

/* The error code of a response, 0 when it is a result, 1 when it is neither. */
static int rpc_code(json_object *resp)
{
	json_object *e, *c;

	if (!resp)
		return 1;
	if (json_object_object_get_ex(resp, "result", NULL))
		return 0;
	if (json_object_object_get_ex(resp, "error", &e) &&
	    json_object_object_get_ex(e, "code", &c))
		return json_object_get_int(c);
	return 1;
}

static const char *rpc_message(json_object *resp)
{
	json_object *e, *m;

	if (resp && json_object_object_get_ex(resp, "error", &e) &&
	    json_object_object_get_ex(e, "message", &m))
		return json_object_get_string(m);
	return "";
}

/* method(params): the result (owned by the caller), or NULL; *code gets the error code. */
static json_object *rpc_call(int fd, const char *method, const char *params, int *code)
{
	char req[1024];
	json_object *resp, *result = NULL;

	snprintf(req, sizeof(req), "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"%s\"%s%s}", method,
		 params ? ",\"params\":" : "", params ? params : "");
	resp = rpc_raw(fd, req);
	*code = rpc_code(resp);
	if (!*code)
		json_object_object_get_ex(resp, "result", &result);
	json_object_get(result);
	json_object_put(resp);
	return result;
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	return o && json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "";
}

/* --- the fixture: pviod with one busy disk and its control socket ------------------------ */

FIXTURE(pviod)
{
	char dir[64];
	char rpc[128];
	struct pvt_pviod pv;
	struct pvt_blk_io io; /* the front-end on device "busy" */
};

FIXTURE_SETUP(pviod)
{
	char spec[512], img[128], log[128];
	const char *const args[] = { "--workers", "2", "--rpc", self->rpc, "--device", spec, NULL };
	int ret;

	signal(SIGPIPE, SIG_IGN);
	snprintf(self->dir, sizeof(self->dir), "/tmp/pvio-rpc.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(img, sizeof(img), "%s/busy.img", self->dir);
	ASSERT_EQ(0, pvt_image_create(img, IMG_BYTES));
	snprintf(img, sizeof(img), "%s/b.img", self->dir);
	ASSERT_EQ(0, pvt_image_create(img, IMG_BYTES));
	snprintf(self->rpc, sizeof(self->rpc), "%s/control.sock", self->dir);
	snprintf(self->io.sock, sizeof(self->io.sock), "%s/busy.sock", self->dir);
	snprintf(spec, sizeof(spec), "blk,id=busy,socket=%s,file=%s/busy.img,direct=off",
		 self->io.sock, self->dir);
	snprintf(log, sizeof(log), "%s/pviod.log", self->dir);
	ret = pvt_pviod_start(&self->pv, log, args, 10000);
	if (ret == -ENOENT)
		SKIP(return, "pviod not built");
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, pvt_wait_socket(self->rpc, self->pv.pid, 10000));
	self->io.bytes = IMG_BYTES;
	ASSERT_EQ(0, pvt_blk_io_start(&self->io));
}

FIXTURE_TEARDOWN(pviod)
{
	char log[128];
	int status;

	if (!self->pv.pid)
		return;
	EXPECT_EQ(0, pvt_blk_io_stop(&self->io));
	status = pvt_pviod_stop(&self->pv, 10000);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_NE(0, access(self->rpc, F_OK)); /* the control socket went with pviod */
	snprintf(log, sizeof(log), "%s/pviod.log", self->dir);
	if (self->io.err || !WIFEXITED(status) || WEXITSTATUS(status))
		pvt_dump_log(log);
	if (pvt_rmtree(self->dir))
		TH_LOG("could not remove %s", self->dir);
}

/* Wait until the busy disk did @n more verified rounds (it is not starved). */
static bool io_progresses(struct pvt_blk_io *io, unsigned long n)
{
	unsigned long start = __atomic_load_n(&io->rounds, __ATOMIC_RELAXED);
	long t0 = pvt_ms();

	while (pvt_ms() - t0 < 20000) {
		if (__atomic_load_n(&io->rounds, __ATOMIC_RELAXED) >= start + n)
			return true;
		if (io->err)
			return false;
		usleep(1000);
	}
	return false;
}

/* A front-end of a device added for one cycle. */
struct frontend {
	struct vuser_blk blk;
	uint8_t *buf;
};

/* Connect, write a block and read it back. */
static int frontend_open(struct frontend *fe, const char *sock, unsigned int c)
{
	struct vuser_blk_opts o = { .socket_path = sock, .buf_bytes = BLOCK, .timeout_ms = 10000 };
	int ret = vuser_blk_open(&fe->blk, &o);

	if (ret)
		return ret;
	fe->buf = vuser_blk_alloc(&fe->blk, BLOCK);
	memset(fe->buf, (int)c, BLOCK);
	ret = vuser_blk_sync(&fe->blk, 0, PVIO_BLK_T_OUT, 0, fe->buf, BLOCK);
	memset(fe->buf, 0xee, BLOCK);
	if (!ret)
		ret = vuser_blk_sync(&fe->blk, 0, PVIO_BLK_T_IN, 0, fe->buf, BLOCK);
	if (!ret && fe->buf[0] != (uint8_t)c)
		ret = -EILSEQ;
	if (ret)
		vuser_blk_close(&fe->blk);
	return ret;
}

/* device_list shows @id connected, with features negotiated: 2. */
static unsigned int connected_in_list(int fd, const char *id)
{
	json_object *res, *devs, *d, *v;
	unsigned int listed = 0;
	size_t i;
	int code;

	res = rpc_call(fd, "device_list", NULL, &code);
	if (res && json_object_object_get_ex(res, "devices", &devs)) {
		for (i = 0; i < json_object_array_length(devs); i++) {
			d = json_object_array_get_idx(devs, i);
			if (strcmp(jstr(d, "id"), id))
				continue;
			json_object_object_get_ex(d, "connected", &v);
			listed += json_object_get_boolean(v);
			json_object_object_get_ex(d, "features", &v);
			listed += json_object_is_type(v, json_type_int) &&
				  json_object_get_uint64(v) != 0;
		}
	}
	json_object_put(res);
	return listed;
}

/* The counters of a queue are JSON numbers; the busy disk's moved, without errors. */
static int check_counters(json_object *q)
{
	static const char *const keys[] = { "requests", "bytes",    "errors",	   "kicks",
					    "calls",	"polls",    "poll_misses", "poll_preempts",
					    "runs",	"in_flight" };
	json_object *v;
	unsigned int k;

	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		if (!json_object_object_get_ex(q, keys[k], &v) ||
		    !json_object_is_type(v, json_type_int)) {
			fprintf(stderr, "# counter %s: missing or not a number\n", keys[k]);
			return -1;
		}
	}
	json_object_object_get_ex(q, "requests", &v);
	if (json_object_get_uint64(v) < 10)
		return -1;
	json_object_object_get_ex(q, "bytes", &v);
	if (json_object_get_uint64(v) < 10 * BLOCK)
		return -1;
	json_object_object_get_ex(q, "errors", &v);
	return json_object_get_uint64(v) ? -1 : 0;
}

TEST_F(pviod, cycles_while_another_device_serves)
{
	unsigned int fd_drift = 0, task_drift = 0, stale = 0;
	int fds0 = 0, tasks0 = 0;
	unsigned int add_fail = 0, del_fail = 0, fe_fail = 0, doomed_bad = 0, listed = 0;
	char params[512], sock[128], id[32];
	json_object *res, *devs, *d, *qs, *q;
	struct frontend fe;
	unsigned int c;
	int fd, code;

	/* The busy disk's front-end has set up its session: its fds are in the count. */
	ASSERT_TRUE(io_progresses(&self->io, 1));
	fd = rpc_connect(self->rpc);
	ASSERT_LE(0, fd);
	for (c = 0; c <= CYCLES; c++) {
		bool doomed = c % 10 == 5;
		int ret;

		snprintf(sock, sizeof(sock), "%s/cyc%u.sock", self->dir, c);
		snprintf(id, sizeof(id), "cyc%u", c);
		snprintf(params, sizeof(params),
			 "{\"spec\":\"blk,id=%s,socket=%s,file=%s/b.img,direct=off\"}", id, sock,
			 self->dir);
		res = rpc_call(fd, "device_add", params, &code);
		if (code || strcmp(jstr(res, "id"), id)) {
			add_fail++;
			json_object_put(res);
			continue;
		}
		json_object_put(res);

		/* A front-end in between: one verified block. */
		ret = frontend_open(&fe, sock, c);
		if (!ret && c == 1)
			listed = connected_in_list(fd, id);
		if (!ret && !doomed)
			vuser_blk_close(&fe.blk);
		fe_fail += ret != 0;

		res = rpc_call(fd, "device_del", NULL, &code);
		json_object_put(res);
		EXPECT_EQ(-32602, code); /* no params: the error, and nothing removed */
		snprintf(params, sizeof(params), "{\"id\":\"%s\"}", id);
		res = rpc_call(fd, "device_del", params, &code);
		json_object_put(res);
		del_fail += code != 0;
		stale += access(sock, F_OK) == 0;
		if (doomed && !ret) {
			/* The device is gone: a request fails instead of hanging. */
			doomed_bad += !vuser_blk_sync(&fe.blk, 0, PVIO_BLK_T_IN, 0, fe.buf, BLOCK);
			vuser_blk_close(&fe.blk);
		}
		if (c == 0) {
			fds0 = pvt_proc_fds(self->pv.pid);
			tasks0 = pvt_proc_threads(self->pv.pid);
		} else {
			if (pvt_proc_fds(self->pv.pid) != fds0 && !fd_drift++) {
				char cmd[64];

				TH_LOG("cycle %u: %d fds, %d after the first", c,
				       pvt_proc_fds(self->pv.pid), fds0);
				snprintf(cmd, sizeof(cmd), "ls -l /proc/%d/fd >&2",
					 (int)self->pv.pid);
				if (system(cmd))
					TH_LOG("ls failed");
			}
			task_drift += pvt_proc_threads(self->pv.pid) != tasks0;
		}
	}
	EXPECT_EQ(0, add_fail);
	EXPECT_EQ(0, del_fail);
	EXPECT_EQ(0, fe_fail);
	EXPECT_EQ(0, doomed_bad);
	EXPECT_EQ(0, stale);
	EXPECT_EQ(0, fd_drift);
	EXPECT_EQ(0, task_drift);
	EXPECT_EQ(2, listed);

	/* The busy disk's counters: numbers, and they moved. */
	ASSERT_TRUE(io_progresses(&self->io, 10));
	res = rpc_call(fd, "device_stats", "{\"id\":\"busy\"}", &code);
	ASSERT_EQ(0, code);
	ASSERT_TRUE(json_object_object_get_ex(res, "devices", &devs));
	ASSERT_EQ(1, json_object_array_length(devs));
	d = json_object_array_get_idx(devs, 0);
	ASSERT_TRUE(json_object_object_get_ex(d, "queues", &qs));
	ASSERT_EQ(1, json_object_array_length(qs));
	q = json_object_array_get_idx(qs, 0);
	EXPECT_EQ(0, check_counters(q));
	json_object_put(res);
	res = rpc_call(fd, "device_stats", "{\"id\":\"cyc3\"}", &code);
	json_object_put(res);
	EXPECT_EQ(-32001, code);
	close(fd);
	EXPECT_EQ(0, self->io.err);
	TH_LOG("%u add/del cycles over the control socket; the busy disk did %lu verified rounds",
	       CYCLES + 1, __atomic_load_n(&self->io.rounds, __ATOMIC_RELAXED));
}

/* Expect @line to be answered with error @code (and an id of null when @null_id). */
static int expect_error(int fd, const char *line, int code)
{
	json_object *resp = rpc_raw(fd, line);
	int got = rpc_code(resp);

	if (got != code)
		fprintf(stderr, "# %.60s...: code %d (expected %d) %s\n", line, got, code,
			rpc_message(resp));
	json_object_put(resp);
	return got == code ? 0 : -1;
}

static const char version_req[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"version\"}\n";

/* Send requests and never read: how many went before pviod dropped us. */
static size_t never_reader(const char *path, bool *dropped)
{
	const size_t len = sizeof(version_req) - 1;
	char *burst = malloc(1000 * len);
	int fd = rpc_connect(path), i;
	size_t sent = 0;

	*dropped = false;
	if (!burst || fd < 0)
		goto out;
	for (i = 0; i < 1000; i++)
		memcpy(burst + (size_t)i * len, version_req, len);
	for (i = 0; i < 400 && !*dropped; i++) {
		if (send_all(fd, burst, 1000 * len))
			*dropped = true;
		else
			sent += 1000;
	}
out:
	if (fd >= 0)
		close(fd);
	free(burst);
	return sent;
}

#define REQ(m, p) "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"" m "\",\"params\":" p "}"

/* Requests that are not, and the error code each must get. */
static const struct {
	const char *line;
	int code;
} bad[] = {
	{ "{\"jsonrpc\":\"2.0\",\"id\":1,", -32700 },
	{ "not json at all", -32700 },
	{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"version\"} x", -32700 },
	{ "[]", -32600 },
	{ "42", -32600 },
	{ "{\"id\":1,\"method\":\"version\"}", -32600 },
	{ "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"version\"}", -32600 },
	{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":7}", -32600 },
	{ "{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"version\"}", -32600 },
	{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"format_c\"}", -32601 },
	{ REQ("device_add", "[1]"), -32602 },
	{ REQ("device_add", "{\"spec\":5}"), -32602 },
	{ REQ("device_add", "{}"), -32602 },
	{ REQ("device_del", "{\"id\":null}"), -32602 },
	{ REQ("device_del", "{\"id\":\"nosuch\"}"), -32001 },
	{ REQ("device_stats", "{\"id\":true}"), -32602 },
	{ REQ("log_level_set", "{\"level\":\"loud\"}"), -32602 },
	{ REQ("log_level_set", "{\"level\":3}"), -32602 },
};

TEST_F(pviod, malformed_requests_never_hurt_the_data_path)
{
	const char *v = version_req;
	int fd, fds[PVT_STOP_MS / 100], code, i, nfds;
	unsigned long rounds0;
	json_object *res;
	char *big, more[300];
	bool dropped = false;
	size_t sent = 0;

	ASSERT_TRUE(io_progresses(&self->io, 1));
	rounds0 = __atomic_load_n(&self->io.rounds, __ATOMIC_RELAXED);
	fd = rpc_connect(self->rpc);
	ASSERT_LE(0, fd);
	for (i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++)
		EXPECT_EQ(0, expect_error(fd, bad[i].line, bad[i].code));
	res = rpc_call(fd, "log_level_set", "{\"level\":\"warning\"}", &code);
	EXPECT_EQ(0, code);
	EXPECT_STREQ("warning", jstr(res, "level"));
	json_object_put(res);
	/* A bad spec answers with the command line's message. */
	snprintf(more, sizeof(more), "{\"spec\":\"blk,socket=%s/x.sock,file=%s/b.img,queues=0\"}",
		 self->dir, self->dir);
	res = rpc_call(fd, "device_add", more, &code);
	EXPECT_EQ(-32602, code);
	json_object_put(res);
	{
		char req[512];
		json_object *resp;

		snprintf(req, sizeof(req),
			 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"device_add\",\"params\":%s}",
			 more);
		resp = rpc_raw(fd, req);
		EXPECT_STREQ("--device blk: queues=0: expected 1..64", rpc_message(resp));
		json_object_put(resp);
	}
	/* The busy disk's id is taken. */
	snprintf(more, sizeof(more), "{\"spec\":\"blk,id=busy,socket=%s/y.sock,file=%s/b.img\"}",
		 self->dir, self->dir);
	res = rpc_call(fd, "device_add", more, &code);
	EXPECT_EQ(-32602, code);
	json_object_put(res);

	/* A 1 MiB line: one error, the line skipped, the connection still served. */
	big = malloc(1 << 20);
	ASSERT_NE(NULL, big);
	memset(big, 'x', 1 << 20);
	big[0] = '"';
	ASSERT_EQ(0, send_all(fd, big, 1 << 20));
	ASSERT_EQ(0, send_all(fd, "\"\n", 2));
	res = read_response(fd);
	EXPECT_EQ(-32600, rpc_code(res));
	EXPECT_NE(NULL, strstr(rpc_message(res), "longer than"));
	json_object_put(res);
	res = rpc_call(fd, "version", NULL, &code);
	EXPECT_EQ(0, code);
	json_object_put(res);
	/* A notification gets no answer: the next answer is the next request's. */
	res = rpc_raw(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"version\"}\n"
			  "{\"jsonrpc\":\"2.0\",\"id\":\"n\",\"method\":\"version\"}");
	EXPECT_STREQ("n", jstr(res, "id"));
	json_object_put(res);
	free(big);
	close(fd);

	/* A client that never reads: dropped once its answers pile up, never waited for. */
	sent = never_reader(self->rpc, &dropped);
	EXPECT_TRUE(dropped) TH_LOG("%zu requests sent, not dropped", sent);

	/* More clients than pviod serves: the extra ones are told so and closed. */
	nfds = 0;
	for (i = 0; i < (int)(sizeof(fds) / sizeof(fds[0])); i++) {
		fds[i] = rpc_connect(self->rpc);
		if (fds[i] >= 0)
			nfds++;
	}
	EXPECT_EQ(sizeof(fds) / sizeof(fds[0]), nfds);
	usleep(300000); /* every connection accepted, the extra ones answered */
	{
		unsigned int refused = 0, served = 0;

		for (i = 0; i < nfds; i++) {
			struct pollfd pfd = { .fd = fds[i], .events = POLLIN };

			if (poll(&pfd, 1, 0) == 1) {
				res = read_response(fds[i]);
				refused += !!strstr(rpc_message(res), "too many");
			} else {
				res = rpc_raw(fds[i], v);
				served += rpc_code(res) == 0;
			}
			json_object_put(res);
		}
		EXPECT_EQ(16, served);
		EXPECT_EQ(nfds - 16, refused);
	}
	for (i = 0; i < nfds; i++)
		close(fds[i]);

	/* Then a client is served as before, and the disk never stopped. */
	fd = rpc_connect(self->rpc);
	ASSERT_LE(0, fd);
	res = rpc_call(fd, "version", NULL, &code);
	EXPECT_EQ(0, code);
	EXPECT_STREQ("0.1.0", jstr(res, "version"));
	json_object_put(res);
	close(fd);
	EXPECT_TRUE(io_progresses(&self->io, 10));
	EXPECT_LT(rounds0, __atomic_load_n(&self->io.rounds, __ATOMIC_RELAXED));
	EXPECT_EQ(0, self->io.err);
}

TEST_HARNESS_MAIN
