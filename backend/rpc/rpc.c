// SPDX-License-Identifier: GPL-2.0
/*
 * rpc.c - the control socket: JSON-RPC 2.0, a request per line.
 *
 * A client's bytes are read (never waited for) into its line buffer; each
 * complete line is parsed by json-c and answered at once, the answer
 * appended to the client's output buffer, which is written as far as the
 * socket takes it; the rest waits for the socket to become writable (the
 * loop then watches for that too).  So a client that sends half a line,
 * or never reads, holds nothing but its own buffers, which are bounded.
 *
 * The methods run on the control thread like everything that adds or
 * removes a device; device_stats has each queue's worker read that queue's
 * counters (pviod_device_counters()), as SIGUSR1 does.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <json-c/json.h>

#include "core/log.h"
#include "daemon/pviod.h"
#include "net/net.h"
#include "rpc/rpc.h"
#include "vhost-user/socket.h"
#include "vhost-user/vu.h"

/* JSON-RPC 2.0's error codes, and pviod's own (-32000..-32099). */
#define RPC_PARSE_ERROR -32700
#define RPC_INVALID_REQUEST -32600
#define RPC_METHOD_NOT_FOUND -32601
#define RPC_INVALID_PARAMS -32602
#define RPC_INTERNAL_ERROR -32603
#define RPC_DEVICE_ERROR -32000 /* the device could not be set up or flushed */
#define RPC_NO_DEVICE -32001 /* no device has that id */

struct pviod_rpc_client {
	struct pviod_rpc *rpc;
	int fd;
	struct pviod_io io;
	bool want_out; /* the loop watches for writability */
	bool skipping; /* discarding the rest of an over-long line */
	char in[PVIOD_RPC_LINE_MAX];
	size_t in_len;
	char *out;
	size_t out_len, out_cap;
	struct pviod_rpc_client *next;
};

/* A method's outcome: a result, or an error code and message. */
struct rpc_reply {
	json_object *result;
	int code;
	char message[1024];
};

