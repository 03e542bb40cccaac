/*
 * Lesson 10 - file-server: serve the regular files of one directory, safely.
 *
 * YOUR COPY: fill in TODOs 1 to 3 below (4 to 6 are in download.c);
 * `make check LESSON=10` tells you how far you are. The chapter is
 * lessons/10-file-download/README.md.
 *
 * A client sends one frame holding a file name. The server answers with one
 * status byte: 0 and then the file (an 8-byte size in network byte order and
 * exactly that many bytes), or 1 (not found), 2 (refused: an unsafe name, a
 * link, a directory, a FIFO...) or 3 (server error), each followed by one
 * frame with a message. Only regular files directly inside ROOT are served;
 * names with '/', hidden names and symbolic links are refused. Each client
 * has its own thread, and a file streams through a fixed buffer, so memory
 * stays flat whatever the file's size.
 *
 * Usage: file-server [-n COUNT] ROOT PORT [ADDRESS]
 *   PORT     0 lets the kernel choose; ADDRESS defaults to 127.0.0.1
 *   -n       stop accepting after COUNT clients, finish them, exit 0
 * Prints one line per event: "listening on ADDR:PORT", then per client one
 * of "sent NAME (SIZE bytes)", "not found NAME", "refused NAME: WHY",
 * "error NAME: WHY", "aborted NAME: WHY" (the transfer broke off) or
 * "bad request: WHY".
 *
 * Try:
 *   mkdir -p /tmp/pub; echo hello >/tmp/pub/hi.txt; file-server /tmp/pub 0
 *   download 127.0.0.1 PORT hi.txt /tmp/hi.txt    "sent hi.txt (6 bytes)"
 *   download 127.0.0.1 PORT ../etc/passwd /tmp/x  refused: status 2
 *   mkfifo /tmp/pub/pipe; download 127.0.0.1 PORT pipe /tmp/x
 *                                       refused at once: a FIFO never blocks
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "frame.h"
#include "io.h"
#include "net.h"
#include "tcp.h"

enum status { OK = 0, NOT_FOUND = 1, REFUSED = 2, SERVER_ERROR = 3 };

#define NAME_LIMIT 255        /* the longest name a request may hold */
#define CHUNK (256 * 1024)    /* bytes per read: the only per-client buffer */
#define IDLE_LIMIT_SECONDS 30 /* a client silent this long is dropped */

static int root_fd; /* the served directory; read-only once set */

/* Clients still being served, so that -n can wait for the last one. */
static pthread_mutex_t active_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t all_done = PTHREAD_COND_INITIALIZER;
static long active;

/* Print one event line and flush it. One thread at a time, so lines from
 * different clients never mix. */
