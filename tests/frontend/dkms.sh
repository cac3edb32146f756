#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# DKMS packaging: stage the DKMS source tree in /usr/src/pvio-<version>
# (scripts/dkms-stage.sh), check it holds the modules' sources only, then
# dkms add / build / remove against the guest kernel's installed headers and
# against the 6.12 guest kernel's (scripts/deps.sh), and check that each
# module in dkms.conf was built for both.  Leaves nothing behind.
#
# timeout=600
set -euo pipefail

# shellcheck source=../lib/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/lib.sh"
tap_begin
command -v dkms >/dev/null || tap_skip_all "dkms not installed (scripts/deps.sh installs it)"
kdir=$("$PVT_TOP/scripts/kdir.sh")
[ -n "$kdir" ] || tap_skip_all "no kernel headers (linux-headers-amd64)"
kver=$(basename "$(dirname "$kdir")")
case $kdir in
/usr/src/linux-headers-*) kver=${kdir#/usr/src/linux-headers-} ;;
esac
name=pvio
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$PVT_TOP/dkms.conf")
# A version of our own, so a pvio already installed with DKMS is not touched.
ver="$ver.test$$"
src=/usr/src/$name-$ver

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup()
{
	dkms remove "$name/$ver" --all >/dev/null 2>&1 || true
	rm -rf "$src" "/var/lib/dkms/$name/$ver"
}
trap cleanup EXIT

# Only what the modules' Kbuild build needs; no build outputs.
"$PVT_TOP/scripts/dkms-stage.sh" --version "$ver" "$src"
extra=$(cd "$src" && find . -type f ! -name dkms.conf ! -path './frontend/Kbuild' \
	! -path './ring/*.[ch]' ! -path './protocol/*.h' \
	! -regex '\./frontend/\(core\|blk\|net\|console\)/\(Kbuild\|[^/]*\.[ch]\)')
if [ -z "$extra" ] && [ -f "$src/frontend/core/Kbuild" ]; then
	tap_ok "staged tree holds the modules' sources only"
else
	tap_fail "staged tree holds the modules' sources only"
	while read -r f; do
		echo "# unexpected: $f"
	done <<<"$extra"
fi

if dkms add "$name/$ver" >"$src.log" 2>&1; then
	tap_ok "dkms add $name/$ver"
else
	tap_fail "dkms add $name/$ver"
	sed 's/^/# /' "$src.log"
fi
# dkms_build KVER [KDIR]: dkms build for KVER (headers in KDIR when they are
# not /lib/modules/KVER/build) and every module of dkms.conf built.
dkms_build()
{
	local k=$1 m
	local opt=(${2:+"--kernelsourcedir=$2"})

	if dkms build "$name/$ver" -k "$k" "${opt[@]}" >>"$src.log" 2>&1; then
		tap_ok "dkms build for $k"
	else
		tap_fail "dkms build for $k"
		sed 's/^/# /' "$src.log" | tail -n 30
		tail -n 30 "/var/lib/dkms/$name/$ver/build/make.log" 2>/dev/null | sed 's/^/# /'
	fi
	while read -r m; do
		if [ -f "/var/lib/dkms/$name/$ver/$k/x86_64/module/$m.ko" ] ||
			ls "/var/lib/dkms/$name/$ver/$k/x86_64/module/$m.ko"* >/dev/null 2>&1; then
			tap_ok "$m.ko built by dkms for $k"
		else
			tap_fail "$m.ko built by dkms for $k"
		fi
	done < <(sed -n 's/^BUILT_MODULE_NAME\[[0-9]*\]="\(.*\)"/\1/p' "$PVT_TOP/dkms.conf")
}

dkms_build "$kver"
# The matrix's 6.12 guest kernel: headers unpacked by scripts/deps.sh outside
# /lib/modules (scripts/vm/lib.sh finds them).
if k612=$(PVIO_GUEST_KERNEL=6.12 bash -c '. "$1/scripts/vm/lib.sh" && vm_kver' _ "$PVT_TOP" 2>/dev/null); then
	dkms_build "$k612" "$(bash -c '. "$1/scripts/vm/lib.sh" && vm_kdir "$2"' _ "$PVT_TOP" "$k612")"
else
	tap_fail "dkms build for the 6.12 guest kernel (not installed: run scripts/deps.sh)"
fi
# Every module a Kbuild file builds is in dkms.conf, at its folder.
for kb in "$PVT_TOP"/frontend/*/Kbuild; do
	dir=${kb#"$PVT_TOP/"}
	dir=${dir%Kbuild}
	for m in $(sed -n 's/^obj-m *+*= *//p' "$kb" | tr ' ' '\n' | sed -n 's/\.o$//p'); do
		i=$(sed -n "s/^BUILT_MODULE_NAME\[\([0-9]*\)\]=\"$m\"$/\1/p" "$PVT_TOP/dkms.conf")
		if [ -n "$i" ] &&
			grep -qx "BUILT_MODULE_LOCATION\[$i\]=\"$dir\"" "$PVT_TOP/dkms.conf"; then
			tap_ok "$m (${dir}Kbuild) is listed in dkms.conf, built in $dir"
		else
			tap_fail "$m (${dir}Kbuild) is listed in dkms.conf, built in $dir"
		fi
	done
done
rm -f "$src.log"
tap_end
