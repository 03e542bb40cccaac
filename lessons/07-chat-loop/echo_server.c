/*
 * Lesson 07 - chat-loop: an upper-casing echo server that serves clients one
 * after another.
 *
 * YOUR COPY: fill in the two TODOs below; `make check LESSON=07` tells you
 * how far you are. The chapter is lessons/07-chat-loop/README.md.
 *
 * Two loops, one inside the other. The connection loop accepts a client; the
 * communication loop talks with that client until it leaves; then the outer
 * loop accepts the next one. A client that leaves, cleanly or with a reset,
 * ends only its own conversation, never the server.
 *
 * Usage: echo_server [-n COUNT] PORT [ADDRESS]
 *   PORT     0 lets the kernel choose (the listening line says which)
 *   ADDRESS  where to listen (default 127.0.0.1)
 *   -n       exit 0 after serving COUNT clients
 *
 * Output: "listening on ADDR:PORT", then per client "connected ADDR:PORT"
 * and "disconnected ADDR:PORT (N bytes)".
 *
 * Try:
 *   echo_server 5007                   in one terminal
 *   nc 127.0.0.1 5007                  in another: type lines, get them back
 *                                      in capitals; Ctrl-D ends the client,
 *                                      not the server
 *   nc 127.0.0.1 5007                  a second client, served once the first
 *                                      has left (it waits until then)
 */
#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io.h"
#include "net.h"
#include "tcp.h"

/* Deliberately small: a line longer than this arrives over several recv()
 * calls, and each piece is echoed as it comes. Nothing here looks for lines. */
#define BUF_SIZE 512

/* Turn every byte of BUF into its capital, if it has one. Bytes that are not
 * letters, NUL included, pass through unchanged. */
static void upcase(char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)toupper((unsigned char)buf[i]);
}

// [snippet communication_loop]
/*
 * The communication loop: echo what CFD sends, in capitals, until the client
 * closes its side (recv returns 0) or the connection fails. Returns the number
 * of bytes echoed, or -1 with errno set when the connection broke; either way
 * the conversation is over and the caller closes CFD.
 */
static long echo_until_eof(int cfd)
{
	char buf[BUF_SIZE];
	long total = 0;

	/*
	 * TODO 1: the communication loop (chapter: "The communication loop",
	 * "recv() returns 0: end of file" and "When the client goes away").
	 * Until the client closes:
	 *   - n = recv(cfd, buf, sizeof(buf), 0); retry when it fails with EINTR;
	 *   - n == -1: return -1 (errno says why, e.g. ECONNRESET);
	 *   - n == 0: the client closed its side: return total;
	 *   - otherwise upcase(buf, n), send_all(cfd, buf, n) (return -1 if it
	 *     fails), and add n to total.
	 * For now the conversation ends before it starts.
	 */
	(void)cfd;
	(void)buf;
	(void)upcase;
	return total;
}
// [end communication_loop]

/* Serve one accepted client from start to end, logging both ends of the
 * conversation on stdout. Always closes CFD. */
static void serve_client(int cfd, const char *peer)
{
	long echoed;

	printf("connected %s\n", peer);
	fflush(stdout);
	echoed = echo_until_eof(cfd);
	if (echoed == -1)
		warn("client %s", peer);
	if (close(cfd) == -1)
		warn("close %s", peer);
	printf("disconnected %s (%ld bytes)\n", peer, echoed < 0 ? 0 : echoed);
	fflush(stdout);
}

// [snippet connection_loop]
/*
 * The connection loop: accept clients one at a time and serve each until it
 * leaves. COUNT > 0 stops after that many clients; SERVE_FOREVER (-1) never
 * stops.
 * Returns 0, or -1 with errno set if accept() itself fails.
 */
static int serve_forever(int lfd, long count)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char peer[SOCKADDR_STRLEN];

	/*
	 * TODO 2: the connection loop (chapter: "The connection loop" and
	 * "When the client goes away"). This serves one client and stops. Put it in a loop that runs COUNT times
	 * (forever when COUNT is SERVE_FOREVER, as main passes it without -n);
	 * when accept() fails with EINTR or ECONNABORTED, try again instead of
	 * giving up.
	 */
	(void)count;
	int cfd = accept(lfd, (struct sockaddr *)&ss, &len);
	if (cfd == -1)
		return -1;
	if (sockaddr_format((struct sockaddr *)&ss, len, peer, sizeof(peer)) == NULL)
		strcpy(peer, "(unknown)");
	serve_client(cfd, peer);
	return 0;
}
// [end connection_loop]

static _Noreturn void usage(void)
{
	fprintf(stderr, "usage: echo_server [-n COUNT] PORT [ADDRESS]\n");
	exit(2);
}

int main(int argc, char *argv[])
{
	struct listen_args args = {0};
	char why[256];
	int lfd;

	if (parse_listen_args(argc, argv, &args) == -1)
		usage();

	/* A client that vanishes while we echo must cost us one conversation,
	 * not the process: send_all uses MSG_NOSIGNAL, and this covers the rest. */
	if (ignore_sigpipe() == -1)
		err(1, "ignore SIGPIPE");
	lfd = tcp_listen_announce(args.host, args.port, 16, why, sizeof(why));
	if (lfd == -1)
		errx(1, "%s", why);
	if (serve_forever(lfd, args.count) == -1)
		err(1, "accept");
	if (close(lfd) == -1)
		err(1, "close");
	return 0;
}
