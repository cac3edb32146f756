/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * virtio_net.h - the virtio network device (virtio 1.2 §5.1): feature bits,
 * configuration space, the per-packet header and the control queue.
 *
 * Queues: receiveq1, transmitq1, ..., receiveqN, transmitqN, then controlq
 * when F_CTRL_VQ (N = max_virtqueue_pairs with F_MQ, else 1).  Every frame on
 * a data queue is preceded by struct pvio_net_hdr (12 bytes with VERSION_1).
 */
#ifndef PVIO_VIRTIO_NET_H
#define PVIO_VIRTIO_NET_H

#include <linux/types.h>

/*
 * The wire tables below are aligned by hand, one column for values and one
 * for comments, to read like the spec; clang-format would collapse them.
 */
/* clang-format off */
/* Feature bits (§5.1.3). */
#define PVIO_NET_F_CSUM			0	/* device handles partial csum (tx) */
#define PVIO_NET_F_GUEST_CSUM		1	/* driver handles partial csum (rx) */
#define PVIO_NET_F_CTRL_GUEST_OFFLOADS	2
#define PVIO_NET_F_MTU			3	/* mtu is valid */
#define PVIO_NET_F_MAC			5	/* mac is valid */
#define PVIO_NET_F_GUEST_TSO4		7
#define PVIO_NET_F_GUEST_TSO6		8
#define PVIO_NET_F_GUEST_ECN		9
#define PVIO_NET_F_GUEST_UFO		10
#define PVIO_NET_F_HOST_TSO4		11
#define PVIO_NET_F_HOST_TSO6		12
#define PVIO_NET_F_HOST_ECN		13
#define PVIO_NET_F_HOST_UFO		14
#define PVIO_NET_F_MRG_RXBUF		15	/* rx frames may span buffers */
#define PVIO_NET_F_STATUS		16	/* status is valid */
#define PVIO_NET_F_CTRL_VQ		17
#define PVIO_NET_F_CTRL_RX		18
#define PVIO_NET_F_CTRL_VLAN		19
#define PVIO_NET_F_CTRL_RX_EXTRA	20	/* ALLUNI, NOMULTI, NOUNI, NOBCAST */
#define PVIO_NET_F_GUEST_ANNOUNCE	21
#define PVIO_NET_F_MQ			22
#define PVIO_NET_F_CTRL_MAC_ADDR	23

#define PVIO_NET_S_LINK_UP		1
#define PVIO_NET_S_ANNOUNCE		2

struct pvio_net_config {
	__u8 mac[6];
	__le16 status;			/* PVIO_NET_S_* */
	__le16 max_virtqueue_pairs;
	__le16 mtu;
	__le32 speed;			/* Mbit/s, 0xffffffff unknown */
	__u8 duplex;			/* 0x00 half, 0x01 full, 0xff unknown */
	__u8 rss_max_key_size;
	__le16 rss_max_indirection_table_length;
	__le32 supported_hash_types;
} __attribute__((packed));

/* The header before every frame (§5.1.6). */
struct pvio_net_hdr {
	__u8 flags;			/* PVIO_NET_HDR_F_* */
	__u8 gso_type;			/* PVIO_NET_HDR_GSO_* */
	__le16 hdr_len;			/* Ethernet + IP + transport headers */
	__le16 gso_size;		/* payload bytes per segment */
	__le16 csum_start;		/* checksum from here... */
	__le16 csum_offset;		/* ...stored at csum_start + this */
	__le16 num_buffers;		/* rx with MRG_RXBUF: buffers the frame spans */
};

#define PVIO_NET_HDR_F_NEEDS_CSUM	1
#define PVIO_NET_HDR_F_DATA_VALID	2
#define PVIO_NET_HDR_F_RSC_INFO		4

#define PVIO_NET_HDR_GSO_NONE		0
#define PVIO_NET_HDR_GSO_TCPV4		1
#define PVIO_NET_HDR_GSO_UDP		3
#define PVIO_NET_HDR_GSO_TCPV6		4
#define PVIO_NET_HDR_GSO_UDP_L4		5
#define PVIO_NET_HDR_GSO_ECN		0x80

/* Control queue (§5.1.6.5): header, command data, then a writable ack byte. */
struct pvio_net_ctrl_hdr {
	__u8 class;
	__u8 cmd;
};

#define PVIO_NET_OK			0
#define PVIO_NET_ERR			1

#define PVIO_NET_CTRL_RX		0
#define  PVIO_NET_CTRL_RX_PROMISC	0
#define  PVIO_NET_CTRL_RX_ALLMULTI	1
#define  PVIO_NET_CTRL_RX_ALLUNI	2
#define  PVIO_NET_CTRL_RX_NOMULTI	3
#define  PVIO_NET_CTRL_RX_NOUNI		4
#define  PVIO_NET_CTRL_RX_NOBCAST	5
#define PVIO_NET_CTRL_MAC		1
#define  PVIO_NET_CTRL_MAC_TABLE_SET	0	/* two tables: le32 count, 6-byte entries */
#define  PVIO_NET_CTRL_MAC_ADDR_SET	1
#define PVIO_NET_CTRL_VLAN		2	/* le16 vid, 0..4095 */
#define  PVIO_NET_CTRL_VLAN_ADD		0
#define  PVIO_NET_CTRL_VLAN_DEL		1
#define PVIO_NET_CTRL_ANNOUNCE		3
#define PVIO_NET_CTRL_MQ		4
#define  PVIO_NET_CTRL_MQ_VQ_PAIRS_SET	0	/* le16 virtqueue_pairs */
#define  PVIO_NET_CTRL_MQ_VQ_PAIRS_MIN	1
#define  PVIO_NET_CTRL_MQ_VQ_PAIRS_MAX	0x8000
#define PVIO_NET_CTRL_GUEST_OFFLOADS	5
#define  PVIO_NET_CTRL_GUEST_OFFLOADS_SET 0	/* le64 offloads */

/* clang-format on */

_Static_assert(sizeof(struct pvio_net_config) == 24, "virtio_net_config is 24 bytes");
_Static_assert(sizeof(struct pvio_net_hdr) == 12, "virtio_net_hdr (VERSION_1) is 12 bytes");
_Static_assert(sizeof(struct pvio_net_ctrl_hdr) == 2, "virtio_net_ctrl header is 2 bytes");

#endif /* PVIO_VIRTIO_NET_H */
