// SPDX-License-Identifier: GPL-2.0
/*
 * badnet - hostile and awkward front-ends against pviod's net device (TAP 13).
 *
 * One pviod serves two net devices with the loop back-end (every frame the
 * driver transmits is reflected into its own receive queue): "a" takes the
 * abuse from a raw vhost-user front-end (tests/lib/raw.c) that writes descriptor
 * tables, indirect tables and avail rings by hand in a memfd shared with
 * pviod, "w" is a witness driven through the userspace driver
 * (frontend/virtio-user, struct vuser_net).  Every case runs once per feature variant
 * (MRG_RXBUF on/off x EVENT_IDX on/off; VERSION_1 and INDIRECT_DESC always)
 * on a fresh connection to a, and asserts one exact outcome:
 *
 *   REFLECT  every transmitted chain comes back in the used ring, in order,
 *            with len 0; every frame arrives in the receive queue in order,
 *            byte-exact, behind a header that is all zero but num_buffers
 *            (the buffers it spans with MRG_RXBUF, else 1); each queue's
 *            call eventfd fires (EVENT_IDX: used_event set to "the next")
 *   EMPTY    a bad transmit chain comes back with used len 0, is counted
 *            (bad chain / bad header), nothing of it is received, and the
 *            chains before and after it in the same burst are served
 *   DROP     the frame is dropped on the receive side and counted (no
 *            buffer / rx dropped), its transmit chain comes back with len 0
 *   BROKEN   the queue breaks: its error eventfd fires and GET_STATUS
 *            reports DEVICE_NEEDS_RESET; what was popped before the bad
 *            entry still got its used entries, nothing after it did
 *
 * The receive-side rules asserted (virtio 1.2 §5.1.6.3-4): a receive chain
 * with a device-readable descriptor (whatever its writable room), outside
 * guest memory or looping, and a bad avail entry or index, break the receive
 * queue in every variant while transmit goes on; with MRG_RXBUF every buffer
 * must hold at least the header, so a shorter one (first or later) breaks
 * it; without, a buffer too short for a frame drops that frame (no buffer)
 * and stays posted.  num_buffers must be right wherever bytes 10-11 of the
 * header land.  Buffers may straddle two of the four memory regions (they
 * are adjacent in guest-physical space); an indirect table may not.
 *
 * The device's counters (SIGUSR1 dump in pviod's log: "net0: pair 0: tx F
 * frames B bytes, H bad header, C bad chain, D dropped; rx ...") must move
 * by exactly what the case expects; the last point checks the totals pviod
 * logs when it exits.  After every case pviod must be alive, no queue of a
 * healthy case may be broken, and w must still reflect a fresh frame.
 *
 * Then each case runs again in the same variant, BADNET_REPEAT times in all
 * (default 10: a run takes ~15 ms, so 100 would add minutes to `make
 * check`; `make fuzz-badnet` runs 1000): the same outcome and counters each
 * run; once pviod has seen the last one disconnect, its open fds must be
 * those it had before the first case, and its RSS may not have grown by
 * more than PVT_RSS_SLACK_KB since the first tenth of the runs.
 *
 * This file runs the cases and checks the counters and the witness; the
 * hostile driver and the cases are in badnet_*.c (badnet.h says which).
 *
 * PVIOD=path overrides $(O)/pviod; BADNET_ONLY=name runs the cases of that
 * name only (in every variant).
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "badnet.h"
#include "pvtest.h"
#include "vuser.h"

static const struct variant variants[] = {
	{ "mrg_rxbuf+event_idx", true, true },
	{ "mrg_rxbuf", true, false },
	{ "event_idx", false, true },
	{ "no_mrg_rxbuf", false, false },
};

static char sock_a[PATH_MAX], sock_w[PATH_MAX], logpath[PATH_MAX];
static struct pvt_pviod pviod;
static struct vuser_net witness;
static unsigned int witness_round;
static bool have_stats;
static struct nt nt;
static struct pvt_growth growth; /* pviod's fds and RSS across the repeated runs */

