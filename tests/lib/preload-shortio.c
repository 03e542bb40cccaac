/*
 * tests/lib/preload-shortio.c - make socket I/O move a few bytes per call.
 *
 * On loopback a blocking send() or recv() almost always moves everything it
 * was asked to, so a program that forgets to loop over short counts passes by
 * luck. Loaded with LD_PRELOAD, this shim takes that luck away: on a socket,
 * each call a chapter may suggest for moving bytes (send, sendto, sendmsg,
 * write, writev, sendfile, splice; recv, recvfrom, recvmsg, read, readv; and
 * glibc's fortified __read_chk/__recv_chk/__recvfrom_chk) moves between 1 and
 * SHORTIO_MAX bytes, chosen by a
 * seeded pseudo-random sequence, so a run can be repeated exactly. Even
 * MSG_WAITALL is cut short: POSIX lets it return early too (a signal), so a
 * correct program loops anyway.
 *
 * Only stream sockets are affected (fstat, S_ISSOCK and SO_TYPE on each
 * call): stdio, files, pipes, terminals and datagram sockets keep their
 * normal behaviour. A call with length 0 is
 * passed through unchanged.
 *
 * Environment:
 *   SHORTIO_MAX    the most bytes a call may move (default 7, at least 1)
 *   SHORTIO_SEED   the seed of the sequence (default 1); each thread starts
 *                  from the seed mixed with its own start order
 *   SHORTIO_EINTR  if N > 0, about one call in N fails with EINTR before
 *                  moving anything, as if a signal had arrived (default 0)
 *   SHORTIO_EAGAIN if N > 0, on a non-blocking socket (O_NONBLOCK) about one
 *                  call in N fails with EAGAIN before moving anything, as
 *                  when a send buffer is full or a readiness report was
 *                  stale: an event loop must wait for the next POLLOUT or
 *                  POLLIN, and lose nothing (default 0)
 *
 * Use it with the unsanitized builds ($PLAIN_DIR): ASan wants to be first in
 * the library list. Built as GNU C, not ISO C: see scripts/build-tools.
 */
#define _GNU_SOURCE /* RTLD_NEXT: find the real function behind ours */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static unsigned long env_number(const char *name, unsigned long fallback)
{
	const char *text = getenv(name);
	char *end;
	unsigned long v;

	if (text == NULL || *text == '\0')
		return fallback;
	v = strtoul(text, &end, 10);
	return *end == '\0' ? v : fallback;
}

/* One sequence per thread, so threads do not race on it; a thread's
 * sequence depends on the seed and on how many threads started before. */
static __thread uint64_t state;
static uint64_t threads_started;

static uint64_t next_random(void)
{
	if (state == 0) {
		uint64_t order =
		    __atomic_fetch_add(&threads_started, 1, __ATOMIC_RELAXED);
		state = (env_number("SHORTIO_SEED", 1) + 1) * 0x9E3779B97F4A7C15ull +
		        order * 0xD1B54A32D192ED03ull;
		if (state == 0)
			state = 1;
	}
	/* xorshift64*: small, fast, and good enough to pick a length. */
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return state * 0x2545F4914F6CDD1Dull;
}

/* Is FD a stream socket? Datagram sockets keep whole messages: cutting one
 * would change what is sent, not just how. */
static int is_stream_socket(int fd)
{
	struct stat st;
	int type = 0;
	socklen_t len = sizeof(type);
	int saved = errno;
	int yes = fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) &&
	          getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
	          type == SOCK_STREAM;

	errno = saved;
	return yes;
}

/* Is FD in non-blocking mode? */
static int is_nonblocking(int fd)
{
	int saved = errno;
	int flags = fcntl(fd, F_GETFL);

	errno = saved;
	return flags != -1 && (flags & O_NONBLOCK);
}

/* What allowed() returns for "fail with EAGAIN". */
#define CUT_EAGAIN ((size_t)-1)

