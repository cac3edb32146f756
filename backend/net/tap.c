// SPDX-License-Identifier: GPL-2.0
/*
 * tap.c - the tap back-end: one fd of a multi-queue TAP interface per
 * queue pair, with the virtio-net header in front of every frame.
 *
 * IFF_VNET_HDR with TUNSETVNETHDRSZ 12 makes the tap speak exactly the
 * VERSION_1 header the driver uses, so checksum and TSO/GSO offloads pass
 * through untouched: transmit is one writev() of our checked copy of the
 * header followed by the guest's own segments (no copy of the frame), and
 * TUNSETOFFLOAD lets the kernel hand us only the offloads the driver
 * negotiated (GUEST_CSUM, GUEST_TSO4/6).  The interface is created when it
 * does not exist (it lasts as long as pviod keeps it open); its addresses
 * and link state are the administrator's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>

#include "net/net.h"

static int pviod_net_tap_fd_open(struct pviod_net *net, const char *ifname, bool mq)
{
	struct ifreq ifr;
	int fd, hdrsz = PVIOD_NET_HDR_LEN, ret;

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		pr_err("%s: tap %s: cannot open /dev/net/tun: %s (is the tun module loaded, are we root?)",
		       net->dev->name, ifname, strerror(-ret));
		return ret;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (mq ? IFF_MULTI_QUEUE : 0);
	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		ret = -errno;
		goto err_close;
	}
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdrsz) < 0) {
		ret = -errno;
		pr_err("%s: tap %s: TUNSETVNETHDRSZ 12: %s", net->dev->name, ifname,
		       strerror(-ret));
		goto err_close;
	}
	/* No offload towards the guest until it negotiates some. */
	if (ioctl(fd, TUNSETOFFLOAD, 0UL) < 0) {
		ret = -errno;
		pr_err("%s: tap %s: TUNSETOFFLOAD: %s", net->dev->name, ifname, strerror(-ret));
		goto err_close;
	}
	return fd;

err_close:
	close(fd);
	return ret;
}

static int pviod_net_tap_open(struct pviod_net *net, const char *ifname)
{
	static const char hint[] =
		" (an existing interface of another kind, or without multi_queue?)";
	unsigned int i;
	int fd;

	if (strlen(ifname) >= IFNAMSIZ) {
		pr_err("%s: tap interface name '%s' is longer than %d characters", net->dev->name,
		       ifname, IFNAMSIZ - 1);
		return -EINVAL;
	}
	for (i = 0; i < net->npairs; i++) {
		fd = pviod_net_tap_fd_open(net, ifname, true);
		/* An existing single-queue tap refuses IFF_MULTI_QUEUE; one pair can use it. */
		if (fd == -EINVAL && net->npairs == 1)
			fd = pviod_net_tap_fd_open(net, ifname, false);
		if (fd < 0) {
			if (fd != -EINVAL || net->npairs > 1)
				pr_err("%s: tap %s: TUNSETIFF (queue %u): %s%s", net->dev->name,
				       ifname, i, strerror(-fd), fd == -EINVAL ? hint : "");
			goto err_close;
		}
		net->pairs[i].src_fd = fd;
	}
	return 0;

err_close:
	while (i--) {
		close(net->pairs[i].src_fd);
		net->pairs[i].src_fd = -1;
	}
	return fd;
}

static void pviod_net_tap_close(struct pviod_net *net)
{
	unsigned int i;

	for (i = 0; i < net->npairs; i++) {
		if (net->pairs[i].src_fd >= 0)
			close(net->pairs[i].src_fd);
		net->pairs[i].src_fd = -1;
	}
}

static int pviod_net_tap_features_set(struct pviod_net *net, uint64_t features)
{
	unsigned long off = (unsigned long)pviod_net_tap_offloads(features);
	unsigned int i;

	for (i = 0; i < net->npairs; i++) {
		if (ioctl(net->pairs[i].src_fd, TUNSETOFFLOAD, off) < 0) {
			pr_err("%s: tap %s: TUNSETOFFLOAD 0x%lx: %s", net->dev->name, net->be_arg,
			       off, strerror(errno));
			return -errno;
		}
	}
	return 0;
}

static void pviod_net_tap_tx(struct pviod_net_pair *p, const struct iovec *iov, unsigned int niov,
			     size_t len)
{
	ssize_t n = writev(p->src_fd, iov, (int)niov);

	if (n == (ssize_t)len)
		return;
	p->st.tx_dropped++;
	/*
	 * EAGAIN / ENOBUFS: the interface is down or its queue full; that is a
	 * drop, not an error.
	 */
	if (n < 0 && errno != EAGAIN && errno != EIO && pviod_ratelimit_ok(&p->rl))
		pr_warn("%s: tap %s: write of %zu bytes: %s", p->net->dev->name, p->net->be_arg,
			len, strerror(errno));
}

static int pviod_net_tap_rx_read(struct pviod_net_pair *p, void *buf, size_t cap)
{
	ssize_t n = read(p->src_fd, buf, cap);

	if (n >= 0)
		return (int)n;
	/* EIO: the interface is down; wait for the next poll. */
	return errno == EINTR ? 0 : -EAGAIN;
}

const struct pviod_net_backend_ops pviod_net_tap_ops = {
	.name = "tap",
	.open = pviod_net_tap_open,
	.close = pviod_net_tap_close,
	.features_set = pviod_net_tap_features_set,
	.tx = pviod_net_tap_tx,
	.rx_read = pviod_net_tap_rx_read,
};
