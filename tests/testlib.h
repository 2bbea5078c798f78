/* testlib.h -- small helpers shared by the C tests: threads, child writers, temp dirs. */

#pragma once

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* Threads of this process, from /proc. */
static inline int test_threads(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	while (d != NULL && (e = readdir(d)) != NULL) {
		n += e->d_name[0] != '.';
	}
	if (d != NULL) {
		closedir(d);
	}
	return n;
}

/*
 * Run fn(arg) in a child process and return 0 if it returned 0.  Writers
 * run this way, as the CLI does: LMDB must not have one file open twice in
 * a process (closing one environment drops the other's locks), and the
 * module under test keeps the store open in this one.
 */
static inline int test_in_child(int (*fn)(void *), void *arg)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		return -1;
	}
	if (pid == 0) {
		_exit(fn(arg) == 0 ? 0 : 1);
	}
	int status;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
		return -1;
	}
	return WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* Remove a temporary directory made by the test. */
static inline void test_rmtree(const char *dir)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0) {
		printf("# could not remove %s\n", dir);
	}
}
