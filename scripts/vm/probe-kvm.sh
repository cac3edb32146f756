#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Exit 0 when the guest kernel boots to /init under KVM on this host, 1 when
# it does not (no /dev/kvm, or a host where KVM hangs or fails, as nested or
# restricted hosts do).  lib.sh's vm_accel caches the answer in build/vm/.
#
# Usage: probe-kvm.sh [TIMEOUT_S]   (default 15; a TCG boot to /init is ~4 s)

set -euo pipefail

export VM_PROG=probe-kvm
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

limit=${1:-15}
[ -w /dev/kvm ] || {
	vm_log "/dev/kvm missing or not writable"
	exit 1
}
work=$(mktemp -d "${TMPDIR:-/tmp}/pvio-kvm-probe.XXXXXX")
trap 'rm -rf "$work"' EXIT
printf '#!/bin/sh\necho "ok 1 kvm boots"\n' >"$work/t.sh"
"$VM_TOP/scripts/vm/mkinitramfs.sh" -o "$work/initrd" -t "$work/t.sh"
if PVIO_VM_ACCEL=kvm "$VM_TOP/scripts/vm/run.sh" --accel kvm --timeout "$limit" \
	-i "$work/initrd" >"$work/out" 2>"$work/err"; then
	vm_log "KVM works"
	exit 0
fi
vm_log "KVM does not boot the guest here; using TCG"
exit 1
