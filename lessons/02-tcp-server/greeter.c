/*
 * Lesson 02 - tcp-server: a greeting server that says hello to each client.
 *
 * YOUR COPY: fill in the TODOs below, in order; `make check LESSON=02` tells
 * you how far you are. The chapter is lessons/02-tcp-server/README.md.
 *
 * The server side of TCP in four calls: socket() makes the endpoint, bind()
 * gives it an address and port, listen() lets the kernel accept connections
 * for it, and accept() hands over one connection at a time. For each client
 * the server logs who it is (getpeername), sends one greeting line, and
 * closes the connection.
 *
 * Usage: greeter [-n COUNT] PORT [ADDRESS]
 *   PORT      0..65535; 0 lets the kernel choose a free port
 *   ADDRESS   a numeric IPv4 or IPv6 address to listen on (default 127.0.0.1)
 *   -n COUNT  exit after serving COUNT clients (default: serve forever)
 *
 * Output, one flushed line per event:
 *   listening on 127.0.0.1:40123
 *   connection from 127.0.0.1:54321
 *
 * Try:
 *   greeter 0                           note the port it prints, then in
 *   nc 127.0.0.1 PORT </dev/null        another terminal: "hello, 127.0.0.1:N"
 *                                       and the server logs the same N
 *   greeter 0 ::1                       the same over IPv6; try nc ::1 PORT
 *   greeter 8080 & greeter 8080         the second one cannot bind: the port
 *                                       is taken
 */
#include <arpa/inet.h>
#include <err.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "net.h"

/* How many connections may wait for accept() before the kernel refuses more. */
#define BACKLOG 16
/* How long, and how much, close_client waits for the client to close. */
#define DRAIN_MS 2000
#define DRAIN_BYTES (64 * 1024)

// [snippet fill_address]
/*
 * Fill *SS with the numeric address TEXT (IPv4 or IPv6) and PORT (in host
 * byte order); *LEN gets the size of the address actually used.
 * Returns 0, or -1 if TEXT is neither an IPv4 nor an IPv6 address.
 */
static int fill_address(const char *text, unsigned short port,
                        struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	/* Zero first: the structures have padding and fields we do not set. */
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
		/*
		 * TODO 1: finish the IPv4 address (sections "Filling in an
		 * address" and "Byte order"): set sin->sin_family to AF_INET,
		 * sin->sin_port to PORT in network byte order, and *len to
		 * sizeof(*sin). Then do the same for IPv6 below (sin6_family,
		 * sin6_port, sizeof(*sin6)).
		 */
		(void)port;
		*len = 0;
		return 0;
	}
	if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1) {
		/* TODO 1, continued: the IPv6 address. */
		*len = 0;
		return 0;
	}
	return -1;
}
// [end fill_address]

/*
 * Write "ADDR:PORT" (IPv4) or "[ADDR]:PORT" (IPv6) for the address in *SS
 * into BUF. Returns BUF, or NULL with errno set (EAFNOSUPPORT for another
 * family, ENOSPC if BUF is too small).
 */
static char *format_address(const struct sockaddr_storage *ss, char *buf, size_t size)
{
	/*
	 * TODO 2: turn the address into text (section "Who is calling:
	 * getpeername"); announce() below uses it. For AF_INET, cast SS to a struct sockaddr_in, turn
	 * sin_addr into text with inet_ntop() into a char[INET6_ADDRSTRLEN],
	 * and snprintf "%s:%u" with the port back in host byte order (ntohs).
	 * For AF_INET6 the same with struct sockaddr_in6 and "[%s]:%u".
	 * Any other family: errno = EAFNOSUPPORT, return NULL. If snprintf's
	 * result does not fit in SIZE: errno = ENOSPC, return NULL.
	 */
	(void)ss;
	(void)buf;
	(void)size;
	errno = EAFNOSUPPORT;
	return NULL;
}

// [snippet open_listener]
/*
 * Make a TCP socket listening on the address in *SS. Returns the listening
 * descriptor, or -1 with errno set and *FAILED naming the call that failed
 * ("socket", "bind" or "listen"), so that main can say what went wrong.
 */
static int open_listener(const struct sockaddr_storage *ss, socklen_t len,
                         const char **failed)
{
	/*
	 * TODO 1, continued: make the listening socket (sections "Binding
	 * an address" and "Listening"):
	 *   - socket(ss->ss_family, SOCK_STREAM, 0);
	 *   - bind(lfd, (const struct sockaddr *)ss, len);
	 *   - listen(lfd, BACKLOG).
	 * When one fails, set *failed to its name ("socket", "bind",
	 * "listen"), close the socket if you made one (without losing errno:
	 * save it before close() and put it back), and return -1.
	 */
	(void)ss;
	(void)len;
	*failed = "socket";
	errno = ENOSYS;
	return -1;
}
// [end open_listener]

