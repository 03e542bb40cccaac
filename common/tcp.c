/*
 * common/tcp.c - see tcp.h for each helper's contract.
 */
#include "tcp.h"
#include "net.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Close FD without letting close() overwrite the errno we want to report. */
static void close_keep_errno(int fd)
{
	int saved = errno;

	close(fd);
	errno = saved;
}

int tcp_connect(const char *host, const char *port, int *gai_rc)
{
	struct addrinfo hints, *res, *ai;
	int fd = -1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	*gai_rc = getaddrinfo(host, port, &hints, &res);
	if (*gai_rc != 0)
		return -1;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd == -1)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close_keep_errno(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/* Make one socket for AI that listens, or return -1 with errno set. */
static int listen_on(const struct addrinfo *ai, int backlog)
{
	int one = 1;
	int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);

	if (fd == -1)
		return -1;
	/* Must come before bind(): it changes how bind() checks the port. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 || listen(fd, backlog) == -1) {
		close_keep_errno(fd);
		return -1;
	}
	return fd;
}

int tcp_listen(const char *host, const char *port, int backlog, int *gai_rc)
{
	struct addrinfo hints, *res, *ai;
	int fd = -1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	*gai_rc = getaddrinfo(host, port, &hints, &res);
	if (*gai_rc != 0)
		return -1;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = listen_on(ai, backlog);
		if (fd != -1)
			break;
	}
	freeaddrinfo(res);
	return fd;
}

int tcp_listen_announce(const char *host, const char *port, int backlog, char *why,
                        size_t size)
{
	int gai, lfd = tcp_listen(host, port, backlog, &gai);

	if (lfd == -1 && gai != 0) {
		snprintf(why, size, "%s: %s", host, gai_strerror(gai));
		return -1;
	}
	if (lfd == -1) {
		snprintf(why, size, "listen on %s:%s: %s", host, port, strerror(errno));
		return -1;
	}
	if (announce_listener(lfd) == -1) {
		snprintf(why, size, "announce: %s", strerror(errno));
		close(lfd);
		return -1;
	}
	return lfd;
}

/* Is ERR accept() running out of something that clients leaving give back? */
static int out_of_resources(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

int accept_retry(int lfd, struct sockaddr *sa, socklen_t *len)
{
	const struct timespec pause = {0, ACCEPT_BACKOFF_MS * 1000000L};
	socklen_t size = len != NULL ? *len : 0;

	for (;;) {
		int cfd = accept(lfd, sa, len);
		if (cfd != -1)
			return cfd;
		if (errno != EINTR && errno != ECONNABORTED && !out_of_resources(errno))
			return -1;
		if (out_of_resources(errno))
			nanosleep(&pause, NULL); /* a signal cutting it short is fine */
		/* accept may have shrunk *LEN; the next call needs the size again. */
		if (len != NULL)
			*len = size;
	}
}

/* Milliseconds on a clock that only goes forward. */
static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int tcp_close_drained(int fd)
{
	long long deadline = now_ms() + DRAIN_MAX_MS, left;
	size_t drained = 0;
	char buf[4096];

	if (shutdown(fd, SHUT_WR) == 0) {
		while (drained < DRAIN_MAX_BYTES && (left = deadline - now_ms()) > 0) {
			struct pollfd p = {.fd = fd, .events = POLLIN};
			int ready = poll(&p, 1, (int)left);
			if (ready == -1 && errno == EINTR)
				continue;
			if (ready <= 0)
				break; /* the time is up, or poll failed */
			ssize_t n = recv(fd, buf, sizeof(buf), 0);
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0)
				break; /* 0: the peer has closed too; -1: it reset */
			drained += (size_t)n;
		}
	}
	return close(fd);
}
