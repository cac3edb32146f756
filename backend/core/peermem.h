/* SPDX-License-Identifier: GPL-2.0 */
/*
 * peermem.h - memory a peer shares with pviod, and what a fault on it does
 * (peermem.c explains the mechanism).
 */
#ifndef PVIOD_CORE_PEERMEM_H
#define PVIOD_CORE_PEERMEM_H

#include <stddef.h>

int pviod_peermem_guard(void);
int pviod_peermem_watch(void *base, size_t len, int *lost);
void pviod_peermem_unwatch(void *base);

#endif /* PVIOD_CORE_PEERMEM_H */
