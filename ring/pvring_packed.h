/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * pvring_packed.h - memory layout of the virtio 1.2 packed virtqueue (§2.8).
 *
 * A packed virtqueue is one ring of descriptors that both sides write, and
 * two 4-byte event suppression structures:
 *
 *   descriptor ring             num x 16 bytes, 16-byte aligned, written by
 *                               the driver (available descriptors) and by
 *                               the device (used descriptors, in place)
 *   driver event suppression    4 bytes, 4-byte aligned, written by the driver
 *   device event suppression    4 bytes, 4-byte aligned, written by the device
 *
 * All fields are little-endian.  num is 1 to 32768 (pvio takes powers of two
 * only, as for split rings, so positions and wrap counters live in one
 * free-running 16-bit sequence number, see pvring_packed_seq()).
 *
 * A descriptor is available when its AVAIL bit equals the driver's ring wrap
 * counter and its USED bit does not; used when both equal the device's ring
 * wrap counter.  Both counters start at 1 and flip each time their side
 * passes the end of the ring.
 */
#ifndef PVRING_PACKED_H
#define PVRING_PACKED_H

#include "pvring_compat.h"

/* Descriptor flags (§2.8.1, §2.8.6): NEXT, WRITE and INDIRECT as for split. */
#define PVRING_DESC_F_AVAIL (1 << 7)
#define PVRING_DESC_F_USED (1 << 15)

/* Event suppression flags (§2.8.10). */
#define PVRING_EVENT_F_ENABLE 0x0 /* notify on every change */
#define PVRING_EVENT_F_DISABLE 0x1 /* do not notify */
#define PVRING_EVENT_F_DESC 0x2 /* notify when off_wrap is reached (EVENT_IDX) */
#define PVRING_EVENT_WRAP_SHIFT 15 /* off_wrap: bits 0-14 offset, bit 15 wrap counter */

/* Feature bit of the format itself (§6). */
#define PVRING_F_RING_PACKED 34

/* struct pvirtq_desc: the same 16 bytes as a split descriptor, in another order. */
struct pvring_desc_packed {
	__le64 addr; /* available: the buffer; used: unused */
	union {
		struct {
			__le32 len; /* available: its length; used: bytes written */
			__le16 id; /* buffer id (in the last descriptor of a list) */
			__le16 flags; /* PVRING_DESC_F_* */
		};
		/* The three as one word: the device writes a used descriptor with one store. */
		__le64 tail;
	};
};

/* struct pvirtq_event_suppress, read and written as one 32-bit word. */
struct pvring_event {
	__le16 off_wrap; /* PVRING_EVENT_F_DESC: the descriptor to be told about */
	__le16 flags; /* PVRING_EVENT_F_* */
};

_Static_assert(sizeof(struct pvring_desc_packed) == 16, "pvirtq_desc is 16 bytes");
_Static_assert(sizeof(struct pvring_event) == 4, "pvirtq_event_suppress is 4 bytes");

/*
 * An event suppression structure is read and written as one 32-bit word,
 * so that the other side never sees a new offset with old flags or the
 * reverse: always through these two, never through the fields.
 */
static inline u32 pvring_event_read(const struct pvring_event *e)
{
	return le32_to_cpu(READ_ONCE(*(const __le32 *)e));
}

static inline void pvring_event_write(struct pvring_event *e, u16 off_wrap, u16 flags)
{
	WRITE_ONCE(*(__le32 *)e, cpu_to_le32((u32)off_wrap | (u32)flags << 16));
}

#define pvring_event_off_wrap(w) ((u16)(w))
#define pvring_event_flags(w) ((u16)((w) >> 16) & 3)

#define PVRING_PACKED_DESC_ALIGN 16
/* Descriptors in a 64-byte cache line. */
#define PVRING_PACKED_LINE_DESCS (64 / sizeof(struct pvring_desc_packed))
#define PVRING_EVENT_ALIGN 4

/*
 * Positions as sequence numbers.  Each side counts the descriptors it has
 * made available (driver) or used (device) in a free-running u16, seq; the
 * descriptor is at seq & (num - 1) and the side's ring wrap counter is 1
 * when (seq & num) == 0 (it starts at 1 and flips every num descriptors).
 * num divides 2^16 and 2^16 / num is even, so the counter stays right across
 * the u16 wrap, and the distance between two sequence numbers is plain u16
 * subtraction, as for split indices.
 */
static inline bool pvring_packed_wrap(u16 seq, unsigned int num)
{
	return !(seq & num);
}

/* The AVAIL/USED bits that make the descriptor at @seq available. */
static inline u16 pvring_packed_avail_bits(u16 seq, unsigned int num)
{
	return pvring_packed_wrap(seq, num) ? PVRING_DESC_F_AVAIL : PVRING_DESC_F_USED;
}

