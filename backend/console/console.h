/* SPDX-License-Identifier: GPL-2.0 */
/*
 * console.h - pviod's virtio-console device (device.c).
 */
#ifndef PVIOD_CONSOLE_H
#define PVIOD_CONSOLE_H

#include "core/device.h"

int pviod_console_create(const struct pviod_env *env, const char *name, const char *opts,
			 struct pviod_device **out);

#endif /* PVIOD_CONSOLE_H */
