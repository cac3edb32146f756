// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - pviod's command line.
 *
 *   pviod --device blk[,id=NAME],socket=PATH,file=IMAGE|nbd=URI|rbd=POOL/IMAGE[,queues=N]
 *                     [,readonly=on][,ceph-conf=FILE][,ceph-id=ID]
 *                     [,direct=on|off][,inline=auto|off][,fixed=auto|off][,locking=on|off]
 *                     [,reconnect-timeout=SECS][,serial=ID][,in-order=on|off]
 *                     [--device ...]
 *         [--workers=N] [--cpus=LIST] [--poll=adaptive|on|off] [--poll-max-us=US]
 *         [--poll-grow=N] [--poll-shrink=N] [--log-level=LEVEL]
 *
 * Exit status: 0 after SIGTERM/SIGINT (in-flight requests drained, images
 * flushed); 1 when a device cannot be set up (the message names the file
 * and errno), or when a queue still had requests in flight 5 s after
 * SIGTERM/SIGINT; 2 for a bad argument.  SIGUSR1 logs every device's counters.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "daemon/config.h"
#include "daemon/pviod.h"
#include "rpc/rpc.h"

#define PVIOD_EXIT_FAIL 1
#define PVIOD_EXIT_USAGE 2

static void pviod_usage(FILE *f)
{
	fprintf(f,
		"Usage: pviod --device TYPE,socket=PATH,OPTION... [--device ...] [OPTION...]\n"
		"       TYPE: blk, net or console\n"
		"\n"
		"vhost-user back-end daemon: serves virtio devices to QEMU (or another\n"
		"vhost-user front-end) over Unix sockets it creates.\n"
		"\n"
		"Every device (--device TYPE,...):\n"
		"  id=NAME            its id in messages, on the control socket and in metrics\n"
		"                     (default: TYPE0, TYPE1, ... in order: blk0, net0, console0)\n"
		"  socket-group=GROUP give the socket to GROUP (name or number)\n"
		"  socket-mode=MODE   the socket's mode, octal (0660: owner and group connect)\n"
		"\n"
		"Block device options (--device blk,...):\n"
		"  socket=PATH        the vhost-user socket to create (required)\n"
		"  file=IMAGE         raw image file or block device\n"
		"  nbd=URI            an NBD export: nbd://HOST[:PORT]/EXPORT,\n"
		"                     nbd+unix:///EXPORT?socket=PATH (one connection a queue)\n"
		"  rbd=POOL/IMAGE     a Ceph RBD image (librbd); with ceph-conf=FILE (default\n"
		"                     /etc/ceph/ceph.conf) and ceph-id=ID (default admin)\n"
		"                     exactly one of file=, nbd= and rbd= is required; the\n"
		"                     capacity is the file's, the export's or the image's size\n"
		"  queues=N           virtqueues offered, 1..%d (default 1); QEMU's num-queues\n"
		"                     must not exceed it\n"
		"  readonly=on|off    refuse writes, offer VIRTIO_BLK_F_RO (default off)\n"
		"  direct=on|off      O_DIRECT (default on; falls back when unsupported)\n"
		"  locking=on|off     lock the image as QEMU does: no other writer, nor reader\n"
		"                     while writable (default on)\n"
		"  inline=auto|off    auto: reads and writes of an image in memory (tmpfs,\n"
		"                     hugetlbfs) that io_uring cannot do without a thread hop\n"
		"                     run on the worker (default auto)\n"
		"  fixed=auto|off     auto: the image's fds registered as io_uring fixed files\n"
		"                     and, with O_DIRECT, guest memory as fixed buffers\n"
		"                     (pinned once, not per request; needs RLIMIT_MEMLOCK or\n"
		"                     CAP_IPC_LOCK, else goes without); off: neither\n"
		"  reconnect-timeout=SECS  nbd=: how long to try to get a lost connection\n"
		"                     back before failing its I/O; rbd=: how long an operation\n"
		"                     may wait for the cluster (default 15)\n"
		"  serial=ID          GET_ID answer, up to 20 bytes\n"
		"  in-order=on|off    offer VIRTIO_F_IN_ORDER: requests complete in the order\n"
		"                     they were made available, a fast one waiting behind a\n"
		"                     slow one (default off)\n"
		"\n"
		"Net device options (--device net,...; see Documentation/net.rst):\n"
		"  socket=PATH        the vhost-user socket to create (required)\n"
		"  backend=BE         tap:IFNAME (created if missing, offloads passed through),\n"
		"                     switch:NAME (built-in L2 switch joining every port with\n"
		"                     that NAME) or loop (every frame goes back) (required)\n"
		"  queues=N           queue pairs (MQ), default 1\n"
		"  mac=MAC            the guest's MAC (default: derived from the socket path)\n"
		"  mtu=N              offered with VIRTIO_NET_F_MTU (default 1500)\n"
		"\n"
		"Console options (--device console,...; see Documentation/console.rst):\n"
		"  socket=PATH        the vhost-user socket to create (required)\n"
		"  out=SINK           pty[:LINK], unix:PATH, file:PATH or stdio (required);\n"
		"                     port k >= 1 uses PATH.k (LINK.k)\n"
		"  ports=N            ports (MULTIPORT max_nr_ports), default 1\n"
		"  names=A:B:...      port names (port 0 first; empty: unnamed)\n"
		"  buffer=BYTES       output buffered per port before the guest waits (1 MiB)\n"
		"  stall-ms=MS        a reader taking nothing this long loses output (1000)\n"
		"\n"
		"Options:\n"
		"  -d, --device SPEC      add a device (may repeat)\n"
		"      --rpc PATH         serve the control socket (JSON-RPC 2.0, see pvioctl(8))\n"
		"                         at PATH; then --device is optional\n"
		"      --config FILE      devices and options from FILE (see pviod(8)); SIGHUP\n"
		"                         reads it again and applies the difference\n"
		"      --socket-group GROUP  every device's socket-group= unless it has one\n"
		"      --socket-mode MODE    every device's socket-mode= unless it has one\n"
		"  -w, --workers N        worker threads, each with its own io_uring (default 1)\n"
		"      --cpus LIST        the CPUs of each worker, one entry per worker, e.g.\n"
		"                         0,1 (worker 0 on CPU 0, worker 1 on CPU 1); an entry\n"
		"                         is N, N-M or several joined by '+'; workers beyond\n"
		"                         the list take its entries again from the first\n"
		"      --poll MODE        how an idle worker polls its rings and completions (no\n"
		"                         kicks meanwhile) before it sleeps: adaptive (default:\n"
		"                         a window adapted to how soon work comes, up to\n"
		"                         --poll-max-us; 0 when idle; no poll while only\n"
		"                         storage completions are awaited), on (always\n"
		"                         --poll-max-us) or off (sleep at once)\n"
		"      --poll-max-us US   the longest poll window, 0..1000000 (default 50;\n"
		"                         --poll-budget is the same option)\n"
		"      --poll-grow N      factor an adaptive window grows by, 2..1000 (default 2)\n"
		"      --poll-shrink N    divisor it shrinks by, 2..1000, or 0: back to 0 (default)\n"
		"  -l, --log-level LEVEL  error, warning, info (default) or debug\n"
		"  -h, --help             this text\n"
		"  -V, --version          the version\n"
		"\n"
		"Signals:\n"
		"  SIGTERM, SIGINT    drain in-flight requests, flush the images, exit 0\n"
		"                     (exit 1 when a queue has not drained 5 s after it)\n"
		"  SIGHUP             --config: read FILE again, add and remove devices to match\n"
		"  SIGUSR1            log every device's counters: blk per queue (requests,\n"
		"                     bytes, errors), net per queue pair (frames, bytes,\n"
		"                     drops by reason), console per port (bytes, losses)\n"
		"\n"
		"Testing only (never in production: the device then lies to the guest):\n"
		"      --fault MODE[:N]   after N honest completions (default 0) corrupt every\n"
		"                         used element: used-id (an id past the ring), used-dup\n"
		"                         (pushed twice: the copy is not in flight), used-len\n"
		"                         (len 0xffffffff); or worker-die: the worker of that\n"
		"                         queue acts as if its io_uring failed; or die-at-msg:N:\n"
		"                         SIGKILL on receiving vhost-user request N (a crash at\n"
		"                         that step of the handshake); or sq-full: every other\n"
		"                         SQE a worker takes finds its submission queue full\n"
		"\n"
		"QEMU: -chardev socket,id=c0,path=PATH\n"
		"      -device vhost-user-blk-pci,chardev=c0,num-queues=N\n"
		"      with guest memory shared (e.g. -object memory-backend-memfd,id=m,size=1G,share=on\n"
		"      -machine memory-backend=m).  See pviod(8).\n",
		PVIOD_QUEUES_MAX);
}

