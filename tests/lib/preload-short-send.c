/*
 * tests/lib/preload-short-send.c - make send() and write() move few bytes.
 *
 * On a real network, send() and write() may accept fewer bytes than asked
 * (a full socket buffer, a signal); on a quiet loopback they almost never
 * do, so a program that ignores their return value seems to work. Loaded
 * with LD_PRELOAD, this shim makes every send() and sendto(), and every
 * write() on a socket or a pipe, take at most SHORT_MAX bytes, the
 * way a busy network would, so the missing loop shows.
 * Environment:
 *   SHORT_MAX   the most bytes one call may move (default 1000)
 * Works with the unsanitized builds (ASan wants to be first in the library
 * list). Built as GNU C, not ISO C: see scripts/build-tools.
 */
#define _GNU_SOURCE /* RTLD_NEXT: find the real function behind ours */
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define REAL(name, type) ((type)dlsym(RTLD_NEXT, name))

/* LEN cut down to SHORT_MAX. */
static size_t cap(size_t len)
{
	const char *env = getenv("SHORT_MAX");
	long max = env ? atol(env) : 1000;

	if (max < 1)
		max = 1;
	return len > (size_t)max ? (size_t)max : len;
}

/* Short writes happen on sockets and pipes, never on regular files. */
static int may_be_short(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && (S_ISSOCK(st.st_mode) || S_ISFIFO(st.st_mode));
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	return REAL("send", ssize_t(*)(int, const void *, size_t, int))(fd, buf, cap(len),
	                                                                flags);
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags,
               const struct sockaddr *addr, socklen_t addr_len)
{
	return REAL("sendto",
	            ssize_t(*)(int, const void *, size_t, int, const struct sockaddr *,
	                       socklen_t))(fd, buf, cap(len), flags, addr, addr_len);
}

ssize_t write(int fd, const void *buf, size_t len)
{
	if (may_be_short(fd))
		len = cap(len);
	return REAL("write", ssize_t(*)(int, const void *, size_t))(fd, buf, len);
}
