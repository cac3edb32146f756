// SPDX-License-Identifier: GPL-2.0
/*
 * pvio_net_main.c - pvio_net.ko: the virtio network frontend (virtio 1.2
 * §5.1) on pvio_core.  Probe and remove, the net_device operations, link
 * status and the broken-device path.  The control queue and the receive
 * filters are in pvio_net_ctrl.c, the data path in pvio_net_rx.c and
 * pvio_net_tx.c, ethtool in pvio_net_ethtool.c; the locking rules are at
 * the top of pvio_net.h.
 *
 * Life cycle: probe sets up every queue pair the device has (up to the
 * number of CPUs), DRIVER_OK, selects the pairs in use over the control
 * queue and registers the netdev.  Receive buffers are offered at the first
 * open and stay in the rings until remove (or a broken device) takes them
 * back.
 *
 * When the device misbehaves (a bad used-ring entry, a control command that
 * never completes, a reset that does not finish) pvio_core marks it broken:
 * new frames are dropped, the carrier goes off and broken_work resets the
 * device and frees every buffer it held.  Nothing the device writes can
 * crash the guest.
 */
#include <linux/dma-mapping.h>
#include <linux/etherdevice.h>
#include <linux/module.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>

#include "pvio_net.h"

#define PVNET_CFG(field) offsetof(struct pvio_net_config, field)

static unsigned int max_queue_pairs;
module_param(max_queue_pairs, uint, 0444);
MODULE_PARM_DESC(max_queue_pairs, "most queue pairs per device (0: one per CPU)");

static bool mergeable = true;
module_param(mergeable, bool, 0444);
MODULE_PARM_DESC(mergeable, "use mergeable receive buffers when offered (default yes)");

/*
 * QEMU 9.1 to 10.0.3's own virtio-net with in_order=on loses a receive
 * buffer when a frame's mergeable buffers cross the end of the ring (its
 * virtqueue_ordered_fill() reads one entry past its array and gives up;
 * fixed in 10.0.4 and 10.1) and the queue stalls: in_order=0 there.
 */
static bool in_order = true;
module_param(in_order, bool, 0444);
MODULE_PARM_DESC(in_order, "use VIRTIO_F_IN_ORDER when offered (default yes; no: QEMU 9.1-10.0.3)");

/**
 * pvnet_refill_schedule - retry filling the receive rings from process context
 * @net: the device
 * @delay: jiffies to wait first: 0 after a GFP_ATOMIC failure (the work's
 *         GFP_KERNEL may reclaim, and a ring left short starves the device),
 *         HZ / 2 when the work itself found no memory
 *
 * Any context.  Only while the device is open.
 */
void pvnet_refill_schedule(struct pvnet *net, unsigned long delay)
{
	unsigned long flags;

	spin_lock_irqsave(&net->refill_lock, flags);
	if (net->refill_enabled)
		schedule_delayed_work(&net->refill, delay);
	spin_unlock_irqrestore(&net->refill_lock, flags);
}

static void pvnet_refill_enable(struct pvnet *net, bool on)
{
	spin_lock_irq(&net->refill_lock);
	net->refill_enabled = on;
	spin_unlock_irq(&net->refill_lock);
}

static void pvnet_refill_work(struct work_struct *work)
{
	struct pvnet *net = container_of(work, struct pvnet, refill.work);
	bool again = false;
	unsigned int i;

	for (i = 0; i < net->max_pairs; i++) {
		struct pvnet_rq *rq = &net->rqs[i];

		/* Owning the ring means holding its NAPI context disabled. */
		napi_disable(&rq->napi);
		if (!pvnet_rx_refill(rq, GFP_KERNEL))
			again = true;
		napi_enable(&rq->napi);
		local_bh_disable();
		napi_schedule(&rq->napi);
		local_bh_enable();
	}
	if (again)
		pvnet_refill_schedule(net, HZ / 2);
}

/* ---- link, config changes, broken device --------------------------------- */

