/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vuser.h - pvio's userspace vhost-user front-end driver (libvuser.a).
 *
 * The driver plays the part QEMU plays for a guest: it connects to a
 * vhost-user back-end's Unix socket, hands it "guest memory" (a memfd mapped
 * into this process, guest-physical address = offset in the memfd), sets up
 * split or packed virtqueues over ring/pvring_drv.h in that memory and then
 * drives a block, net or console device without any VM.
 *
 * Split into one file per concern:
 *   dev.c      socket, message exchange with timeouts, negotiation
 *   mem.c      the memfd guest memory and its bump allocator
 *   queue.c    one virtqueue: ring memory, kick and call eventfds, waiting
 *   blk.c      virtio-blk requests (asynchronous submit/reap)
 *   net.c      virtio-net frames (12-byte header, MRG_RXBUF)
 *   console.c  virtio-console ports and the control queue (MULTIPORT)
 *
 * Errors are 0 / -errno.  Every failure also leaves a sentence in
 * vuser_dev_errmsg() saying what went wrong, against which socket, and what the
 * peer sent, because the caller usually just prints it and exits.
 *
 * Waiting for used buffers (vuser_queue_wait()) polls the used ring first,
 * with used-buffer notifications off, for an adaptive window (pviod's
 * policy, ring/pvring_poll.h), then sleeps on the call eventfd: a back-end
 * that answers within the window costs no wake-up on either side.
 * vuser_queue_set_poll() changes the mode per queue.
 *
 * Concurrency: set-up and teardown are single-threaded.  Afterwards each
 * queue may be driven by its own thread (one thread per queue); the control
 * socket is not touched on the data path.
 */
#ifndef PVIO_VUSER_H
#define PVIO_VUSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pvring_drv.h"
#include "pvring_poll.h"
#include "vhost_user.h"
#include "virtio_config.h"
#include "virtio_blk.h"
#include "virtio_net.h"
#include "virtio_console.h"

#define VUSER_TIMEOUT_MS_DEFAULT 5000 /* for every reply and every wait */
#define VUSER_QUEUE_SIZE_DEFAULT 128
#define VUSER_MAX_QUEUES 64

/* The guest memory: one memfd, mapped once, shared with the back-end. */
struct vuser_mem {
	int fd; /* memfd, or -1 */
	void *base; /* our mapping; guest-physical 0 */
	size_t size; /* bytes mapped (and shared) */
	size_t used; /* bump allocator: bytes handed out from base */
	bool hugetlb; /* MFD_HUGETLB backing */
};

struct vuser_dev;

/* One virtqueue of the device. */
struct vuser_queue {
	struct vuser_dev *dev;
	unsigned int index; /* vhost-user vring index */
	unsigned int num; /* ring size */
	struct pvring_drv ring; /* driver side, over guest memory */
	struct pvring_drv_slot *slot; /* private slot array (num entries) */
	void *area[3]; /* desc, driver and device areas, for SET_VRING_ADDR */
	int kick_fd; /* eventfd we write to notify the back-end */
	int call_fd; /* eventfd the back-end writes on completion */
	struct pvring_poll poll; /* how long vuser_queue_wait() polls before it sleeps */
	unsigned long kicks; /* statistics: notifications sent */
	unsigned long waits; /* statistics: sleeps on call_fd */
	unsigned long poll_hits; /* statistics: waits that polling ended (no sleep) */
};

/* What the caller asks of vuser_dev_open(). */
struct vuser_dev_opts {
	const char *socket_path;
	unsigned int device_id; /* PVIO_ID_BLOCK/NET/CONSOLE, for messages only */
	int timeout_ms; /* per reply and per wait; 0: default */
	size_t mem_size; /* bytes of guest memory (rounded up) */
	bool hugetlb; /* back guest memory with hugetlbfs pages */
	uint64_t features; /* device features the caller can use */
	uint64_t required; /* features without which it cannot work */
	unsigned int num_queues; /* queues to set up; 0: all the back-end has */
	bool queue_pairs; /* GET_QUEUE_NUM counts rx/tx pairs (net) */
	unsigned int queue_size; /* power of two; 0: default */
	unsigned int indirect_max; /* 0: no indirect tables, else per-chain max */
	size_t config_size; /* bytes of device config to read (GET_CONFIG) */
};

