#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Stage the DKMS source tree of the pvio guest modules: only what their
# Kbuild build needs, no userspace part and no build output.
#
#   scripts/dkms-stage.sh [--version V] DIR
#   make dkms-src DESTDIR=DIR            (the same, without --version)
#
# DIR (for DKMS: /usr/src/pvio-<PACKAGE_VERSION>) must not exist or be
# empty.  It gets:
#
#   dkms.conf                 PACKAGE_VERSION set to V with --version
#   frontend/Kbuild           descends into the module folders
#   frontend/core/ blk/ net/ console/   their Kbuild, *.c and *.h
#   ring/*.[ch] protocol/*.h  the ring (compiled into pvio_core) and the
#                             wire ABI headers
#
# then: dkms add/build/install pvio/<version>.  tests/frontend/dkms.sh stages
# its tree with this script.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# The module folders under frontend/ (frontend/Kbuild's obj-m).
MODULE_DIRS=(core blk net console)

usage()
{
	echo "usage: scripts/dkms-stage.sh [--version V] DIR" >&2
	exit 2
}

version=
while [ $# -gt 0 ]; do
	case $1 in
	--version)
		[ $# -ge 2 ] || usage
		version=$2
		shift 2
		;;
	-h | --help) sed -n '3,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) usage ;;
	*) break ;;
	esac
done
if [ $# -ne 1 ] || [ -z "$1" ]; then
	usage
fi
dest=$1
if [ -e "$dest" ] && [ -n "$(ls -A "$dest")" ]; then
	echo "dkms-stage.sh: $dest is not empty; remove it or give another directory" >&2
	exit 1
fi

mkdir -p "$dest/frontend" "$dest/ring" "$dest/protocol"
cp "$top/frontend/Kbuild" "$dest/frontend/"
for d in "${MODULE_DIRS[@]}"; do
	mkdir -p "$dest/frontend/$d"
	cp "$top/frontend/$d/Kbuild" "$top/frontend/$d"/*.c "$dest/frontend/$d/"
	for f in "$top/frontend/$d"/*.h; do
		[ ! -f "$f" ] || cp "$f" "$dest/frontend/$d/"
	done
done
cp "$top"/ring/*.[ch] "$dest/ring/"
cp "$top"/protocol/*.h "$dest/protocol/"
if [ -n "$version" ]; then
	sed "s/^PACKAGE_VERSION=.*/PACKAGE_VERSION=\"$version\"/" "$top/dkms.conf" >"$dest/dkms.conf"
else
	cp "$top/dkms.conf" "$dest/"
fi