// [snippet shortio_allowed]
/*
 * How many of LEN bytes this call on FD may move; 0 means "fail with EINTR",
 * CUT_EAGAIN "fail with EAGAIN". Anything but a stream socket, and empty
 * calls, keep LEN.
 */
static size_t allowed(int fd, size_t len)
{
	unsigned long max, every, eagain;
	uint64_t r;

	if (len == 0 || !is_stream_socket(fd))
		return len;
	max = env_number("SHORTIO_MAX", 7);
	every = env_number("SHORTIO_EINTR", 0);
	eagain = env_number("SHORTIO_EAGAIN", 0);
	if (max == 0)
		max = 1;
	r = next_random();
	if (every > 0 && (r >> 32) % every == 0)
		return 0;
	if (eagain > 0 && (r >> 40) % eagain == 0 && is_nonblocking(fd))
		return CUT_EAGAIN;
	r = 1 + r % max;
	return r < len ? (size_t)r : len;
}
// [end shortio_allowed]

#define REAL(name, type) ((type)dlsym(RTLD_NEXT, name))
#define CUT(fd, len)                                                                     \
	size_t n = allowed(fd, len);                                                     \
	if (n == 0 || n == CUT_EAGAIN) {                                                 \
		errno = n == 0 ? EINTR : EAGAIN;                                         \
		return -1;                                                               \
	}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	CUT(fd, len);
	return REAL("send", ssize_t(*)(int, const void *, size_t, int))(fd, buf, n,
	                                                                flags);
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
               socklen_t tolen)
{
	CUT(fd, len);
	return REAL("sendto",
	            ssize_t(*)(int, const void *, size_t, int, const struct sockaddr *,
	                       socklen_t))(fd, buf, n, flags, to, tolen);
}

ssize_t write(int fd, const void *buf, size_t len)
{
	CUT(fd, len);
	return REAL("write", ssize_t(*)(int, const void *, size_t))(fd, buf, n);
}

// [snippet shortio_recv]
ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	CUT(fd, len);
	return REAL("recv", ssize_t(*)(int, void *, size_t, int))(fd, buf, n, flags);
}
// [end shortio_recv]

ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from,
                 socklen_t *fromlen)
{
	CUT(fd, len);
	return REAL("recvfrom",
	            ssize_t(*)(int, void *, size_t, int, struct sockaddr *, socklen_t *))(
	    fd, buf, n, flags, from, fromlen);
}

ssize_t read(int fd, void *buf, size_t len)
{
	CUT(fd, len);
	return REAL("read", ssize_t(*)(int, void *, size_t))(fd, buf, n);
}

/* With -D_FORTIFY_SOURCE, calls with a known buffer size go here instead. */
ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen);
ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	CUT(fd, len);
	return REAL("__read_chk", ssize_t(*)(int, void *, size_t, size_t))(fd, buf, n,
	                                                                   buflen);
}

ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags);
ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	CUT(fd, len);
	return REAL("__recv_chk", ssize_t(*)(int, void *, size_t, size_t, int))(
	    fd, buf, n, buflen, flags);
}

ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
                       struct sockaddr *from, socklen_t *fromlen);
ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
                       struct sockaddr *from, socklen_t *fromlen)
{
	CUT(fd, len);
	return REAL("__recvfrom_chk",
	            ssize_t(*)(int, void *, size_t, size_t, int, struct sockaddr *,
	                       socklen_t *))(fd, buf, n, buflen, flags, from, fromlen);
}

/* The scatter/gather calls: at most this many pieces are passed on (a short
 * count is allowed anyway). */
#define IOV_CAP 64

static size_t iov_total(const struct iovec *iov, size_t cnt)
{
	size_t total = 0, i;

	for (i = 0; i < cnt; i++)
		total += iov[i].iov_len;
	return total;
}

/* Copy the first N bytes' worth of IOV (CNT pieces) into OUT; returns how
 * many pieces OUT holds. */
