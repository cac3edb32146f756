/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * pvring_dev.h - the device side of a virtqueue, whatever its format.
 *
 * The device pops chains the driver made available, turns each into host
 * segments (readable first, then writable) and gives each back (puts it in
 * the used area) when it is done.  Every call below goes to the
 * implementation of the ring's format (pvring_dev_split.h, virtio 1.2
 * §2.7; pvring_dev_packed.h, §2.8); callers see no index, flag or layout
 * of the shared areas.  A chain's head is its buffer id: the head
 * descriptor's index for split, the id the driver gave it for packed.  Taking
 * back a pop or a put that the driver has not seen yet is a call too
 * (pvring_dev_unpop(), pvring_dev_unput()), never an edit of the ring's
 * state.
 *
 * The driver is hostile.  A bad chain is consumed and reported with its head
 * so the caller can complete it with an error; a bad head or a jumping index
 * breaks the ring (every later call gives -EIO), since nothing can be
 * trusted after.
 *
 * Concurrency: one caller at a time per ring (its worker); driver and device
 * sides run concurrently on different CPUs.
 */
#ifndef PVRING_DEV_H
#define PVRING_DEV_H

#include "pvring.h"
#include "pvring_mem.h"

/* The split format's shared areas and indices (pvring_dev_split.h). */
struct pvring_dev_split {
	struct pvring_desc *desc;
	struct pvring_avail *avail;
	struct pvring_used *used;
	__le16 *used_event; /* in avail, written by the driver */
	__le16 *avail_event; /* in used, written by us */
	u16 last_avail; /* next avail entry to pop */
	u16 avail_idx; /* avail->idx as last read */
	u16 used_idx; /* next used entry to put (we are used->idx's only writer) */
	u16 published_used; /* used->idx as last stored */
	u16 signalled_used; /* published_used when we last decided to notify */
	bool signalled_valid; /* signalled_used means something */
	bool no_notify; /* we wrote NO_NOTIFY to used->flags and nothing since */
};

/*
 * A put not yet published (packed): the tail of its used descriptor as the
 * publish writes it, little-endian, without the lap's AVAIL/USED bits.
 */
struct pvring_dev_used_elem {
	union {
		struct {
			__le32 len;
			__le16 id;
			__le16 flags; /* WRITE when len is not 0 */
		};
		__le64 tail; /* the three, for one store */
	};
};

/*
 * The packed format's shared areas, positions (sequence numbers, see
 * pvring_packed.h) and private state (pvring_dev_packed.h).
 */
struct pvring_dev_packed {
	struct pvring_desc_packed *desc; /* the descriptor ring */
	struct pvring_event *driver; /* driver event suppression, written by the driver */
	struct pvring_event *device; /* device event suppression, written by us */
	u16 last_avail; /* next descriptor to pop */
	u16 avail_bits; /* pvring_packed_avail_bits(last_avail): kept, not computed per pop */
	u16 avail_end; /* how far pvring_dev_avail() has looked (with avail_cnt only) */
	u16 used_seq; /* next used descriptor to write (published up to here) */
	/*
	 * used_seq + num: pops stop here until more is published (a chain
	 * popped and not yet used still holds its descriptors), kept so that
	 * the next pop's room test is one comparison.
	 */
	u16 pop_end;
	u16 signalled_seq; /* used_seq when we last decided to notify */
	u16 nstaged; /* puts not yet published */
	u16 event_flags; /* shadow of device->flags; 0xffff: unknown */
	bool signalled_valid; /* signalled_seq means something */
	/*
	 * What a pop must record beyond its position, read together
	 * (pop_slow != 0): a ring whose chains are one descriptor each and
	 * that nobody counts pays one test per pop for both.
	 */
	union {
		struct {
			/* Chains pvring_dev_avail() found in [last_avail, avail_end). */
			u16 avail_cnt;
			/*
			 * A chain of more than one descriptor was popped (or
			 * walked again) since set-up.  Until then id_ndesc and
			 * pop_ndesc hold 1 everywhere, as set up: pops need
			 * not record a length and used descriptors follow each
			 * other.
			 */
			bool multi;
			u8 pop_zero; /* 0: pop_slow is the two above */
		};
		u32 pop_slow;
	};
	/* Private state, pvring_dev_config.state (num entries each): */
	u16 *id_ndesc; /* descriptors the chain of each buffer id takes */
	u16 *pop_ndesc; /* descriptors of each recent pop, at its last one's place (unpop) */
	struct pvring_dev_used_elem *staged; /* puts not yet published, in order */
	u32 *id_inlen; /* writable bytes of each buffer id's chain (IN_ORDER batches) */
};

