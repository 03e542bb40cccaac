/*
 * room.c - see room.h for each function's contract.
 *
 * YOUR COPY: fill in the TODOs below, in order with those in poll_chat.c,
 * epoll_chat.c and connect_timeout.c (TODO 1 here, then its continuation in
 * poll_chat.c, TODO 2 in epoll_chat.c, TODOs 3 and 4 here, TODO 5 in
 * connect_timeout.c); `make check LESSON=11` tells you how far you are. The chapter is lessons/11-events/README.md.
 */
#include "room.h"

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* "[" + name + "] " + line + "\n" */
#define MSG_MAX_LEN (SOCKADDR_STRLEN + 4 + LINE_MAX_LEN)
/* The longest log line; longer ones are cut. */
#define LOG_LINE_MAX (2 * SOCKADDR_STRLEN + 256)
/* The kernel's send buffer for each client (Linux doubles the figure). */
#define CLIENT_SNDBUF (128 * 1024)

/* The log: what say() wrote and stdout has not taken yet. */
static struct {
	char buf[LOG_MAX];
	size_t len;
	unsigned long lost; /* lines dropped because the queue was full */
	int broken;         /* stdout failed for good (its reader is gone) */
	int flags;          /* stdout's flags before log_start(), or -1 */
} log_out = {.flags = -1};

// [snippet log_queue]
/*
 * One line on stdout, for the tests and for whoever watches. The line goes
 * behind what is already queued, and the queue goes out as far as stdout
 * takes it now: a reader that stops reading makes the queue wait, never the
 * room. Past LOG_MAX, lines are counted and dropped, not stored.
 */
static void say(const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || log_out.broken)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2; /* cut short, still one line */
	line[n++] = '\n';
	if (log_out.len + (size_t)n > sizeof(log_out.buf)) {
		log_out.lost++;
		return;
	}
	memcpy(log_out.buf + log_out.len, line, (size_t)n);
	log_out.len += (size_t)n;
	log_flush();
}
// [end log_queue]

/* At exit: see log_start in room.h. */
static void log_stop(void)
{
	/* Give a slow reader a moment to take the last lines, not forever. */
	for (int tries = 0; log_pending() && !log_out.broken && tries < 10; tries++) {
		struct pollfd p = {.fd = STDOUT_FILENO, .events = POLLOUT};

		if (poll(&p, 1, 100) == -1 && errno != EINTR)
			break;
		log_flush();
	}
	if (log_out.flags != -1)
		(void)fcntl(STDOUT_FILENO, F_SETFL, log_out.flags);
	log_out.flags = -1;
}

int log_start(void)
{
	struct stat st;

	if (fflush(stdout) == EOF || fstat(STDOUT_FILENO, &st) == -1)
		return -1;
	/* A file or /dev/null takes every write at once; a terminal only stops
	 * when someone asks it to (Ctrl-S). A pipe or a socket stops when its
	 * reader does: only those need to be non-blocking. */
	if (!S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode))
		return 0;
	if ((log_out.flags = fcntl(STDOUT_FILENO, F_GETFL)) == -1)
		return -1;
	if (fcntl(STDOUT_FILENO, F_SETFL, log_out.flags | O_NONBLOCK) == -1) {
		log_out.flags = -1;
		return -1;
	}
	/* The flag belongs to the open pipe, which other processes may share
	 * (a shell's pipeline): give it back when the server ends. */
	return atexit(log_stop) == 0 ? 0 : -1;
}

int log_pending(void)
{
	return log_out.len > 0 || log_out.lost > 0;
}

void log_flush(void)
{
	size_t off = 0;

	while (off < log_out.len) {
		ssize_t n = write(STDOUT_FILENO, log_out.buf + off, log_out.len - off);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break; /* the rest waits until stdout is writable */
		if (n == -1) {
			/* EPIPE and the like: nobody will ever read it. */
			log_out.broken = 1;
			log_out.len = log_out.lost = 0;
			return;
		}
		off += (size_t)n;
	}
	memmove(log_out.buf, log_out.buf + off, log_out.len - off);
	log_out.len -= off;
	if (log_out.lost > 0 && log_out.len == 0) {
		unsigned long lost = log_out.lost;

		log_out.lost = 0;
		say("(%lu log lines lost: stdout was not being read)", lost);
	}
}

// [snippet set_nonblocking]
int set_nonblocking(int fd)
{
	/*
	 * TODO 1: make FD non-blocking (chapter: "Non-blocking sockets"). Read
	 * the descriptor's flags with fcntl(fd, F_GETFL), add O_NONBLOCK, and
	 * write them back with F_SETFL. Return -1 if either call fails.
	 */
	(void)fd;
	return 0;
}
// [end set_nonblocking]

