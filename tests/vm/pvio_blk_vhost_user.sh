#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: pvio_core + pvio_blk on vhost-user-blk-pci served by
# qemu-storage-daemon, or by pviod with BACKEND=pviod (pvio_blk_pviod.sh):
# tests/vm/vhost_user_blk.sh with DRIVER=pvio.
#
# timeout=240
DRIVER=pvio exec "$(dirname "${BASH_SOURCE[0]}")/vhost_user_blk.sh" "$@"