/* Published up to @seq: used_seq moves there, and pop_end with it. */
static inline pvring_always_inline void __pvring_dev_used_seq_packed(struct pvring_dev_packed *p,
								     u16 seq, unsigned int num)
{
	p->used_seq = seq;
	p->pop_end = (u16)(seq + num);
}

struct pvring_dev {
	/* Private, every format. */
	const struct pvring_mem *mem; /* translates descriptor addresses */
	u16 num;
	u16 mask; /* num - 1 */
	u8 format; /* enum pvring_format */
	bool event_idx; /* VIRTIO_F_EVENT_IDX negotiated */
	bool indirect; /* VIRTIO_F_INDIRECT_DESC negotiated */
	/*
	 * What takes a pop off its fast path, read together (off_fast != 0):
	 * a ring that is neither broken nor in order pays the one test it
	 * paid for broken alone.
	 */
	union {
		struct {
			bool broken; /* the driver broke the protocol */
			/* VIRTIO_F_IN_ORDER negotiated: the caller puts in pop order */
			bool in_order;
		};
		u16 off_fast;
	};
	/* The format's view of the shared areas. */
	union {
		struct pvring_dev_split split;
		struct pvring_dev_packed packed;
	};
};

struct pvring_dev_config {
	enum pvring_format format;
	unsigned int num; /* queue size the format allows (pvring_layout()) */
	bool event_idx;
	bool indirect;
	/*
	 * VIRTIO_F_IN_ORDER: the caller promises to put chains in the order
	 * it popped them; a packed ring then publishes a run of puts as one
	 * used descriptor where the driver can tell the lengths (§2.8.23).
	 */
	bool in_order;
	void *desc; /* host addresses of the three areas */
	void *driver;
	void *device;
	const struct pvring_mem *mem;
	u32 base; /* where to resume popping: pvring_dev_base() of a stopped ring */
	/* Private state of pvring_layout()'s dev_state_bytes, 8-byte aligned (packed only). */
	void *state;
};

/* A popped chain: seg[0, nout) readable, seg[nout, nseg) writable. */
struct pvring_chain {
	u16 head; /* for pvring_dev_put() / pvring_dev_push_used() */
	bool head_valid; /* head may be pushed (also after an error) */
	unsigned int nseg; /* host segments (a buffer may straddle regions) */
	unsigned int nout;
	unsigned int ndesc; /* buffers the driver described: the spec's segments */
	u32 max_len; /* the longest of them */
	u64 out_len; /* readable bytes */
	u64 in_len; /* writable bytes */
};

#include "pvring_dev_split.h"
#include "pvring_dev_packed.h"

static inline pvring_always_inline bool pvring_dev_is_packed(const struct pvring_dev *vr)
{
	return vr->format == PVRING_PACKED;
}

int pvring_dev_init(struct pvring_dev *vr, const struct pvring_dev_config *cfg);

static inline pvring_always_inline bool pvring_dev_broken(const struct pvring_dev *vr)
{
	return vr->broken;
}

/* The queue size: chain heads are below it. */
static inline pvring_always_inline unsigned int pvring_dev_size(const struct pvring_dev *vr)
{
	return vr->num;
}

/**
 * pvring_dev_avail - how many chains are waiting
 * @vr: the ring
 *
 * Looks at the shared area afresh.
 *
 * Return: the count (0..num), or -EIO when the ring is broken (now or before):
 * the driver moved further than the ring size.
 */
static inline pvring_always_inline int pvring_dev_avail(struct pvring_dev *vr)
{
	if (unlikely(vr->broken))
		return -EIO;
	if (pvring_dev_is_packed(vr))
		return pvring_dev_avail_packed(vr);
	return pvring_dev_avail_split(vr);
}

/**
 * pvring_dev_has_avail - is a chain waiting?
 * @vr: the ring
 *
 * Cheaper than pvring_dev_avail() when chains seen before are still there:
 * the shared area is read only when they are not.
 *
 * Return: false also on a broken ring.
 */
