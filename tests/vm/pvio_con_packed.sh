#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# pvio_con.sh on a virtio-serial-pci with packed=on: pvio_core must
# negotiate packed rings (checked in the guest) and pvio_con pass the same
# console, port, md5 and hot-plug checks over them.
#
# timeout=300
PVG_PACKED=on exec "$(dirname "${BASH_SOURCE[0]}")/pvio_con.sh" "$@"
