/*
 * Lesson 03 - tcp-client: a mini netcat that sends its input and prints the reply.
 *
 * YOUR COPY: fill in the TODOs below, in order; `make check LESSON=03` tells
 * you how far you are. The chapter is lessons/03-tcp-client/README.md.
 *
 * The client side of TCP: getaddrinfo() turns a host name and port into
 * addresses, connect() reaches the first one that answers, a send loop
 * pushes all of standard input, shutdown(SHUT_WR) tells the server "that is
 * all", and a receive loop prints everything the server sends until it
 * closes. Every byte passes unchanged, NUL bytes included.
 *
 * Usage: minicat HOST PORT
 *   HOST   a name (localhost), an IPv4 address or an IPv6 address
 *   PORT   a port number or a service name (http)
 *   Exit 0 when the server has closed the connection (also when it closed
 *   before reading all of standard input: what it sent is printed), 1 on
 *   any error, 2 on bad usage.
 *
 * Try:
 *   greeter 0                               (lesson 02) in one terminal, then
 *   minicat 127.0.0.1 PORT </dev/null       prints the greeting
 *   printf 'GET / HTTP/1.0\r\n\r\n' | minicat example.com 80
 *                                           a web server's answer, headers first
 *   minicat 127.0.0.1 9 </dev/null          nothing listens on port 9:
 *                                           "Connection refused", exit 1
 *   minicat no.such.host.invalid 80         the resolver's own error message
 */
#include <err.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net.h"

/* MSG_NOSIGNAL is POSIX.1-2008, but some systems still lack it; there
 * ignore_sigpipe() in main keeps a vanished server from killing us. */
#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

// [snippet connect_to]
/*
 * Resolve HOST and PORT and connect to the first address that accepts.
 * Returns the connected descriptor, or -1. On -1, *GAI_RC is the getaddrinfo
 * error when the name did not resolve (else 0), and errno holds the error of
 * the last address tried.
 */
static int connect_to(const char *host, const char *port, int *gai_rc)
{
	struct addrinfo hints, *res, *ai;
	int fd = -1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;     /* IPv4 or IPv6, whatever the name has */
	hints.ai_socktype = SOCK_STREAM; /* TCP */
	*gai_rc = getaddrinfo(host, port, &hints, &res);
	if (*gai_rc != 0)
		return -1;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		/*
		 * TODO 1: try this address, one of those getaddrinfo gave
		 * (sections "Resolving names: getaddrinfo", "Connecting" and
		 * "Trying each address in turn"):
		 *   - fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		 *     on -1, continue with the next address;
		 *   - connect(fd, ai->ai_addr, ai->ai_addrlen); on 0, break:
		 *     you are connected;
		 *   - otherwise close(fd) without losing connect's errno (save
		 *     it, close, put it back), set fd = -1 and go on.
		 * Then, in main, report when connect_to fails (TODO 1,
		 * continued).
		 */
		errno = ECONNREFUSED;
	}
	/* Keep the last connect error across freeaddrinfo. */
	int saved = errno;
	freeaddrinfo(res);
	errno = saved;
	return fd;
}
// [end connect_to]

/*
 * Send all LEN bytes of BUF on the connected socket FD. send() may take
 * fewer bytes than asked; loop until every byte is gone. Returns 0, or -1
 * with errno set.
 */
static int send_all(int fd, const char *buf, size_t len)
{
	/*
	 * TODO 2: the send loop (section "Sending everything: the send
	 * loop"); send_input() below calls it. While LEN > 0: n = send(fd, buf, len, MSG_NOSIGNAL); on -1
	 * retry if errno is EINTR, else return -1; otherwise move BUF on by n
	 * and take n off LEN.
	 */
	(void)fd;
	(void)buf;
	(void)len;
	return 0;
}

// [snippet write_all]
/* The same loop for write(2), for standard output (a file, a pipe, a
 * terminal: all may take less than asked). Returns 0, or -1 with errno. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}
// [end write_all]

/*
 * Copy standard input to FD until end of file. Returns 0, or -1 with errno
 * set and *FAILED naming the call that failed ("read" or "send").
 */
static int send_input(int fd, const char **failed)
{
	/*
	 * TODO 2, continued: read standard input in a loop (sections
	 * "Sending everything: the send loop" and "Bytes, not strings"):
	 * n = read(STDIN_FILENO, buf, sizeof(buf)) into a char buf[65536];
	 * 0 is end of file: return 0; -1 with EINTR: try again; other -1:
	 * *failed = "read standard input", return -1. Send each block, all
	 * N bytes of it, with send_all(); if that fails, *failed = "send",
	 * return -1.
	 */
	(void)fd;
	(void)failed;
	(void)send_all;
	return 0;
}

/*
 * Copy everything received on FD to standard output until the server closes
 * the connection (recv returns 0). Returns 0, or -1 with errno set and
 * *FAILED naming the call that failed ("recv" or "write standard output").
 */
static int print_replies(int fd, const char **failed)
{
	/*
	 * TODO 3: the receive loop (sections "Receiving until end of file"
	 * and "Bytes, not strings"): n = recv(fd, buf, sizeof(buf), 0) into
	 * a char buf[65536]; 0 means the server closed: return 0; -1 with
	 * EINTR: try again; other -1: *failed = "recv", return -1. Write
	 * each block, all N bytes of it, with write_all(STDOUT_FILENO, buf,
	 * n); if that fails, *failed = "write standard output", return -1.
	 */
	(void)fd;
	(void)failed;
	(void)write_all;
	return 0;
}

// [snippet peer_closed]
/*
 * Did the call that just failed with error E fail because the server closed
 * or reset the connection? Then what it sent before is still waiting in our
 * receive buffer, and must be printed before we give up.
 */
static int peer_closed(int e)
{
	return e == EPIPE || e == ECONNRESET || e == ENOTCONN;
}
// [end peer_closed]

int main(int argc, char *argv[])
{
	const char *host, *port, *failed = "";
	int fd, gai_rc;

	if (argc != 3) {
		fprintf(stderr, "usage: minicat HOST PORT\n");
		return 2;
	}
	host = argv[1];
	port = argv[2];
	/* Standard output may be a pipe whose reader has gone: get EPIPE. */
	if (ignore_sigpipe() == -1)
		err(1, "sigaction");

	fd = connect_to(host, port, &gai_rc);
	/*
	 * TODO 1, continued: report the two ways connect_to can fail
	 * (sections "When the name does not resolve" and "When connect()
	 * fails"):
	 *   - gai_rc != 0: the name did not resolve; errno means nothing
	 *     here: errx(1, "%s: %s", host, gai_strerror(gai_rc));
	 *   - fd == -1 otherwise: err(1, "connect to %s:%s", host, port).
	 */
	if (fd == -1)
		return 1;
	/* A server may answer and close without reading all we send: then
	 * send() or shutdown() fails, but its answer has arrived all the same. */
	if (send_input(fd, &failed) == -1 && !peer_closed(errno))
		err(1, "%s", failed);
	/*
	 * TODO 4: tell the server you have sent everything, but keep reading
	 * its answer: shutdown(fd, SHUT_WR); on -1, err(1, "shutdown") unless
	 * peer_closed(errno) says the server has closed first (sections
	 * "Half-closing: shutdown versus close" and "When the server closes
	 * first").
	 */
	if (print_replies(fd, &failed) == -1)
		err(1, "%s", failed);
	if (close(fd) == -1)
		err(1, "close");
	return 0;
}
