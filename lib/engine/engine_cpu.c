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
 * One CPU may be busier than it looks: the one the disk's interrupts
 * land on completes every block I/O the writers start (/proc/softirqs,
 * BLOCK), an interrupt, a softirq and often a queue kick, a VM exit on
 * a virtual machine, per request.  On a small VM with the device's
 * interrupts on one vCPU, an engine there ran about 6% slower.  So the
 * plan starts the engine's thread on a CPU that completes little block
 * I/O when the one it runs on completes most of it (counted since
 * boot), and after the batches, at most once a second, moves it again
 * when the last second's counts say the same.  It is moved, not
 * pinned: it may still leave a CPU another process keeps busy.
 *
 * It also names the threads, so that top -H and /proc show which is
 * which.  CPU affinity and thread names are Linux interfaces (not
 * POSIX), hence _GNU_SOURCE in this file alone; elsewhere
 * eng_pin_plan() reports "not supported" and the run goes on
 * unpinned.
 */
#if defined(__linux__)
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>
#endif
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

/* ------------------------------------------------------------------ */
/* Block I/O by CPU (portable: text in, numbers out)                  */
/* ------------------------------------------------------------------ */

/* Skips blanks (not the end of the line). */
static const char *
blanks(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

int
eng_softirq_block(const char *text, uint32_t *cnt, int ncnt)
{
	const char *h = text, *b = NULL, *line = text;
	int n = 0;

	/* the BLOCK line, whole: a cut one (a short read) is no count */
	while (*line != '\0') {
		const char *t = blanks(line), *eol = strchr(line, '\n');

		if (strncmp(t, "BLOCK:", 6) == 0) {
			if (eol == NULL)
				return -1;
			b = t + 6;
			break;
		}
		if (eol == NULL)
			break;
		line = eol + 1;
	}
	if (b == NULL)
		return -1;
	/* the header names the columns: CPU0 CPU1 ... (maybe with gaps) */
	for (;;) {
		char *end;
		long cpu;
		unsigned long v;

		h = blanks(h);
		if (*h == '\n' || *h == '\0')
			break;
		if (strncmp(h, "CPU", 3) != 0)
			return -1;
		cpu = strtol(h + 3, &end, 10);
		if (end == h + 3)
			return -1;
		h = end;
		b = blanks(b);
		if (*b < '0' || *b > '9')
			return -1;
		v = strtoul(b, &end, 10);
		b = end;
		if (cpu >= 0 && cpu < ncnt)
			cnt[cpu] = (uint32_t)v;
		n++;
	}
	return n > 0 ? n : -1;
}

static int
bit(const unsigned long *m, int i)
{
	size_t w = 8 * sizeof(*m);

	return (int)((m[(size_t)i / w] >> ((size_t)i % w)) & 1);
}

int
eng_pin_quiet(const uint32_t *now, const uint32_t *before, int ncpu,
    const unsigned long *allowed, int cur, uint32_t min)
{
	uint64_t total = 0, dc;
	uint32_t dq = 0;
	int q = -1;

	if (cur < 0 || cur >= ncpu || !bit(allowed, cur))
		return -1;
	for (int i = 0; i < ncpu; i++) {
		/* counters are 32 bits and wrap: the difference does too */
		uint32_t d = now[i] - (before != NULL ? before[i] : 0);

		if (!bit(allowed, i))
			continue;
		total += d;
		if (i != cur && (q < 0 || d < dq)) {
			q = i;
			dq = d;
		}
	}
	dc = now[cur] - (before != NULL ? before[cur] : 0);
	if (q < 0 || dc < min || dc * 2 < total || (uint64_t)dq * 4 > dc)
		return -1;
	return q;
}

#if defined(__linux__)

/* The masks of struct eng_pin hold cpu_set_t bytes (engine.h cannot
 * name the type without _GNU_SOURCE). */
_Static_assert(CPU_SETSIZE == ENG_PIN_CPUS, "ENG_PIN_CPUS is CPU_SETSIZE");
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

/* Each CPU's BLOCK softirqs into cnt; -1 when /proc does not say. */
static int
read_block(uint32_t *cnt)
{
	char buf[16384];	/* the BLOCK line of ~200 CPUs; more: none */
	size_t len = 0;
	ssize_t k;
	int fd = open("/proc/softirqs", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while (len < sizeof(buf) - 1) {
		k = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		len += (size_t)k;
	}
	close(fd);
	buf[len] = '\0';
	memset(cnt, 0, ENG_PIN_CPUS * sizeof(*cnt));
	return eng_softirq_block(buf, cnt, ENG_PIN_CPUS) > 0 ? 0 : -1;
}

/*
 * Moves the calling thread, now on cur, to the CPU that completes the
 * least block I/O (eng_pin_quiet) of those its affinity allows now, if
 * that is more than one (a user who pinned it with taskset -p keeps it
 * where it is), then gives it back the CPUs it had: it stays there
 * until the scheduler has a reason to move it.  Each CPU's counts now,
 * and at the last look (before, or NULL: since boot).  The CPU it was
 * moved to, or -1 when it stays.
 */
static int
steer(const uint32_t *now, const uint32_t *before, int cur, uint32_t min)
{
	unsigned long m[ENG_PIN_WORDS];
	cpu_set_t had, one;
	int q;

	if (pthread_getaffinity_np(pthread_self(), sizeof(had), &had) != 0 ||
	    CPU_COUNT(&had) < 2)
		return -1;
	memcpy(m, &had, sizeof(m));
	if ((q = eng_pin_quiet(now, before, ENG_PIN_CPUS, m, cur, min)) < 0)
		return -1;
	CPU_ZERO(&one);
	CPU_SET(q, &one);
	if (set_self(&one) != 0)
		return -1;
	(void)set_self(&had);
	return q;
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
	if (cur < 0 || cur >= CPU_SETSIZE || !CPU_ISSET(cur, &s))
		cur = first;
	/* ... unless it completes most block I/O and another does not */
	p->blk_ok = read_block(p->blk) == 0;
	p->blk_next_ms = eng_mono_ms() + 1000;
	if (p->blk_ok) {
		int q = steer(p->blk, NULL, cur, 1000);

		if (q >= 0)
			cur = q;
	}
	set_engine_cpu(p, cur);
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

void
eng_pin_writers(const struct eng_pin *p, const pthread_t *th, int n)
{
	cpu_set_t o;

	if (!p->on)
		return;
	o = load(p->others);
	for (int i = 0; i < n; i++)
		(void)pthread_setaffinity_np(th[i], sizeof(o), &o);
}

int
eng_pin_follow(struct eng_pin *p, const pthread_t *th, int n)
{
	cpu_set_t a;
	int64_t t;
	int cur;

	if (!p->on || p->engine)
		return 0;
	cur = sched_getcpu();
	if (p->blk_ok && (t = eng_mono_ms()) >= p->blk_next_ms) {
		uint32_t now[ENG_PIN_CPUS];
		int q;

		p->blk_next_ms = t + 1000;
		if (read_block(now) == 0) {
			q = steer(now, p->blk, cur, 32);
			memcpy(p->blk, now, sizeof(now));
			if (q >= 0)
				cur = q;
		}
	}
	a = load(p->allowed);
	if (cur < 0 || cur >= CPU_SETSIZE || cur == p->cpu ||
	    !CPU_ISSET(cur, &a))
		return 0;
	set_engine_cpu(p, cur);
	eng_pin_writers(p, th, n);
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
void
eng_pin_writers(const struct eng_pin *p, const pthread_t *th, int n)
{
	(void)p;
	(void)th;
	(void)n;
}
void eng_pin_release(const struct eng_pin *p) { (void)p; }
void eng_thread_name(const char *name) { (void)name; }

#endif
