/*
 * tests/lib/chat-crowd.c - a crowd of chat-room clients that checks what each
 * one receives.
 *
 * It opens many connections to a chat server (lesson 08), lets some of them
 * send numbered lines, and checks that every client receives every other
 * sender's lines, none of its own, each prefixed with the sender's address
 * ("[ADDR:PORT] "), and in the order each sender sent them. Lines starting
 * with "* " (joins and leaves) are ignored. It can also add clients that
 * misbehave on purpose, and time each delivery for the benchmark.
 *
 * Usage:
 *   chat-crowd HOST PORT [-c CLIENTS] [-s SENDERS] [-m LINES] [--size BYTES]
 *              [--pause-ms MS] [--victims K] [--stalled K] [--wait-stdin]
 *              [--timeout-ms MS] [--stall-ms MS] [--stats]
 *     -c          clients that read and check (default 3)
 *     -s          how many of them send (default: all)
 *     -m          lines each sender sends (default 10)
 *     --size      pad each line to about BYTES (default: no padding)
 *     --pause-ms  pause between rounds (a round: one line from each sender)
 *     --window    send round K only once every client has received rounds
 *                 up to K - WINDOW (default 4): a client that reads keeps up
 *                 however slow the machine, so the server never has reason
 *                 to drop it
 *     --victims   K more clients that reset (SO_LINGER 0) mid-broadcast,
 *                 one per round, just before its lines, without reading
 *     --stalled   K more clients with a tiny receive buffer that never read
 *     --expect-drop MS  after the rounds, each stalled client reads what is
 *                 left: the server must have closed (EOF) or reset its
 *                 connection, seen within MS, or that is a problem
 *     --wait-stdin  after connecting, print "connected N" and wait for a
 *                 line (or EOF) on stdin before sending: the test uses it to
 *                 wait until the server has seen everyone join
 *     --timeout-ms  give up this long after the first line is sent
 *                 (default 20000)
 *     --stall-ms  give up as soon as nothing at all has arrived for this
 *                 long while lines are still due (default 5000): a server
 *                 that relays nothing, or has stopped, fails in that time
 *                 instead of the whole --timeout-ms. Each connect is bounded
 *                 by three times as much, and at least 10 s (a server that
 *                 accepts nobody fills its listen queue, and connect() would
 *                 wait for minutes; a slow one may cost a SYN resent after 1,
 *                 3 and 7 s)
 *     --stats     print delivery rate and latency percentiles
 *   Prints "ok: ..." and exits 0 when every check passed; otherwise prints
 *   each problem (at most 20) and a "FAILED: ..." line, exit 1. Exit 2 on
 *   bad usage.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "net.h"
#include "tcp.h"

#define BUF_LEN 65536
#define MAX_PROBLEMS 20

struct member {
	int fd;
	char name[SOCKADDR_STRLEN]; /* how the server names us: our address */
	char *buf;                  /* received, not yet a complete line */
	size_t len;
	long got;   /* checked lines received */
	int eof;    /* the server closed */
	long *next; /* next line number expected from each sender */
};

static struct {
	long clients, senders, lines, size, pause_ms, victims, stalled, timeout_ms,
	    window, expect_drop_ms, stall_ms;
	int wait_stdin, stats;
} opt = {3, -1, 10, 0, 0, 0, 0, 20000, 4, 0, 5000, 0, 0};

static struct member *crowd;
static long problems;
static int64_t *latencies;
static size_t n_latencies;
/* When a checked client last received something (or saw the end), and
 * the longest time between two such moments while lines were due. */
static int64_t last_progress, longest_silence;

