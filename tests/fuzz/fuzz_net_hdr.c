// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_net_hdr - libFuzzer target: pviod's virtio-net header checks
 * (backend/net_hdr.c) on any header, frame and feature set.
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
 */
#include <stdlib.h>
#include <string.h>

#include "net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
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
	free(frame);
	return 0;
}
