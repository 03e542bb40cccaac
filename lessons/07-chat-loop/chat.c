/*
 * Lesson 07 - chat-loop: a two-party line chat that never deadlocks.
 *
 * YOUR COPY: fill in the three TODOs below; `make check LESSON=07` tells you
 * how far you are. The chapter is lessons/07-chat-loop/README.md.
 *
 * One side waits for the other; once connected, each line you type is sent,
 * and each line the other side sends is printed after "peer: ". Both can type
 * at any moment: poll() watches the keyboard and the socket together, so the
 * program never sits in recv() while you have something to say, nor in
 * read() while a line waits on the socket.
 *
 * Usage: chat -l PORT [ADDRESS]   listen (default 127.0.0.1) for one peer
 *        chat HOST PORT           connect to a chat that listens
 *
 * Output: "listening on ADDR:PORT" (with -l), "connected ADDR:PORT" (the
 * peer), "peer: TEXT" for each line received, then "peer left" when the
 * other side ends the conversation, or "you left" when you do: type /quit or
 * end your input (Ctrl-D). Both end with exit status 0.
 *
 * Try:
 *   chat -l 5070                       in one terminal
 *   chat 127.0.0.1 5070                in another; type in both, in any order
 *   /quit                              in either: the other says "peer left"
 */
#include <err.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io.h"
#include "net.h"
#include "tcp.h"

/* A line longer than this is passed on in pieces of this size. */
#define LINE_MAX_LEN 4096

// [snippet line_buf]
/* Bytes that have arrived but do not yet end in a newline. */
struct line_buf {
	char data[LINE_MAX_LEN];
	size_t len;
};
// [end line_buf]

/* What one step of the conversation decided. */
enum step { GO_ON, PEER_LEFT, WE_LEFT, BROKEN };

/* Print one received line (without its newline) as "peer: TEXT". */
static void print_peer_line(const char *text, size_t len)
{
	fputs("peer: ", stdout);
	fwrite(text, 1, len, stdout);
	putchar('\n');
	fflush(stdout);
}

// [snippet take_lines]
/*
 * Hand every complete line in BUF to EMIT (without its newline), then keep
 * only the unfinished tail, moved to the front: it is the start of a line
 * whose end has not come yet. A full buffer with no newline is emitted as it
 * is, so a very long line comes out in pieces instead of stopping the chat.
 * Returns what EMIT returned for the last line, or GO_ON.
 */
static enum step take_lines(struct line_buf *buf,
                            enum step (*emit)(int, const char *, size_t), int fd)
{
	size_t start = 0;
	enum step step = GO_ON;
	char *nl;

	while (step == GO_ON &&
	       (nl = memchr(buf->data + start, '\n', buf->len - start)) != NULL) {
		size_t len = (size_t)(nl - (buf->data + start));
		step = emit(fd, buf->data + start, len);
		start += len + 1;
	}
	if (step == GO_ON && start == 0 && buf->len == sizeof(buf->data)) {
		step = emit(fd, buf->data, buf->len);
		start = buf->len;
	}
	/*
	 * TODO 3: keep the unfinished tail (chapter: "Lines and recv()").
	 * The bytes from START to buf->len are the beginning of a line whose
	 * end has not arrived yet. Move them to the front of buf->data
	 * (memmove) and set buf->len to their count. Throwing them away, as
	 * this does, loses every line that arrives in two pieces.
	 */
	buf->len = 0;
	return step;
}
// [end take_lines]

static enum step show_line(int fd, const char *text, size_t len)
{
	(void)fd;
	print_peer_line(text, len);
	return GO_ON;
}

/* Send one typed line to FD, newline included, or end the conversation on
 * "/quit". The line and its newline go in one send: two sends would put
 * them in two packets, and a peer could see half a line arrive. */
static enum step send_line(int fd, const char *text, size_t len)
{
	char line[LINE_MAX_LEN + 1];

	if (len == 5 && memcmp(text, "/quit", 5) == 0)
		return WE_LEFT;
	memcpy(line, text, len); /* len <= LINE_MAX_LEN: see take_lines */
	line[len] = '\n';
	if (send_all(fd, line, len + 1) == -1) {
		warn("send");
		return BROKEN;
	}
	return GO_ON;
}

/* The socket is readable: take what came and print the finished lines. */
static enum step from_peer(int fd, struct line_buf *in)
{
	ssize_t n = recv(fd, in->data + in->len, sizeof(in->data) - in->len, 0);

	if (n == -1 && errno == EINTR)
		return GO_ON;
	if (n == -1) {
		warn("recv");
		return BROKEN;
	}
	/*
	 * TODO 2: end of file (chapter: "recv() returns 0: end of file" and
	 * "Ending the conversation").
	 * n == 0 means the peer closed: print any unfinished line it left in
	 * IN (print_peer_line), then return PEER_LEFT. Without this, 0 is
	 * taken for data and the chat spins.
	 */
	in->len += (size_t)n;
	return take_lines(in, show_line, fd);
}

