// SPDX-License-Identifier: GPL-2.0
/*
 * proc.c - a test's peers as processes: start one that dies with the test,
 * wait for its socket, stop it and reap it, show its log; count what it
 * holds (fds, threads, RSS) and check that repeating an attack on it
 * leaves it holding no more.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pvtest.h"

/**
 * pvt_ms - a monotonic clock for deadlines
 *
 * Return: milliseconds since an arbitrary point.
 */
long pvt_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/**
 * pvt_spawn - start a peer with its output in a log
 * @argv: the program (searched in PATH) and its arguments, NULL-terminated
 * @log: stdout and stderr go there (truncated)
 * @stdin_fd: the peer's stdin; -1 for /dev/null
 *
 * The child gets SIGKILL when the test process dies, so a failed or
 * timed-out test leaves no daemon behind.  It runs in a process group of
 * its own.
 *
 * Return: the child's pid (an exec failure makes it exit 127).
 */
pid_t pvt_spawn(char *const argv[], const char *log, int stdin_fd)
{
	pid_t pid = fork();
	int fd;

	if (pid)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	setpgid(0, 0);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	if (stdin_fd < 0)
		stdin_fd = open("/dev/null", O_RDONLY);
	dup2(stdin_fd, 0);
	execvp(argv[0], argv);
	fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/**
 * pvt_wait_socket - wait until a peer created its socket
 * @path: the unix socket
 * @pid: the peer (> 0: give up when it exits); 0 for none
 * @timeout_ms: how long
 *
 * Only stat()s the path: a probing connect() would count as a client.
 *
 * Return: 0, -ECHILD when @pid exited first, -ETIMEDOUT.
 */
int pvt_wait_socket(const char *path, pid_t pid, int timeout_ms)
{
	long deadline = pvt_ms() + timeout_ms;
	struct stat st;
	int status;

	while (pvt_ms() < deadline) {
		if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
			return 0;
		if (pid > 0 && waitpid(pid, &status, WNOHANG) == pid)
			return -ECHILD;
		usleep(20000);
	}
	return -ETIMEDOUT;
}

/**
 * pvt_stop - SIGTERM a peer, SIGKILL it if it is still there after @grace_ms,
 * and reap it
 * @pid: the peer; nothing is done for pid <= 0
 * @grace_ms: how long it has to exit on SIGTERM (PVT_STOP_MS usually)
 *
 * Return: its wait status (WIFEXITED(), WEXITSTATUS() ...), or -1 when
 * there was no such child to reap.
 */
int pvt_stop(pid_t pid, int grace_ms)
{
	long deadline = pvt_ms() + grace_ms;
	int status;

	if (pid <= 0)
		return -1;
	kill(pid, SIGTERM);
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (r < 0)
			return -1;
		if (pvt_ms() >= deadline)
			break;
		usleep(20000);
	}
	kill(pid, SIGKILL);
	return waitpid(pid, &status, 0) == pid ? status : -1;
}

/**
 * pvt_dump_log - the first lines of a peer's log, as TAP comments on stderr
 * @log: the file (nothing is printed when it cannot be read)
 */
void pvt_dump_log(const char *log)
{
	char line[512];
	FILE *f = fopen(log, "r");
	long n = 0;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && n++ < 40)
		fprintf(stderr, "# | %s", line);
	fclose(f);
}

/**
 * pvt_exe_dir - the directory of the running test binary
 * @buf: where ($(O)/tests/<dir>)
 * @len: its size
 */
void pvt_exe_dir(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);
	char *slash;

	if (n < 0)
		n = 0;
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	if (slash)
		*slash = '\0';
}

/* --- what a process holds ---------------------------------------------------------------- */

/* "/proc/PID/@what", or /proc/self/@what for pid 0. */
static void pvt_proc_path(char *buf, size_t len, pid_t pid, const char *what)
{
	if (pid)
		snprintf(buf, len, "/proc/%d/%s", (int)pid, what);
	else
		snprintf(buf, len, "/proc/self/%s", what);
}

/*
 * The entries of /proc/PID/@what; with @threads, those whose comm is not an
 * io_uring worker's (iou-wrk-*, iou-sqp-*).  -1 when PID is gone.
 */