/* --- counters ------------------------------------------------------------------------ */

#define CNT_FMT                                                                                   \
	"net0: pair 0: tx %" SCNu64 " frames %" SCNu64 " bytes, %" SCNu64 " bad header, %" SCNu64 \
	" bad chain, %" SCNu64 " dropped; rx %" SCNu64 " frames %" SCNu64 " bytes, %" SCNu64      \
	" no buffer, %" SCNu64 " dropped, %" SCNu64 " filtered"

/*
 * The last counter line for device a in pviod's log, and how many there are.
 * The log is read on from where the last call stopped (it grows by two dumps
 * a case, for every repeated run); a line pviod has not finished writing is
 * left for the next call.
 */
static unsigned int cnt_last(struct cnt *c)
{
	static struct cnt seen;
	static unsigned int n;
	static long off;
	char line[1024], *p;
	struct cnt l;
	FILE *f = fopen(logpath, "r");

	if (!f)
		return 0;
	if (fseek(f, off, SEEK_SET))
		goto out;
	while (fgets(line, sizeof(line), f)) {
		if (!strchr(line, '\n') && feof(f))
			break; /* half written: read again next time */
		off = ftell(f);
		p = strstr(line, "net0: pair 0: tx ");
		if (p && sscanf(p, CNT_FMT, &l.tx_frames, &l.tx_bytes, &l.tx_bad_hdr,
				&l.tx_bad_chain, &l.tx_dropped, &l.rx_frames, &l.rx_bytes,
				&l.rx_no_buf, &l.rx_dropped, &l.rx_filtered) == 10) {
			seen = l;
			n++;
		}
	}
out:
	fclose(f);
	if (n)
		*c = seen;
	return n;
}

/* SIGUSR1, then the new dump's line. */
static int cnt_read(struct cnt *c)
{
	unsigned int before = cnt_last(c);
	long end = pvt_ms() + RAW_WAIT_MS;

	kill(pviod.pid, SIGUSR1);
	while (pvt_ms() < end) {
		if (cnt_last(c) > before)
			return 0;
		usleep(2000);
	}
	return -ETIMEDOUT;
}

static void cnt_add(struct cnt *sum, const struct cnt *d)
{
	sum->tx_frames += d->tx_frames;
	sum->tx_bytes += d->tx_bytes;
	sum->tx_bad_hdr += d->tx_bad_hdr;
	sum->tx_bad_chain += d->tx_bad_chain;
	sum->tx_dropped += d->tx_dropped;
	sum->rx_frames += d->rx_frames;
	sum->rx_bytes += d->rx_bytes;
	sum->rx_no_buf += d->rx_no_buf;
	sum->rx_dropped += d->rx_dropped;
	sum->rx_filtered += d->rx_filtered;
}

/* NULL when @a - @b is @want, else which counter is off. */
static const char *cnt_check(const struct cnt *a, const struct cnt *b, const struct cnt *want,
			     char *why, size_t len)
{
	static const char *const names[] = { "tx frames",    "tx bytes",     "tx bad header",
					     "tx bad chain", "tx dropped",   "rx frames",
					     "rx bytes",     "rx no buffer", "rx dropped",
					     "rx filtered" };
	const uint64_t *pa = &a->tx_frames, *pb = &b->tx_frames, *pw = &want->tx_frames;
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (pa[i] - pb[i] != pw[i]) {
			snprintf(why, len, "counter '%s' moved by %" PRIu64 ", expected %" PRIu64,
				 names[i], pa[i] - pb[i], pw[i]);
			return why;
		}
	}
	return NULL;
}

