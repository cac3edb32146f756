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

# pvio_net through -netdev vhost-user on pviod's tap back-end.  The harness
# gives vhost-user net INTx (vectors=0): QEMU 7.2 segfaults when a guest
# enables MSI-X on it under TCG, whatever the back-end or guest driver.
VM_TESTS += tests/guest/pvio_net_pviod.sh

# Same guest boot: TCP throughput, pvio_net against stock virtio_net.
BENCHES += tests/guest/pvio_net_bench.sh
