#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: the stock virtio_blk on pviod's disks offering VIRTIO_F_IN_ORDER
# (in-order=on, QEMU 10's in_order=on; PACKED=on for packed rings): the
# guest's virtio_ring (6.1, 6.12) does not know the bit and must not have
# negotiated it; the data checks of vhost_user_blk.sh pass all the same.
#
# timeout=240
DRIVER=stock BACKEND=pviod IN_ORDER=on exec "$(dirname "${BASH_SOURCE[0]}")/vhost_user_blk.sh" "$@"
