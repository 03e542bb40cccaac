/*
 * Lesson 01 - sockets: make a socket of each kind and ask the kernel what it is.
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

// [snippet describe]
/*
 * Print what the kernel says FD is: a socket (fstat), of which type
 * (getsockopt SO_TYPE) and family (getsockname). Returns 0, or -1 after
 * printing a warning.
 */
static int describe(int fd, const char *label)
{
	struct stat st;
	struct sockaddr_storage addr;
	socklen_t addr_len = sizeof(addr);
	int type;
	socklen_t type_len = sizeof(type);

	if (fstat(fd, &st) == -1) {
		warn("fstat(%s)", label);
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_len) == -1) {
		warn("getsockopt(%s, SO_TYPE)", label);
		return -1;
	}
	/* An unbound socket still has a family: getsockname reports it. */
	if (getsockname(fd, (struct sockaddr *)&addr, &addr_len) == -1) {
		warn("getsockname(%s)", label);
		return -1;
	}
	printf("%s -> fd %d (%s: family %s, type %s)\n", label, fd,
	       S_ISSOCK(st.st_mode) ? "a socket" : "not a socket",
	       constant_of(families, COUNT(families), addr.ss_family),
	       constant_of(types, COUNT(types), type));
	return 0;
}
// [end describe]

// [snippet tour_one]
/* Create one socket of FAMILY and TYPE, describe it, close it.
 * Returns 0, or -1 after printing a warning. */
static int tour_one(const struct choice *family, const struct choice *type)
{
	char label[32];
	int fd, rc;

	snprintf(label, sizeof(label), "%s %s", family->arg, type->arg);
	/* Protocol 0: the usual one for this family and type (TCP, UDP). */
	fd = socket(family->value, type->value, 0);
	if (fd == -1) {
		warn("socket(%s, %s)", family->arg, type->arg);
		return -1;
	}
	rc = describe(fd, label);
	/* Close even when describe failed: the number must not leak. */
	if (close(fd) == -1) {
		warn("close(%s)", label);
		rc = -1;
	}
	return rc;
}
// [end tour_one]

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
