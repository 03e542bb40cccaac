/*
 * Lesson 09 - framing.h: length-prefixed messages on a TCP stream.
 *
 * A frame is a 4-byte unsigned payload length in network byte order, then
 * that many payload bytes (at most FRAME_MAX, 16 MiB). The sender and the
 * receiver of this lesson both use this module; its send side also needs
 * send_all from common/io.h, which you wrote in lesson 03.
 */
#ifndef FRAMING_H
#define FRAMING_H

#include <stddef.h>
#include <sys/types.h>

#include "frame.h" /* FRAME_MAX, the format's limit, shared with common/ */

/*
 * Receive exactly LEN bytes from the stream socket FD into BUF, looping over
 * short receives and retrying after EINTR. Returns LEN when all arrived, a
 * smaller count (0 included) if the peer closed the connection first, or -1
 * with errno set.
 */
ssize_t recv_all(int fd, void *buf, size_t len);

/*
 * Send one frame holding the LEN bytes at BUF. Returns 0, or -1 with errno
 * set: EMSGSIZE if LEN is over FRAME_MAX (nothing is sent), else the error
 * of send (EPIPE if the peer went away).
 */
int send_frame(int fd, const void *buf, size_t len);

/*
 * Receive one frame. Returns:
 *    1  a frame arrived: *BUF is a malloc'd copy of its *LEN payload bytes,
 *       which the caller frees (a NUL byte follows them, not counted in
 *       *LEN; the payload itself may hold NULs);
 *    0  the peer closed the connection cleanly, before a frame began;
 *   -1  error, errno set: EMSGSIZE if the length was over FRAME_MAX
 *       (nothing was allocated), EPROTO if the connection closed inside a
 *       frame, ENOMEM, or the error of recv.
 */
int recv_frame(int fd, char **buf, size_t *len);

#endif