static void say(const char *fmt, ...)
{
	va_list ap;

	flockfile(stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
	funlockfile(stdout);
}

/* Copy NAME into OUT for the log, bytes that are not printable as '?': a
 * name is whatever the client sent, newlines and escapes included. */
static const char *printable(const char *name, size_t len, char out[NAME_LIMIT + 1])
{
	size_t i;

	for (i = 0; i < len && i < NAME_LIMIT; i++)
		out[i] = name[i] > ' ' && name[i] < 127 ? name[i] : '?';
	out[i] = '\0';
	return out;
}

// [snippet check_name]
/* Why the requested NAME (LEN bytes) must be refused, or NULL if it is a
 * plain name for a file directly inside the root. */
static const char *unsafe_name(const char *name, size_t len)
{
	/*
	 * TODO 2: refuse what is not a plain name (chapter: "Path safety"),
	 * before open_in_root() (TODO 1) ever sees it: "../x" is a regular
	 * file too. Return a short reason for: LEN == 0 ("empty name"); a NUL
	 * byte in the LEN bytes (memchr); a '/' anywhere; a first byte '.'
	 * (this covers ".", ".." and hidden files). Return NULL for a safe
	 * name; serve_name() answers status 2 with your reason.
	 */
	(void)name;
	(void)len;
	return NULL;
}
// [end check_name]

// [snippet open_in_root]
/*
 * Open NAME inside the root for reading, only if it is a regular file there
 * and not a symbolic link. Returns the descriptor (with *ST filled in), or -1
 * with *STATUS and *WHY saying what to answer.
 */
static int open_in_root(const char *name, struct stat *st, enum status *status,
                        const char **why)
{
	/*
	 * TODO 1: open NAME inside the root, safely (chapter: "Path safety";
	 * the status for each failure is in "The protocol"):
	 *   - fstatat(root_fd, name, &before, AT_SYMLINK_NOFOLLOW): ENOENT is
	 *     NOT_FOUND "no such file", another error SERVER_ERROR;
	 *   - not S_ISREG(before.st_mode): REFUSED ("symbolic links are
	 *     refused" for S_ISLNK, else "not a regular file");
	 *   - openat(root_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK):
	 *     ELOOP is REFUSED, another error SERVER_ERROR;
	 *   - fstat(fd, st) must say S_ISREG too, or close fd and refuse.
	 * Set *STATUS and *WHY (strerror(errno) for errors) and return -1, or
	 * return the descriptor.
	 */
	(void)name;
	(void)st;
	*status = SERVER_ERROR;
	*why = "open_in_root is not written yet";
	return -1;
}
// [end open_in_root]

/* Answer with STATUS (not OK) and a frame holding WHY. */
static void send_refusal(int cfd, enum status status, const char *why)
{
	unsigned char byte = (unsigned char)status;

	/* Best effort: if the client is gone, there is no one to tell. */
	if (send_all(cfd, &byte, 1) == 0)
		frame_send(cfd, why, strlen(why));
}

/* The status byte OK and SIZE as 8 bytes, most significant first. */
static int send_header(int cfd, uint64_t size)
{
	unsigned char header[9];

	header[0] = OK;
	for (int i = 0; i < 8; i++)
		header[1 + i] = (unsigned char)(size >> (56 - 8 * i));
	return send_all(cfd, header, sizeof(header));
}

// [snippet stream_file]
/*
 * Send exactly SIZE bytes of FD to CFD through BUF (CHUNK bytes): the file
 * never has to fit in memory. Returns 0, or -1 with *WHY set.
 */
static int stream_file(int cfd, int fd, uint64_t size, char *buf, const char **why)
{
	/*
	 * TODO 3: send exactly SIZE bytes of the file FD to CFD, CHUNK bytes
	 * at a time through BUF (chapter: "Streaming with a fixed buffer";
	 * the size announced in the header is a promise, "The protocol"):
	 * read() at most min(SIZE left, CHUNK) bytes (retry on EINTR), then
	 * send_all() what you read. A read error or a read of 0 bytes (the
	 * file shrank) fails; so does send_all (the client went away: that
	 * ends this client's thread, never the server, "Threads per
	 * client"). On failure set *WHY (strerror(errno), or your own text)
	 * and return -1.
	 */
	(void)cfd;
	(void)fd;
	(void)size;
	(void)buf;
	*why = "stream_file is not written yet";
	return -1;
}
// [end stream_file]

/* Answer the request for NAME (LEN bytes) on CFD. */
static void serve_name(int cfd, const char *name, size_t len)
{
	char shown[NAME_LIMIT + 1];
	enum status status;
	const char *why;
	struct stat st;
	char *buf;
	int fd;

	printable(name, len, shown);
	if ((why = unsafe_name(name, len)) != NULL) {
		say("refused %s: %s\n", shown, why);
		send_refusal(cfd, REFUSED, why);
		return;
	}
	if ((fd = open_in_root(name, &st, &status, &why)) == -1) {
		if (status == NOT_FOUND)
			say("not found %s\n", shown);
		else
			say("%s %s: %s\n", status == REFUSED ? "refused" : "error", shown,
			    why);
		send_refusal(cfd, status, why);
		return;
	}
	if ((buf = malloc(CHUNK)) == NULL) {
		say("error %s: %s\n", shown, strerror(errno));
		send_refusal(cfd, SERVER_ERROR, "out of memory");
		close(fd);
		return;
	}
	if (send_header(cfd, (uint64_t)st.st_size) == -1)
		say("aborted %s: %s\n", shown, strerror(errno));
	else if (stream_file(cfd, fd, (uint64_t)st.st_size, buf, &why) == -1)
		say("aborted %s: %s\n", shown, why);
	else
		say("sent %s (%lld bytes)\n", shown, (long long)st.st_size);
	free(buf);
	close(fd);
}

/* Read one request from CFD and answer it. */
static void handle_client(int cfd)
{
	struct timeval idle = {IDLE_LIMIT_SECONDS, 0};
	char *name;
	size_t len;
	int rc;

	/* A client that stops sending or reading must not hold a thread for
	 * ever: after this long without progress, recv and send fail. */
	if (setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof(idle)) == -1 ||
	    setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &idle, sizeof(idle)) == -1) {
		say("error: setsockopt: %s\n", strerror(errno));
		return;
	}
	rc = frame_recv(cfd, NAME_LIMIT, &name, &len);
	if (rc == 0) {
		say("bad request: closed before sending a name\n");
		return;
	}
	if (rc == -1) {
		/* Keep frame_recv's errno: say() runs printf and fflush, which
		 * may change errno even when they succeed. */
		int e = errno;
		say("bad request: %s\n", e == EMSGSIZE ? "name too long" : strerror(e));
		if (e == EMSGSIZE)
			send_refusal(cfd, REFUSED, "name too long");
		return;
	}
	serve_name(cfd, name, len);
	free(name);
}

