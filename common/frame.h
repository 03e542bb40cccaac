/*
 * common/frame.h - length-prefixed messages on a stream socket.
 *
 * Lesson 09 teaches these as recv_all, send_frame and recv_frame, written by
 * the student in the lesson's own framing.c. The reference versions live here
 * for the lessons after it, under the prefix frame_ so that they never clash
 * at link time with the student's (every .c file in common/ is linked into every
 * program). The send side of recv_all is send_all, in io.h.
 *
 * The wire format: a frame is a 4-byte unsigned payload length in network
 * byte order (big-endian), then that many payload bytes. A payload is bytes,
 * not a string: it may hold NUL bytes and has no terminator.
 */
#ifndef COMMON_FRAME_H
#define COMMON_FRAME_H

#include <stddef.h>
#include <sys/types.h>

/* The largest payload the format allows: 16 MiB. A longer length is a
 * protocol error, never an allocation. */
#define FRAME_MAX (16u * 1024 * 1024)

/*
 * Receive exactly LEN bytes from the stream socket FD into BUF, looping over
 * short receives and retrying after EINTR. Returns LEN when all arrived, a
 * smaller count (0 included) if the peer closed the connection first, or -1
 * with errno set.
 */
ssize_t frame_recv_all(int fd, void *buf, size_t len);

/*
 * Send one frame: the length of BUF's LEN bytes, then the bytes. Returns 0,
 * or -1 with errno set: EMSGSIZE if LEN is over FRAME_MAX (nothing is sent),
 * else send's error (EPIPE if the peer went away; never SIGPIPE).
 */
int frame_send(int fd, const void *buf, size_t len);

/*
 * Receive one frame whose payload is at most MAX bytes (MAX itself at most
 * FRAME_MAX). Returns:
 *    1  a frame arrived: *BUF is a malloc'd copy of its *LEN payload bytes
 *       (the caller frees it; one NUL byte follows the payload, not counted
 *       in *LEN, so a text payload may be printed, but the payload itself may
 *       hold NULs);
 *    0  the peer closed the connection cleanly, before a frame began;
 *   -1  error, errno set: EMSGSIZE if the length was over MAX (nothing was
 *       allocated; the caller should close the connection), EPROTO if the
 *       connection closed inside a frame (header or payload), ENOMEM, or
 *       recv's error.
 */
int frame_recv(int fd, size_t max, char **buf, size_t *len);

#endif
