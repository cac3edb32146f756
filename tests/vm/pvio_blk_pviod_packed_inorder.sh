#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: pvio_blk_pviod_packed.sh with VIRTIO_F_IN_ORDER (as
# pvio_blk_pviod_inorder.sh): the guest checks both RING_PACKED (bit 34)
# and IN_ORDER (bit 35) were negotiated, then the same data checks.
#
# timeout=240
IN_ORDER=on exec "$(dirname "${BASH_SOURCE[0]}")/pvio_blk_pviod_packed.sh" "$@"
