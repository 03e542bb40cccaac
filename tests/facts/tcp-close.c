/*
 * tests/facts/tcp-close.c - what a FIN and an RST do to the other side.
 *
 * Usage: tcp-close    (prints one "ok - fact: ..." line per fact; fact.h)
 *
 * Each fact makes a fresh connection over loopback, holds both ends, and
 * waits for each event (a FIN, an RST) with poll() before it looks.
 */
#include "fact.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

/* getpeername() on FD: 0, or the errno it failed with. */
static int peer_errno(int fd)
{
	struct sockaddr_in addr;
	socklen_t len = sizeof(addr);

	return getpeername(fd, (struct sockaddr *)&addr, &len) == -1 ? errno : 0;
}

/* After a FIN: getpeername works, the first send succeeds (the peer answers
 * it with an RST), the next send fails with EPIPE. */
static void after_fin(void)
{
	int c, s, e1, e2, pe;
	ssize_t n1, n2;

	tcp_pair(&c, &s);
	close(c); /* nothing unread: a FIN */
	if (!wait_fin(s))
		why("no FIN came; ");
	pe = peer_errno(s);
	n1 = send_quiet(s, "x", 1, &e1);
	if (!wait_rst(s))
		why("no RST came after the first send; ");
	n2 = send_quiet(s, "x", 1, &e2);
	why("getpeername: %s, first send: %zd (%s), second send: %zd (%s)", errname(pe),
	    n1, errname(e1), n2, errname(e2));
	fact(pe == 0 && n1 == 1 && n2 == -1 && e2 == EPIPE,
	     "02 \"When a client goes away\": after a FIN, getpeername works, the first "
	     "send "
	     "succeeds and the next fails with EPIPE");
	close(s);
}

/* Reset the connection from FD's side: SO_LINGER with a zero time. */
static void reset(int fd)
{
	struct linger lin = {.l_onoff = 1, .l_linger = 0};

	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin)) == -1)
		err(1, "setsockopt SO_LINGER");
	close(fd);
}

/* After an RST: getpeername fails with ENOTCONN, the first send with
 * ECONNRESET, the next with EPIPE. */
static void after_rst(void)
{
	int c, s, e1, e2, pe;
	ssize_t n1, n2;

	tcp_pair(&c, &s);
	reset(c);
	if (!wait_rst(s))
		why("no RST came; ");
	pe = peer_errno(s);
	n1 = send_quiet(s, "x", 1, &e1);
	n2 = send_quiet(s, "x", 1, &e2);
	why("getpeername: %s, first send: %zd (%s), second send: %zd (%s)", errname(pe),
	    n1, errname(e1), n2, errname(e2));
	fact(pe == ENOTCONN && n1 == -1 && e1 == ECONNRESET && n2 == -1 && e2 == EPIPE,
	     "02 \"When a client goes away\": after an RST, getpeername fails with "
	     "ENOTCONN, "
	     "the first send with ECONNRESET and the next with EPIPE");
	close(s);
}

/* close() with unread data sends an RST: the peer's recv fails with
 * ECONNRESET; without unread data the peer reads end of file. */
static void close_unread(void)
{
	char buf[16];
	int c, s, e_unread = 0, e_clean = 0;
	ssize_t r_unread, r_clean;

	tcp_pair(&c, &s);
	if (send(c, "unread", 6, 0) != 6 || !wait_queued(s, 6))
		why("the bytes did not arrive; ");
	close(s);
	wait_event(c, POLLIN);
	r_unread = recv(c, buf, sizeof(buf), 0);
	e_unread = r_unread == -1 ? errno : 0;
	close(c);

	tcp_pair(&c, &s);
	close(s);
	wait_event(c, POLLIN);
	r_clean = recv(c, buf, sizeof(buf), 0);
	e_clean = r_clean == -1 ? errno : 0;
	close(c);
	why("with unread data: recv %zd (%s); without: recv %zd (%s)", r_unread,
	    errname(e_unread), r_clean, errname(e_clean));
	fact(
	    r_unread == -1 && e_unread == ECONNRESET && r_clean == 0,
	    "02 \"Closing the connection\": close() with unread data sends an RST (the "
	    "peer's "
	    "recv fails with ECONNRESET); with none, a FIN (the peer reads end of file)");
}

/* A process killed with SIGKILL while it holds S; the peer C then reads. */
static ssize_t killed_holding(int c, int s, int *e)
{
	char buf[16];
	pid_t pid = fork();
	ssize_t r;

	if (pid == -1)
		err(1, "fork");
	if (pid == 0) {
		for (;;)
			pause(); /* holds s until killed */
	}
	close(s); /* only the child holds it now */
	if (kill(pid, SIGKILL) == -1 || waitpid(pid, NULL, 0) == -1)
		err(1, "kill");
	wait_event(c, POLLIN);
	r = recv(c, buf, sizeof(buf), 0);
	*e = r == -1 ? errno : 0;
	return r;
}

