/*
 * tests/lib/refuser.c - hold a TCP port that refuses every connection.
 *
 * A test that needs "Connection refused" must not guess a port that nobody
 * uses: another test may take it at any moment. This program binds a TCP
 * socket to a port the kernel chooses and never calls listen(), so the port
 * stays reserved and every connection to it is refused (the kernel answers
 * the SYN with a reset).
 *
 * Usage: refuser [ADDRESS]
 *   Bind ADDRESS (a numeric IPv4 or IPv6 address, default 127.0.0.1) port 0,
 *   print "refusing on ADDR:PORT" on stdout (flushed), then wait until stdin
 *   reaches EOF or the program is killed. Exit 0, or 1 on error.
 */
#include <err.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net.h"

int main(int argc, char *argv[])
{
	const char *host = argc > 1 ? argv[1] : "127.0.0.1";
	struct addrinfo hints, *res;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char text[SOCKADDR_STRLEN], buf[512];
	int fd, rc;

	if (argc > 2) {
		fprintf(stderr, "usage: refuser [ADDRESS]\n");
		return 2;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, "0", &hints, &res)) != 0)
		errx(1, "%s: %s", host, gai_strerror(rc));
	fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
	if (fd == -1)
		err(1, "socket");
	if (bind(fd, res->ai_addr, res->ai_addrlen) == -1)
		err(1, "bind %s", host);
	freeaddrinfo(res);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		err(1, "getsockname");
	if (sockaddr_format((struct sockaddr *)&ss, len, text, sizeof(text)) == NULL)
		err(1, "sockaddr_format");
	if (printf("refusing on %s\n", text) < 0 || fflush(stdout) == EOF)
		err(1, "stdout");
	/* Hold the port until told to stop. */
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n == 0)
			break;
		if (n == -1 && errno != EINTR)
			err(1, "read");
	}
	close(fd);
	return 0;
}
