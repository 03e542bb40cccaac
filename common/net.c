/*
 * common/net.c - see net.h for each helper's contract.
 */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

int parse_long(const char *text, long min, long max, long *value)
{
	char *end;
	long v;

	/* strtol accepts leading blanks and a sign; a count or a port is neither. */
	if (text[0] < '0' || text[0] > '9') {
		errno = EINVAL;
		return -1;
	}
	errno = 0;
	v = strtol(text, &end, 10);
	if (errno != 0)
		return -1;
	if (*end != '\0') {
		errno = EINVAL;
		return -1;
	}
	if (v < min || v > max) {
		errno = ERANGE;
		return -1;
	}
	*value = v;
	return 0;
}

int parse_port(const char *text, unsigned short *port)
{
	long v;

	if (parse_long(text, 0, 65535, &v) == -1) {
		errno = EINVAL;
		return -1;
	}
	*port = (unsigned short)v;
	return 0;
}

/* getopt's letters for the common line and the server's own: "n:" + OPTIONS.
 * Returns BUF, or NULL if they do not fit or OPTIONS claims 'n' too. */
static const char *listen_optstring(const char *options, char *buf, size_t size)
{
	int n;

	if (options == NULL)
		options = "";
	if (strchr(options, 'n') != NULL)
		return NULL;
	n = snprintf(buf, size, "n:%s", options);
	return n < 0 || (size_t)n >= size ? NULL : buf;
}

/* parse_listen_args's failure: bad usage, whichever part was bad. */
static int bad_usage(void)
{
	errno = EINVAL;
	return -1;
}

int parse_listen_args(int argc, char *argv[], struct listen_args *args)
{
	char buf[32];
	const char *optstring = listen_optstring(args->options, buf, sizeof(buf));
	unsigned short port;
	int opt, operands;

	args->count = SERVE_FOREVER;
	args->host = DEFAULT_LISTEN_HOST;
	if (optstring == NULL || args->leading < 0)
		return bad_usage();
	while ((opt = getopt(argc, argv, optstring)) != -1) {
		if (opt == 'n') {
			/* A count of 0 or "-1" is refused, not taken for "forever":
			 * forever is what leaving -n out says. */
			if (parse_long(optarg, 1, SERVE_COUNT_MAX, &args->count) == -1)
				return bad_usage();
		} else if (opt == '?' || opt == ':' || args->option == NULL ||
		           args->option(opt, optarg, args->data) == -1) {
			return bad_usage();
		}
	}
	/* LEAD... PORT, then at most one ADDRESS. */
	operands = argc - optind - args->leading;
	if (operands < 1 || operands > 2)
		return bad_usage();
	args->lead = argv + optind;
	args->port = argv[optind + args->leading];
	if (parse_port(args->port, &port) == -1)
		return bad_usage();
	if (operands == 2)
		args->host = argv[optind + args->leading + 1];
	return 0;
}

/* snprintf into BUF, turning truncation into ENOSPC. */
static char *format_into(char *buf, size_t size, int n)
{
	if (n < 0 || (size_t)n >= size) {
		errno = ENOSPC;
		return NULL;
	}
	return buf;
}

static char *format_unix(const struct sockaddr_un *sun, socklen_t len, char *buf,
                         size_t size)
{
	size_t offset = offsetof(struct sockaddr_un, sun_path);
	size_t path_len = len > offset ? len - offset : 0;

	/* An unbound or abstract socket has no printable path. */
	if (path_len == 0 || sun->sun_path[0] == '\0')
		return format_into(buf, size, snprintf(buf, size, "(unnamed)"));
	return format_into(buf, size,
	                   snprintf(buf, size, "%.*s",
	                            (int)strnlen(sun->sun_path, path_len),
	                            sun->sun_path));
}

char *sockaddr_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		return format_into(
		    buf, size,
		    snprintf(buf, size, "%s:%u", host, (unsigned)ntohs(sin->sin_port)));
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		return format_into(buf, size,
		                   snprintf(buf, size, "[%s]:%u", host,
		                            (unsigned)ntohs(sin6->sin6_port)));
	}
	if (sa->sa_family == AF_UNIX)
		return format_unix((const struct sockaddr_un *)sa, len, buf, size);
	errno = EAFNOSUPPORT;
	return NULL;
}

int announce_listener(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char text[SOCKADDR_STRLEN];

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return -1;
	if (sockaddr_format((struct sockaddr *)&ss, len, text, sizeof(text)) == NULL)
		return -1;
	/* Tests and scripts wait for this exact line: flush, or it sits in the
	 * stdio buffer whenever stdout is a pipe or a file. */
	if (printf("listening on %s\n", text) < 0 || fflush(stdout) == EOF)
		return -1;
	return 0;
}

int ignore_sigpipe(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGPIPE, &sa, NULL);
}
