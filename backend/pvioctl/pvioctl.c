// SPDX-License-Identifier: GPL-2.0
/*
 * pvioctl - pviod's control client: one JSON-RPC 2.0 request over pviod's
 * control socket (pviod --rpc PATH), its answer printed for a person, as
 * JSON, or in the Prometheus text exposition format (for node_exporter's
 * textfile collector).  See Documentation/pvioctl.8.
 *
 *   pvioctl [-s PATH] add SPEC | del ID | list | stats [ID] [--json] [--prometheus]
 *
 * Exit status: 0; 1 when pviod answered with an error or could not be
 * reached (the message says which); 2 for a bad argument.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <json-c/json.h>

#define PVIOCTL_SOCKET_DEFAULT "/run/pviod/control.sock"
#define PVIOCTL_EXIT_FAIL 1
#define PVIOCTL_EXIT_USAGE 2
/* device_del waits for in-flight requests and a flush: give it time. */
#define PVIOCTL_TIMEOUT_S 120
#define PVIOCTL_REPLY_MAX (16 * 1024 * 1024)

enum pvioctl_format { FMT_TEXT, FMT_JSON, FMT_PROMETHEUS };

static void pvioctl_usage(FILE *f)
{
	fprintf(f, "Usage: pvioctl [-s PATH] COMMAND [ARG] [--json | --prometheus]\n"
		   "\n"
		   "Manage a running pviod through its control socket (pviod --rpc PATH).\n"
		   "\n"
		   "Commands:\n"
		   "  add SPEC       add a device; SPEC as pviod --device takes it\n"
		   "                 (blk,id=NAME,socket=PATH,file=IMAGE,...); prints its id\n"
		   "  del ID         remove a device: its in-flight requests complete, its\n"
		   "                 front-end is disconnected, its socket removed\n"
		   "  list           every device: id, type, connected, queues, features, socket\n"
		   "  stats [ID]     per-queue counters of every device (or of ID)\n"
		   "  refresh ID     look at a blk device's image again (grown, resized) and\n"
		   "                 tell the guest its new size\n"
		   "  link ID up|down  a net device's link state, as the guest sees it\n"
		   "  version        pviod's version\n"
		   "\n"
		   "Options:\n"
		   "  -s, --socket PATH  the control socket (default: $PVIOCTL_SOCKET, else\n"
		   "                     " PVIOCTL_SOCKET_DEFAULT ")\n"
		   "  -j, --json         print pviod's answer as JSON\n"
		   "  -p, --prometheus   stats, list: the Prometheus text exposition format\n"
		   "  -h, --help         this text\n"
		   "\n"
		   "Exit status: 0; 1 when pviod refused or could not be reached; 2 for a bad\n"
		   "argument.  See pvioctl(8).\n");
}

/* --- the request --------------------------------------------------------------------- */

