#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: a net link taken down and up under a guest whose NIC is pviod's
# net device (tap back-end in a network namespace, QEMU -netdev vhost-user).
# QEMU's virtio-net keeps the link status of the guest's config space
# itself: the link is QEMU's, set with QMP set_link on the vhost-user
# netdev, which also stops the back-end's rings (GET_VRING_BASE) while down
# and starts them again where they stopped.  One boot, the stock virtio_net
# then pvio_net (no module parameter), each through PVG_LINK_CYCLES down/up
# cycles (default 1): the guest (guest/pvio_net.sh, PVG_MODE=link) asks for
# each change through its kernel log, sees carrier and operstate follow, no
# answer while down, then no ping lost and TCP with sha256 verified (host to
# guest each cycle, both ways on the last) once the host answers again.  pviod logs its messages (debug):
# every cycle stopped and restarted its rings, and it logged no error.
# (pvioctl link does not reach this guest: Documentation/vhost-user.rst.)
#
# timeout=200
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
vmt_init pviod_net_link
pvg_modules
# shellcheck source-path=SCRIPTDIR source=pvio_net_lib.sh
. "$VMT_DIR/pvio_net_lib.sh"
pvn_need
pvn_need_pviod

cycles=${PVG_LINK_CYCLES:-1}
console=$VMT_TMP/console
qmp=$VMT_TMP/qmp.sock
sock=$VMT_TMP/net.sock
# pviod opens the TAP multi-queue: create it so.
pvn_netns_up 2
pvn_peer_start
pvn_initrd link

pvn_pviod_start "$sock" --log-level debug --device "net,socket=$sock,backend=tap:$PVN_TAP"

# The netdev of run.sh's first --net-vhost-user: net-vunet0.
: >"$console"
for drv in stock pvio; do
	for c in $(seq 1 "$cycles"); do
		pvg_when_logged "$console" "pvio-test: link down $drv $c" \
			pvg_qmp "$qmp" set_link '{"name": "net-vunet0", "up": false}'
		pvg_when_logged "$console" "pvio-test: link up $drv $c" \
			pvg_qmp "$qmp" set_link '{"name": "net-vunet0", "up": true}'
	done
done

rc=0
pvn_in_ns "$VM_TOP/scripts/vm/run.sh" -i "$VMT_TMP/initrd" --timeout 170 --mem 768 \
	--tap "$VMT_TMP/tap" --console "$console" --qmp "$qmp" \
	--net-vhost-user "$sock" \
	--append "PVG_MODE=link PVG_SHA=$PVN_SHA PVG_LINK_CYCLES=$cycles" >/dev/null || rc=$?
pvg_watchers_stop

tap_merge "$VMT_TMP/tap" "guest: "
tap_check "guest ran to the end, kernel log clean (run.sh exit $rc)" [ "$rc" = 0 ]
tap_check "the host received the guest's uploads with the right sha256" \
	grep -q "sha256 $PVN_SHA" "$VMT_TMP/peer.log"
pvn_pviod_stop "$rc"
# Each link change stops both rings (GET_VRING_BASE) or starts them again;
# one session per driver, 2 * cycles changes each, the drivers' unloads too.
stops=$(grep -c 'GET_VRING_BASE' "$VMT_TMP/pviod.log" || true)
echo "# pviod: $stops GET_VRING_BASE"
tap_check "pviod: its rings were stopped at every link down ($stops GET_VRING_BASE >= $((4 * cycles)))" \
	[ "$stops" -ge $((4 * cycles)) ]
tap_check "pviod logged no error" bash -c "! grep -qE 'error:|bad header \\(' '$VMT_TMP/pviod.log'"
tap_end
