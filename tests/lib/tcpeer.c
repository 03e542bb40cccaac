/*
 * tests/lib/tcpeer.c - a scriptable TCP peer for the test suites.
 *
 * It plays the other end of a lesson's program, well or badly on purpose:
 * sends in small pieces with pauses, answers only after EOF, resets the
 * connection, stops reading. Every wait is bounded, so a test never hangs.
 *
 * Usage:
 *   tcpeer connect HOST PORT [--send FILE] [--chunk N] [--pause-ms MS]
 *                  [--shut-wr] [--close | --reset] [--idle-ms MS] [--duplex]
 *       Connect (printing "local ADDR:PORT" on stderr: the address the
 *       kernel chose for this end), send FILE in pieces of N bytes with MS
 *       between them, shutdown(SHUT_WR) if asked, then copy everything
 *       received to stdout until EOF. --close closes right after sending;
 *       --reset closes with SO_LINGER 0 so the peer gets a reset. Exit 0 on
 *       EOF, 3 if nothing arrived for --idle-ms (default 10000), 1 on error.
 *       --duplex receives while it sends (poll), so an echo of more than the
 *       socket buffers hold cannot deadlock; prints "sent N bytes" on stderr.
 *   tcpeer serve [--host H] [--port P] [-n COUNT] [--send FILE] [--chunk N]
 *                [--pause-ms MS] [--after-eof] [--echo] [--record FILE]
 *                [--idle-ms MS] [--read-first N]
 *       Listen (default 127.0.0.1, port 0), print "listening on ADDR:PORT",
 *       then serve COUNT (default 1) connections one after another: send FILE
 *       (or, with --echo, what came before the client's EOF) in pieces, and
 *       close. With --after-eof, read until the client's EOF first, then
 *       answer. --record appends what was received to FILE. Prints
 *       "received N bytes" per connection. --read-first N reads N bytes (a
 *       request) before answering, so that closing sends FIN, not a reset.
 *   tcpeer probe HOST PORT
 *       Exit 0 if a TCP connection to HOST PORT succeeds, 1 if not.
 */
#include <errno.h>
#include <err.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "net.h"
#include "tcp.h"

struct opts {
	const char *host, *port, *send_file, *record_file;
	size_t chunk;
	long pause_ms, idle_ms, count, read_first;
	int shut_wr, close_early, reset, after_eof, echo, duplex;
};

static _Noreturn void usage(void)
{
	fprintf(stderr, "usage: tcpeer connect HOST PORT [options] | serve [options] | "
	                "probe HOST PORT\n");
	exit(2);
}

static void pause_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Read all of PATH into a malloc'd buffer; *LEN gets its size. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (f == NULL)
		err(1, "open %s", path);
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			if ((buf = realloc(buf, cap)) == NULL)
				err(1, "realloc");
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f))
		err(1, "read %s", path);
	fclose(f);
	*len = n;
	return buf;
}

/* Send BUF in pieces of o->chunk bytes with o->pause_ms between them. */
static int send_pieces(int fd, const char *buf, size_t len, const struct opts *o)
{
	while (len > 0) {
		size_t n = o->chunk && o->chunk < len ? o->chunk : len;
		if (send_all(fd, buf, n) == -1)
			return -1;
		buf += n;
		len -= n;
		if (len > 0 && o->pause_ms > 0)
			pause_ms(o->pause_ms);
	}
	return 0;
}

/* Send LEN bytes of DATA (then shutdown(SHUT_WR) if asked) while copying
 * what arrives to stdout, until EOF. Returns bytes received, -1 on error
 * (errno set), -2 if nothing moved for the idle time. */
static long send_and_receive(int fd, const char *data, size_t len, const struct opts *o)
{
	static char buf[65536];
	size_t sent = 0;
	long got = 0;
	int shut = 0;

	for (;;) {
		if (sent == len && o->shut_wr && !shut) {
			if (shutdown(fd, SHUT_WR) == -1)
				return -1;
			shut = 1;
		}
		struct pollfd p = {.fd = fd,
		                   .events = POLLIN | (sent < len ? POLLOUT : 0)};
		int rc = poll(&p, 1, (int)o->idle_ms);
		if (rc == -1 && errno == EINTR)
			continue;
		if (rc == -1)
			err(1, "poll");
		if (rc == 0)
			return -2;
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = recv(fd, buf, sizeof(buf), 0);
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1)
				return -1;
			if (n == 0)
				break;
			if (write_all(STDOUT_FILENO, buf, (size_t)n) == -1)
				err(1, "stdout");
			got += n;
		} else if (p.revents & POLLOUT) {
			size_t want = len - sent;
			if (o->chunk && o->chunk < want)
				want = o->chunk;
			ssize_t n =
			    send(fd, data + sent, want, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n == -1 &&
			    (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
				continue;
			if (n == -1)
				return -1;
			sent += (size_t)n;
		}
	}
	fprintf(stderr, "sent %zu bytes\n", sent);
	return got;
}

