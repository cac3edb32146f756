#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Print the build directory of the newest kernel whose headers are installed,
# looking in /lib/modules/*/build and /usr/src/linux-headers-*-amd64 (where
# Debian's linux-headers-amd64 puts them).  Prints nothing when there are none.
for d in /lib/modules/*/build /usr/src/linux-headers-*-amd64; do
	[ -f "$d/Makefile" ] || continue
	v=${d#/lib/modules/}
	v=${v%/build}
	v=${v#/usr/src/linux-headers-}
	echo "$v $d"
done | sort -V -r | head -n 1 | cut -d' ' -f2