static int pviod_parse_uint(const char *opt, const char *val, unsigned long lo, unsigned long hi,
			    unsigned int *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(val, &end, 10);
	if (errno || !*val || *end || v < lo || v > hi) {
		fprintf(stderr, "pviod: %s %s: expected a number in %lu..%lu\n", opt, val, lo, hi);
		return -EINVAL;
	}
	*out = (unsigned int)v;
	return 0;
}

/* systemd (Type=notify): how many devices serve now. */
static void pviod_notify_status(struct pviod *p, const char *state)
{
	struct pviod_device *dev;
	unsigned int n = 0;

	for (dev = p->devices; dev; dev = dev->next)
		n++;
	sd_notifyf(0, "%s\nSTATUS=serving %u device%s", state, n, n == 1 ? "" : "s");
}

static void pviod_main_reload(struct pviod *p, void *arg)
{
	sd_notify(0, "RELOADING=1");
	pviod_config_reload(p, arg);
	pviod_notify_status(p, "READY=1");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "rpc", required_argument, NULL, 'r' },
		{ "config", required_argument, NULL, 'K' },
		{ "socket-group", required_argument, NULL, 'G' },
		{ "socket-mode", required_argument, NULL, 'M' },
		{ "workers", required_argument, NULL, 'w' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "poll", required_argument, NULL, 'p' },
		{ "poll-max-us", required_argument, NULL, 'b' },
		{ "poll-budget", required_argument, NULL, 'b' },
		{ "poll-grow", required_argument, NULL, 'g' },
		{ "poll-shrink", required_argument, NULL, 's' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "fault", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct pviod_worker_config wcfg = {
		.nworkers = 1,
		.poll = PVRING_POLL_ADAPTIVE,
		.poll_max_us = PVRING_POLL_MAX_NS_DEFAULT / 1000,
		.poll_grow = PVRING_POLL_GROW_DEFAULT,
		.poll_shrink = PVRING_POLL_SHRINK_DEFAULT,
	};
	struct pviod_fault fault = { .mode = PVIOD_FAULT_NONE };
	const char *specs[PVIOD_DEVICES_MAX];
	struct pviod p = { 0 };
	struct pviod_rpc rpc = { 0 };
	const char *rpc_path = NULL, *config_path = NULL;
	bool set_workers = false, set_poll = false, set_budget = false, set_level = false;
	const char *socket_group = NULL;
	struct pviod_config cfg = { 0 };
	unsigned int nspecs = 0, i;
	sigset_t set;
	int c, ret, status = 0;

	pviod_config_free(&cfg); /* every setting unset */
	while ((c = getopt_long(argc, argv, "d:w:l:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (nspecs == PVIOD_DEVICES_MAX) {
				fprintf(stderr, "pviod: at most %d --device\n", PVIOD_DEVICES_MAX);
				return PVIOD_EXIT_USAGE;
			}
			specs[nspecs++] = optarg;
			break;
		case 'r':
			rpc_path = optarg;
			break;
		case 'K':
			config_path = optarg;
			break;
		case 'G':
			socket_group = optarg;
			break;
		case 'M':
			if (pviod_socket_mode_parse("--socket-mode", optarg, &p.socket_mode))
				return PVIOD_EXIT_USAGE;
			break;
		case 'w':
			if (pviod_parse_uint("--workers", optarg, 1, PVIOD_WORKERS_MAX,
					     &wcfg.nworkers))
				return PVIOD_EXIT_USAGE;
			set_workers = true;
			break;
		case 'c':
			free(wcfg.cpus);
			if (pviod_cpus_parse(optarg, &wcfg.cpus, &wcfg.ncpus)) {
				fprintf(stderr,
					"pviod: --cpus %s: expected a CPU list per worker, e.g. 0,1 or 0-1,2+3\n",
					optarg);
				return PVIOD_EXIT_USAGE;
			}
			break;
		case 'p':
			if (!strcmp(optarg, "adaptive")) {
				wcfg.poll = PVRING_POLL_ADAPTIVE;
			} else if (!strcmp(optarg, "on")) {
				wcfg.poll = PVRING_POLL_ON;
			} else if (!strcmp(optarg, "off")) {
				wcfg.poll = PVRING_POLL_OFF;
			} else {
				fprintf(stderr, "pviod: --poll %s: expected adaptive, on or off\n",
					optarg);
				return PVIOD_EXIT_USAGE;
			}
			set_poll = true;
			break;
		case 'b':
			if (pviod_parse_uint("--poll-max-us", optarg, 0,
					     PVRING_POLL_MAX_NS_LIMIT / 1000, &wcfg.poll_max_us))
				return PVIOD_EXIT_USAGE;
			set_budget = true;
			break;
		case 'g':
			if (pviod_parse_uint("--poll-grow", optarg, 2, 1000, &wcfg.poll_grow))
				return PVIOD_EXIT_USAGE;
			break;
		case 's':
			if (pviod_parse_uint("--poll-shrink", optarg, 0, 1000, &wcfg.poll_shrink))
				return PVIOD_EXIT_USAGE;
			if (wcfg.poll_shrink == 1) {
				fprintf(stderr, "pviod: --poll-shrink 1: expected 0 or 2..1000\n");
				return PVIOD_EXIT_USAGE;
			}
			break;
		case 'l':
			ret = pviod_log_level_parse(optarg);
			if (ret < 0) {
				fprintf(stderr,
					"pviod: --log-level %s: expected error, warning, info or debug\n",
					optarg);
				return PVIOD_EXIT_USAGE;
			}
			pviod_log_level = ret;
			set_level = true;
			break;
		case 'F':
			if (pviod_fault_parse(&fault, optarg)) {
				fprintf(stderr,
					"pviod: --fault %s: expected used-id, used-dup, used-len or worker-die, optionally :N, die-at-msg:N, or sq-full\n",
					optarg);
				return PVIOD_EXIT_USAGE;
			}
			wcfg.fault_sq_full = fault.mode == PVIOD_FAULT_SQ_FULL;
			fprintf(stderr,
				"pviod: --fault %s: TEST MODE, the devices will corrupt their used rings\n",
				optarg);
			break;
		case 'h':
			pviod_usage(stdout);
			return 0;
		case 'V':
			printf("pviod %s\n", PVIOD_VERSION);
			return 0;
		default:
			fprintf(stderr, "Try 'pviod --help'.\n");
			return PVIOD_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr,
			"pviod: unexpected argument '%s'; devices are given with --device\n",
			argv[optind]);
		return PVIOD_EXIT_USAGE;
	}
	if (config_path) {
		/* The command line's options win over the file's. */
		ret = pviod_config_read(&cfg, config_path);
		if (ret)
			return ret == -EINVAL ? PVIOD_EXIT_USAGE : PVIOD_EXIT_FAIL;
		cfg.path = config_path;
		if (!set_workers && cfg.workers > 0)
			wcfg.nworkers = (unsigned int)cfg.workers;
		if (!set_poll && cfg.poll >= 0)
			wcfg.poll = cfg.poll;
		if (!set_budget && cfg.poll_budget >= 0)
			wcfg.poll_max_us = (unsigned int)cfg.poll_budget;
		if (!set_level && cfg.log_level >= 0)
			pviod_log_level = cfg.log_level;
		if (!rpc_path)
			rpc_path = cfg.rpc;
		if (!socket_group)
			socket_group = cfg.socket_group;
		if (!p.socket_mode && cfg.socket_mode > 0)
			p.socket_mode = (unsigned int)cfg.socket_mode;
	}
	if (socket_group) {
		if (pviod_socket_group_parse("--socket-group", socket_group, &p.socket_gid))
			return PVIOD_EXIT_USAGE;
		p.socket_chgrp = true;
	}
	if (!nspecs && !rpc_path && !config_path) {
		fprintf(stderr,
			"pviod: no --device (nor --rpc, --config) given; try 'pviod --help'\n");
		return PVIOD_EXIT_USAGE;
	}

	/*
	 * Every thread inherits this mask: the signals are read only through
	 * the control loop's signalfd, and a closed peer is an EPIPE, not a
	 * SIGPIPE.
	 */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP); /* --config's reload, read by the control loop */
	sigaddset(&set, SIGUSR1); /* counters, read by the stats thread (stats.c) */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	ret = pviod_init(&p, &wcfg, &fault);
	/* The workers run where they were created: the sets are not needed after. */
	free(wcfg.cpus);
	if (ret)
		return PVIOD_EXIT_FAIL;
	for (i = 0; i < nspecs; i++) {
		ret = pviod_device_add(&p, specs[i], NULL);
		if (ret) {
			status = ret == -EINVAL ? PVIOD_EXIT_USAGE : PVIOD_EXIT_FAIL;
			goto out_fini;
		}
	}
	for (i = 0; i < cfg.n; i++) {
		struct pviod_device *dev;

		ret = pviod_device_add(&p, cfg.spec[i], &dev);
		if (ret) {
			status = ret == -EINVAL ? PVIOD_EXIT_USAGE : PVIOD_EXIT_FAIL;
			goto out_fini;
		}
		cfg.id[i] = strdup(dev->name);
	}
	if (config_path) {
		p.reload = pviod_main_reload;
		p.reload_arg = &cfg;
	}
	if (rpc_path && pviod_rpc_start(&rpc, &p, rpc_path)) {
		status = PVIOD_EXIT_FAIL;
		goto out_fini;
	}
	if (pviod_stats_start(&p)) {
		status = PVIOD_EXIT_FAIL;
		goto out_fini;
	}
	/* Every socket listens: systemd may start what connects to them. */
	pviod_notify_status(&p, "READY=1");
	if (pviod_run(&p))
		status = PVIOD_EXIT_FAIL;
	sd_notify(0, "STOPPING=1");

out_fini:
	pviod_rpc_stop(&rpc);
	/* Every device drained, flushed and removed; a flush failure fails the exit. */
	if (pviod_fini(&p) && !status)
		status = PVIOD_EXIT_FAIL;
	pviod_config_free(&cfg);
	return status;
}