/* Mark C gone, for WHY (NULL: it left by itself). Once is enough. */
static void drop_client(struct client *c, const char *why)
{
	if (c->gone)
		return;
	c->gone = 1;
	if (why != NULL)
		say("dropped %s (%s)", c->name, why);
}

/* A send() failed with errno set: EAGAIN just means "not now". */
static int send_failed(struct client *c)
{
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	drop_client(c, strerror(errno));
	return -1;
}

/* Make room for LEN more bytes at the end of C's queue. Returns 0, or -1
 * when the queue would pass OUT_MAX (or memory ran out). */
static int reserve_out(struct client *c, size_t len)
{
	size_t pending = c->out_len - c->out_off;
	char *bigger;
	size_t cap;

	if (pending + len > OUT_MAX)
		return -1;
	if (c->out_off > 0) { /* slide the unsent part to the front */
		memmove(c->out, c->out + c->out_off, pending);
		c->out_off = 0;
		c->out_len = pending;
	}
	if (c->out_len + len <= c->out_cap)
		return 0;
	cap = c->out_cap == 0 ? 4096 : c->out_cap;
	while (cap < c->out_len + len)
		cap *= 2;
	if ((bigger = realloc(c->out, cap)) == NULL)
		return -1;
	c->out = bigger;
	c->out_cap = cap;
	return 0;
}

// [snippet queue_for]
/*
 * Give MSG to C: add it to the end of C's queue. Nothing is sent here: the
 * loop sends each client's whole queue once, at the end of the turn
 * (room_end_turn), so that the hundred lines a turn may bring go out in one
 * send() per client rather than one each. A client whose queue would pass
 * OUT_MAX has stopped reading and is dropped.
 */
static void queue_for(struct client *c, const char *msg, size_t len)
{
	if (c->gone)
		return;
	/*
	 * TODO 4: queue it (chapter: "Output buffers and slow clients"). Make
	 * room for LEN more bytes with reserve_out(c, len); on -1 call
	 * drop_client(c, "too slow") and return. Then copy MSG to the end of
	 * the queue, c->out + c->out_len, and add LEN to c->out_len.
	 * Until then, this sends at once with one call and ignores the result.
	 */
	(void)reserve_out;
	(void)send(c->fd, msg, len, MSG_NOSIGNAL);
}
// [end queue_for]

/* Send MSG to everyone in ROOM but FROM (NULL: to all). */
static void broadcast(struct room *room, const struct client *from, const char *msg,
                      size_t len)
{
	for (size_t i = 0; i < room->count; i++) {
		if (room->clients[i] != from)
			queue_for(room->clients[i], msg, len);
	}
}

