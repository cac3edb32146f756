#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# pvio_net_tap.sh on a device without VIRTIO_NET_F_MRG_RXBUF: the driver
# then posts "big" receive buffers (page chains for 64 KiB GSO frames).
#
# timeout=400
PVG_MRG=off exec "$(dirname "${BASH_SOURCE[0]}")/pvio_net_tap.sh" "$@"
