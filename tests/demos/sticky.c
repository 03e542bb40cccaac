/*
 * tests/demos/sticky.c - lesson 09's demonstration: TCP keeps no message
 * boundaries. Two send() calls can arrive as one recv(), and one send() as
 * several.
 *
 * Usage: sticky
 *
 * It connects to itself over loopback (a listener on 127.0.0.1, port 0) and
 * holds both ends, so it controls the timing that a network leaves to chance:
 *   1. it sends "hello" and "world" with two send() calls, waits until the
 *      kernel holds all ten bytes for the receiving socket (ioctl FIONREAD),
 *      then calls recv() once, with room for 1024 bytes;
 *   2. it sends 3000 bytes with one send() call, waits the same way, then
 *      calls recv() with room for 1024 bytes until all have come.
 * Each call prints one line. The output is the same on every run.
 *
 * Try: build/demos/sticky   (scripts/build-tools builds it)
 */
#include <err.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BIG 3000

/* A connected pair over loopback: *client and *server. Dies on failure. */
static void connect_to_self(int *client, int *server)
{
	struct sockaddr_in addr;
	socklen_t len = sizeof(addr);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);

	if (lfd == -1)
		err(1, "socket");
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = 0; /* the kernel chooses */
	if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) == -1 ||
	    listen(lfd, 1) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&addr, &len) == -1)
		err(1, "listen on 127.0.0.1");
	*client = socket(AF_INET, SOCK_STREAM, 0);
	if (*client == -1)
		err(1, "socket");
	if (connect(*client, (struct sockaddr *)&addr, sizeof(addr)) == -1)
		err(1, "connect to 127.0.0.1:%u", (unsigned)ntohs(addr.sin_port));
	*server = accept(lfd, NULL, NULL);
	if (*server == -1)
		err(1, "accept");
	close(lfd);
}

/* One send() call of LEN bytes; a short count or a failure is fatal here. */
static void send_once(int fd, const char *buf, size_t len, int show)
{
	ssize_t n = send(fd, buf, len, 0);

	if (n == -1)
		err(1, "send");
	if ((size_t)n != len)
		errx(1, "send: %zd of %zu bytes", n, len);
	if (show)
		printf("send() %zd bytes: \"%.*s\"\n", n, (int)n, buf);
	else
		printf("send() %zd bytes\n", n);
}

// [snippet wait_queued]
/* Wait (up to 5 s) until the kernel holds at least WANT bytes that FD has
 * not received yet. FIONREAD (SIOCINQ on Linux) tells how many. */
static void wait_queued(int fd, int want)
{
	struct timespec tick = {0, 1000000}; /* 1 ms */
	int queued = 0;

	for (int i = 0; i < 5000; i++) {
		if (ioctl(fd, FIONREAD, &queued) == -1)
			err(1, "ioctl FIONREAD");
		if (queued >= want)
			return;
		nanosleep(&tick, NULL);
	}
	errx(1, "only %d of %d bytes arrived in 5 s", queued, want);
}
// [end wait_queued]

/* One recv() call with room for SIZE bytes; prints what it returned. */
static ssize_t recv_once(int fd, char *buf, size_t size, int show)
{
	ssize_t n = recv(fd, buf, size, 0);

	if (n == -1)
		err(1, "recv");
	if (show)
		printf("recv() %zd bytes: \"%.*s\"\n", n, (int)n, buf);
	else
		printf("recv() %zd bytes\n", n);
	return n;
}

int main(void)
{
	static char big[BIG], buf[1024];
	int client, server;
	ssize_t got = 0, n;

	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	connect_to_self(&client, &server);

	// [snippet two_sends]
	send_once(client, "hello", 5, 1);
	send_once(client, "world", 5, 1);
	wait_queued(server, 10); /* both sends are there before the recv */
	recv_once(server, buf, sizeof(buf), 1);
	// [end two_sends]

	// [snippet one_send]
	memset(big, 'x', sizeof(big));
	send_once(client, big, sizeof(big), 0);
	wait_queued(server, BIG);
	while (got < BIG) {
		n = recv_once(server, buf, sizeof(buf), 0);
		if (n == 0)
			errx(1, "end of stream after %zd bytes", got);
		got += n;
	}
	// [end one_send]

	close(client);
	close(server);
	return 0;
}
