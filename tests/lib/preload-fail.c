/*
 * tests/lib/preload-fail.c - make one system call fail on purpose.
 *
 * Loaded with LD_PRELOAD into a program under test, it lets a test check that
 * the program notices a failing call and reports it, which is otherwise hard
 * to provoke. Environment:
 *   FAIL_CALL   which call fails: socket, bind, listen, accept (accept4
 *               too), connect,
 *               setsockopt, getsockname or getpeername; or "send": every
 *               call that sends on a socket (send, sendto, sendmsg, and
 *               write, writev, sendfile or splice into a socket), counted
 *               together, so a test need not know which one a program uses
 *   FAIL_MIN_BYTES  with "send": only sends of at least this many bytes
 *               count (and fail), so that a test can fail the data a
 *               server sends, not the short header before it
 *   FAIL_ERRNO  the errno it fails with, as a number (default EMFILE)
 *   FAIL_AFTER  how many calls succeed before the first failure (default 0)
 *   FAIL_TIMES  how many calls fail, one after another (default: every call
 *               after FAIL_AFTER), so a test can check that the program
 *               goes on once the failure has passed
 *   FAIL_LOG    a file to which each failed call appends a line "NAME MS",
 *               MS on the monotonic clock, so a test can see how a program
 *               spaced its retries
 * A send that fails with EPIPE does what
 * the kernel does when the peer has gone: it raises SIGPIPE in the calling
 * thread unless the call passed MSG_NOSIGNAL (write and writev cannot), so
 * a program that neither ignores SIGPIPE nor passes the flag dies of it, on
 * every run, not only when a reset happens to race a send. Works with the
 * unsanitized builds (ASan
 * wants to be first in the library list). Built as GNU C, not ISO C: see
 * scripts/build-tools.
 */
#define _GNU_SOURCE /* RTLD_NEXT: find the real function behind ours */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define REAL(name, type) ((type)dlsym(RTLD_NEXT, name))

/* Append "NAME MS" to FAIL_LOG, if set; errno is left as it was. */
static void log_failure(const char *name)
{
	const char *path = getenv("FAIL_LOG");
	struct timespec ts;
	char line[128];
	int fd, n, saved = errno;

	if (path == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	n = snprintf(line, sizeof(line), "%s %lld\n", name,
	             (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd != -1) {
		/* The real write: ours below would count a socket send. */
		REAL("write", ssize_t(*)(int, const void *, size_t))(fd, line, (size_t)n);
		close(fd);
	}
	errno = saved;
}

/* Should this call of NAME fail? Counts the calls of the chosen one. */
static int should_fail(const char *name)
{
	static long calls;
	const char *which = getenv("FAIL_CALL");
	const char *after = getenv("FAIL_AFTER");
	const char *times = getenv("FAIL_TIMES");
	const char *code = getenv("FAIL_ERRNO");
	long first = after ? atol(after) : 0, n;

	if (which == NULL || strcmp(which, name) != 0)
		return 0;
	/* Atomic: threaded servers send from several threads at once. */
	n = __atomic_fetch_add(&calls, 1, __ATOMIC_RELAXED);
	if (n < first || (times != NULL && n >= first + atol(times)))
		return 0;
	log_failure(name);
	errno = code ? atoi(code) : EMFILE;
	return 1;
}

int socket(int domain, int type, int protocol)
{
	if (should_fail("socket"))
		return -1;
	return REAL("socket", int (*)(int, int, int))(domain, type, protocol);
}

int bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	if (should_fail("bind"))
		return -1;
	return REAL("bind", int (*)(int, const struct sockaddr *, socklen_t))(fd, sa,
	                                                                      len);
}

int listen(int fd, int backlog)
{
	if (should_fail("listen"))
		return -1;
	return REAL("listen", int (*)(int, int))(fd, backlog);
}

int accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	if (should_fail("accept"))
		return -1;
	return REAL("accept", int (*)(int, struct sockaddr *, socklen_t *))(fd, sa, len);
}

int accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	if (should_fail("accept"))
		return -1;
	return REAL("accept4", int (*)(int, struct sockaddr *, socklen_t *, int))(
	    fd, sa, len, flags);
}

int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	if (should_fail("connect"))
		return -1;
	return REAL("connect", int (*)(int, const struct sockaddr *, socklen_t))(fd, sa,
	                                                                         len);
}

int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	if (should_fail("setsockopt"))
		return -1;
	return REAL("setsockopt", int (*)(int, int, int, const void *, socklen_t))(
	    fd, level, name, val, len);
}

int getsockname(int fd, struct sockaddr *sa, socklen_t *len)
{
	if (should_fail("getsockname"))
		return -1;
	return REAL("getsockname", int (*)(int, struct sockaddr *, socklen_t *))(fd, sa,
	                                                                         len);
}

int getpeername(int fd, struct sockaddr *sa, socklen_t *len)
{
	if (should_fail("getpeername"))
		return -1;
	return REAL("getpeername", int (*)(int, struct sockaddr *, socklen_t *))(fd, sa,
	                                                                         len);
}

/* Should this send of LEN bytes (FLAGS as passed) fail? If it fails with
 * EPIPE, raise SIGPIPE as the kernel would, unless MSG_NOSIGNAL asked it
 * not to. */
static int send_should_fail(int flags, size_t len)
{
	const char *min = getenv("FAIL_MIN_BYTES");

	if (min != NULL && len < (size_t)atol(min))
		return 0;
	if (!should_fail("send"))
		return 0;
	if (errno == EPIPE && !(flags & MSG_NOSIGNAL)) {
		raise(SIGPIPE);
		errno = EPIPE; /* a handler may have changed it */
	}
	return 1;
}

/* The bytes COUNT iovecs hold. */
static size_t iov_bytes(const struct iovec *iov, int count)
{
	size_t total = 0;

	for (int i = 0; i < count; i++)
		total += iov[i].iov_len;
	return total;
}

/* Is FD a socket? write() and writev() fail only on sockets. */
static int is_socket(int fd)
{
	struct stat st;
	int saved = errno;
	int yes = fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);

	errno = saved;
	return yes;
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	if (send_should_fail(flags, len))
		return -1;
	return REAL("send", ssize_t(*)(int, const void *, size_t, int))(fd, buf, len,
	                                                                flags);
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *sa,
               socklen_t sa_len)
{
	if (send_should_fail(flags, len))
		return -1;
	return REAL("sendto",
	            ssize_t(*)(int, const void *, size_t, int, const struct sockaddr *,
	                       socklen_t))(fd, buf, len, flags, sa, sa_len);
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	if (send_should_fail(flags, iov_bytes(msg->msg_iov, (int)msg->msg_iovlen)))
		return -1;
	return REAL("sendmsg", ssize_t(*)(int, const struct msghdr *, int))(fd, msg,
	                                                                    flags);
}

ssize_t write(int fd, const void *buf, size_t len)
{
	if (is_socket(fd) && send_should_fail(0, len))
		return -1;
	return REAL("write", ssize_t(*)(int, const void *, size_t))(fd, buf, len);
}

ssize_t writev(int fd, const struct iovec *iov, int count)
{
	if (is_socket(fd) && send_should_fail(0, iov_bytes(iov, count)))
		return -1;
	return REAL("writev", ssize_t(*)(int, const struct iovec *, int))(fd, iov, count);
}

ssize_t sendfile(int out_fd, int in_fd, off_t *offset, size_t count)
{
	if (is_socket(out_fd) && send_should_fail(0, count))
		return -1;
	return REAL("sendfile", ssize_t(*)(int, int, off_t *, size_t))(out_fd, in_fd,
	                                                               offset, count);
}

ssize_t splice(int fd_in, loff_t *off_in, int fd_out, loff_t *off_out, size_t len,
               unsigned int flags)
{
	if (is_socket(fd_out) && send_should_fail(0, len))
		return -1;
	return REAL("splice",
	            ssize_t(*)(int, loff_t *, int, loff_t *, size_t, unsigned int))(
	    fd_in, off_in, fd_out, off_out, len, flags);
}
