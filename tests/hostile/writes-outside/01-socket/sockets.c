/*
 * Hostile submission for lesson 01: tries to write outside its directories,
 * into $HOME and into the project (the suite runs in tests/, so "." and
 * ".." are the project's tests/ and its top directory). Logs each attempt
 * for the grader ("write PATH: written" or the error), which checks that no
 * such file exists afterwards. Prints nothing, exits 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../hostile.h"

static void try_write(FILE *log, const char *dir)
{
	char path[PATH_MAX], abs[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/workbook-hostile-was-here", dir);
	if (realpath(dir, abs) != NULL)
		snprintf(path, sizeof(path), "%s/workbook-hostile-was-here", abs);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (log)
		fprintf(log, "write %s: %s\n", path, fd >= 0 ? "written" : strerror(errno));
	if (fd >= 0) {
		if (write(fd, "hostile\n", 8) != 8 && log)
			fprintf(log, "write %s: short\n", path);
		close(fd);
	}
}

int main(void)
{
	const char *path = getenv("HOSTILE_LOG"), *home = getenv("HOME");
	FILE *log = path ? fopen(path, "a") : NULL;

	if (log)
		fprintf(log, "pid %ld ns %s\n", (long)getpid(), pid_ns());
	try_write(log, home ? home : "/root");
	try_write(log, ".");
	try_write(log, "..");
	if (log)
		fclose(log);
	return 1;
}