static void pvnet_update_link(struct pvnet *net)
{
	bool up = true;

	if (pvio_has_feature(net->pdev, PVIO_NET_F_STATUS))
		up = pvio_cread16(net->pdev, PVNET_CFG(status)) & PVIO_NET_S_LINK_UP;
	if (pvio_device_is_broken(net->pdev))
		up = false;
	if (up == netif_carrier_ok(net->dev))
		return;
	/* Without carrier the stack stops transmitting (qdisc deactivated). */
	if (up)
		netif_carrier_on(net->dev);
	else
		netif_carrier_off(net->dev);
	netdev_info(net->dev, "link %s\n", up ? "up" : "down");
}

static void pvnet_config_changed(struct pvio_device *pdev)
{
	struct pvnet *net = dev_get_drvdata(&pdev->dev);

	if (net)
		pvnet_update_link(net);
}

/* Resets the device and takes every buffer back: the rings stay empty. */
static void pvnet_reclaim(struct pvnet *net)
{
	unsigned int i;

	pvio_device_reset(net->pdev);
	if (net->frozen)
		return;
	for (i = 0; i < net->max_pairs; i++) {
		struct netdev_queue *txq = netdev_get_tx_queue(net->dev, i);

		pvnet_rx_detach_all(&net->rqs[i]);
		__netif_tx_lock_bh(txq);
		pvnet_tx_detach_all(&net->sqs[i]);
		__netif_tx_unlock_bh(txq);
	}
	if (net->cvq) {
		/* A command in flight has given up: the device was broken or reset. */
		mutex_lock(&net->ctrl_lock);
		while (pvring_drv_detach_unused(&net->cvq->ring))
			;
		mutex_unlock(&net->ctrl_lock);
	}
}

static void pvnet_napi_disable_all(struct pvnet *net)
{
	unsigned int i;

	for (i = 0; i < net->max_pairs; i++) {
		napi_disable(&net->rqs[i].napi);
		napi_disable(&net->sqs[i].napi);
	}
}

static void pvnet_napi_enable_all(struct pvnet *net)
{
	unsigned int i;

	for (i = 0; i < net->max_pairs; i++) {
		napi_enable(&net->rqs[i].napi);
		napi_enable(&net->sqs[i].napi);
		/* Interrupts that came while disabled were lost: look now. */
		local_bh_disable();
		napi_schedule(&net->rqs[i].napi);
		napi_schedule(&net->sqs[i].napi);
		local_bh_enable();
	}
}

static void pvnet_broken_work(struct work_struct *work)
{
	struct pvnet *net = container_of(work, struct pvnet, broken_work);

	rtnl_lock();
	netif_carrier_off(net->dev);
	/* Suspended (or a resume failed): no queue, NAPI already disabled. */
	if (net->frozen) {
		pvio_device_reset(net->pdev);
	} else if (!net->broken_done) {
		net->broken_done = true;
		if (netif_running(net->dev)) {
			pvnet_refill_enable(net, false);
			cancel_delayed_work_sync(&net->refill);
			pvnet_napi_disable_all(net);
			pvnet_reclaim(net);
			pvnet_napi_enable_all(net);
		} else {
			pvnet_reclaim(net);
		}
		netdev_err(net->dev,
			   "broken device: carrier off, buffers freed; reload pvio_net\n");
	}
	rtnl_unlock();
}

static void pvnet_broken(struct pvio_device *pdev)
{
	struct pvnet *net = dev_get_drvdata(&pdev->dev);

	/* NULL while probe has not finished: its error path resets the device. */
	if (net)
		schedule_work(&net->broken_work);
}

/* ---- net_device operations ----------------------------------------------- */

static int pvnet_open(struct net_device *dev)
{
	struct pvnet *net = netdev_priv(dev);
	unsigned int i;

	pvnet_refill_enable(net, true);
	for (i = 0; i < net->max_pairs; i++)
		if (!pvnet_rx_refill(&net->rqs[i], GFP_KERNEL))
			pvnet_refill_schedule(net, HZ / 2);
	pvnet_napi_enable_all(net);
	netif_tx_start_all_queues(dev);
	pvnet_update_link(net);
	return 0;
}