/* Wait until FD is readable or IDLE_MS pass. Returns 1 readable, 0 idle. */
static int wait_readable(int fd, long idle_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int rc;

	while ((rc = poll(&p, 1, (int)idle_ms)) == -1 && errno == EINTR)
		;
	if (rc == -1)
		err(1, "poll");
	return rc;
}

/* Receive until EOF, passing bytes to OUT_FD (if >= 0) and to BUF (if not
 * NULL, growing it). Returns bytes received, -1 on error, -2 on idle. */
static long recv_until_eof(int fd, int out_fd, char **buf, size_t *cap, long idle_ms)
{
	char chunk[65536];
	long total = 0;

	for (;;) {
		if (!wait_readable(fd, idle_ms))
			return -2;
		ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0)
			return total;
		if (out_fd >= 0 && write_all(out_fd, chunk, (size_t)n) == -1)
			err(1, "write");
		if (buf != NULL) {
			while ((size_t)(total + n) > *cap) {
				*cap = *cap ? *cap * 2 : 65536;
				if ((*buf = realloc(*buf, *cap)) == NULL)
					err(1, "realloc");
			}
			memcpy(*buf + total, chunk, (size_t)n);
		}
		total += n;
	}
}

static void reset_close(int fd)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == -1)
		err(1, "setsockopt SO_LINGER");
	close(fd);
}

/* Say on stderr which local address the kernel gave us, so a test can
 * compare it with what a server logs about its peer. */
static void report_local(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char text[SOCKADDR_STRLEN];

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		err(1, "getsockname");
	if (sockaddr_format((struct sockaddr *)&ss, len, text, sizeof(text)) == NULL)
		err(1, "sockaddr_format");
	fprintf(stderr, "local %s\n", text);
}

static int do_connect(const struct opts *o)
{
	int gai, fd = tcp_connect(o->host, o->port, &gai);
	char *data = NULL;
	size_t len = 0;
	long got;

	if (fd == -1 && gai != 0)
		errx(1, "%s: %s", o->host, gai_strerror(gai));
	if (fd == -1)
		err(1, "connect to %s:%s", o->host, o->port);
	report_local(fd);
	if (o->duplex && o->send_file != NULL) {
		data = slurp(o->send_file, &len);
		got = send_and_receive(fd, data, len, o);
		free(data);
		close(fd);
		if (got == -2) {
			fprintf(stderr, "tcpeer: nothing moved for %ld ms\n", o->idle_ms);
			return 3;
		}
		if (got == -1)
			err(1, "send or recv");
		return 0;
	}
	if (o->send_file != NULL) {
		data = slurp(o->send_file, &len);
		if (send_pieces(fd, data, len, o) == -1)
			err(1, "send");
		free(data);
	}
	if (o->reset) {
		reset_close(fd);
		return 0;
	}
	if (o->close_early) {
		close(fd);
		return 0;
	}
	if (o->shut_wr && shutdown(fd, SHUT_WR) == -1)
		err(1, "shutdown");
	got = recv_until_eof(fd, STDOUT_FILENO, NULL, NULL, o->idle_ms);
	close(fd);
	if (got == -2) {
		fprintf(stderr, "tcpeer: nothing received for %ld ms\n", o->idle_ms);
		return 3;
	}
	if (got == -1)
		err(1, "recv");
	return 0;
}

/* Receive LEN bytes into BUF unless EOF, an error or IDLE_MS of silence
 * comes first. Returns how many arrived. */
