// SPDX-License-Identifier: GPL-2.0
/*
 * pvio_net_ctrl.c - the control queue of pvio_net.ko (F_CTRL_VQ): commands
 * and their acks, the queue pairs in use (CTRL_MQ), and the receive filters:
 * RX mode and MAC tables (CTRL_RX, CTRL_MAC), the MAC address and VLANs.
 * The locking rules are at the top of pvio_net.h.
 */
#include <linux/delay.h>
#include <linux/etherdevice.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>

#include "pvio_net.h"

/* Longest wait for the device to answer a control command. */
#define PVNET_CTRL_TIMEOUT_MS 3000

/* pvnet_ctrl_cmd() under ctrl_lock. */
static int __pvnet_ctrl_cmd(struct pvnet *net, u8 class, u8 cmd, const void *data, unsigned int len)
{
	struct pvnet_ctrl *c = net->ctrl;
	struct pvring_drv *ring;
	unsigned long deadline;
	struct pvring_sg sg[3];
	unsigned int n = 0;
	void *token;
	u32 used;
	int err;

	lockdep_assert_held(&net->ctrl_lock);
	if (WARN_ON_ONCE(len > sizeof(c->data)))
		return -EINVAL;
	if (pvio_device_is_broken(net->pdev))
		return -EIO;
	ring = &net->cvq->ring;
	c->hdr.class = class;
	c->hdr.cmd = cmd;
	memcpy(c->data, data, len);
	c->ack = 0xff; /* anything but what the device writes is an error */
	sg[n].addr = net->ctrl_dma + offsetof(struct pvnet_ctrl, hdr);
	sg[n++].len = sizeof(c->hdr);
	if (len) {
		sg[n].addr = net->ctrl_dma + offsetof(struct pvnet_ctrl, data);
		sg[n++].len = len;
	}
	sg[n].addr = net->ctrl_dma + offsetof(struct pvnet_ctrl, ack);
	sg[n].len = sizeof(c->ack);
	err = pvring_drv_add(ring, sg, n, 1, c);
	if (err) {
		if (err == -EIO)
			pvio_device_broken(net->pdev, "control ring broken");
		return -EIO;
	}
	if (pvio_vq_kick_prepare(net->cvq))
		pvio_vq_notify(net->cvq);

	/* The control queue has no interrupt: commands are rare, poll for the ack. */
	deadline = jiffies + msecs_to_jiffies(PVNET_CTRL_TIMEOUT_MS);
	while ((token = pvring_drv_get_used(ring, &used)) == NULL) {
		if (pvring_drv_broken(ring)) {
			pvio_device_broken(net->pdev, "bad entry in the control used ring");
			return -EIO;
		}
		if (time_after(jiffies, deadline)) {
			pvio_device_broken(net->pdev, "control command timed out");
			return -ETIMEDOUT;
		}
		usleep_range(20, 100);
	}
	return READ_ONCE(c->ack) == PVIO_NET_OK ? 0 : -EIO;
}

/**
 * pvnet_ctrl_cmd - send one control command and wait for its ack
 * @net: the device
 * @class: PVIO_NET_CTRL_*
 * @cmd: the command in @class
 * @data: its data, device-readable
 * @len: bytes of @data, at most PVNET_CTRL_DATA_LEN
 *
 * Process context; takes ctrl_lock.
 *
 * Return: 0, -EOPNOTSUPP without a control queue, -EIO when the device
 * refused it or is broken, -ETIMEDOUT (the device is then broken).
 */
int pvnet_ctrl_cmd(struct pvnet *net, u8 class, u8 cmd, const void *data, unsigned int len)
{
	int err;

	if (!net->cvq)
		return -EOPNOTSUPP;
	mutex_lock(&net->ctrl_lock);
	err = __pvnet_ctrl_cmd(net, class, cmd, data, len);
	mutex_unlock(&net->ctrl_lock);
	return err;
}

/**
 * pvnet_ctrl_warn - log a failed command, once per command class
 * @net: the device
 * @class: the command's class
 * @cmd: the command
 * @err: what pvnet_ctrl_cmd() returned
 *
 * A device that does not implement a class answers every such command with
 * PVIO_NET_ERR, and the interface works on without it.
 */
void pvnet_ctrl_warn(struct pvnet *net, u8 class, u8 cmd, int err)
{
	if (class >= BITS_PER_LONG || test_and_set_bit(class, &net->ctrl_refused))
		return;
	netdev_warn(net->dev,
		    "control command class %u cmd %u failed (%d); carrying on without it\n", class,
		    cmd, err);
}

