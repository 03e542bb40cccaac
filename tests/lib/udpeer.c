/*
 * tests/lib/udpeer.c - a scriptable UDP peer for the test suites.
 *
 * It plays the other end of a lesson's UDP program, well or badly on purpose:
 * drops datagrams, never answers, or answers first from an address the
 * client never wrote to. Every wait is bounded, so a test never hangs.
 *
 * Usage:
 *   udpeer serve [--host H] [--port P] [-n COUNT] [--drop N] [--silent]
 *                [--reply-file F] [--spoof-from ADDR] [--gap-ms MS]
 *       Bind H:P (default 127.0.0.1, port 0), print "listening on ADDR:PORT",
 *       then for each datagram print "got N bytes from ADDR:PORT" and:
 *       drop it ("dropped") while fewer than N have been dropped; with
 *       --silent, never answer; otherwise answer with the contents of F (or
 *       echo the datagram) and print "replied N bytes". With --spoof-from,
 *       first send "spoofed reply" from another socket bound to ADDR, on
 *       the server's own port if it is free there (the same port on another
 *       address), else on a port the kernel picks ("spoofed from
 *       ADDR:PORT"); then wait MS (default 100) before the real answer. Exit 0 after COUNT datagrams
 *       (default: never).
 *   udpeer talk HOST PORT [--sockets K] [--wait-ms MS] [--from ADDR] STEP...
 *       Open K client sockets (default 1), numbered from 0, each bound to
 *       ADDR (port 0) with --from (an address the kernel would not pick as
 *       the source), and run the steps in order:
 *         send:I:FILE   send FILE's bytes as one datagram from socket I
 *                       ("socket I sent N bytes")
 *         recv:I:FILE   wait up to MS (default 5000) for one datagram on
 *                       socket I and write it to FILE ("socket I got N
 *                       bytes from ADDR:PORT"); exit 3 if none came
 *         drain:MS      wait MS on every socket; report each datagram that
 *                       arrives as "... (unexpected)"; exit 4 at the end if
 *                       any did
 *       Exit 0 when every step went as planned, 1 on an error.
 */
#include <errno.h>
#include <err.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net.h"

/* Larger than any UDP datagram (65,507 bytes over IPv4, 65,527 over IPv6),
 * so nothing this peer receives is ever cut short. */
#define DGRAM_MAX 65536
#define MAX_SOCKETS 8

static char buf[DGRAM_MAX];

static _Noreturn void usage(void)
{
	fprintf(stderr,
	        "usage: udpeer serve [options] | talk HOST PORT [options] STEP...\n");
	exit(2);
}

static long number(const char *text)
{
	long v;

	if (parse_long(text, 0, 1L << 30, &v) == -1)
		errx(2, "not a number: %s", text);
	return v;
}

static void pause_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Read all of PATH (at most DGRAM_MAX bytes) into a malloc'd buffer. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data = malloc(DGRAM_MAX);

	if (f == NULL)
		err(1, "open %s", path);
	if (data == NULL)
		err(1, "malloc");
	*len = fread(data, 1, DGRAM_MAX, f);
	if (ferror(f))
		err(1, "read %s", path);
	fclose(f);
	return data;
}

static void write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL)
		err(1, "open %s", path);
	if (len > 0 && fwrite(data, 1, len, f) != len)
		err(1, "write %s", path);
	if (fclose(f) == EOF)
		err(1, "close %s", path);
}

static const char *show(const struct sockaddr_storage *ss, socklen_t len)
{
	static char text[SOCKADDR_STRLEN];

	if (sockaddr_format((const struct sockaddr *)ss, len, text, sizeof(text)) == NULL)
		return "(unknown)";
	return text;
}

/* Resolve HOST PORT (numeric or names) for a UDP socket; first answer wins. */
static struct addrinfo *resolve(const char *host, const char *port, int passive)
{
	struct addrinfo hints, *res;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = passive ? AI_PASSIVE : 0;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0)
		errx(1, "%s: %s", host, gai_strerror(rc));
	return res;
}

static int bound_socket(const char *host, const char *port)
{
	struct addrinfo *res = resolve(host, port, 1);
	int fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);

	if (fd == -1)
		err(1, "socket");
	if (bind(fd, res->ai_addr, res->ai_addrlen) == -1)
		err(1, "bind %s:%s", host, port);
	freeaddrinfo(res);
	return fd;
}

