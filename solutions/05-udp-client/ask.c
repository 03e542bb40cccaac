/*
 * Lesson 05 - udp-client: ask a UDP server once, with a timeout and retries.
 *
 * Sends MESSAGE as one datagram to HOST PORT and prints the reply. UDP may
 * lose either datagram, so the client waits only so long (a receive timeout,
 * SO_RCVTIMEO) and then sends again, a bounded number of times. Its socket
 * is connected to the server's address: the kernel then drops datagrams
 * from anyone else, and reports a port where nobody listens as
 * ECONNREFUSED. A name may stand for several addresses (on a stock system
 * localhost is ::1, then 127.0.0.1): they are asked in turn until one
 * answers.
 *
 * Usage: ask [-t MS] [-n TRIES] HOST PORT MESSAGE
 *   -t MS     wait MS milliseconds for each reply (default 1000)
 *   -n TRIES  send at most TRIES times to each address (default 3)
 *   Prints the reply's bytes on stdout, exactly as they came. Exit 0 with a
 *   reply, 1 if none came from any address (or on an error), 2 on bad usage.
 *
 * Try (with lesson 04's server, `upcase 5000`, running):
 *   ask 127.0.0.1 5000 hello; echo     prints HELLO
 *   ask localhost 5000 'name works'    ::1 refuses (upcase is on 127.0.0.1
 *                                      only), then 127.0.0.1 answers
 *   ask -t 500 -n 4 127.0.0.1 5001 hi  nobody there: refused at once, exit 1
 */
#include <err.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "io.h"
#include "net.h"

#define DEFAULT_TIMEOUT_MS 1000
#define DEFAULT_TRIES 3

/* Room for the largest UDP datagram (65,507 bytes over IPv4, 65,527 over
 * IPv6): a smaller buffer would cut a long reply short without a word. */
#define DGRAM_MAX 65536

static void usage(void)
{
	fprintf(stderr, "usage: ask [-t MS] [-n TRIES] HOST PORT MESSAGE\n");
}

// [snippet set_timeout]
/*
 * Make every recv/recvfrom on FD give up after MS milliseconds, failing
 * with EAGAIN (or EWOULDBLOCK) instead of waiting forever.
 * Returns 0, or -1 with errno set.
 */
static int set_timeout(int fd, long ms)
{
	struct timeval tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}
// [end set_timeout]

// [snippet open_socket]
/*
 * Make a UDP socket for the address AI, with the receive timeout MS, and
 * connect it to AI: connect() sends nothing, it records the peer, so the
 * kernel delivers only that peer's datagrams and turns an ICMP "port
 * unreachable" into ECONNREFUSED on a later call.
 * Returns the socket, or -1 with errno set.
 */
static int open_socket(const struct addrinfo *ai, long ms)
{
	int saved_errno, fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);

	if (fd == -1)
		return -1;
	if (set_timeout(fd, ms) == 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	saved_errno = errno; /* report the failure, not close()'s */
	close(fd);
	errno = saved_errno;
	return -1;
}
// [end open_socket]

// [snippet await_reply]
/*
 * Wait for the reply on the connected socket FD and put it in BUF (SIZE
 * bytes). Returns its length, or -1 with errno set: EAGAIN or EWOULDBLOCK
 * when the timeout passed, ECONNREFUSED when nobody listens there.
 */
static ssize_t await_reply(int fd, char *buf, size_t size)
{
	for (;;) {
		ssize_t n = recv(fd, buf, size, 0);

		if (n == -1 && errno == EINTR)
			continue;
		return n;
	}
}
// [end await_reply]

// [snippet ask]
/*
 * Send MSG on the connected socket FD and wait up to the socket's timeout
 * for the reply, TRIES times at most. Returns the reply's length (in BUF),
 * or -1 with errno set: EAGAIN or EWOULDBLOCK if no try got an answer,
 * ECONNREFUSED if nobody listens at that address.
 */
static ssize_t ask(int fd, const char *msg, long tries, char *buf, size_t size)
{
	for (long try = 1; try <= tries; try++) {
		ssize_t n;

		if (send(fd, msg, strlen(msg), 0) == -1)
			return -1;
		n = await_reply(fd, buf, size);
		if (n >= 0)
			return n;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		/* Either datagram may have been lost: ask again. */
		if (try < tries)
			warnx("no reply, trying again (%ld of %ld)", try + 1, tries);
	}
	errno = EAGAIN;
	return -1;
}
// [end ask]

// [snippet ask_each]
/*
 * Ask each address of RES in turn (see ask()) until one answers, as a TCP
 * client tries each until connect() succeeds: a name may stand for several
 * addresses, and the server may listen on only one of them.
 * Returns the reply's length (in BUF), or -1 with errno set: EAGAIN if some
 * address was silent to the end, otherwise the last address's error.
 */
static ssize_t ask_each(const struct addrinfo *res, const char *msg, long tries, long ms,
                        char *buf, size_t size)
{
	const struct addrinfo *ai;
	int saved_errno = EADDRNOTAVAIL, silent = 0;

	for (ai = res; ai != NULL; ai = ai->ai_next) {
		char who[SOCKADDR_STRLEN];
		ssize_t n = -1;
		int fd = open_socket(ai, ms);

		if (fd != -1) {
			n = ask(fd, msg, tries, buf, size);
			saved_errno = errno;
			if (close(fd) == -1 && n >= 0)
				return -1;
		} else {
			saved_errno = errno;
		}
		if (n >= 0)
			return n;
		if (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK)
			silent = 1;
		if (ai->ai_next != NULL) {
			if (sockaddr_format(ai->ai_addr, ai->ai_addrlen, who,
			                    sizeof(who)) == NULL)
				snprintf(who, sizeof(who), "(unknown)");
			warnx("no answer from %s (%s), trying the next address", who,
			      strerror(saved_errno));
		}
	}
	errno = silent ? EAGAIN : saved_errno;
	return -1;
}
// [end ask_each]

int main(int argc, char *argv[])
{
	static char reply[DGRAM_MAX];
	struct addrinfo hints, *res;
	long timeout_ms = DEFAULT_TIMEOUT_MS, tries = DEFAULT_TRIES;
	const char *host, *port;
	int opt, rc, saved_errno;
	ssize_t n;

	while ((opt = getopt(argc, argv, "t:n:")) != -1) {
		if ((opt == 't' && parse_long(optarg, 1, 3600000, &timeout_ms) == 0) ||
		    (opt == 'n' && parse_long(optarg, 1, 1000, &tries) == 0))
			continue;
		usage();
		return 2;
	}
	if (argc - optind != 3) {
		usage();
		return 2;
	}
	host = argv[optind];
	port = argv[optind + 1];

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0)
		errx(1, "%s: %s", host, gai_strerror(rc));

	n = ask_each(res, argv[optind + 2], tries, timeout_ms, reply, sizeof(reply));
	saved_errno = errno;
	freeaddrinfo(res);
	errno = saved_errno;
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		errx(1, "no reply from %s port %s after %ld tries of %ld ms", host, port,
		     tries, timeout_ms);
	if (n == -1)
		err(1, "ask %s port %s", host, port);
	if (write_all(STDOUT_FILENO, reply, (size_t)n) == -1)
		err(1, "write");
	return 0;
}
