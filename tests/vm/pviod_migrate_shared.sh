#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: pviod_migrate.sh with two pviods on shared storage, one per
# QEMU, both on an NBD export of the image.
#
# timeout=300
set -euo pipefail
MIG_SHARED=nbd exec "$(dirname "${BASH_SOURCE[0]}")/pviod_migrate.sh" "$@"