// [snippet from_user]
/* Standard input is readable: send the finished lines, or leave at EOF. */
static enum step from_user(int fd, struct line_buf *typed)
{
	ssize_t n = read(STDIN_FILENO, typed->data + typed->len,
	                 sizeof(typed->data) - typed->len);

	if (n == -1 && errno == EINTR)
		return GO_ON;
	if (n == -1) {
		warn("read standard input");
		return BROKEN;
	}
	if (n == 0) {
		/* End of input is as good as /quit; send what was typed first. */
		if (typed->len > 0 && send_line(fd, typed->data, typed->len) == BROKEN)
			return BROKEN;
		return WE_LEFT;
	}
	typed->len += (size_t)n;
	return take_lines(typed, send_line, fd);
}
// [end from_user]

// [snippet talk]
/*
 * The communication loop, full duplex: wait until the keyboard or the socket
 * has something, handle whichever is ready, and go round. Returns how the
 * conversation ended.
 */
static enum step talk(int fd)
{
	struct line_buf typed = {.len = 0}, in = {.len = 0};
	enum step step = GO_ON;

	/*
	 * TODO 1: the full-duplex loop (chapter: "A chat in both directions",
	 * "Why taking turns deadlocks" and "poll(): waiting for two things at
	 * once"). Make an array of two struct pollfd, one for
	 * STDIN_FILENO and one for FD, both with events = POLLIN. While step
	 * is GO_ON: poll() them with no timeout (retry on EINTR; on another
	 * error, warn and return BROKEN); if the socket's revents is not 0,
	 * step = from_peer(fd, &in); then, if step is still GO_ON and stdin's
	 * revents is not 0, step = from_user(fd, &typed).
	 * For now the chat ends at once.
	 */
	(void)fd;
	(void)typed;
	(void)in;
	(void)from_peer;
	(void)from_user;
	return step == GO_ON ? WE_LEFT : step;
}
// [end talk]

/* Wait on PORT (at HOST) for one peer; the listening socket is closed as soon
 * as the peer is in, since nobody else may join. Returns the connected
 * descriptor, or -1 after printing why. */
static int wait_for_peer(const char *host, const char *port)
{
	int gai, cfd, lfd = tcp_listen(host, port, 1, &gai);

	if (lfd == -1) {
		if (gai != 0)
			warnx("%s: %s", host, gai_strerror(gai));
		else
			warn("listen on %s:%s", host, port);
		return -1;
	}
	if (announce_listener(lfd) == -1) {
		warn("announce");
		close(lfd);
		return -1;
	}
	while ((cfd = accept(lfd, NULL, NULL)) == -1 &&
	       (errno == EINTR || errno == ECONNABORTED))
		;
	if (cfd == -1)
		warn("accept");
	if (close(lfd) == -1)
		warn("close listening socket");
	return cfd;
}

/* Connect to a chat waiting on HOST PORT. Returns the descriptor, or -1
 * after printing why. */
static int call_peer(const char *host, const char *port)
{
	int gai, fd = tcp_connect(host, port, &gai);

	if (fd == -1 && gai != 0)
		warnx("%s: %s", host, gai_strerror(gai));
	else if (fd == -1)
		warn("connect to %s:%s", host, port);
	return fd;
}

/* Print "connected ADDR:PORT" for the peer of FD. */
static int announce_peer(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char peer[SOCKADDR_STRLEN];

	if (getpeername(fd, (struct sockaddr *)&ss, &len) == -1 ||
	    sockaddr_format((struct sockaddr *)&ss, len, peer, sizeof(peer)) == NULL)
		return -1;
	printf("connected %s\n", peer);
	return fflush(stdout) == EOF ? -1 : 0;
}

static _Noreturn void usage(void)
{
	fprintf(stderr, "usage: chat -l PORT [ADDRESS] | chat HOST PORT\n");
	exit(2);
}

int main(int argc, char *argv[])
{
	unsigned short ignored;
	int fd;
	enum step how;

	if (argc >= 3 && argc <= 4 && strcmp(argv[1], "-l") == 0) {
		if (parse_port(argv[2], &ignored) == -1)
			usage();
		fd = wait_for_peer(argc == 4 ? argv[3] : "127.0.0.1", argv[2]);
	} else if (argc == 3 && argv[1][0] != '-') {
		fd = call_peer(argv[1], argv[2]);
	} else {
		usage();
	}
	if (fd == -1)
		return 1;
	if (ignore_sigpipe() == -1 || announce_peer(fd) == -1) {
		warn("setup");
		close(fd);
		return 1;
	}
	how = talk(fd);
	/* After /quit the peer may still be typing: a plain close() with its
	 * lines unread would reset the connection and could destroy our own
	 * last lines in flight. FIN first, then wait (bounded) for its close. */
	if (tcp_close_drained(fd) == -1)
		warn("close");
	if (how == BROKEN)
		return 1;
	printf("%s\n", how == PEER_LEFT ? "peer left" : "you left");
	return fflush(stdout) == EOF ? 1 : 0;
}
