/*
 * test_store_sync.c - the group commit's fsync threads
 * (store_file_sync.c), white box through lib/store/store.h: each
 * descriptor's result lands in its own slot, a pool serves commit
 * after commit with the same threads, two committers at once never mix
 * their jobs, a forked child does without the parent's threads, and
 * (Linux) the helpers move to the committing thread's CPUs.
 */
#if defined(__linux__)
#define _GNU_SOURCE 1	/* sched_setaffinity, for the placement test */
#include <sched.h>
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"
#include "store/store.h"

#define NFD 12

/*
 * fd[0..NFD-1]: files with some bytes to sync, except a pipe at 5
 * (fsync: EINVAL) and a closed descriptor at 9 (EBADF); want[] holds
 * what each must give.
 */
static void
open_fds(int *fd, int *want, int *pipefd)
{
	for (int i = 0; i < NFD; i++) {
		char name[32];

		snprintf(name, sizeof(name), "sync-%d", i);
		fd[i] = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		CHECK(fd[i] >= 0);
		CHECK_EQ_INT(write(fd[i], name, strlen(name)),
		    (long long)strlen(name));
		want[i] = 0;
	}
	CHECK_EQ_INT(pipe(pipefd), 0);
	close(fd[5]);
	fd[5] = pipefd[1];
	want[5] = EINVAL;
	close(fd[9]);
	fd[9] = -1;
	want[9] = EBADF;
}

static void
close_fds(int *fd, int *pipefd)
{
	for (int i = 0; i < NFD; i++)
		if (fd[i] >= 0 && fd[i] != pipefd[1])
			close(fd[i]);
	close(pipefd[0]);
	close(pipefd[1]);
}

DEFINE_TEST(test_store_sync_results)
{
	struct fs_syncpool *p = fs_syncpool_new();
	int fd[NFD], want[NFD], err[NFD], pfd[2];

	CHECK(p != NULL);
	open_fds(fd, want, pfd);
	/* nothing to share: the caller fsyncs in turn */
	CHECK_EQ_INT(fs_syncpool_run(NULL, fd, err, NFD), -1);
	CHECK_EQ_INT(fs_syncpool_run(p, fd, err, 1), -1);
	CHECK_EQ_INT(fs_syncpool_run(p, fd, err, 0), -1);
	/* the same threads, commit after commit, every size */
	for (int round = 0; round < 40; round++) {
		size_t n = 2 + (size_t)round % (NFD - 1);

		memset(err, 0x55, sizeof(err));
		CHECK_EQ_INT(fs_syncpool_run(p, fd, err, n), 0);
		for (size_t i = 0; i < n; i++)
			CHECK_EQ_INT(err[i], want[i]);
		for (size_t i = n; i < NFD; i++)
			CHECK_EQ_INT(err[i], 0x55555555);	/* untouched */
	}
	fs_syncpool_free(p);
	fs_syncpool_free(NULL);
	close_fds(fd, pfd);
}

struct committer {
	struct fs_syncpool *p;
	const int *fd, *want;
	int shared, alone, bad;
};

static void *
commit_loop(void *arg)
{
	struct committer *c = arg;

	for (int round = 0; round < 200; round++) {
		int err[NFD];

		memset(err, 0x55, sizeof(err));
		if (fs_syncpool_run(c->p, c->fd, err, NFD) == 0) {
			c->shared++;
			for (int i = 0; i < NFD; i++)
				if (err[i] != c->want[i])
					c->bad++;
		} else {
			c->alone++;	/* busy: the caller's own turn */
		}
	}
	return NULL;
}