static int pvnet_close(struct net_device *dev)
{
	struct pvnet *net = netdev_priv(dev);

	/* No refill may start once NAPI is disabled: it would disable it again. */
	pvnet_refill_enable(net, false);
	cancel_delayed_work_sync(&net->refill);
	/* A failed resume left NAPI disabled. */
	if (!net->frozen)
		pvnet_napi_disable_all(net);
	return 0;
}

static void pvnet_get_stats64(struct net_device *dev, struct rtnl_link_stats64 *tot)
{
	struct pvnet *net = netdev_priv(dev);
	unsigned int i, start;

	for (i = 0; i < net->max_pairs; i++) {
		struct pvnet_qstats *rs = &net->rqs[i].stats, *ts = &net->sqs[i].stats;
		u64 rp, rb, rd, tp, tb, td;

		do {
			start = u64_stats_fetch_begin(&rs->syncp);
			rp = u64_stats_read(&rs->packets);
			rb = u64_stats_read(&rs->bytes);
			rd = u64_stats_read(&rs->drops);
		} while (u64_stats_fetch_retry(&rs->syncp, start));
		do {
			start = u64_stats_fetch_begin(&ts->syncp);
			tp = u64_stats_read(&ts->packets);
			tb = u64_stats_read(&ts->bytes);
			td = u64_stats_read(&ts->drops);
		} while (u64_stats_fetch_retry(&ts->syncp, start));
		tot->rx_packets += rp;
		tot->rx_bytes += rb;
		tot->rx_dropped += rd;
		tot->tx_packets += tp;
		tot->tx_bytes += tb;
		tot->tx_dropped += td;
	}
}

static int pvnet_change_mtu(struct net_device *dev, int mtu)
{
	/*
	 * The core checked min_mtu..max_mtu.  Mergeable and big buffers take
	 * any frame up to max_mtu; small buffers were sized for max_mtu.
	 */
	netdev_dbg(dev, "mtu %u -> %d\n", dev->mtu, mtu);
	dev->mtu = mtu;
	return 0;
}

static const struct net_device_ops pvnet_netdev_ops = {
	.ndo_open = pvnet_open,
	.ndo_stop = pvnet_close,
	.ndo_start_xmit = pvnet_start_xmit,
	.ndo_get_stats64 = pvnet_get_stats64,
	.ndo_change_mtu = pvnet_change_mtu,
	.ndo_validate_addr = eth_validate_addr,
	.ndo_set_mac_address = pvnet_set_mac_address,
	.ndo_set_rx_mode = pvnet_set_rx_mode,
	.ndo_vlan_rx_add_vid = pvnet_vlan_rx_add_vid,
	.ndo_vlan_rx_kill_vid = pvnet_vlan_rx_kill_vid,
	.ndo_features_check = passthru_features_check,
};

/* ---- probe, remove ------------------------------------------------------- */

static unsigned int pvnet_max_pairs(struct pvio_device *pdev)
{
	unsigned int n = 1;

	if (pvio_has_feature(pdev, PVIO_NET_F_MQ) && pvio_has_feature(pdev, PVIO_NET_F_CTRL_VQ)) {
		n = pvio_cread16(pdev, PVNET_CFG(max_virtqueue_pairs));
		if (n < PVIO_NET_CTRL_MQ_VQ_PAIRS_MIN || n > PVIO_NET_CTRL_MQ_VQ_PAIRS_MAX) {
			dev_warn(&pdev->dev, "ignoring max_virtqueue_pairs %u: not in 1..32768\n",
				 n);
			n = 1;
		}
	}
	n = min_t(unsigned int, n, num_possible_cpus());
	if (max_queue_pairs)
		n = min(n, max_queue_pairs);
	return max(n, 1U);
}