/* The AVAIL/USED bits that make the descriptor at @seq used. */
static inline u16 pvring_packed_used_bits(u16 seq, unsigned int num)
{
	return pvring_packed_wrap(seq, num) ? PVRING_DESC_F_AVAIL | PVRING_DESC_F_USED : 0;
}

/* Descriptor flags @flags where they sit in a descriptor's tail word. */
static inline __le64 pvring_packed_tail_flags(u16 flags)
{
	return cpu_to_le64((u64)flags << 48);
}

/* Is @flags of the descriptor at @seq available (device view, §2.8.1)? */
static inline bool pvring_packed_is_avail(u16 flags, u16 seq, unsigned int num)
{
	return (flags & (PVRING_DESC_F_AVAIL | PVRING_DESC_F_USED)) ==
	       pvring_packed_avail_bits(seq, num);
}

/* Is @flags of the descriptor at @seq used (driver view, §2.8.1)? */
static inline bool pvring_packed_is_used(u16 flags, u16 seq, unsigned int num)
{
	return (flags & (PVRING_DESC_F_AVAIL | PVRING_DESC_F_USED)) ==
	       pvring_packed_used_bits(seq, num);
}

/*
 * Did a side's position move into another lap from @old_seq to @new_seq (at
 * most num further)?  Its AVAIL/USED bits flip then.
 */
static inline bool pvring_packed_lap_moved(u16 old_seq, u16 new_seq, unsigned int num)
{
	return (old_seq ^ new_seq) & num;
}

/* The off_wrap value naming @seq: offset in bits 0-14, wrap counter in bit 15. */
static inline u16 pvring_packed_off_wrap(u16 seq, unsigned int num)
{
	return (u16)((seq & (num - 1)) | (pvring_packed_wrap(seq, num) << PVRING_EVENT_WRAP_SHIFT));
}

/*
 * pvring_packed_off_wrap() from the bits a side keeps for @seq's lap
 * (@bits: pvring_packed_avail_bits() or pvring_packed_used_bits() of
 * @seq): AVAIL says the wrap counter in either, and moves to bit 15.
 */
static inline u16 pvring_packed_off_wrap_bits(u16 seq, u16 bits, unsigned int num)
{
	u16 wrap = (bits & PVRING_DESC_F_AVAIL) << (PVRING_EVENT_WRAP_SHIFT - 7);

	return (u16)((seq & (num - 1)) | wrap);
}

/*
 * The sequence number of off_wrap / base value @v, as a u16 that agrees with
 * the sides' counters modulo 2 * num.  -1 when the offset is not below @num.
 */
static inline int pvring_packed_seq(u16 v, unsigned int num)
{
	u16 off = v & 0x7fff;

	if (off >= num)
		return -1;
	return (u16)(off | (v >> PVRING_EVENT_WRAP_SHIFT ? 0 : num));
}

/*
 * The descriptors between used sequence number @used and avail sequence
 * number @avail (both from pvring_packed_seq()): they agree with the sides'
 * counters modulo 2 * num only, so the distance is taken that way.
 */
static inline u16 pvring_packed_held(int avail, int used, unsigned int num)
{
	return (u16)(avail - used) & (2 * num - 1);
}

/*
 * pvring_packed_need_event - the EVENT_IDX test for a packed ring.
 * @off_wrap: the descriptor the other side asked to be told about
 * @new_seq: our sequence number after the update
 * @old_seq: our sequence number when we last decided
 * @num: the ring size
 *
 * True when the descriptor @off_wrap names was made available (or used)
 * in [old_seq, new_seq).  off_wrap only says where in the ring and which
 * lap, so it is placed at the nearest point at or before @new_seq with that
 * position and counter; an event further back than num descriptors, or one
 * that is ahead of @new_seq, is not crossed.  More than num descriptors
 * since the last decision always crosses (the lap is then ambiguous: a
 * spurious notification is harmless, a lost one is not).
 */
static inline bool pvring_packed_need_event(u16 off_wrap, u16 new_seq, u16 old_seq,
					    unsigned int num)
{
	u16 dist = (u16)(new_seq - old_seq), back;
	int ev = pvring_packed_seq(off_wrap, num);

	if (dist >= num)
		return true;
	if (ev < 0)
		return false; /* nonsense from the other side: as if never reached */
	/* How far @ev lies behind @new_seq, modulo 2 * num. */
	back = (u16)(new_seq - (u16)ev) & (2 * num - 1);
	return back != 0 && back <= dist;
}

#endif /* PVRING_PACKED_H */
