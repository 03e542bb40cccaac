/*
 * Hostile submission for lesson 01: ignores SIGTERM, SIGHUP and SIGINT and
 * spins forever. Only SIGKILL ends it; the grader must send it.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../hostile.h"

int main(void)
{
	const char *log = getenv("HOSTILE_LOG");
	FILE *f = log ? fopen(log, "a") : NULL;

	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	if (f) {
		fprintf(f, "pid %ld ns %s\n", (long)getpid(), pid_ns());
		fclose(f);
	}
	for (;;)
		sleep(1);
}
