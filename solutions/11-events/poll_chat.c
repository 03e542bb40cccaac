/*
 * Lesson 11 - events: the chat room of lesson 08 in one thread, with poll().
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
	for (size_t i = 0; i < room->count; i++) {
		const struct client *c = room->clients[i];

		pfds[n++] = (struct pollfd){
		    .fd = c->fd,
		    .events = (short)(POLLIN | (client_wants_out(c) ? POLLOUT : 0))};
	}
	return n;
}
// [end fill_pollfds]

// [snippet handle_client_events]
/* Act on what poll() said about C. */
static void handle_client_events(struct room *room, struct client *c, short revents)
{
	if (c->gone)
		return; /* dropped earlier in this turn: it is being removed */
	if (revents & POLLNVAL) {
		/* Never happens unless the loop kept a closed descriptor. */
		warnx("%s: descriptor %d is not open", c->name, c->fd);
		c->gone = 1;
		return;
	}
	if (revents & POLLERR) {
		client_on_error(c);
		return;
	}
	/* POLLHUP comes with the last data: read it, and the read sees the
	 * end. Only then is the client gone. */
	if (revents & (POLLIN | POLLHUP))
		client_on_readable(room, c);
	if (revents & POLLOUT)
		client_on_writable(c);
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
		int ready;

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
		/* Wait forever, unless accepting is paused for a moment. */
		ready = poll(pfds, n + 1, paused ? ACCEPT_PAUSE_MS : -1);
		if (ready == -1) {
			if (errno == EINTR)
				continue;
			status = -1;
			break;
		}
		paused = 0;
		/* Clients first: pfds[i + 1] is room.clients[i] as it was when
		 * the array was filled, and accepting would add to the list. */
		for (nfds_t i = 1; i < n; i++) {
			if (pfds[i].revents != 0)
				handle_client_events(&room, room.clients[i - 1],
				                     pfds[i].revents);
		}
		if (pfds[0].revents & POLLIN) {
			int rc = room_accept(&room, lfd, count);

			if (rc == 1) {
				warn("accept");
				paused = 1; /* retry after a pause, not in a spin */
			} else if (rc == -1) {
				status = -1;
				break;
			}
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
