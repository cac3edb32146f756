#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# pvio_net_tap.sh on a virtio-net-pci with packed=on: pvio_core must
# negotiate packed rings (checked in the guest) and pvio_net pass every
# functional check over them.
#
# timeout=400
PVG_PACKED=on exec "$(dirname "${BASH_SOURCE[0]}")/pvio_net_tap.sh" "$@"