/**
 * pvnet_set_pairs - select how many queue pairs the device uses
 * @net: the device
 * @pairs: 1..max_pairs
 *
 * Under RTNL.  Return: 0 or -errno (nothing changed then).
 */
int pvnet_set_pairs(struct pvnet *net, unsigned int pairs)
{
	struct net_device *dev = net->dev;
	__le16 v = cpu_to_le16(pairs);
	int err;

	ASSERT_RTNL();
	if (!pairs || pairs > net->max_pairs)
		return -EINVAL;
	if (pvio_has_feature(net->pdev, PVIO_NET_F_MQ)) {
		err = pvnet_ctrl_cmd(net, PVIO_NET_CTRL_MQ, PVIO_NET_CTRL_MQ_VQ_PAIRS_SET, &v,
				     sizeof(v));
		if (err) {
			netdev_warn(dev, "device refused %u queue pairs (%d)\n", pairs, err);
			return err;
		}
	}
	err = netif_set_real_num_tx_queues(dev, pairs);
	if (!err)
		err = netif_set_real_num_rx_queues(dev, pairs);
	if (err)
		return err;
	net->curr_pairs = pairs;
	return 0;
}

/* ---- receive filters: RX mode, MAC tables, VLANs ------------------------ */

/*
 * Copies up to PVNET_MAC_TABLE_MAX addresses of @list after a le32 count at
 * @p.  Under the address-list lock.  Returns the bytes written, or 0 when the
 * list is too long (the count is then 0 and the caller opens the filter).
 */
static size_t pvnet_mac_table_fill(u8 *p, struct netdev_hw_addr_list *list)
{
	unsigned int n = netdev_hw_addr_list_count(list);
	struct netdev_hw_addr *ha;
	size_t off = sizeof(__le32);
	__le32 count;

	count = cpu_to_le32(n > PVNET_MAC_TABLE_MAX ? 0 : n);
	memcpy(p, &count, sizeof(count));
	if (n > PVNET_MAC_TABLE_MAX)
		return 0;
	netdev_hw_addr_list_for_each(ha, list) {
		ether_addr_copy(p + off, ha->addr);
		off += ETH_ALEN;
	}
	return off;
}

/**
 * pvnet_rx_mode_work - send the receive mode and the MAC filter tables
 * @work: pvnet.rx_mode_work, scheduled by ndo_set_rx_mode
 *
 * Sends the receive mode (CTRL_RX: promiscuous, all-multicast) and the
 * unicast and multicast filter tables (CTRL_MAC_TABLE_SET) the stack asked
 * for in ndo_set_rx_mode.  Process context, without RTNL: the address lists
 * are copied under their lock, the commands sent under ctrl_lock.  A device
 * that refuses them keeps filtering as it did; that is logged once.
 */
void pvnet_rx_mode_work(struct work_struct *work)
{
	struct pvnet *net = container_of(work, struct pvnet, rx_mode_work);
	struct net_device *dev = net->dev;
	size_t uc_len, mc_len;
	u8 promisc, allmulti;
	u8 *tables;
	int err;

	tables = kmalloc(PVNET_CTRL_DATA_LEN, GFP_KERNEL);
	if (!tables)
		return;
	netif_addr_lock_bh(dev);
	uc_len = pvnet_mac_table_fill(tables, &dev->uc);
	/* An overflowing table is sent empty: the flags below let everything in. */
	promisc = !!(dev->flags & IFF_PROMISC) || !uc_len;
	uc_len = max(uc_len, sizeof(__le32));
	mc_len = pvnet_mac_table_fill(tables + uc_len, &dev->mc);
	allmulti = !!(dev->flags & IFF_ALLMULTI) || !mc_len;
	mc_len = max(mc_len, sizeof(__le32));
	netif_addr_unlock_bh(dev);

	err = pvnet_ctrl_cmd(net, PVIO_NET_CTRL_RX, PVIO_NET_CTRL_RX_PROMISC, &promisc,
			     sizeof(promisc));
	if (!err)
		err = pvnet_ctrl_cmd(net, PVIO_NET_CTRL_RX, PVIO_NET_CTRL_RX_ALLMULTI, &allmulti,
				     sizeof(allmulti));
	if (err)
		pvnet_ctrl_warn(net, PVIO_NET_CTRL_RX, PVIO_NET_CTRL_RX_PROMISC, err);
	err = pvnet_ctrl_cmd(net, PVIO_NET_CTRL_MAC, PVIO_NET_CTRL_MAC_TABLE_SET, tables,
			     uc_len + mc_len);
	if (err)
		pvnet_ctrl_warn(net, PVIO_NET_CTRL_MAC, PVIO_NET_CTRL_MAC_TABLE_SET, err);
	netdev_dbg(dev, "rx mode: promisc %u allmulti %u, %zu uc / %zu mc table bytes\n", promisc,
		   allmulti, uc_len, mc_len);
	kfree(tables);
}

