/*
 * store_file_sync.c - the threads that fsync a group commit's files.
 *
 * A group commit (ckpt_wfile_commit_all on a local store) fsyncs all
 * its files at once, so that the waits of their fsyncs overlap: the
 * committing thread and up to FS_SYNC_HELPERS helper threads each take
 * the next descriptor until none is left.  The helpers are started by
 * the first commit that needs them and kept, one set per store handle,
 * until the handle is closed.
 *
 * They used to be started and joined by every commit (140 threads in
 * a run of make bench's overhead part).  That looked cheap but was
 * not: a thread's start and end change the process's page tables (its
 * stack's guard page, the release of its unused stack, the unmapping
 * of cached stacks), and each change interrupts every other CPU that
 * runs a thread of the process to flush its TLB, the engine's thread
 * in the middle of its batches among them.  Kept threads spare 126
 * thread starts per run and 2 to 4 points of the CPU time that state
 * checkpoints add; the effect on wall-clock time was within the noise
 * of 60-pair comparisons.
 *
 * Helpers run where the committing thread may run: a commit from a
 * thread whose CPU affinity (Linux) differs from the last one's moves
 * them, as threads it started would inherit it, so that the engine's
 * placement of its writer threads (engine_cpu.c) covers them.  Hence
 * _GNU_SOURCE in this file.
 *
 * Helpers are threads of the process that started them: after a
 * fork(), the child's handle has none, and commits fsync in turn.
 */
#if defined(__linux__)
#define _GNU_SOURCE 1
#include <sched.h>
#endif
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"

#define FS_SYNC_HELPERS 7	/* and the committing thread: 8 fsyncs */

struct fs_syncpool {
	pthread_mutex_t mu;
	pthread_cond_t work;	/* to helpers: a job was posted, or quit */
	pthread_cond_t idle;	/* to the poster: no helper in its job */
	pthread_t th[FS_SYNC_HELPERS];
	int nth;		/* helpers started */
	pid_t pid;		/* the process they belong to */
	int quit;
	/* the job (one at a time), under mu */
	int busy;
	const int *fd;
	int *err;		/* errno of each fsync, 0 if it succeeded */
	size_t n, next;
	int active;		/* threads between taking an fd and its result */
#if defined(__linux__)
	cpu_set_t cpus;		/* the helpers' allowed CPUs */
	int cpus_ok;
#endif
};

/*
 * Under mu: fsyncs the posted job's descriptors, one at a time, until
 * none is left to take.  The committing thread and the helpers alike.
 */
static void
drain(struct fs_syncpool *p)
{
	while (p->busy && p->next < p->n) {
		size_t i = p->next++;
		int fd = p->fd[i], e;

		p->active++;
		pthread_mutex_unlock(&p->mu);
		e = fsync(fd) == 0 ? 0 : errno;
		pthread_mutex_lock(&p->mu);
		p->err[i] = e;
		if (--p->active == 0 && p->next >= p->n)
			pthread_cond_signal(&p->idle);
	}
}

static void *
helper(void *arg)
{
	struct fs_syncpool *p = arg;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->quit && !(p->busy && p->next < p->n))
			pthread_cond_wait(&p->work, &p->mu);
		if (p->quit)
			break;
		drain(p);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct fs_syncpool *
fs_syncpool_new(void)
{
	struct fs_syncpool *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	if (pthread_mutex_init(&p->mu, NULL) != 0)
		goto fail;
	if (pthread_cond_init(&p->work, NULL) != 0)
		goto fail_mu;
	if (pthread_cond_init(&p->idle, NULL) != 0)
		goto fail_work;
	p->pid = getpid();
	return p;
fail_work:
	pthread_cond_destroy(&p->work);
fail_mu:
	pthread_mutex_destroy(&p->mu);
fail:
	free(p);
	return NULL;
}

void
fs_syncpool_free(struct fs_syncpool *p)
{
	if (p == NULL)
		return;
	if (p->pid != getpid()) {
		/*
		 * A fork's copy: the helpers waiting on work stayed in
		 * the parent, and destroying the condition would wait for
		 * them.  The memory is all there is to give back.
		 */
		free(p);
		return;
	}
	if (p->nth > 0) {
		pthread_mutex_lock(&p->mu);
		p->quit = 1;
		pthread_cond_broadcast(&p->work);
		pthread_mutex_unlock(&p->mu);
		for (int i = 0; i < p->nth; i++)
			pthread_join(p->th[i], NULL);
	}
	pthread_cond_destroy(&p->idle);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

/*
 * Gives the helpers the calling thread's CPUs, if they changed since
 * the last commit (under mu).  Helpers it starts inherit them.
 */
static void
share_cpus(struct fs_syncpool *p)
{
#if defined(__linux__)
	cpu_set_t s;

	if (sched_getaffinity(0, sizeof(s), &s) != 0 ||
	    (p->cpus_ok && CPU_EQUAL(&s, &p->cpus)))
		return;
	for (int i = 0; i < p->nth; i++)
		(void)pthread_setaffinity_np(p->th[i], sizeof(s), &s);
	p->cpus = s;
	p->cpus_ok = 1;
#else
	(void)p;
#endif
}

int
fs_syncpool_run(struct fs_syncpool *p, const int *fd, int *err, size_t n)
{
	int want, wake;

	if (p == NULL || n < 2)
		return -1;
	want = n - 1 < FS_SYNC_HELPERS ? (int)(n - 1) : FS_SYNC_HELPERS;
	pthread_mutex_lock(&p->mu);
	if (p->busy || p->pid != getpid()) {
		pthread_mutex_unlock(&p->mu);
		return -1;
	}
	share_cpus(p);
	/* new helpers wait for mu, so they see the job posted below */
	while (p->nth < want &&
	    pthread_create(&p->th[p->nth], NULL, helper, p) == 0)
		p->nth++;
	if (p->nth == 0) {
		pthread_mutex_unlock(&p->mu);
		return -1;
	}
	p->fd = fd;
	p->err = err;
	p->n = n;
	p->next = 0;
	p->busy = 1;
	wake = want < p->nth ? want : p->nth;
	for (int i = 0; i < wake; i++)
		pthread_cond_signal(&p->work);
	drain(p);
	while (p->active > 0)
		pthread_cond_wait(&p->idle, &p->mu);
	p->busy = 0;
	p->fd = NULL;
	p->err = NULL;
	p->n = p->next = 0;
	pthread_mutex_unlock(&p->mu);
	return 0;
}