/* A comment line with the counters' difference @a - @b. */
static void cnt_print(const char *what, const struct cnt *a, const struct cnt *b)
{
	printf("# %s: tx %" PRIu64 " frames %" PRIu64 " bytes, %" PRIu64 " bad header, %" PRIu64
	       " bad chain, %" PRIu64 " dropped; rx %" PRIu64 " frames %" PRIu64 " bytes, %" PRIu64
	       " no buffer, %" PRIu64 " dropped, %" PRIu64 " filtered\n",
	       what, a->tx_frames - b->tx_frames, a->tx_bytes - b->tx_bytes,
	       a->tx_bad_hdr - b->tx_bad_hdr, a->tx_bad_chain - b->tx_bad_chain,
	       a->tx_dropped - b->tx_dropped, a->rx_frames - b->rx_frames,
	       a->rx_bytes - b->rx_bytes, a->rx_no_buf - b->rx_no_buf,
	       a->rx_dropped - b->rx_dropped, a->rx_filtered - b->rx_filtered);
}

/* --- the table ------------------------------------------------------------------------------ */

#define ANY 0
#define MRG_ONLY 1
#define NO_MRG_ONLY 2

static const struct {
	const char *name;
	const char *outcome;
	const char *(*fn)(struct nt *n, int arg);
	int arg;
	int only;
} cases[] = {
	{ "tx_segments_1", "REFLECT", c_segments, 1, ANY },
	{ "tx_segments_2", "REFLECT", c_segments, 2, ANY },
	{ "tx_segments_3", "REFLECT", c_segments, 3, ANY },
	{ "tx_segments_4", "REFLECT", c_segments, 4, ANY },
	{ "tx_segments_5", "REFLECT", c_segments, 5, ANY },
	{ "tx_segments_8", "REFLECT", c_segments, 8, ANY },
	{ "tx_segments_17", "REFLECT", c_segments, 17, ANY },
	{ "tx_segments_64", "REFLECT", c_segments, 64, ANY },
	{ "tx_short_and_long_chains_one_kick", "REFLECT", c_mixed_burst, 0, ANY },
	{ "tx_header_split_across_descriptors", "REFLECT", c_header_split, 0, ANY },
	{ "tx_indirect_tables", "REFLECT", c_indirect, 0, ANY },
	{ "tx_burst_of_200_one_kick", "REFLECT", c_burst_200, 0, ANY },
	{ "tx_largest_frame_65553", "REFLECT", c_max_frame, 0, ANY },
	{ "tx_smallest_frame_14", "REFLECT", c_min_frame, 0, ANY },
	{ "ring_indices_wrap", "REFLECT", c_wrap, 0, ANY },
	{ "buffers_straddle_two_regions", "REFLECT; indirect table across: EMPTY",
	  c_straddle_regions, 0, ANY },
	{ "tx_zero_length_descriptors_inside", "REFLECT", c_zero_len_inside, 0, ANY },
	{ "rx_chains_of_several_descriptors", "REFLECT", c_rx_split, 0, ANY },
	{ "rx_frame_spans_buffers", "REFLECT, num_buffers > 1", c_rx_mrg_span, 0, MRG_ONLY },
	{ "rx_header_over_one_byte_descriptors", "REFLECT", c_rx_hdr_bytes, 0, ANY },
	{ "notifications_suppressed_and_asked", "no call, then a call", c_notify, 0, ANY },
	{ "tx_desc_outside_guest_memory", "EMPTY", c_bad_tx, B_OUTSIDE, ANY },
	{ "tx_desc_past_end_of_memory", "EMPTY", c_bad_tx, B_END_OF_MEMORY, ANY },
	{ "tx_desc_addr_wraps", "EMPTY", c_bad_tx, B_ADDR_WRAPS, ANY },
	{ "tx_chain_loop", "EMPTY", c_bad_tx, B_LOOP, ANY },
	{ "tx_next_out_of_range", "EMPTY", c_bad_tx, B_NEXT_OUT_OF_RANGE, ANY },
	{ "tx_readable_after_writable", "EMPTY", c_bad_tx, B_READABLE_AFTER_WRITABLE, ANY },
	{ "tx_indirect_inside_indirect", "EMPTY", c_bad_tx, B_IND_IN_IND, ANY },
	{ "tx_indirect_len_not_multiple_of_16", "EMPTY", c_bad_tx, B_IND_LEN_NOT_16, ANY },
	{ "tx_indirect_with_next", "EMPTY", c_bad_tx, B_IND_WITH_NEXT, ANY },
	{ "tx_indirect_table_outside_memory", "EMPTY", c_bad_tx, B_IND_OUTSIDE, ANY },
	{ "tx_indirect_loop", "EMPTY", c_bad_tx, B_IND_LOOP, ANY },
	{ "tx_129_segments", "EMPTY", c_bad_tx, B_TOO_MANY_SEGS, ANY },
	{ "tx_desc_len_zero", "EMPTY", c_bad_tx, B_LEN_ZERO, ANY },
	{ "tx_header_shorter_than_12", "EMPTY", c_bad_tx, B_HEADER_SHORT, ANY },
	{ "tx_frame_65554", "EMPTY", c_bad_tx, B_FRAME_TOO_LONG, ANY },
	{ "tx_frame_13", "EMPTY (bad header)", c_bad_tx, B_FRAME_TOO_SHORT, ANY },
	{ "tx_header_ignored_without_offloads", "reflected, header zero", c_tx_bad_headers, 0,
	  ANY },
	{ "tx_bad_header_offloads_negotiated", "EMPTY (bad header)", c_tx_bad_headers_offloads, 0,
	  ANY },
	{ "tx_bad_chains_mid_burst", "EMPTY, neighbours served", c_tx_bad_mid_burst, 0, ANY },
	{ "tx_avail_head_out_of_range_mid_burst", "BROKEN after 3", c_tx_head_out_of_range, 0,
	  ANY },
	{ "tx_long_chain_then_bad_head", "BROKEN after 1", c_tx_long_then_bad_head, 0, ANY },
	{ "tx_avail_idx_jump", "BROKEN after 3", c_tx_idx_jump, 0, ANY },
	{ "rx_readable_descriptor_first", "rx BROKEN, tx goes on", c_rx_readable_first, 0, ANY },
	{ "rx_chain_all_readable", "rx BROKEN, tx goes on", c_rx_all_readable, 0, ANY },
	{ "rx_desc_outside_guest_memory", "rx BROKEN, tx goes on", c_rx_outside, 0, ANY },
	{ "rx_chain_loop", "rx BROKEN, tx goes on", c_rx_loop, 0, ANY },
	{ "rx_avail_head_out_of_range", "rx BROKEN, tx goes on", c_rx_head_out_of_range, 0, ANY },
	{ "rx_avail_idx_jump", "rx BROKEN, tx goes on", c_rx_idx_jump, 0, ANY },
	{ "rx_chain_shorter_than_header", "MRG: rx BROKEN; else DROP (no buffer)",
	  c_rx_shorter_than_header, 0, ANY },
	{ "rx_zero_length_second_buffer", "rx BROKEN, tx goes on", c_rx_mrg_zero_second, 0,
	  MRG_ONLY },
	{ "rx_no_buffers", "DROP (no buffer), then REFLECT", c_rx_no_buffers, 0, ANY },
	{ "rx_too_few_buffers", "DROP (no buffer), then REFLECT", c_rx_too_few, 0, ANY },
};

