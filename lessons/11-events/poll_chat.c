/*
 * Lesson 11 - events: the chat room of lesson 08 in one thread, with poll().
 *
 * YOUR COPY: fill in the rest of TODO 1 below (it starts in room.c);
 * `make check LESSON=11` tells you how far you are. The chapter is lessons/11-events/README.md.
 *
 * One loop watches the listening socket and every client at once. poll()
 * says which of them are ready; the loop then does only what cannot block:
 * accept what is waiting, read what has arrived, send what a socket will
 * take. Every socket is non-blocking, so a mistake shows up as EAGAIN rather
 * than as a room that stops for everyone.
 *
 * Usage: poll_chat [-n COUNT] PORT [ADDRESS]
 *   PORT     0 lets the kernel choose (the listening line says which)
 *   ADDRESS  where to listen (default 127.0.0.1)
 *   -n       after COUNT clients have joined and all have left, exit 0
 *
 * Clients see:  "* ADDR:PORT joined", "[ADDR:PORT] TEXT", "* ADDR:PORT left".
 * The server logs "joined ADDR:PORT (N online)", "left ADDR:PORT (N online)"
 * and "dropped ADDR:PORT (too slow)" on stdout.
 *
 * Try:
 *   poll_chat 5080                     in one terminal
 *   nc 127.0.0.1 5080                  in two or three more; type in any
 *   ps -L -p $(pgrep poll_chat)        one thread, however many clients
 */
#include <err.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "net.h"
#include "room.h"
#include "tcp.h"

/* How long to stop accepting after running out of descriptors (ms). */
#define ACCEPT_PAUSE_MS 100

// [snippet fill_pollfds]
/*
 * Describe this turn's interest: the listening socket first (when
 * LISTENING), then each client. A client asks for POLLOUT only while it has
 * output queued: a socket is writable almost always, so asking every time
 * would wake the loop at once, forever, with nothing to do.
 */
static nfds_t fill_pollfds(struct pollfd *pfds, int lfd, int listening,
                           const struct room *room)
{
	nfds_t n = 0;

	pfds[n++] = (struct pollfd){.fd = listening ? lfd : -1, .events = POLLIN};
	/*
	 * TODO 1, continued: one entry per client (chapter: "Asking for POLLOUT"). For
	 * each room->clients[i], add {.fd = its fd, .events = POLLIN}, plus
	 * POLLOUT only when client_wants_out() says output is queued.
	 */
	(void)room;
	return n;
}
// [end fill_pollfds]

// [snippet handle_client_events]
/* Act on what poll() said about C. */
static void handle_client_events(struct room *room, struct client *c, short revents)
{
	if (c->gone)
		return; /* dropped earlier in this turn: it is being removed */
	/*
	 * TODO 1, continued: act on REVENTS (chapter: "When a client vanishes"). POLLNVAL:
	 * a descriptor that is not open (a bug in the loop): warn and mark C
	 * gone. POLLERR: client_on_error(c). POLLIN or POLLHUP: read, with
	 * client_on_readable() (POLLHUP comes with the last data, and the read
	 * sees the end). POLLOUT: client_on_writable(c).
	 */
	(void)room;
	(void)revents;
}
// [end handle_client_events]

// [snippet serve]
/* The event loop: serve until COUNT clients (-1: no limit) have come and
 * gone. Returns 0, or -1 with errno set. */
static int serve(int lfd, long count)
{
	struct room room = {0};
	struct pollfd *pfds = NULL;
	size_t pfds_cap = 0;
	int paused = 0, status = 0;

	while (count < 0 || room.joined < count || room.count > 0) {
		int listening = (count < 0 || room.joined < count) && !paused;
		nfds_t n;

		if (pfds_cap < room.count + 2) {
			struct pollfd *bigger =
			    realloc(pfds, (room.count + 2) * 2 * sizeof(*pfds));

			if (bigger == NULL) {
				status = -1;
				break;
			}
			pfds = bigger;
			pfds_cap = (room.count + 2) * 2;
		}
		n = fill_pollfds(pfds, lfd, listening, &room);
		/* One more entry, after the clients: stdout, while log lines wait
		 * for it ("A log nobody reads"). The turn's end writes them. */
		pfds[n] = (struct pollfd){.fd = log_pending() ? STDOUT_FILENO : -1,
		                          .events = POLLOUT};
		/*
		 * TODO 1, continued: one turn of the loop (chapter: "The event loop").
		 * Call poll(pfds, n + 1, ...) (the last entry, pfds[n], is the
		 * log's, set above): wait forever (-1), or only
		 * ACCEPT_PAUSE_MS while PAUSED; retry on EINTR, any other -1
		 * ends the loop with status -1. Then set paused = 0; for each
		 * client entry, 1 <= i < n, with revents, call
		 * handle_client_events(&room, room.clients[i - 1], revents);
		 * if pfds[0] has POLLIN, room_accept(&room, lfd, count): 1 means
		 * out of descriptors (warn("accept") and set paused = 1), -1
		 * ends the loop. Last, room_end_turn(&room).
		 * Until then, this accepts without waiting and serves nobody.
		 */
		(void)n;
		(void)handle_client_events;
		if (room_accept(&room, lfd, count) == -1) {
			status = -1;
			break;
		}
		room_end_turn(&room);
	}
	free(pfds);
	room_free(&room);
	return status;
}
// [end serve]

static _Noreturn void usage(void)
{
	fprintf(stderr, "usage: poll_chat [-n COUNT] PORT [ADDRESS]\n");
	exit(2);
}

int main(int argc, char *argv[])
{
	char why[256];
	struct listen_args args = {0};
	int lfd;

	if (parse_listen_args(argc, argv, &args) == -1)
		usage();

	if (ignore_sigpipe() == -1)
		err(1, "ignore SIGPIPE");
	lfd = tcp_listen_announce(args.host, args.port, SOMAXCONN, why, sizeof(why));
	if (lfd == -1)
		errx(1, "%s", why);
	/* A client may vanish between poll() and accept(): a blocking
	 * listening socket would then stall the whole room in accept(). */
	if (set_nonblocking(lfd) == -1)
		err(1, "listening socket: O_NONBLOCK");
	if (log_start() == -1)
		err(1, "stdout: O_NONBLOCK");
	if (serve(lfd, args.count) == -1)
		err(1, "serve");
	if (close(lfd) == -1)
		err(1, "close");
	return 0;
}
