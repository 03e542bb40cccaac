/*
 * tests/facts/nonblocking.c - lesson 11's non-blocking calls: what they
 * return when they cannot finish at once.
 *
 * Usage: nonblocking    (prints one "ok - fact: ..." line per fact; fact.h)
 */
#include "fact.h"

#include <fcntl.h>
#include <stdlib.h>

static void set_nonblocking(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags == -1 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
		err(1, "fcntl O_NONBLOCK");
}

/* recv() and accept() with nothing to take fail with EAGAIN at once. */
static void nothing_yet(void)
{
	char buf[8];
	in_port_t port;
	int c, s, lfd, e_recv, e_accept;

	tcp_pair(&c, &s);
	set_nonblocking(s);
	e_recv = recv(s, buf, sizeof(buf), 0) == -1 ? errno : 0;
	lfd = listen_loopback(&port, 0);
	set_nonblocking(lfd);
	e_accept = accept(lfd, NULL, NULL) == -1 ? errno : 0;
	why("recv: %s, accept: %s", errname(e_recv), errname(e_accept));
	fact(
	    (e_recv == EAGAIN || e_recv == EWOULDBLOCK) &&
	        (e_accept == EAGAIN || e_accept == EWOULDBLOCK),
	    "11 \"Non-blocking sockets\": with nothing to take, a non-blocking recv() or "
	    "accept() fails at once with EAGAIN");
	close(c);
	close(s);
	close(lfd);
}

/* A non-blocking send() takes what fits and returns that count; once the
 * buffers are full (nobody reads), a send fails with EAGAIN. The ACKs of
 * what was sent can free room just after a send returns, so it sends on
 * until one fails (bounded), as an event loop would. */
static void send_what_fits(void)
{
	size_t total = 8 * 1024 * 1024;
	char *buf = calloc(1, total);
	int c, s, e_next = 0, tries = 0;
	ssize_t first, n;

	if (buf == NULL)
		err(1, "calloc");
	tcp_pair(&c, &s);
	set_nonblocking(c);
	first = send(c, buf, total, MSG_NOSIGNAL);
	do {
		n = send(c, buf, total, MSG_NOSIGNAL);
		e_next = n == -1 ? errno : 0;
	} while (n > 0 && (size_t)n < total && ++tries < 1000);
	why("send() of %zu bytes returned %zd; %d more took some, then: %s", total, first,
	    tries, errname(e_next));
	fact(first > 0 && (size_t)first < total &&
	         (e_next == EAGAIN || e_next == EWOULDBLOCK),
	     "11 \"Output buffers and slow clients\": a non-blocking send() takes what "
	     "fits "
	     "and returns that count; when nothing fits it fails with EAGAIN");
	free(buf);
	close(c);
	close(s);
}

/* A non-blocking connect(): at once EINPROGRESS (or 0); once writable,
 * SO_ERROR is 0 for a listening port and ECONNREFUSED for a closed one. */
static int connect_result(in_port_t port, int *first)
{
	struct sockaddr_in addr;
	socklen_t len = sizeof(int);
	int fd = socket(AF_INET, SOCK_STREAM, 0), so_error = -1;

	if (fd == -1)
		err(1, "socket");
	set_nonblocking(fd);
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = port;
	*first = connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == -1 ? errno : 0;
	if (wait_event(fd, POLLOUT) &&
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) == -1)
		err(1, "getsockopt SO_ERROR");
	close(fd);
	return so_error;
}

static void connect_later(void)
{
	in_port_t open_port, closed_port;
	int lfd = listen_loopback(&open_port, 0), spare, first_open, first_closed;
	int err_open, err_closed;

	spare = listen_loopback(&closed_port, 0);
	close(spare); /* a port nothing listens on now */
	err_open = connect_result(open_port, &first_open);
	err_closed = connect_result(closed_port, &first_closed);
	why("listening port: connect %s, SO_ERROR %s; closed port: connect %s, SO_ERROR "
	    "%s",
	    errname(first_open), errname(err_open), errname(first_closed),
	    errname(err_closed));
	fact((first_open == EINPROGRESS || first_open == 0) && err_open == 0 &&
	         (first_closed == EINPROGRESS || first_closed == ECONNREFUSED) &&
	         (err_closed == ECONNREFUSED || first_closed == ECONNREFUSED),
	     "11 \"Connecting without blocking\": a non-blocking connect() returns at "
	     "once "
	     "(EINPROGRESS, or 0 if the handshake is already over); when the socket is "
	     "writable, SO_ERROR is 0 or the reason it failed (ECONNREFUSED)");
	close(lfd);
}

int main(void)
{
	nothing_yet();
	send_what_fits();
	connect_later();
	return 0;
}
