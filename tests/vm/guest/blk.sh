#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of the block VM tests: runs as /test in the initramfs
# (scripts/vm/mkinitramfs.sh), busybox sh, output is TAP on the TAP port.
# Driven by environment from the kernel command line (run.sh --append):
#
#   PVIO_BLK_DEV=/dev/vda      the writable disk (overwritten)
#   PVIO_BLK_SIZE=BYTES        its expected capacity
#   PVIO_BLK_QUEUES=N          expected number of blk-mq hardware queues
#   PVIO_BLK_RO_DEV=/dev/vdb   a read-only disk (optional)
#   PVIO_STAMP_SEED=N          write blk_verify's stamp last (the host checks
#                              the image after power-off)
#   PVIO_FIO=1                 also a short fio verify job (needs --fio)
#
# The host renumbers the points (tests/lib/tap.sh); here each program's
# exit status is a point too, so a crash that loses points still fails.

# shellcheck source=tap.sh
. /lib/pvio/tap.sh

# wait_blk DEV: virtio probes are synchronous, but give udev-less /dev a
# moment all the same.
wait_blk()
{
	i=0
	while [ ! -b "$1" ] && [ "$i" -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -b "$1" ]
}

# nentries DIR: how many entries DIR has.
nentries()
{
	c=0
	for e in "$1"/*; do
		[ -e "$e" ] && c=$((c + 1))
	done
	echo "$c"
}

# run DESC CMD...: CMD's TAP goes through; its exit status is one more point.
run()
{
	desc=$1
	shift
	"$@"
	rc=$?
	if [ "$rc" = 0 ]; then
		ok "$desc: exit status"
	else
		not_ok "$desc: exit status $rc"
	fi
}

dev=${PVIO_BLK_DEV:-/dev/vda}
name=${dev##*/}
echo "TAP version 13"
if ! wait_blk "$dev"; then
	echo "Bail out! $dev did not appear; block devices: $(cd /sys/class/block && echo *)"
	exit 1
fi
echo "# $dev: driver $(basename "$(readlink "/sys/class/block/$name/device/driver")")," \
	"$(cat "/sys/class/block/$name/size") sectors," \
	"$(nentries "/sys/class/block/$name/mq") hw queues"

if [ -n "${PVIO_BLK_QUEUES:-}" ]; then
	nq=$(nentries "/sys/class/block/$name/mq")
	check "$name has $PVIO_BLK_QUEUES hardware queues (has $nq)" [ "$nq" = "$PVIO_BLK_QUEUES" ]
fi

size_arg=
[ -n "${PVIO_BLK_SIZE:-}" ] && size_arg="--size $PVIO_BLK_SIZE"
# shellcheck disable=SC2086 # size_arg is empty or two words
run "blk_verify $dev" blk_verify --dev "$dev" -T read_only $size_arg

if [ -n "${PVIO_BLK_RO_DEV:-}" ]; then
	if wait_blk "$PVIO_BLK_RO_DEV"; then
		run "blk_verify $PVIO_BLK_RO_DEV (read-only)" \
			blk_verify --dev "$PVIO_BLK_RO_DEV" --expect-ro -t capacity -t read_only
	else
		not_ok "read-only disk $PVIO_BLK_RO_DEV present"
	fi
fi

if [ "${PVIO_FIO:-0}" = 1 ]; then
	jobs=${PVIO_BLK_QUEUES:-1}
	fio --name=verify --filename="$dev" --direct=1 --ioengine=libaio \
		--rw=randwrite --bs=4k --iodepth=16 --numjobs="$jobs" --size=8M \
		--offset_increment=8M --verify=crc32c --do_verify=1 \
		--verify_fatal=1 --group_reporting --output-format=terse \
		--terse-version=3 >/tmp/fio.out 2>&1
	rc=$?
	sed 's/^/# fio: /' /tmp/fio.out | cut -c1-200
	check "fio randwrite+verify, 4k QD16, $jobs job(s)" [ "$rc" = 0 ]
fi

if [ -n "${PVIO_STAMP_SEED:-}" ]; then
	run "blk_verify stamp $dev" blk_verify stamp "$dev" "$PVIO_STAMP_SEED"
fi

echo "# guest: $n points, $failed failed"
[ "$failed" = 0 ]
