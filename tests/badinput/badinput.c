// SPDX-License-Identifier: GPL-2.0
/*
 * badinput - hostile front-ends against a running pviod (TAP 13).
 *
 * One pviod serves three disks: "a" takes the abuse, "b" is a witness driven
 * through the userspace driver (frontend/virtio-user), "ro" is read-only.  Every
 * test opens a raw vhost-user connection to a (or ro), sets it up as far as
 * it needs, does one hostile thing and asserts the exact outcome:
 *
 *   ACK(errno)   the request is refused with an error REPLY_ACK, the
 *                connection lives on (a GET_FEATURES is still answered)
 *   CLOSED       pviod closes the connection (a malformed message)
 *   EMPTY        the bad chain comes back in the used ring with length 0
 *   IOERR/UNSUPP the request completes with that status byte
 *   BROKEN       the queue breaks: its error eventfd fires and GET_STATUS
 *                reports DEVICE_NEEDS_RESET
 *
 * and after every test that pviod is alive and disk b still writes and reads
 * back a fresh pattern through the driver.  Then the test runs again,
 * BADINPUT_REPEAT times in all (default 100; `make fuzz` runs 1000): each
 * run must see the same outcome; once pviod has seen the last one
 * disconnect, its open fds must be those it had before the first test, and
 * its RSS may not have grown by more than PVT_RSS_SLACK_KB since the first
 * tenth of the runs.  Ring-level attacks write the
 * descriptor table and avail ring by hand in the memfd "guest memory" this
 * test shares with pviod (the raw front-end of tests/lib/raw.c, shared with
 * badnet.c); nothing here goes through a test hook in pviod.
 *
 * This file runs the tests and checks pviod and the witness after each;
 * the disk set-up and the tests are in badinput_*.c (badinput.h says
 * which).
 *
 * PVIOD=path overrides $(O)/pviod.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "badinput.h"
#include "pvtest.h"
#include "vuser.h"

char sock_a[PATH_MAX], sock_ro[PATH_MAX];
static char sock_b[PATH_MAX], logpath[PATH_MAX];
static struct pvt_pviod pviod;
static struct vuser_blk witness;
static uint8_t *witness_buf;
static unsigned int witness_round;

/* --- the checks after every test ------------------------------------------------------- */

static struct pvt_growth growth; /* pviod's fds and RSS across the repeated runs */

static bool witness_ok(char *why, size_t len)
{
	uint64_t off = (uint64_t)(witness_round % 64) * 4096;
	int ret;

	witness_round++;
	memset(witness_buf, 0x40 + witness_round % 64, 4096);
	ret = vuser_blk_sync(&witness, 0, PVIO_BLK_T_OUT, off, witness_buf, 4096);
	if (ret) {
		snprintf(why, len, "device b: write: %s", strerror(-ret));
		return false;
	}
	memset(witness_buf, 0, 4096);
	ret = vuser_blk_sync(&witness, 0, PVIO_BLK_T_IN, off, witness_buf, 4096);
	if (ret) {
		snprintf(why, len, "device b: read: %s", strerror(-ret));
		return false;
	}
	if (witness_buf[0] != 0x40 + witness_round % 64 ||
	    witness_buf[4095] != 0x40 + witness_round % 64) {
		snprintf(why, len, "device b: read back the wrong data");
		return false;
	}
	return true;
}

/* --- the tests --------------------------------------------------------------------------- */

/* Each returns NULL on success, else what went wrong; *what says the outcome seen. */
typedef const char *(*bad_fn)(struct raw *r);

