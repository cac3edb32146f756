#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The layering rule of Documentation/architecture.rst, checked on every
# quoted #include of ring/, protocol/ and backend/:
#
#   ring/                 its own headers only
#   protocol/             no quoted include at all
#   backend/core/         core/, ring/, protocol/
#   backend/vhost-user/   vhost-user/, core/, ring/, protocol/
#   backend/blk|net|console/
#                         their own folder, core/, ring/, protocol/
#   backend/daemon/       anything: it is the wiring
#   backend/rpc/          anything: the control socket drives the daemon
#
# A header of ring/ is pvring*.h, of protocol/ virtio_*.h or vhost_user*.h;
# backend sources name other folders' headers as "folder/name.h".
# Prints one line per violation; exit status 1 when there is any.
set -euo pipefail

cd "$(dirname "$0")/../.."

ring_or_protocol() {
	case $1 in
	pvring*.h | virtio_*.h | vhost_user*.h) return 0 ;;
	esac
	return 1
}

bad=0
while IFS= read -r f; do
	dir=${f%/*}
	case $dir in
	ring) allowed="ring" ;;
	protocol) allowed="" ;;
	backend/core) allowed="core ring protocol" ;;
	backend/vhost-user) allowed="vhost-user core ring protocol" ;;
	backend/blk | backend/net | backend/console) allowed="${dir#backend/} core ring protocol" ;;
	*) continue ;;
	esac
	while IFS= read -r inc; do
		case $inc in
		*/*) part=${inc%%/*} ;;
		*)
			if [ "$dir" = ring ] && [[ $inc == pvring*.h ]]; then
				part=ring
			elif [ "$dir" != ring ] && ring_or_protocol "$inc"; then
				part=$([[ $inc == pvring*.h ]] && echo ring || echo protocol)
			else
				part="(unknown)"
			fi
			;;
		esac
		if [[ " $allowed " != *" $part "* ]]; then
			echo "$f: includes \"$inc\": $dir/ may include only: ${allowed:-nothing quoted}"
			bad=1
		fi
	done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
done < <(find ring protocol backend -name '*.[ch]' | sort)
exit "$bad"
