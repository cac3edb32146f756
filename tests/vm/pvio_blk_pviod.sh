#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: pvio_blk_vhost_user.sh with pviod as the back-end (SKIP until
# build/pviod exists).
#
# timeout=240
BACKEND=pviod exec "$(dirname "${BASH_SOURCE[0]}")/pvio_blk_vhost_user.sh" "$@"
