/*
 * common/io.c - see io.h for each helper's contract.
 */
#include "io.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

/* MSG_NOSIGNAL is POSIX.1-2008, but some systems still lack it; there the
 * program must ignore SIGPIPE itself (see ignore_sigpipe in net.h). */
#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

int send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		/* send() may take fewer bytes than asked: go round for the rest. */
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