static inline pvring_always_inline bool pvring_dev_has_avail(struct pvring_dev *vr)
{
	if (unlikely(vr->broken))
		return false;
	if (pvring_dev_is_packed(vr))
		return pvring_dev_has_avail_packed(vr);
	return pvring_dev_has_avail_split(vr);
}

/**
 * pvring_dev_prefetch_desc - start loading the descriptors of a later pop
 * @vr: the ring, after pvring_dev_avail()
 * @ahead: 0 for the next pop, 1 for the one after, ...
 *
 * A hint for a device that pops a burst: issue it for the whole burst
 * first, so the descriptors' cache misses overlap instead of coming one
 * per pop.  Nothing it reads is trusted.
 */
static inline pvring_always_inline void pvring_dev_prefetch_desc(const struct pvring_dev *vr,
								 unsigned int ahead)
{
	if (pvring_dev_is_packed(vr))
		pvring_dev_prefetch_desc_packed(vr, ahead);
	else
		pvring_dev_prefetch_desc_split(vr, ahead);
}

/**
 * pvring_dev_prefetch_used - start owning the used entries of the next @n puts
 * @vr: the ring
 * @n: puts about to come
 *
 * The driver reads those lines, so each first store to one misses; taking
 * them early lets a burst's stores go out without waiting in turn.
 */
static inline pvring_always_inline void pvring_dev_prefetch_used(const struct pvring_dev *vr,
								 unsigned int n)
{
	if (pvring_dev_is_packed(vr))
		pvring_dev_prefetch_used_packed(vr, n);
	else
		pvring_dev_prefetch_used_split(vr, n);
}

/**
 * pvring_dev_pop - take the next available chain
 * @vr: the ring
 * @c: out: the chain
 * @seg: out: its host segments
 * @max_seg: room in @seg
 *
 * Return: 1 with a chain, 0 when none is waiting, or a negative errno.  On
 * error the chain is consumed; when @c->head_valid the caller must still
 * complete the head (put it with len 0) or the driver leaks it: -ELOOP (loop
 * or overlong chain), -EFAULT (address outside guest memory), -EINVAL (bad
 * flags, indirect table, next index or order), -ENOBUFS (more segments than
 * @max_seg).  -EIO: the ring is broken.
 */
static inline pvring_always_inline int pvring_dev_pop(struct pvring_dev *vr, struct pvring_chain *c,
						      struct pvring_seg *seg, unsigned int max_seg)
{
	c->head_valid = false;
	/* One test for broken and in order: the common ring goes straight on. */
	if (unlikely(vr->off_fast)) {
		if (vr->broken)
			return -EIO;
		if (pvring_dev_is_packed(vr))
			return pvring_dev_pop_packed(vr, c, seg, max_seg, true);
		return pvring_dev_pop_split(vr, c, seg, max_seg);
	}
	if (pvring_dev_is_packed(vr))
		return pvring_dev_pop_packed(vr, c, seg, max_seg, false);
	return pvring_dev_pop_split(vr, c, seg, max_seg);
}

/**
 * pvring_dev_popped_desc - copy out a descriptor of the chain popped last
 * @vr: the ring, right after a pvring_dev_pop() that gave a valid head
 * @i: which of the chain's ring descriptors, from 0
 * @d: out: descriptor @i, when below the return value
 *
 * For in-flight tracking: what pvring_dev_walk_head() will need to walk the
 * chain again.  Each field is read once more from the ring, after the pop
 * read it: a driver that changes a chain it made available only changes
 * what a recovery would serve for it.
 *
 * Return: how many descriptors the chain takes in the ring; 0 where the
 * ring itself keeps a chain until it is used (split: its descriptor table).
 */
static inline unsigned int pvring_dev_popped_desc(const struct pvring_dev *vr, unsigned int i,
						  struct pvring_desc_packed *d)
{
	if (pvring_dev_is_packed(vr))
		return pvring_dev_popped_desc_packed(vr, i, d);
	return 0;
}

/**
 * pvring_dev_walk_head - walk the chain at @c->head again
 * @vr: the ring
 * @c: in: a head popped before and not given back (in-flight recovery);
 *     out: as pvring_dev_pop()
 * @seg: out: its host segments
 * @max_seg: room in @seg
 * @saved: its descriptors as pvring_dev_popped_desc() copied them, when it
 *         gave a count; NULL otherwise
 * @nsaved: how many
 *
 * The driver cannot have reused a chain it never saw completed, so a split
 * chain is still where it was; a packed one is walked from @saved, since
 * used descriptors may have been written over it.  Nothing moves in the ring.
 *
 * Return: 0, or pvring_dev_pop()'s chain errors (the head stays valid).
 */