static long recv_request(int fd, char *buf, size_t len, long idle_ms)
{
	size_t got = 0;

	while (got < len && wait_readable(fd, idle_ms)) {
		ssize_t n = recv(fd, buf + got, len - got, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return (long)got;
}

static void serve_one(int cfd, const struct opts *o, const char *greet, size_t greet_len)
{
	char *got = NULL;
	size_t cap = 0;
	long n = 0;
	int record = -1;

	if (o->record_file != NULL &&
	    (record = open(o->record_file, O_WRONLY | O_CREAT | O_APPEND, 0644)) == -1)
		err(1, "open %s", o->record_file);
	if (o->read_first > 0) {
		char *want = malloc((size_t)o->read_first);
		if (want == NULL)
			err(1, "malloc");
		n = recv_request(cfd, want, (size_t)o->read_first, o->idle_ms);
		printf("received %ld bytes\n", n);
		fflush(stdout);
		free(want);
	}
	if (o->after_eof || o->echo) {
		n = recv_until_eof(cfd, record, o->echo ? &got : NULL, &cap, o->idle_ms);
		printf("received %ld bytes\n", n < 0 ? 0 : n);
		fflush(stdout);
	}
	if (o->echo && n > 0)
		send_pieces(cfd, got, (size_t)n, o);
	else if (greet != NULL)
		send_pieces(cfd, greet, greet_len, o);
	if (record != -1)
		close(record);
	free(got);
	close(cfd);
}

static int do_serve(const struct opts *o)
{
	int gai, lfd = tcp_listen(o->host, o->port, 16, &gai);
	char *greet = NULL;
	size_t greet_len = 0;

	if (lfd == -1 && gai != 0)
		errx(1, "%s: %s", o->host, gai_strerror(gai));
	if (lfd == -1)
		err(1, "listen on %s:%s", o->host, o->port);
	if (o->send_file != NULL)
		greet = slurp(o->send_file, &greet_len);
	if (announce_listener(lfd) == -1)
		err(1, "announce");
	for (long i = 0; i < o->count; i++) {
		int cfd = accept(lfd, NULL, NULL);
		if (cfd == -1) {
			if (errno == EINTR || errno == ECONNABORTED) {
				i--;
				continue;
			}
			err(1, "accept");
		}
		serve_one(cfd, o, greet, greet_len);
	}
	free(greet);
	close(lfd);
	return 0;
}

static long number(const char *text)
{
	long v;

	if (parse_long(text, 0, 1L << 40, &v) == -1)
		errx(2, "not a number: %s", text);
	return v;
}

int main(int argc, char **argv)
{
	struct opts o = {.host = "127.0.0.1", .port = "0", .idle_ms = 10000, .count = 1};
	int i = 2;

	if (argc < 2)
		usage();
	if (ignore_sigpipe() == -1)
		err(1, "sigaction");
	if (strcmp(argv[1], "serve") != 0) {
		if (argc < 4)
			usage();
		o.host = argv[2];
		o.port = argv[3];
		i = 4;
	}
	for (; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int takes = 1;
		if (!strcmp(a, "--send") && v)
			o.send_file = v;
		else if (!strcmp(a, "--record") && v)
			o.record_file = v;
		else if (!strcmp(a, "--host") && v)
			o.host = v;
		else if (!strcmp(a, "--port") && v)
			o.port = v;
		else if (!strcmp(a, "--chunk") && v)
			o.chunk = (size_t)number(v);
		else if (!strcmp(a, "--pause-ms") && v)
			o.pause_ms = number(v);
		else if (!strcmp(a, "--idle-ms") && v)
			o.idle_ms = number(v);
		else if (!strcmp(a, "-n") && v)
			o.count = number(v);
		else if (!strcmp(a, "--read-first") && v)
			o.read_first = number(v);
		else {
			takes = 0;
			if (!strcmp(a, "--shut-wr"))
				o.shut_wr = 1;
			else if (!strcmp(a, "--duplex"))
				o.duplex = 1;
			else if (!strcmp(a, "--close"))
				o.close_early = 1;
			else if (!strcmp(a, "--reset"))
				o.reset = 1;
			else if (!strcmp(a, "--after-eof"))
				o.after_eof = 1;
			else if (!strcmp(a, "--echo"))
				o.echo = 1;
			else
				usage();
		}
		i += takes;
	}
	if (!strcmp(argv[1], "connect"))
		return do_connect(&o);
	if (!strcmp(argv[1], "serve"))
		return do_serve(&o);
	if (!strcmp(argv[1], "probe")) {
		int gai, fd = tcp_connect(o.host, o.port, &gai);
		if (fd == -1)
			return 1;
		close(fd);
		return 0;
	}
	usage();
}
