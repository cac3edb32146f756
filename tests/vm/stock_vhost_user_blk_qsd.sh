#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: vhost-user-blk-pci served by qemu-storage-daemon, with the guest's
# stock virtio_blk (tests/vm/vhost_user_blk.sh).  BACKEND=pviod runs the same
# test against pviod.
#
# timeout=240
DRIVER=stock exec "$(dirname "${BASH_SOURCE[0]}")/vhost_user_blk.sh" "$@"