/* A killed process's sockets close with a FIN, or an RST if unread data
 * remains: the kernel closes them as close() would. */
static void killed(void)
{
	int c, s, e_clean, e_unread;
	ssize_t r_clean, r_unread;

	tcp_pair(&c, &s);
	r_clean = killed_holding(c, s, &e_clean);
	close(c);

	tcp_pair(&c, &s);
	if (send(c, "unread", 6, 0) != 6 || !wait_queued(s, 6))
		why("the bytes did not arrive; ");
	r_unread = killed_holding(c, s, &e_unread);
	close(c);
	why("nothing unread: the peer's recv %zd (%s); unread data: %zd (%s)", r_clean,
	    errname(e_clean), r_unread, errname(e_unread));
	fact(r_clean == 0 && r_unread == -1 && e_unread == ECONNRESET,
	     "appendix B \"Connection reset by peer (ECONNRESET)\": a killed process's "
	     "sockets close with a FIN, or with an RST when unread data remains");
}

/* In a child with SIGPIPE's default action: send twice (after the first,
 * wait for the RST it provokes). Exits 2 if the first send did not do what
 * it should (succeed after a FIN, fail with ECONNRESET after an RST), 1 if
 * it survives both. */
static void sigpipe_child(int s, int rst)
{
	ssize_t n;

	signal(SIGPIPE, SIG_DFL);
	n = send(s, "x", 1, 0);
	if (rst ? !(n == -1 && errno == ECONNRESET) : n != 1)
		_exit(2);
	wait_rst(s);
	(void)send(s, "x", 1, 0); /* SIGPIPE: the process dies here */
	_exit(1);
}

/* The writer's end of a connection whose peer closed (FIN) or reset (RST). */
static int peer_gone(int rst)
{
	int c, s;

	tcp_pair(&c, &s);
	if (rst)
		reset(c);
	else
		close(c);
	if (rst ? !wait_rst(s) : !wait_fin(s))
		why("no %s came; ", rst ? "RST" : "FIN");
	return s;
}

/* Fork a writer on S (its copy only); returns its wait status. */
static int writer_status(int s, int rst)
{
	int status;
	pid_t pid = fork();

	if (pid == -1)
		err(1, "fork");
	if (pid == 0)
		sigpipe_child(s, rst);
	close(s);
	if (waitpid(pid, &status, 0) == -1)
		err(1, "waitpid");
	if (WIFSIGNALED(status))
		why("the writer was killed by signal %d (SIGPIPE is %d)",
		    WTERMSIG(status), SIGPIPE);
	else
		why("%s", WEXITSTATUS(status) == 2
		              ? "the first send did not do what it should"
		              : "the writer survived two sends");
	return status;
}

/* A write after the peer has gone: after a FIN, the first succeeds and the
 * next raises SIGPIPE; after an RST, the first fails with ECONNRESET and
 * raises nothing, the next raises SIGPIPE. Its default action kills. */
static void sigpipe(void)
{
	int s, status;
	pid_t pid;

	status = writer_status(peer_gone(0), 0);
	fact(WIFSIGNALED(status) && WTERMSIG(status) == SIGPIPE,
	     "08 \"SIGPIPE: the signal that kills servers\": after the peer closed, the "
	     "first write succeeds and the next raises SIGPIPE, whose default action "
	     "kills the process");

	status = writer_status(peer_gone(1), 1);
	fact(WIFSIGNALED(status) && WTERMSIG(status) == SIGPIPE,
	     "08 \"SIGPIPE: the signal that kills servers\": after an RST, the second "
	     "write raises SIGPIPE too");

	/* The first write alone: it fails with ECONNRESET and raises nothing. */
	s = peer_gone(1);
	pid = fork();
	if (pid == -1)
		err(1, "fork");
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		_exit(send(s, "x", 1, 0) == -1 && errno == ECONNRESET ? 0 : 1);
	}
	close(s);
	if (waitpid(pid, &status, 0) == -1)
		err(1, "waitpid");
	if (WIFSIGNALED(status))
		why("the first write was killed by signal %d", WTERMSIG(status));
	else if (WEXITSTATUS(status) != 0)
		why("the first write did not fail with ECONNRESET");
	fact(
	    WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "08 \"SIGPIPE: the signal that kills servers\": the first write after an RST "
	    "fails with ECONNRESET and raises no SIGPIPE");
}

int main(void)
{
	after_fin();
	after_rst();
	close_unread();
	killed();
	sigpipe();
	return 0;
}