static _Noreturn void usage(void)
{
	fprintf(stderr, "usage: chat-crowd HOST PORT [-c N] [-s N] [-m N] [--size B] "
	                "[--pause-ms MS] [--victims K] [--stalled K] [--expect-drop MS] "
	                "[--wait-stdin] "
	                "[--timeout-ms MS] [--stall-ms MS] [--stats]\n");
	exit(2);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void problem(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void problem(const char *fmt, ...)
{
	va_list ap;

	if (problems++ >= MAX_PROBLEMS)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* How long one connect may take: 3 * opt.stall_ms, and at least 10 s. A
 * server whose listen queue is full makes the kernel drop the SYN, and
 * Linux sends it again 1, 3 and 7 s after the first: a correct server with a
 * small backlog, under a burst of clients, may cost a connect that long. */
static long connect_limit_ms(void)
{
	return 3 * opt.stall_ms < 10000 ? 10000 : 3 * opt.stall_ms;
}

/* Connect FD to AI within connect_limit_ms(). Returns 0, or -1 with errno
 * set (ETIMEDOUT when the handshake did not finish in time). */
static int connect_bounded(int fd, const struct addrinfo *ai)
{
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	int flags = fcntl(fd, F_GETFL), error = 0, rc;
	socklen_t len = sizeof(error);

	if (flags == -1 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		if (errno != EINPROGRESS)
			return -1;
		while ((rc = poll(&p, 1, (int)connect_limit_ms())) == -1 &&
		       errno == EINTR)
			;
		if (rc == -1)
			return -1;
		if (rc == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) == -1)
			return -1;
		if (error != 0) {
			errno = error;
			return -1;
		}
	}
	return fcntl(fd, F_SETFL, flags);
}

/* Connect one client; RCVBUF > 0 shrinks its receive buffer first, which
 * must happen before connect() to shrink the window the server sees. */
static int join(const char *host, const char *port, int rcvbuf, char *name)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM},
	                *res;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd, rc = getaddrinfo(host, port, &hints, &res);

	if (rc != 0)
		errx(1, "%s: %s", host, gai_strerror(rc));
	fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
	if (fd == -1)
		err(1, "socket");
	if (rcvbuf > 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) == -1)
		err(1, "setsockopt SO_RCVBUF");
	if (connect_bounded(fd, res) == -1) {
		if (errno == ETIMEDOUT)
			errx(1,
			     "connect to %s:%s: not accepted within %ld ms (is the "
			     "server still accepting? its listen queue may be full)",
			     host, port, connect_limit_ms());
		err(1, "connect to %s:%s", host, port);
	}
	freeaddrinfo(res);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1 ||
	    sockaddr_format((struct sockaddr *)&ss, len, name, SOCKADDR_STRLEN) == NULL)
		err(1, "getsockname");
	return fd;
}

/* Check one complete line LINE (no newline) received by client I. */
static void check_line(long i, char *line)
{
	struct member *m = &crowd[i];
	char *end;
	long from, num;
	long long sent;

	if (line[0] == '*' && line[1] == ' ')
		return;
	if (line[0] != '[' || (end = strstr(line, "] ")) == NULL) {
		problem("client %ld: a line without a '[SENDER] ' prefix: %.80s", i,
		        line);
		return;
	}
	*end = '\0';
	if (sscanf(end + 2, "c%ld m%ld t%lld", &from, &num, &sent) != 3 || from < 0 ||
	    from >= opt.senders) {
		problem("client %ld: a line that no sender sent: %.80s", i, end + 2);
		return;
	}
	if (from == i) {
		problem("client %ld: received its own line back: c%ld m%ld", i, from,
		        num);
		return;
	}
	if (strcmp(line + 1, crowd[from].name) != 0)
		problem("client %ld: line from %s has prefix [%s]", i, crowd[from].name,
		        line + 1);
	if (num != m->next[from])
		problem("client %ld: from client %ld expected line m%ld, got m%ld", i,
		        from, m->next[from], num);
	m->next[from] = num + 1;
	m->got++;
	if (latencies != NULL)
		latencies[n_latencies++] = now_ns() - sent;
}

