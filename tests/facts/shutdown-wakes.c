/*
 * tests/facts/shutdown-wakes.c - lesson 08's way to drop a slow client, and
 * lesson 01's question to an unbound socket.
 *
 * Usage: shutdown-wakes    (prints one "ok - fact: ..." line per fact; fact.h)
 */
#include "fact.h"

#include <dirent.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <sys/un.h>

static atomic_int in_recv;

struct blocked {
	int fd;
	ssize_t n;
	int e;
};

static void *recv_blocked(void *arg)
{
	struct blocked *b = arg;
	char buf[16];

	atomic_store(&in_recv, 1);
	b->n = recv(b->fd, buf, sizeof(buf), 0);
	b->e = b->n == -1 ? errno : 0;
	return NULL;
}

/* Whether a thread of this process other than the main one is asleep (in
 * recv(), here): state S in /proc/self/task/TID/stat (Linux). */
static int other_thread_asleep(void)
{
	char path[320], line[256], *state;
	struct dirent *ent;
	int asleep = 0;
	DIR *dir = opendir("/proc/self/task");

	if (dir == NULL)
		err(1, "/proc/self/task");
	while ((ent = readdir(dir)) != NULL) {
		FILE *f;

		if (ent->d_name[0] == '.' || atol(ent->d_name) == (long)getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/stat", ent->d_name);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		if (fgets(line, sizeof(line), f) != NULL &&
		    (state = strrchr(line, ')')) != NULL && state[1] == ' ' &&
		    state[2] == 'S')
			asleep = 1;
		fclose(f);
	}
	closedir(dir);
	return asleep;
}

/* Wait until the receiving thread has started and is asleep in recv(). */
static int wait_blocked(void)
{
	struct timespec tick = {0, 1000000};

	for (int i = 0; i < WAIT_MS; i++) {
		if (atomic_load(&in_recv) && other_thread_asleep())
			return 1;
		nanosleep(&tick, NULL);
	}
	return 0;
}

/* shutdown(SHUT_RDWR) from another thread wakes a recv() blocked on the
 * socket: it returns 0 (Linux; POSIX leaves it open). */
static void shutdown_wakes_recv(void)
{
	struct blocked b = {.n = -2};
	pthread_t thread;
	int c, s, blocked;

	tcp_pair(&c, &s);
	b.fd = s;
	atomic_store(&in_recv, 0);
	if (pthread_create(&thread, NULL, recv_blocked, &b) != 0)
		errx(1, "pthread_create");
	blocked = wait_blocked();
	if (shutdown(s, SHUT_RDWR) == -1)
		err(1, "shutdown");
	pthread_join(thread, NULL);
	why("the thread was asleep in recv(): %s; recv() returned %zd (%s)",
	    blocked ? "yes" : "no", b.n, errname(b.e));
	fact(blocked && b.n == 0,
	     "08 \"Slow clients and bounded sends\": shutdown(SHUT_RDWR) from another "
	     "thread wakes a recv() blocked on the socket, which returns 0 (Linux)");
	close(c);
	close(s);
}

/* Linux doubles the SO_SNDBUF a program sets, for its bookkeeping. */
static void sndbuf_doubled(void)
{
	int c, s, set = 128 * 1024, got = 0;
	socklen_t len = sizeof(got);

	tcp_pair(&c, &s);
	if (setsockopt(s, SOL_SOCKET, SO_SNDBUF, &set, sizeof(set)) == -1 ||
	    getsockopt(s, SOL_SOCKET, SO_SNDBUF, &got, &len) == -1)
		err(1, "SO_SNDBUF");
	why("set %d, getsockopt says %d", set, got);
	fact(got == 2 * set,
	     "08 \"Slow clients and bounded sends\": Linux doubles the "
	     "SO_SNDBUF a program sets (getsockopt reports twice the figure)");
	close(c);
	close(s);
}

/* getsockname() on a socket nothing has bound: it succeeds and gives the
 * family (Linux; POSIX leaves the result unspecified). */
static void unbound_family(void)
{
	const int families[] = {AF_INET, AF_INET6, AF_UNIX};
	int ok = 1;

	for (int i = 0; i < 3; i++) {
		struct sockaddr_storage addr;
		socklen_t len = sizeof(addr);
		int fd = socket(families[i], SOCK_STREAM, 0);

		if (fd == -1) {
			why("socket(family %d): %s; ", families[i], strerror(errno));
			ok = 0;
			continue;
		}
		memset(&addr, 0xff, sizeof(addr));
		if (getsockname(fd, (struct sockaddr *)&addr, &len) == -1) {
			why("getsockname(family %d): %s; ", families[i], strerror(errno));
			ok = 0;
		} else if (addr.ss_family != families[i]) {
			why("getsockname(family %d) gave family %d; ", families[i],
			    addr.ss_family);
			ok = 0;
		}
		close(fd);
	}
	fact(
	    ok,
	    "01 \"Asking the kernel what you made\": getsockname() on a socket not bound "
	    "yet succeeds and gives its family (Linux)");
}

int main(void)
{
	shutdown_wakes_recv();
	sndbuf_doubled();
	unbound_family();
	return 0;
}
