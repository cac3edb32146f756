#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: pvio_net loaded as a user would, with no module parameter:
# `insmod pvio_core.ko; insmod pvio_net.ko` binds QEMU's virtio-net-pci and
# gives a working eth0 (TCP both ways, sha256 verified at both ends).  A
# virtio-rng-pci beside it, a type pvio does not drive, is left alone (a
# dmesg line says so) and taken by the stock virtio_pci loaded afterwards;
# with virtio_pci built in (Debian's 6.12, which owns every device from boot;
# /init frees the net one for pvio_core), the rng device is unbound from it,
# refused by pvio_pci (bind fails with that dmesg line) and re-probed back
# to virtio-pci, and nothing loads or unloads virtio_pci.  Writing pvio_core's types parameter unbinds and rebinds the net device; a
# net device virtio_pci owns is left to it (a dmesg line says so), then
# moved to pvio with driver_override (Documentation/frontend.rst).
# PVG_IN_ORDER=on: the device with in_order=on (pvn_in_order; the matrix,
# tests/vm/matrix_smoke.sh), and the guest checks it was negotiated.
# Guest side: guest/pvio_net.sh, PVG_MODE=auto.  QEMU runs in a network
# namespace with a TAP (pvio_net_lib.sh).
#
# timeout=300
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
vmt_init pvio_net_auto
pvg_modules
# shellcheck source-path=SCRIPTDIR source=pvio_net_lib.sh
. "$VMT_DIR/pvio_net_lib.sh"
pvn_need
pvn_in_order

pvn_netns_up 1
pvn_peer_start
pvn_initrd auto

rc=0
pvn_in_ns "$VM_TOP/scripts/vm/run.sh" -i "$VMT_TMP/initrd" --timeout 260 --mem 768 \
	--tap "$VMT_TMP/tap" --console "$VMT_TMP/console" \
	--append "PVG_MODE=auto PVG_SHA=$PVN_SHA PVG_QUEUES=1 $PVN_IN_ORDER_ENV" -- \
	-netdev "tap,id=n0,ifname=$PVN_TAP,script=no,downscript=no,vhost=off" \
	-device "virtio-net-pci,netdev=n0$PVN_IN_ORDER_DEV${PVN_IN_ORDER_MRG:+,mrg_rxbuf=$PVN_IN_ORDER_MRG}" \
	-device virtio-rng-pci \
	>/dev/null || rc=$?

tap_merge "$VMT_TMP/tap" "guest: "
tap_check "guest ran to the end, kernel log clean (run.sh exit $rc)" [ "$rc" = 0 ]
tap_check "the host received the guest's uploads with the right sha256" \
	grep -q "sha256 $PVN_SHA" "$VMT_TMP/peer.log"
tap_end
