/*
 * tests/lib/preload-fail.c - make one system call fail on purpose.
 *
 * Loaded with LD_PRELOAD into a program under test, it lets a test check that
 * the program notices a failing call and reports it, which is otherwise hard
 * to provoke. Environment:
 *   FAIL_CALL   which call fails: socket, bind, listen, accept, connect,
 *               setsockopt, getsockname or getpeername
 *   FAIL_ERRNO  the errno it fails with, as a number (default EMFILE)
 *   FAIL_AFTER  how many calls succeed before the first failure (default 0)
 * Every call after that fails too. Works with the unsanitized builds (ASan
 * wants to be first in the library list). Built as GNU C, not ISO C: see
 * scripts/build-tools.
 */
#define _GNU_SOURCE /* RTLD_NEXT: find the real function behind ours */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Should this call of NAME fail? Counts the calls of the chosen one. */
static int should_fail(const char *name)
{
	static long calls;
	const char *which = getenv("FAIL_CALL");
	const char *after = getenv("FAIL_AFTER");
	const char *code = getenv("FAIL_ERRNO");

	if (which == NULL || strcmp(which, name) != 0)
		return 0;
	if (calls++ < (after ? atol(after) : 0))
		return 0;
	errno = code ? atoi(code) : EMFILE;
	return 1;
}

#define REAL(name, type) ((type)dlsym(RTLD_NEXT, name))

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
