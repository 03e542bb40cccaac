/*
 * Lesson 06 - reuse-address: a TCP server you can restart at once.
 *
 * YOUR COPY: fill in the two TODOs below; `make check LESSON=06` tells you
 * how far you are. The chapter is lessons/06-reuse-address/README.md. As
 * given, the server works, but cannot be restarted for a minute after it
 * served a client, and its error message does not say why.
 *
 * It greets each client with one line and closes the connection itself, so
 * its side of every connection waits in TIME-WAIT for a minute after it is
 * gone. Because it sets SO_REUSEADDR before bind(), a new run can bind the
 * same port at once all the same; while another program really listens on
 * the port, bind() still fails, and the server says so and exits 1.
 *
 * Usage: restartable [-n COUNT] PORT [HOST]
 *   PORT      the TCP port to listen on; 0 lets the kernel choose
 *   HOST      the local address to bind (default 127.0.0.1)
 *   -n COUNT  exit after serving COUNT clients (default: run forever)
 *   Prints "listening on ADDR:PORT" when ready, then "served ADDR:PORT" for
 *   each client after closing its connection.
 *
 * Try:
 *   restartable -n 1 5000 &  nc 127.0.0.1 5000 </dev/null
 *                              one greeting; the server exits
 *   ss -tan state time-wait '( sport = :5000 )'
 *                              the server's side of the connection, waiting
 *   restartable -n 1 5000 &  nc 127.0.0.1 5000 </dev/null
 *                              binds again at once, TIME-WAIT or not
 *   restartable 5000 & restartable 5000
 *                              the second one: "bind 127.0.0.1:5000:
 *                              Address already in use", exit 1
 */
#include <err.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io.h"
#include "net.h"
#include "tcp.h"

#define BACKLOG 16

static void usage(void)
{
	fprintf(stderr, "usage: restartable [-n COUNT] PORT [HOST]\n");
}

/* Close FD without letting close() overwrite the errno we want to report. */
static void close_keep_errno(int fd)
{
	int saved = errno;

	close(fd);
	errno = saved;
}

// [snippet listen_on]
/*
 * Make a socket for AI that listens. Returns it, or -1 with errno set and
 * *FAILED naming the call that failed ("bind", ...).
 */
static int listen_on(const struct addrinfo *ai, const char **failed)
{
	int one = 1;
	int fd;

	*failed = "socket";
	fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	if (fd == -1)
		return -1;
	/*
	 * TODO 1: let a restarted server bind while old connections wait in
	 * TIME-WAIT (section "SO_REUSEADDR"): set *failed to
	 * "setsockopt SO_REUSEADDR", then
	 * setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	 * on -1, goto fail. It must come here, before bind().
	 */
	(void)one;
	*failed = "bind";
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1)
		goto fail;
	*failed = "listen";
	if (listen(fd, BACKLOG) == -1)
		goto fail;
	return fd;
fail:
	close_keep_errno(fd);
	return -1;
}
// [end listen_on]

/*
 * Resolve HOST and PORT and listen on the first address that works.
 * Returns the listening socket, or -1: with *GAI_RC set if the name did not
 * resolve, else with errno and *FAILED from the last address tried.
 */
static int open_listener(const char *host, const char *port, int *gai_rc,
                         const char **failed)
{
	struct addrinfo hints, *res, *ai;
	int lfd = -1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	*gai_rc = getaddrinfo(host, port, &hints, &res);
	if (*gai_rc != 0)
		return -1;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		lfd = listen_on(ai, failed);
		if (lfd != -1)
			break;
	}
	freeaddrinfo(res);
	return lfd;
}

// [snippet serve_one]
/*
 * Accept one client, greet it, and close the connection: this side sends
 * its FIN first, so this side is the one that waits in TIME-WAIT. Returns 0, or -1
 * with errno set if accept() failed. A client that vanished before the
 * greeting is only a warning.
 */
static int serve_one(int lfd)
{
	struct sockaddr_storage peer;
	socklen_t peer_len = sizeof(peer);
	char who[SOCKADDR_STRLEN], line[64 + SOCKADDR_STRLEN];
	int cfd, n;

	cfd = accept(lfd, (struct sockaddr *)&peer, &peer_len);
	if (cfd == -1)
		return -1;
	if (sockaddr_format((struct sockaddr *)&peer, peer_len, who, sizeof(who)) == NULL)
		snprintf(who, sizeof(who), "(unknown)");
	n = snprintf(line, sizeof(line), "hello %s, this is process %ld\n", who,
	             (long)getpid());
	if (send_all(cfd, line, (size_t)n) == -1)
		warn("send to %s", who);
	/* FIN after the greeting even if the client sent something we never
	 * read, which would make a plain close() send a reset (lesson 02). */
	if (tcp_close_drained(cfd) == -1)
		warn("close %s", who);
	printf("served %s\n", who);
	fflush(stdout);
	return 0;
}
// [end serve_one]

int main(int argc, char *argv[])
{
	const char *host = "127.0.0.1", *port, *failed = "listen";
	long count = -1, served = 0;
	int opt, gai_rc, lfd;
	unsigned short unused;

	while ((opt = getopt(argc, argv, "n:")) != -1) {
		if (opt != 'n' || parse_long(optarg, 1, 1000000000, &count) == -1) {
			usage();
			return 2;
		}
	}
	if (argc - optind < 1 || argc - optind > 2 ||
	    parse_port(argv[optind], &unused) == -1) {
		usage();
		return 2;
	}
	port = argv[optind];
	if (argc - optind == 2)
		host = argv[optind + 1];

	// [snippet main_listen]
	lfd = open_listener(host, port, &gai_rc, &failed);
	if (lfd == -1 && gai_rc != 0)
		errx(1, "%s: %s", host, gai_strerror(gai_rc));
	if (lfd == -1) {
		/*
		 * TODO 2: say which call failed and why (sections "Address
		 * already in use" and "What SO_REUSEADDR does not allow"):
		 * replace the two lines
		 * below with err(1, "%s %s:%s", failed, host, port), which
		 * prints, say, "restartable: bind 127.0.0.1:5000: Address
		 * already in use" and exits 1. Do not try another port.
		 */
		fprintf(stderr, "restartable: cannot listen\n");
		return 1;
	}
	if (announce_listener(lfd) == -1)
		err(1, "announce");
	// [end main_listen]

	while (count < 0 || served < count) {
		if (serve_one(lfd) == 0)
			served++;
		else if (errno != EINTR && errno != ECONNABORTED)
			err(1, "accept");
	}
	if (close(lfd) == -1)
		err(1, "close");
	return 0;
}
