/*
 * Hostile submission for lesson 01: prints endlessly and never exits: lines
 * on stdout, one endless line (no newline at all) on stderr. The grader's
 * report must stay small all the same, and its disk use bounded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../hostile.h"

int main(void)
{
	const char *log = getenv("HOSTILE_LOG");
	FILE *f = log ? fopen(log, "a") : NULL;
	char line[4096];

	if (f) {
		fprintf(f, "pid %ld ns %s\n", (long)getpid(), pid_ns());
		fclose(f);
	}
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	for (;;) {
		/* Keep going whatever happens to the files. */
		if (write(1, line, sizeof(line)) < 0)
			sleep(1);
		if (write(2, line, sizeof(line) - 1) < 0)
			sleep(1);
	}
}