/* --- the checks after every case ----------------------------------------------------------- */

/* Device w reflects a fresh frame, byte-exact. */
static bool witness_ok(char *why, size_t len)
{
	uint8_t out[256], in[2048];
	unsigned int i;
	int ret;

	witness_round++;
	for (i = 0; i < sizeof(out); i++)
		out[i] = frame_byte(witness_round, i);
	ret = vuser_net_send(&witness, out, sizeof(out));
	if (!ret)
		ret = vuser_net_flush(&witness);
	while (!ret) {
		ret = vuser_net_recv(&witness, in, sizeof(in));
		if (ret == -EAGAIN)
			ret = vuser_net_wait_rx(&witness, RAW_WAIT_MS);
		else if (ret >= 0)
			break;
	}
	if (ret < 0) {
		snprintf(why, len, "device w: %s", vuser_dev_errmsg(&witness.dev));
		return false;
	}
	if (ret != sizeof(out) || memcmp(in, out, sizeof(out))) {
		snprintf(why, len, "device w: reflected frame differs (%d bytes)", ret);
		return false;
	}
	vuser_net_reap_tx(&witness);
	return true;
}

static bool selected(const char *name)
{
	const char *only = getenv("BADNET_ONLY");

	return !only || !strcmp(only, name);
}

static bool applies(const struct variant *v, int only)
{
	return only == ANY || (only == MRG_ONLY && v->mrg) || (only == NO_MRG_ONLY && !v->mrg);
}