/* Client I is readable: take what came and check each complete line. */
static void receive(long i)
{
	struct member *m = &crowd[i];
	ssize_t n = recv(m->fd, m->buf + m->len, BUF_LEN - 1 - m->len, 0);
	size_t start = 0;
	char *nl;

	if (n == -1 && errno == EINTR)
		return;
	if (now_ns() - last_progress > longest_silence)
		longest_silence = now_ns() - last_progress;
	last_progress = now_ns();
	if (n <= 0) {
		problem(
		    "client %ld: the server closed the connection (%s) after %ld lines",
		    i, n == 0 ? "EOF" : strerror(errno), m->got);
		m->eof = 1;
		return;
	}
	m->len += (size_t)n;
	while ((nl = memchr(m->buf + start, '\n', m->len - start)) != NULL) {
		*nl = '\0';
		check_line(i, m->buf + start);
		start = (size_t)(nl - m->buf) + 1;
	}
	if (start == 0 && m->len == BUF_LEN - 1) {
		problem("client %ld: a line longer than %d bytes", i, BUF_LEN);
		start = m->len;
	}
	memmove(m->buf, m->buf + start, m->len - start);
	m->len -= start;
}

/* Lines client I receives per round: one from each sender but itself. */
static long per_round(long i)
{
	return opt.senders - (i < opt.senders ? 1 : 0);
}

static long expected_for(long i)
{
	return per_round(i) * opt.lines;
}

/* Receive on every client for up to WAIT_MS; returns how many still wait. */
static long pump(struct pollfd *pfds, long wait_ms)
{
	long waiting = 0;

	for (long i = 0; i < opt.clients; i++) {
		int done = crowd[i].eof || crowd[i].got >= expected_for(i);
		pfds[i].fd = done ? -1 : crowd[i].fd;
		pfds[i].events = POLLIN;
		waiting += !done;
	}
	if (waiting == 0)
		return 0;
	int rc = poll(pfds, (nfds_t)opt.clients, (int)wait_ms);
	if (rc == -1 && errno != EINTR)
		err(1, "poll");
	for (long i = 0; rc > 0 && i < opt.clients; i++)
		if (pfds[i].fd != -1 && pfds[i].revents != 0)
			receive(i);
	return waiting;
}

/* Whether nothing has arrived for opt.stall_ms: take what is there first,
 * since this process may itself have been kept off the CPU. Reports the
 * stall once. */
static int stall_reported;

static int stalled(struct pollfd *pfds)
{
	if (now_ns() - last_progress < (int64_t)opt.stall_ms * 1000000)
		return 0;
	if (pump(pfds, 0) == 0 ||
	    now_ns() - last_progress < (int64_t)opt.stall_ms * 1000000)
		return 0;
	if (!stall_reported)
		problem("nothing arrived for %ld ms while lines were due: the server "
		        "relays nothing, or has stopped",
		        opt.stall_ms);
	stall_reported = 1;
	return 1;
}

/* Whether some client still waits for lines of rounds before ROUND. */
static int lagging(long round)
{
	for (long i = 0; i < opt.clients; i++)
		if (!crowd[i].eof && crowd[i].got < round * per_round(i))
			return 1;
	return 0;
}

/* Send line K of sender I. */
static void send_line(long i, long k)
{
	char line[70000];
	int len =
	    snprintf(line, sizeof(line), "c%ld m%ld t%lld ", i, k, (long long)now_ns());

	while (len < opt.size - 1 && len < (int)sizeof(line) - 2)
		line[len] = (char)('a' + (i + len) % 26), len++;
	line[len++] = '\n';
	if (send_all(crowd[i].fd, line, (size_t)len) == -1) {
		problem("client %ld: send failed: %s", i, strerror(errno));
		crowd[i].eof = 1;
	}
}

