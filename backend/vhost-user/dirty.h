/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dirty.h - the front-end's dirty log as the vhost-user side keeps it
 * (dirty.c); what is marked is core/dirty.h's.
 */
#ifndef PVIOD_VU_DIRTY_H
#define PVIOD_VU_DIRTY_H

#include <stdbool.h>
#include <stddef.h>

#include "core/dirty.h"
#include "pvring.h"
#include "vhost_user.h"

struct vu_dev;

/* The log's mapping (the session's; changed only while every queue is stopped). */
struct vu_dirty {
	void *map; /* NULL when none */
	size_t map_len;
	struct pviod_dirty_log log; /* what the queues mark */
};

int vu_dirty_set(struct vu_dev *vu, const struct vhost_user_log *l, int fd);
void vu_dirty_clear(struct vu_dev *vu);
bool vu_dirty_logging(const struct vu_dev *vu);
int vu_dirty_queue_start(struct vu_dev *vu, unsigned int index, enum pvring_format format,
			 const void *desc);

#endif /* PVIOD_VU_DIRTY_H */
