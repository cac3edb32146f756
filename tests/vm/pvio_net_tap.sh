#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: pvio_net against QEMU's own virtio-net-pci (2 queue pairs, MSI-X)
# on a TAP device.  QEMU runs inside a network namespace created here, with
# the TAP (multi-queue, host side 10.98.0.1/24) in it, so no traffic leaves
# this machine.  The guest (guest/pvio_net.sh, PVG_MODE=func) checks ping,
# TCP transfers both ways with sha256 verified at both ends, ethtool -i/-S/
# -l/-L, the receive filters over the control queue (MAC change, promiscuous
# mode, a multicast address, a VLAN), MTU 9000 with 8 KB pings, and rmmod
# under traffic then reload.
#
#   PVG_MRG=off   the device without mergeable receive buffers (big buffers)
#   PVG_PACKED=on the device with packed rings (pvio_net_tap_packed.sh): the
#                 guest also checks pvio_core negotiated them
#   PVG_IN_ORDER=on  the device with in_order=on (QEMU 9.1 or newer, else
#                 SKIP; tests/vm/matrix_smoke.sh): the guest also checks
#                 pvio_net negotiated VIRTIO_F_IN_ORDER (pvn_in_order)
#   PVG_TAP_MODE=peer  the guest's shorter peer mode (ping, TCP both ways,
#                 unload) instead of func
#
# timeout=400
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if [ "${PVG_PACKED:-off}" = on ]; then vmt_init pvio_net_tap_packed; else vmt_init pvio_net_tap; fi
packed_env=PVG_PACKED=0
[ "${PVG_PACKED:-off}" = on ] && packed_env=PVG_PACKED=1
pvg_modules
# shellcheck source-path=SCRIPTDIR source=pvio_net_lib.sh
. "$VMT_DIR/pvio_net_lib.sh"
pvn_need
pvn_in_order

queues=2
pvn_netns_up "$queues"
pvn_peer_start
pvn_initrd func

rc=0
pvn_in_ns "$VM_TOP/scripts/vm/run.sh" -i "$VMT_TMP/initrd" --timeout 360 --mem 768 \
	--tap "$VMT_TMP/tap" --console "$VMT_TMP/console" \
	--append "PVG_MODE=${PVG_TAP_MODE:-func} PVG_SHA=$PVN_SHA PVG_QUEUES=$queues $packed_env $PVN_IN_ORDER_ENV" -- \
	-netdev "tap,id=n0,ifname=$PVN_TAP,script=no,downscript=no,vhost=off,queues=$queues" \
	-device "virtio-net-pci,netdev=n0,mq=on,vectors=$((2 * queues + 2)),mrg_rxbuf=${PVN_IN_ORDER_MRG:-${PVG_MRG:-on}},packed=${PVG_PACKED:-off}$PVN_IN_ORDER_DEV" \
	>/dev/null || rc=$?

tap_merge "$VMT_TMP/tap" "guest: "
tap_check "guest ran to the end, kernel log clean (run.sh exit $rc)" [ "$rc" = 0 ]
tap_check "the host received the guest's uploads with the right sha256" \
	grep -q "sha256 $PVN_SHA" "$VMT_TMP/peer.log"
tap_end