static inline int pvring_dev_walk_head(struct pvring_dev *vr, struct pvring_chain *c,
				       struct pvring_seg *seg, unsigned int max_seg,
				       const struct pvring_desc_packed *saved, unsigned int nsaved)
{
	c->head_valid = c->head < vr->num;
	if (unlikely(!c->head_valid))
		return -EINVAL;
	if (pvring_dev_is_packed(vr))
		return pvring_dev_walk_saved_packed(vr, c, seg, max_seg, saved, nsaved);
	return pvring_dev_walk_split(vr, c, seg, max_seg);
}

/**
 * pvring_dev_unpop - give back the last @n chains popped
 * @vr: the ring
 * @n: how many, none of them put since their pop
 *
 * The next pops take them again, in the same order.  For chains popped
 * ahead of their use (a receive burst) that the device ended up not using.
 */
static inline pvring_always_inline void pvring_dev_unpop(struct pvring_dev *vr, unsigned int n)
{
	if (pvring_dev_is_packed(vr))
		pvring_dev_unpop_packed(vr, n);
	else
		pvring_dev_unpop_split(vr, n);
}

/**
 * pvring_dev_put - write one used element, not yet visible to the driver
 * @vr: the ring
 * @head: the chain's head from pvring_dev_pop()
 * @len: bytes written into the chain's writable part
 *
 * pvring_dev_publish() makes every element put so far visible at once.
 */
static inline pvring_always_inline void pvring_dev_put(struct pvring_dev *vr, u16 head, u32 len)
{
	if (pvring_dev_is_packed(vr))
		pvring_dev_put_packed(vr, head, len);
	else
		pvring_dev_put_split(vr, head, len);
}

/**
 * pvring_dev_unput - take back the last @n elements put and not published
 * @vr: the ring
 * @n: how many, <= pvring_dev_staged()
 *
 * Their chains become popped and not completed again (pvring_dev_unpop()
 * gives those back to the driver's side of the ring).
 */
static inline pvring_always_inline void pvring_dev_unput(struct pvring_dev *vr, unsigned int n)
{
	if (pvring_dev_is_packed(vr))
		pvring_dev_unput_packed(vr, n);
	else
		pvring_dev_unput_split(vr, n);
}

/* Elements put and not yet published. */
static inline pvring_always_inline unsigned int pvring_dev_staged(const struct pvring_dev *vr)
{
	if (pvring_dev_is_packed(vr))
		return vr->packed.nstaged;
	return pvring_dev_staged_split(vr);
}

/**
 * pvring_dev_publish - make every element put so far visible to the driver
 * @vr: the ring
 */
static inline pvring_always_inline void pvring_dev_publish(struct pvring_dev *vr)
{
	if (pvring_dev_is_packed(vr))
		pvring_dev_publish_packed(vr);
	else
		pvring_dev_publish_split(vr);
}

/**
 * pvring_dev_push_used - give a chain back to the driver, visible on return
 * @vr: the ring
 * @head: the chain's head from pvring_dev_pop()
 * @len: bytes written into the chain's writable part
 */
static inline pvring_always_inline void pvring_dev_push_used(struct pvring_dev *vr, u16 head,
							     u32 len)
{
	pvring_dev_put(vr, head, len);
	pvring_dev_publish(vr);
}

/**
 * pvring_dev_should_notify - does the driver want a used-buffer notification?
 * @vr: the ring, after one or more publishes
 */
static inline pvring_always_inline bool pvring_dev_should_notify(struct pvring_dev *vr)
{
	if (pvring_dev_is_packed(vr))
		return pvring_dev_should_notify_packed(vr);
	return pvring_dev_should_notify_split(vr);
}

/**
 * pvring_dev_disable_notify - ask the driver not to kick while we poll
 * @vr: the ring
 *
 * A hint: a kick may still come.
 */
static inline pvring_always_inline void pvring_dev_disable_notify(struct pvring_dev *vr)
{
	if (pvring_dev_is_packed(vr))
		pvring_dev_disable_notify_packed(vr);
	else
		pvring_dev_disable_notify_split(vr);
}

