/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * vhost_user.h - the vhost-user protocol wire format (QEMU
 * docs/interop/vhost-user.rst).
 *
 * A message is a 12-byte header and up to 4096 bytes of payload, sent over a
 * Unix stream socket; file descriptors ride along as SCM_RIGHTS ancillary
 * data (at most VHOST_USER_MAX_FDS).  Unlike virtio structures, every number
 * here is in the host's native byte order: both ends are on one machine.
 *
 * The front-end (QEMU, pvio's userspace driver) sends requests; the back-end
 * (pviod, qemu-storage-daemon, DPDK) replies where the request has a reply,
 * or with a u64 status when REPLY_ACK was negotiated and NEED_REPLY is set.
 */
#ifndef PVIO_VHOST_USER_H
#define PVIO_VHOST_USER_H

#include <linux/types.h>

/*
 * The wire tables below are aligned by hand, one column for values and one
 * for comments, to read like the spec; clang-format would collapse them.
 */
/* clang-format off */
/* Front-end -> back-end requests. */
#define VHOST_USER_NONE				0
#define VHOST_USER_GET_FEATURES			1	/* reply: u64 */
#define VHOST_USER_SET_FEATURES			2	/* u64 */
#define VHOST_USER_SET_OWNER			3
#define VHOST_USER_RESET_OWNER			4
#define VHOST_USER_SET_MEM_TABLE		5	/* memory + one fd per region */
#define VHOST_USER_SET_LOG_BASE			6
#define VHOST_USER_SET_LOG_FD			7
#define VHOST_USER_SET_VRING_NUM		8	/* vring_state */
#define VHOST_USER_SET_VRING_ADDR		9	/* vring_addr */
#define VHOST_USER_SET_VRING_BASE		10	/* vring_state */
#define VHOST_USER_GET_VRING_BASE		11	/* vring_state, reply: vring_state */
#define VHOST_USER_SET_VRING_KICK		12	/* u64 index | NOFD, + fd */
#define VHOST_USER_SET_VRING_CALL		13	/* u64 index | NOFD, + fd */
#define VHOST_USER_SET_VRING_ERR		14	/* u64 index | NOFD, + fd */
#define VHOST_USER_GET_PROTOCOL_FEATURES	15	/* reply: u64 */
#define VHOST_USER_SET_PROTOCOL_FEATURES	16	/* u64 */
#define VHOST_USER_GET_QUEUE_NUM		17	/* reply: u64 */
#define VHOST_USER_SET_VRING_ENABLE		18	/* vring_state */
#define VHOST_USER_SEND_RARP			19
#define VHOST_USER_NET_SET_MTU			20
#define VHOST_USER_SET_BACKEND_REQ_FD		21
#define VHOST_USER_IOTLB_MSG			22
#define VHOST_USER_SET_VRING_ENDIAN		23
#define VHOST_USER_GET_CONFIG			24	/* config, reply: config */
#define VHOST_USER_SET_CONFIG			25	/* config */
#define VHOST_USER_CREATE_CRYPTO_SESSION	26
#define VHOST_USER_CLOSE_CRYPTO_SESSION		27
#define VHOST_USER_POSTCOPY_ADVISE		28
#define VHOST_USER_POSTCOPY_LISTEN		29
#define VHOST_USER_POSTCOPY_END			30
#define VHOST_USER_GET_INFLIGHT_FD		31	/* inflight, reply: inflight + fd */
#define VHOST_USER_SET_INFLIGHT_FD		32	/* inflight + fd */
#define VHOST_USER_GPU_SET_SOCKET		33
#define VHOST_USER_RESET_DEVICE			34
#define VHOST_USER_VRING_KICK			35
#define VHOST_USER_GET_MAX_MEM_SLOTS		36	/* reply: u64 */
#define VHOST_USER_ADD_MEM_REG			37	/* mem_region_single + fd */
#define VHOST_USER_REM_MEM_REG			38	/* mem_region_single */
#define VHOST_USER_SET_STATUS			39	/* u64 (virtio status byte) */
#define VHOST_USER_GET_STATUS			40	/* reply: u64 */
#define VHOST_USER_REQUEST_MAX			41

/*
 * Back-end -> front-end requests, on the channel SET_BACKEND_REQ_FD hands
 * over (PROTOCOL_F_BACKEND_REQ); their numbers are a space of their own.
 */
#define VHOST_USER_BACKEND_IOTLB_MSG		1
#define VHOST_USER_BACKEND_CONFIG_CHANGE_MSG	2	/* no payload; ack: u64 */
#define VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG 3

/* Virtio feature bit 30: the back-end speaks GET/SET_PROTOCOL_FEATURES. */
#define VHOST_USER_F_PROTOCOL_FEATURES		30
/* Feature bit 26: the back-end marks every guest page it writes in the dirty log. */
#define VHOST_F_LOG_ALL				26

/* Protocol feature bits (GET/SET_PROTOCOL_FEATURES). */
#define VHOST_USER_PROTOCOL_F_MQ		0
#define VHOST_USER_PROTOCOL_F_LOG_SHMFD		1
#define VHOST_USER_PROTOCOL_F_RARP		2
#define VHOST_USER_PROTOCOL_F_REPLY_ACK		3
#define VHOST_USER_PROTOCOL_F_NET_MTU		4
#define VHOST_USER_PROTOCOL_F_BACKEND_REQ	5
#define VHOST_USER_PROTOCOL_F_CROSS_ENDIAN	6
#define VHOST_USER_PROTOCOL_F_CRYPTO_SESSION	7
#define VHOST_USER_PROTOCOL_F_PAGEFAULT		8
#define VHOST_USER_PROTOCOL_F_CONFIG		9
#define VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD	10
#define VHOST_USER_PROTOCOL_F_HOST_NOTIFIER	11
#define VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD	12
#define VHOST_USER_PROTOCOL_F_RESET_DEVICE	13
#define VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS 14
#define VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS 15
#define VHOST_USER_PROTOCOL_F_STATUS		16

/* Header flags. */
#define VHOST_USER_VERSION			0x1
#define VHOST_USER_VERSION_MASK			0x3
#define VHOST_USER_FLAG_REPLY			(1u << 2)	/* this is a reply */
#define VHOST_USER_FLAG_NEED_REPLY		(1u << 3)	/* ack wanted (REPLY_ACK) */

/* SET_VRING_KICK/CALL/ERR payload: queue index, and "no fd follows". */
#define VHOST_USER_VRING_IDX_MASK		0xffull
#define VHOST_USER_VRING_NOFD_MASK		(1ull << 8)

#define VHOST_USER_MAX_FDS			8
#define VHOST_USER_MEM_REGIONS_MAX		8	/* in one SET_MEM_TABLE */
#define VHOST_USER_CONFIG_SIZE_MAX		256
#define VHOST_USER_PAYLOAD_MAX			4096

struct vhost_user_hdr {
	__u32 request;			/* VHOST_USER_* */
	__u32 flags;			/* version | FLAG_* */
	__u32 size;			/* payload bytes that follow */
};

struct vhost_user_vring_state {
	__u32 index;			/* queue */
	__u32 num;			/* size, base index, or enable flag */
};

struct vhost_user_vring_addr {
	__u32 index;			/* queue */
	__u32 flags;			/* VHOST_USER_VRING_F_LOG */
	__u64 desc_user_addr;		/* front-end virtual addresses... */
	__u64 used_user_addr;		/* ...translated through the memory */
	__u64 avail_user_addr;		/* table's userspace_addr */
	__u64 log_guest_addr;
};

#define VHOST_USER_VRING_F_LOG			0x1

/*
 * SET_LOG_BASE payload (with LOG_SHMFD, the log's fd rides along): the
 * dirty log is a bitmap of mmap_size bytes at mmap_offset in that file, one
 * bit per VHOST_LOG_PAGE of guest-physical address space from address 0
 * (page p is bit p % 8 of byte p / 8), set atomically: the front-end clears
 * it concurrently.
 */
struct vhost_user_log {
	__u64 mmap_size;
	__u64 mmap_offset;
};

#define VHOST_LOG_PAGE				0x1000

struct vhost_user_mem_region {
	__u64 guest_phys_addr;
	__u64 memory_size;
	__u64 userspace_addr;		/* the front-end's mapping */
	__u64 mmap_offset;		/* into the region's fd */
};

struct vhost_user_memory {
	__u32 nregions;
	__u32 padding;
	struct vhost_user_mem_region regions[VHOST_USER_MEM_REGIONS_MAX];
};

/* ADD_MEM_REG / REM_MEM_REG payload. */
struct vhost_user_mem_region_single {
	__u64 padding;
	struct vhost_user_mem_region region;
};

struct vhost_user_config {
	__u32 offset;			/* into the device's config space */
	__u32 size;			/* bytes of payload used */
	__u32 flags;			/* VHOST_USER_CONFIG_F_* */
	__u8 payload[VHOST_USER_CONFIG_SIZE_MAX];
};

#define VHOST_USER_CONFIG_F_WRITABLE		0x1
#define VHOST_USER_CONFIG_F_MIGRATION		0x2

/* GET/SET_INFLIGHT_FD payload. */
struct vhost_user_inflight {
	__u64 mmap_size;
	__u64 mmap_offset;
	__u16 num_queues;
	__u16 queue_size;
};

/* One message as it sits in a buffer: header, then a payload of hdr.size. */
struct vhost_user_msg {
	struct vhost_user_hdr hdr;
	union {
		__u64 u64;
		struct vhost_user_vring_state state;
		struct vhost_user_vring_addr addr;
		struct vhost_user_memory memory;
		struct vhost_user_mem_region_single mem_reg;
		struct vhost_user_config config;
		struct vhost_user_inflight inflight;
		struct vhost_user_log log;
		__u8 raw[VHOST_USER_PAYLOAD_MAX];
	} payload;
} __attribute__((packed));

/* clang-format on */

_Static_assert(sizeof(struct vhost_user_hdr) == 12, "vhost-user header is 12 bytes");
_Static_assert(sizeof(struct vhost_user_vring_state) == 8, "vring state is 8 bytes");
_Static_assert(sizeof(struct vhost_user_vring_addr) == 40, "vring address is 40 bytes");
_Static_assert(sizeof(struct vhost_user_mem_region) == 32, "memory region is 32 bytes");
_Static_assert(sizeof(struct vhost_user_memory) == 8 + 8 * 32, "memory table is 264 bytes");
_Static_assert(sizeof(struct vhost_user_mem_region_single) == 40, "single region is 40 bytes");
_Static_assert(sizeof(struct vhost_user_config) == 12 + 256, "config is 268 bytes");
_Static_assert(sizeof(struct vhost_user_log) == 16, "log description is 16 bytes");
_Static_assert(sizeof(struct vhost_user_inflight) == 24, "inflight is 24 bytes (padded)");
_Static_assert(sizeof(struct vhost_user_msg) == 12 + VHOST_USER_PAYLOAD_MAX, "message buffer");

#endif /* PVIO_VHOST_USER_H */
