/*
 * common/tcp.h - open a listening or a connected TCP socket by name.
 *
 * Lesson 02 fills in an address by hand (inet_pton, htons) and closes a
 * client's connection without a reset (close_client), lesson 03 writes the
 * getaddrinfo loop, and lesson 06 adds SO_REUSEADDR; later lessons call these
 * helpers instead.
 */
#ifndef COMMON_TCP_H
#define COMMON_TCP_H

#include <stddef.h>
#include <sys/socket.h>

/*
 * Resolve HOST and PORT (names, IPv4 or IPv6 text) and connect to the first
 * address that accepts. Returns the connected descriptor, or -1. On -1,
 * *GAI_RC is the getaddrinfo error (report it with gai_strerror) when the
 * name did not resolve, else 0 and errno holds the last socket/connect error.
 */
int tcp_connect(const char *host, const char *port, int *gai_rc);

/*
 * Resolve HOST and PORT ("0": the kernel picks) with AI_PASSIVE, then make
 * ONE listening socket: bind and listen on the first address getaddrinfo
 * returns that works, with SO_REUSEADDR set so a restarted server does not
 * trip over its old connections in TIME-WAIT. The other addresses are not
 * used. HOST NULL means the wildcard addresses, and glibc returns 0.0.0.0
 * before ::, so the socket then takes IPv4 clients only and IPv6 clients are
 * refused (a server for both families needs one :: socket with IPV6_V6ONLY
 * off, or two sockets, :: with it on and 0.0.0.0: lesson 13). Every program here passes a numeric HOST,
 * 127.0.0.1 by default. Returns the listening descriptor, or -1 with *GAI_RC
 * and errno as for tcp_connect.
 */
int tcp_listen(const char *host, const char *port, int backlog, int *gai_rc);

/*
 * What a server's main does first: tcp_listen() (HOST not NULL: it is part
 * of the messages), then announce_listener()
 * (net.h) so that "listening on ADDR:PORT" is printed and flushed. Returns the
 * listening descriptor, or -1 with a one-line reason written into WHY, in the
 * form main reports with errx(1, "%s", why):
 *   "HOST: <getaddrinfo error>", "listen on HOST:PORT: <strerror>" or
 *   "announce: <strerror>".
 */
int tcp_listen_announce(const char *host, const char *port, int backlog, char *why,
                        size_t size);

/* How long accept_retry pauses when the process is out of descriptors or
 * memory: long enough not to spin, short enough that a client who connects
 * once a descriptor is free is taken at once, as far as a person can tell. */
#define ACCEPT_BACKOFF_MS 100

/*
 * accept() for a server's connection loop (lesson 07 writes the loop
 * longhand; lessons 08 on call this): wait for the next client on the
 * listening socket LFD and return its connected descriptor, storing its
 * address in SA and *LEN as accept does (both may be NULL). Failures that are
 * a passing state, not a broken LFD, are retried instead of returned:
 *   EINTR          a signal came: at once;
 *   ECONNABORTED   a client gave up while it waited in the queue: at once;
 *   EMFILE ENFILE  out of descriptors (the process's, the system's), or
 *   ENOBUFS ENOMEM out of memory: after a pause of ACCEPT_BACKOFF_MS, since
 *                  the client stays in the queue and accept would fail again
 *                  at once: without the pause the server spins on a CPU. The
 *                  clients that leave free what is missing.
 * Prints nothing (a log line per retry would flood stderr); it blocks, like
 * accept, until a client comes. Returns the descriptor, or -1 with errno set
 * for any other failure (EBADF, EINVAL: LFD is not listening), which no
 * retry would cure.
 */
int accept_retry(int lfd, struct sockaddr *sa, socklen_t *len);

/* The bounds of tcp_close_drained's wait for the peer to close. */
#define DRAIN_MAX_MS 2000
#define DRAIN_MAX_BYTES (64 * 1024)

/*
 * Close the connected socket FD so that the peer sees end of file after the
 * last byte sent, not a reset, even if it sent bytes that were never read
 * (close() with unread input makes the kernel send RST at once and throw away
 * whatever the peer has not received yet). shutdown(SHUT_WR) first sends FIN
 * after the data; then what the peer still sends is read and thrown away
 * until it closes its side, DRAIN_MAX_BYTES have come or DRAIN_MAX_MS have
 * passed, whichever is first; then FD is closed. A failing shutdown, poll or
 * recv (the peer reset, say) only ends the wait. Blocks for up to
 * DRAIN_MAX_MS. Returns close()'s result: 0, or -1 with errno set.
 */
int tcp_close_drained(int fd);

#endif