static int pvnet_find_vqs(struct pvnet *net)
{
	unsigned int nvqs = 2 * net->max_pairs + !!pvio_has_feature(net->pdev, PVIO_NET_F_CTRL_VQ);
	struct pvio_vq_info *info;
	struct pvio_vq **vqs;
	unsigned int i;
	int err = -ENOMEM;

	info = kcalloc(nvqs, sizeof(*info), GFP_KERNEL);
	vqs = kcalloc(nvqs, sizeof(*vqs), GFP_KERNEL);
	if (!info || !vqs)
		goto out_free;
	for (i = 0; i < net->max_pairs; i++) {
		struct pvnet_rq *rq = &net->rqs[i];
		struct pvnet_sq *sq = &net->sqs[i];

		rq->net = net;
		rq->index = i;
		snprintf(rq->name, sizeof(rq->name), "input.%u", i);
		info[2 * i].callback = pvnet_rx_done;
		info[2 * i].name = rq->name;
		info[2 * i].priv = rq;
		sq->net = net;
		sq->index = i;
		snprintf(sq->name, sizeof(sq->name), "output.%u", i);
		info[2 * i + 1].callback = pvnet_tx_done;
		info[2 * i + 1].name = sq->name;
		info[2 * i + 1].priv = sq;
	}
	if (nvqs & 1)
		info[nvqs - 1].name = "control";
	/* Transmit chains and big receive buffers fit one indirect table. */
	err = pvio_find_vqs(net->pdev, nvqs, vqs, info, PVNET_TX_SEGS, NULL);
	if (err)
		goto out_free;
	for (i = 0; i < net->max_pairs; i++) {
		net->rqs[i].vq = vqs[2 * i];
		net->sqs[i].vq = vqs[2 * i + 1];
	}
	if (nvqs & 1)
		net->cvq = vqs[nvqs - 1];
out_free:
	kfree(vqs);
	kfree(info);
	return err;
}

static void pvnet_free_queues(struct pvnet *net)
{
	unsigned int i;

	for (i = 0; i < net->max_pairs; i++) {
		if (net->rqs[i].vq)
			pvnet_rq_free(net, &net->rqs[i]);
		if (net->sqs[i].vq)
			pvnet_sq_free(net, &net->sqs[i]);
	}
}

static int pvnet_init_queues(struct pvnet *net)
{
	unsigned int i;
	int err;

	/* With indirect tables a frame takes one ring entry, else up to all its segments. */
	net->tx_min_free = 1;
	for (i = 0; i < net->max_pairs; i++)
		if (!pvring_drv_has_indirect(&net->sqs[i].vq->ring))
			net->tx_min_free = PVNET_TX_SEGS;
	for (i = 0; i < net->max_pairs; i++) {
		err = pvnet_rq_init(net, &net->rqs[i]);
		if (!err)
			err = pvnet_sq_init(net, &net->sqs[i]);
		if (err) {
			pvnet_free_queues(net);
			return err;
		}
	}
	return 0;
}

static void pvnet_add_napis(struct pvnet *net)
{
	unsigned int i;

	for (i = 0; i < net->max_pairs; i++) {
		netif_napi_add(net->dev, &net->rqs[i].napi, pvnet_rx_poll);
		netif_napi_add_tx(net->dev, &net->sqs[i].napi, pvnet_tx_poll);
	}
}

static void pvnet_del_napis(struct pvnet *net)
{
	unsigned int i;

	for (i = 0; i < net->max_pairs; i++) {
		netif_napi_del(&net->rqs[i].napi);
		netif_napi_del(&net->sqs[i].napi);
	}
}

