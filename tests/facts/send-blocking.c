/*
 * tests/facts/send-blocking.c - when send() and recv() return less, or
 * fail with EINTR.
 *
 * Usage: send-blocking    (prints one "ok - fact: ..." line per fact; fact.h)
 *
 * The buffers are set small (SO_SNDBUF, SO_RCVBUF), which also stops the
 * kernel from growing them, so "more than both buffers hold" is a known size.
 */
#include "fact.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/time.h>

static atomic_int send_returned, stop_signals;
static int peer_fd = -1; /* the handler's socket, in the SA_RESTART case */

/* A pair with small buffers; returns how many bytes both buffers can hold
 * at most (the kernel doubles what it is given and reports that). */
static size_t small_pair(int *c, int *s)
{
	int size = 32 * 1024, snd = 0, rcv = 0;
	socklen_t len = sizeof(int);

	tcp_pair(c, s);
	if (setsockopt(*c, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)) == -1 ||
	    setsockopt(*s, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) == -1)
		err(1, "setsockopt SO_SNDBUF/SO_RCVBUF");
	if (getsockopt(*c, SOL_SOCKET, SO_SNDBUF, &snd, &len) == -1 ||
	    getsockopt(*s, SOL_SOCKET, SO_RCVBUF, &rcv, &len) == -1)
		err(1, "getsockopt");
	return (size_t)snd + (size_t)rcv;
}

struct drain {
	int fd;
	size_t total;
	int stalled_before_return; /* the queue stopped growing while send() waited */
};

/* Wait until the receive queue stops growing (the buffers are full), note
 * whether send() had returned by then, then read everything. */
static void *drain_after_stall(void *arg)
{
	struct drain *d = arg;
	struct timespec tick = {0, 5000000}; /* 5 ms */
	static char buf[65536];
	int queued = -1, last = -1, same = 0;
	size_t got = 0;
	ssize_t n;

	for (int i = 0; i < WAIT_MS / 5 && same < 10; i++) {
		if (ioctl(d->fd, FIONREAD, &queued) == -1)
			err(1, "ioctl FIONREAD");
		same = queued > 0 && queued == last ? same + 1 : 0;
		last = queued;
		nanosleep(&tick, NULL);
	}
	d->stalled_before_return = same >= 10 && !atomic_load(&send_returned);
	while (got < d->total && (n = recv(d->fd, buf, sizeof(buf), 0)) > 0)
		got += (size_t)n;
	return NULL;
}

/* One blocking send() of many times what the buffers hold: it waits for the
 * reader, and returns the whole count. */
static void blocking_send_waits(void)
{
	struct drain d;
	pthread_t reader;
	char *buf;
	int c, s;
	ssize_t n;

	d.total = 16 * small_pair(&c, &s);
	d.fd = s;
	d.stalled_before_return = 0;
	buf = calloc(1, d.total);
	if (buf == NULL)
		err(1, "calloc");
	atomic_store(&send_returned, 0);
	if (pthread_create(&reader, NULL, drain_after_stall, &d) != 0)
		errx(1, "pthread_create");
	n = send(c, buf, d.total, MSG_NOSIGNAL);
	atomic_store(&send_returned, 1);
	pthread_join(reader, NULL);
	why("send() of %zu bytes returned %zd; it had not returned when the buffers were "
	    "full: %s",
	    d.total, n, d.stalled_before_return ? "yes" : "no");
	fact(
	    n == (ssize_t)d.total && d.stalled_before_return,
	    "09 \"Partial reads and writes\": a blocking send() with a full buffer waits "
	    "until there is room, and returns the whole count");
	free(buf);
	close(c);
	close(s);
}

/* With SO_SNDTIMEO, or MSG_DONTWAIT, and nobody reading: a short count. */
static void short_sends(void)
{
	struct timeval tv = {0, 100000}; /* 100 ms */
	size_t total;
	char *buf;
	int c, s;
	ssize_t n_timeout, n_dontwait;

	total = 16 * small_pair(&c, &s);
	buf = calloc(1, total);
	if (buf == NULL)
		err(1, "calloc");
	if (setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1)
		err(1, "setsockopt SO_SNDTIMEO");
	n_timeout = send(c, buf, total, MSG_NOSIGNAL);
	close(c);
	close(s);

	small_pair(&c, &s);
	n_dontwait = send(c, buf, total, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(c);
	close(s);
	why("send() of %zu bytes: with SO_SNDTIMEO %zd, with MSG_DONTWAIT %zd", total,
	    n_timeout, n_dontwait);
	fact(n_timeout > 0 && (size_t)n_timeout < total && n_dontwait > 0 &&
	         (size_t)n_dontwait < total,
	     "09 \"Partial reads and writes\": a short count comes with a send timeout "
	     "(SO_SNDTIMEO) or a non-blocking send when the buffer fills");
	free(buf);
}

static void on_signal(int sig)
{
	int e = errno;

	(void)sig;
	if (peer_fd != -1)
		(void)send(peer_fd, "x", 1, MSG_NOSIGNAL);
	errno = e;
}

/* Signal the main thread every 10 ms until told to stop. */
static void *signaller(void *arg)
{
	pthread_t *target = arg;
	struct timespec tick = {0, 10000000};

	while (!atomic_load(&stop_signals)) {
		pthread_kill(*target, SIGUSR1);
		nanosleep(&tick, NULL);
	}
	return NULL;
}

/* A blocking recv() on an idle connection while signals come: with the
 * handler installed without SA_RESTART it fails with EINTR; with SA_RESTART
 * it goes on (and gets the byte the handler sends). Returns what recv did. */
static ssize_t recv_under_signals(int restart, int *e)
{
	struct sigaction sa;
	struct timeval tv = {5, 0};
	pthread_t self = pthread_self(), thread;
	char buf[8];
	int c, s;
	ssize_t n;

	tcp_pair(&c, &s);
	/* A bound without SA_RESTART, in case no signal came (it then fails
	 * with EAGAIN). Not with SA_RESTART: with a timeout set, Linux does not
	 * restart the call (signal(7)); facts.sh bounds that case. */
	if (!restart && setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1)
		err(1, "setsockopt SO_RCVTIMEO");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = restart ? SA_RESTART : 0;
	if (sigaction(SIGUSR1, &sa, NULL) == -1)
		err(1, "sigaction");
	peer_fd = restart ? c : -1;
	atomic_store(&stop_signals, 0);
	if (pthread_create(&thread, NULL, signaller, &self) != 0)
		errx(1, "pthread_create");
	n = recv(s, buf, sizeof(buf), 0);
	*e = n == -1 ? errno : 0;
	atomic_store(&stop_signals, 1);
	pthread_join(thread, NULL);
	peer_fd = -1;
	close(c);
	close(s);
	return n;
}

static void eintr(void)
{
	int e_plain, e_restart;
	ssize_t n_plain = recv_under_signals(0, &e_plain);
	ssize_t n_restart = recv_under_signals(1, &e_restart);

	why("without SA_RESTART: recv %zd (%s); with SA_RESTART: recv %zd (%s)", n_plain,
	    errname(e_plain), n_restart, errname(e_restart));
	fact(n_plain == -1 && e_plain == EINTR && n_restart == 1,
	     "09 \"Partial reads and writes\": a signal caught during a blocking recv() "
	     "makes "
	     "it fail with EINTR when its handler was installed without SA_RESTART; with "
	     "SA_RESTART the recv() goes on");
	signal(SIGUSR1, SIG_IGN);
}

int main(void)
{
	blocking_send_waits();
	short_sends();
	eintr();
	return 0;
}
