/*
 * tests/lib/preload-sockcalls.c - write down the socket calls a program makes.
 *
 * Loaded with LD_PRELOAD into a program under test, it appends one line per
 * call of socket(), setsockopt(), bind() and listen() to the file named by
 * SOCKCALLS_LOG, in the order they happen, so a test can check that an
 * option was set, with the right level and name, before bind():
 *   socket fd=3 family=2 type=1
 *   setsockopt fd=3 level=SOL_SOCKET name=SO_REUSEADDR value=1 rc=0
 *   bind fd=3 port=5000 rc=0
 *   listen fd=3 rc=0
 * Levels and names it does not know are written as numbers. Works with the
 * unsanitized builds (ASan wants to be first in the library list). Built as
 * GNU C, not ISO C: see scripts/build-tools.
 */
#define _GNU_SOURCE /* RTLD_NEXT: find the real function behind ours */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define REAL(name, type) ((type)dlsym(RTLD_NEXT, name))

/* Append one formatted line to $SOCKCALLS_LOG, keeping errno as it was. */
static void note(const char *fmt, ...)
{
	const char *path = getenv("SOCKCALLS_LOG");
	int saved = errno, fd, n;
	char line[256];
	va_list ap;

	if (path == NULL)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd != -1) {
		if (n > 0) {
			size_t len =
			    (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
			ssize_t w = write(fd, line, len);
			(void)w; /* a test log is best effort */
		}
		close(fd);
	}
	errno = saved;
}

static const char *level_name(int level, char *buf, size_t size)
{
	if (level == SOL_SOCKET)
		return "SOL_SOCKET";
	if (level == IPPROTO_TCP)
		return "IPPROTO_TCP";
	if (level == IPPROTO_IP)
		return "IPPROTO_IP";
	if (level == IPPROTO_IPV6)
		return "IPPROTO_IPV6";
	snprintf(buf, size, "%d", level);
	return buf;
}

static const char *option_name(int level, int name, char *buf, size_t size)
{
	if (level == SOL_SOCKET && name == SO_REUSEADDR)
		return "SO_REUSEADDR";
	if (level == SOL_SOCKET && name == SO_REUSEPORT)
		return "SO_REUSEPORT";
	if (level == SOL_SOCKET && name == SO_KEEPALIVE)
		return "SO_KEEPALIVE";
	if (level == SOL_SOCKET && name == SO_RCVTIMEO)
		return "SO_RCVTIMEO";
	snprintf(buf, size, "%d", name);
	return buf;
}

int socket(int domain, int type, int protocol)
{
	int fd = REAL("socket", int (*)(int, int, int))(domain, type, protocol);

	note("socket fd=%d family=%d type=%d\n", fd, domain, type);
	return fd;
}

int setsockopt(int fd, int level, int name, const void *value, socklen_t len)
{
	int rc = REAL("setsockopt", int (*)(int, int, int, const void *, socklen_t))(
	    fd, level, name, value, len);
	char lb[16], nb[16];
	int v = 0;

	if (value != NULL && len >= sizeof(int))
		memcpy(&v, value, sizeof(int));
	note("setsockopt fd=%d level=%s name=%s value=%d rc=%d\n", fd,
	     level_name(level, lb, sizeof(lb)), option_name(level, name, nb, sizeof(nb)),
	     v, rc);
	return rc;
}

int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	int rc =
	    REAL("bind", int (*)(int, const struct sockaddr *, socklen_t))(fd, addr, len);
	unsigned port = 0;

	if (addr->sa_family == AF_INET && len >= sizeof(struct sockaddr_in))
		port = ntohs(((const struct sockaddr_in *)addr)->sin_port);
	else if (addr->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6))
		port = ntohs(((const struct sockaddr_in6 *)addr)->sin6_port);
	note("bind fd=%d port=%u rc=%d\n", fd, port, rc);
	return rc;
}

int listen(int fd, int backlog)
{
	int rc = REAL("listen", int (*)(int, int))(fd, backlog);

	note("listen fd=%d rc=%d\n", fd, rc);
	return rc;
}
