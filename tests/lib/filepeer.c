/*
 * tests/lib/filepeer.c - a raw client for lesson 10's file server.
 *
 * It speaks the download protocol byte by byte and reports every field it
 * gets, so a test can check the server's answer itself rather than what the
 * lesson's own client makes of it.
 *
 * Usage: filepeer HOST PORT NAME [--out FILE] [--idle-ms MS] [--stall-after N]
 *        filepeer HOST PORT --name-file FILE [--out FILE] [--idle-ms MS]
 *   Sends one frame holding NAME (or FILE's bytes, any bytes at all), then
 *   prints on stdout, each on its own line:
 *     status S            the status byte
 *     size N              after status 0: the 8-byte big-endian size
 *     received M bytes    after status 0: how many of the N bytes came
 *                         (written to --out FILE if given)
 *     message TEXT        after another status: the message frame
 *     eof                 the server then closed the connection
 *   Exit 0 if the answer was complete and well formed, 1 if not (what went
 *   wrong on stderr), 3 if nothing came for --idle-ms (default 10000).
 *   --stall-after N: once at least N bytes of the file came, stop reading,
 *   print "stalled after M bytes" and wait --idle-ms before exiting 0 (a
 *   client that stops reading mid-transfer, for the test to kill).
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"
#include "io.h"
#include "net.h"
#include "tcp.h"

static _Noreturn void usage(void)
{
	fprintf(stderr, "usage: filepeer HOST PORT NAME|--name-file FILE [--out FILE] "
	                "[--idle-ms MS] [--stall-after N]\n");
	exit(2);
}

/* Print one report line and flush it. */
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

/* Exit 3 for a timeout, else 1 with the reason. */
static _Noreturn void broken(const char *what)
{
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		fprintf(stderr, "filepeer: %s: nothing came in time\n", what);
		exit(3);
	}
	err(1, "%s", what);
}

/* Read a whole file (a name to send) into a malloc'd buffer. */
static char *slurp(const char *path, size_t *len)
{
	char *buf = malloc(FRAME_MAX);
	size_t got = 0;
	int fd = open(path, O_RDONLY);

	if (fd == -1 || buf == NULL)
		err(1, "%s", path);
	for (;;) {
		ssize_t n = read(fd, buf + got, FRAME_MAX - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			err(1, "read %s", path);
		if (n == 0 || (got += (size_t)n) == FRAME_MAX)
			break;
	}
	close(fd);
	*len = got;
	return buf;
}

/* After a complete answer: the server should close. */
static void expect_eof(int fd)
{
	char byte;
	ssize_t n;

	while ((n = recv(fd, &byte, 1, 0)) == -1 && errno == EINTR)
		;
	if (n == -1 && errno != ECONNRESET)
		broken("recv after the answer");
	if (n == 1)
		errx(1, "the server sent more than it announced");
	say("eof\n");
}

int main(int argc, char *argv[])
{
	const char *out = NULL, *name_file = NULL, *name = NULL;
	long idle_ms = 10000, stall_after = -1;
	int gai, fd, out_fd = -1;
	char *request;
	size_t request_len;

	if (argc < 4)
		usage();
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--out") && i + 1 < argc)
			out = argv[++i];
		else if (!strcmp(argv[i], "--name-file") && i + 1 < argc)
			name_file = argv[++i];
		else if (!strcmp(argv[i], "--idle-ms") && i + 1 < argc) {
			if (parse_long(argv[++i], 1, 3600000, &idle_ms) == -1)
				usage();
		} else if (!strcmp(argv[i], "--stall-after") && i + 1 < argc) {
			if (parse_long(argv[++i], 0, 1L << 40, &stall_after) == -1)
				usage();
		} else if (name == NULL && name_file == NULL)
			name = argv[i];
		else
			usage();
	}
	if ((name == NULL) == (name_file == NULL))
		usage();
	if (name_file != NULL) {
		request = slurp(name_file, &request_len);
	} else {
		request_len = strlen(name);
		if ((request = malloc(request_len + 1)) == NULL)
			err(1, "malloc");
		memcpy(request, name, request_len);
	}
	if (ignore_sigpipe() == -1)
		err(1, "sigaction");
	fd = tcp_connect(argv[1], argv[2], &gai);
	if (fd == -1 && gai != 0)
		errx(1, "%s: %s", argv[1], gai_strerror(gai));
	if (fd == -1)
		err(1, "connect to %s:%s", argv[1], argv[2]);
	struct timeval tv = {idle_ms / 1000, (idle_ms % 1000) * 1000};
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1)
		err(1, "setsockopt");
	if (frame_send(fd, request, request_len) == -1)
		err(1, "send request");
	free(request);

	unsigned char status, size_bytes[8];
	ssize_t n = frame_recv_all(fd, &status, 1);
	if (n == -1)
		broken("recv status");
	if (n == 0)
		errx(1, "the server closed without a status byte");
	say("status %u\n", status);
	if (status != 0) {
		char *message;
		size_t len;
		int rc = frame_recv(fd, FRAME_MAX, &message, &len);
		if (rc == -1)
			broken("recv message frame");
		if (rc == 0)
			errx(1, "the server closed without a message frame");
		for (size_t i = 0; i < len; i++)
			if (message[i] == '\n' || message[i] == '\0')
				message[i] = ' ';
		say("message %s\n", message);
		free(message);
		expect_eof(fd);
		close(fd);
		return 0;
	}
	n = frame_recv_all(fd, size_bytes, sizeof(size_bytes));
	if (n == -1)
		broken("recv size");
	if (n != (ssize_t)sizeof(size_bytes))
		errx(1, "the server closed inside the size (%zd of 8 bytes)", n);
	uint64_t size = 0, got = 0;
	for (int i = 0; i < 8; i++)
		size = size << 8 | size_bytes[i];
	say("size %llu\n", (unsigned long long)size);
	if (out != NULL && (out_fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1)
		err(1, "%s", out);
	static char buf[65536];
	while (got < size) {
		uint64_t left = size - got;
		n = recv(fd, buf, left < sizeof(buf) ? (size_t)left : sizeof(buf), 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			broken("recv file");
		if (n == 0)
			break;
		if (out_fd != -1 && write_all(out_fd, buf, (size_t)n) == -1)
			err(1, "write %s", out);
		got += (uint64_t)n;
		if (stall_after >= 0 && got >= (uint64_t)stall_after) {
			struct timespec ts = {idle_ms / 1000,
			                      (idle_ms % 1000) * 1000000L};
			say("stalled after %llu bytes\n", (unsigned long long)got);
			while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
				;
			return 0;
		}
	}
	say("received %llu bytes\n", (unsigned long long)got);
	if (got < size)
		errx(1, "the connection closed after %llu of %llu bytes",
		     (unsigned long long)got, (unsigned long long)size);
	expect_eof(fd);
	if (out_fd != -1)
		close(out_fd);
	close(fd);
	return 0;
}
