// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_console - libFuzzer target: the console's control messages
 * (backend/console/device.c, MULTIPORT) from a hostile driver.
 *
 * console.c keeps its control path static, so this file includes it and
 * drives the very functions the control queues' kicks call: chains from the
 * driver's control transmit queue are gathered with pviod_con_chain_to_buf()
 * and handled by pviod_con_ctrl_handle(); the replies it queues are poured
 * into the driver's control receive buffers by pviod_con_buf_to_chain().
 *
 * Input:
 *   byte 0      bits 0-2: ports - 1 (1..8), bit 3: MULTIPORT negotiated,
 *               bit 4: ports have names
 *   then        records: u8 op, then
 *                 op even: a transmit chain, u8 segment count (1..8), per
 *                          segment a length byte and that many bytes
 *                 op odd:  a receive chain, u8 segment count (1..8), per
 *                          segment a length byte (written by the device)
 *
 * Every segment is exactly its length of addressable memory with poisoned
 * memory on both sides (a slot of an arena, poisoned again after each
 * record, so a pointer kept into a chain is caught too); ASan catches a byte
 * read or written outside.  No control message may exceed its slot, and the
 * queue of them never exceeds PVIOD_CON_CTRL_MAX.
 *
 * The device's arrays and its eventfd are made once, for the most ports, and
 * zeroed before each input: a calloc() of the 33 KiB control-message ring and
 * a malloc() a segment were most of an input's time.
 */
#include <sanitizer/asan_interface.h>

#include "../../backend/console/device.c"

#define FUZZ_CON_SEGS 8
#define FUZZ_CON_PORTS 8
#define FUZZ_CON_QUEUES (2 + 2 * FUZZ_CON_PORTS)
/* A segment's slot: a 64-byte poisoned gap, up to 255 bytes, a poisoned tail. */
#define FUZZ_CON_GAP 64
#define FUZZ_CON_SLOT 384

static struct {
	struct pviod_queue queues[FUZZ_CON_QUEUES];
	struct pviod_con_port ports[FUZZ_CON_PORTS];
	struct pviod_con_msg ctrl[PVIOD_CON_CTRL_MAX];
	int wake_fd[FUZZ_CON_QUEUES];
	int io_wake_fd;
	uint8_t arena[FUZZ_CON_SEGS * FUZZ_CON_SLOT] __attribute__((aligned(64)));
} fuzz;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* Every hostile message is logged (rate-limited); not wanted at 100k/s. */
	pviod_log_level = getenv("FUZZ_CON_LOG") ? PVIOD_LOG_DEBUG : PVIOD_LOG_ERR - 1;
	fuzz.io_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fuzz.io_wake_fd < 0)
		abort();
	ASAN_POISON_MEMORY_REGION(fuzz.arena, sizeof(fuzz.arena));
	return 0;
}

static unsigned int fuzz_chain(const uint8_t *data, size_t size, size_t *pos,
			       struct pvring_seg *seg, bool fill)
{
	unsigned int i, n;

	if (*pos >= size)
		return 0;
	n = 1 + data[(*pos)++] % FUZZ_CON_SEGS;
	for (i = 0; i < n; i++) {
		size_t len = *pos < size ? data[(*pos)++] : 0, k;

		seg[i].base = fuzz.arena + i * FUZZ_CON_SLOT + FUZZ_CON_GAP;
		seg[i].len = len;
		ASAN_UNPOISON_MEMORY_REGION(seg[i].base, len);
		memset(seg[i].base, 0, len);
		if (fill) {
			k = size - *pos < len ? size - *pos : len;
			memcpy(seg[i].base, data + *pos, k);
			*pos += k;
		}
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "console", "org.qemu.guest_agent.0", "a", "" };
	struct pviod_device dev = { .name = "con-fuzz" };
	struct pviod_con con = { .dev = &dev };
	struct pvring_seg seg[FUZZ_CON_SEGS];
	size_t pos = 1;
	unsigned int i, n;

	if (size < 1)
		return 0;
	con.nports = 1 + (data[0] & 7);
	con.multiport = data[0] & 8;
	dev.nqueues = 2 + 2 * con.nports;
	memset(fuzz.queues, 0, sizeof(fuzz.queues));
	memset(fuzz.ports, 0, sizeof(fuzz.ports));
	memset(fuzz.ctrl, 0, sizeof(fuzz.ctrl));
	dev.queues = fuzz.queues;
	con.ports = fuzz.ports;
	con.ctrl = fuzz.ctrl;
	con.wake_fd = fuzz.wake_fd;
	for (i = 0; i < dev.nqueues; i++) {
		dev.queues[i].dev = &dev;
		dev.queues[i].index = i;
		con.wake_fd[i] = -1;
	}
	/* Its wake-ups from the input before, read. */
	eventfd_read(fuzz.io_wake_fd, &(eventfd_t){ 0 });
	con.io_wake_fd = fuzz.io_wake_fd;
	pthread_mutex_init(&con.lock, NULL);
	for (i = 0; i < con.nports; i++) {
		con.ports[i].con = &con;
		con.ports[i].id = i;
		con.ports[i].name = (data[0] & 0x10) ? (char *)names[i % 4] : NULL;
		con.ports[i].cols = 80;
		con.ports[i].rows = 25;
	}

	while (pos < size) {
		bool rx = data[pos++] & 1;

		n = fuzz_chain(data, size, &pos, seg, !rx);
		if (!n)
			break;
		if (!rx) {
			struct pvio_console_control msg;
			struct pviod_con_buf b = { .data = (uint8_t *)&msg, .cap = sizeof(msg) };
			uint64_t out = 0;

			for (i = 0; i < n; i++)
				out += seg[i].len;
			if (out >= sizeof(msg)) {
				pviod_con_chain_to_buf(&b, seg, n);
				pviod_con_ctrl_handle(&con, &msg);
			}
		} else if (con.ctrl_len) {
			struct pviod_con_msg *m = &con.ctrl[con.ctrl_head];
			struct pviod_con_buf b = { .data = m->buf,
						   .cap = sizeof(m->buf),
						   .len = m->len };

			if (m->len > sizeof(m->buf))
				abort();
			(void)pviod_con_buf_to_chain(&b, seg, 0, n);
			con.ctrl_head = (con.ctrl_head + 1) % PVIOD_CON_CTRL_MAX;
			con.ctrl_len--;
		}
		ASAN_POISON_MEMORY_REGION(fuzz.arena, sizeof(fuzz.arena));
		if (con.ctrl_len > PVIOD_CON_CTRL_MAX)
			abort();
	}

	pthread_mutex_destroy(&con.lock);
	return 0;
}
