# SPDX-License-Identifier: GPL-2.0
#
# pvio_con.ko on QEMU's own virtio-serial-pci: hvc0 console and shell,
# a named port with MiBs each way (md5), hot-add/remove (tests/guest/pvio_con.sh).

VM_TESTS += tests/guest/pvio_con.sh
