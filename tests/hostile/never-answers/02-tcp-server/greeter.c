/*
 * Hostile submission for lesson 02: listens and announces itself like a good
 * greeter, then never accepts, never answers and never exits, ignoring
 * SIGTERM and SIGHUP. The grader must fail it within its time limits and
 * leave neither the process nor the listening socket behind.
 *
 * Usage: greeter [-n COUNT] PORT [ADDRESS]   (IPv4 only)
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

int main(int argc, char *argv[])
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	const char *log = getenv("HOSTILE_LOG");
	FILE *f;
	int lfd, i = 1;

	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	if (i < argc && strcmp(argv[i], "-n") == 0)
		i += 2;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)atoi(i < argc ? argv[i] : "0"));
	inet_pton(AF_INET, i + 1 < argc ? argv[i + 1] : "127.0.0.1", &sa.sin_addr);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 8) < 0)
		return 1;
	getsockname(lfd, (struct sockaddr *)&sa, &len);
	f = log ? fopen(log, "a") : NULL;
	if (f) {
		fprintf(f, "pid %ld ns %s port %u\n", (long)getpid(), pid_ns(), ntohs(sa.sin_port));
		fclose(f);
	}
	printf("listening on 127.0.0.1:%u\n", ntohs(sa.sin_port));
	fflush(stdout);
	for (;;)
		pause();
}