static size_t cut_iov(const struct iovec *iov, size_t cnt, size_t n, struct iovec *out)
{
	size_t i, k = 0;

	for (i = 0; i < cnt && k < IOV_CAP && n > 0; i++) {
		out[k] = iov[i];
		if (out[k].iov_len > n)
			out[k].iov_len = n;
		n -= out[k].iov_len;
		k++;
	}
	return k;
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	struct iovec cut[IOV_CAP];
	size_t total = cnt > 0 ? iov_total(iov, (size_t)cnt) : 0;
	CUT(fd, total);
	if (n == total && cnt <= IOV_CAP)
		return REAL("writev", ssize_t(*)(int, const struct iovec *, int))(fd, iov,
		                                                                  cnt);
	return REAL("writev", ssize_t(*)(int, const struct iovec *, int))(
	    fd, cut, (int)cut_iov(iov, (size_t)cnt, n, cut));
}

ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
	struct iovec cut[IOV_CAP];
	size_t total = cnt > 0 ? iov_total(iov, (size_t)cnt) : 0;
	CUT(fd, total);
	if (n == total && cnt <= IOV_CAP)
		return REAL("readv", ssize_t(*)(int, const struct iovec *, int))(fd, iov,
		                                                                 cnt);
	return REAL("readv", ssize_t(*)(int, const struct iovec *, int))(
	    fd, cut, (int)cut_iov(iov, (size_t)cnt, n, cut));
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct iovec cut[IOV_CAP];
	struct msghdr m = *msg;
	size_t total = iov_total(msg->msg_iov, msg->msg_iovlen);
	CUT(fd, total);
	if (n < total || m.msg_iovlen > IOV_CAP) {
		m.msg_iovlen = cut_iov(msg->msg_iov, msg->msg_iovlen, n, cut);
		m.msg_iov = cut;
	}
	return REAL("sendmsg", ssize_t(*)(int, const struct msghdr *, int))(fd, &m,
	                                                                    flags);
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct iovec cut[IOV_CAP], *orig = msg->msg_iov;
	size_t total = iov_total(msg->msg_iov, msg->msg_iovlen),
	       orig_len = msg->msg_iovlen;
	ssize_t got;
	CUT(fd, total);
	if (n == total && orig_len <= IOV_CAP)
		return REAL("recvmsg", ssize_t(*)(int, struct msghdr *, int))(fd, msg,
		                                                              flags);
	/* The caller's msghdr gets its own iovec back, with the other fields
	 * (flags, control length, address length) as the kernel set them. */
	msg->msg_iovlen = cut_iov(orig, orig_len, n, cut);
	msg->msg_iov = cut;
	got = REAL("recvmsg", ssize_t(*)(int, struct msghdr *, int))(fd, msg, flags);
	msg->msg_iov = orig;
	msg->msg_iovlen = orig_len;
	return got;
}

ssize_t sendfile(int out_fd, int in_fd, off_t *offset, size_t count)
{
	CUT(out_fd, count);
	return REAL("sendfile", ssize_t(*)(int, int, off_t *, size_t))(out_fd, in_fd,
	                                                               offset, n);
}

ssize_t sendfile64(int out_fd, int in_fd, off64_t *offset, size_t count)
{
	CUT(out_fd, count);
	return REAL("sendfile64", ssize_t(*)(int, int, off64_t *, size_t))(out_fd, in_fd,
	                                                                   offset, n);
}

ssize_t splice(int fd_in, off64_t *off_in, int fd_out, off64_t *off_out, size_t len,
               unsigned int flags)
{
	/* Cut when either end is a stream socket. */
	size_t n = allowed(is_stream_socket(fd_out) ? fd_out : fd_in, len);
	if (n == 0 || n == CUT_EAGAIN) {
		errno = n == 0 ? EINTR : EAGAIN;
		return -1;
	}
	return REAL("splice",
	            ssize_t(*)(int, off64_t *, int, off64_t *, size_t, unsigned int))(
	    fd_in, off_in, fd_out, off_out, n, flags);
}
