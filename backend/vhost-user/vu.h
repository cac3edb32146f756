/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vu.h - a device's vhost-user side: its socket, the connection with one
 * front-end, the session that front-end set up (features, memory table,
 * in-flight area) and what it said about each vring.
 *
 * Threads: everything here is the control thread's.  What a worker reads
 * (the memory table, ring addresses, fds) is changed only while the
 * queues concerned are stopped (vu_vring_stop()), which is why no lock
 * protects it.
 */
#ifndef PVIOD_VU_H
#define PVIOD_VU_H

#include <stdbool.h>
#include <stdint.h>

#include "core/device.h"
#include "core/event.h"
#include "vhost-user/dirty.h"
#include "vhost-user/mem.h"
#include "vhost-user/socket.h"

/*
 * The device's mapping of the in-flight area (GET/SET_INFLIGHT_FD); changed
 * only while every queue is stopped.
 */
struct vu_inflight_area {
	void *addr; /* NULL when none */
	uint64_t size;
	uint16_t num_queues; /* regions in it */
	uint16_t queue_size; /* desc_num of each region */
};

/* What the front-end set up (reset on disconnect). */
struct vu_session {
	uint64_t features; /* SET_FEATURES */
	uint64_t protocol_features; /* SET_PROTOCOL_FEATURES */
	bool features_set;
	bool owner;
	uint8_t status; /* SET_STATUS */
	struct vu_mem mem;
	struct vu_inflight_area inflight;
	struct vu_dirty dirty; /* SET_LOG_BASE */
};

/* What the front-end said about one vring (reset with the session). */
struct vu_vring {
	unsigned int num; /* SET_VRING_NUM */
	uint64_t desc_uaddr; /* SET_VRING_ADDR, front-end addresses */
	uint64_t avail_uaddr;
	uint64_t used_uaddr;
	bool addr_set;
	bool log; /* VHOST_VRING_F_LOG: log the device's writes to the ring */
	uint64_t log_gpa; /* log_guest_addr: where the used area is, for the log */
	uint32_t base; /* SET_VRING_BASE; where to resume while stopped */
	bool enabled; /* SET_VRING_ENABLE, or implied */
};

/* The back-end's channel (SET_BACKEND_REQ_FD; backreq.c); lasts a session. */
struct vu_backreq {
	int fd; /* -1: none */
	int timer_fd; /* the ack's deadline */
	struct pviod_io io, timer_io;
	struct vu_rx rx; /* the ack being received */
	bool waiting; /* a CONFIG_CHANGE_MSG is unacked */
	bool again; /* a change came meanwhile: send once more after the ack */
	uint64_t sent, acked, failed; /* messages sent; acks of success, of failure */
};

struct vu_dev {
	struct pviod_device *dev;
	int listen_fd;
	int lock_fd; /* the socket path's lock, held while listen_fd is open */
	int conn_fd; /* -1: waiting for a front-end */
	struct pviod_io listen_io; /* the control loop's handlers */
	struct pviod_io conn_io;
	struct vu_rx rx; /* the message being received on conn_fd */
	struct vu_session s;
	struct vu_backreq breq;
	struct vu_vring vring[]; /* dev->nqueues */
};

int vu_dev_new(struct pviod_device *dev);
int vu_dev_attach(struct pviod_device *dev);
void vu_dev_detach(struct pviod_device *dev);
void vu_conn_close(struct vu_dev *vu);
int vu_conn_handle(struct vu_dev *vu);
void vu_session_reset(struct vu_dev *vu);
void vu_queues_stop(struct vu_dev *vu);
int vu_queues_resume(struct vu_dev *vu);

/* backreq.c */
void vu_backreq_init(struct vu_dev *vu);
void vu_backreq_close(struct vu_dev *vu, const char *why);
void vu_backreq_config_changed(struct pviod_device *dev);
int vu_backreq_set_fd(struct vu_dev *vu, struct vhost_user_msg *msg, int *fds, unsigned int nfds);

static inline bool vu_proto_has(const struct vu_dev *vu, unsigned int bit)
{
	return vu->s.protocol_features & (1ULL << bit);
}

#endif /* PVIOD_VU_H */
