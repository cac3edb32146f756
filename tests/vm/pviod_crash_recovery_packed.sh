#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: pviod_crash_recovery.sh on packed rings: the stock virtio_blk on
# vhost-user-blk-pci with packed=on (the guest checks that the disk
# negotiated VIRTIO_F_RING_PACKED, bit 34).  pviod SIGKILLed and restarted
# under the guest's verified writes must resubmit what was in flight from
# the packed in-flight region (DescStatePacked), taking where to resume from
# it (QEMU's SET_VRING_BASE after a crash is stale on a packed ring): every
# write the guest saw complete is in the image, and no region was left
# untracked or reset.  Fewer kills than the split test (CRASH_KILLS,
# default 4), one SIGTERM, no handshake steps: what is new is the ring format.
#
# timeout=240
CRASH_PACKED=1 CRASH_HANDSHAKE=${CRASH_HANDSHAKE-} CRASH_KILLS=${CRASH_KILLS:-4} \
	CRASH_TERMS=${CRASH_TERMS:-1} exec "$(dirname "${BASH_SOURCE[0]}")/pviod_crash_recovery.sh"