/* Offloads, MTU limits, buffer sizes and MAC from features and config. */
static void pvnet_setup_netdev(struct pvnet *net)
{
	struct pvio_device *pdev = net->pdev;
	struct net_device *dev = net->dev;
	bool guest_tso = pvio_has_feature(pdev, PVIO_NET_F_GUEST_TSO4) ||
			 pvio_has_feature(pdev, PVIO_NET_F_GUEST_TSO6);
	u8 mac[ETH_ALEN];
	unsigned int i;

	dev->netdev_ops = &pvnet_netdev_ops;
	dev->ethtool_ops = &pvnet_ethtool_ops;
	dev->priv_flags |= IFF_LIVE_ADDR_CHANGE;
	/*
	 * The unicast list goes to the device's MAC table (rx_mode_work); without
	 * IFF_UNICAST_FLT the stack would turn promiscuous mode on instead for
	 * every secondary address (a macvlan, a bridge fdb entry).
	 */
	if (pvio_has_feature(pdev, PVIO_NET_F_CTRL_VQ) &&
	    pvio_has_feature(pdev, PVIO_NET_F_CTRL_RX))
		dev->priv_flags |= IFF_UNICAST_FLT;
	dev->features = NETIF_F_HIGHDMA;
	if (pvio_has_feature(pdev, PVIO_NET_F_CSUM)) {
		dev->hw_features |= NETIF_F_HW_CSUM | NETIF_F_SG;
		if (pvio_has_feature(pdev, PVIO_NET_F_HOST_TSO4))
			dev->hw_features |= NETIF_F_TSO;
		if (pvio_has_feature(pdev, PVIO_NET_F_HOST_TSO6))
			dev->hw_features |= NETIF_F_TSO6;
		if (pvio_has_feature(pdev, PVIO_NET_F_HOST_ECN))
			dev->hw_features |= NETIF_F_TSO_ECN;
		dev->features |= dev->hw_features;
	}
	if (pvio_has_feature(pdev, PVIO_NET_F_GUEST_CSUM))
		dev->features |= NETIF_F_RXCSUM;
	dev->vlan_features = dev->features;
	/* Not in hw_features: the device filters until it is reset. */
	if (pvio_has_feature(pdev, PVIO_NET_F_CTRL_VQ) &&
	    pvio_has_feature(pdev, PVIO_NET_F_CTRL_VLAN))
		dev->features |= NETIF_F_HW_VLAN_CTAG_FILTER;

	net->mergeable = pvio_has_feature(pdev, PVIO_NET_F_MRG_RXBUF);
	net->big = !net->mergeable && guest_tso;
	dev->min_mtu = ETH_MIN_MTU;
	dev->max_mtu = net->mergeable || net->big ? PVNET_MAX_MTU : ETH_DATA_LEN;
	if (pvio_has_feature(pdev, PVIO_NET_F_MTU)) {
		u16 mtu = pvio_cread16(pdev, PVNET_CFG(mtu));

		/* The largest MTU the device takes, and the one it suggests. */
		if (mtu >= ETH_MIN_MTU) {
			dev->max_mtu = mtu;
			dev->mtu = mtu;
		} else {
			dev_warn(&pdev->dev, "ignoring device MTU %u: below %u\n", mtu,
				 ETH_MIN_MTU);
		}
	}
	/*
	 * Mergeable: one MTU-sized frame per buffer, or a page when the device
	 * sends 64 KiB GSO frames (17 pages then fit an skb's fragments).
	 * Small: header plus the largest frame.
	 */
	if (net->mergeable)
		net->rx_buf_len = guest_tso || dev->max_mtu > ETH_DATA_LEN ?
					  PAGE_SIZE :
					  ALIGN(PVNET_HDR_LEN + ETH_HLEN + VLAN_HLEN + ETH_DATA_LEN,
						L1_CACHE_BYTES);
	else
		net->rx_buf_len =
			ALIGN(PVNET_HDR_LEN + ETH_HLEN + VLAN_HLEN + dev->max_mtu, L1_CACHE_BYTES);

	if (pvio_has_feature(pdev, PVIO_NET_F_MAC)) {
		for (i = 0; i < ETH_ALEN; i++)
			mac[i] = pvio_cread8(pdev, PVNET_CFG(mac) + i);
		if (is_valid_ether_addr(mac)) {
			eth_hw_addr_set(dev, mac);
			return;
		}
		dev_warn(&pdev->dev, "ignoring invalid MAC %pM from the device\n", mac);
	}
	eth_hw_addr_random(dev);
}

