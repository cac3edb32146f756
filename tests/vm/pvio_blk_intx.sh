#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: pvio_blk_builtin.sh with the guest booted with pci=nomsi: no MSI-X,
# pvio_core falls back to the shared INTx line and the ISR status byte.
#
# timeout=240
PVG_INTX=1 exec "$(dirname "${BASH_SOURCE[0]}")/pvio_blk_builtin.sh" "$@"
