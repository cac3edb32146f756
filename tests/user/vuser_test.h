/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vuser_test.h - helpers for the front-end's integration tests: start a peer
 * (qemu-storage-daemon, pviod, dpdk-testpmd) that dies with the test, wait
 * for its socket, stop it.
 */
#ifndef VUSER_TEST_H
#define VUSER_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static inline long vuser_test_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Start @argv with stdout and stderr into @log.  The child gets SIGKILL when
 * the test process dies, so a failed or timed-out test leaves no daemon.
 * @stdin_fd: -1 for /dev/null, else the fd to use as stdin.
 */
static inline pid_t vuser_test_spawn(char *const argv[], const char *log, int stdin_fd)
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

/* Can something be connected to at @path yet?  (Probing connects count as a client.) */
static inline int vuser_test_wait_socket(const char *path, pid_t pid, int timeout_ms)
{
	long deadline = vuser_test_ms() + timeout_ms;
	struct stat st;
	int status;

	while (vuser_test_ms() < deadline) {
		if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
			return 0;
		if (pid > 0 && waitpid(pid, &status, WNOHANG) == pid)
			return -ECHILD;
		usleep(20000);
	}
	return -ETIMEDOUT;
}

static inline void vuser_test_stop(pid_t pid)
{
	int status;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	for (int i = 0; i < 100; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return;
		usleep(20000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}

/* Print the last lines of a peer's log into the TAP output, as comments. */
static inline void vuser_test_dump_log(const char *log)
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

/* The directory of this test binary: $(O)/tests/user. */
static inline void vuser_test_exe_dir(char *buf, size_t len)
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

#endif /* VUSER_TEST_H */
