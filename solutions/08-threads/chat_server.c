/*
 * Lesson 08 - threads: a chat room that gives each client its own thread.
 *
 * Every line a client sends goes to every other client, prefixed with the
 * sender's address; joins and leaves are announced the same way. Each client
 * has a thread that only reads from it; the list of clients is shared by all
 * threads and guarded by one mutex. A client that stops reading is dropped
 * rather than allowed to stall the room.
 *
 * Usage: chat_server [-n COUNT] PORT [ADDRESS]
 *   PORT     0 lets the kernel choose (the listening line says which)
 *   ADDRESS  where to listen (default 127.0.0.1)
 *   -n       after COUNT clients have joined and all have left, exit 0
 *
 * Clients see:  "* ADDR:PORT joined", "[ADDR:PORT] TEXT", "* ADDR:PORT left".
 * The server logs "joined ADDR:PORT (N online)", "left ADDR:PORT (N online)"
 * and "dropped ADDR:PORT (too slow)" on stdout.
 *
 * Try:
 *   chat_server 5080                   in one terminal
 *   nc 127.0.0.1 5080                  in two or three more; type in any
 *   kill -STOP $(pgrep -n nc)          one client stops reading; flood the
 *                                      room and watch the server drop it
 */
#include <err.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net.h"
#include "tcp.h"

/* The longest line relayed in one piece; longer lines go out in pieces. */
#define LINE_MAX_LEN 1024
/* "[" + name + "] " + line + "\n" */
#define MSG_MAX_LEN (SOCKADDR_STRLEN + 4 + LINE_MAX_LEN)
/* How far a client may fall behind, in bytes queued in its socket's send
 * buffer, before it counts as too slow (Linux doubles the figure). */
#define CLIENT_SNDBUF (128 * 1024)

struct client {
	int fd;
	char name[SOCKADDR_STRLEN]; /* the peer's address, as others see it */
	int dropped;                /* shut down for being too slow */
	int drop_error;             /* why: 0 too slow, else send's errno */
	struct client *next;
};

// [snippet room]
/*
 * The state every thread shares. The mutex guards all of it: the list and
 * the counts, and also each listed client's socket for sending, so that two
 * messages never interleave on one connection.
 */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t changed; /* signalled when a client thread ends */
	struct client *clients; /* everyone who receives broadcasts */
	int online;             /* length of the list */
	int threads;            /* client threads still running */
} room = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0, 0};
// [end room]

// [snippet deliver_locked]
/*
 * Send MSG to every client in the room except FROM (NULL: to all). The caller
 * holds room.lock. No send() here may block, since everyone else waits for
 * the lock meanwhile: MSG_DONTWAIT makes a full socket buffer fail with
 * EAGAIN at once. A client whose buffer cannot take the whole message is too
 * far behind; it is shut down, which wakes its own thread to remove it.
 */
static void deliver_locked(const struct client *from, const char *msg, size_t len)
{
	for (struct client *c = room.clients; c != NULL; c = c->next) {
		ssize_t n;

		if (c == from || c->dropped)
			continue;
		do
			n = send(c->fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		while (n == -1 && errno == EINTR);
		if (n == (ssize_t)len)
			continue;
		c->dropped = 1;
		c->drop_error =
		    n >= 0 || errno == EAGAIN || errno == EWOULDBLOCK ? 0 : errno;
		/* No log line here: stdout may be a pipe nobody reads, and a
		 * blocked printf would hold the lock. C's own thread logs the
		 * drop in leave_room, after unlocking.
		 * That thread is blocked in recv(): this makes recv() return
		 * 0. It fails only if the connection is already gone, and then
		 * that thread has been woken anyway. */
		(void)shutdown(c->fd, SHUT_RDWR);
	}
}
// [end deliver_locked]

// [snippet broadcast]
/* Format a message and deliver it to all but FROM; takes room.lock. */
static void broadcast(const struct client *from, const char *fmt, const char *name,
                      const char *text, size_t text_len)
{
	char msg[MSG_MAX_LEN];
	int len = snprintf(msg, sizeof(msg), fmt, name, (int)text_len, text);

	if (len < 0)
		return;
	if ((size_t)len >= sizeof(msg))
		len = (int)sizeof(msg) - 1;
	pthread_mutex_lock(&room.lock);
	deliver_locked(from, msg, (size_t)len);
	pthread_mutex_unlock(&room.lock);
}
// [end broadcast]

// [snippet join_room]
/* Add C to the room and tell the others. */
static void join_room(struct client *c)
{
	char msg[MSG_MAX_LEN];
	int len = snprintf(msg, sizeof(msg), "* %s joined\n", c->name);
	int online;

	pthread_mutex_lock(&room.lock);
	c->next = room.clients;
	room.clients = c;
	online = ++room.online;
	deliver_locked(c, msg, (size_t)len);
	pthread_mutex_unlock(&room.lock);
	/* Log only now: a printf to a pipe nobody reads blocks, and under the
	 * lock it would stop the whole room. */
	printf("joined %s (%d online)\n", c->name, online);
	fflush(stdout);
}
// [end join_room]

// [snippet leave_room]
/* Take C out of the room, tell the others, and free it. Once C is off the
 * list no other thread can reach it, so closing and freeing need no lock. */
static void leave_room(struct client *c)
{
	char msg[MSG_MAX_LEN];
	int len = snprintf(msg, sizeof(msg), "* %s left\n", c->name);
	int online, dropped, drop_error;

	pthread_mutex_lock(&room.lock);
	for (struct client **p = &room.clients; *p != NULL; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			break;
		}
	}
	online = --room.online;
	dropped = c->dropped; /* set by other threads, under the lock */
	drop_error = c->drop_error;
	deliver_locked(c, msg, (size_t)len);
	pthread_mutex_unlock(&room.lock);
	if (close(c->fd) == -1)
		warn("close %s", c->name);
	/* The log, as in join_room, only once the lock is free. */
	if (dropped)
		printf("dropped %s (%s)\n", c->name,
		       drop_error == 0 ? "too slow" : strerror(drop_error));
	printf("left %s (%d online)\n", c->name, online);
	fflush(stdout);
	free(c);
}
// [end leave_room]

