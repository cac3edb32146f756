// SPDX-License-Identifier: GPL-2.0
/*
 * pvio_net_ethtool.c - ethtool operations of pvio_net: -i (driver, version,
 * bus), -l/-L (queue pairs, through VIRTIO_NET_CTRL_MQ), -S (per-queue
 * packets, bytes, drops and kicks), link state.
 *
 * Locking: the ethtool core holds RTNL around every operation; per-queue
 * counters are read under their u64_stats_sync.
 */
#include <linux/ethtool.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>

#include "pvio_net.h"

/* The counters of one queue, in ethtool -S order. */
static const char *const pvnet_qstat_names[] = { "packets", "bytes", "drops", "kicks" };
#define PVNET_NQSTATS ARRAY_SIZE(pvnet_qstat_names)

static void pvnet_get_drvinfo(struct net_device *dev, struct ethtool_drvinfo *info)
{
	struct pvnet *net = netdev_priv(dev);

	strscpy(info->driver, PVNET_DRV_NAME, sizeof(info->driver));
	strscpy(info->version, PVNET_DRV_VERSION, sizeof(info->version));
	strscpy(info->bus_info, pci_name(net->pdev->pci), sizeof(info->bus_info));
}

static void pvnet_get_channels(struct net_device *dev, struct ethtool_channels *ch)
{
	struct pvnet *net = netdev_priv(dev);

	ch->max_combined = net->max_pairs;
	ch->combined_count = net->curr_pairs;
}

static int pvnet_set_channels(struct net_device *dev, struct ethtool_channels *ch)
{
	struct pvnet *net = netdev_priv(dev);

	if (ch->rx_count || ch->tx_count || ch->other_count)
		return -EINVAL;
	if (!ch->combined_count || ch->combined_count > net->max_pairs)
		return -EINVAL;
	if (ch->combined_count == net->curr_pairs)
		return 0;
	if (!pvio_has_feature(net->pdev, PVIO_NET_F_MQ))
		return -EOPNOTSUPP;
	return pvnet_set_pairs(net, ch->combined_count);
}

static int pvnet_get_sset_count(struct net_device *dev, int sset)
{
	struct pvnet *net = netdev_priv(dev);

	if (sset != ETH_SS_STATS)
		return -EOPNOTSUPP;
	return net->max_pairs * 2 * PVNET_NQSTATS;
}

static void pvnet_get_strings(struct net_device *dev, u32 sset, u8 *data)
{
	struct pvnet *net = netdev_priv(dev);
	unsigned int i, j;

	if (sset != ETH_SS_STATS)
		return;
	for (i = 0; i < net->max_pairs; i++)
		for (j = 0; j < PVNET_NQSTATS; j++)
			ethtool_sprintf(&data, "rx_queue_%u_%s", i, pvnet_qstat_names[j]);
	for (i = 0; i < net->max_pairs; i++)
		for (j = 0; j < PVNET_NQSTATS; j++)
			ethtool_sprintf(&data, "tx_queue_%u_%s", i, pvnet_qstat_names[j]);
}

static void pvnet_read_qstats(struct pvnet_qstats *s, u64 *out)
{
	unsigned int start;

	do {
		start = u64_stats_fetch_begin(&s->syncp);
		out[0] = u64_stats_read(&s->packets);
		out[1] = u64_stats_read(&s->bytes);
		out[2] = u64_stats_read(&s->drops);
		out[3] = u64_stats_read(&s->kicks);
	} while (u64_stats_fetch_retry(&s->syncp, start));
}

static void pvnet_get_ethtool_stats(struct net_device *dev, struct ethtool_stats *stats, u64 *data)
{
	struct pvnet *net = netdev_priv(dev);
	unsigned int i;

	for (i = 0; i < net->max_pairs; i++)
		pvnet_read_qstats(&net->rqs[i].stats, data + i * PVNET_NQSTATS);
	data += net->max_pairs * PVNET_NQSTATS;
	for (i = 0; i < net->max_pairs; i++)
		pvnet_read_qstats(&net->sqs[i].stats, data + i * PVNET_NQSTATS);
}

static void pvnet_get_ringparam(struct net_device *dev, struct ethtool_ringparam *ring,
				struct kernel_ethtool_ringparam *kring,
				struct netlink_ext_ack *extack)
{
	struct pvnet *net = netdev_priv(dev);

	ring->rx_max_pending = net->rqs[0].vq->num;
	ring->tx_max_pending = net->sqs[0].vq->num;
	ring->rx_pending = ring->rx_max_pending;
	ring->tx_pending = ring->tx_max_pending;
}

const struct ethtool_ops pvnet_ethtool_ops = {
	.get_drvinfo = pvnet_get_drvinfo,
	.get_link = ethtool_op_get_link,
	.get_channels = pvnet_get_channels,
	.set_channels = pvnet_set_channels,
	.get_sset_count = pvnet_get_sset_count,
	.get_strings = pvnet_get_strings,
	.get_ethtool_stats = pvnet_get_ethtool_stats,
	.get_ringparam = pvnet_get_ringparam,
};
