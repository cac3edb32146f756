#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: con_port_test (tests/vm/guest/con_port_test.c, static, kselftest
# harness) on a virtserialport of QEMU's virtio-serial-pci whose host end is
# an echo peer (pvio_con_port_peer.py): blocking and non-blocking I/O, poll, a
# large write with checksum, one opener, host hangup and reconnect, the
# sysfs name.  Run with pvio_con, then with the stock virtio_console in the
# same boot on the same device, so the test itself is checked against the
# reference driver.
#
# timeout=300
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
vmt_init con_port
pvg_modules
[ -f "$PVG_CON_KO" ] || vm_die "pvio_con.ko not built"
prog=$VM_TOP/$VMT_O/tests/vm/guest/con_port_test
make -C "$VM_TOP" --no-print-directory -s "O=$VMT_O" "$VMT_O/tests/vm/guest/con_port_test" >&2 ||
	vm_die "cannot build $prog"
port=$VMT_TMP/port.sock

vmt_initramfs -o "$VMT_TMP/initrd" \
	--ko-noload "$PVG_CORE_KO" --ko-noload "$PVG_CON_KO" \
	-M virtio_pci -M virtio_console -a "$prog" -t "$VMT_GUEST/pvio_con_port.sh"

"$VMT_DIR/pvio_con_port_peer.py" "$port" 280 &
peer=$!

rc=0
"$VM_TOP/scripts/vm/run.sh" -i "$VMT_TMP/initrd" --timeout 280 --tap "$VMT_TMP/tap" \
	--console "$VMT_TMP/console.log" --virtio-serial "$port,name=org.pvio.echo" \
	>/dev/null || rc=$?
kill "$peer" 2>/dev/null || true
wait "$peer" 2>/dev/null || true

tap_merge "$VMT_TMP/tap" "guest: "
tap_check "guest ran to the end, kernel log clean (run.sh exit $rc)" [ "$rc" = 0 ]
tap_end