/**
 * pvring_dev_enable_notify - ask for kicks again, race-free
 * @vr: the ring
 *
 * Return: true when the ring is empty so it is safe to wait for a kick; false
 * when chains arrived meanwhile (pop them: no kick will come for them) or the
 * ring is broken.
 */
static inline pvring_always_inline bool pvring_dev_enable_notify(struct pvring_dev *vr)
{
	if (unlikely(vr->broken))
		return false;
	if (pvring_dev_is_packed(vr))
		return pvring_dev_enable_notify_packed(vr);
	return pvring_dev_enable_notify_split(vr);
}

/**
 * pvring_dev_base - where a restart must resume popping
 * @vr: the ring, stopped (nothing popped and not given back)
 *
 * Return: the value VHOST_USER_GET_VRING_BASE reports and
 * pvring_dev_config.base takes.  Split: the next avail index.  Packed (as
 * QEMU's vhost-user reads it): bits 0-14 the next descriptor to pop, bit 15
 * the driver's wrap counter there, bits 16-30 and 31 the same for the next
 * used descriptor.
 */
static inline pvring_always_inline u32 pvring_dev_base(const struct pvring_dev *vr)
{
	if (pvring_dev_is_packed(vr))
		return pvring_packed_off_wrap(vr->packed.last_avail, vr->num) |
		       (u32)pvring_packed_off_wrap(vr->packed.used_seq, vr->num) << 16;
	return vr->split.last_avail;
}

/**
 * pvring_dev_set_base - resume popping elsewhere, before the first pop
 * @vr: the ring, just initialised
 * @base: as pvring_dev_base() encodes it (packed: both halves; offsets out
 *        of range, or more descriptors between the two than the ring has,
 *        are ignored)
 *
 * In-flight recovery resumes past the chains it resubmits itself (packed:
 * publishing from the used position it recorded).
 */
static inline pvring_always_inline void pvring_dev_set_base(struct pvring_dev *vr, u32 base)
{
	if (pvring_dev_is_packed(vr)) {
		int seq = pvring_packed_seq((u16)base, vr->num);
		int used = pvring_packed_seq((u16)(base >> 16), vr->num);
		u16 held = pvring_packed_held(seq, used, vr->num);

		if (seq >= 0 && used >= 0 && held <= vr->num) {
			seq = (u16)(used + held);
			vr->packed.last_avail = (u16)seq;
			vr->packed.avail_bits = pvring_packed_avail_bits((u16)seq, vr->num);
			vr->packed.avail_end = (u16)seq;
			vr->packed.avail_cnt = 0;
			__pvring_dev_used_seq_packed(&vr->packed, (u16)used, vr->num);
		}
		return;
	}
	vr->split.last_avail = (u16)base;
	vr->split.avail_idx = (u16)base;
}

/*
 * pvring_dev_used_index - where the next used element goes: the split
 * ring's used index as we last put it (in-flight tracking records it; see
 * protocol/vhost_user_inflight.h), a packed ring's next used descriptor
 * as off_wrap encodes it.
 */
static inline pvring_always_inline u16 pvring_dev_used_index(const struct pvring_dev *vr)
{
	if (pvring_dev_is_packed(vr))
		return pvring_packed_off_wrap(vr->packed.used_seq, vr->num);
	return vr->split.used_idx;
}

/**
 * pvring_dev_used_published - did a used element at @pos reach the driver?
 * @vr: the ring, stopped
 * @pos: a position as pvring_dev_used_index() encodes it
 *
 * In-flight recovery asks whether a device that died publishing a batch
 * from @pos got as far as the ring: split, used->idx moved from @pos;
 * packed, the descriptor at @pos is no longer available for its lap (the
 * batch's first flags are what publish stores last).
 */
static inline bool pvring_dev_used_published(const struct pvring_dev *vr, u16 pos)
{
	if (pvring_dev_is_packed(vr)) {
		int seq = pvring_packed_seq(pos, vr->num);
		u16 flags;

		if (seq < 0)
			return false;
		flags = le16_to_cpu(READ_ONCE(vr->packed.desc[seq & vr->mask].flags));
		return !pvring_packed_is_avail(flags, (u16)seq, vr->num);
	}
	return le16_to_cpu(READ_ONCE(vr->split.used->idx)) != pos;
}

#endif /* PVRING_DEV_H */
