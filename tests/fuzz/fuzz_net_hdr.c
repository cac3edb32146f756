// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_net_hdr - libFuzzer target: pviod's virtio-net header checks
 * (backend/net/hdr.c) on any header, frame and feature set.
 *
 * Input:
 *   byte 0      negotiated features: bit 0 CSUM, bit 1 HOST_TSO4,
 *               bit 2 HOST_TSO6, bit 3 GUEST_CSUM, bits 4-7 more offloads
 *   bytes 1-12  struct pvio_net_hdr, as the driver wrote it
 *   the rest    the frame (its own heap allocation of exactly its length)
 *
 * A header that passes pviod_net_hdr_check() gets its checksum filled in by
 * pviod_net_csum_fill() when it asks for one; ASan catches any byte either
 * touches outside the frame.  The offload helpers run on the feature set.
 *
 * The same bytes also program the receive filter (backend/net/filter.c):
 * bytes 1-2 read as a control command's class (mod 3: RX, MAC, VLAN) and
 * command, the frame as its data; then the frame goes through the filter's
 * decision, and a second command (with filtering surely on) and decision.
 */
#include <stdlib.h>
#include <string.h>

#include "net/net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 1 };
	struct pviod_net_filter filt;
	struct pvio_net_hdr h;
	uint64_t features = 0;
	size_t len;
	uint8_t *frame;
	int ret;

	if (size < 1 + sizeof(h))
		return 0;
	if (data[0] & 1)
		features |= PVIO_BIT(PVIO_NET_F_CSUM);
	if (data[0] & 2)
		features |= PVIO_BIT(PVIO_NET_F_HOST_TSO4);
	if (data[0] & 4)
		features |= PVIO_BIT(PVIO_NET_F_HOST_TSO6);
	if (data[0] & 8)
		features |= PVIO_BIT(PVIO_NET_F_GUEST_CSUM);
	features |= (uint64_t)(data[0] >> 4) << 7; /* GUEST_TSO4 .. HOST_TSO4 range */
	memcpy(&h, data + 1, sizeof(h));
	len = size - 1 - sizeof(h);
	frame = malloc(len ? len : 1);
	if (!frame)
		abort();
	memcpy(frame, data + 1 + sizeof(h), len);

	ret = pviod_net_hdr_check(&h, len, features);
	if (ret != 0 && ret != -EMSGSIZE && ret != -EOPNOTSUPP && ret != -EINVAL)
		abort();
	if (ret == 0 && (h.flags & PVIO_NET_HDR_F_NEEDS_CSUM))
		(void)pviod_net_csum_fill(&h, frame, len);
	(void)pviod_net_tap_offloads(features);

	memset(&filt, 0, sizeof(filt));
	pviod_net_filter_init(&filt, mac, data[0] & 1);
	ret = pviod_net_filter_ctrl(&filt, ~0ULL, data[1] % 3, data[2] & 7, frame, len);
	if (ret != PVIO_NET_OK && ret != PVIO_NET_ERR)
		abort();
	(void)pviod_net_filter_accept(&filt, frame, len);
	ret = pviod_net_filter_ctrl(&filt, ~0ULL, PVIO_NET_CTRL_MAC, PVIO_NET_CTRL_MAC_TABLE_SET,
				    frame, len);
	if (ret == PVIO_NET_OK && !filt.on)
		abort();
	(void)pviod_net_filter_accept(&filt, frame, len);
	free(frame);
	return 0;
}