static void reset_close(int fd)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == -1)
		err(1, "setsockopt SO_LINGER");
	close(fd);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static void print_stats(int64_t t0, int64_t t1)
{
	double secs = (double)(t1 - t0) / 1e9;

	qsort(latencies, n_latencies, sizeof(*latencies), cmp_i64);
	printf("delivered %zu lines in %.2f s: %.0f lines/s; latency p50 %.2f ms, p99 "
	       "%.2f ms\n",
	       n_latencies, secs, secs > 0 ? (double)n_latencies / secs : 0.0,
	       n_latencies ? (double)latencies[n_latencies / 2] / 1e6 : 0.0,
	       n_latencies ? (double)latencies[n_latencies * 99 / 100] / 1e6 : 0.0);
}

static long number(const char *text)
{
	long v;

	if (text == NULL || parse_long(text, 0, 100000000L, &v) == -1)
		usage();
	return v;
}

static void parse_args(int argc, char **argv)
{
	for (int i = 3; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--wait-stdin"))
			opt.wait_stdin = 1;
		else if (!strcmp(a, "--stats"))
			opt.stats = 1;
		else if (!strcmp(a, "-c"))
			opt.clients = number(v), i++;
		else if (!strcmp(a, "-s"))
			opt.senders = number(v), i++;
		else if (!strcmp(a, "-m"))
			opt.lines = number(v), i++;
		else if (!strcmp(a, "--size"))
			opt.size = number(v), i++;
		else if (!strcmp(a, "--pause-ms"))
			opt.pause_ms = number(v), i++;
		else if (!strcmp(a, "--victims"))
			opt.victims = number(v), i++;
		else if (!strcmp(a, "--window"))
			opt.window = number(v), i++;
		else if (!strcmp(a, "--stalled"))
			opt.stalled = number(v), i++;
		else if (!strcmp(a, "--expect-drop"))
			opt.expect_drop_ms = number(v), i++;
		else if (!strcmp(a, "--timeout-ms"))
			opt.timeout_ms = number(v), i++;
		else if (!strcmp(a, "--stall-ms"))
			opt.stall_ms = number(v), i++;
		else
			usage();
	}
	if (opt.senders < 0 || opt.senders > opt.clients)
		opt.senders = opt.clients;
	if (opt.clients < 1 || opt.stall_ms < 1 || opt.stall_ms > 600000)
		usage();
}

/* Read FD until the server closes or resets it, until END (now_ns() time):
 * 1 if it did, 0 if the connection was still open then. */
static int closed_by_server(int fd, int64_t end)
{
	static char sink[BUF_LEN];

	for (;;) {
		int64_t left = (end - now_ns()) / 1000000;
		struct pollfd p = {fd, POLLIN, 0};
		int rc;
		ssize_t n;

		if (left <= 0)
			return 0;
		rc = poll(&p, 1, (int)left);
		if (rc == -1 && errno == EINTR)
			continue;
		if (rc == -1)
			err(1, "poll");
		if (rc == 0)
			return 0;
		n = recv(fd, sink, sizeof(sink), 0);
		if (n == 0)
			return 1;
		if (n == -1 && errno != EINTR && errno != EAGAIN)
			return 1; /* ECONNRESET: a reset is a close too */
	}
}

