/*
 * tests/lib/sendfile-copy.c - the plainest fast file copy over TCP, as a
 * benchmark's anchor.
 *
 * `make bench` measures lesson 10's file server and download client; this
 * program is what they are measured against: the sender hands the file to
 * the kernel with sendfile(2) (no copy through user space), the receiver
 * reads into one 256 KiB buffer and writes it out. No protocol, no header,
 * no progress: the machine's practical limit for moving a file over
 * loopback into a file.
 *
 * Usage: sendfile-copy serve FILE
 *          listen on 127.0.0.1 (port chosen by the kernel), print
 *          "listening on ADDR:PORT" (flushed), send FILE to the first client
 *          with sendfile(), close, exit 0.
 *        sendfile-copy fetch HOST PORT OUTPUT
 *          connect, write everything that arrives to OUTPUT until EOF, exit 0.
 * Errors: one line on stderr, exit 1. Bad usage: exit 2.
 * sendfile() is Linux's; elsewhere the sender falls back to read and send.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/sendfile.h>
#endif

#include "io.h"
#include "net.h"
#include "tcp.h"

enum { BUF_SIZE = 256 * 1024 };

static char buf[BUF_SIZE];

/* Send the LEN bytes of file descriptor IN to socket FD. Returns 0 or -1. */
static int send_file(int fd, int in, off_t len)
{
	off_t sent = 0;

	while (sent < len) {
#ifdef __linux__
		ssize_t n = sendfile(fd, in, NULL, (size_t)(len - sent));
#else
		ssize_t n = read(in, buf, sizeof(buf));
		if (n > 0 && send_all(fd, buf, (size_t)n) == -1)
			return -1;
#endif
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		sent += n;
	}
	return 0;
}

static int serve(const char *path)
{
	char why[256];
	struct stat st;
	int lfd, cfd, in;

	if ((in = open(path, O_RDONLY)) == -1 || fstat(in, &st) == -1)
		err(1, "%s", path);
	if (ignore_sigpipe() == -1)
		err(1, "sigaction");
	if ((lfd = tcp_listen_announce("127.0.0.1", "0", 1, why, sizeof(why))) == -1)
		errx(1, "%s", why);
	while ((cfd = accept(lfd, NULL, NULL)) == -1)
		if (errno != EINTR)
			err(1, "accept");
	if (send_file(cfd, in, st.st_size) == -1)
		err(1, "sendfile");
	if (close(cfd) == -1 || close(lfd) == -1 || close(in) == -1)
		err(1, "close");
	return 0;
}

static int fetch(const char *host, const char *port, const char *path)
{
	int fd, out, gai_rc;
	ssize_t n;

	if ((fd = tcp_connect(host, port, &gai_rc)) == -1) {
		if (gai_rc != 0)
			errx(1, "%s: %s", host, gai_strerror(gai_rc));
		err(1, "connect to %s:%s", host, port);
	}
	if ((out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1)
		err(1, "%s", path);
	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			err(1, "recv");
		if (n == 0)
			break;
		if (write_all(out, buf, (size_t)n) == -1)
			err(1, "write %s", path);
	}
	if (close(out) == -1)
		err(1, "close %s", path);
	if (close(fd) == -1)
		err(1, "close");
	return 0;
}

int main(int argc, char *argv[])
{
	if (argc == 3 && strcmp(argv[1], "serve") == 0)
		return serve(argv[2]);
	if (argc == 5 && strcmp(argv[1], "fetch") == 0)
		return fetch(argv[2], argv[3], argv[4]);
	fprintf(
	    stderr,
	    "usage: sendfile-copy serve FILE | sendfile-copy fetch HOST PORT OUTPUT\n");
	return 2;
}