/* Wait until FD is readable or MS pass. Returns 1 readable, 0 timed out. */
static int wait_readable(int fd, long ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int rc;

	while ((rc = poll(&p, 1, (int)ms)) == -1 && errno == EINTR)
		;
	if (rc == -1)
		err(1, "poll");
	return rc;
}

// [snippet udpeer_receive]
/* Receive one datagram on FD into BUF; *FROM and *FROM_LEN get its sender. */
static ssize_t receive(int fd, struct sockaddr_storage *from, socklen_t *from_len)
{
	ssize_t n;

	do {
		*from_len = sizeof(*from);
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)from, from_len);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		err(1, "recvfrom");
	return n;
}
// [end udpeer_receive]

/* Print one line of the log a test reads, at once. */
#define say(...) (printf(__VA_ARGS__), fflush(stdout))

// [snippet udpeer_spoof]
/* Send "spoofed reply" to TO from a fresh socket on SPOOF_HOST: on PORT if
 * that is free there, else on a port the kernel picks. */
static void send_spoofed(const char *spoof_host, const char *port,
                         const struct sockaddr_storage *to, socklen_t to_len)
{
	static const char fake[] = "spoofed reply";
	struct sockaddr_storage self;
	socklen_t self_len = sizeof(self);
	struct addrinfo *res = resolve(spoof_host, port, 1);
	int fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);

	if (fd == -1)
		err(1, "socket");
	if (bind(fd, res->ai_addr, res->ai_addrlen) == -1) {
		close(fd);
		fd = bound_socket(spoof_host, "0");
	}
	freeaddrinfo(res);

	if (getsockname(fd, (struct sockaddr *)&self, &self_len) == -1)
		err(1, "getsockname");
	if (sendto(fd, fake, sizeof(fake) - 1, 0, (const struct sockaddr *)to, to_len) ==
	    -1)
		err(1, "sendto (spoofed)");
	say("spoofed from %s\n", show(&self, self_len));
	close(fd);
}
// [end udpeer_spoof]

static int do_serve(int argc, char **argv)
{
	const char *host = "127.0.0.1", *port = "0", *reply_file = NULL, *spoof = NULL;
	long count = -1, drop = 0, gap_ms = 100, dropped = 0;
	int silent = 0, fd;
	char *reply = NULL, own_port[8];
	size_t reply_len = 0;
	struct sockaddr_storage self;
	socklen_t self_len = sizeof(self);

	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--silent")) {
			silent = 1;
			continue;
		}
		if (v == NULL)
			usage();
		if (!strcmp(a, "--host"))
			host = v;
		else if (!strcmp(a, "--port"))
			port = v;
		else if (!strcmp(a, "-n"))
			count = number(v);
		else if (!strcmp(a, "--drop"))
			drop = number(v);
		else if (!strcmp(a, "--reply-file"))
			reply_file = v;
		else if (!strcmp(a, "--spoof-from"))
			spoof = v;
		else if (!strcmp(a, "--gap-ms"))
			gap_ms = number(v);
		else
			usage();
		i++;
	}
	if (reply_file != NULL)
		reply = slurp(reply_file, &reply_len);
	fd = bound_socket(host, port);
	if (announce_listener(fd) == -1)
		err(1, "announce");
	if (getsockname(fd, (struct sockaddr *)&self, &self_len) == -1)
		err(1, "getsockname");
	snprintf(own_port, sizeof(own_port), "%s",
	         strrchr(show(&self, self_len), ':') + 1);
	for (long seen = 0; count < 0 || seen < count; seen++) {
		struct sockaddr_storage from;
		socklen_t from_len;
		ssize_t n = receive(fd, &from, &from_len);

		say("got %ld bytes from %s\n", (long)n, show(&from, from_len));
		if (dropped < drop) {
			dropped++;
			say("dropped\n");
			continue;
		}
		if (silent)
			continue;
		if (spoof != NULL) {
			send_spoofed(spoof, own_port, &from, from_len);
			/* Let the fake arrive first, as an attacker racing the
			 * server would hope. */
			pause_ms(gap_ms);
		}
		const char *data = reply != NULL ? reply : buf;
		size_t len = reply != NULL ? reply_len : (size_t)n;
		if (sendto(fd, data, len, 0, (struct sockaddr *)&from, from_len) == -1)
			err(1, "sendto");
		say("replied %zu bytes\n", len);
	}
	free(reply);
	close(fd);
	return 0;
}

