# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# fio for the in-guest benchmarks (busybox sh; source it).  The benchmarks
# pack it into the initramfs as /lib/pvio/fio.sh (vmt_initramfs
# always does; fio itself comes with --fio).
#
#   fio_randread DEV QD   4 KiB random reads on block device DEV at depth QD
#                         (O_DIRECT, libaio, over its first 128 MiB,
#                         PVG_RUNTIME seconds, default 8, after a second of
#                         ramp); prints the IOPS, or fio's output as "# fio: "
#                         comments (then it fails)

fio_randread()
{
	_fio_out=$(fio --name=bench --filename="$1" --direct=1 --ioengine=libaio \
		--rw=randread --bs=4k --iodepth="$2" --size=128M --time_based \
		--runtime="${PVG_RUNTIME:-8}" --ramp_time=1 \
		--output-format=terse --terse-version=3 2>&1)
	_fio_iops=$(echo "$_fio_out" | awk -F';' 'NF > 8 { print $8; exit }')
	if [ -z "$_fio_iops" ]; then
		echo "$_fio_out" | sed 's/^/# fio: /'
		return 1
	fi
	echo "$_fio_iops"
}
