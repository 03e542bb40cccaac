/*
 * Lesson 09 - framing.c: send and receive whole messages on a byte stream.
 * See framing.h for each function's contract.
 *
 * YOUR COPY: fill in the two TODOs below; `make check LESSON=09` tells you
 * how far you are. The chapter is lessons/09-framing/README.md. The sender
 * and the receiver of this lesson call these functions.
 */
#include "framing.h"
#include "io.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

ssize_t recv_all(int fd, void *buf, size_t len)
{
	/*
	 * TODO 2: receive exactly LEN bytes into BUF (chapter: "send_all and
	 * recv_all" and "Partial reads and writes": one recv() may bring a
	 * single byte, and the tests cut every call short, "How we test
	 * you"); recv_frame() below calls it. Loop on recv(fd, ...) for what
	 * is still missing:
	 *   - n == -1 and errno == EINTR: try again;
	 *   - n == -1 otherwise: return -1 (errno says why);
	 *   - n == 0: the peer closed; stop and return how many bytes you got;
	 *   - else count the n bytes and go on.
	 * Return LEN when everything arrived.
	 */
	(void)fd;
	(void)buf;
	(void)len;
	errno = ENOSYS;
	return -1;
}

int send_frame(int fd, const void *buf, size_t len)
{
	/*
	 * TODO 1: send one frame (chapter: "The length prefix" and "Byte order
	 * on the wire"):
	 *   - LEN over FRAME_MAX: set errno = EMSGSIZE and return -1;
	 *   - put htonl((uint32_t)LEN) in a uint32_t and send its 4 bytes with
	 *     send_all (common/io.h), then send the LEN payload bytes the same
	 *     way. Return 0, or -1 if a send_all failed.
	 */
	(void)fd;
	(void)buf;
	(void)len;
	errno = ENOSYS;
	return -1;
}

int recv_frame(int fd, char **buf, size_t *len)
{
	/*
	 * TODO 2, continued: receive one frame (chapter: "TCP is a byte
	 * stream", "Never trust a length" and "Clean EOF or truncation"):
	 *   - recv_all the 4 header bytes into an unsigned char[4]. 0 bytes:
	 *     return 0 (a clean end). 1 to 3 bytes: errno = EPROTO, return -1;
	 *   - memcpy them into a uint32_t and convert with ntohl;
	 *   - a length over FRAME_MAX: errno = EMSGSIZE, return -1, BEFORE
	 *     any malloc;
	 *   - malloc(length + 1), recv_all the payload into it; fewer bytes
	 *     than promised: free it, errno = EPROTO, return -1;
	 *   - put a '\0' after the payload, hand it out in *BUF and *LEN,
	 *     return 1.
	 */
	(void)fd;
	(void)buf;
	(void)len;
	errno = ENOSYS;
	return -1;
}
