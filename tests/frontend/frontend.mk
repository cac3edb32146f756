# SPDX-License-Identifier: GPL-2.0
#
# tests/frontend: tests of the guest kernel modules (frontend/core, blk, net,
# console) that boot no guest.  Their VM tests are tests/vm/pvio_*.sh; the
# userspace driver (frontend/virtio-user) is tested in tests/user/.
#
#   dkms.sh   the DKMS packaging (dkms.conf, scripts/dkms-stage.sh): dkms
#             add/build/remove against the installed guest kernel headers

INTEGRATION_TESTS += tests/frontend/dkms.sh
