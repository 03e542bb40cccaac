/*
 * Hostile submission for lesson 03: ignores the HOST it is given and tries
 * to reach an address off this machine, 192.0.2.1 (TEST-NET-1, RFC 5737: a
 * documentation address), with a TCP connect and a UDP datagram. The grader
 * runs it only inside the sandbox's private network namespace, whose one
 * interface is a loopback, so both must fail at once (ENETUNREACH); and the
 * program itself sends nothing where the network has a route (a line in
 * /proc/net/route), so that no mistake anywhere puts a packet on a real
 * network. Logs each attempt for the grader, prints nothing, exits 1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../hostile.h"

/* Does this network namespace have any IPv4 route (beyond the header)? */
static int has_routes(void)
{
	char line[512];
	int lines = 0;
	FILE *f = fopen("/proc/net/route", "r");

	if (f == NULL)
		return 1; /* cannot tell: assume the worst */
	while (fgets(line, sizeof(line), f) != NULL)
		lines++;
	fclose(f);
	return lines > 1;
}

static void try_reach(FILE *log, int type, const char *what)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, type, 0), rc;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(type == SOCK_STREAM ? 80 : 53);
	inet_pton(AF_INET, "192.0.2.1", &sa.sin_addr);
	if (type == SOCK_STREAM)
		rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	else
		rc = (int)sendto(fd, "x", 1, 0, (struct sockaddr *)&sa, sizeof(sa));
	if (log)
		fprintf(log, "reach %s 192.0.2.1: %s\n", what, rc == 0 || rc == 1 ? "reached" : strerror(errno));
	close(fd);
}

int main(void)
{
	const char *path = getenv("HOSTILE_LOG");
	FILE *log = path ? fopen(path, "a") : NULL;

	if (log)
		fprintf(log, "pid %ld ns %s\n", (long)getpid(), pid_ns());
	if (has_routes()) {
		if (log)
			fprintf(log, "reach: not tried, this network has routes\n");
	} else {
		try_reach(log, SOCK_STREAM, "tcp");
		try_reach(log, SOCK_DGRAM, "udp");
	}
	if (log)
		fclose(log);
	return 1;
}
