/*
 * common/net.h - small socket helpers that every lesson may use.
 *
 * The helpers never exit and never print errors: they return -1 with errno
 * set (or a getaddrinfo code where they say so), and main() decides what to
 * do about it, usually with err(3) from <err.h>.
 */
#ifndef COMMON_NET_H
#define COMMON_NET_H

#include <stddef.h>
#include <sys/socket.h>

#include <netinet/in.h>

/* Enough for "[" + the longest IPv6 text + "]:65535" + NUL. */
#define SOCKADDR_STRLEN (INET6_ADDRSTRLEN + 10)

/*
 * Parse TEXT as a TCP/UDP port number: decimal digits only, 0..65535.
 * Returns 0 and stores the port (in host byte order) in *PORT, or -1 with
 * errno = EINVAL for anything else ("", "80x", "-1", "65536", " 80").
 */
int parse_port(const char *text, unsigned short *port);

/*
 * Parse TEXT as a decimal integer in [MIN, MAX].
 * Returns 0 and stores it in *VALUE, or -1 with errno = EINVAL or ERANGE.
 */
int parse_long(const char *text, long min, long max, long *value);

/*
 * Write "ADDR:PORT" for an AF_INET or AF_INET6 address into BUF ("[ADDR]:PORT"
 * for IPv6, so the port cannot be mistaken for part of the address).
 * AF_UNIX addresses are written as their path, or "(unnamed)".
 * Returns BUF, or NULL with errno = EAFNOSUPPORT or ENOSPC.
 */
char *sockaddr_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t size);

/*
 * Print "listening on ADDR:PORT" for the local address of FD (as the kernel
 * reports it with getsockname, so port 0 shows the port the kernel chose),
 * then flush stdout so a reader on a pipe sees the line at once.
 * Returns 0, or -1 with errno set.
 */
int announce_listener(int fd);

/*
 * Ignore SIGPIPE for the whole process, so that writing to a peer that has
 * gone away fails with EPIPE instead of killing the program.
 * Returns 0, or -1 with errno set.
 */
int ignore_sigpipe(void);

#endif
