#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test: pviod_crash_recovery.sh with the disk on an NBD server
# (nbdkit's file plugin; pviod with nbd=): pviod SIGKILLed and restarted
# under the guest's writes resubmits what was in flight, and every write
# the guest saw complete is in the image.  Fewer kills than the file
# variant (CRASH_KILLS, default 4): the engine is what is new here.
#
# timeout=300
CRASH_HANDSHAKE=${CRASH_HANDSHAKE-} CRASH_BACKEND=nbd CRASH_KILLS=${CRASH_KILLS:-4} exec "$(dirname "${BASH_SOURCE[0]}")/pviod_crash_recovery.sh"
