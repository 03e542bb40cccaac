/*
 * tests/lib/gai-says.c - what getaddrinfo() says about a name, here and now.
 *
 * A test of a client's resolver error needs the resolver's own words, which
 * depend on the machine: "Name or service not known" with a name server,
 * "Temporary failure in name resolution" in a box without one. This asks
 * getaddrinfo() the way a client would and prints the message a correct
 * client reports, so the test can compare exactly instead of guessing.
 *
 * Usage: gai-says HOST [PORT]
 *   Prints one line per set of hints a client may reasonably pass (any
 *   family or one, any socket type or SOCK_STREAM, with or without
 *   AI_ADDRCONFIG): "ok" if the name resolves, else gai_strerror(rc), or
 *   strerror(errno) for EAI_SYSTEM. Lines already printed are not repeated.
 *   Exit 0, or 2 on bad usage.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define MAX_SAID 16

int main(int argc, char *argv[])
{
	static const int families[] = {AF_UNSPEC, AF_INET, AF_INET6};
	static const int types[] = {SOCK_STREAM, 0};
	static const int flags[] = {0, AI_ADDRCONFIG};
	const char *said[MAX_SAID];
	int n_said = 0;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: gai-says HOST [PORT]\n");
		return 2;
	}
	for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++)
		for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++)
			for (size_t g = 0; g < sizeof(flags) / sizeof(flags[0]); g++) {
				struct addrinfo hints = {0}, *res;
				const char *msg;
				int rc, i;

				hints.ai_family = families[f];
				hints.ai_socktype = types[t];
				hints.ai_flags = flags[g];
				errno = 0;
				rc = getaddrinfo(argv[1], argc == 3 ? argv[2] : NULL,
				                 &hints, &res);
				if (rc == 0) {
					freeaddrinfo(res);
					msg = "ok";
				} else {
					msg = rc == EAI_SYSTEM ? strerror(errno)
					                       : gai_strerror(rc);
				}
				for (i = 0; i < n_said && strcmp(said[i], msg) != 0; i++)
					;
				if (i < n_said || n_said == MAX_SAID)
					continue;
				said[n_said++] = msg;
				printf("%s\n", msg);
			}
	return 0;
}
