/*
 * tests/lib/preload-race.c - hold threads where a data race is most likely.
 *
 * ThreadSanitizer reports two accesses to shared memory when no lock or
 * other synchronisation orders them, but only if both really happen in the
 * run, in that relation. In a threaded server that depends on which thread
 * the scheduler runs first: a count changed just before pthread_mutex_lock
 * is "ordered" by the lock main takes to start the next thread, unless that
 * thread starts before the first has done its update. Loaded with
 * LD_PRELOAD into a program (the ThreadSanitizer build works: this library
 * comes before the sanitizer's in the search order and calls through to
 * it), it makes the unlucky orders certain:
 *   RACE_GATE=N        each thread made with pthread_create first waits
 *                      until N threads have been made (or RACE_GATE_MS,
 *                      default 10000, have passed), so that N threads start
 *                      their work together, after main has made them all
 *   RACE_UNLOCK_MS=MS  a thread that unlocks a mutex sleeps MS milliseconds
 *                      before it goes on, so that another thread waiting
 *                      for the lock runs its critical section (and what
 *                      follows) before this one does what follows its own
 * Its waits are sleeps and atomic counters that the sanitizer does not see,
 * so they add no ordering of their own: a correct program stays clean. Built
 * as GNU C, not ISO C: see scripts/build-tools.
 */
#define _GNU_SOURCE /* RTLD_NEXT: find the real function behind ours */
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#define REAL(name, type) ((type)dlsym(RTLD_NEXT, name))

static long created; /* threads made so far, read and written atomically */

struct start {
	void *(*fn)(void *);
	void *arg;
};

static long env_long(const char *name, long fallback)
{
	const char *v = getenv(name);
	return v != NULL && *v != '\0' ? atol(v) : fallback;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) == -1)
		;
}

/* The new thread's first steps: wait at the gate, then run the real start. */
static void *gated_start(void *p)
{
	struct start s = *(struct start *)p;
	long want = env_long("RACE_GATE", 0), left = env_long("RACE_GATE_MS", 10000);

	free(p);
	while (__atomic_load_n(&created, __ATOMIC_RELAXED) < want && left-- > 0)
		sleep_ms(1);
	return s.fn(s.arg);
}

int pthread_create(pthread_t *tid, const pthread_attr_t *attr, void *(*fn)(void *),
                   void *arg)
{
	typedef int (*create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *),
	                         void *);
	struct start *s = malloc(sizeof(*s));
	int rc;

	if (s == NULL)
		return REAL("pthread_create", create_fn)(tid, attr, fn, arg);
	s->fn = fn;
	s->arg = arg;
	rc = REAL("pthread_create", create_fn)(tid, attr, gated_start, s);
	if (rc != 0)
		free(s);
	else
		__atomic_add_fetch(&created, 1, __ATOMIC_RELAXED);
	return rc;
}

int pthread_mutex_unlock(pthread_mutex_t *m)
{
	long ms = env_long("RACE_UNLOCK_MS", 0);
	int rc = REAL("pthread_mutex_unlock", int (*)(pthread_mutex_t *))(m);

	if (ms > 0)
		sleep_ms(ms);
	return rc;
}
