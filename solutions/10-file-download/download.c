/*
 * Lesson 10 - download: fetch one file from file-server, all or nothing.
 *
 * Sends the file NAME as one frame, reads the status byte, and on success
 * streams exactly the announced number of bytes into a temporary file next
 * to DEST, renaming it into place only when every byte has arrived. On any
 * failure (the server refuses, the connection breaks, the disk is full,
 * Ctrl-C) the temporary file is removed: DEST is either the whole file or
 * untouched. With a terminal on stderr, a progress bar shows bytes, total,
 * rate and time left.
 *
 * Usage: download HOST PORT NAME [DEST]
 *   DEST defaults to NAME in the current directory.
 * Prints "saved DEST (SIZE bytes)" on success and exits 0; otherwise one
 * error line on stderr (the server's message when it refused) and exit 1.
 *
 * Try:
 *   file-server /tmp/pub 0                      note the port it prints
 *   download 127.0.0.1 PORT hi.txt /tmp/hi.txt  saved, with a progress bar
 *   download 127.0.0.1 PORT nothere /tmp/x 2>&1 | cat
 *                          "download: nothere: no such file", no bar, no /tmp/x
 */
#include <err.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"
#include "io.h"
#include "net.h"
#include "tcp.h"

#define CHUNK (256 * 1024)  /* bytes per recv: the only buffer the file passes */
#define MESSAGE_LIMIT 4096  /* the longest error message we accept */
#define REDRAW_NS 100000000 /* redraw the progress bar at most every 0.1 s */

/* The temporary file, for the signal handler to remove ("" when none). */
static char temp_path[4096];

// [snippet progress]
struct progress {
	int shown;               /* stderr is a terminal */
	uint64_t done, total;    /* bytes */
	struct timespec started; /* when the first byte was asked for */
	struct timespec drawn;   /* when the bar was last drawn */
};

static double seconds_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* Write BYTES as "812 B", "1.5 KiB", "3.0 MiB"... into BUF. */
static char *human(double bytes, char *buf, size_t size)
{
	const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	int u = 0;

	while (bytes >= 1024 && u < 4) {
		bytes /= 1024;
		u++;
	}
	snprintf(buf, size, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
	return buf;
}

/* Draw "DONE / TOTAL  PCT%  RATE/s  ETA M:SS" over the current line, at most
 * every REDRAW_NS unless FINAL, which also ends the line. */
static void progress_draw(struct progress *p, int final)
{
	char done[16], total[16], rate_text[16], line[128];
	struct timespec now;
	double elapsed, rate, left;

	if (!p->shown)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!final && seconds_between(&p->drawn, &now) * 1e9 < REDRAW_NS)
		return;
	p->drawn = now;
	elapsed = seconds_between(&p->started, &now);
	rate = elapsed > 0 ? (double)p->done / elapsed : 0;
	left = rate > 0 ? (double)(p->total - p->done) / rate : 0;
	snprintf(line, sizeof(line), "\r%s / %s  %3d%%  %s/s  ETA %d:%02d  %s",
	         human((double)p->done, done, sizeof(done)),
	         human((double)p->total, total, sizeof(total)),
	         p->total ? (int)(100 * p->done / p->total) : 100,
	         human(rate, rate_text, sizeof(rate_text)), (int)left / 60,
	         (int)left % 60, final ? "\n" : "");
	/* stderr is unbuffered: one fputs is one write, no half-drawn bar. */
	fputs(line, stderr);
}
// [end progress]

/* SIGINT, SIGTERM, SIGHUP: remove the temporary file, then die of the
 * signal as usual. unlink() is safe to call in a handler; remove() is not. */
static void on_fatal_signal(int sig)
{
	if (temp_path[0] != '\0')
		unlink(temp_path);
	signal(sig, SIG_DFL);
	raise(sig);
}

static int catch_fatal_signals(void)
{
	struct sigaction sa;
	const int sigs[] = {SIGINT, SIGTERM, SIGHUP};

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fatal_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) == -1)
			return -1;
	return 0;
}

// [snippet temp_file]
/* mkstemp() makes a name unique by rewriting the last six characters of its
 * template, which must all be 'X'. */
#define MKSTEMP_UNIQUE 6

/*
 * Create an empty temporary file next to DEST ("DEST.part-" and six unique
 * characters), its name in temp_path, with the signals that remove it held
 * off until the name is complete. Returns the descriptor, or -1 with errno set.
 */
static int create_temp(const char *dest)
{
	sigset_t fatal, old;
	int fd, saved, len;

	len = snprintf(temp_path, sizeof(temp_path), "%s.part-%*s", dest, MKSTEMP_UNIQUE,
	               "");
	if (len < 0 || (size_t)len >= sizeof(temp_path)) {
		temp_path[0] = '\0';
		errno = ENAMETOOLONG;
		return -1;
	}
	memset(temp_path + len - MKSTEMP_UNIQUE, 'X', MKSTEMP_UNIQUE);
	sigemptyset(&fatal);
	sigaddset(&fatal, SIGINT);
	sigaddset(&fatal, SIGTERM);
	sigaddset(&fatal, SIGHUP);
	sigprocmask(SIG_BLOCK, &fatal, &old);
	fd = mkstemp(temp_path);
	saved = errno;
	if (fd == -1)
		temp_path[0] = '\0';
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return fd;
}

