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
 *
 * YOUR COPY: fill in the TODOs below; `make check LESSON=05` tells you how
 * far you are. The chapter is lessons/05-udp-client/README.md. As given, the
 * client cannot even send (its socket has no peer yet), and once it can, it
 * waits forever for a reply that was lost and asks only the first address.
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
	/*
	 * TODO 2: set the receive timeout (section "Timeouts"): fill a
	 * struct timeval from MS (whole seconds in tv_sec, the rest in
	 * microseconds in tv_usec) and return the result of
	 * setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)).
	 */
	(void)fd;
	(void)ms;
	return 0;
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
	/*
	 * TODO 1: connect the socket to the server (section "Who may
	 * answer"): connect(fd, ai->ai_addr, ai->ai_addrlen), after the
	 * timeout is set (set_timeout sets none until TODO 2). Without it
	 * send() has nowhere to send to (EDESTADDRREQ), no reply comes back
	 * to print (section "Receiving the whole reply"), whatever address
	 * the name gave (section "Resolving the server"), and the socket
	 * would take a datagram from anyone.
	 */
	if (set_timeout(fd, ms) == 0)
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
	/*
	 * TODO 3: try up to TRIES times (section "Retries"). Put the two calls
	 * below in a loop: when await_reply() fails with EAGAIN or EWOULDBLOCK
	 * (the timeout passed), say so with warnx("no reply, trying again
	 * (%ld of %ld)", ...) and send again; any other failure (ECONNREFUSED:
	 * nobody listens there) returns -1 at once. After the last try, set
	 * errno = EAGAIN and return -1.
	 */
	(void)tries;
	if (send(fd, msg, strlen(msg), 0) == -1)
		return -1;
	return await_reply(fd, buf, size);
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
	/*
	 * TODO 4: ask each address in turn (section "One name, several
	 * addresses"). As given, only the first address is asked. Loop over
	 * RES with ai = ai->ai_next: open_socket() (on -1, keep errno and go
	 * on), ask(), close the socket; return the first reply. When an
	 * address fails and another follows, warn with warnx() which one and
	 * why, then go on. After the last: errno = EAGAIN if some address
	 * stayed silent (a timeout), else the last error, and return -1.
	 */
	ssize_t n;
	int saved_errno, fd = open_socket(res, ms);

	if (fd == -1)
		return -1;
	n = ask(fd, msg, tries, buf, size);
	saved_errno = errno;
	if (close(fd) == -1 && n >= 0)
		return -1;
	errno = saved_errno;
	return n;
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