DEFINE_TEST(test_store_sync_two_committers)
{
	struct fs_syncpool *p = fs_syncpool_new();
	int fd[NFD], want[NFD], pfd[2];
	struct committer c[2];
	pthread_t th[2];

	CHECK(p != NULL);
	open_fds(fd, want, pfd);
	for (int i = 0; i < 2; i++) {
		c[i] = (struct committer){ p, fd, want, 0, 0, 0 };
		CHECK_EQ_INT(pthread_create(&th[i], NULL, commit_loop, &c[i]),
		    0);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	/* every commit done one way or the other, none with wrong results */
	for (int i = 0; i < 2; i++) {
		CHECK_EQ_INT(c[i].shared + c[i].alone, 200);
		CHECK_EQ_INT(c[i].bad, 0);
	}
	CHECK(c[0].shared + c[1].shared > 0);
	fs_syncpool_free(p);
	close_fds(fd, pfd);
}

DEFINE_TEST(test_store_sync_fork)
{
	struct fs_syncpool *p = fs_syncpool_new();
	int fd[NFD], want[NFD], err[NFD], pfd[2], st = -1;
	pid_t pid;

	CHECK(p != NULL);
	open_fds(fd, want, pfd);
	CHECK_EQ_INT(fs_syncpool_run(p, fd, err, NFD), 0);	/* started */
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		/* the helpers stayed in the parent: no help, no join */
		int ok = fs_syncpool_run(p, fd, err, NFD) == -1;

		fs_syncpool_free(p);
		_exit(ok ? 0 : 1);
	}
	CHECK_EQ_INT(waitpid(pid, &st, 0), pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK_EQ_INT(fs_syncpool_run(p, fd, err, NFD), 0);	/* still ours */
	for (int i = 0; i < NFD; i++)
		CHECK_EQ_INT(err[i], want[i]);
	fs_syncpool_free(p);
	close_fds(fd, pfd);
}

#if defined(__linux__)
/* Cpus_allowed_list of thread tid, or "" */
static void
task_cpus(long tid, char *out, size_t n)
{
	char path[64], line[256];
	FILE *f;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/proc/self/task/%ld/status", tid);
	if ((f = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "Cpus_allowed_list:", 18) == 0) {
			snprintf(out, n, "%s", line + 18 + strspn(line + 18,
			    " \t"));
			out[strcspn(out, "\n")] = '\0';
		}
	fclose(f);
}

/* Thread ids of the process, at most max, into tid; how many. */
static int
tasks(long *tid, int max)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && n < max)
		if (de->d_name[0] != '.')
			tid[n++] = atol(de->d_name);
	closedir(d);
	return n;
}

#endif

DEFINE_TEST(test_store_sync_follows_cpus)
{
#if defined(__linux__)
	struct fs_syncpool *p;
	int fd[NFD], want[NFD], err[NFD], pfd[2], cpu[2], ncpu = 0;
	long before[64], after[64];
	int nb, na, helpers = 0;
	cpu_set_t all, one;

	if (sched_getaffinity(0, sizeof(all), &all) != 0)
		return;
	for (int c = 0; c < CPU_SETSIZE && ncpu < 2; c++)
		if (CPU_ISSET(c, &all))
			cpu[ncpu++] = c;
	if (ncpu < 2) {
		fprintf(stderr, "  %s: skipped: one CPU allowed\n",
		    __func__);
		return;
	}
	nb = tasks(before, 64);
	open_fds(fd, want, pfd);
	p = fs_syncpool_new();
	CHECK(p != NULL);
	for (int round = 0; round < 2; round++) {
		char want_list[16];

		CPU_ZERO(&one);
		CPU_SET(cpu[round], &one);
		CHECK_EQ_INT(sched_setaffinity(0, sizeof(one), &one), 0);
		CHECK_EQ_INT(fs_syncpool_run(p, fd, err, NFD), 0);
		/* every helper, started by round 0, is where we are now */
		snprintf(want_list, sizeof(want_list), "%d", cpu[round]);
		na = tasks(after, 64);
		helpers = 0;
		for (int i = 0; i < na; i++) {
			char got[256];
			int old = 0;

			for (int j = 0; j < nb; j++)
				old |= after[i] == before[j];
			if (old)
				continue;
			helpers++;
			task_cpus(after[i], got, sizeof(got));
			CHECK_STR(got, want_list);
		}
		CHECK(helpers > 0);
	}
	CHECK_EQ_INT(sched_setaffinity(0, sizeof(all), &all), 0);
	fs_syncpool_free(p);
	close_fds(fd, pfd);
#else
	fprintf(stderr, "  %s: skipped: CPU affinity is Linux only\n",
	    __func__);
#endif
}