static const struct {
	const char *name;
	const char *outcome;
	bad_fn fn;
} tests[] = {
	{ "desc_addr_outside_guest_memory", "EMPTY", t_desc_outside_memory },
	{ "desc_straddles_end_of_region", "EMPTY", t_desc_straddles_region },
	{ "desc_len_zero_status", "IOERR in the last writable byte", t_desc_len_zero_status },
	{ "desc_len_zero_data", "OK, len 1", t_desc_len_zero_data },
	{ "desc_len_2^32-1", "EMPTY", t_desc_len_4g },
	{ "chain_loop", "EMPTY", t_chain_loop },
	{ "indirect_inside_indirect", "EMPTY", t_indirect_in_indirect },
	{ "indirect_len_not_multiple_of_16", "EMPTY", t_indirect_len_not_16 },
	{ "avail_idx_jumps_past_ring_size", "BROKEN", t_avail_idx_jump },
	{ "avail_head_out_of_range", "BROKEN", t_avail_head_out_of_range },
	{ "ring_size_not_power_of_two", "ACK(EINVAL)", t_ring_size_not_pow2 },
	{ "ring_size_above_32768", "ACK(EINVAL)", t_ring_size_too_big },
	{ "ring_addresses_outside_memory", "ACK(EFAULT)", t_ring_addr_outside },
	{ "mem_table_overlapping_regions", "ACK(EINVAL)", t_mem_overlap },
	{ "mem_table_zero_sized_region", "ACK(EINVAL)", t_mem_zero_size },
	{ "mem_table_region_past_end_of_file", "ACK(EINVAL)", t_mem_past_eof },
	{ "mem_table_too_many_regions", "CLOSED", t_mem_too_many },
	{ "mem_shrunk_under_pviod_rings", "BROKEN", t_mem_shrunk_rings },
	{ "mem_shrunk_under_pviod_read_data", "IOERR", t_mem_shrunk_read_data },
	{ "mem_shrunk_under_pviod_get_id", "BROKEN", t_mem_shrunk_get_id },
	{ "message_wrong_size", "CLOSED", t_wrong_size },
	{ "message_payload_over_4096", "CLOSED", t_payload_too_big },
	{ "message_bad_version", "CLOSED", t_bad_version },
	{ "too_many_fds_for_request", "CLOSED", t_too_many_fds },
	{ "more_fds_than_protocol_allows", "CLOSED", t_more_fds_than_protocol },
	{ "too_few_fds", "CLOSED", t_too_few_fds },
	{ "unknown_request_codes", "ACK(EOPNOTSUPP)", t_unknown_request },
	{ "queue_index_out_of_range", "CLOSED", t_queue_index_out_of_range },
	{ "kick_before_ring_is_set", "ACK(0), ignored", t_kick_before_ring },
	{ "request_header_too_short", "IOERR", t_header_too_short },
	{ "status_byte_in_readonly_desc", "EMPTY", t_status_readonly },
	{ "sectors_beyond_capacity", "IOERR", t_sectors_beyond_capacity },
	{ "sector_wraps_64_bits", "IOERR", t_sectors_wrap },
	{ "write_to_readonly_disk", "IOERR", t_write_readonly_disk },
	{ "discard_too_many_segments", "IOERR", t_discard_too_many },
	{ "disconnect_mid_message", "reconnect served", t_disconnect_mid_message },
	{ "disconnect_mid_header", "reconnect served", t_disconnect_mid_header },
	{ "sigpipe_reply_to_gone_peer", "reconnect served", t_sigpipe },
	{ "session_after_broken_ring", "OK", t_session_after_break },
};

/*
 * Run test @i @repeat - 1 more times; the same outcome each time, and pviod's
 * fds and RSS the same after the last run as after the first tenth.
 */
static const char *repeated(unsigned int i, unsigned int repeat, char *why, size_t len)
{
	unsigned int k, warm = repeat / 10 ?: 1;

	for (k = 1; k < repeat; k++) {
		struct raw r;
		const char *err;

		if (k == warm)
			pvt_growth_mark(&growth);
		raw_init(&r);
		err = tests[i].fn(&r);
		raw_close(&r);
		if (err || !pvt_pviod_alive(&pviod)) {
			snprintf(why, len, "run %u of %u: %s", k + 1, repeat, err ?: "pviod died");
			return why;
		}
	}
	if (!witness_ok(why, len))
		return why;
	return pvt_growth_check(&growth, tests[i].name, repeat, why, len);
}

static int image(const char *dir, const char *name, char *path, size_t len)
{
	snprintf(path, len, "%s/%s.img", dir, name);
	return pvt_image_create(path, DISK_SECTORS * 512) ? -1 : 0;
}

