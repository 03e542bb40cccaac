/*
 * common/io.h - loops around write(2) and send(2) that move every byte.
 *
 * Lesson 03 writes this loop by hand; from lesson 04 on, programs use these.
 * Lesson 09 adds the matching receive side and message frames (frame.h).
 */
#ifndef COMMON_IO_H
#define COMMON_IO_H

#include <stddef.h>

/*
 * Send all LEN bytes of BUF on the connected socket FD, looping over short
 * sends and retrying after EINTR. Never raises SIGPIPE: a vanished peer is
 * reported as EPIPE. Returns 0, or -1 with errno set (some bytes may have
 * been sent).
 */
int send_all(int fd, const void *buf, size_t len);

/*
 * Write all LEN bytes of BUF to FD (a file, a pipe, a terminal), looping over
 * short writes and retrying after EINTR. Returns 0, or -1 with errno set.
 */
int write_all(int fd, const void *buf, size_t len);

#endif
