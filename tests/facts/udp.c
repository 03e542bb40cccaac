/*
 * tests/facts/udp.c - datagram boundaries, and two UDP sockets on one port.
 *
 * Usage: udp    (prints one "ok - fact: ..." line per fact; fact.h)
 */
#include "fact.h"

/* A UDP socket bound to 127.0.0.1:PORT (network order; 0 = any), with
 * SO_REUSEADDR when REUSE; -1 with errno when bind fails. */
static int udp_bound(in_port_t port, int reuse)
{
	struct sockaddr_in addr;
	int one = 1, fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd == -1)
		err(1, "socket");
	if (reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		err(1, "setsockopt SO_REUSEADDR");
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = port;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == -1) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static in_port_t port_of(int fd)
{
	struct sockaddr_in addr;
	socklen_t len = sizeof(addr);

	if (getsockname(fd, (struct sockaddr *)&addr, &len) == -1)
		err(1, "getsockname");
	return addr.sin_port;
}

static void send_to(int fd, in_port_t port, const void *buf, size_t len)
{
	struct sockaddr_in addr;

	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = port;
	if (sendto(fd, buf, len, 0, (struct sockaddr *)&addr, sizeof(addr)) !=
	    (ssize_t)len)
		err(1, "sendto");
}

/* Without SO_REUSEADDR a second bind of the port fails; with it on both,
 * it succeeds, and unicast datagrams go to the socket bound last (Linux). */
static void reuse_udp(void)
{
	char buf[16];
	int a, b, plain, e_plain, tx, first_a, got_b;
	in_port_t port;

	a = udp_bound(0, 1);
	if (a == -1)
		err(1, "bind");
	port = port_of(a);
	plain = udp_bound(port, 0);
	e_plain = plain == -1 ? errno : 0;
	if (plain != -1)
		close(plain);
	b = udp_bound(port, 1);
	if (b == -1) {
		why("the second bind with SO_REUSEADDR failed: %s", errname(errno));
		fact(0, "04 \"Binding a UDP socket\": with SO_REUSEADDR on both, two UDP "
		        "sockets bind one port");
		close(a);
		return;
	}
	tx = udp_bound(0, 0);
	send_to(tx, port, "one", 3);
	got_b =
	    wait_event(b, POLLIN) != 0 && recv(b, buf, sizeof(buf), MSG_DONTWAIT) == 3;
	first_a = recv(a, buf, sizeof(buf), MSG_DONTWAIT) != -1;
	why("bind without SO_REUSEADDR: %s; the last bound got the datagram: %s; the "
	    "first "
	    "got one: %s",
	    errname(e_plain), got_b ? "yes" : "no", first_a ? "yes" : "no");
	fact(e_plain == EADDRINUSE && got_b && !first_a,
	     "04 \"Binding a UDP socket\": with SO_REUSEADDR on both, two UDP sockets "
	     "bind one "
	     "port (without it, EADDRINUSE), and the last bound gets the unicast "
	     "datagrams "
	     "(Linux)");
	close(tx);
	close(a);
	close(b);
}

/* Datagrams sent before the receiver reads come out one per recv(), each
 * whole: 5, 5, 0 and 3000 bytes, never merged. One larger than the buffer
 * is cut to the buffer, the rest discarded: never split over two recv(). */
static void boundaries(void)
{
	static char big[3000], buf[4096];
	const size_t sizes[] = {5, 5, 0, 3000};
	int rx = udp_bound(0, 0), tx = udp_bound(0, 0), ok = 1;
	in_port_t port = port_of(rx);
	ssize_t n;

	memset(big, 'x', sizeof(big));
	for (size_t i = 0; i < 4; i++)
		send_to(tx, port, big, sizes[i]);
	for (size_t i = 0; i < 4; i++) {
		wait_event(rx, POLLIN);
		n = recv(rx, buf, sizeof(buf), MSG_DONTWAIT);
		if (n != (ssize_t)sizes[i]) {
			why("datagram %zu: %zu bytes sent, recv returned %zd; ", i + 1,
			    sizes[i], n);
			ok = 0;
		}
	}
	fact(ok,
	     "04 \"Datagram boundaries\": UDP datagrams are never merged: each recv() "
	     "returns one whole datagram (an empty one too)");

	ok = 1;
	send_to(tx, port, big, sizeof(big));
	send_to(tx, port, "next", 4);
	wait_event(rx, POLLIN);
	n = recv(rx, buf, 100, MSG_DONTWAIT);
	if (n != 100) {
		why("a 3000-byte datagram into 100 bytes: recv returned %zd; ", n);
		ok = 0;
	}
	wait_event(rx, POLLIN);
	n = recv(rx, buf, sizeof(buf), MSG_DONTWAIT);
	if (n != 4 || memcmp(buf, "next", 4) != 0) {
		why("the recv after it returned %zd bytes, not the next datagram's 4", n);
		ok = 0;
	}
	fact(ok,
	     "04 \"Datagram boundaries\": UDP datagrams are never split: one larger than "
	     "the buffer is cut to it, the rest discarded, and the next recv() gets the "
	     "next datagram");
	close(rx);
	close(tx);
}

int main(void)
{
	reuse_udp();
	boundaries();
	return 0;
}
