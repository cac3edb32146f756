#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: pviod_net_tap.sh with packed=on: the stock virtio_net driver on
# packed rings served by pviod's net device (tap back-end), RING_PACKED
# (bit 34) checked in the guest, md5 of the transfers both ways.
#
# timeout=300
PVG_PACKED=on exec "$(dirname "${BASH_SOURCE[0]}")/pviod_net_tap.sh" "$@"