static const char *pvnet_buf_kind(const struct pvnet *net)
{
	if (net->mergeable)
		return "mergeable";
	return net->big ? "big" : "small";
}

static int pvnet_probe(struct pvio_device *pdev)
{
	unsigned int max_pairs = pvnet_max_pairs(pdev);
	struct net_device *dev;
	struct pvnet *net;
	int err;

	dev = alloc_etherdev_mq(sizeof(*net), max_pairs);
	if (!dev)
		return -ENOMEM;
	SET_NETDEV_DEV(dev, &pdev->dev);
	net = netdev_priv(dev);
	net->pdev = pdev;
	net->dev = dev;
	net->max_pairs = max_pairs;
	spin_lock_init(&net->refill_lock);
	mutex_init(&net->ctrl_lock);
	INIT_DELAYED_WORK(&net->refill, pvnet_refill_work);
	INIT_WORK(&net->broken_work, pvnet_broken_work);
	INIT_WORK(&net->rx_mode_work, pvnet_rx_mode_work);

	net->rqs = kcalloc(max_pairs, sizeof(*net->rqs), GFP_KERNEL);
	net->sqs = kcalloc(max_pairs, sizeof(*net->sqs), GFP_KERNEL);
	if (!net->rqs || !net->sqs) {
		err = -ENOMEM;
		goto err_free_arrays;
	}
	pvnet_setup_netdev(net);
	err = pvnet_find_vqs(net);
	if (err)
		goto err_free_arrays;
	if (net->cvq) {
		net->ctrl = dma_alloc_coherent(pvio_dma_dev(pdev), sizeof(*net->ctrl),
					       &net->ctrl_dma, GFP_KERNEL);
		if (!net->ctrl) {
			err = -ENOMEM;
			goto err_del_vqs;
		}
	}
	err = pvnet_init_queues(net);
	if (err)
		goto err_free_ctrl;
	pvnet_add_napis(net);

	netif_carrier_off(dev);
	dev_set_drvdata(&pdev->dev, net);
	pvio_device_ready(pdev);

	rtnl_lock();
	err = pvnet_set_pairs(net, min_t(unsigned int, max_pairs, num_online_cpus()));
	if (err)
		err = pvnet_set_pairs(net, 1);
	rtnl_unlock();
	if (err)
		goto err_reset;
	/* A random address is ours alone: tell the device, which may filter on it. */
	if (!pvio_has_feature(pdev, PVIO_NET_F_MAC) &&
	    pvio_has_feature(pdev, PVIO_NET_F_CTRL_MAC_ADDR)) {
		err = pvnet_ctrl_cmd(net, PVIO_NET_CTRL_MAC, PVIO_NET_CTRL_MAC_ADDR_SET,
				     dev->dev_addr, ETH_ALEN);
		if (err)
			pvnet_ctrl_warn(net, PVIO_NET_CTRL_MAC, PVIO_NET_CTRL_MAC_ADDR_SET, err);
	}

	pvnet_rx_mode_enable(net, true);
	err = register_netdev(dev);
	if (err)
		goto err_rx_mode;
	pvnet_update_link(net);
	netdev_info(dev, "%pM, %u/%u queue pairs, %s rx buffers, mtu %u/%u, features %#llx\n",
		    dev->dev_addr, net->curr_pairs, max_pairs, pvnet_buf_kind(net), dev->mtu,
		    dev->max_mtu, pdev->features);
	return 0;

err_rx_mode:
	pvnet_rx_mode_enable(net, false);
	cancel_work_sync(&net->rx_mode_work);
err_reset:
	pvio_device_reset(pdev);
	cancel_work_sync(&net->broken_work);
	dev_set_drvdata(&pdev->dev, NULL);
	pvnet_reclaim(net);
	pvnet_del_napis(net);
	pvnet_free_queues(net);
err_free_ctrl:
	if (net->ctrl)
		dma_free_coherent(pvio_dma_dev(pdev), sizeof(*net->ctrl), net->ctrl, net->ctrl_dma);
err_del_vqs:
	pvio_device_reset(pdev);
	pvio_del_vqs(pdev);
err_free_arrays:
	kfree(net->rqs);
	kfree(net->sqs);
	free_netdev(dev);
	return err;
}

