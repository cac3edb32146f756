// SPDX-License-Identifier: GPL-2.0
/*
 * pvio_ring.c - the driver side of pvio's split ring in pvio_core.ko.
 *
 * ring/pvring_drv.c is compiled here unchanged: it is the same file the
 * userspace driver and the ring's tests build.  Kbuild builds objects only
 * inside the module tree (M=frontend), so the ring's source is included
 * rather than listed, as the kernel's tools/virtio includes
 * drivers/virtio/virtio_ring.c.
 */
#include "../../ring/pvring_drv.c"