static int pvioctl_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = PVIOCTL_TIMEOUT_S };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "pvioctl: %s: path too long for a Unix socket\n", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		fprintf(stderr, "pvioctl: cannot connect to pviod's control socket %s: %s\n", path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Send one request, read one line back: its "result", or NULL (reported). */
static json_object *pvioctl_call(int fd, const char *method, json_object *params)
{
	static int next_id = 1;
	json_object *req = json_object_new_object(), *resp, *v, *result = NULL;
	const char *text;
	size_t len, got = 0, cap = 4096;
	char *buf = NULL;
	int id = next_id++;

	json_object_object_add(req, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(req, "method", json_object_new_string(method));
	if (params)
		json_object_object_add(req, "params", params);
	json_object_object_add(req, "id", json_object_new_int(id));
	text = json_object_to_json_string_length(req, JSON_C_TO_STRING_PLAIN, &len);
	buf = malloc(len + 1);
	if (!buf)
		goto out;
	memcpy(buf, text, len);
	buf[len] = '\n';
	for (size_t off = 0; off < len + 1;) {
		ssize_t n = send(fd, buf + off, len + 1 - off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "pvioctl: sending to pviod: %s\n", strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
	/* The answer: one line. */
	free(buf);
	buf = malloc(cap);
	if (!buf)
		goto out;
	for (;;) {
		ssize_t n;

		if (got + 1 >= cap) {
			char *b = cap < PVIOCTL_REPLY_MAX ? realloc(buf, cap * 2) : NULL;

			if (!b) {
				fprintf(stderr, "pvioctl: pviod's answer is too long\n");
				goto out;
			}
			buf = b;
			cap *= 2;
		}
		n = recv(fd, buf + got, cap - 1 - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "pvioctl: no answer from pviod: %s\n",
				n ? (errno == EAGAIN ? "timed out" : strerror(errno)) :
				    "it closed the connection");
			goto out;
		}
		got += (size_t)n;
		buf[got] = '\0';
		if (memchr(buf, '\n', got)) {
			*(char *)memchr(buf, '\n', got) = '\0';
			break;
		}
	}
	resp = json_tokener_parse(buf);
	if (!resp || !json_object_is_type(resp, json_type_object)) {
		fprintf(stderr, "pvioctl: pviod's answer is not a JSON-RPC response: %s\n", buf);
		json_object_put(resp);
		goto out;
	}
	if (json_object_object_get_ex(resp, "error", &v) && v) {
		json_object *msg = NULL;

		json_object_object_get_ex(v, "message", &msg);
		fprintf(stderr, "pvioctl: %s: %s\n", method,
			msg ? json_object_get_string(msg) : json_object_get_string(v));
	} else if (json_object_object_get_ex(resp, "result", &v) && v) {
		result = json_object_get(v);
	} else {
		fprintf(stderr, "pvioctl: pviod's answer has no result: %s\n", buf);
	}
	json_object_put(resp);
out:
	free(buf);
	json_object_put(req);
	return result;
}

/* --- output -------------------------------------------------------------------------- */

static uint64_t pvioctl_u64(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v))
		return 0;
	return json_object_get_uint64(v);
}

static const char *pvioctl_str(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !v)
		return "";
	return json_object_get_string(v);
}