static void pvnet_remove(struct pvio_device *pdev)
{
	struct pvnet *net = dev_get_drvdata(&pdev->dev);
	struct net_device *dev = net->dev;

	/* Closes the device: NAPI disabled, no refill pending. */
	unregister_netdev(dev);
	pvnet_rx_mode_enable(net, false);
	cancel_work_sync(&net->rx_mode_work);
	cancel_work_sync(&net->broken_work);
	cancel_delayed_work_sync(&net->refill);
	dev_set_drvdata(&pdev->dev, NULL);
	/* The device stops touching the rings; then every buffer comes back. */
	pvnet_reclaim(net);
	pvnet_del_napis(net);
	/* Before the queues go: their sizes are read from them. */
	pvnet_free_queues(net);
	pvio_del_vqs(pdev);
	if (net->ctrl)
		dma_free_coherent(pvio_dma_dev(pdev), sizeof(*net->ctrl), net->ctrl, net->ctrl_dma);
	kfree(net->rqs);
	kfree(net->sqs);
	free_netdev(dev);
}

/* ---- system sleep (see the top of pvio_net.h) ---------------------------- */

static void pvnet_forget_vqs(struct pvnet *net)
{
	unsigned int i;

	for (i = 0; i < net->max_pairs; i++) {
		net->rqs[i].vq = NULL;
		net->sqs[i].vq = NULL;
	}
	net->cvq = NULL;
}

static int pvnet_freeze(struct pvio_device *pdev)
{
	struct pvnet *net = dev_get_drvdata(&pdev->dev);
	struct net_device *dev = net->dev;

	pvnet_rx_mode_enable(net, false);
	cancel_work_sync(&net->rx_mode_work);
	cancel_work_sync(&net->broken_work);
	rtnl_lock();
	netif_tx_lock_bh(dev);
	netif_device_detach(dev);
	netif_tx_unlock_bh(dev);
	if (netif_running(dev)) {
		pvnet_refill_enable(net, false);
		cancel_delayed_work_sync(&net->refill);
		pvnet_napi_disable_all(net);
	}
	/* Sent frames not yet reaped and posted receive buffers are freed. */
	pvnet_reclaim(net);
	pvnet_free_queues(net);
	pvio_del_vqs(pdev);
	pvnet_forget_vqs(net);
	net->frozen = true;
	rtnl_unlock();
	return 0;
}

static int pvnet_vlan_restore_one(struct net_device *dev, int vid, void *arg)
{
	return pvnet_vlan_rx_add_vid(dev, htons(ETH_P_8021Q), vid);
}

/* What the device forgot with its reset: queue pairs, MAC, VLAN filters. */
static void pvnet_restore_settings(struct pvnet *net)
{
	struct pvio_device *pdev = net->pdev;
	int err;

	if (pvnet_set_pairs(net, net->curr_pairs))
		pvnet_set_pairs(net, 1);
	if (pvio_has_feature(pdev, PVIO_NET_F_CTRL_MAC_ADDR)) {
		err = pvnet_ctrl_cmd(net, PVIO_NET_CTRL_MAC, PVIO_NET_CTRL_MAC_ADDR_SET,
				     net->dev->dev_addr, ETH_ALEN);
		if (err)
			pvnet_ctrl_warn(net, PVIO_NET_CTRL_MAC, PVIO_NET_CTRL_MAC_ADDR_SET, err);
	}
	if (net->dev->features & NETIF_F_HW_VLAN_CTAG_FILTER)
		vlan_for_each(net->dev, pvnet_vlan_restore_one, net);
}