struct vuser_dev {
	char path[108]; /* the socket, for messages */
	int sock; /* connected Unix socket, or -1 */
	int timeout_ms;
	uint64_t dev_features; /* what the back-end offered */
	uint64_t features; /* negotiated */
	uint64_t protocol_features; /* negotiated, 0 without F_PROTOCOL_FEATURES */
	unsigned int max_queues; /* GET_QUEUE_NUM, or 1... */
	struct vuser_mem mem;
	struct vuser_queue *queues;
	unsigned int nqueues;
	uint8_t config[VHOST_USER_CONFIG_SIZE_MAX]; /* device config, GET_CONFIG */
	size_t config_len; /* bytes valid in config, 0 without CONFIG */
	int inflight_fd; /* the in-flight region (INFLIGHT_SHMFD), or -1 */
	struct vhost_user_inflight inflight; /* its geometry, for SET_INFLIGHT_FD */
	char errmsg[512]; /* last error, for the user */
};

/* dev.c */
int vuser_dev_open(struct vuser_dev *dev, const struct vuser_dev_opts *opts);
void vuser_dev_close(struct vuser_dev *dev);
const char *vuser_dev_errmsg(const struct vuser_dev *dev);
int vuser_dev_err(struct vuser_dev *dev, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int vuser_dev_get_config(struct vuser_dev *dev, void *buf, size_t len);
int vuser_dev_config_write(struct vuser_dev *dev, uint32_t offset, const void *buf, size_t len);
int vuser_dev_connect(struct vuser_dev *dev, const char *path, int timeout_ms);
int vuser_dev_negotiate(struct vuser_dev *dev, const struct vuser_dev_opts *opts);
int vuser_dev_start(struct vuser_dev *dev, const struct vuser_dev_opts *opts);
int vuser_dev_reconnect(struct vuser_dev *dev, const struct vuser_dev_opts *opts, int wait_ms);
bool vuser_dev_has(const struct vuser_dev *dev, unsigned int feature);

/* mem.c */
int vuser_mem_init(struct vuser_mem *mem, size_t size, bool hugetlb);
void vuser_mem_destroy(struct vuser_mem *mem);
void *vuser_mem_alloc(struct vuser_mem *mem, size_t size, size_t align);

/**
 * vuser_mem_gpa - the guest-physical address of a pointer into guest memory
 * @mem: the guest memory
 * @p: a pointer returned by vuser_mem_alloc() or inside such a buffer
 *
 * Return: the address the back-end sees (the offset in the memfd).
 */
static inline uint64_t vuser_mem_gpa(const struct vuser_mem *mem, const void *p)
{
	return (uint64_t)((const char *)p - (const char *)mem->base);
}

static inline bool vuser_mem_contains(const struct vuser_mem *mem, const void *p, size_t len)
{
	const char *c = p, *b = mem->base;

	return c >= b && len <= mem->size && (size_t)(c - b) <= mem->size - len;
}

/* queue.c */
int vuser_queue_init(struct vuser_queue *q, struct vuser_dev *dev, unsigned int index,
		     unsigned int num, unsigned int indirect_max);
void vuser_queue_destroy(struct vuser_queue *q);
int vuser_queue_wait(struct vuser_queue *q, int timeout_ms);
void vuser_queue_set_poll(struct vuser_queue *q, enum pvring_poll_mode mode, unsigned int max_us);
int vuser_poll_mode_parse(const char *s, enum pvring_poll_mode *mode);

/**
 * vuser_queue_kick - notify the back-end of new buffers if it wants to be
 * @q: the queue, after one or more pvring_drv_add()
 */
void vuser_queue_kick(struct vuser_queue *q);

/* blk.c: a block device. */
struct vuser_blk_req {
	/* Filled in by the caller before vuser_blk_submit(). */
	unsigned int type; /* PVIO_BLK_T_* */
	uint64_t offset; /* bytes, multiple of 512 */
	void *buf; /* in guest memory (vuser_dev_alloc); NULL for FLUSH */
	uint32_t len; /* bytes: data, or range for DISCARD/WRITE_ZEROES */
	bool unmap; /* WRITE_ZEROES: the device may deallocate */
	void *priv; /* caller's cookie */
	uint64_t submit_ns; /* caller's, e.g. for latency */
	/* Filled in on completion. */
	int result; /* 0, -EIO, -EOPNOTSUPP, -EPROTO */
	uint32_t done_len; /* bytes the device wrote (incl. status byte) */
	/* Private. */
	struct vuser_blk_shared *shared; /* header, segment, status: in guest memory */
	struct vuser_blk_req *next_free;
};

struct vuser_blk_queue {
	struct vuser_queue *q;
	struct vuser_blk_req *reqs; /* depth requests */
	struct vuser_blk_req *free; /* free list */
	unsigned int depth;
	unsigned int inflight;
};

struct vuser_blk {
	struct vuser_dev dev;
	struct pvio_blk_config cfg; /* what GET_CONFIG said (zero without CONFIG) */
	uint64_t capacity_bytes;
	unsigned int blk_size;
	struct vuser_blk_queue *bq;
	unsigned int nqueues;
};

struct vuser_blk_opts {
	const char *socket_path;
	unsigned int num_queues; /* 0: 1 */
	unsigned int depth; /* requests in flight per queue; 0: 32 */
	size_t buf_bytes; /* extra guest memory for data buffers */
	bool hugetlb;
	bool no_indirect;
	bool packed; /* require VIRTIO_F_RING_PACKED: packed rings (virtio 1.2 §2.8) */
	bool in_order; /* offer VIRTIO_F_IN_ORDER: the rings reap batches of used buffers */
	int timeout_ms;
};

int vuser_blk_open(struct vuser_blk *blk, const struct vuser_blk_opts *opts);
void vuser_blk_close(struct vuser_blk *blk);
int vuser_blk_reconnect(struct vuser_blk *blk, const struct vuser_blk_opts *opts, int wait_ms);
void *vuser_blk_alloc(struct vuser_blk *blk, size_t size);
struct vuser_blk_req *vuser_blk_req_get(struct vuser_blk *blk, unsigned int qi);
void vuser_blk_req_put(struct vuser_blk *blk, unsigned int qi, struct vuser_blk_req *req);
int vuser_blk_submit(struct vuser_blk *blk, unsigned int qi, struct vuser_blk_req *req);
void vuser_blk_kick(struct vuser_blk *blk, unsigned int qi);
int vuser_blk_reap(struct vuser_blk *blk, unsigned int qi, struct vuser_blk_req **done,
		   unsigned int max);
int vuser_blk_wait(struct vuser_blk *blk, unsigned int qi, struct vuser_blk_req **done,
		   unsigned int max, int timeout_ms);
int vuser_blk_sync(struct vuser_blk *blk, unsigned int qi, unsigned int type, uint64_t offset,
		   void *buf, uint32_t len);
int vuser_blk_get_id(struct vuser_blk *blk, char *id, size_t len);

/* net.c: a network device with one queue pair. */
struct vuser_net {
	struct vuser_dev dev;
	struct pvio_net_config cfg;
	struct vuser_queue *rxq, *txq;
	uint8_t *rxbufs; /* rxq->num buffers of rx_buf_size, guest memory */
	uint8_t *txbufs; /* txq->num buffers of tx_buf_size, guest memory */
	unsigned int rx_buf_size;
	unsigned int tx_buf_size;
	uint16_t *tx_free; /* stack of free tx buffer numbers */
	unsigned int tx_nfree;
	bool mrg_rxbuf;
	unsigned long rx_dropped; /* frames larger than the caller's buffer */
	struct vuser_queue *ctrlq; /* vring 2 with opts->ctrl_vq, else NULL */
	uint8_t *ctrlbuf; /* one command: header, data, ack; guest memory */
};

struct vuser_net_opts {
	const char *socket_path;
	unsigned int queue_size; /* 0: 256 */
	unsigned int max_frame; /* 0: 1514 */
	unsigned int rx_buf_size; /* bytes per receive buffer; 0: 2048 */
	bool no_mrg_rxbuf;
	bool hugetlb;
	bool packed; /* require VIRTIO_F_RING_PACKED: packed rings (virtio 1.2 §2.8) */
	bool in_order; /* offer VIRTIO_F_IN_ORDER: the rings reap batches of used buffers */
	int timeout_ms;
	/* Negotiate the control queue (CTRL_RX, CTRL_RX_EXTRA, CTRL_MAC_ADDR, CTRL_VLAN). */
	bool ctrl_vq;
};

/* Command data vuser_net_ctrl() takes (virtio-net's largest: a MAC table). */
#define VUSER_NET_CTRL_DATA_MAX 1022

int vuser_net_open(struct vuser_net *net, const struct vuser_net_opts *opts);
void vuser_net_close(struct vuser_net *net);
int vuser_net_send(struct vuser_net *net, const void *frame, size_t len);
int vuser_net_flush(struct vuser_net *net);
int vuser_net_reap_tx(struct vuser_net *net);
int vuser_net_recv(struct vuser_net *net, void *frame, size_t cap);
int vuser_net_wait_rx(struct vuser_net *net, int timeout_ms);
int vuser_net_ctrl(struct vuser_net *net, uint8_t cls, uint8_t cmd, const void *data, size_t len);

/* --- console.c: a console device (owned by the console author) --------------------- */

#define VUSER_CONSOLE_PORTS_MAX ((VUSER_MAX_QUEUES - 2) / 2)
#define VUSER_CONSOLE_NAME_MAX 128

/* One port: its two queues and what the control queue said about it. */
struct vuser_console_port {
	struct vuser_queue *rxq, *txq;
	uint8_t *rxbufs; /* rxq->num buffers of buf_size, guest memory */
	uint8_t *txbufs; /* txq->num buffers of buf_size, guest memory */
	uint16_t *tx_free; /* stack of free transmit buffer numbers */
	unsigned int tx_nfree;
	uint8_t *rx_cur; /* a received buffer not yet read to its end */
	uint32_t rx_cur_len, rx_cur_off;
	bool added; /* DEVICE_ADD seen (port 0 without MULTIPORT: always) */
	bool console; /* CONSOLE_PORT seen */
	bool host_open; /* last PORT_OPEN from the device */
	char name[VUSER_CONSOLE_NAME_MAX]; /* PORT_NAME, "" when none */
	uint16_t cols, rows; /* last RESIZE */
	unsigned int resizes; /* RESIZE messages seen */
};

struct vuser_console {
	struct vuser_dev dev;
	struct pvio_console_config cfg; /* GET_CONFIG at open */
	bool multiport; /* MULTIPORT negotiated */
	unsigned int nports; /* max_nr_ports, or 1 */
	unsigned int buf_size; /* bytes per data buffer */
	struct vuser_console_port *ports;
	struct vuser_queue *crxq, *ctxq; /* control queues (MULTIPORT) */
	uint8_t *crxbufs; /* control receive buffers */
	uint8_t *ctxbufs; /* control transmit buffers */
	uint16_t *ctx_free;
	unsigned int ctx_nfree;
	unsigned long ctrl_msgs; /* control messages received */
};

struct vuser_console_opts {
	const char *socket_path;
	unsigned int queue_size; /* 0: 128 */
	unsigned int buf_size; /* bytes per data buffer; 0: 4096 */
	bool no_multiport; /* do not negotiate MULTIPORT */
	bool packed; /* require VIRTIO_F_RING_PACKED: packed rings (virtio 1.2 §2.8) */
	int timeout_ms;
};

int vuser_console_open(struct vuser_console *con, const struct vuser_console_opts *opts);
void vuser_console_close(struct vuser_console *con);
int vuser_console_reconnect(struct vuser_console *con, const struct vuser_console_opts *opts,
			    int wait_ms);
int vuser_console_ctrl_poll(struct vuser_console *con);
int vuser_console_port_open(struct vuser_console *con, unsigned int port, bool open);
int vuser_console_write(struct vuser_console *con, unsigned int port, const void *buf, size_t len);
int vuser_console_read(struct vuser_console *con, unsigned int port, void *buf, size_t cap);
int vuser_console_wait_rx(struct vuser_console *con, unsigned int port, int timeout_ms);
int vuser_console_wait_ctrl(struct vuser_console *con, int timeout_ms);
int vuser_console_tx_drain(struct vuser_console *con, unsigned int port, int timeout_ms);

/* --- end of console.c ------------------------------------------------------------ */

#endif /* PVIO_VUSER_H */
