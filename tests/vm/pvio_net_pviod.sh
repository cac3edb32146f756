#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: pvio_net against pviod's net device (QEMU -netdev vhost-user,
# run.sh --net-vhost-user) with the tap back-end, in a network namespace
# created here (host side 10.98.0.1/24 on the TAP pviod opens).  The guest
# (guest/pvio_net.sh, PVG_MODE=peer): ping, TCP both ways with sha256
# verified at both ends, unload.  SKIPs until build/pviod exists.
#
#   PVG_QUEUES=N   queue pairs of pviod's device (default 1)
#   PVG_DRIVER=stock  the stock virtio_net in the guest instead (comparison)
#   PVG_IN_ORDER=on  QEMU's device with in_order=on (pvn_in_order): pviod
#                  offers VIRTIO_F_IN_ORDER; the guest checks pvio_net
#                  negotiated it
#   PVG_PACKED=on  QEMU's device with packed=on; the guest checks packed
#                  rings were negotiated (with IN_ORDER, pviod publishes
#                  runs of sent frames as one used descriptor)
#
# timeout=400
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
vmt_init pvio_net_pviod
pvg_modules
# shellcheck source-path=SCRIPTDIR source=pvio_net_lib.sh
. "$VMT_DIR/pvio_net_lib.sh"
pvn_need
pvn_need_pviod
pvn_in_order

queues=${PVG_QUEUES:-1}
packed_env=PVG_PACKED=0
[ "${PVG_PACKED:-off}" = on ] && packed_env=PVG_PACKED=1
# pviod opens the TAP multi-queue: create it so.
pvn_netns_up 2
pvn_peer_start
pvn_initrd peer

sock=$VMT_TMP/net.sock
pvn_pviod_start "$sock" --device "net,socket=$sock,backend=tap:$PVN_TAP,queues=$queues"

rc=0
pvn_in_ns "$VM_TOP/scripts/vm/run.sh" -i "$VMT_TMP/initrd" --timeout 360 --mem 768 \
	--tap "$VMT_TMP/tap" --console "$VMT_TMP/console" \
	--net-vhost-user "$sock,queues=$queues,packed=${PVG_PACKED:-off}$PVN_IN_ORDER_DEV" \
	--append "PVG_MODE=peer PVG_SHA=$PVN_SHA PVG_QUEUES=$queues PVG_DRIVER=${PVG_DRIVER:-pvio} $packed_env $PVN_IN_ORDER_ENV" \
	>/dev/null || rc=$?

tap_merge "$VMT_TMP/tap" "guest: "
tap_check "guest ran to the end, kernel log clean (run.sh exit $rc)" [ "$rc" = 0 ]
tap_check "the host received the guest's upload with the right sha256" \
	grep -q "sha256 $PVN_SHA" "$VMT_TMP/peer.log"
pvn_pviod_stop "$rc"
tap_end
