/*
 * common/frame.c - see frame.h for each helper's contract.
 */
#include "frame.h"
#include "io.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

ssize_t frame_recv_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = recv(fd, p + got, len - got, 0);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break; /* the peer closed: report how far we got */
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int frame_send(int fd, const void *buf, size_t len)
{
	uint32_t header;

	if (len > FRAME_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	header = htonl((uint32_t)len);
	if (send_all(fd, &header, sizeof(header)) == -1)
		return -1;
	return send_all(fd, buf, len);
}

int frame_recv(int fd, size_t max, char **buf, size_t *len)
{
	unsigned char header[4];
	uint32_t length;
	ssize_t n;
	char *payload;

	n = frame_recv_all(fd, header, sizeof(header));
	if (n == -1)
		return -1;
	if (n == 0)
		return 0; /* between frames: a clean end */
	if ((size_t)n < sizeof(header)) {
		errno = EPROTO;
		return -1;
	}
	memcpy(&length, header, sizeof(length));
	length = ntohl(length);
	/* Check before malloc: the length is the peer's claim, not a fact. */
	if (length > max || length > FRAME_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	payload = malloc((size_t)length + 1);
	if (payload == NULL)
		return -1;
	n = frame_recv_all(fd, payload, length);
	if (n != (ssize_t)length) {
		if (n != -1)
			errno = EPROTO;
		free(payload);
		return -1;
	}
	payload[length] = '\0';
	*buf = payload;
	*len = length;
	return 1;
}