/* Give the finished file the usual permissions (mkstemp made it 0600),
 * then move it into place in one step: readers see all of it or none. */
static int finish_temp(int fd, const char *dest)
{
	mode_t mask = umask(0);

	umask(mask);
	if (fchmod(fd, 0666 & ~mask) == -1 || close(fd) == -1)
		return -1;
	if (rename(temp_path, dest) == -1)
		return -1;
	temp_path[0] = '\0';
	return 0;
}
// [end temp_file]

// [snippet receive_file]
/*
 * Receive exactly SIZE bytes from CFD into FD, drawing progress. Returns 0,
 * or -1 after a warning (the connection broke, the disk is full...).
 */
static int receive_file(int cfd, int fd, uint64_t size, struct progress *p)
{
	static char buf[CHUNK];

	while (p->done < size) {
		uint64_t left = size - p->done;
		ssize_t n = recv(cfd, buf, left < CHUNK ? (size_t)left : CHUNK, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			warn("receive");
			return -1;
		}
		if (n == 0) {
			warnx("the connection closed after %llu of %llu bytes",
			      (unsigned long long)p->done, (unsigned long long)size);
			return -1;
		}
		if (write_all(fd, buf, (size_t)n) == -1) {
			warn("write %s", temp_path);
			return -1;
		}
		p->done += (uint64_t)n;
		progress_draw(p, 0);
	}
	progress_draw(p, 1);
	return 0;
}
// [end receive_file]

/*
 * Read the answer's status byte; for a refusal, report the server's message.
 * Returns 0 if the file follows, -1 after a message otherwise.
 */
static int read_status(int cfd, const char *name)
{
	unsigned char status;
	char *message;
	size_t len;
	ssize_t n = frame_recv_all(cfd, &status, 1);

	if (n == -1) {
		warn("receive");
		return -1;
	}
	if (n == 0) {
		warnx("%s: the server closed the connection without answering", name);
		return -1;
	}
	if (status == 0)
		return 0;
	if (frame_recv(cfd, MESSAGE_LIMIT, &message, &len) != 1) {
		warnx("%s: refused (status %u) without a readable message", name, status);
		return -1;
	}
	warnx("%s: %s (status %u)", name, message, status);
	free(message);
	return -1;
}

/* Read the 8-byte size that follows status 0. Returns 0, or -1 after a
 * warning. */
static int read_size(int cfd, uint64_t *size)
{
	unsigned char bytes[8];
	ssize_t n = frame_recv_all(cfd, bytes, sizeof(bytes));

	if (n != (ssize_t)sizeof(bytes)) {
		if (n == -1)
			warn("receive");
		else
			warnx("the connection closed inside the size");
		return -1;
	}
	*size = 0;
	for (int i = 0; i < 8; i++)
		*size = *size << 8 | bytes[i];
	return 0;
}

/* Where to save NAME when no DEST is given: its last part, if that is a
 * plain name. Returns NULL if there is no safe choice. */
static const char *default_dest(const char *name)
{
	const char *base = strrchr(name, '/');

	base = base ? base + 1 : name;
	return base[0] == '\0' || base[0] == '.' ? NULL : base;
}

static _Noreturn void usage(void)
{
	fprintf(stderr, "usage: download HOST PORT NAME [DEST]\n");
	exit(2);
}

int main(int argc, char *argv[])
{
	struct progress p = {0};
	uint64_t size;
	int gai, cfd, fd;

	if (argc < 4 || argc > 5)
		usage();
	const char *host = argv[1], *port = argv[2], *name = argv[3];
	const char *dest = argc == 5 ? argv[4] : default_dest(name);
	if (dest == NULL)
		usage();

	if (ignore_sigpipe() == -1 || catch_fatal_signals() == -1)
		err(1, "sigaction");
	cfd = tcp_connect(host, port, &gai);
	if (cfd == -1 && gai != 0)
		errx(1, "%s: %s", host, gai_strerror(gai));
	if (cfd == -1)
		err(1, "connect to %s:%s", host, port);
	if (frame_send(cfd, name, strlen(name)) == -1)
		err(1, "send request");
	/* Nothing is created until the server said yes. */
	if (read_status(cfd, name) == -1 || read_size(cfd, &size) == -1)
		exit(1);

	if ((fd = create_temp(dest)) == -1)
		err(1, "create a temporary file for %s", dest);
	p.shown = isatty(STDERR_FILENO);
	p.total = size;
	clock_gettime(CLOCK_MONOTONIC, &p.started);
	if (receive_file(cfd, fd, size, &p) == -1) {
		unlink(temp_path);
		exit(1);
	}
	if (finish_temp(fd, dest) == -1) {
		warn("save %s", dest);
		unlink(temp_path);
		exit(1);
	}
	close(cfd);
	printf("saved %s (%llu bytes)\n", dest, (unsigned long long)size);
	return 0;
}
