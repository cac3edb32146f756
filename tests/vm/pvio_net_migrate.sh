#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: pviod_migrate_net.sh with pvio_net as the guest's driver.
#
# timeout=300
set -euo pipefail
DRIVER=pvio exec "$(dirname "${BASH_SOURCE[0]}")/pviod_migrate_net.sh" "$@"
