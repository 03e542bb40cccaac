/*
 * tests/lib/reaper.c - run a command; when it ends, kill whatever it left.
 *
 * Usage: reaper COMMAND [ARGS...]
 *
 * The reaper makes itself a "child subreaper" (Linux, prctl
 * PR_SET_CHILD_SUBREAPER): a process COMMAND starts that loses its parent
 * (a double fork; setsid and a re-exec with an empty environment) is adopted
 * by the reaper instead of by init, so it cannot get out of reach. When
 * COMMAND exits, the reaper kills (SIGKILL) every child it still has, reaps
 * them, and repeats until it has none; then it exits with COMMAND's status
 * (128 + N if a signal N ended it). SIGTERM, SIGINT and SIGHUP are passed on
 * to COMMAND, and the same clean-up follows.
 *
 * scripts/isolate runs a suite under it where there is no PID namespace.
 * Where prctl has no subreaper (not Linux), it only runs COMMAND.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

static volatile sig_atomic_t pending_signal;

static void remember(int sig)
{
	pending_signal = sig;
}

/* The parent pid of process PID, from /proc/PID/stat, or -1. */
static long parent_of(const char *pid)
{
	char path[300], buf[512], *paren;
	long ppid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	/* "PID (NAME) STATE PPID ...": NAME may hold spaces and ')'. */
	if (fgets(buf, sizeof(buf), f) != NULL && (paren = strrchr(buf, ')')) != NULL)
		sscanf(paren + 1, " %*c %ld", &ppid);
	fclose(f);
	return ppid;
}

/* SIGKILL every process whose parent is this one. Returns how many. */
static int kill_children(void)
{
	DIR *proc = opendir("/proc");
	struct dirent *e;
	long self = (long)getpid();
	int n = 0;

	if (proc == NULL)
		return 0;
	while ((e = readdir(proc)) != NULL) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		if (parent_of(e->d_name) == self &&
		    kill((pid_t)atol(e->d_name), SIGKILL) == 0)
			n++;
	}
	closedir(proc);
	return n;
}

/* Kill and reap children until there are none. */
static void reap_all(void)
{
	for (;;) {
		kill_children();
		if (waitpid(-1, NULL, 0) == -1 && errno == ECHILD)
			return;
	}
}

int main(int argc, char *argv[])
{
	struct sigaction sa;
	pid_t cmd;
	int status = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: reaper COMMAND [ARGS...]\n");
		return 2;
	}
#ifdef __linux__
	if (prctl(PR_SET_CHILD_SUBREAPER, 1L, 0L, 0L, 0L) == -1)
		perror("reaper: prctl(PR_SET_CHILD_SUBREAPER)");
#endif
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = remember;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	cmd = fork();
	if (cmd == -1) {
		perror("reaper: fork");
		return 1;
	}
	if (cmd == 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		execvp(argv[1], argv + 1);
		fprintf(stderr, "reaper: %s: %s\n", argv[1], strerror(errno));
		_exit(127);
	}
	/* Reap orphans as they come, until COMMAND itself ends. */
	for (;;) {
		int st;
		pid_t pid = waitpid(-1, &st, 0);

		if (pid == cmd) {
			status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			break;
		}
		if (pid == -1 && errno == EINTR && pending_signal != 0) {
			kill(cmd, pending_signal);
			pending_signal = 0;
		} else if (pid == -1 && errno == ECHILD) {
			break;
		}
	}
	reap_all();
	return status;
}