static int pvnet_restore(struct pvio_device *pdev)
{
	struct pvnet *net = dev_get_drvdata(&pdev->dev);
	struct net_device *dev = net->dev;
	unsigned int i;
	int err;

	rtnl_lock();
	err = pvnet_find_vqs(net);
	if (err)
		goto out_unlock;
	err = pvnet_init_queues(net);
	if (err) {
		pvio_del_vqs(pdev);
		pvnet_forget_vqs(net);
		goto out_unlock;
	}
	net->frozen = false;
	pvio_device_ready(pdev);
	pvnet_restore_settings(net);
	pvnet_rx_mode_enable(net, true);
	if (netif_running(dev)) {
		pvnet_refill_enable(net, true);
		for (i = 0; i < net->max_pairs; i++)
			if (!pvnet_rx_refill(&net->rqs[i], GFP_KERNEL))
				pvnet_refill_schedule(net, HZ / 2);
		pvnet_napi_enable_all(net);
	}
	netif_tx_lock_bh(dev);
	netif_device_attach(dev);
	netif_tx_unlock_bh(dev);
	/* Receive mode and MAC tables again: the device forgot them too. */
	pvnet_set_rx_mode(dev);
	pvnet_update_link(net);
out_unlock:
	rtnl_unlock();
	return err;
}

static struct pvio_driver pvnet_driver = {
	.driver.name = PVNET_DRV_NAME,
	.type = PVIO_ID_NET,
	.features = PVIO_BIT(PVIO_NET_F_CSUM) | PVIO_BIT(PVIO_NET_F_GUEST_CSUM) |
		    PVIO_BIT(PVIO_NET_F_MTU) | PVIO_BIT(PVIO_NET_F_MAC) |
		    PVIO_BIT(PVIO_NET_F_GUEST_TSO4) | PVIO_BIT(PVIO_NET_F_GUEST_TSO6) |
		    PVIO_BIT(PVIO_NET_F_GUEST_ECN) | PVIO_BIT(PVIO_NET_F_HOST_TSO4) |
		    PVIO_BIT(PVIO_NET_F_HOST_TSO6) | PVIO_BIT(PVIO_NET_F_HOST_ECN) |
		    PVIO_BIT(PVIO_NET_F_MRG_RXBUF) | PVIO_BIT(PVIO_NET_F_STATUS) |
		    PVIO_BIT(PVIO_NET_F_CTRL_VQ) | PVIO_BIT(PVIO_NET_F_MQ) |
		    PVIO_BIT(PVIO_NET_F_CTRL_RX) | PVIO_BIT(PVIO_NET_F_CTRL_VLAN) |
		    PVIO_BIT(PVIO_NET_F_CTRL_MAC_ADDR) | PVIO_BIT(PVIO_F_INDIRECT_DESC) |
		    PVIO_BIT(PVIO_F_EVENT_IDX) | PVIO_BIT(PVIO_F_IN_ORDER),
	.probe = pvnet_probe,
	.remove = pvnet_remove,
	.config_changed = pvnet_config_changed,
	.broken = pvnet_broken,
	.freeze = pvnet_freeze,
	.restore = pvnet_restore,
};

static int __init pvnet_init(void)
{
	if (!mergeable)
		pvnet_driver.features &= ~PVIO_BIT(PVIO_NET_F_MRG_RXBUF);
	if (!in_order)
		pvnet_driver.features &= ~PVIO_BIT(PVIO_F_IN_ORDER);
	return pvio_register_driver(&pvnet_driver);
}

static void __exit pvnet_exit(void)
{
	pvio_unregister_driver(&pvnet_driver);
}

module_init(pvnet_init);
module_exit(pvnet_exit);

MODULE_ALIAS("pvio:d00000001");
MODULE_DESCRIPTION("pvio: virtio network frontend");
MODULE_VERSION(PVNET_DRV_VERSION);
MODULE_LICENSE("GPL");
