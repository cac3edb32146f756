/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pviod.h - the daemon: one context object that holds everything pviod
 * runs (daemon.c), the device types it knows, and the SIGUSR1 counters'
 * thread (stats.c).
 *
 * Nothing in pviod is global but the log level: the workers, the control
 * loop, the test faults and the device list are reached through struct
 * pviod, and each device through its own object, so devices can be added
 * and removed while the others run.
 *
 * Threads:
 *
 *   control thread   pviod_run(): the event loop (every vhost-user socket
 *                    and message, device additions and removals, signals).
 *   workers          the data path (core/worker.h).
 *   stats thread     waits for SIGUSR1 and logs every device's counters
 *                    (stats.c); it reads the device list under @lock, which
 *                    the control thread takes to change the list.
 */
#ifndef PVIOD_DAEMON_PVIOD_H
#define PVIOD_DAEMON_PVIOD_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

#include "core/device.h"
#include "core/event.h"
#include "core/worker.h"

#define PVIOD_VERSION "0.1.0"
#define PVIOD_DEVICES_MAX 64
#define PVIOD_DEVICE_TYPES 3 /* blk, console, net */

/* The SIGUSR1 thread: its signalfd, the eventfd that ends it. */
struct pviod_stats_thread {
	pthread_t thread;
	bool started;
	int sig_fd;
	int stop_fd;
};

struct pviod {
	struct pviod_env env; /* what devices are created in: points into this */
	struct pviod_workers workers;
	struct pviod_event_loop loop;
	struct pviod_fault fault; /* --fault, test only */
	int signal_fd; /* SIGTERM, SIGINT, SIGHUP */
	struct pviod_io signal_io;
	unsigned int created[PVIOD_DEVICE_TYPES]; /* per type: the next default name's number */
	pthread_mutex_t lock; /* @devices: changed by the control thread only */
	struct pviod_device *devices;
	struct pviod_stats_thread stats;
	/* socket-group= and socket-mode= of devices that do not say (0, false: none). */
	unsigned int socket_mode;
	bool socket_chgrp;
	gid_t socket_gid;
	/* SIGHUP, on the control thread (--config's reload); NULL: logged, ignored. */
	void (*reload)(struct pviod *p, void *arg);
	void *reload_arg;
};

int pviod_init(struct pviod *p, const struct pviod_worker_config *wcfg,
	       const struct pviod_fault *fault);
int pviod_device_add(struct pviod *p, const char *spec, struct pviod_device **out);
int pviod_device_del(struct pviod *p, struct pviod_device *dev);
struct pviod_device *pviod_device_find(struct pviod *p, const char *name);
int pviod_socket_group_parse(const char *what, const char *val, gid_t *gid);
int pviod_socket_mode_parse(const char *what, const char *val, unsigned int *mode);
int pviod_run(struct pviod *p);
int pviod_fini(struct pviod *p);

int pviod_stats_start(struct pviod *p);
void pviod_stats_stop(struct pviod *p);
void pviod_stats_log(struct pviod *p);

#endif /* PVIOD_DAEMON_PVIOD_H */