/* Relay "[NAME] TEXT" from C to the others. */
static void relay_line(struct room *room, const struct client *c, const char *text,
                       size_t len)
{
	char msg[MSG_MAX_LEN];
	int n = snprintf(msg, sizeof(msg), "[%s] %.*s\n", c->name, (int)len, text);

	if (n > 0)
		broadcast(room, c, msg,
		          (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
}

/* Announce "* NAME WHAT" to everyone but C. */
static void announce(struct room *room, const struct client *c, const char *what)
{
	char msg[MSG_MAX_LEN];
	int n = snprintf(msg, sizeof(msg), "* %s %s\n", c->name, what);

	if (n > 0)
		broadcast(room, c, msg, (size_t)n);
}

/* Add the connection CFD from SA to the room. Returns 0, or -1 with errno
 * set (CFD is closed then). */
static int admit(struct room *room, int cfd, const struct sockaddr *sa, socklen_t len)
{
	struct client *c;

	if (room->count == room->cap) {
		size_t cap = room->cap == 0 ? 16 : room->cap * 2;
		struct client **bigger = realloc(room->clients, cap * sizeof(*bigger));

		if (bigger == NULL)
			goto fail;
		room->clients = bigger;
		room->cap = cap;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto fail;
	c->fd = cfd;
	/* A small send buffer makes a client that stops reading show up in
	 * its queue soon, so the bound below means something. Not fatal: the
	 * kernel's own limit applies instead. */
	if (setsockopt(cfd, SOL_SOCKET, SO_SNDBUF, &(int){CLIENT_SNDBUF}, sizeof(int)) ==
	    -1)
		warn("setsockopt SO_SNDBUF");
	if (sockaddr_format(sa, len, c->name, sizeof(c->name)) == NULL)
		strcpy(c->name, "(unknown)");
	room->clients[room->count++] = c;
	room->joined++;
	say("joined %s (%zu online)", c->name, room->count);
	announce(room, c, "joined");
	return 0;
fail:
	close(cfd);
	errno = ENOMEM;
	return -1;
}

// [snippet room_accept]
int room_accept(struct room *room, int lfd, long limit)
{
	while (limit < 0 || room->joined < limit) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int cfd = accept(lfd, (struct sockaddr *)&ss, &len);

		if (cfd == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0; /* the queue is empty: back to the loop */
			if (errno == EINTR || errno == ECONNABORTED)
				continue; /* that one gave up; try the next */
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM)
				return 1;
			return -1;
		}
		/* The accepted socket does not inherit O_NONBLOCK on Linux. */
		if (set_nonblocking(cfd) == -1) {
			close(cfd);
			return -1;
		}
		if (admit(room, cfd, (struct sockaddr *)&ss, len) == -1)
			return 1;
	}
	return 0;
}
// [end room_accept]

// [snippet client_on_readable]
void client_on_readable(struct room *room, struct client *c)
{
	ssize_t n = recv(c->fd, c->in, sizeof(c->in), 0);

	/*
	 * TODO 3: whole lines only (chapter: "Per-client input buffers"). One
	 * recv() may bring part of a line, or ten lines. Receive into the free
	 * end of c->in (c->in + c->in_len), return quietly on EAGAIN,
	 * EWOULDBLOCK or EINTR, and on 0 or an error relay what is left of an
	 * unfinished line and call drop_client(c, NULL or strerror(errno)).
	 * Then relay every whole line in the buffer (memchr for '\n') with
	 * relay_line(), relay a full buffer with no newline as it is, and move
	 * the unfinished tail to the front for next time.
	 * Until then, this relays whatever one recv() brought as one line.
	 */
	if (n <= 0) {
		drop_client(c, NULL);
		return;
	}
	relay_line(room, c, c->in, (size_t)n);
}
// [end client_on_readable]

// [snippet client_on_writable]
void client_on_writable(struct client *c)
{
	/*
	 * TODO 4, continued: drain the queue (chapter: "Output buffers and slow clients").
	 * While C is not gone and c->out_off < c->out_len, send from
	 * c->out + c->out_off (MSG_NOSIGNAL) and move c->out_off on by what was
	 * taken; retry on EINTR; on any other -1 call send_failed(c) and return
	 * (EAGAIN: the rest waits for the next POLLOUT). When everything went,
	 * set c->out_off = c->out_len = 0.
	 */
	(void)c;
	(void)send_failed;
}
// [end client_on_writable]

// [snippet room_end_turn]
size_t room_end_turn(struct room *room)
{
	size_t removed = 0, n;

	/* Sending can find a client gone, and each departure is announced to
	 * the others: go on until a pass removes nobody. */
	do {
		for (size_t i = 0; i < room->count; i++)
			client_on_writable(room->clients[i]);
		n = room_remove_gone(room);
		removed += n;
	} while (n > 0);
	log_flush(); /* the log too: it may have room again */
	return removed;
}
// [end room_end_turn]

int client_wants_out(const struct client *c)
{
	return !c->gone && c->out_off < c->out_len;
}

void client_on_error(struct client *c)
{
	int error = 0;
	socklen_t len = sizeof(error);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &len) == -1)
		error = errno;
	drop_client(c, error != 0 ? strerror(error) : "socket error");
}

/* Close C and free it. Its queue goes with it. */
static void free_client(struct client *c)
{
	if (close(c->fd) == -1)
		say("close %s: %s", c->name, strerror(errno));
	free(c->out);
	free(c);
}

size_t room_remove_gone(struct room *room)
{
	size_t removed = 0;

	/* Announcing a departure can drop another client: go round until a
	 * whole pass finds nobody gone. */
	for (size_t i = 0; i < room->count;) {
		struct client *c = room->clients[i];

		if (!c->gone) {
			i++;
			continue;
		}
		room->clients[i] = room->clients[--room->count];
		say("left %s (%zu online)", c->name, room->count);
		announce(room, c, "left");
		free_client(c);
		removed++;
		i = 0;
	}
	return removed;
}

void room_free(struct room *room)
{
	for (size_t i = 0; i < room->count; i++)
		free_client(room->clients[i]);
	free(room->clients);
	room->clients = NULL;
	room->count = room->cap = 0;
}