/*
 * Print "listening on ADDR:PORT" with the address the kernel really gave LFD
 * (with port 0, the port it chose), and flush it. Returns 0, or -1 with errno.
 */
static int announce(int lfd)
{
	/*
	 * TODO 2, continued: ask getsockname(lfd, ...) for the address into a struct
	 * sockaddr_storage, turn it into text with format_address(), print
	 * "listening on %s\n" and fflush(stdout) (section "Telling the world
	 * where you listen"). Return -1 if any of them fails.
	 */
	(void)lfd;
	(void)format_address;
	return 0;
}

/*
 * Log the peer of the connected socket CFD, then send it one greeting line.
 * Returns 0, or -1 after printing a warning: a client that has already gone
 * is that client's problem, not the server's. Does not close CFD.
 */
static int greet_client(int cfd)
{
	/*
	 * TODO 4: serve one client (sections "Who is calling: getpeername"
	 * and "Serving one client"):
	 *   - getpeername(cfd, ...) into a struct sockaddr_storage, and
	 *     format_address() it into WHO;
	 *   - print "connection from WHO\n" and fflush(stdout);
	 *   - send "hello, WHO\n" with send_all(cfd, line, length) from
	 *     common/io.h.
	 * When a call fails, warn("getpeername") (or "send to %s", ...) and
	 * return -1: the server goes on with the next client.
	 */
	(void)cfd;
	return 0;
}

// [snippet close_client]
/* Milliseconds on a clock that only goes forward (not the time of day). */
static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Close the client's connection CFD so that it reads end of file after the
 * greeting, not a reset. A plain close() on a socket with unread input (the
 * client typed a line we never read) makes the kernel answer with RST at once,
 * and the client may lose the greeting. So: shutdown(SHUT_WR) sends FIN after
 * the greeting; then read and throw away what the client still sends until it
 * closes, DRAIN_BYTES have come or DRAIN_MS have passed; then close().
 * Returns close()'s result: 0, or -1 with errno set.
 */
static int close_client(int cfd)
{
	long long deadline = now_ms() + DRAIN_MS, left;
	size_t drained = 0;
	char buf[4096];

	if (shutdown(cfd, SHUT_WR) == 0) {
		while (drained < DRAIN_BYTES && (left = deadline - now_ms()) > 0) {
			struct pollfd p = {.fd = cfd, .events = POLLIN};
			/* poll() waits until there is something to read or the
			 * time is up: recv() alone could wait for ever. */
			int ready = poll(&p, 1, (int)left);
			if (ready == -1 && errno == EINTR)
				continue;
			if (ready <= 0)
				break; /* the time is up, or poll failed */
			ssize_t n = recv(cfd, buf, sizeof(buf), 0);
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0)
				break; /* 0: the client closed too; -1: it reset */
			drained += (size_t)n;
		}
	}
	return close(cfd);
}
// [end close_client]

static _Noreturn void usage(void)
{
	fprintf(stderr, "usage: greeter [-n COUNT] PORT [ADDRESS]\n");
	exit(2);
}

int main(int argc, char *argv[])
{
	struct sockaddr_storage ss;
	socklen_t len;
	unsigned short port;
	const char *address = "127.0.0.1", *failed = "";
	long count = -1, served = 0;
	int lfd, opt;

	while ((opt = getopt(argc, argv, "n:")) != -1) {
		if (opt != 'n' || parse_long(optarg, 1, 1000000000L, &count) == -1)
			usage();
	}
	if (argc - optind < 1 || argc - optind > 2 || parse_port(argv[optind], &port) == -1)
		usage();
	if (argc - optind == 2)
		address = argv[optind + 1];
	if (fill_address(address, port, &ss, &len) == -1) {
		fprintf(stderr, "greeter: %s: not an IPv4 or IPv6 address\n", address);
		usage();
	}
	/* A client that vanishes while we send must not kill the server. */
	if (ignore_sigpipe() == -1)
		err(1, "sigaction");

	if ((lfd = open_listener(&ss, len, &failed)) == -1)
		err(1, "%s %s:%s", failed, address, argv[optind]);
	if (announce(lfd) == -1)
		err(1, "announce");

	// [snippet accept_loop]
	while (count == -1 || served < count) {
		/*
		 * TODO 3: the accept loop (sections "The accept loop" and
		 * "Closing the connection"):
		 *   - int cfd = accept(lfd, NULL, NULL);
		 *   - on -1 with errno EINTR or ECONNABORTED, continue; on any
		 *     other error, err(1, "accept");
		 *   - count the client (served++), greet_client(cfd) (it sends
		 *     nothing until you do TODO 4), then
		 *     close_client(cfd) whatever greet_client returned
		 *     (section "Closing the connection"); warn("close") if
		 *     it returns -1.
		 */
		(void)greet_client;
		(void)close_client;
		break;
	}
	// [end accept_loop]
	if (close(lfd) == -1)
		err(1, "close");
	return 0;
}