static void rpc_error(struct rpc_reply *r, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void rpc_error(struct rpc_reply *r, int code, const char *fmt, ...)
{
	va_list ap;

	r->code = code;
	va_start(ap, fmt);
	vsnprintf(r->message, sizeof(r->message), fmt, ap);
	va_end(ap);
}

/* --- parameters --------------------------------------------------------------------- */

/* params.@key as a string; absent is NULL when @optional, else an error. */
static int rpc_param_string(json_object *params, const char *key, bool optional, const char **out,
			    struct rpc_reply *r)
{
	json_object *v = NULL;

	*out = NULL;
	if (!params || !json_object_object_get_ex(params, key, &v) ||
	    json_object_is_type(v, json_type_null)) {
		if (optional)
			return 0;
		rpc_error(r, RPC_INVALID_PARAMS, "missing parameter \"%s\" (a string)", key);
		return -EINVAL;
	}
	if (!json_object_is_type(v, json_type_string)) {
		rpc_error(r, RPC_INVALID_PARAMS, "parameter \"%s\" must be a string", key);
		return -EINVAL;
	}
	*out = json_object_get_string(v);
	return 0;
}

static struct pviod_device *rpc_device(struct pviod *p, const char *id, struct rpc_reply *r)
{
	struct pviod_device *dev = pviod_device_find(p, id);

	if (!dev)
		rpc_error(r, RPC_NO_DEVICE, "no device with id '%s'", id);
	return dev;
}

/* The device params.id names; NULL (and the error in @r) when none. */
static struct pviod_device *rpc_device_param(struct pviod *p, json_object *params,
					     struct rpc_reply *r)
{
	const char *id;

	if (rpc_param_string(params, "id", false, &id, r))
		return NULL;
	return rpc_device(p, id, r);
}

/* --- methods ------------------------------------------------------------------------ */

static void rpc_version(struct pviod *p, json_object *params, struct rpc_reply *r)
{
	r->result = json_object_new_object();
	json_object_object_add(r->result, "version", json_object_new_string(PVIOD_VERSION));
}

static void rpc_device_add(struct pviod *p, json_object *params, struct rpc_reply *r)
{
	struct pviod_log_capture cap;
	struct pviod_device *dev;
	const char *spec;
	int ret;

	if (rpc_param_string(params, "spec", false, &spec, r))
		return;
	if (strlen(spec) >= 4096) {
		rpc_error(r, RPC_INVALID_PARAMS, "spec longer than 4095 bytes");
		return;
	}
	pviod_log_capture(&cap);
	ret = pviod_device_add(p, spec, &dev);
	pviod_log_capture(NULL);
	if (ret) {
		/* The message the command line would have printed for --device SPEC. */
		rpc_error(r, ret == -EINVAL ? RPC_INVALID_PARAMS : RPC_DEVICE_ERROR, "%s",
			  cap.len ? cap.msg : strerror(-ret));
		return;
	}
	pr_info("%s: added over the control socket (%s)", dev->name, spec);
	r->result = json_object_new_object();
	json_object_object_add(r->result, "id", json_object_new_string(dev->name));
}

static void rpc_device_del(struct pviod *p, json_object *params, struct rpc_reply *r)
{
	struct pviod_log_capture cap;
	struct pviod_device *dev = rpc_device_param(p, params, r);
	char name[PVIOD_ID_MAX];
	int ret;

	if (!dev)
		return;
	snprintf(name, sizeof(name), "%s", dev->name);
	pviod_log_capture(&cap);
	ret = pviod_device_del(p, dev);
	pviod_log_capture(NULL);
	if (ret) {
		rpc_error(r, RPC_DEVICE_ERROR, "%s removed, but %s", name,
			  cap.len ? cap.msg : strerror(-ret));
		return;
	}
	pr_info("%s: removed over the control socket", name);
	r->result = json_object_new_object();
	json_object_object_add(r->result, "id", json_object_new_string(name));
}

static json_object *rpc_u64(uint64_t v)
{
	return json_object_new_uint64(v);
}

static json_object *rpc_device_json(struct pviod_device *dev)
{
	json_object *o = json_object_new_object();
	struct vu_dev *vu = dev->vu;
	unsigned int i, running = 0;
	bool connected = vu && vu->conn_fd >= 0;
	char hex[24];

	for (i = 0; i < dev->nqueues; i++)
		running += dev->queues[i].running;
	json_object_object_add(o, "id", json_object_new_string(dev->name));
	json_object_object_add(o, "type", json_object_new_string(dev->ops->name));
	json_object_object_add(o, "spec", json_object_new_string(dev->spec ? dev->spec : ""));
	json_object_object_add(o, "socket", json_object_new_string(dev->socket_path));
	json_object_object_add(o, "connected", json_object_new_boolean(connected));
	json_object_object_add(o, "features",
			       rpc_u64(connected && vu->s.features_set ? vu->s.features : 0));
	snprintf(hex, sizeof(hex), "0x%016llx",
		 (unsigned long long)(connected && vu->s.features_set ? vu->s.features : 0));
	json_object_object_add(o, "features_hex", json_object_new_string(hex));
	json_object_object_add(o, "queues", json_object_new_int((int)dev->nqueues));
	json_object_object_add(o, "queues_running", json_object_new_int((int)running));
	return o;
}

static void rpc_device_list(struct pviod *p, json_object *params, struct rpc_reply *r)
{
	json_object *list = json_object_new_array();
	struct pviod_device *dev;

	for (dev = p->devices; dev; dev = dev->next)
		json_object_array_add(list, rpc_device_json(dev));
	r->result = json_object_new_object();
	json_object_object_add(r->result, "devices", list);
}

static json_object *rpc_queue_json(unsigned int index, const struct pviod_queue_counters *c)
{
	json_object *q = json_object_new_object(), *drops = json_object_new_object();
	unsigned int i;

	json_object_object_add(q, "index", json_object_new_int((int)index));
	json_object_object_add(q, "requests", rpc_u64(c->requests));
	json_object_object_add(q, "bytes", rpc_u64(c->bytes));
	json_object_object_add(q, "errors", rpc_u64(c->errors));
	json_object_object_add(q, "kicks", rpc_u64(c->kicks));
	json_object_object_add(q, "calls", rpc_u64(c->calls));
	json_object_object_add(q, "polls", rpc_u64(c->polls));
	json_object_object_add(q, "poll_misses", rpc_u64(c->poll_misses));
	json_object_object_add(q, "poll_preempts", rpc_u64(c->poll_preempts));
	json_object_object_add(q, "runs", rpc_u64(c->runs));
	json_object_object_add(q, "in_flight", rpc_u64(c->in_flight));
	for (i = 0; i < c->ndrops; i++)
		json_object_object_add(drops, c->drops[i].reason, rpc_u64(c->drops[i].count));
	json_object_object_add(q, "drops", drops);
	return q;
}

static json_object *rpc_device_stats_json(struct pviod_device *dev)
{
	json_object *o = json_object_new_object(), *queues = json_object_new_array();
	struct pviod_queue_counters c;
	unsigned int i;

	json_object_object_add(o, "id", json_object_new_string(dev->name));
	json_object_object_add(o, "type", json_object_new_string(dev->ops->name));
	for (i = 0; i < dev->nqueues; i++) {
		if (pviod_device_counters(dev, i, &c))
			continue; /* its worker died: no counters to give */
		json_object_array_add(queues, rpc_queue_json(i, &c));
	}
	json_object_object_add(o, "queues", queues);
	return o;
}

static void rpc_device_stats(struct pviod *p, json_object *params, struct rpc_reply *r)
{
	json_object *list;
	struct pviod_device *dev;
	const char *id;

	if (rpc_param_string(params, "id", true, &id, r))
		return;
	if (id && !rpc_device(p, id, r))
		return;
	list = json_object_new_array();
	for (dev = p->devices; dev; dev = dev->next)
		if (!id || !strcmp(dev->name, id))
			json_object_array_add(list, rpc_device_stats_json(dev));
	r->result = json_object_new_object();
	json_object_object_add(r->result, "devices", list);
}

static void rpc_log_level_set(struct pviod *p, json_object *params, struct rpc_reply *r)
{
	const char *name;
	int level;

	if (rpc_param_string(params, "level", false, &name, r))
		return;
	level = pviod_log_level_parse(name);
	if (level < 0) {
		rpc_error(r, RPC_INVALID_PARAMS,
			  "level '%s': expected error, warning, info or debug", name);
		return;
	}
	pviod_log_level_set(level);
	pr_info("log level %s (control socket)", pviod_log_level_name(level));
	r->result = json_object_new_object();
	json_object_object_add(r->result, "level",
			       json_object_new_string(pviod_log_level_name(level)));
}

/*
 * Look at the device's backing again (a blk image grown or shrunk) and tell
 * its driver when the config space changed.
 */
static void rpc_device_refresh(struct pviod *p, json_object *params, struct rpc_reply *r)
{
	struct pviod_device *dev = rpc_device_param(p, params, r);
	int ret;

	if (!dev)
		return;
	if (!dev->ops->refresh) {
		rpc_error(r, RPC_INVALID_PARAMS, "%s: a %s device has nothing to refresh",
			  dev->name, dev->ops->name);
		return;
	}
	ret = pviod_device_refresh(dev);
	if (ret < 0) {
		rpc_error(r, RPC_DEVICE_ERROR, "%s: %s", dev->name,
			  ret == -EOPNOTSUPP ? "its engine cannot tell a resize" : strerror(-ret));
		return;
	}
	r->result = json_object_new_object();
	json_object_object_add(r->result, "id", json_object_new_string(dev->name));
	json_object_object_add(r->result, "changed", json_object_new_boolean(ret > 0));
}

/* A net device's link, up or down, as its driver sees it. */
static void rpc_net_link_set(struct pviod *p, json_object *params, struct rpc_reply *r)
{
	struct pviod_device *dev;
	const char *state;

	if (rpc_param_string(params, "state", false, &state, r))
		return;
	if (strcmp(state, "up") && strcmp(state, "down")) {
		rpc_error(r, RPC_INVALID_PARAMS, "state '%s': expected up or down", state);
		return;
	}
	dev = rpc_device_param(p, params, r);
	if (!dev)
		return;
	if (pviod_net_link_set(dev, !strcmp(state, "up"))) {
		rpc_error(r, RPC_INVALID_PARAMS, "%s is a %s device, not a net device", dev->name,
			  dev->ops->name);
		return;
	}
	r->result = json_object_new_object();
	json_object_object_add(r->result, "id", json_object_new_string(dev->name));
	json_object_object_add(r->result, "state",
			       json_object_new_string(pviod_net_link_up(dev) ? "up" : "down"));
}

static const struct {
	const char *name;
	void (*fn)(struct pviod *p, json_object *params, struct rpc_reply *r);
} rpc_methods[] = {
	{ "device_add", rpc_device_add },	  { "device_del", rpc_device_del },
	{ "device_list", rpc_device_list },	  { "device_stats", rpc_device_stats },
	{ "device_refresh", rpc_device_refresh }, { "net_link_set", rpc_net_link_set },
	{ "log_level_set", rpc_log_level_set },	  { "version", rpc_version },
};

/* --- requests and responses --------------------------------------------------------- */

static void rpc_client_close(struct pviod_rpc_client *c);

/* Queue one response line; false when the client holds too many unread ones. */
static bool rpc_client_queue(struct pviod_rpc_client *c, json_object *resp)
{
	const int flags = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;
	size_t len;
	const char *s = json_object_to_json_string_length(resp, flags, &len);

	if (c->out_len + len + 1 > PVIOD_RPC_OUT_MAX)
		return false;
	if (c->out_len + len + 1 > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		char *n;

		while (cap < c->out_len + len + 1)
			cap *= 2;
		n = realloc(c->out, cap);
		if (!n)
			return false;
		c->out = n;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, s, len);
	c->out[c->out_len + len] = '\n';
	c->out_len += len + 1;
	return true;
}

static json_object *rpc_response(json_object *id, const struct rpc_reply *r)
{
	json_object *resp = json_object_new_object();

	json_object_object_add(resp, "jsonrpc", json_object_new_string("2.0"));
	if (r->result) {
		json_object_object_add(resp, "result", json_object_get(r->result));
	} else {
		json_object *err = json_object_new_object();

		json_object_object_add(err, "code", json_object_new_int(r->code));
		json_object_object_add(err, "message", json_object_new_string(r->message));
		json_object_object_add(resp, "error", err);
	}
	json_object_object_add(resp, "id", id ? json_object_get(id) : NULL);
	return resp;
}

/* Answer one line; false when the client must go. */
static bool rpc_client_line(struct pviod_rpc_client *c, char *line, size_t len)
{
	struct rpc_reply r = { 0 };
	json_object *req = NULL, *id = NULL, *v, *params = NULL, *resp;
	struct json_tokener *tok;
	const char *method;
	bool notification = false, ok;
	unsigned int i;

	while (len && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
		len--;
	if (!len)
		return true; /* an empty line asks nothing */
	tok = json_tokener_new();
	if (!tok)
		return false;
	/* The line is whole: its end ends a number too ("42"). */
	line[len] = '\0';
	req = memchr(line, '\0', len) ? NULL : json_tokener_parse_ex(tok, line, (int)len + 1);
	if (!req || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) < len) {
		rpc_error(&r, RPC_PARSE_ERROR, "parse error: %s",
			  req ? "text after the request" :
				json_tokener_error_desc(json_tokener_get_error(tok) ==
									json_tokener_continue ?
								json_tokener_error_parse_eof :
								json_tokener_get_error(tok)));
		json_object_put(req);
		req = NULL;
		goto answer;
	}
	if (json_object_is_type(req, json_type_array)) {
		rpc_error(&r, RPC_INVALID_REQUEST, "batch requests are not supported");
		goto answer;
	}
	if (!json_object_is_type(req, json_type_object)) {
		rpc_error(&r, RPC_INVALID_REQUEST, "a request is a JSON object");
		goto answer;
	}
	if (json_object_object_get_ex(req, "id", &v)) {
		if (v && !json_object_is_type(v, json_type_string) &&
		    !json_object_is_type(v, json_type_int) &&
		    !json_object_is_type(v, json_type_double)) {
			rpc_error(&r, RPC_INVALID_REQUEST,
				  "\"id\" must be a string, a number or null");
			goto answer;
		}
		id = v;
	} else {
		notification = true;
	}
	if (!json_object_object_get_ex(req, "jsonrpc", &v) ||
	    !json_object_is_type(v, json_type_string) || strcmp(json_object_get_string(v), "2.0")) {
		rpc_error(&r, RPC_INVALID_REQUEST, "\"jsonrpc\" must be \"2.0\"");
		goto answer;
	}
	if (!json_object_object_get_ex(req, "method", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		rpc_error(&r, RPC_INVALID_REQUEST, "\"method\" must be a string");
		goto answer;
	}
	method = json_object_get_string(v);
	if (json_object_object_get_ex(req, "params", &params) && params &&
	    !json_object_is_type(params, json_type_object)) {
		rpc_error(&r, RPC_INVALID_PARAMS, "\"params\" must be an object");
		goto answer;
	}
	for (i = 0; i < sizeof(rpc_methods) / sizeof(rpc_methods[0]); i++) {
		if (!strcmp(method, rpc_methods[i].name)) {
			rpc_methods[i].fn(c->rpc->p, params, &r);
			break;
		}
	}
	if (i == sizeof(rpc_methods) / sizeof(rpc_methods[0]))
		rpc_error(&r, RPC_METHOD_NOT_FOUND, "method '%s' not found", method);
	if (!r.result && !r.code)
		rpc_error(&r, RPC_INTERNAL_ERROR, "out of memory");

answer:
	ok = true;
	if (!notification || r.code == RPC_PARSE_ERROR || r.code == RPC_INVALID_REQUEST) {
		resp = rpc_response(id, &r);
		ok = rpc_client_queue(c, resp);
		json_object_put(resp);
	}
	json_object_put(r.result);
	json_object_put(req);
	json_tokener_free(tok);
	if (!ok)
		pr_warn("control socket: a client that does not read its replies: dropped");
	return ok;
}

/* Write what the socket takes; false when the client is gone. */
static bool rpc_client_flush(struct pviod_rpc_client *c)
{
	while (c->out_len) {
		ssize_t n = send(c->fd, c->out, c->out_len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return false;
		}
		memmove(c->out, c->out + n, c->out_len - (size_t)n);
		c->out_len -= (size_t)n;
	}
	if (c->want_out != !!c->out_len) {
		c->want_out = !!c->out_len;
		if (pviod_event_mod(c->rpc->p->env.loop, c->fd, &c->io, c->want_out))
			return false;
	}
	return true;
}

/* Answer every complete line in the buffer; false when the client must go. */
static bool rpc_client_lines(struct pviod_rpc_client *c)
{
	size_t start = 0;
	char *nl;

	while ((nl = memchr(c->in + start, '\n', c->in_len - start))) {
		size_t end = (size_t)(nl - c->in);

		if (c->skipping)
			c->skipping = false; /* the end of the over-long line: drop it */
		else if (!rpc_client_line(c, c->in + start, end - start))
			return false;
		start = end + 1;
	}
	memmove(c->in, c->in + start, c->in_len - start);
	c->in_len -= start;
	if (c->in_len == sizeof(c->in)) {
		/* A line that does not fit: answer it once, then skip to its end. */
		struct rpc_reply r = { 0 };
		json_object *resp;
		bool ok;

		if (!c->skipping) {
			rpc_error(&r, RPC_INVALID_REQUEST, "request longer than %d bytes",
				  PVIOD_RPC_LINE_MAX - 1);
			resp = rpc_response(NULL, &r);
			ok = rpc_client_queue(c, resp);
			json_object_put(resp);
			if (!ok)
				return false;
		}
		c->skipping = true;
		c->in_len = 0;
	}
	return true;
}

static void rpc_client_ready(struct pviod_io *io, int res)
{
	struct pviod_rpc_client *c =
		(struct pviod_rpc_client *)((char *)io - offsetof(struct pviod_rpc_client, io));
	ssize_t n;

	if (!rpc_client_flush(c))
		goto drop;
	/* One read per event: the loop comes back while there is more. */
	n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, MSG_DONTWAIT);
	if (n == 0)
		goto drop;
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		goto drop;
	}
	c->in_len += (size_t)n;
	if (!rpc_client_lines(c) || !rpc_client_flush(c))
		goto drop;
	return;

drop:
	rpc_client_close(c);
}