/*
 * One case in one variant: NULL or what went wrong.  @total: the counters
 * pviod must log at exit (the last ones read, or the sum of what every case
 * expected when pviod has no SIGUSR1 dump).
 */
static const char *run_case(unsigned int c, const struct variant *v, struct cnt *total, char *why,
			    size_t len)
{
	struct cnt before, after;
	const char *err;

	memset(&nt, 0, sizeof(nt));
	raw_init(&nt.r);
	nt.sock = sock_a;
	nt.v = v;
	nt.tx_next = TX_GPA;
	nt.ind_next = IND_GPA;
	nt.rx_next = RX_GPA;
	if (have_stats && cnt_read(&before))
		return "no counters from pviod (SIGUSR1)";
	err = cases[c].fn(&nt, cases[c].arg);
	if (err) {
		snprintf(why, len, "%s", err);
		err = why;
	}
	cnt_add(total, &nt.want);
	if (have_stats && cnt_read(&after)) {
		err = err ? err : "no counters from pviod (SIGUSR1)";
	} else if (have_stats) {
		*total = after;
		if (!err)
			err = cnt_check(&after, &before, &nt.want, why, len);
		else
			cnt_print("counters moved by", &after, &before);
	}
	raw_close(&nt.r);
	if (!err && !pvt_pviod_alive(&pviod))
		err = "pviod died";
	if (!err && !witness_ok(why, len))
		err = why;
	return err;
}

/*
 * Run case @c in variant @v @repeat - 1 more times: the same outcome (and
 * counters) each time, and pviod's fds and RSS the same after the last run
 * as after the first tenth.
 */
static const char *repeated(unsigned int c, const struct variant *v, unsigned int repeat,
			    struct cnt *total, char *why, size_t len)
{
	unsigned int k, warm = repeat / 10 ?: 1;
	char name[160], first[256];
	const char *err;

	for (k = 1; k < repeat; k++) {
		if (k == warm)
			pvt_growth_mark(&growth);
		err = run_case(c, v, total, why, len);
		if (err) {
			snprintf(first, sizeof(first), "%.*s", (int)sizeof(first) - 1, err);
			snprintf(why, len, "run %u of %u: %s", k + 1, repeat, first);
			return why;
		}
	}
	snprintf(name, sizeof(name), "%s/%s", v->name, cases[c].name);
	return pvt_growth_check(&growth, name, repeat, why, len);
}