static int pvt_proc_count(pid_t pid, const char *what, bool threads)
{
	char path[64], comm_path[400], comm[32];
	struct dirent *e;
	int n = 0;
	DIR *d;

	pvt_proc_path(path, sizeof(path), pid, what);
	d = opendir(path);
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		if (!threads) {
			n++;
			continue;
		}
		snprintf(comm_path, sizeof(comm_path), "%s/%s/comm", path, e->d_name);
		f = fopen(comm_path, "re");
		if (!f)
			continue; /* it exited while we looked */
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = 0;
		fclose(f);
		n += strncmp(comm, "iou-", 4) != 0;
	}
	closedir(d);
	return n;
}

/**
 * pvt_proc_fds - how many file descriptors a process has open
 * @pid: the process, 0 for this one
 *
 * Return: the count, or -1 when @pid is gone.
 */
int pvt_proc_fds(pid_t pid)
{
	return pvt_proc_count(pid, "fd", false);
}

/**
 * pvt_proc_threads - a process' own threads
 * @pid: the process, 0 for this one
 *
 * io_uring's workers are listed as threads too, but the kernel starts and
 * retires them with the load: they are not counted.
 *
 * Return: the count, or -1 when @pid is gone.
 */
int pvt_proc_threads(pid_t pid)
{
	return pvt_proc_count(pid, "task", true);
}

/**
 * pvt_proc_rss_kb - a process' resident set
 * @pid: the process, 0 for this one
 *
 * Return: VmRSS in KiB, or -1 when @pid is gone.
 */
long pvt_proc_rss_kb(pid_t pid)
{
	char path[64], line[128];
	long kb = -1;
	FILE *f;

	pvt_proc_path(path, sizeof(path), pid, "status");
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/**
 * pvt_growth_start - what a process holds before a test repeats an attack
 * @g: filled
 * @pid: the process (pviod)
 *
 * Its fds now are the idle count every later look must find again.
 */
void pvt_growth_start(struct pvt_growth *g, pid_t pid)
{
	g->pid = pid;
	g->idle_fds = pvt_proc_fds(pid);
	g->fds0 = -1;
	g->rss0 = -1;
}

/*
 * The process' fds once it has handled the last disconnect (asynchronously,
 * on its control thread): the idle count, or what it still holds after 2 s.
 */
static int pvt_growth_fds(const struct pvt_growth *g)
{
	int i, n = -1;

	for (i = 0; i < 200; i++) {
		n = pvt_proc_fds(g->pid);
		if (n == g->idle_fds)
			break;
		usleep(10000);
	}
	return n;
}

/**
 * pvt_growth_mark - the baseline, once the first runs have warmed it up
 * @g: from pvt_growth_start()
 *
 * Waits (2 s at most) for the fds to settle, then takes the RSS.
 */
void pvt_growth_mark(struct pvt_growth *g)
{
	g->fds0 = pvt_growth_fds(g);
	g->rss0 = pvt_proc_rss_kb(g->pid);
}

/**
 * pvt_growth_check - after the last run: nothing grew since the mark
 * @g: from pvt_growth_mark()
 * @name: the attack, for the comment line
 * @runs: how many times it ran
 * @why: where to write what grew
 * @len: room in @why
 *
 * Prints "# NAME: RUNS runs: pviod's fds A -> B, RSS X -> Y KiB".  The fds
 * at the mark and now must be the idle count; the RSS may grow by
 * PVT_RSS_SLACK_KB (what malloc's arenas may still take in steady state).
 *
 * Return: NULL, or @why.
 */
const char *pvt_growth_check(const struct pvt_growth *g, const char *name, unsigned int runs,
			     char *why, size_t len)
{
	int fds1 = pvt_growth_fds(g);
	long rss1 = pvt_proc_rss_kb(g->pid);

	printf("# %s: %u runs: pviod's fds %d -> %d, RSS %ld -> %ld KiB\n", name, runs, g->fds0,
	       fds1, g->rss0, rss1);
	if (g->fds0 != g->idle_fds || fds1 != g->idle_fds) {
		snprintf(why, len, "pviod's open fds: %d before the tests, %d and %d after",
			 g->idle_fds, g->fds0, fds1);
		return why;
	}
	if (g->rss0 < 0 || rss1 > g->rss0 + PVT_RSS_SLACK_KB) {
		snprintf(why, len, "pviod's RSS grew from %ld to %ld KiB", g->rss0, rss1);
		return why;
	}
	return NULL;
}
