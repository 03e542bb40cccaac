/*
 * tests/hostile/hostile.h - what a hostile submission tells the grader.
 *
 * Each logs a line "pid PID ns NS [port PORT]" to $HOSTILE_LOG for every
 * process it wants to outlive its test. PID is as the process sees it; NS
 * (the link /proc/self/ns/pid, e.g. "pid:[4026531836]") names its PID
 * namespace, so that the grader can tell, from outside a sandbox whose PIDs
 * are its own, whether anything of it is still running
 * (tests/selftest.d/grader.sh).
 */
#ifndef HOSTILE_H
#define HOSTILE_H

#include <unistd.h>

/* The PID namespace of this process, or "-" if it cannot be read. */
static const char *pid_ns(void)
{
	static char ns[64];
	ssize_t n = readlink("/proc/self/ns/pid", ns, sizeof(ns) - 1);

	if (n <= 0)
		return "-";
	ns[n] = '\0';
	return ns;
}

#endif
