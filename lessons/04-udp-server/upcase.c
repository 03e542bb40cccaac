/*
 * Lesson 04 - udp-server: an upper-casing echo server over UDP.
 *
 * YOUR COPY: fill in the TODOs below; `make check LESSON=04` tells you how
 * far you are. The chapter is lessons/04-udp-server/README.md.
 *
 * Each datagram that arrives is answered with one datagram: the same bytes,
 * with the letters a-z turned into A-Z, sent back to the address it came
 * from. There are no connections: one socket serves every client, and
 * recvfrom() says who each datagram is from.
 *
 * Usage: upcase [-n COUNT] PORT [ADDRESS]
 *   PORT     the UDP port to bind; 0 lets the kernel choose
 *   ADDRESS  the local IPv4 or IPv6 address to bind (default 127.0.0.1)
 *   -n COUNT exit after answering COUNT datagrams (default: run forever)
 *   Prints "listening on ADDR:PORT" once bound, then one line per datagram:
 *   "N bytes from ADDR:PORT".
 *
 * Try:
 *   upcase 5000 &                      the listening line, port 5000
 *   echo 'hello, udp' | nc -u -w1 127.0.0.1 5000
 *                                      prints HELLO, UDP; the server logs
 *                                      "11 bytes from 127.0.0.1:PORT"
 *   python3 -c 'import socket; s = socket.socket(socket.AF_INET,
 *     socket.SOCK_DGRAM); s.sendto(b"", ("127.0.0.1", 5000));
 *     print(s.recvfrom(100))'          an empty datagram is a datagram too
 */
#include <arpa/inet.h>
#include <err.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net.h"

// [snippet dgram_max]
/*
 * The largest UDP payload: a 16-bit IP length (65,535) minus the IPv4 header
 * (20) and the UDP header (8) is 65,507 bytes (65,527 over IPv6). A buffer
 * this big never cuts a datagram short; a smaller one silently would.
 */
#define DGRAM_MAX 65536
// [end dgram_max]

static void usage(void)
{
	fprintf(stderr, "usage: upcase [-n COUNT] PORT [ADDRESS]\n");
}

// [snippet fill_address]
/*
 * Fill *SS with TEXT (an IPv4 or IPv6 address) and PORT (host byte order),
 * ready for bind(). Returns the address's length, or 0 if TEXT is not an
 * address.
 */
static socklen_t fill_address(struct sockaddr_storage *ss, const char *text,
                              unsigned short port)
{
	memset(ss, 0, sizeof(*ss));
	/*
	 * TODO 1: fill in the address (section "Binding a UDP socket"):
	 *   - view SS as a struct sockaddr_in; if inet_pton(AF_INET, text,
	 *     &sin->sin_addr) returns 1, set sin_family to AF_INET and sin_port
	 *     to the port in network byte order (htons), and return sizeof(*sin);
	 *   - otherwise try the same with struct sockaddr_in6, AF_INET6,
	 *     sin6_addr and sin6_port;
	 *   - if neither parses, return 0 (main prints the usage line).
	 */
	(void)text;
	(void)port;
	return sizeof(struct sockaddr_in);
}
// [end fill_address]

/* Turn a-z into A-Z in the LEN bytes of BUF; every other byte, NUL
 * included, stays as it is. */
static void upcase(char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] >= 'a' && buf[i] <= 'z')
			buf[i] = (char)(buf[i] - 'a' + 'A');
}

// [snippet answer_one]
/*
 * Receive one datagram on FD, log it, and send it back upper-cased to the
 * address it came from. Returns 0, or -1 with errno set if recvfrom failed.
 * A failed reply is only a warning: one unlucky client must not stop the
 * server.
 */
static int answer_one(int fd)
{
	static char buf[DGRAM_MAX];

	/*
	 * TODO 3: answer one datagram (sections "Receiving with recvfrom",
	 * "Answering with sendto", "Datagram boundaries" and "How big a
	 * datagram can be"):
	 *   - recvfrom() into BUF (all DGRAM_MAX bytes of it), with a struct sockaddr_storage and its length
	 *     for the sender's address; on -1, return -1 (errno is set);
	 *   - print "N bytes from ADDR:PORT" (sockaddr_format from net.h writes
	 *     ADDR:PORT) and flush stdout;
	 *   - upcase() the N bytes and sendto() all N of them back to the
	 *     address recvfrom() filled in; if sendto fails, warn() and go on.
	 */
	(void)fd;
	(void)buf;
	(void)upcase;
	errno = ENOSYS;
	return -1;
}
// [end answer_one]

int main(int argc, char *argv[])
{
	struct sockaddr_storage addr;
	socklen_t addr_len;
	const char *host = "127.0.0.1";
	unsigned short port;
	long count = -1, served = 0;
	int opt, fd;

	while ((opt = getopt(argc, argv, "n:")) != -1) {
		if (opt != 'n' || parse_long(optarg, 1, 1000000000, &count) == -1) {
			usage();
			return 2;
		}
	}
	if (argc - optind < 1 || argc - optind > 2 ||
	    parse_port(argv[optind], &port) == -1) {
		usage();
		return 2;
	}
	if (argc - optind == 2)
		host = argv[optind + 1];
	if ((addr_len = fill_address(&addr, host, port)) == 0) {
		usage();
		return 2;
	}

	// [snippet open_udp]
	/*
	 * TODO 2: make a UDP socket of the address's family and bind it
	 * (section "Binding a UDP socket"): socket(addr.ss_family, SOCK_DGRAM, 0),
	 * then bind() it to ADDR. On failure, err(1, "socket") or
	 * err(1, "bind %s:%s", host, argv[optind]). Then say you are ready with
	 * announce_listener(fd) (err(1, "announce") if it fails).
	 */
	fd = -1;
	errx(1, "TODO 2: the socket is not made and bound yet");
	// [end open_udp]

	while (count < 0 || served < count) {
		if (answer_one(fd) == 0)
			served++;
		else if (errno != EINTR)
			err(1, "recvfrom");
	}
	if (close(fd) == -1)
		err(1, "close");
	return 0;
}
