/*
 * tests/facts/time-wait.c - where TIME-WAIT appears, and what it blocks.
 *
 * Usage: time-wait    (prints one "ok - fact: ..." line per fact; fact.h)
 *
 * Linux: it reads the connection states from /proc/net/tcp.
 */
#include "fact.h"

#include <stdlib.h>

/* Whether /proc/net/tcp lists a TIME-WAIT entry (state 06) whose local
 * port is PORT (network order). */
static int in_time_wait(in_port_t port)
{
	char line[512];
	unsigned local_port, state;
	int found = 0;
	FILE *f = fopen("/proc/net/tcp", "r");

	if (f == NULL)
		err(1, "/proc/net/tcp");
	while (fgets(line, sizeof(line), f) != NULL) {
		/* "  0: 0100007F:1388 0100007F:C234 06 ..." */
		if (sscanf(line, " %*d: %*x:%x %*x:%*x %x", &local_port, &state) == 2 &&
		    state == 0x06 && local_port == ntohs(port))
			found = 1;
	}
	fclose(f);
	return found;
}

static int wait_time_wait(in_port_t port)
{
	struct timespec tick = {0, 1000000};

	for (int i = 0; i < WAIT_MS; i++) {
		if (in_time_wait(port))
			return 1;
		nanosleep(&tick, NULL);
	}
	return 0;
}

/* bind() of a fresh TCP socket to 127.0.0.1:PORT: 0 or the errno. */
static int try_bind(in_port_t port, int reuse)
{
	struct sockaddr_in addr;
	int one = 1, e = 0, fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd == -1)
		err(1, "socket");
	if (reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		err(1, "setsockopt");
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = port;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == -1)
		e = errno;
	close(fd);
	return e;
}

/* A connection the server closes first: its TIME-WAIT entry's local port
 * (the server's) in *server_port, the client's port in *client_port. The
 * server's socket had SO_REUSEADDR when REUSE. */
static void closed_by_server(int reuse, in_port_t *server_port, in_port_t *client_port)
{
	struct sockaddr_in addr;
	socklen_t len = sizeof(addr);
	char buf[8];
	int c, s;

	tcp_pair_reuse(&c, &s, reuse);
	if (getsockname(s, (struct sockaddr *)&addr, &len) == -1)
		err(1, "getsockname");
	*server_port = addr.sin_port;
	len = sizeof(addr);
	if (getsockname(c, (struct sockaddr *)&addr, &len) == -1)
		err(1, "getsockname");
	*client_port = addr.sin_port;
	close(s); /* the server closes first */
	wait_event(c, POLLIN);
	if (recv(c, buf, sizeof(buf), 0) != 0)
		why("the client did not read end of file; ");
	close(c);
	if (!wait_time_wait(*server_port))
		why("no TIME-WAIT entry appeared; ");
}

int main(void)
{
	int tw_server, tw_client, e_plain, e_reuse, e_half;
	in_port_t server_port, client_port;

	closed_by_server(1, &server_port, &client_port);
	tw_server = in_time_wait(server_port);
	tw_client = in_time_wait(client_port);
	why("TIME-WAIT on the server's port: %s, on the client's: %s",
	    tw_server ? "yes" : "no", tw_client ? "yes" : "no");
	fact(tw_server && !tw_client, "06 \"TIME-WAIT\": TIME-WAIT appears on the side "
	                              "that closes first, not on the "
	                              "other");

	e_plain = try_bind(server_port, 0);
	e_reuse = try_bind(server_port, 1);
	why("bind without SO_REUSEADDR: %s; with it: %s", errname(e_plain),
	    errname(e_reuse));
	fact(e_plain == EADDRINUSE && e_reuse == 0,
	     "06 \"SO_REUSEADDR\": while a TIME-WAIT entry holds the port, bind() fails "
	     "with "
	     "EADDRINUSE without SO_REUSEADDR and succeeds with it");

	closed_by_server(0, &server_port, &client_port);
	e_half = try_bind(server_port, 1);
	why("bind with SO_REUSEADDR over an entry whose socket had none: %s",
	    errname(e_half));
	fact(e_half == EADDRINUSE,
	     "06 \"SO_REUSEADDR\": on Linux the new socket may take the port only if the "
	     "connection in TIME-WAIT had SO_REUSEADDR too");
	return 0;
}
