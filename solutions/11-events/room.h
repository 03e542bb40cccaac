/*
 * room.h - the chat room of lesson 08, without threads: the clients, their
 * buffers, and what happens when one of them can be read or written.
 *
 * The event loops (poll_chat.c, epoll_chat.c) decide *when* a client is
 * ready; this module decides *what* to do then. Every socket it touches is
 * non-blocking, so no call here ever waits: a call that would wait fails with
 * EAGAIN, and the work is left for the next time the loop says "ready".
 */
#ifndef ROOM_H
#define ROOM_H

#include <stddef.h>
#include <sys/socket.h>

#include "net.h"

/* The longest line relayed in one piece; longer lines go out in pieces. */
#define LINE_MAX_LEN 1024
/* How many bytes may wait for one client before it counts as too slow and is
 * dropped: this bounds the server's memory whatever a client does. */
#define OUT_MAX (256 * 1024)
/* How many bytes of log lines may wait for stdout; past it, lines are lost. */
#define LOG_MAX (64 * 1024)

// [snippet client]
struct client {
	int fd;
	char name[SOCKADDR_STRLEN]; /* the peer's address, as others see it */
	char in[LINE_MAX_LEN];      /* received, not yet a whole line */
	size_t in_len;
	char *out;      /* queued for this client, not yet sent */
	size_t out_off; /* where the unsent part starts */
	size_t out_len; /* where it ends */
	size_t out_cap;
	int gone;         /* closed, reset or dropped: remove at the turn's end */
	int watching_out; /* for epoll: EPOLLOUT is in its interest set */
};
// [end client]

/* Everyone in the room. CLIENTS[0..COUNT) are the live entries. */
struct room {
	struct client **clients;
	size_t count, cap;
	long joined; /* clients ever admitted, for -n */
};

/*
 * Make FD non-blocking. Returns 0, or -1 with errno set.
 */
int set_nonblocking(int fd);

/*
 * Accept every connection waiting on the non-blocking listening socket LFD
 * (until accept() says EAGAIN), admit each to ROOM, and stop early once
 * ROOM->joined reaches LIMIT (-1: no limit). Returns 0 when the queue is
 * empty; 1 when accept() failed for want of descriptors or memory (EMFILE,
 * ENFILE, ENOBUFS, ENOMEM), so the caller should stop asking for a while
 * instead of spinning on a connection it cannot take; -1 with errno set on
 * any other failure.
 */
int room_accept(struct room *room, int lfd, long limit);

/*
 * C is readable: receive what it sent (one recv(), so that one busy client
 * cannot keep the loop to itself) and relay every whole line to the others.
 * End of input or an error marks C gone.
 */
void client_on_readable(struct room *room, struct client *c);

/*
 * C's socket can take more: send what is queued for it, until the queue is
 * empty or send() says EAGAIN. An error marks C gone. Does nothing for a
 * client with nothing queued.
 */
void client_on_writable(struct client *c);

/* C has output waiting: the loop should ask to hear when C is writable. */
int client_wants_out(const struct client *c);

/*
 * C's socket reported an error (POLLERR, EPOLLERR): log the reason
 * (SO_ERROR) and mark C gone.
 */
void client_on_error(struct client *c);

/*
 * Remove every client marked gone: close it, log "left", and tell the
 * others, which may mark more clients gone (they are removed too). Never
 * call it while walking a list of events that may still name a client:
 * room_end_turn does, once the turn's events are handled. Returns how many
 * were removed.
 */
size_t room_remove_gone(struct room *room);

/*
 * End a loop turn: send every client what was queued for it during the turn
 * (one send() per client, as much as its socket takes), then remove the
 * clients that are gone (room_remove_gone), and repeat while removing them
 * queued more. What a socket does not take waits for its POLLOUT. Returns
 * how many clients were removed.
 */
size_t room_end_turn(struct room *room);

/*
 * The server's log on stdout ("A log nobody reads"). say() queues each
 * line (at most LOG_MAX bytes wait) and writes what stdout takes without
 * waiting, so a log pipe nobody reads never stops the room.
 *
 * log_start: call once, after the listening line: if stdout is a pipe or a
 * socket, make it non-blocking, and arrange (atexit) that at exit stdout
 * gets a moment (1 s at most) to take what waits and its flags back.
 * Returns 0, or -1 with errno set.
 * log_pending: lines wait for stdout (the loop then watches it for POLLOUT).
 * log_flush: write what stdout takes now; the rest waits. An error other
 * than EAGAIN (the reader has gone) ends the log.
 */
int log_start(void);
int log_pending(void);
void log_flush(void);

/* Close and free everything left in ROOM. */
void room_free(struct room *room);

#endif
