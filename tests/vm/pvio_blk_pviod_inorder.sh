#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: pvio_blk_pviod.sh with VIRTIO_F_IN_ORDER: the disks' in_order=on
# on QEMU 10 (9.1 has the property) and pviod's in-order=on; the guest
# checks pvio_core negotiated it (bit 35), then the same data checks.
#
# timeout=240
IN_ORDER=on exec "$(dirname "${BASH_SOURCE[0]}")/pvio_blk_pviod.sh" "$@"
