#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: pviod_migrate.sh with pvio_blk as the guest's driver (both disks).
#
# timeout=300
set -euo pipefail
DRIVER=pvio exec "$(dirname "${BASH_SOURCE[0]}")/pviod_migrate.sh" "$@"
