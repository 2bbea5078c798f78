/* testlib.h -- small helpers shared by the C tests: clock, random numbers, threads, writers in child processes, temp dirs. */
/* SPDX-License-Identifier: GPL-2.0-or-later */

#pragma once

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Milliseconds of CLOCK_MONOTONIC: for the bounds of waits and runs. */
static inline int64_t test_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* xorshift64*: fast and deterministic, so a printed seed replays a run. */
static inline uint64_t test_rng(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * UINT64_C(2685821657736338717);
}

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
 * Run this program again in a child as "PROG --child ARGS..." and return 0
 * if it exited 0; main() hands such a call to the test's own child_main().
 * Writers run this way, as the CLI does: LMDB must not have one file open
 * twice in a process (closing one environment drops the other's locks),
 * and the module under test keeps the store open in this one.  The child
 * execs at once instead of running the writer after fork(): a fork()ed
 * child of a threaded process must run no library code, since another
 * thread may have held a lock at the fork (ASan's allocator is not
 * fork-safe: such children hung under the sanitizer builds).
 */
#define TEST_CHILD_FLAG		"--child"
#define TEST_CHILD_MAXARGS	12

static inline int test_run_self(char *const args[])
{
	char *argv[TEST_CHILD_MAXARGS + 3] = { "test-child", TEST_CHILD_FLAG };
	int n = 2;
	for (int i = 0; args[i] != NULL; i++) {
		if (i == TEST_CHILD_MAXARGS) {
			return -1;
		}
		argv[n++] = args[i];
	}
	argv[n] = NULL;
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		return -1;
	}
	if (pid == 0) {
		execv("/proc/self/exe", argv);
		_exit(127);
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