int main(int argc, char **argv)
{
	long total = 0, want = 0;
	int *extra;
	char ignored[SOCKADDR_STRLEN];
	struct pollfd *pfds;
	int64_t t0, deadline;

	if (argc < 3)
		usage();
	parse_args(argc, argv);
	if (ignore_sigpipe() == -1)
		err(1, "sigaction");
	crowd = calloc((size_t)opt.clients, sizeof(*crowd));
	pfds = calloc((size_t)opt.clients, sizeof(*pfds));
	extra = calloc((size_t)(opt.victims + opt.stalled + 1), sizeof(*extra));
	if (crowd == NULL || pfds == NULL || extra == NULL)
		err(1, "calloc");
	for (long i = 0; i < opt.clients; i++) {
		crowd[i].fd = join(argv[1], argv[2], 0, crowd[i].name);
		crowd[i].buf = malloc(BUF_LEN);
		crowd[i].next = calloc((size_t)opt.senders + 1, sizeof(long));
		if (crowd[i].buf == NULL || crowd[i].next == NULL)
			err(1, "malloc");
		want += expected_for(i);
	}
	for (long k = 0; k < opt.victims + opt.stalled; k++)
		extra[k] = join(argv[1], argv[2], k < opt.victims ? 0 : 4096, ignored);
	if (opt.stats &&
	    (latencies = malloc((size_t)(want + 1) * sizeof(*latencies))) == NULL)
		err(1, "malloc");
	printf("connected %ld\n", opt.clients + opt.victims + opt.stalled);
	fflush(stdout);
	if (opt.wait_stdin) {
		char c;
		while (read(STDIN_FILENO, &c, 1) == 1 && c != '\n')
			;
	}

	t0 = last_progress = now_ns();
	deadline = t0 + (int64_t)opt.timeout_ms * 1000000;
	for (long k = 0; k < opt.lines; k++) {
		while (lagging(k - opt.window) && now_ns() < deadline && !stalled(pfds))
			pump(pfds, 10);
		/* A full page of problems decides it: the rest of the rounds
		 * would only take their time (a garbled room ran to its deadline). */
		if (stalled(pfds) || problems >= MAX_PROBLEMS)
			break;
		/* Reset the victims one round at a time, each just before a round
		 * of lines: the server then broadcasts while the reset is arriving,
		 * which is when a send to a dead connection can raise SIGPIPE. The
		 * rest go at the last round, if there are more victims than rounds. */
		for (long v = k; v < opt.victims && (v == k || k == opt.lines - 1); v++)
			reset_close(extra[v]);
		for (long i = 0; i < opt.senders; i++)
			if (!crowd[i].eof)
				send_line(i, k);
		/* Keep reading between rounds, so the server never finds us slow. */
		int64_t round_end = now_ns() + opt.pause_ms * 1000000;
		do
			pump(pfds, 0);
		while (now_ns() < round_end && pump(pfds, 1) > 0);
		if (now_ns() > deadline)
			break;
	}
	while (now_ns() < deadline && !stalled(pfds) && problems < MAX_PROBLEMS &&
	       pump(pfds, 50) > 0)
		;
	int64_t t1 = now_ns();

	for (long i = 0; i < opt.clients; i++) {
		total += crowd[i].got;
		if (!crowd[i].eof && crowd[i].got < expected_for(i))
			problem("client %ld: received %ld of %ld lines before it gave up",
			        i, crowd[i].got, expected_for(i));
	}
	/* When the lines did not all come, the room failed already: the drop
	 * is not waited for. */
	if (opt.expect_drop_ms > 0 && problems == 0) {
		int64_t end = now_ns() + (int64_t)opt.expect_drop_ms * 1000000;
		for (long k = opt.victims; k < opt.victims + opt.stalled; k++)
			if (!closed_by_server(extra[k], end))
				problem(
				    "stalled client %ld: its connection was still open "
				    "%ld ms "
				    "after the last round (the server never closed it)",
				    k - opt.victims, opt.expect_drop_ms);
	}
	if (opt.stats)
		print_stats(t0, t1);
	if (problems > 0)
		printf("FAILED: %ld problem(s); %ld of %ld lines received%s\n", problems,
		       total, want,
		       stall_reported ? "; it gave up when nothing arrived for --stall-ms"
		                      : "");
	else
		printf("ok: %ld clients, %ld senders x %ld lines: all %ld deliveries "
		       "arrived, in "
		       "order, none to its sender (longest silence %lld ms)\n",
		       opt.clients, opt.senders, opt.lines, want,
		       (long long)(longest_silence / 1000000));
	fflush(stdout);
	for (long i = 0; i < opt.clients; i++) {
		close(crowd[i].fd);
		free(crowd[i].buf);
		free(crowd[i].next);
	}
	for (long k = opt.victims; k < opt.victims + opt.stalled; k++)
		close(extra[k]);
	free(crowd);
	free(pfds);
	free(extra);
	free(latencies);
	return problems > 0;
}
