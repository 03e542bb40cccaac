/*
 * Hostile submission for lesson 02: listens and announces itself, then forks
 * a child that leaves the process group (setsid), ignores SIGTERM and SIGHUP,
 * and keeps the listening socket forever, accepting connections and never
 * answering them; the parent exits 0 at once. The grader must still kill the
 * child, so that no process and no listening socket outlive the test.
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

static void log_pid(unsigned port)
{
	const char *log = getenv("HOSTILE_LOG");
	FILE *f = log ? fopen(log, "a") : NULL;

	if (f) {
		fprintf(f, "pid %ld ns %s port %u\n", (long)getpid(), pid_ns(), port);
		fclose(f);
	}
}

int main(int argc, char *argv[])
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int lfd, i = 1;

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
	printf("listening on 127.0.0.1:%u\n", ntohs(sa.sin_port));
	fflush(stdout);
	if (fork() == 0) {
		setsid();
		signal(SIGTERM, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		log_pid(ntohs(sa.sin_port));
		for (;;) {
			int cfd = accept(lfd, NULL, NULL);

			if (cfd < 0)
				sleep(1); /* and keep the connection, unanswered */
		}
	}
	return 0;
}
