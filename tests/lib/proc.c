// SPDX-License-Identifier: GPL-2.0
/*
 * proc.c - a test's peers as processes: start one that dies with the test,
 * wait for its socket, stop it and reap it, show its log.
 */
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
