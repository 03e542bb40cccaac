/*
 * tests/facts/peer-closed.c - a client whose server answered and closed
 * without reading what the client sent afterwards.
 *
 * Usage: peer-closed    (prints one "ok - fact: ..." line per fact; fact.h)
 *
 * The server end sends a reply and closes (a FIN); the client then sends a
 * line, which the closed socket answers with an RST. Each event is waited
 * for with poll() before the next step.
 */
#include "fact.h"

/* The server S replies and closes; the client C sends a line into the
 * closed socket and waits for the RST that answers it. */
static void reply_then_reset(int *c)
{
	int s;

	tcp_pair(c, &s);
	if (send(s, "hello\n", 6, 0) != 6)
		why("the reply was not sent; ");
	close(s); /* nothing unread yet: a FIN */
	if (!wait_fin(*c))
		why("no FIN came; ");
	if (send(*c, "x\n", 2, MSG_NOSIGNAL) != 2)
		why("the client's send failed at once; ");
	if (!wait_rst(*c))
		why("no RST came; ");
}

static void shutdown_after_reset(void)
{
	char buf[64];
	int c, e_shut, e_end;
	ssize_t r_data, r_end;

	reply_then_reset(&c);
	e_shut = shutdown(c, SHUT_WR) == -1 ? errno : 0;
	r_data = recv(c, buf, sizeof(buf), 0);
	r_end = recv(c, buf, sizeof(buf), 0);
	e_end = r_end == -1 ? errno : 0;
	close(c);
	why("shutdown: %s; recv: %zd, then %zd (%s)", errname(e_shut), r_data, r_end,
	    errname(e_end));
	fact(e_shut == ENOTCONN && r_data == 6 && r_end == 0,
	     "03 \"When the server closes first\": after the server's FIN and then "
	     "its RST, shutdown(SHUT_WR) fails with ENOTCONN, and recv() still "
	     "returns the reply, then 0 (the FIN came first)");
}

int main(void)
{
	shutdown_after_reset();
	return 0;
}