/* Parse "WORD:I:FILE" (or "WORD:MS"); returns the number, sets *FILE. */
static long step_arg(const char *step, const char **file, int nsock)
{
	const char *p = strchr(step, ':');
	char num[16];
	size_t n;

	if (p == NULL)
		errx(2, "bad step: %s", step);
	p++;
	n = strcspn(p, ":");
	if (n == 0 || n >= sizeof(num))
		errx(2, "bad step: %s", step);
	memcpy(num, p, n);
	num[n] = '\0';
	*file = p[n] == ':' ? p + n + 1 : NULL;
	long v = number(num);
	if (*file != NULL && v >= nsock)
		errx(2, "no socket %ld in step %s", v, step);
	return v;
}

/* Report every datagram arriving on any socket during MS. Returns how many. */
static int drain(const int *fds, int nsock, long ms)
{
	struct pollfd p[MAX_SOCKETS];
	struct timespec start, now;
	int extra = 0;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		long spent = (now.tv_sec - start.tv_sec) * 1000 +
		             (now.tv_nsec - start.tv_nsec) / 1000000;
		if (spent >= ms)
			return extra;
		for (int i = 0; i < nsock; i++)
			p[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
		int rc = poll(p, (nfds_t)nsock, (int)(ms - spent));
		if (rc == -1 && errno == EINTR)
			continue;
		if (rc == -1)
			err(1, "poll");
		for (int i = 0; i < nsock; i++) {
			if (!(p[i].revents & POLLIN))
				continue;
			struct sockaddr_storage from;
			socklen_t from_len;
			ssize_t n = receive(fds[i], &from, &from_len);
			printf("socket %d got %ld bytes from %s (unexpected)\n", i,
			       (long)n, show(&from, from_len));
			fflush(stdout);
			extra++;
		}
	}
}

static int do_talk(int argc, char **argv)
{
	int fds[MAX_SOCKETS], nsock = 1, status = 0, i = 4;
	long wait_ms = 5000;
	const char *from = NULL;
	struct addrinfo *to;

	if (argc < 4)
		usage();
	for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (!strcmp(argv[i], "--sockets"))
			nsock = (int)number(argv[i + 1]);
		else if (!strcmp(argv[i], "--wait-ms"))
			wait_ms = number(argv[i + 1]);
		else if (!strcmp(argv[i], "--from"))
			from = argv[i + 1];
		else
			usage();
	}
	if (nsock < 1 || nsock > MAX_SOCKETS)
		errx(2, "--sockets: 1 to %d", MAX_SOCKETS);
	to = resolve(argv[2], argv[3], 0);
	for (int s = 0; s < nsock; s++) {
		if (from != NULL)
			fds[s] = bound_socket(from, "0");
		else if ((fds[s] = socket(to->ai_family, to->ai_socktype,
		                          to->ai_protocol)) == -1)
			err(1, "socket");
	}
	for (; i < argc; i++) {
		const char *step = argv[i], *file;
		long v = step_arg(step, &file, nsock);

		if (!strncmp(step, "send:", 5) && file != NULL) {
			size_t len;
			char *data = slurp(file, &len);
			if (sendto(fds[v], data, len, 0, to->ai_addr, to->ai_addrlen) ==
			    -1)
				err(1, "sendto");
			printf("socket %ld sent %zu bytes\n", v, len);
			free(data);
		} else if (!strncmp(step, "recv:", 5) && file != NULL) {
			struct sockaddr_storage from;
			socklen_t from_len;
			if (!wait_readable(fds[v], wait_ms)) {
				printf("socket %ld got nothing within %ld ms\n", v,
				       wait_ms);
				status = 3;
				break;
			}
			ssize_t n = receive(fds[v], &from, &from_len);
			write_file(file, buf, (size_t)n);
			printf("socket %ld got %ld bytes from %s\n", v, (long)n,
			       show(&from, from_len));
		} else if (!strncmp(step, "drain:", 6) && file == NULL) {
			if (drain(fds, nsock, v) > 0)
				status = 4;
		} else {
			errx(2, "bad step: %s", step);
		}
		fflush(stdout);
	}
	fflush(stdout);
	freeaddrinfo(to);
	for (int s = 0; s < nsock; s++)
		close(fds[s]);
	return status;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "serve"))
		return do_serve(argc, argv);
	if (!strcmp(argv[1], "talk"))
		return do_talk(argc, argv);
	usage();
}
