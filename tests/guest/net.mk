# SPDX-License-Identifier: GPL-2.0
#
# tests/guest: VM tests of pvio_net.ko (tests/guest/pvio_net_*.sh).  QEMU
# runs in a network namespace the test creates, with a TAP device in it
# (10.98.0.1/24); the guest side is pvio_net_guest.sh, the host peer
# pvio_net_peer.py.  They SKIP (exit 4) when no guest can boot, without root
# or kernel headers.

# pvio_net on QEMU virtio-net-pci (2 queue pairs): with mergeable receive
# buffers, and without (big buffers, PVG_MRG=off).
VM_TESTS += tests/guest/pvio_net_tap.sh tests/guest/pvio_net_tap_nomrg.sh

# tests/guest/pvio_net_pviod.sh (pvio_net through -netdev vhost-user on
# pviod's tap back-end) is not in VM_TESTS yet: QEMU 7.2 segfaults as soon
# as the guest binds the device, with the stock virtio_net as well
# (PVG_DRIVER=stock tests/guest/pvio_net_pviod.sh).  Add it once pviod's
# net device works with QEMU.

# Same guest boot: TCP throughput, pvio_net against stock virtio_net.
BENCHES += tests/guest/pvio_net_bench.sh
