/*
 * Hostile submission for lesson 01: the known escape from a test's
 * teardown. A child leaves the process group and the session (setsid), then
 * re-executes itself with an empty environment and another name, so that
 * neither the process-group kill nor the environment mark the suites'
 * teardown looks for (WORKBOOK_TEST_MARK) finds it; it ignores SIGTERM and
 * SIGHUP and waits forever. The parent exits 1 with no output. Only the
 * sandbox's PID namespace is sure to end it, which is what the grader checks.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../hostile.h"

int main(int argc, char *argv[])
{
	if (argc == 3 && strcmp(argv[1], "--escaped") == 0) {
		FILE *f = argv[2][0] ? fopen(argv[2], "a") : NULL;

		signal(SIGTERM, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		if (f) {
			fprintf(f, "pid %ld ns %s\n", (long)getpid(), pid_ns());
			fclose(f);
		}
		for (;;)
			sleep(1);
	}
	if (fork() == 0) {
		const char *log = getenv("HOSTILE_LOG");
		char *args[] = {"escaped", "--escaped", (char *)(log ? log : ""), NULL};
		char *no_env[] = {NULL};

		setsid();
		execve("/proc/self/exe", args, no_env);
		_exit(127);
	}
	return 1;
}
