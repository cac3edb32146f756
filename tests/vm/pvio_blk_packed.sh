#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: pvio_blk_builtin.sh with QEMU's virtio-blk-pci devices at
# packed=on: pvio_core must negotiate RING_PACKED (bit 34, checked in the
# guest) and pvio_blk pass the same data checks over packed rings.
#
# timeout=240
PVG_PACKED=1 exec "$(dirname "${BASH_SOURCE[0]}")/pvio_blk_builtin.sh" "$@"
