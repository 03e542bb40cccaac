/*
 * Hostile submission for lesson 02: a greeter that listens and announces as
 * it should, then prints 100 MB of binary garbage (NUL bytes, bytes that are
 * not UTF-8, escape sequences) on stdout and on stderr, ignoring SIGXFSZ and
 * every failed write, and sends 1 MB of the same to each client. The
 * grader's memory and disk must stay bounded, every report format valid
 * UTF-8 (and XML), and the report must say what happened
 * (tests/selftest.d/hostile-output.sh).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../hostile.h"

#define FLOOD (100L * 1000 * 1000)

static unsigned char garbage[65536];

/* Write up to TOTAL bytes of garbage to FD, going on whatever happens. */
static void flood(int fd, long total)
{
	long done;

	for (done = 0; done < total; done += (long)sizeof(garbage))
		if (write(fd, garbage, sizeof(garbage)) < 0 && fd != 1 && fd != 2)
			return; /* a client that left */
}

int main(int argc, char *argv[])
{
	const char *log = getenv("HOSTILE_LOG");
	FILE *f = log ? fopen(log, "a") : NULL;
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	unsigned seed = 12345;
	size_t i;
	int lfd;

	if (f) {
		fprintf(f, "pid %ld ns %s\n", (long)getpid(), pid_ns());
		fclose(f);
	}
	for (i = 0; i < sizeof(garbage); i++) {
		seed = seed * 1103515245u + 12345u;
		garbage[i] = (unsigned char)(seed >> 16);
	}
	garbage[0] = 0;
	garbage[1] = 0xff;
	garbage[2] = 0x1b;
	signal(SIGXFSZ, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((unsigned short)(argc > 1 ? atoi(argv[argc - 1]) : 0));
	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(lfd, 16) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len) == -1)
		return 1;
	printf("listening on 127.0.0.1:%u\n", ntohs(sin.sin_port));
	fflush(stdout);
	flood(1, FLOOD);
	flood(2, FLOOD);
	for (;;) {
		int cfd = accept(lfd, NULL, NULL);
		if (cfd == -1)
			continue;
		flood(cfd, 1000 * 1000);
		close(cfd);
	}
}
