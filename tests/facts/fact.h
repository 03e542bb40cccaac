/*
 * tests/facts/fact.h - what the facts programs share.
 *
 * A facts program demonstrates, on the kernel it runs on, behaviour a
 * chapter asserts but no transcript shows. It prints one line per fact,
 * "ok - fact: NN \"Section\": what holds" or "not ok - fact: ...", with
 * "#" lines under a failure saying what came instead, and exits 0: the
 * caller (tests/selftest.d/facts.sh) counts the lines. NN is the lesson
 * (or "appendix B") and Section the heading of the chapter section the
 * fact backs. Every wait is for a condition, bounded (WAIT_MS), never a
 * sleep for a guessed time.
 */
#ifndef FACT_H
#define FACT_H

#include <err.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS 5000

/* Details for the next report; kept until fact() prints them. */
static char fact_why[1024];

static inline void why(const char *fmt, ...)
{
	size_t used = strlen(fact_why);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(fact_why + used, sizeof(fact_why) - used, fmt, ap);
	va_end(ap);
}

/* Print the report line for NAME (holds when OK), then the details. */
static inline void fact(int ok, const char *name)
{
	printf("%s - fact: %s\n", ok ? "ok" : "not ok", name);
	if (!ok && fact_why[0] != '\0')
		printf("# %s\n", fact_why);
	fact_why[0] = '\0';
	fflush(stdout);
}

/* What errno a call left, as a name the report can show. */
static inline const char *errname(int e)
{
	switch (e) {
	case 0:
		return "no error";
	case EPIPE:
		return "EPIPE";
	case ECONNRESET:
		return "ECONNRESET";
	case ENOTCONN:
		return "ENOTCONN";
	case EADDRINUSE:
		return "EADDRINUSE";
	case EAGAIN:
		return "EAGAIN";
	case EINTR:
		return "EINTR";
	case EINPROGRESS:
		return "EINPROGRESS";
	case ECONNREFUSED:
		return "ECONNREFUSED";
	default:
		return strerror(e);
	}
}

/* A TCP listener on 127.0.0.1, port chosen by the kernel; *port gets it.
 * With REUSE, it has SO_REUSEADDR (and the connections it accepts too). */
static inline int listen_loopback(in_port_t *port, int reuse)
{
	struct sockaddr_in addr;
	socklen_t len = sizeof(addr);
	int one = 1, lfd = socket(AF_INET, SOCK_STREAM, 0);

	if (lfd == -1)
		err(1, "socket");
	if (reuse && setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		err(1, "setsockopt SO_REUSEADDR");
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) == -1)
		err(1, "bind 127.0.0.1:0");
	if (listen(lfd, 8) == -1)
		err(1, "listen");
	if (getsockname(lfd, (struct sockaddr *)&addr, &len) == -1)
		err(1, "getsockname");
	*port = addr.sin_port;
	return lfd;
}

/* A connected TCP pair over loopback: *client and *server (accepted from a
 * listener with SO_REUSEADDR when REUSE), the listener closed. */
static inline void tcp_pair_reuse(int *client, int *server, int reuse)
{
	struct sockaddr_in addr;
	in_port_t port;
	int lfd = listen_loopback(&port, reuse);

	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = port;
	*client = socket(AF_INET, SOCK_STREAM, 0);
	if (*client == -1)
		err(1, "socket");
	if (connect(*client, (struct sockaddr *)&addr, sizeof(addr)) == -1)
		err(1, "connect");
	*server = accept(lfd, NULL, NULL);
	if (*server == -1)
		err(1, "accept");
	close(lfd);
}

static inline void tcp_pair(int *client, int *server)
{
	tcp_pair_reuse(client, server, 0);
}

/* Wait until FD has one of the poll EVENTS; returns the revents, 0 on timeout. */
static inline int wait_event(int fd, short events)
{
	struct pollfd p = {.fd = fd, .events = events};
	int n;

	do {
		n = poll(&p, 1, WAIT_MS);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		err(1, "poll");
	return n == 0 ? 0 : p.revents;
}

/* Wait until the peer's FIN is in: FD is readable (and a read would give 0). */
static inline int wait_fin(int fd)
{
	return wait_event(fd, POLLIN) != 0;
}

/* Wait until an RST has come in: poll reports an error or a hang-up. */
static inline int wait_rst(int fd)
{
	struct timespec tick = {0, 1000000};

	for (int i = 0; i < WAIT_MS; i++) {
		struct pollfd p = {.fd = fd, .events = 0};

		if (poll(&p, 1, 0) == -1 && errno != EINTR)
			err(1, "poll");
		if (p.revents & (POLLERR | POLLHUP))
			return 1;
		nanosleep(&tick, NULL);
	}
	return 0;
}

/* Wait until at least WANT bytes wait unread in FD (FIONREAD). */
static inline int wait_queued(int fd, int want)
{
	struct timespec tick = {0, 1000000};
	int queued = 0;

	for (int i = 0; i < WAIT_MS; i++) {
		if (ioctl(fd, FIONREAD, &queued) == -1)
			err(1, "ioctl FIONREAD");
		if (queued >= want)
			return 1;
		nanosleep(&tick, NULL);
	}
	return 0;
}

/* send() of LEN bytes without SIGPIPE; returns what send returned, errno in *e. */
static inline ssize_t send_quiet(int fd, const void *buf, size_t len, int *e)
{
	ssize_t n;

	errno = 0;
	n = send(fd, buf, len, MSG_NOSIGNAL);
	*e = n == -1 ? errno : 0;
	return n;
}

#endif