/*
 * Read from C until it leaves, and broadcast each complete line it sends.
 * A line that fills the buffer without a newline goes out as it is; an
 * unfinished last line goes out when the client closes.
 */
static void relay_lines(struct client *c)
{
	char buf[LINE_MAX_LEN];
	size_t len = 0;

	for (;;) {
		ssize_t n = recv(c->fd, buf + len, sizeof(buf) - len, 0);
		size_t start = 0;
		char *nl;

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* 0: it closed (or was dropped); -1: a reset */
		len += (size_t)n;
		while ((nl = memchr(buf + start, '\n', len - start)) != NULL) {
			size_t line = (size_t)(nl - (buf + start));
			broadcast(c, "[%s] %.*s\n", c->name, buf + start, line);
			start += line + 1;
		}
		if (start == 0 && len == sizeof(buf)) {
			broadcast(c, "[%s] %.*s\n", c->name, buf, len);
			start = len;
		}
		memmove(buf, buf + start, len - start);
		len -= start;
	}
	if (len > 0)
		broadcast(c, "[%s] %.*s\n", c->name, buf, len);
}

// [snippet client_thread]
/* The life of one client, in its own thread. */
static void *client_thread(void *arg)
{
	struct client *c = arg;

	join_room(c);
	relay_lines(c);
	leave_room(c);
	/* Last: say this thread is done, so that main can tell when the room
	 * is empty (with -n). */
	pthread_mutex_lock(&room.lock);
	room.threads--;
	pthread_cond_signal(&room.changed);
	pthread_mutex_unlock(&room.lock);
	return NULL;
}
// [end client_thread]

/* Wrap an accepted connection in a client and start its thread, detached:
 * nobody waits for a client's thread to end, so nobody could join it, and a
 * detached thread's resources go back to the system as soon as it returns.
 * Returns 0, or an error number (the connection is closed then). */
static int start_client(int cfd, const struct sockaddr *sa, socklen_t len)
{
	struct client *c = calloc(1, sizeof(*c));
	pthread_t tid;
	int rc;

	if (c == NULL) {
		close(cfd);
		return ENOMEM;
	}
	c->fd = cfd;
	/* Not fatal: the kernel's default then sets the limit instead. */
	if (setsockopt(cfd, SOL_SOCKET, SO_SNDBUF, &(int){CLIENT_SNDBUF}, sizeof(int)) ==
	    -1)
		warn("setsockopt SO_SNDBUF");
	if (sockaddr_format(sa, len, c->name, sizeof(c->name)) == NULL)
		strcpy(c->name, "(unknown)");
	pthread_mutex_lock(&room.lock);
	room.threads++;
	pthread_mutex_unlock(&room.lock);
	rc = pthread_create(&tid, NULL, client_thread, c);
	if (rc != 0) {
		pthread_mutex_lock(&room.lock);
		room.threads--;
		pthread_mutex_unlock(&room.lock);
		close(cfd);
		free(c);
		return rc;
	}
	/* Cannot fail: TID is a thread we just made, and nobody joins it. */
	pthread_detach(tid);
	return 0;
}

/* Accept clients and give each a thread; stop after COUNT (SERVE_FOREVER:
 * never). accept_retry waits out a signal, a client that gave up in the
 * queue, or a lack of descriptors (the clients that leave free them).
 * Returns 0, or -1 with errno set if accept() fails for good. */
static int accept_clients(int lfd, long count)
{
	for (long accepted = 0; count == SERVE_FOREVER || accepted < count;) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int rc, cfd = accept_retry(lfd, (struct sockaddr *)&ss, &len);

		if (cfd == -1)
			return -1;
		accepted++;
		if ((rc = start_client(cfd, (struct sockaddr *)&ss, len)) != 0) {
			errno = rc;
			warn("client thread");
		}
	}
	return 0;
}

/* Wait until every client thread has ended. */
static void wait_for_empty_room(void)
{
	pthread_mutex_lock(&room.lock);
	while (room.threads > 0)
		pthread_cond_wait(&room.changed, &room.lock);
	pthread_mutex_unlock(&room.lock);
}

static _Noreturn void usage(void)
{
	fprintf(stderr, "usage: chat_server [-n COUNT] PORT [ADDRESS]\n");
	exit(2);
}

int main(int argc, char *argv[])
{
	struct listen_args args = {0};
	char why[256];
	int lfd;

	if (parse_listen_args(argc, argv, &args) == -1)
		usage();

	/* A client that vanishes must not take the room down with it.
	 * MSG_NOSIGNAL covers our sends; this covers everything else. */
	if (ignore_sigpipe() == -1)
		err(1, "ignore SIGPIPE");
	lfd = tcp_listen_announce(args.host, args.port, SOMAXCONN, why, sizeof(why));
	if (lfd == -1)
		errx(1, "%s", why);
	if (accept_clients(lfd, args.count) == -1)
		err(1, "accept");
	if (close(lfd) == -1)
		err(1, "close");
	wait_for_empty_room();
	return 0;
}
