/*
 * engine_cpu.c - where the engine's threads run.
 *
 * On a small host the engine's thread, the persister, the filler and
 * the group commit's fsync helpers are more runnable threads than
 * CPUs: while a checkpoint is filled beside the per-batch output, the
 * scheduler time-slices the engine with them, and every slice it
 * loses is on the critical path.  So by default the writer threads are
 * kept off the CPU the engine's thread runs on (all the other CPUs the
 * process may use are theirs), and moved when the engine moves
 * (eng_pin_follow, after each batch): background work never takes the
 * engine's CPU, and the engine stays free to leave a CPU that another
 * process keeps busy.  --pin-threads also keeps the engine's thread on
 * its CPU; --no-pin-threads leaves all placement to the scheduler.
 *
 * It also names the threads, so that top -H and /proc show which is
 * which.  CPU affinity and thread names are Linux interfaces (not
 * POSIX), hence _GNU_SOURCE in this file alone; elsewhere
 * eng_pin_plan() reports "not supported" and the run goes on
 * unpinned.
 */
#if defined(__linux__)
#define _GNU_SOURCE 1
#include <sched.h>
#endif
#include <pthread.h>
#include <string.h>

#include "engine.h"

#if defined(__linux__)

/* The masks of struct eng_pin hold cpu_set_t bytes (engine.h cannot
 * name the type without _GNU_SOURCE). */
_Static_assert(sizeof(cpu_set_t) == sizeof(((struct eng_pin *)0)->allowed),
    "struct eng_pin holds a cpu_set_t");

static cpu_set_t
load(const unsigned long *m)
{
	cpu_set_t s;

	memcpy(&s, m, sizeof(s));
	return s;
}

static int
set_self(const cpu_set_t *s)
{
	return pthread_setaffinity_np(pthread_self(), sizeof(*s), s) == 0 ?
	    0 : -1;
}

/* The engine's CPU is cpu: the writers get the others allowed. */
static void
set_engine_cpu(struct eng_pin *p, int cpu)
{
	cpu_set_t o = load(p->allowed);

	CPU_CLR(cpu, &o);
	memcpy(p->others, &o, sizeof(o));
	p->cpu = cpu;
}

const char *
eng_pin_plan(struct eng_pin *p)
{
	cpu_set_t s;
	int cur, first = 0;

	memset(p, 0, sizeof(*p));
	p->cpu = -1;
	if (sched_getaffinity(0, sizeof(s), &s) != 0)
		return "the CPUs this process may use are unknown";
	if (CPU_COUNT(&s) < 2)
		return "the process may use only one CPU";
	memcpy(p->allowed, &s, sizeof(s));
	while (!CPU_ISSET(first, &s))
		first++;
	/* the CPU the engine runs on now: its cache is already warm */
	cur = sched_getcpu();
	set_engine_cpu(p, cur >= 0 && cur < CPU_SETSIZE && CPU_ISSET(cur, &s) ?
	    cur : first);
	p->on = 1;
	return NULL;
}

int
eng_pin_engine(struct eng_pin *p)
{
	cpu_set_t one;

	if (!p->on)
		return 0;
	CPU_ZERO(&one);
	CPU_SET(p->cpu, &one);
	if (set_self(&one) != 0)
		return -1;
	p->engine = 1;
	return 0;
}

int
eng_pin_helper(const struct eng_pin *p)
{
	cpu_set_t o;

	if (!p->on)
		return 0;
	o = load(p->others);
	return set_self(&o);
}

int
eng_pin_follow(struct eng_pin *p, const pthread_t *th, int n)
{
	cpu_set_t a, o;
	int cur;

	if (!p->on || p->engine)
		return 0;
	cur = sched_getcpu();
	a = load(p->allowed);
	if (cur < 0 || cur >= CPU_SETSIZE || cur == p->cpu ||
	    !CPU_ISSET(cur, &a))
		return 0;
	set_engine_cpu(p, cur);
	o = load(p->others);
	for (int i = 0; i < n; i++)
		(void)pthread_setaffinity_np(th[i], sizeof(o), &o);
	return 1;
}

void
eng_pin_release(const struct eng_pin *p)
{
	cpu_set_t a;

	if (!p->engine)
		return;
	a = load(p->allowed);
	(void)set_self(&a);
}

void
eng_thread_name(const char *name)
{
	(void)pthread_setname_np(pthread_self(), name);
}

#else /* !__linux__ */

const char *
eng_pin_plan(struct eng_pin *p)
{
	memset(p, 0, sizeof(*p));
	p->cpu = -1;
	return "CPU affinity is supported on Linux only";
}

int eng_pin_engine(struct eng_pin *p) { (void)p; return 0; }
int
eng_pin_follow(struct eng_pin *p, const pthread_t *th, int n)
{
	(void)p;
	(void)th;
	(void)n;
	return 0;
}
int eng_pin_helper(const struct eng_pin *p) { (void)p; return 0; }
void eng_pin_release(const struct eng_pin *p) { (void)p; }
void eng_thread_name(const char *name) { (void)name; }

#endif