// [snippet client_thread]
static void *client_thread(void *arg)
{
	int cfd = *(int *)arg;

	free(arg);
	handle_client(cfd);
	/* Not close() alone: a client may have sent more than its request
	 * (a newline, say), and close() with unread input resets the
	 * connection, which can destroy the end of the file in flight. */
	tcp_close_drained(cfd);
	pthread_mutex_lock(&active_lock);
	if (--active == 0)
		pthread_cond_broadcast(&all_done);
	pthread_mutex_unlock(&active_lock);
	return NULL;
}

/* Serve CFD on a detached thread of its own. Returns 0, or -1 with errno
 * set (CFD is then still the caller's to close). */
static int start_client_thread(int cfd, const pthread_attr_t *detached)
{
	pthread_t tid;
	int *arg = malloc(sizeof(*arg)), rc;

	if (arg == NULL)
		return -1;
	*arg = cfd;
	pthread_mutex_lock(&active_lock);
	active++;
	pthread_mutex_unlock(&active_lock);
	if ((rc = pthread_create(&tid, detached, client_thread, arg)) != 0) {
		pthread_mutex_lock(&active_lock);
		active--;
		pthread_mutex_unlock(&active_lock);
		free(arg);
		errno = rc;
		return -1;
	}
	return 0;
}
// [end client_thread]

static _Noreturn void usage(void)
{
	fprintf(stderr, "usage: file-server [-n COUNT] ROOT PORT [ADDRESS]\n");
	exit(2);
}

int main(int argc, char *argv[])
{
	struct listen_args args = {.leading = 1}; /* ROOT comes before PORT */
	char why[256];
	long served = 0;
	int lfd;
	pthread_attr_t detached;

	if (parse_listen_args(argc, argv, &args) == -1)
		usage();

	/* A client that vanishes must cost one transfer, not the server. */
	if (ignore_sigpipe() == -1)
		err(1, "sigaction");
	if ((root_fd = open(args.lead[0], O_RDONLY | O_DIRECTORY)) == -1)
		err(1, "%s", args.lead[0]);
	if ((errno = pthread_attr_init(&detached)) != 0 ||
	    (errno = pthread_attr_setdetachstate(&detached, PTHREAD_CREATE_DETACHED)) !=
	        0)
		err(1, "pthread_attr");
	lfd = tcp_listen_announce(args.host, args.port, 64, why, sizeof(why));
	if (lfd == -1)
		errx(1, "%s", why);

	while (args.count == SERVE_FOREVER || served < args.count) {
		/* Out of descriptors, accept_retry waits: finished clients free some. */
		int cfd = accept_retry(lfd, NULL, NULL);
		if (cfd == -1)
			err(1, "accept");
		served++;
		if (start_client_thread(cfd, &detached) == -1) {
			warn("pthread_create");
			close(cfd);
		}
	}
	/* -n: no new clients; let the last ones finish before exiting. */
	close(lfd);
	pthread_mutex_lock(&active_lock);
	while (active > 0)
		pthread_cond_wait(&all_done, &active_lock);
	pthread_mutex_unlock(&active_lock);
	pthread_attr_destroy(&detached);
	close(root_fd);
	return 0;
}