static void rpc_client_close(struct pviod_rpc_client *c)
{
	struct pviod_rpc *rpc = c->rpc;
	struct pviod_rpc_client **pp;

	for (pp = &rpc->clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	rpc->nclients--;
	pviod_event_del(rpc->p->env.loop, c->fd);
	close(c->fd);
	free(c->out);
	free(c);
}

static void rpc_listen_ready(struct pviod_io *io, int res)
{
	struct pviod_rpc *rpc =
		(struct pviod_rpc *)((char *)io - offsetof(struct pviod_rpc, listen_io));
	struct pviod_rpc_client *c;
	int fd;

	fd = accept4(rpc->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	if (rpc->nclients >= PVIOD_RPC_CLIENTS_MAX) {
		struct rpc_reply r = { 0 };
		json_object *resp;
		const char *busy;
		size_t len;

		rpc_error(&r, RPC_DEVICE_ERROR, "too many control clients (%d)",
			  PVIOD_RPC_CLIENTS_MAX);
		resp = rpc_response(NULL, &r);
		busy = json_object_to_json_string_length(resp, JSON_C_TO_STRING_PLAIN, &len);
		/* Best effort: it fits in an empty socket buffer, or the client goes untold. */
		if (send(fd, busy, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 ||
		    send(fd, "\n", 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			pr_debug("control socket: %s", strerror(errno));
		json_object_put(resp);
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->rpc = rpc;
	c->fd = fd;
	c->io.complete = rpc_client_ready;
	if (pviod_event_add(rpc->p->env.loop, fd, &c->io)) {
		close(fd);
		free(c);
		return;
	}
	c->next = rpc->clients;
	rpc->clients = c;
	rpc->nclients++;
}

/**
 * pviod_rpc_start - listen on the control socket
 * @rpc: zeroed
 * @p: the daemon
 * @path: the socket's path (a stale socket there is replaced; a live one
 *        or another file is an error)
 *
 * The socket is the owner's only (mode 0600): whoever can connect can add
 * a device on any file pviod can open.
 *
 * Return: 0 or -errno (reported).
 */
int pviod_rpc_start(struct pviod_rpc *rpc, struct pviod *p, const char *path)
{
	int ret;

	rpc->p = p;
	rpc->listen_fd = -1;
	rpc->lock_fd = -1;
	rpc->path = strdup(path);
	if (!rpc->path)
		return -ENOMEM;
	ret = vu_socket_listen(path, &rpc->listen_fd, &rpc->lock_fd);
	if (ret) {
		pr_err("control socket '%s': %s", path, strerror(-ret));
		goto err_free;
	}
	if (chmod(path, 0600) || fcntl(rpc->listen_fd, F_SETFL, O_NONBLOCK)) {
		ret = -errno;
		pr_err("control socket '%s': %s", path, strerror(-ret));
		goto err_close;
	}
	rpc->listen_io.complete = rpc_listen_ready;
	ret = pviod_event_add(p->env.loop, rpc->listen_fd, &rpc->listen_io);
	if (ret) {
		pr_err("control socket '%s': %s", path, strerror(-ret));
		goto err_close;
	}
	pr_info("control socket: listening on %s", path);
	return 0;

err_close:
	vu_socket_unlisten(path, rpc->listen_fd, rpc->lock_fd);
	rpc->listen_fd = -1;
err_free:
	free(rpc->path);
	rpc->path = NULL;
	return ret;
}

/**
 * pviod_rpc_stop - close every client and the control socket, remove it
 * @rpc: started, or zeroed (nothing to do)
 */
void pviod_rpc_stop(struct pviod_rpc *rpc)
{
	while (rpc->clients)
		rpc_client_close(rpc->clients);
	if (rpc->path && rpc->listen_fd >= 0) {
		pviod_event_del(rpc->p->env.loop, rpc->listen_fd);
		vu_socket_unlisten(rpc->path, rpc->listen_fd, rpc->lock_fd);
	}
	rpc->listen_fd = -1;
	free(rpc->path);
	rpc->path = NULL;
}
