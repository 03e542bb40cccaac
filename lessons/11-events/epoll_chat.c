/*
 * Lesson 11 - events: the same chat room with Linux's epoll.
 *
 * YOUR COPY: fill in the TODO 2 below; `make check LESSON=11` tells you
 * how far you are. The chapter is lessons/11-events/README.md.
 *
 * poll() hands the kernel the whole list of sockets on every turn and walks
 * all of it to find the few that are ready. epoll keeps the list inside the
 * kernel (the interest set), changed only when interest changes, and
 * epoll_wait() returns just the ready ones. The room's logic (room.c) is the
 * same; only the loop differs. This server uses epoll's default,
 * level-triggered mode: a socket that still has data is reported again on
 * the next turn, exactly as poll() would report it.
 *
 * Linux only (epoll is not POSIX; the BSDs and macOS have kqueue instead).
 *
 * Usage: epoll_chat [-n COUNT] PORT [ADDRESS]
 *   as poll_chat: the same arguments, messages and log lines
 *
 * Try:
 *   epoll_chat 5080                    in one terminal
 *   nc 127.0.0.1 5080                  in two or three more; type in any
 *   strace -e trace=epoll_wait,epoll_ctl -p $(pgrep epoll_chat)
 *                                      EPOLLOUT comes and goes with output
 */
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "net.h"
#include "room.h"
#include "tcp.h"

/* How many ready sockets one epoll_wait() returns at most. */
#define MAX_EVENTS 256
/* How long to stop accepting after running out of descriptors (ms). */
#define ACCEPT_PAUSE_MS 100

/* Tell EPFD what to watch on FD: EVENTS, with PTR handed back (NULL: the
 * listening socket). OP is EPOLL_CTL_ADD or EPOLL_CTL_MOD. */
static int watch(int epfd, int op, int fd, unsigned events, void *ptr)
{
	struct epoll_event ev = {.events = events, .data.ptr = ptr};

	return epoll_ctl(epfd, op, fd, &ev);
}

// [snippet sync_interest]
/*
 * Bring the interest set up to date: newly admitted clients are added, and
 * EPOLLOUT is switched on for a client that has output queued and off once
 * its queue is empty. The kernel keeps the set between turns, so only
 * changes cost a system call.
 */
static int sync_interest(int epfd, struct room *room)
{
	for (size_t i = 0; i < room->count; i++) {
		struct client *c = room->clients[i];

		/*
		 * TODO 2: keep the interest set true (chapter: "The same loop
		 * with epoll"). A client with c->watching_out == -1 is new: add
		 * it with watch(epfd, EPOLL_CTL_ADD, c->fd, EPOLLIN, c) and set
		 * watching_out to 0. Then, when client_wants_out(c) differs from
		 * c->watching_out, EPOLL_CTL_MOD it to EPOLLIN, plus EPOLLOUT
		 * when output is queued, and remember the new state. Return -1
		 * if epoll_ctl fails.
		 */
		(void)epfd;
		(void)c;
	}
	return 0;
}
// [end sync_interest]

/* Mark the clients from index FROM on, just admitted, as not in the set. */
static void mark_new(struct room *room, size_t from)
{
	for (size_t i = from; i < room->count; i++)
		room->clients[i]->watching_out = -1;
}

/* Act on one event for a client. */
static void handle_client_event(struct room *room, struct client *c, unsigned events)
{
	if (c->gone)
		return;
	if (events & EPOLLERR) {
		client_on_error(c);
		return;
	}
	if (events & (EPOLLIN | EPOLLHUP))
		client_on_readable(room, c);
	if (events & EPOLLOUT)
		client_on_writable(c);
}

/* What the log's entry in the set hands back: not NULL, not a client. */
static char log_mark;

/* Watch stdout for EPOLLOUT while log lines wait for it ("A log nobody
 * reads"), and not otherwise; *WATCHING says whether it is in the set. */
static int sync_log(int epfd, int *watching)
{
	int want = log_pending();

	if (want == *watching)
		return 0;
	*watching = want;
	if (want)
		return watch(epfd, EPOLL_CTL_ADD, STDOUT_FILENO, EPOLLOUT, &log_mark);
	return epoll_ctl(epfd, EPOLL_CTL_DEL, STDOUT_FILENO, NULL);
}

/* Start or stop hearing about new connections. */
static int set_accepting(int epfd, int lfd, int *accepting, int want)
{
	if (*accepting == want)
		return 0;
	*accepting = want;
	if (want)
		return watch(epfd, EPOLL_CTL_ADD, lfd, EPOLLIN, NULL);
	return epoll_ctl(epfd, EPOLL_CTL_DEL, lfd, NULL);
}

// [snippet epoll_serve]
/* The event loop: serve until COUNT clients (-1: no limit) have come and
 * gone. Returns 0, or -1 with errno set. */
static int serve(int epfd, int lfd, long count)
{
	struct epoll_event events[MAX_EVENTS];
	struct room room = {0};
	int accepting = 0, paused = 0, status = 0, watching_log = 0;

	while (count < 0 || room.joined < count || room.count > 0) {
		int ready;

		if (set_accepting(epfd, lfd, &accepting,
		                  (count < 0 || room.joined < count) && !paused) == -1 ||
		    sync_interest(epfd, &room) == -1 ||
		    sync_log(epfd, &watching_log) == -1) {
			status = -1;
			break;
		}
		ready =
		    epoll_wait(epfd, events, MAX_EVENTS, paused ? ACCEPT_PAUSE_MS : -1);
		if (ready == -1) {
			if (errno == EINTR)
				continue;
			status = -1;
			break;
		}
		paused = 0;
		for (int i = 0; i < ready; i++) {
			if (events[i].data.ptr == &log_mark)
				continue; /* the turn's end writes the log */
			if (events[i].data.ptr != NULL) {
				handle_client_event(&room, events[i].data.ptr,
				                    events[i].events);
				continue;
			}
			size_t before = room.count;
			int rc = room_accept(&room, lfd, count);

			mark_new(&room, before);
			if (rc == 1) {
				warn("accept");
				paused = 1;
			} else if (rc == -1) {
				status = -1;
				break;
			}
		}
		/* Only now may clients be freed: EVENTS may still name them
		 * until the loop above is done with this turn. */
		room_end_turn(&room);
	}
	room_free(&room);
	return status;
}
// [end epoll_serve]

static _Noreturn void usage(void)
{
	fprintf(stderr, "usage: epoll_chat [-n COUNT] PORT [ADDRESS]\n");
	exit(2);
}

int main(int argc, char *argv[])
{
	char why[256];
	struct listen_args args = {0};
	int lfd, epfd, status;

	if (parse_listen_args(argc, argv, &args) == -1)
		usage();

	if (ignore_sigpipe() == -1)
		err(1, "ignore SIGPIPE");
	lfd = tcp_listen_announce(args.host, args.port, SOMAXCONN, why, sizeof(why));
	if (lfd == -1)
		errx(1, "%s", why);
	if (set_nonblocking(lfd) == -1)
		err(1, "listening socket: O_NONBLOCK");
	if (log_start() == -1)
		err(1, "stdout: O_NONBLOCK");
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		err(1, "epoll_create1");
	status = serve(epfd, lfd, args.count);
	if (status == -1)
		err(1, "serve");
	if (close(epfd) == -1 || close(lfd) == -1)
		err(1, "close");
	return 0;
}