int main(void)
{
	char dir[] = "/tmp/pvio-badinput.XXXXXX";
	char img_a[PATH_MAX], img_b[PATH_MAX], img_ro[PATH_MAX], why[256];
	char dev_a[2 * PATH_MAX + 64], dev_b[2 * PATH_MAX + 64], dev_ro[2 * PATH_MAX + 64];
	unsigned int n = sizeof(tests) / sizeof(tests[0]), i, failed = 0, repeat = 100;
	struct vuser_blk_opts bo = { 0 };
	int ret;

	signal(SIGPIPE, SIG_IGN);
	if (getenv("BADINPUT_REPEAT"))
		repeat = (unsigned int)strtoul(getenv("BADINPUT_REPEAT"), NULL, 10) ?: 1;
	printf("TAP version 13\n1..%u\n", n);
	fflush(stdout);
	if (!mkdtemp(dir) || image(dir, "a", img_a, sizeof(img_a)) ||
	    image(dir, "b", img_b, sizeof(img_b)) || image(dir, "ro", img_ro, sizeof(img_ro))) {
		printf("Bail out! temporary images in /tmp\n");
		return 1;
	}
	snprintf(sock_a, sizeof(sock_a), "%s/a.sock", dir);
	snprintf(sock_b, sizeof(sock_b), "%s/b.sock", dir);
	snprintf(sock_ro, sizeof(sock_ro), "%s/ro.sock", dir);
	snprintf(logpath, sizeof(logpath), "%s/pviod.log", dir);
	snprintf(dev_a, sizeof(dev_a), "blk,socket=%s,file=%s,direct=off,queues=1", sock_a, img_a);
	snprintf(dev_b, sizeof(dev_b), "blk,socket=%s,file=%s,direct=off", sock_b, img_b);
	snprintf(dev_ro, sizeof(dev_ro), "blk,socket=%s,file=%s,readonly=on", sock_ro, img_ro);
	{
		const char *const args[] = {
			"--device", dev_a, "--device", dev_b, "--device", dev_ro, NULL,
		};

		if (pvt_pviod_start(&pviod, logpath, args, 5000)) {
			pvt_dump_log(logpath);
			printf("Bail out! pviod (%s) did not start\n", pviod.bin);
			return 1;
		}
	}
	bo.socket_path = sock_b;
	bo.depth = 1;
	bo.buf_bytes = 1 << 16;
	ret = vuser_blk_open(&witness, &bo);
	if (ret) {
		printf("Bail out! device b: %s\n", vuser_dev_errmsg(&witness.dev));
		pvt_pviod_stop(&pviod, PVT_STOP_MS);
		return 1;
	}
	witness_buf = vuser_blk_alloc(&witness, 4096);
	pvt_growth_start(&growth, pviod.pid);

	for (i = 0; i < n; i++) {
		struct raw r;
		unsigned int before = raw_inputs;
		const char *err;

		if (getenv("BADINPUT_ONLY") && strcmp(getenv("BADINPUT_ONLY"), tests[i].name)) {
			printf("ok %u %s # SKIP not selected\n", i + 1, tests[i].name);
			continue;
		}
		raw_init(&r);
		err = tests[i].fn(&r);

		raw_close(&r);
		if (!err && !pvt_pviod_alive(&pviod))
			err = "pviod died";
		if (!err && !witness_ok(why, sizeof(why)))
			err = why;
		if (!err && repeat > 1)
			err = repeated(i, repeat, why, sizeof(why));
		if (err) {
			failed++;
			printf("not ok %u %s # expected %s: %s\n", i + 1, tests[i].name,
			       tests[i].outcome, err);
		} else {
			printf("ok %u %s\n", i + 1, tests[i].name);
			printf("# %s: %s; %u hostile inputs; pviod alive, device b serves\n",
			       tests[i].name, tests[i].outcome, raw_inputs - before);
		}
		fflush(stdout);
		if (!pvt_pviod_alive(&pviod)) {
			pvt_dump_log(logpath);
			printf("Bail out! pviod died\n");
			return 1;
		}
	}
	printf("# %u hostile inputs in %u tests, %u failed\n", raw_inputs, n, failed);
	vuser_blk_close(&witness);
	pvt_pviod_stop(&pviod, PVT_STOP_MS);
	if (failed)
		pvt_dump_log(logpath);
	if (pvt_rmtree(dir))
		fprintf(stderr, "# could not remove %s\n", dir);
	return failed ? 1 : 0;
}