static void pvioctl_print_json(json_object *result)
{
	puts(json_object_to_json_string_ext(result, JSON_C_TO_STRING_PRETTY |
							    JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* A Prometheus label value: backslash, double quote and newline escaped. */
static void pvioctl_label(const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			printf("\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", stdout);
		else
			putchar(*s);
	}
}

static void pvioctl_prom_labels(const char *dev, const char *type, int queue, const char *reason)
{
	fputs("{device=\"", stdout);
	pvioctl_label(dev);
	fputs("\",type=\"", stdout);
	pvioctl_label(type);
	putchar('"');
	if (queue >= 0)
		printf(",queue=\"%d\"", queue);
	if (reason) {
		fputs(",reason=\"", stdout);
		pvioctl_label(reason);
		putchar('"');
	}
	putchar('}');
}

static const struct {
	const char *key, *metric, *type, *help;
} pvioctl_metrics[] = {
	{ "requests", "pviod_queue_requests_total", "counter",
	  "Requests (blk) or frames (net) the queue served." },
	{ "bytes", "pviod_queue_bytes_total", "counter", "Data bytes the queue moved." },
	{ "errors", "pviod_queue_errors_total", "counter",
	  "Requests completed with an error, bad chains or headers." },
	{ "kicks", "pviod_queue_kicks_total", "counter", "Kicks read from the front-end." },
	{ "calls", "pviod_queue_calls_total", "counter", "Interrupts sent to the front-end." },
	{ "polls", "pviod_queue_polls_total", "counter", "Busy-polls that found requests." },
	{ "poll_misses", "pviod_queue_poll_misses_total", "counter",
	  "Poll windows that ended with nothing found (kicks asked for again, then a sleep)." },
	{ "poll_preempts", "pviod_queue_poll_preempts_total", "counter",
	  "Preemptions of the worker seen while it polled (in a row, they stop its polling)." },
	{ "runs", "pviod_queue_runs_total", "counter",
	  "Times the queue was served (on a kick, a poll that found requests, or a retry)." },
	{ "in_flight", "pviod_queue_in_flight", "gauge",
	  "Requests popped from the ring and not yet completed." },
};

static void pvioctl_prometheus_stats(json_object *result)
{
	json_object *devs = NULL;
	size_t m, i, k;

	json_object_object_get_ex(result, "devices", &devs);
	for (m = 0; m <= sizeof(pvioctl_metrics) / sizeof(pvioctl_metrics[0]); m++) {
		bool drops = m == sizeof(pvioctl_metrics) / sizeof(pvioctl_metrics[0]);

		if (drops)
			printf("# HELP %s Frames or bytes dropped, by reason.\n# TYPE %s counter\n",
			       "pviod_queue_drops_total", "pviod_queue_drops_total");
		else
			printf("# HELP %s %s\n# TYPE %s %s\n", pvioctl_metrics[m].metric,
			       pvioctl_metrics[m].help, pvioctl_metrics[m].metric,
			       pvioctl_metrics[m].type);
		for (i = 0; devs && i < json_object_array_length(devs); i++) {
			json_object *d = json_object_array_get_idx(devs, i), *qs = NULL;

			json_object_object_get_ex(d, "queues", &qs);
			for (k = 0; qs && k < json_object_array_length(qs); k++) {
				json_object *q = json_object_array_get_idx(qs, k), *dr = NULL;
				int qi = (int)pvioctl_u64(q, "index");

				if (!drops) {
					fputs(pvioctl_metrics[m].metric, stdout);
					pvioctl_prom_labels(pvioctl_str(d, "id"),
							    pvioctl_str(d, "type"), qi, NULL);
					printf(" %" PRIu64 "\n",
					       pvioctl_u64(q, pvioctl_metrics[m].key));
					continue;
				}
				json_object_object_get_ex(q, "drops", &dr);
				if (!dr)
					continue;
				json_object_object_foreach(dr, reason, count)
				{
					fputs("pviod_queue_drops_total", stdout);
					pvioctl_prom_labels(pvioctl_str(d, "id"),
							    pvioctl_str(d, "type"), qi, reason);
					printf(" %" PRIu64 "\n", json_object_get_uint64(count));
				}
			}
		}
	}
}

static void pvioctl_prometheus_list(json_object *result)
{
	json_object *devs = NULL, *d;
	size_t i;

	json_object_object_get_ex(result, "devices", &devs);
	printf("# HELP pviod_device_connected 1 when a front-end is connected to the device.\n"
	       "# TYPE pviod_device_connected gauge\n");
	for (i = 0; devs && i < json_object_array_length(devs); i++) {
		json_object *v = NULL;

		d = json_object_array_get_idx(devs, i);
		json_object_object_get_ex(d, "connected", &v);
		fputs("pviod_device_connected", stdout);
		pvioctl_prom_labels(pvioctl_str(d, "id"), pvioctl_str(d, "type"), -1, NULL);
		printf(" %d\n", json_object_get_boolean(v) ? 1 : 0);
	}
	printf("# HELP pviod_device_queues Virtqueues of the device, and how many run.\n"
	       "# TYPE pviod_device_queues gauge\n");
	for (i = 0; devs && i < json_object_array_length(devs); i++) {
		d = json_object_array_get_idx(devs, i);
		fputs("pviod_device_queues", stdout);
		pvioctl_prom_labels(pvioctl_str(d, "id"), pvioctl_str(d, "type"), -1, NULL);
		printf(" %" PRIu64 "\n", pvioctl_u64(d, "queues"));
	}
}

static void pvioctl_text_list(json_object *result)
{
	json_object *devs = NULL;
	size_t i;

	json_object_object_get_ex(result, "devices", &devs);
	printf("%-16s %-8s %-9s %-7s %-18s %s\n", "ID", "TYPE", "CONNECTED", "QUEUES", "FEATURES",
	       "SOCKET");
	for (i = 0; devs && i < json_object_array_length(devs); i++) {
		json_object *d = json_object_array_get_idx(devs, i), *v = NULL;
		char queues[32];

		json_object_object_get_ex(d, "connected", &v);
		snprintf(queues, sizeof(queues), "%" PRIu64 "/%" PRIu64,
			 pvioctl_u64(d, "queues_running"), pvioctl_u64(d, "queues"));
		printf("%-16s %-8s %-9s %-7s %-18s %s\n", pvioctl_str(d, "id"),
		       pvioctl_str(d, "type"), json_object_get_boolean(v) ? "yes" : "no", queues,
		       pvioctl_str(d, "features_hex"), pvioctl_str(d, "socket"));
	}
}

static void pvioctl_text_stats(json_object *result)
{
	json_object *devs = NULL;
	size_t i, k;

	json_object_object_get_ex(result, "devices", &devs);
	printf("%-16s %5s %12s %14s %8s %10s %10s %10s %10s %8s %10s %9s  %s\n", "DEVICE", "QUEUE",
	       "REQUESTS", "BYTES", "ERRORS", "KICKS", "CALLS", "POLLS", "MISSES", "PREEMPTS",
	       "RUNS", "INFLIGHT", "DROPS");
	for (i = 0; devs && i < json_object_array_length(devs); i++) {
		json_object *d = json_object_array_get_idx(devs, i), *qs = NULL;

		json_object_object_get_ex(d, "queues", &qs);
		for (k = 0; qs && k < json_object_array_length(qs); k++) {
			json_object *q = json_object_array_get_idx(qs, k), *dr = NULL;
			bool any = false;

			printf("%-16s %5" PRIu64 " %12" PRIu64 " %14" PRIu64 " %8" PRIu64
			       " %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %8" PRIu64
			       " %10" PRIu64 " %9" PRIu64 " ",
			       pvioctl_str(d, "id"), pvioctl_u64(q, "index"),
			       pvioctl_u64(q, "requests"), pvioctl_u64(q, "bytes"),
			       pvioctl_u64(q, "errors"), pvioctl_u64(q, "kicks"),
			       pvioctl_u64(q, "calls"), pvioctl_u64(q, "polls"),
			       pvioctl_u64(q, "poll_misses"), pvioctl_u64(q, "poll_preempts"),
			       pvioctl_u64(q, "runs"), pvioctl_u64(q, "in_flight"));
			json_object_object_get_ex(q, "drops", &dr);
			if (dr) {
				json_object_object_foreach(dr, reason, count)
				{
					printf(" %s=%" PRIu64, reason,
					       json_object_get_uint64(count));
					any = true;
				}
			}
			printf("%s\n", any ? "" : " -");
		}
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "prometheus", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = getenv("PVIOCTL_SOCKET"), *cmd, *arg = NULL;
	enum pvioctl_format fmt = FMT_TEXT;
	json_object *params = NULL, *result;
	int c, fd, nargs;

	if (!path || !*path)
		path = PVIOCTL_SOCKET_DEFAULT;
	while ((c = getopt_long(argc, argv, "s:jph", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			path = optarg;
			break;
		case 'j':
			fmt = FMT_JSON;
			break;
		case 'p':
			fmt = FMT_PROMETHEUS;
			break;
		case 'h':
			pvioctl_usage(stdout);
			return 0;
		default:
			fprintf(stderr, "Try 'pvioctl --help'.\n");
			return PVIOCTL_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr,
			"pvioctl: no command (add, del, list, stats, refresh, link, version); try 'pvioctl --help'\n");
		return PVIOCTL_EXIT_USAGE;
	}
	cmd = argv[optind];
	nargs = argc - optind - 1;
	if (nargs > 0)
		arg = argv[optind + 1];
	if (!strcmp(cmd, "add") || !strcmp(cmd, "del")) {
		if (nargs != 1) {
			fprintf(stderr, "pvioctl: %s takes one argument: %s\n", cmd,
				!strcmp(cmd, "add") ? "SPEC" : "ID");
			return PVIOCTL_EXIT_USAGE;
		}
		params = json_object_new_object();
		json_object_object_add(params, !strcmp(cmd, "add") ? "spec" : "id",
				       json_object_new_string(arg));
		cmd = !strcmp(cmd, "add") ? "device_add" : "device_del";
	} else if (!strcmp(cmd, "list") || !strcmp(cmd, "version")) {
		if (nargs) {
			fprintf(stderr, "pvioctl: %s takes no argument\n", cmd);
			return PVIOCTL_EXIT_USAGE;
		}
		cmd = !strcmp(cmd, "list") ? "device_list" : "version";
	} else if (!strcmp(cmd, "stats")) {
		if (nargs > 1) {
			fprintf(stderr, "pvioctl: stats takes at most one argument: ID\n");
			return PVIOCTL_EXIT_USAGE;
		}
		if (arg) {
			params = json_object_new_object();
			json_object_object_add(params, "id", json_object_new_string(arg));
		}
		cmd = "device_stats";
	} else if (!strcmp(cmd, "refresh")) {
		if (nargs != 1) {
			fprintf(stderr, "pvioctl: refresh takes one argument: ID\n");
			return PVIOCTL_EXIT_USAGE;
		}
		params = json_object_new_object();
		json_object_object_add(params, "id", json_object_new_string(arg));
		cmd = "device_refresh";
	} else if (!strcmp(cmd, "link")) {
		const char *state = nargs == 2 ? argv[optind + 2] : "";

		if (strcmp(state, "up") && strcmp(state, "down")) {
			fprintf(stderr, "pvioctl: link takes two arguments: ID up|down\n");
			return PVIOCTL_EXIT_USAGE;
		}
		params = json_object_new_object();
		json_object_object_add(params, "id", json_object_new_string(arg));
		json_object_object_add(params, "state", json_object_new_string(state));
		cmd = "net_link_set";
	} else {
		fprintf(stderr,
			"pvioctl: unknown command '%s' (add, del, list, stats, refresh, link, version)\n",
			cmd);
		return PVIOCTL_EXIT_USAGE;
	}
	if (fmt == FMT_PROMETHEUS && strcmp(cmd, "device_stats") && strcmp(cmd, "device_list")) {
		fprintf(stderr, "pvioctl: --prometheus is for stats and list\n");
		json_object_put(params);
		return PVIOCTL_EXIT_USAGE;
	}

	fd = pvioctl_connect(path);
	if (fd < 0) {
		json_object_put(params);
		return PVIOCTL_EXIT_FAIL;
	}
	result = pvioctl_call(fd, cmd, params);
	close(fd);
	if (!result)
		return PVIOCTL_EXIT_FAIL;
	if (fmt == FMT_JSON)
		pvioctl_print_json(result);
	else if (fmt == FMT_PROMETHEUS && !strcmp(cmd, "device_stats"))
		pvioctl_prometheus_stats(result);
	else if (fmt == FMT_PROMETHEUS)
		pvioctl_prometheus_list(result);
	else if (!strcmp(cmd, "device_add") || !strcmp(cmd, "device_del"))
		printf("%s\n", pvioctl_str(result, "id"));
	else if (!strcmp(cmd, "version"))
		printf("pviod %s\n", pvioctl_str(result, "version"));
	else if (!strcmp(cmd, "device_refresh"))
		printf("%s: %s\n", pvioctl_str(result, "id"),
		       json_object_get_boolean(json_object_object_get(result, "changed")) ?
			       "changed" :
			       "unchanged");
	else if (!strcmp(cmd, "net_link_set"))
		printf("%s: link %s\n", pvioctl_str(result, "id"), pvioctl_str(result, "state"));
	else if (!strcmp(cmd, "device_list"))
		pvioctl_text_list(result);
	else
		pvioctl_text_stats(result);
	json_object_put(result);
	return fflush(stdout) ? PVIOCTL_EXIT_FAIL : 0;
}
