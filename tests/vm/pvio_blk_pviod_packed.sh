#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: pvio_blk_pviod.sh with packed=on: pvio_core and pviod negotiate
# packed rings (checked in the guest, bit 34) and pvio_blk passes the same
# data checks over them.
#
# timeout=240
PACKED=on BACKEND=pviod exec "$(dirname "${BASH_SOURCE[0]}")/pvio_blk_vhost_user.sh" "$@"