/**
 * pvnet_rx_mode_enable - allow or stop scheduling rx_mode_work
 * @net: the device
 * @on: true once probe registers the netdev, false before it goes away
 */
void pvnet_rx_mode_enable(struct pvnet *net, bool on)
{
	netif_addr_lock_bh(net->dev);
	net->rx_mode_enabled = on;
	netif_addr_unlock_bh(net->dev);
}

/**
 * pvnet_set_rx_mode - ndo_set_rx_mode: schedule rx_mode_work
 * @dev: the netdev
 *
 * Under the address-list lock (atomic): the commands go from a work item.
 */
void pvnet_set_rx_mode(struct net_device *dev)
{
	struct pvnet *net = netdev_priv(dev);

	if (net->rx_mode_enabled)
		schedule_work(&net->rx_mode_work);
}

/**
 * pvnet_set_mac_address - ndo_set_mac_address
 * @dev: the netdev
 * @p: struct sockaddr with the new address
 *
 * With F_CTRL_MAC_ADDR the device learns the new address over the control
 * queue.  Without it a virtio 1.x device's config mac is read-only: when the
 * device has an address of its own (F_MAC) it may filter on it, so a change
 * is refused rather than silently losing traffic.  Under RTNL.
 *
 * Return: 0 or -errno.
 */
int pvnet_set_mac_address(struct net_device *dev, void *p)
{
	struct pvnet *net = netdev_priv(dev);
	struct sockaddr *sa = p;
	int err;

	err = eth_prepare_mac_addr_change(dev, p);
	if (err)
		return err;
	if (net->cvq && pvio_has_feature(net->pdev, PVIO_NET_F_CTRL_MAC_ADDR)) {
		err = pvnet_ctrl_cmd(net, PVIO_NET_CTRL_MAC, PVIO_NET_CTRL_MAC_ADDR_SET,
				     sa->sa_data, ETH_ALEN);
		if (err) {
			netdev_warn(dev, "device refused MAC address %pM (%d)\n", sa->sa_data, err);
			return err;
		}
	} else if (pvio_has_feature(net->pdev, PVIO_NET_F_MAC)) {
		netdev_warn(dev,
			    "cannot change the MAC: the device lacks VIRTIO_NET_F_CTRL_MAC_ADDR\n");
		return -EOPNOTSUPP;
	}
	eth_commit_mac_addr_change(dev, p);
	return 0;
}

/*
 * CTRL_VLAN (F_CTRL_VLAN, NETIF_F_HW_VLAN_CTAG_FILTER): the device drops
 * tagged frames whose VLAN is not in its table.  A refusal is logged once
 * and not returned, so that the VLAN device still comes up.  Under RTNL.
 */
static int pvnet_vlan_rx_vid(struct net_device *dev, u8 cmd, u16 vid)
{
	struct pvnet *net = netdev_priv(dev);
	__le16 v = cpu_to_le16(vid);
	int err;

	err = pvnet_ctrl_cmd(net, PVIO_NET_CTRL_VLAN, cmd, &v, sizeof(v));
	if (err)
		pvnet_ctrl_warn(net, PVIO_NET_CTRL_VLAN, cmd, err);
	return 0;
}

/**
 * pvnet_vlan_rx_add_vid - ndo_vlan_rx_add_vid: CTRL_VLAN_ADD
 * @dev: the netdev
 * @proto: 802.1Q
 * @vid: the VLAN
 *
 * Return: 0 (a refusal is logged once, see pvnet_vlan_rx_vid()).
 */
int pvnet_vlan_rx_add_vid(struct net_device *dev, __be16 proto, u16 vid)
{
	return pvnet_vlan_rx_vid(dev, PVIO_NET_CTRL_VLAN_ADD, vid);
}

/**
 * pvnet_vlan_rx_kill_vid - ndo_vlan_rx_kill_vid: CTRL_VLAN_DEL
 * @dev: the netdev
 * @proto: 802.1Q
 * @vid: the VLAN
 *
 * Return: 0 (a refusal is logged once, see pvnet_vlan_rx_vid()).
 */
int pvnet_vlan_rx_kill_vid(struct net_device *dev, __be16 proto, u16 vid)
{
	return pvnet_vlan_rx_vid(dev, PVIO_NET_CTRL_VLAN_DEL, vid);
}
