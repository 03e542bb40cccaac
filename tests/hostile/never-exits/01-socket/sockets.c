/*
 * Hostile submission for lesson 01: never exits and prints nothing.
 * The grader must time it out, fail the tests, and leave nothing running.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../hostile.h"

int main(void)
{
	const char *log = getenv("HOSTILE_LOG");
	FILE *f = log ? fopen(log, "a") : NULL;

	if (f) {
		fprintf(f, "pid %ld ns %s\n", (long)getpid(), pid_ns());
		fclose(f);
	}
	for (;;)
		pause();
}
