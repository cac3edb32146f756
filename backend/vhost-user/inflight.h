/* SPDX-License-Identifier: GPL-2.0 */
/*
 * inflight.h - GET_INFLIGHT_FD / SET_INFLIGHT_FD and crash recovery
 * (inflight.c).  The area's layout is protocol/vhost_user_inflight.h; a
 * running queue keeps its region up to date in core/queue.h.
 */
#ifndef PVIOD_VU_INFLIGHT_H
#define PVIOD_VU_INFLIGHT_H

#include "vhost_user.h"
#include "vhost-user/vu.h"

int vu_inflight_get(struct vu_dev *vu, struct vhost_user_inflight *inf, int *fd);
int vu_inflight_set(struct vu_dev *vu, const struct vhost_user_inflight *inf, int fd);
void vu_inflight_clear(struct vu_dev *vu);
int vu_inflight_queue_recover(struct vu_dev *vu, unsigned int index);

#endif /* PVIOD_VU_INFLIGHT_H */
