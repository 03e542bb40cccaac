/*
 * Lesson 09 - framing.c: send and receive whole messages on a byte stream.
 * See framing.h for each function's contract.
 */
#include "framing.h"
#include "io.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

// [snippet recv_all]
ssize_t recv_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = recv(fd, p + got, len - got, 0);
		if (n == -1) {
			if (errno == EINTR)
				continue; /* a signal interrupted the wait: go on */
			return -1;
		}
		if (n == 0)
			break; /* the peer closed: the caller decides if that is fine */
		got += (size_t)n;
	}
	return (ssize_t)got;
}
// [end recv_all]

// [snippet send_frame]
int send_frame(int fd, const void *buf, size_t len)
{
	uint32_t header;

	if (len > FRAME_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	/* The length goes out big-endian whatever this machine's order is. */
	header = htonl((uint32_t)len);
	if (send_all(fd, &header, sizeof(header)) == -1)
		return -1;
	return send_all(fd, buf, len);
}
// [end send_frame]

// [snippet recv_frame]
int recv_frame(int fd, char **buf, size_t *len)
{
	unsigned char header[4];
	uint32_t length;
	ssize_t n;
	char *payload;

	n = recv_all(fd, header, sizeof(header));
	if (n == -1)
		return -1;
	if (n == 0)
		return 0; /* EOF between frames: the sender is done */
	if ((size_t)n < sizeof(header)) {
		errno = EPROTO; /* EOF inside the header: cut short */
		return -1;
	}
	memcpy(&length, header, sizeof(length));
	length = ntohl(length);
	/* The length is the peer's claim: check it before it costs memory. */
	if (length > FRAME_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	/* One byte more for a NUL after the payload, so text prints easily. */
	payload = malloc((size_t)length + 1);
	if (payload == NULL)
		return -1;
	n = recv_all(fd, payload, length);
	if (n != (ssize_t)length) {
		if (n != -1)
			errno = EPROTO; /* EOF inside the payload */
		free(payload);
		return -1;
	}
	payload[length] = '\0';
	*buf = payload;
	*len = length;
	return 1;
}
// [end recv_frame]
