/*
 * Lesson 09 - naive-receiver: what goes wrong when one recv() is taken for
 * one message.
 *
 * This example is wrong on purpose. It accepts one client and prints what
 * each recv() returns as if it were a message. Send it two messages quickly
 * and they come out glued together; send it a big one and it comes out in
 * pieces. The chapter explains why, and framing.c is the cure.
 *
 * Usage: naive-receiver PORT
 *
 * Try:
 *   naive-receiver 0                    note the port it prints
 *   (printf hello; printf world) | nc -N 127.0.0.1 PORT
 *                                       one "message": helloworld
 *   head -c 300000 /dev/zero | nc -N 127.0.0.1 PORT
 *                                       one message, many pieces
 */
#include <err.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net.h"
#include "tcp.h"

// [snippet naive_loop]
/* Print what each recv() returns, bytes that are not text as \ooo. */
static void print_each_recv(int cfd)
{
	char buf[1024];
	ssize_t n;

	while ((n = recv(cfd, buf, sizeof(buf), 0)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			warn("recv");
			return;
		}
		printf("message of %zd bytes: \"", n);
		for (ssize_t i = 0; i < n && i < 40; i++) {
			unsigned char c = (unsigned char)buf[i];
			printf(c >= ' ' && c < 127 ? "%c" : "\\%03o", c);
		}
		printf(n > 40 ? "...\"\n" : "\"\n");
		fflush(stdout);
	}
}
// [end naive_loop]

int main(int argc, char *argv[])
{
	char why[256];
	int lfd, cfd;

	if (argc != 2) {
		fprintf(stderr, "usage: naive-receiver PORT\n");
		return 2;
	}
	lfd = tcp_listen_announce("127.0.0.1", argv[1], 1, why, sizeof(why));
	if (lfd == -1)
		errx(1, "%s", why);
	while ((cfd = accept(lfd, NULL, NULL)) == -1)
		if (errno != EINTR && errno != ECONNABORTED)
			err(1, "accept");
	print_each_recv(cfd);
	close(cfd);
	close(lfd);
	return 0;
}
