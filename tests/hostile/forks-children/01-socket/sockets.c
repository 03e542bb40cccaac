/*
 * Hostile submission for lesson 01: forks a child that stays in the process
 * group and a grandchild that calls setsid() to leave it, both ignoring
 * SIGTERM and SIGHUP and running forever; the parent exits at once with no
 * output. The grader must find and kill both after the test.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../hostile.h"

static void log_pid(void)
{
	const char *log = getenv("HOSTILE_LOG");
	FILE *f = log ? fopen(log, "a") : NULL;

	if (f) {
		fprintf(f, "pid %ld ns %s\n", (long)getpid(), pid_ns());
		fclose(f);
	}
}

static void linger(void)
{
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	log_pid();
	for (;;)
		sleep(1);
}

int main(void)
{
	if (fork() == 0)
		linger(); /* stays in the group */
	if (fork() == 0) {
		setsid(); /* leaves the group and the session */
		if (fork() == 0)
			linger();
		_exit(0);
	}
	return 0;
}
