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
 * A server's command line: "[-n COUNT] PORT [ADDRESS]", the same in every
 * server from lesson 07 on (lessons 02 to 06 parse it longhand, with getopt,
 * parse_long and parse_port). One meaning for all of them:
 *   -n COUNT  serve COUNT clients (1..SERVE_COUNT_MAX), then exit 0 with every
 *             descriptor closed, so that leak checks see a clean exit.
 *             Without -n, count is SERVE_FOREVER: serve until killed.
 *   PORT      0..65535, as parse_port says; 0 lets the kernel choose.
 *   ADDRESS   the numeric address to listen on; default 127.0.0.1.
 * Anything else is bad usage: main prints its one "usage: ..." line on stderr
 * and exits 2 (a usage() that never returns), as SPEC says for every program.
 */
#define SERVE_FOREVER (-1L)
/* Large enough for any run, small enough that COUNT fits a long on every
 * system; 0 is refused, since a server that serves nobody is a typo. */
#define SERVE_COUNT_MAX 1000000000L
#define DEFAULT_LISTEN_HOST "127.0.0.1"

struct listen_args {
	/* Set by the caller for a server that takes more than the common line;
	 * left zero (`struct listen_args args = {0};`) for one that does not. */
	const char *options; /* its own getopt letters, e.g. "o:" ('n' is taken) */
	/* Takes one of those options and its value: returns 0, or -1 if bad. */
	int (*option)(int letter, char *value, void *data);
	void *data;  /* handed to OPTION as it is */
	int leading; /* operands before PORT: file-server's ROOT makes 1 */

	/* Set by parse_listen_args: */
	char **lead;      /* the LEADING operands, in ARGV */
	long count;       /* -n COUNT, or SERVE_FOREVER */
	const char *port; /* PORT, checked, as text for tcp_listen */
	const char *host; /* ADDRESS, or DEFAULT_LISTEN_HOST */
};

/*
 * Parse a server's ARGV, "[-n COUNT] [OPTIONS] LEAD... PORT [ADDRESS]", into
 * *ARGS, with getopt(3) from optind on (so call it once, from main). Each
 * option in ARGS->options is handed to ARGS->option with its value (getopt's
 * optarg). Returns 0, or -1 with errno = EINVAL on bad usage: an unknown
 * option or one ARGS->option refused, a COUNT outside 1..SERVE_COUNT_MAX, a
 * bad PORT, too few or too many operands (getopt itself prints a line for
 * an unknown option or a missing value first). Never exits and prints
 * nothing of its own: main decides, with its usage line.
 */
int parse_listen_args(int argc, char *argv[], struct listen_args *args);

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
