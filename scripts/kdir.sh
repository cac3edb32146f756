#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Print the build directory of the newest kernel whose headers are installed:
# /lib/modules/*/build first, then /usr/src/linux-headers-*-amd64 (Debian's
# linux-headers-amd64 puts them there).  Prints nothing when there are none.
for d in $(ls -d /lib/modules/*/build /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V -r); do
	if [ -f "$d/Makefile" ]; then
		echo "$d"
		exit 0
	fi
done
