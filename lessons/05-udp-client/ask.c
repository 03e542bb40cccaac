/*
 * Lesson 05 - udp-client: ask a UDP server once, with a timeout and retries.
 *
 * YOUR COPY: fill in the TODOs below; `make check LESSON=05` tells you how
 * far you are. The chapter is lessons/05-udp-client/README.md. As given, the
 * client works only on a perfect network: it waits for ever for a reply
 * that was lost, and believes any datagram that arrives.
 *
 * Sends MESSAGE as one datagram to HOST PORT and prints the reply. UDP may
 * lose either datagram, so the client waits only so long (a receive timeout,
 * SO_RCVTIMEO) and then sends again, a bounded number of times. Its socket
 * is not connected, so anyone could send to it: a datagram that does not
 * come from the server's address and port is ignored.
 *
 * Usage: ask [-t MS] [-n TRIES] HOST PORT MESSAGE
 *   -t MS     wait MS milliseconds for each reply (default 1000)
 *   -n TRIES  send at most TRIES times (default 3)
 *   Prints the reply's bytes on stdout, exactly as they came. Exit 0 with a
 *   reply, 1 if none came after TRIES tries (or on an error), 2 on bad usage.
 *
 * Try (with lesson 04's server, `upcase 5000`, running):
 *   ask 127.0.0.1 5000 hello; echo     prints HELLO
 *   ask localhost 5000 'name works'    the name is resolved with getaddrinfo
 *   ask -t 500 -n 4 127.0.0.1 5001 hi  nobody there: four tries, half a
 *                                      second each, then an error and exit 1
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
 * with EAGAIN (or EWOULDBLOCK) instead of waiting for ever.
 * Returns 0, or -1 with errno set.
 */
static int set_timeout(int fd, long ms)
{
	/*
	 * TODO 1: set the receive timeout (section "Timeouts"): fill a
	 * struct timeval from MS (whole seconds in tv_sec, the rest in
	 * microseconds in tv_usec) and return the result of
	 * setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)).
	 */
	(void)fd;
	(void)ms;
	return 0;
}
// [end set_timeout]

// [snippet same_address]
/* Is A (A_LEN bytes) the same address and port as B? */
static int same_address(const struct sockaddr *a, socklen_t a_len, const struct sockaddr *b,
                        socklen_t b_len)
{
	/*
	 * TODO 2: compare the two addresses (section "Who may answer"):
	 *   - different families or lengths: not the same;
	 *   - AF_INET: view both as struct sockaddr_in and compare sin_port
	 *     and sin_addr.s_addr;
	 *   - AF_INET6: view both as struct sockaddr_in6 and compare sin6_port
	 *     and the 16 bytes of sin6_addr (memcmp).
	 * Return 1 only when the address and the port are both the same.
	 */
	(void)a;
	(void)a_len;
	(void)b;
	(void)b_len;
	return 1;
}
// [end same_address]

// [snippet await_reply]
/*
 * Wait for a datagram from SERVER on FD and put it in BUF (SIZE bytes).
 * Datagrams from any other address or port are reported and skipped.
 * Returns the reply's length, or -1 with errno set: EAGAIN or EWOULDBLOCK
 * when the timeout passed with no reply.
 */
static ssize_t await_reply(int fd, const struct sockaddr *server, socklen_t server_len,
                           char *buf, size_t size)
{
	for (;;) {
		struct sockaddr_storage from;
		socklen_t from_len = sizeof(from);
		char who[SOCKADDR_STRLEN];
		ssize_t n =
		    recvfrom(fd, buf, size, 0, (struct sockaddr *)&from, &from_len);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (same_address((struct sockaddr *)&from, from_len, server, server_len))
			return n;
		/* An unconnected socket takes datagrams from anyone: this one is
		 * not the answer, whatever it says. */
		if (sockaddr_format((struct sockaddr *)&from, from_len, who,
		                    sizeof(who)) == NULL)
			snprintf(who, sizeof(who), "(unknown)");
		warnx("ignoring %zd bytes from %s: not the server", n, who);
	}
}
// [end await_reply]

// [snippet ask]
/*
 * Send MSG to the server at AI and wait up to the socket's timeout for the
 * reply, TRIES times at most. Returns the reply's length (in BUF), or -1
 * with errno set: EAGAIN or EWOULDBLOCK if no try got an answer.
 */
static ssize_t ask(int fd, const struct addrinfo *ai, const char *msg, long tries,
                   char *buf, size_t size)
{
	/*
	 * TODO 3: try up to TRIES times (section "Retries"). Put the two calls
	 * below in a loop: when await_reply() fails with EAGAIN or EWOULDBLOCK
	 * (the timeout passed), say so with warnx("no reply, trying again
	 * (%ld of %ld)", ...) and send again; any other failure returns -1 at
	 * once. After the last try, set errno = EAGAIN and return -1.
	 */
	(void)tries;
	if (sendto(fd, msg, strlen(msg), 0, ai->ai_addr, ai->ai_addrlen) == -1)
		return -1;
	return await_reply(fd, ai->ai_addr, ai->ai_addrlen, buf, size);
}
// [end ask]

int main(int argc, char *argv[])
{
	static char reply[DGRAM_MAX];
	struct addrinfo hints, *res, *ai;
	long timeout_ms = DEFAULT_TIMEOUT_MS, tries = DEFAULT_TRIES;
	const char *host, *port;
	int opt, rc, saved_errno, fd = -1;
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
	/* UDP has no handshake to try: the first address we can make a socket
	 * for is the one we ask. */
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd != -1)
			break;
	}
	if (ai == NULL)
		err(1, "socket");
	if (set_timeout(fd, timeout_ms) == -1)
		err(1, "setsockopt SO_RCVTIMEO");

	n = ask(fd, ai, argv[optind + 2], tries, reply, sizeof(reply));
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
	if (close(fd) == -1)
		err(1, "close");
	return 0;
}
