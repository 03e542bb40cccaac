/*
 * Lesson 01 - sockets: make a socket of each kind and ask the kernel what it is.
 *
 * YOUR COPY: fill in the two TODOs below; `make check LESSON=01` tells you
 * how far you are. The chapter is lessons/01-socket/README.md.
 *
 * A socket is a file descriptor: a small integer naming an open kernel object,
 * like an open file. This program creates one socket per address family
 * (IPv4, IPv6, UNIX domain) and type (stream, datagram), asks the kernel what
 * it made, prints one line about it, and closes it before the next.
 *
 * Usage: sockets [FAMILY TYPE]
 *   FAMILY: inet | inet6 | unix     TYPE: stream | dgram
 *   With no arguments, all six combinations in turn.
 *
 * Try:
 *   sockets                  six lines; every one says "fd 3", because each
 *                            socket is closed before the next is made and the
 *                            kernel hands out the lowest free number
 *   sockets inet6 dgram      the kernel's view of one IPv6 UDP socket
 *   (ulimit -n 3; sockets)   no descriptor is free: see how the error reads
 */
#include <err.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

// [snippet choices]
/* A name on the command line, the constant it stands for, and that
 * constant's name in C, for printing. */
struct choice {
	const char *arg;
	int value;
	const char *constant;
};

static const struct choice families[] = {
    {"inet", AF_INET, "AF_INET"},
    {"inet6", AF_INET6, "AF_INET6"},
    {"unix", AF_UNIX, "AF_UNIX"},
};

static const struct choice types[] = {
    {"stream", SOCK_STREAM, "SOCK_STREAM"},
    {"dgram", SOCK_DGRAM, "SOCK_DGRAM"},
};
// [end choices]

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The choice whose ARG is NAME, or NULL. */
static const struct choice *by_arg(const struct choice *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i].arg, name) == 0)
			return &list[i];
	return NULL;
}

/* The C name of VALUE in LIST, or "?" if the kernel said something else. */
static const char *constant_of(const struct choice *list, size_t n, int value)
{
	for (size_t i = 0; i < n; i++)
		if (list[i].value == value)
			return list[i].constant;
	return "?";
}

/*
 * Print what the kernel says FD is, as one line:
 *   LABEL -> fd N (a socket: family AF_..., type SOCK_...)
 * Returns 0, or -1 after printing a warning.
 */
static int describe(int fd, const char *label)
{
	/*
	 * TODO 2: ask the kernel what FD is, and print the line above
	 * (section "Asking the kernel what you made"); tour_one() calls it:
	 *   - fstat(fd, ...) and S_ISSOCK(st.st_mode): is it a socket?
	 *   - getsockopt(fd, SOL_SOCKET, SO_TYPE, ...): its type;
	 *   - getsockname(fd, ...) into a struct sockaddr_storage: its family
	 *     (ss_family).
	 * Turn the numbers into names with constant_of(). Check each call: on
	 * -1, warn("fstat(%s)", label) (or getsockopt, getsockname) and return -1.
	 */
	(void)fd;
	(void)label;
	(void)constant_of;
	return 0;
}

/* Create one socket of FAMILY and TYPE, describe it, close it.
 * Returns 0, or -1 after printing a warning. */
static int tour_one(const struct choice *family, const struct choice *type)
{
	char label[32];

	snprintf(label, sizeof(label), "%s %s", family->arg, type->arg);
	/*
	 * TODO 1: create the socket with socket(family->value, type->value, 0)
	 * (section "Creating a socket"). If it returns -1, report it with
	 * warn("socket(%s, %s)", family->arg, type->arg) and return -1
	 * (section "When socket() fails").
	 * Then call describe(fd, label) (it prints nothing until you do
	 * TODO 2), and close the socket, even when describe failed (section
	 * "Closing a socket"). Return -1 if either failed, 0 otherwise.
	 */
	(void)describe;
	(void)label;
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: sockets [inet|inet6|unix stream|dgram]\n");
}

int main(int argc, char *argv[])
{
	const struct choice *family, *type;

	if (argc == 1) {
		for (size_t f = 0; f < COUNT(families); f++)
			for (size_t t = 0; t < COUNT(types); t++)
				if (tour_one(&families[f], &types[t]) == -1)
					return 1;
		return 0;
	}
	if (argc != 3) {
		usage();
		return 2;
	}
	family = by_arg(families, COUNT(families), argv[1]);
	type = by_arg(types, COUNT(types), argv[2]);
	if (family == NULL || type == NULL) {
		usage();
		return 2;
	}
	return tour_one(family, type) == -1 ? 1 : 0;
}
