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
 * Levels and names it does not know are written as numbers. With
 * SOCKCALLS_DATA=1 it also writes one line per call that sends on a socket
 * (send, sendto, sendmsg, write, writev), with the bytes the program passed
 * in that one call, so a test can see how a program cuts its output:
 *   send fd=3 len=6 rc=6 data=hello\n
 * (a newline is written \n, a backslash \\, other unprintable bytes \xHH;
 * past 512 bytes, "..."). Works with the
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
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define REAL(name, type) ((type)dlsym(RTLD_NEXT, name))

/* Append one formatted line to $SOCKCALLS_LOG, keeping errno as it was. */
static void note(const char *fmt, ...)
{
	const char *path = getenv("SOCKCALLS_LOG");
	int saved = errno, fd, n;
	char line[2560];
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
			/* The real write: ours below would log this one too. */
			ssize_t w = REAL("write", ssize_t(*)(int, const void *, size_t))(
			    fd, line, len);
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

/* Log one sending call of LEN bytes, of which BUF holds the first HAVE, if
 * SOCKCALLS_DATA asks for it. */
static void note_data(const char *call, int fd, const void *buf, size_t have, size_t len,
                      ssize_t rc)
{
	const unsigned char *p = buf;
	char text[512 * 4 + 8];
	size_t i, o = 0;

	if (getenv("SOCKCALLS_DATA") == NULL)
		return;
	for (i = 0; i < have && i < 512; i++) {
		if (p[i] == '\n')
			o += (size_t)sprintf(text + o, "\\n");
		else if (p[i] == '\\')
			o += (size_t)sprintf(text + o, "\\\\");
		else if (p[i] >= ' ' && p[i] < 127)
			text[o++] = (char)p[i];
		else
			o += (size_t)sprintf(text + o, "\\x%02x", p[i]);
	}
	text[o] = '\0';
	note("%s fd=%d len=%zu rc=%zd data=%s%s\n", call, fd, len, rc, text,
	     i < len ? "..." : "");
}

/* Copy the first bytes of IOV into BUF (SIZE bytes); returns the total length. */
static size_t gather(const struct iovec *iov, int count, char *buf, size_t size,
                     size_t *copied)
{
	size_t total = 0;

	*copied = 0;
	for (int i = 0; i < count; i++) {
		size_t n = iov[i].iov_len;
		if (*copied < size) {
			size_t take = n < size - *copied ? n : size - *copied;
			memcpy(buf + *copied, iov[i].iov_base, take);
			*copied += take;
		}
		total += n;
	}
	return total;
}

static int is_socket(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	ssize_t rc =
	    REAL("send", ssize_t(*)(int, const void *, size_t, int))(fd, buf, len, flags);
	note_data("send", fd, buf, len, len, rc);
	return rc;
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
               socklen_t tolen)
{
	ssize_t rc = REAL("sendto", ssize_t(*)(int, const void *, size_t, int,
	                                       const struct sockaddr *, socklen_t))(
	    fd, buf, len, flags, to, tolen);
	note_data("sendto", fd, buf, len, len, rc);
	return rc;
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	ssize_t rc =
	    REAL("sendmsg", ssize_t(*)(int, const struct msghdr *, int))(fd, msg, flags);
	char buf[512];
	size_t copied;

	size_t len =
	    gather(msg->msg_iov, (int)msg->msg_iovlen, buf, sizeof(buf), &copied);
	note_data("sendmsg", fd, buf, copied, len, rc);
	return rc;
}

ssize_t write(int fd, const void *buf, size_t len)
{
	ssize_t rc = REAL("write", ssize_t(*)(int, const void *, size_t))(fd, buf, len);
	int saved = errno; /* fstat must not change what the caller sees */

	if (is_socket(fd))
		note_data("write", fd, buf, len, len, rc);
	errno = saved;
	return rc;
}

ssize_t writev(int fd, const struct iovec *iov, int count)
{
	ssize_t rc =
	    REAL("writev", ssize_t(*)(int, const struct iovec *, int))(fd, iov, count);
	int saved = errno;
	char buf[512];
	size_t copied;

	if (is_socket(fd)) {
		size_t len = gather(iov, count, buf, sizeof(buf), &copied);
		note_data("writev", fd, buf, copied, len, rc);
	}
	errno = saved;
	return rc;
}