int main(void)
{
	char dir[] = "/tmp/pvio-badnet.XXXXXX", why[512];
	char dev_a[PATH_MAX + 64], dev_w[PATH_MAX + 64];
	unsigned int nc = sizeof(cases) / sizeof(cases[0]), nv, c, plan = 0, t = 0, failed = 0;
	unsigned int repeat = 10;
	struct vuser_net_opts wo = { .queue_size = 64, .timeout_ms = RAW_WAIT_MS };
	struct cnt total = { 0 }, now;
	int ret;

	nv = sizeof(variants) / sizeof(variants[0]);
	signal(SIGPIPE, SIG_IGN);
	if (getenv("BADNET_REPEAT"))
		repeat = (unsigned int)strtoul(getenv("BADNET_REPEAT"), NULL, 10) ?: 1;
	for (c = 0; c < nc; c++)
		for (t = 0; t < nv; t++)
			plan += applies(&variants[t], cases[c].only);
	printf("TAP version 13\n1..%u\n", plan + 1);
	fflush(stdout);
	if (!mkdtemp(dir)) {
		printf("Bail out! a temporary directory in /tmp\n");
		return 1;
	}
	snprintf(sock_a, sizeof(sock_a), "%s/a.sock", dir);
	snprintf(sock_w, sizeof(sock_w), "%s/w.sock", dir);
	snprintf(logpath, sizeof(logpath), "%s/pviod.log", dir);
	snprintf(dev_a, sizeof(dev_a), "net,socket=%s,backend=loop", sock_a);
	snprintf(dev_w, sizeof(dev_w), "net,socket=%s,backend=loop", sock_w);
	{
		const char *const args[] = { "--device", dev_a, "--device", dev_w, NULL };

		if (pvt_pviod_start(&pviod, logpath, args, 5000)) {
			pvt_dump_log(logpath);
			printf("Bail out! pviod (%s) did not start\n", pviod.bin);
			return 1;
		}
	}
	wo.socket_path = sock_w;
	ret = vuser_net_open(&witness, &wo);
	if (ret) {
		printf("Bail out! device w: %s\n", vuser_dev_errmsg(&witness.dev));
		pvt_pviod_stop(&pviod, PVT_STOP_MS);
		return 1;
	}
	have_stats = cnt_read(&total) == 0;
	if (!have_stats)
		printf("# pviod logs no net counters on SIGUSR1: counters checked at exit only\n");
	pvt_growth_start(&growth, pviod.pid);

	t = 0;
	for (c = 0; c < nc; c++) {
		unsigned int v;

		for (v = 0; v < nv; v++) {
			unsigned int before = raw_inputs;
			const char *err;

			if (!applies(&variants[v], cases[c].only))
				continue;
			t++;
			if (!selected(cases[c].name)) {
				printf("ok %u %s/%s # SKIP not selected\n", t, variants[v].name,
				       cases[c].name);
				continue;
			}
			err = run_case(c, &variants[v], &total, why, sizeof(why));
			if (!err && repeat > 1)
				err = repeated(c, &variants[v], repeat, &total, why, sizeof(why));
			if (err) {
				failed++;
				printf("not ok %u %s/%s # expected %s: %s\n", t, variants[v].name,
				       cases[c].name, cases[c].outcome, err);
			} else {
				printf("ok %u %s/%s\n", t, variants[v].name, cases[c].name);
				printf("# %s/%s: %s; %u hostile inputs; pviod alive, w serves\n",
				       variants[v].name, cases[c].name, cases[c].outcome,
				       raw_inputs - before);
			}
			fflush(stdout);
			if (!pvt_pviod_alive(&pviod)) {
				fflush(stdout);
				pvt_dump_log(logpath);
				printf("Bail out! pviod died\n");
				return 1;
			}
		}
	}
	printf("# %u hostile inputs in %u cases, %u failed\n", raw_inputs, t, failed);
	vuser_net_close(&witness);
	pvt_pviod_stop(&pviod, PVT_STOP_MS);

	/* The totals pviod logs at exit: everything every case expected. */
	if (cnt_last(&now) == 0) {
		failed++;
		printf("not ok %u counters_at_exit # no counter line for net0 in pviod's log\n",
		       plan + 1);
	} else if (cnt_check(&now, &(struct cnt){ 0 }, &total, why, sizeof(why))) {
		failed++;
		printf("not ok %u counters_at_exit # %s\n", plan + 1, why);
	} else {
		printf("ok %u counters_at_exit\n", plan + 1);
	}
	fflush(stdout);
	if (failed)
		pvt_dump_log(logpath);
	if (pvt_rmtree(dir))
		fprintf(stderr, "# could not remove %s\n", dir);
	return failed ? 1 : 0;
}
