/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * pvring_compat.h - the one place where the ring sees which world it is in.
 *
 * The ring code (every .c and .h file in ring/) is compiled unchanged into the guest
 * kernel modules, the host daemon and the userspace tests.  Everything it
 * needs from its environment comes from here:
 *
 *   pvring_load_acquire(p)      load with acquire semantics
 *   pvring_store_release(p, v)  store with release semantics
 *   pvring_mb()                 full barrier (store->load ordering)
 *   READ_ONCE(x), WRITE_ONCE(x, v)  single, untorn accesses to shared memory
 *   likely(), unlikely(), u8/u16/u32/u64, __le16/32/64 and their conversions
 *
 * In the kernel the barriers are the virt_* family, which stay SMP barriers
 * even in a UP guest: the other side of the ring is a host CPU, not a CPU of
 * this kernel.  In userspace they are C11 atomics, which ThreadSanitizer
 * understands.
 */
#ifndef PVRING_COMPAT_H
#define PVRING_COMPAT_H

#ifdef __KERNEL__

#include <linux/types.h>
#include <linux/compiler.h>
#include <linux/errno.h>
#include <linux/string.h>
#include <linux/build_bug.h>
#include <linux/prefetch.h>
#include <asm/barrier.h>
#include <asm/byteorder.h>

/* Each barrier's pairing is stated where it is used: D1-D4 and V1-V4. */
/* Acquire: later loads stay after it (D2, V1). */
#define pvring_load_acquire(p) virt_load_acquire(p)
/* Release: earlier stores are visible first (D1, V2). */
#define pvring_store_release(p, v) virt_store_release(p, v)
/* Full: a store before it is visible before a load after it (D3, D4, V3, V4). */
#define pvring_mb() virt_mb()

/*
 * The calls of pvring_drv.h / pvring_dev.h that dispatch on the format: always
 * inlined, so that a split ring's fast path is what it was before there was a
 * choice (the compiler's size heuristics would otherwise count the packed
 * half against it).
 */
#define pvring_always_inline __attribute__((__always_inline__))

/* Hints: start loading a cache line that is about to be read / written. */
#define pvring_prefetch(p) prefetch(p)
#define pvring_prefetchw(p) prefetchw(p)

#else /* !__KERNEL__ */

#include <assert.h>
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <linux/types.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

#ifndef likely
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

/* As in the kernel: see there. */
#define pvring_always_inline __attribute__((__always_inline__))

#define READ_ONCE(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

#define pvring_load_acquire(p) __atomic_load_n(p, __ATOMIC_ACQUIRE)
#define pvring_store_release(p, v) __atomic_store_n(p, v, __ATOMIC_RELEASE)
#define pvring_prefetch(p) __builtin_prefetch(p, 0)
#if defined(__x86_64__) && !defined(__PRFCHW__)
/*
 * Without -mprfchw GCC turns __builtin_prefetch(p, 1) into a read prefetch:
 * the line arrives shared and the store that follows still waits for the
 * other core to give it up.  PREFETCHW asks for ownership.  x86-64 CPUs
 * that do not report PRFCHW (Intel before Broadwell) decode it as a NOP.
 */
static inline void pvring_prefetchw(const void *p)
{
	__asm__ volatile("prefetchw %0" : : "m"(*(const char *)p));
}
#else
#define pvring_prefetchw(p) __builtin_prefetch(p, 1)
#endif
#ifdef __SANITIZE_THREAD__
/*
 * GCC refuses atomic_thread_fence() under -fsanitize=thread (-Wtsan: TSan
 * does not model fences).  A seq_cst read-modify-write is a full barrier in
 * hardware on the architectures we run TSan on (x86 LOCK, arm64 LSE with
 * acquire+release), which keeps the store->load ordering of D3/D4/V3/V4.
 */
#define pvring_mb()                                                    \
	do {                                                           \
		int __pvring_mb = 0;                                   \
		__atomic_fetch_add(&__pvring_mb, 0, __ATOMIC_SEQ_CST); \
	} while (0)
#else
#define pvring_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif

#define cpu_to_le16(x) ((__le16)htole16(x))
#define cpu_to_le32(x) ((__le32)htole32(x))
#define cpu_to_le64(x) ((__le64)htole64(x))
#define le16_to_cpu(x) le16toh((__u16)(x))
#define le32_to_cpu(x) le32toh((__u32)(x))
#define le64_to_cpu(x) le64toh((__u64)(x))

#endif /* __KERNEL__ */

#endif /* PVRING_COMPAT_H */
