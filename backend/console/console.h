/* SPDX-License-Identifier: GPL-2.0 */
/*
 * console.h - pviod's virtio-console device: what the device (device.c:
 * the rings, control messages, features and config) and its sinks
 * (sink.c: the I/O thread and the host side of each port) share.
 *
 * Every port has an output sink and two bounded byte rings under the
 * device lock (struct pviod_con_buf): out, guest -> sink, filled by a
 * worker and drained by the I/O thread; in, sink -> guest, the other way.
 */
#ifndef PVIOD_CONSOLE_H
#define PVIOD_CONSOLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "core/device.h"
#include "virtio_console.h"

#define PVIOD_CON_PORTS_MAX ((PVIOD_QUEUES_MAX - 2) / 2)
#define PVIOD_CON_SEGS 64
#define PVIOD_CON_IN_SIZE (64u << 10) /* sink -> guest ring per port */
#define PVIOD_CON_OUT_DEFAULT (1u << 20) /* guest -> sink, buffer= */
#define PVIOD_CON_OUT_SLACK (256u << 10) /* room for the chain that crosses the bound */
#define PVIOD_CON_STALL_MS 1000
#define PVIOD_CON_CTRL_MAX 256 /* queued control messages */
#define PVIOD_CON_NAME_MAX 120
#define PVIOD_CON_TICK_MS 200 /* window-size and stall checks */

enum pviod_con_out { PVIOD_CON_PTY, PVIOD_CON_UNIX, PVIOD_CON_FILE, PVIOD_CON_STDIO };

/* A byte ring; the device lock protects it. */
struct pviod_con_buf {
	uint8_t *data;
	size_t cap; /* bytes allocated */
	size_t head; /* oldest byte */
	size_t len; /* bytes held */
};

/* One control message waiting for a control receive buffer. */
struct pviod_con_msg {
	uint32_t len;
	uint8_t buf[sizeof(struct pvio_console_control) + PVIOD_CON_NAME_MAX];
};

struct pviod_con;

struct pviod_con_port {
	struct pviod_con *con;
	unsigned int id;
	char *name; /* PORT_NAME, NULL: unnamed */
	char *path; /* unix socket / file / pty link, NULL for stdio */
	char pts[64]; /* pty: the slave's name */

	/* The I/O thread's. */
	int listen_fd; /* unix: the server socket, else -1 */
	int in_fd; /* read host input from, -1: none */
	int out_fd; /* write guest output to, -1: none */
	int pty_slave_fd; /* pty: held open so the master never sees EIO */
	bool is_tty; /* out_fd is a terminal: poll its window size */
	int64_t progress_ms; /* last time the sink took bytes, or the ring was empty */

	/* The device lock's. */
	struct pviod_con_buf out; /* guest -> sink */
	struct pviod_con_buf in; /* sink -> guest */
	size_t out_limit; /* hold the guest back above this many bytes */
	bool host_open; /* a reader is connected (always for pty/file/stdio) */
	bool stalled; /* the reader took nothing for stall_ms: drop */
	bool guest_open; /* PORT_OPEN 1 from the driver (port 0: always) */
	bool guest_ready; /* PORT_READY 1: control messages may name the port */
	bool tx_blocked; /* the transmit kick stopped at out_limit */
	uint16_t cols, rows; /* last window size seen */
	uint64_t tx_bytes; /* guest -> sink, written */
	uint64_t rx_bytes; /* sink -> guest, delivered */
	uint64_t lost_bytes; /* guest output dropped */
	uint64_t disconnects; /* readers that went away */
};

struct pviod_con {
	struct pviod_device *dev;
	enum pviod_con_out out_kind;
	unsigned int nports;
	unsigned int stall_ms;
	struct pviod_con_port *ports;
	pthread_t io_thread;
	bool io_started;
	int io_wake_fd; /* eventfd: workers and destroy wake the I/O thread */

	/* Everything below is under lock. */
	pthread_mutex_t lock; /* ports' buffers and state, ctrl, wake_fd, config */
	int *wake_fd; /* per queue: dup of its kick eventfd, -1 when stopped */
	bool multiport; /* negotiated */
	bool resumed; /* the ports were re-announced to a driver with history */
	bool exit; /* destroy asks the I/O thread to end */
	struct pviod_con_msg *ctrl; /* control messages for the driver, a ring */
	unsigned int ctrl_head, ctrl_len;
	uint64_t ctrl_dropped;
	uint32_t emerg_chars; /* characters written to emerg_wr */
};

static inline int64_t pviod_con_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline struct pviod_con *pviod_con_of(struct pviod_device *dev)
{
	return dev->priv;
}

/* --- byte rings (the device lock held) ---------------------------------------- */

static inline size_t pviod_con_buf_room(const struct pviod_con_buf *b)
{
	return b->cap - b->len;
}

/* Append up to @len bytes; returns how many fitted. */
static inline size_t pviod_con_buf_put(struct pviod_con_buf *b, const void *src, size_t len)
{
	size_t n = len < pviod_con_buf_room(b) ? len : pviod_con_buf_room(b), done = 0;

	while (done < n) {
		size_t tail = (b->head + b->len) % b->cap;
		size_t chunk = b->cap - tail < n - done ? b->cap - tail : n - done;

		memcpy(b->data + tail, (const uint8_t *)src + done, chunk);
		b->len += chunk;
		done += chunk;
	}
	return n;
}

/* The contiguous readable part at the head. */
static inline size_t pviod_con_buf_peek(const struct pviod_con_buf *b, const uint8_t **p)
{
	size_t n = b->cap - b->head < b->len ? b->cap - b->head : b->len;

	*p = b->data + b->head;
	return n;
}

static inline void pviod_con_buf_consume(struct pviod_con_buf *b, size_t n)
{
	b->head = (b->head + n) % b->cap;
	b->len -= n;
	if (!b->len)
		b->head = 0;
}

/* The contiguous free part at the tail. */
static inline size_t pviod_con_buf_tail(struct pviod_con_buf *b, uint8_t **p)
{
	size_t tail = (b->head + b->len) % b->cap;
	size_t n = b->cap - tail < pviod_con_buf_room(b) ? b->cap - tail : pviod_con_buf_room(b);

	*p = b->data + tail;
	return n;
}

/* device.c, lock held */
void pviod_con_queue_wake(struct pviod_con *con, unsigned int qi);
void pviod_con_io_wake(struct pviod_con *con);
unsigned int pviod_con_rxq(unsigned int port);
unsigned int pviod_con_txq(unsigned int port);
void pviod_con_ctrl_send(struct pviod_con *con, unsigned int id, uint16_t event, uint16_t value,
			 const void *extra, size_t extra_len);
void pviod_con_ctrl_resize(struct pviod_con *con, struct pviod_con_port *p);

/* device.c */
int pviod_console_create(const struct pviod_env *env, const char *name, const char *opts,
			 struct pviod_device **out);

/* sink.c */
void *pviod_con_io_main(void *arg);
void pviod_con_sink_write(struct pviod_con *con, struct pviod_con_port *p);
int pviod_con_sink_open(struct pviod_con *con, struct pviod_con_port *p);
char *pviod_con_port_path(const char *base, unsigned int id);

#endif /* PVIOD_CONSOLE_H */
