#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: pviod_crash_recovery.sh with the disk on a Ceph RBD image (a
# throwaway cluster, tests/lib/ceph.sh; run it under flock
# /tmp/pvio-global.lock): pviod SIGKILLed and restarted under the guest's
# writes resubmits what was in flight, and every write the guest saw
# complete is in the image (checked through rbd export).  Fewer kills than
# the file variant (CRASH_KILLS, default 2): after each kill the new pviod
# waits for the dead one's exclusive lock to expire (Documentation/storage.rst).
#
# timeout=300
CRASH_HANDSHAKE=${CRASH_HANDSHAKE-} CRASH_BACKEND=rbd CRASH_KILLS=${CRASH_KILLS:-2} exec "$(dirname "${BASH_SOURCE[0]}")/pviod_crash_recovery.sh"
