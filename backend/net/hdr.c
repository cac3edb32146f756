// SPDX-License-Identifier: GPL-2.0
/*
 * hdr.c - checks on the virtio-net header a driver puts before each
 * frame it transmits, the software checksum for a receiver that did not
 * negotiate GUEST_CSUM, and the mapping from guest features to tap offloads.
 *
 * Pure functions (no pviod state) so tests/backend/net_hdr_test.c can hit
 * them with every bad header.  The driver is hostile: a header that would
 * make the tap, another guest or our own checksum code read outside the
 * frame is refused here, before anything uses it.
 */
#include <errno.h>
#include <string.h>
#include <linux/if_tun.h>

#include "net/net.h"

/**
 * pviod_net_hdr_check - may this transmit header go out?
 * @h: the header, copied out of guest memory
 * @frame_len: bytes after the header
 * @features: the negotiated features
 *
 * Return: 0; -EMSGSIZE for a frame shorter than an Ethernet header or
 * longer than PVIOD_NET_FRAME_MAX; -EOPNOTSUPP for an offload that was not
 * negotiated (checksum without CSUM, TSO without HOST_TSO4/6, UDP
 * fragmentation, ECN); -EINVAL for unknown GSO types, or offsets
 * (csum_start, csum_offset, hdr_len, gso_size) that do not fit the frame.
 */
int pviod_net_hdr_check(const struct pvio_net_hdr *h, size_t frame_len, uint64_t features)
{
	unsigned int gso = h->gso_type & ~PVIO_NET_HDR_GSO_ECN;
	unsigned int csum_start = le16_to_cpu(h->csum_start);
	unsigned int csum_offset = le16_to_cpu(h->csum_offset);
	unsigned int hdr_len = le16_to_cpu(h->hdr_len);
	unsigned int gso_size = le16_to_cpu(h->gso_size);

	if (frame_len < PVIOD_NET_ETH_HLEN || frame_len > PVIOD_NET_FRAME_MAX)
		return -EMSGSIZE;
	/*
	 * Flags other than NEEDS_CSUM (DATA_VALID and RSC_INFO mean something
	 * only on receive; others are unknown) are ignored, as virtio 1.2
	 * §5.1.6.2.2 has the device do: the caller clears them.
	 */
	if (h->flags & PVIO_NET_HDR_F_NEEDS_CSUM) {
		if (!(features & PVIO_BIT(PVIO_NET_F_CSUM)))
			return -EOPNOTSUPP;
		/* The 16-bit checksum lies inside the frame, after its start. */
		if (csum_start < PVIOD_NET_ETH_HLEN || csum_offset > frame_len ||
		    (size_t)csum_start + csum_offset + 2 > frame_len)
			return -EINVAL;
	}
	if (h->gso_type & PVIO_NET_HDR_GSO_ECN)
		return -EOPNOTSUPP; /* HOST_ECN is not offered */
	switch (gso) {
	case PVIO_NET_HDR_GSO_NONE:
		return 0;
	case PVIO_NET_HDR_GSO_TCPV4:
		if (!(features & PVIO_BIT(PVIO_NET_F_HOST_TSO4)))
			return -EOPNOTSUPP;
		break;
	case PVIO_NET_HDR_GSO_TCPV6:
		if (!(features & PVIO_BIT(PVIO_NET_F_HOST_TSO6)))
			return -EOPNOTSUPP;
		break;
	case PVIO_NET_HDR_GSO_UDP:
	case PVIO_NET_HDR_GSO_UDP_L4:
		return -EOPNOTSUPP; /* HOST_UFO / HOST_USO are not offered */
	default:
		return -EINVAL;
	}
	/* TSO: the stack fills the checksum of each segment from a partial one. */
	if (!(h->flags & PVIO_NET_HDR_F_NEEDS_CSUM))
		return -EINVAL;
	if (!gso_size || hdr_len > frame_len)
		return -EINVAL;
	return 0;
}

static uint32_t pviod_net_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

/**
 * pviod_net_csum_fill - complete a partial checksum (NEEDS_CSUM) in software
 * @h: a header that passed pviod_net_hdr_check(); its flag is cleared
 * @frame: the frame, contiguous
 * @frame_len: its length
 *
 * For a receiver that did not negotiate GUEST_CSUM: the sender left the
 * pseudo-header sum at csum_start + csum_offset, and the one's complement
 * sum from csum_start to the end completes it (virtio 1.2 §5.1.6.2).
 *
 * Return: 0, or -EINVAL when the offsets do not fit @frame_len.
 */
int pviod_net_csum_fill(struct pvio_net_hdr *h, uint8_t *frame, size_t frame_len)
{
	size_t start = le16_to_cpu(h->csum_start), off = start + le16_to_cpu(h->csum_offset);
	uint32_t sum;
	uint16_t c;

	if (!(h->flags & PVIO_NET_HDR_F_NEEDS_CSUM))
		return 0;
	if (start > frame_len || off + 2 > frame_len)
		return -EINVAL;
	sum = pviod_net_csum_add(0, frame + start, frame_len - start);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	c = (uint16_t)(0xffff - sum); /* ~sum in 16 bits: sum <= 0xffff now */
	/* UDP sends 0 as "no checksum": a computed 0 goes out as 0xffff (RFC 768). */
	if (!c)
		c = 0xffff;
	frame[off] = (uint8_t)(c >> 8);
	frame[off + 1] = (uint8_t)c;
	h->flags = (uint8_t)((h->flags & ~PVIO_NET_HDR_F_NEEDS_CSUM) | PVIO_NET_HDR_F_DATA_VALID);
	return 0;
}

/**
 * pviod_net_tap_offloads - TUNSETOFFLOAD flags for what the driver receives
 * @features: the negotiated features
 *
 * The tap may hand us only what the guest accepts: partial checksums with
 * GUEST_CSUM, TSO super-frames with GUEST_TSO4/6 (which need GUEST_CSUM too).
 *
 * Return: TUN_F_* flags.
 */
uint64_t pviod_net_tap_offloads(uint64_t features)
{
	uint64_t off = 0;

	if (!(features & PVIO_BIT(PVIO_NET_F_GUEST_CSUM)))
		return 0;
	off |= TUN_F_CSUM;
	if (features & PVIO_BIT(PVIO_NET_F_GUEST_TSO4))
		off |= TUN_F_TSO4;
	if (features & PVIO_BIT(PVIO_NET_F_GUEST_TSO6))
		off |= TUN_F_TSO6;
	return off;
}
