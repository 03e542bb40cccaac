/*
 * Lesson 09 - sender: send messages as frames, so they arrive whole.
 *
 * Each message becomes one frame: its length as 4 bytes in network byte
 * order, then its bytes. The receiver can then split the stream back into
 * the same messages, however TCP cut or glued the bytes on the way.
 *
 * Usage: sender [-f] HOST PORT MESSAGE...
 *   Each MESSAGE argument is sent as one frame ('' is an empty frame).
 *   With -f, each MESSAGE names a file whose whole content is one frame
 *   (at most 16 MiB; a file may hold any bytes, NULs included).
 * Prints "sent frame N: LEN bytes" for each frame, then closes.
 *
 * Try:
 *   receiver 0                                 note the port it prints
 *   sender 127.0.0.1 PORT hello world          two frames, not "helloworld"
 *   head -c 1000000 /dev/urandom >/tmp/blob; sender -f 127.0.0.1 PORT /tmp/blob
 *                                              one frame of 1000000 bytes
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "framing.h"
#include "net.h"
#include "tcp.h"

/*
 * Read PATH into a malloc'd buffer, but at most FRAME_MAX + 1 bytes: enough
 * for send_frame to see that a file is too big for one frame. *LEN gets the
 * count. Returns the buffer, or NULL with errno set.
 */
static char *read_file(const char *path, size_t *len)
{
	size_t cap = (size_t)FRAME_MAX + 1, got = 0;
	char *buf = NULL;
	int saved, fd = open(path, O_RDONLY);

	if (fd == -1)
		return NULL;
	if ((buf = malloc(cap)) == NULL)
		goto fail;
	while (got < cap) {
		ssize_t n = read(fd, buf + got, cap - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto fail;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	*len = got;
	return buf;
fail:
	saved = errno;
	free(buf);
	close(fd);
	errno = saved;
	return NULL;
}

static _Noreturn void usage(void)
{
	fprintf(stderr, "usage: sender [-f] HOST PORT MESSAGE...\n");
	exit(2);
}

int main(int argc, char *argv[])
{
	int from_files = 0, opt, gai, fd;

	while ((opt = getopt(argc, argv, "f")) != -1) {
		if (opt != 'f')
			usage();
		from_files = 1;
	}
	if (argc - optind < 3)
		usage();
	const char *host = argv[optind], *port = argv[optind + 1];

	fd = tcp_connect(host, port, &gai);
	if (fd == -1 && gai != 0)
		errx(1, "%s: %s", host, gai_strerror(gai));
	if (fd == -1)
		err(1, "connect to %s:%s", host, port);

	// [snippet send_each]
	for (int i = optind + 2, n = 1; i < argc; i++, n++) {
		size_t len = strlen(argv[i]);
		char *buf = from_files ? read_file(argv[i], &len) : argv[i];

		if (buf == NULL)
			err(1, "%s", argv[i]);
		if (send_frame(fd, buf, len) == -1)
			err(1, "send frame %d", n);
		printf("sent frame %d: %zu bytes\n", n, len);
		fflush(stdout);
		if (from_files)
			free(buf);
	}
	// [end send_each]
	if (close(fd) == -1)
		err(1, "close");
	return 0;
}
