#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: tests/vm/pviod_blk_resize.sh with the guest's pvio_blk: its
# config_changed re-reads the capacity and sets it (set_capacity_and_notify).
#
# timeout=240
set -euo pipefail
DRIVER=pvio exec "$(dirname "${BASH_SOURCE[0]}")/pviod_blk_resize.sh" "$@"
