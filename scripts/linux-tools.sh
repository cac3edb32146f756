#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Extract from Debian's kernel source tarball only the files pvio uses:
#
#   scripts/checkpatch.pl (+ spelling.txt, const_structs.checkpatch)
#   .clang-format
#   tools/testing/selftests/kselftest_harness.h, kselftest.h
#
# into build/linux-tools/ (override with LINUX_TOOLS_DIR), keeping the paths
# of the kernel tree.  Cached: a stamp records which tarball (path, size,
# mtime) the files came from, so a second run is a no-op.  Prints the
# directory on stdout.  These files are never committed.
#
#   scripts/linux-tools.sh            extract (or reuse) and print the dir
#   LINUX_SOURCE_TAR=... scripts/linux-tools.sh   use another tarball
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tarball=${LINUX_SOURCE_TAR:-/usr/src/linux-source-6.1.tar.xz}
dest=${LINUX_TOOLS_DIR:-$root/build/linux-tools}
FILES=(
	scripts/checkpatch.pl
	scripts/spelling.txt
	scripts/const_structs.checkpatch
	.clang-format
	tools/testing/selftests/kselftest_harness.h
	tools/testing/selftests/kselftest.h
)

if [ ! -r "$tarball" ]; then
	echo "linux-tools.sh: error: kernel source tarball $tarball not found;" \
		"install it with scripts/deps.sh (package linux-source-6.1)" >&2
	exit 1
fi

stamp="$dest/.stamp"
want="$tarball $(stat -c '%s %Y' "$tarball") ${FILES[*]}"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
	ok=1
	for f in "${FILES[@]}"; do
		[ -f "$dest/$f" ] || ok=0
	done
	if [ "$ok" -eq 1 ]; then
		echo "$dest"
		exit 0
	fi
fi

# The tarball has one top directory (linux-source-6.1/); find its name from
# the first entry rather than assuming it.
top=$(tar -tJf "$tarball" | head -n 1 || true)
top=${top%%/*}
[ -n "$top" ] || {
	echo "linux-tools.sh: error: cannot list $tarball (corrupt? reinstall linux-source-6.1)" >&2
	exit 1
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pvio-linux-tools.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
members=()
for f in "${FILES[@]}"; do
	members+=("$top/$f")
done
echo "linux-tools.sh: extracting ${#FILES[@]} files from $tarball" >&2
if ! tar -xJf "$tarball" -C "$tmp" "${members[@]}"; then
	echo "linux-tools.sh: error: $tarball lacks some of: ${FILES[*]}" >&2
	exit 1
fi

mkdir -p "$dest"
for f in "${FILES[@]}"; do
	mkdir -p "$dest/$(dirname "$f")"
	cp -p "$tmp/$top/$f" "$dest/$f"
done
chmod +x "$dest/scripts/checkpatch.pl"
echo "$want" >"$stamp"
echo "$dest"
