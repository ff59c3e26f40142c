/*
 * engine_src_socket.c - the socket source: a TCP line receiver with a
 * write-ahead log, like Spark's socketTextStream with the receiver WAL.
 *
 * The receiver connects to HOST:PORT (reconnecting with exponential
 * backoff, 100 ms to 5 s, when the server is not there or goes away)
 * and appends every received block of complete lines to the current
 * WAL segment <dir>/wal/<20-digit seq>.log, fsyncing it before the
 * lines can join a batch.  Lines are handed out from the WAL, never
 * from memory, so a batch's input range (segment, offset) replays the
 * same lines after a crash, and lines received but not yet in a batch
 * join the next batch after a restart.  A segment left with a torn last
 * line by a crash mid-append is cut back to its last newline on open:
 * those bytes were never acknowledged into a batch.  Segments before
 * the one the previous-but-one state checkpoint started in are deleted
 * (release), so a restart from either of the two newest state
 * checkpoints still finds its input.
 *
 * What the WAL cannot do: recover bytes the kernel had received but the
 * process had not yet logged when it died; a plain TCP line protocol has
 * no acknowledgements, so the sender cannot know what to resend.  The
 * WAL lives in the local checkpoint directory; it is written with POSIX
 * calls because the store API has no appending writer.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "engine.h"

#define RBUF (64 * 1024)
#define SEG_ROTATE (16u * 1024u * 1024u)
#define BACKOFF_MIN 100
#define BACKOFF_MAX 5000

struct ssrc {
	struct eng_source base;
	char host[256];
	char port[32];
	char *waldir;		/* <dir>/wal */
	int sock;		/* -1 when not connected */
	int64_t next_try;	/* monotonic ms of the next connect */
	int64_t backoff;
	char *partial;		/* received bytes after the last newline */
	size_t plen;
	int pskip;		/* dropping a too-long line */
	/* the write end of the WAL */
	int wfd;
	uint64_t wseg, wsize, wrec;
	/* the read end */
	int rfd;
	uint64_t rseg;
	char *buf;
	size_t head, tail;
	uint64_t keep_prev;	/* oldest segment a restart may need */
	uint64_t seg_bytes;	/* rotate segments at this size */
};

static void
seg_path(const struct ssrc *s, uint64_t seg, char *out, size_t len)
{
	snprintf(out, len, "%s/%020" PRIu64 ".log", s->waldir, seg);
}

static int
wal_fail(const struct ssrc *s, uint64_t seg, const char *what,
    struct ckpt_error *err)
{
	char p[4200];

	seg_path(s, seg, p, sizeof(p));
	return ckpt_error_set_errno(err, errno, "cannot %s '%s'", what, p);
}

static int
fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Opens (creating) segment seg for appending. */
static int
wal_open_seg(struct ssrc *s, uint64_t seg, struct ckpt_error *err)
{
	char p[4200];
	struct stat sb;

	if (s->wfd >= 0)
		close(s->wfd);
	seg_path(s, seg, p, sizeof(p));
	s->wfd = open(p, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (s->wfd < 0 || fstat(s->wfd, &sb) != 0)
		return wal_fail(s, seg, "open write-ahead log", err);
	if (fsync_dir(s->waldir) != 0)
		return wal_fail(s, seg, "sync the directory of", err);
	s->wseg = seg;
	s->wsize = (uint64_t)sb.st_size;
	return CKPT_OK;
}

static int
full_write(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Appends complete lines (n bytes, ending in '\n') durably. */
static int
wal_append(struct ssrc *s, const char *p, size_t n, uint64_t lines,
    struct ckpt_error *err)
{
	size_t half = n / 2;

	if (full_write(s->wfd, p, half) != 0)
		return wal_fail(s, s->wseg, "append to write-ahead log", err);
	ckpt_crash_point(s->base.ctx, "wal.mid_append");
	if (full_write(s->wfd, p + half, n - half) != 0 ||
	    fsync(s->wfd) != 0)
		return wal_fail(s, s->wseg, "append to write-ahead log", err);
	s->wsize += n;
	s->wrec += lines;
	ckpt_crash_point(s->base.ctx, "wal.after_append");
	return CKPT_OK;
}

static uint64_t
count_lines(const char *p, size_t n)
{
	uint64_t c = 0;
	const char *e = p + n;

	while ((p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
		c++;
		p++;
	}
	return c;
}

/* Logs the complete lines of a received chunk; keeps the rest. */
static int
take_bytes(struct ssrc *s, const char *p, size_t n, struct ckpt_error *err)
{
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t take = nl ? (size_t)(nl - p) + 1 : n;

		if (s->pskip) {
			if (nl != NULL)
				s->pskip = 0;
		} else if (s->plen + take > ENG_LINE_MAX + 1) {
			/* a line too long to keep: log it as an empty line */
			s->plen = 0;
			s->pskip = nl == NULL;
			if (wal_append(s, "\n", 1, 1, err) != CKPT_OK)
				return CKPT_FAILED;
		} else {
			memcpy(s->partial + s->plen, p, take);
			s->plen += take;
			if (nl != NULL) {
				if (wal_append(s, s->partial, s->plen, 1,
				    err) != CKPT_OK)
					return CKPT_FAILED;
				s->plen = 0;
			}
		}
		p += take;
		n -= take;
	}
	return CKPT_OK;
}

static void
disconnect(struct ssrc *s)
{
	if (s->sock >= 0)
		close(s->sock);
	s->sock = -1;
	s->next_try = eng_mono_ms() + s->backoff;
	s->backoff = s->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX :
	    s->backoff * 2;
}

static void
try_connect(struct ssrc *s)
{
	struct addrinfo hints, *res = NULL, *ai;

	if (eng_mono_ms() < s->next_try)
		return;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(s->host, s->port, &hints, &res) != 0) {
		disconnect(s);
		return;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype,
		    ai->ai_protocol);

		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			s->sock = fd;
			s->backoff = BACKOFF_MIN;
			break;
		}
		close(fd);
	}
	freeaddrinfo(res);
	if (s->sock < 0)
		disconnect(s);
}

/* Receives for up to timeout_ms (in slices, to notice a stop). */
static int
ssrc_wait(struct eng_source *src, int64_t timeout_ms, struct ckpt_error *err)
{
	struct ssrc *s = (struct ssrc *)src;
	int64_t until = eng_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	char rb[RBUF];

	do {
		struct pollfd pf;
		int64_t left = until - eng_mono_ms();
		int n;

		if (src->stop != NULL && *src->stop)
			return CKPT_OK;
		if (s->sock < 0)
			try_connect(s);
		if (s->sock < 0) {
			int64_t nap = s->next_try - eng_mono_ms();

			if (nap > left)
				nap = left;
			if (nap > 100)
				nap = 100;
			if (nap > 0)
				poll(NULL, 0, (int)nap);
			continue;
		}
		pf.fd = s->sock;
		pf.events = POLLIN;
		n = poll(&pf, 1, (int)(left > 100 ? 100 : left < 0 ? 0 : left));
		if (n < 0 && errno != EINTR)
			return ckpt_error_set_errno(err, errno,
			    "cannot wait for the socket %s:%s", s->host,
			    s->port);
		if (n <= 0)
			continue;
		{
			ssize_t got = recv(s->sock, rb, sizeof(rb), 0);

			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0) {
				/* the server went away: keep its last line */
				if (s->plen > 0 && !s->pskip) {
					s->partial[s->plen++] = '\n';
					if (wal_append(s, s->partial, s->plen,
					    1, err) != CKPT_OK)
						return CKPT_FAILED;
				}
				s->plen = 0;
				s->pskip = 0;
				s->backoff = BACKOFF_MIN;
				disconnect(s);
				continue;
			}
			if (take_bytes(s, rb, (size_t)got, err) != CKPT_OK)
				return CKPT_FAILED;
			return CKPT_OK;	/* input arrived */
		}
	} while (eng_mono_ms() < until);
	return CKPT_OK;
}

static int
open_read(struct ssrc *s, uint64_t seg, uint64_t off, struct ckpt_error *err)
{
	char p[4200];

	if (s->rfd >= 0)
		close(s->rfd);
	seg_path(s, seg, p, sizeof(p));
	s->rfd = open(p, O_RDONLY);
	if (s->rfd < 0 && errno == ENOENT && seg == s->wseg && off == 0) {
		s->rseg = seg;
		s->head = s->tail = 0;
		return CKPT_OK;	/* not created yet */
	}
	if (s->rfd < 0 || lseek(s->rfd, (off_t)off, SEEK_SET) < 0)
		return wal_fail(s, seg, "read write-ahead log", err);
	s->rseg = seg;
	s->head = s->tail = 0;
	return CKPT_OK;
}

static int
ssrc_next(struct eng_source *src, struct eng_line *out, int *done,
    struct ckpt_error *err)
{
	struct ssrc *s = (struct ssrc *)src;

	*done = 0;
	for (;;) {
		char *nl;
		ssize_t n;

		if (src->pos.seg == s->wseg && src->pos.off >= s->wsize)
			return CKPT_EOF;
		nl = s->tail > s->head ? memchr(s->buf + s->head, '\n',
		    s->tail - s->head) : NULL;
		if (nl != NULL) {
			size_t len = (size_t)(nl - (s->buf + s->head));

			out->data = s->buf + s->head;
			out->len = len;
			out->too_long = 0;
			if (len > 0 && out->data[len - 1] == '\r')
				out->len--;
			s->head += len + 1;
			src->pos.off += len + 1;
			src->pos.rec++;
			return CKPT_OK;
		}
		if (s->head > 0) {
			memmove(s->buf, s->buf + s->head, s->tail - s->head);
			s->tail -= s->head;
			s->head = 0;
		}
		if (s->rfd < 0 && open_read(s, src->pos.seg, src->pos.off,
		    err) != CKPT_OK)
			return CKPT_FAILED;
		n = s->rfd < 0 ? 0 : read(s->rfd, s->buf + s->tail,
		    RBUF + ENG_LINE_MAX + 2 - s->tail);
		if (n < 0)
			return wal_fail(s, s->rseg, "read write-ahead log",
			    err);
		if (n > 0) {
			s->tail += (size_t)n;
			continue;
		}
		if (src->pos.seg < s->wseg) {
			/* the end of an older segment: the next one */
			src->pos.seg++;
			src->pos.off = 0;
			if (open_read(s, src->pos.seg, 0, err) != CKPT_OK)
				return CKPT_FAILED;
			continue;
		}
		return CKPT_EOF;
	}
}

/* Lines from pos to the end of the log: scans the segments once. */
static int
count_from(struct ssrc *s, const struct eng_pos *pos, uint64_t *lines,
    struct ckpt_error *err)
{
	char rb[RBUF];

	*lines = 0;
	for (uint64_t seg = pos->seg; seg <= s->wseg; seg++) {
		char p[4200];
		int fd;
		ssize_t n;

		seg_path(s, seg, p, sizeof(p));
		fd = open(p, O_RDONLY);
		if (fd < 0 && errno == ENOENT)
			continue;
		if (fd < 0 || lseek(fd, seg == pos->seg ? (off_t)pos->off : 0,
		    SEEK_SET) < 0) {
			if (fd >= 0)
				close(fd);
			return wal_fail(s, seg, "read write-ahead log", err);
		}
		while ((n = read(fd, rb, sizeof(rb))) > 0)
			*lines += count_lines(rb, (size_t)n);
		close(fd);
		if (n < 0)
			return wal_fail(s, seg, "read write-ahead log", err);
	}
	return CKPT_OK;
}

static int
ssrc_seek(struct eng_source *src, const struct eng_pos *pos,
    struct ckpt_error *err)
{
	struct ssrc *s = (struct ssrc *)src;
	uint64_t lines;

	if (pos->seg > s->wseg || (pos->seg == s->wseg && pos->off > s->wsize))
		return ckpt_error_set(err, CKPT_E_FORMAT,
		    "cannot resume: the write-ahead log in '%s' ends before "
		    "segment %" PRIu64 " offset %" PRIu64, s->waldir,
		    pos->seg, pos->off);
	if (count_from(s, pos, &lines, err) != CKPT_OK)
		return CKPT_FAILED;
	src->pos = *pos;
	s->wrec = pos->rec + lines;
	if (s->rfd >= 0)
		close(s->rfd);
	s->rfd = -1;
	s->head = s->tail = 0;
	return CKPT_OK;
}

static int
ssrc_avail(struct eng_source *src, struct eng_pos *end,
    struct ckpt_error *err)
{
	struct ssrc *s = (struct ssrc *)src;

	memset(end, 0, sizeof(*end));
	end->seg = s->wseg;
	end->off = s->wsize;
	end->rec = s->wrec;
	/* a full segment: the lines after this batch go to a new one */
	if (s->wsize >= s->seg_bytes &&
	    wal_open_seg(s, s->wseg + 1, err) != CKPT_OK)
		return CKPT_FAILED;
	return CKPT_OK;
}

static int
ssrc_release(struct eng_source *src, const struct eng_pos *keep,
    struct ckpt_error *err)
{
	struct ssrc *s = (struct ssrc *)src;
	uint64_t below = s->keep_prev;
	int removed = 0;

	s->keep_prev = keep->seg;
	for (uint64_t seg = below; seg-- > 0;) {
		char p[4200];

		seg_path(s, seg, p, sizeof(p));
		if (unlink(p) != 0) {
			if (errno == ENOENT)
				break;	/* older ones went before */
			return wal_fail(s, seg, "remove write-ahead log", err);
		}
		removed = 1;
	}
	if (removed && fsync_dir(s->waldir) != 0)
		return ckpt_error_set_errno(err, errno,
		    "cannot sync '%s'", s->waldir);
	return CKPT_OK;
}

static void
ssrc_close(struct eng_source *src)
{
	struct ssrc *s = (struct ssrc *)src;

	if (s == NULL)
		return;
	if (s->sock >= 0)
		close(s->sock);
	if (s->wfd >= 0)
		close(s->wfd);
	if (s->rfd >= 0)
		close(s->rfd);
	free(s->partial);
	free(s->buf);
	free(s->waldir);
	free(s);
}

static const struct eng_source_ops ssrc_ops = {
	.name = "socket",
	.next = ssrc_next,
	.seek = ssrc_seek,
	.wait = ssrc_wait,
	.avail = ssrc_avail,
	.release = ssrc_release,
	.close = ssrc_close,
};

/* Finds the newest segment; cuts a torn last line.  *seg 0 if none. */
static int
wal_recover(struct ssrc *s, struct ckpt_error *err)
{
	DIR *d;
	struct dirent *de;
	uint64_t newest = 0;
	char p[4200];
	struct stat sb;
	int fd, any = 0;

	if (mkdir(s->waldir, 0755) != 0 && errno != EEXIST)
		return ckpt_error_set_errno(err, errno,
		    "cannot create the write-ahead log '%s'", s->waldir);
	d = opendir(s->waldir);
	if (d == NULL)
		return ckpt_error_set_errno(err, errno,
		    "cannot read the write-ahead log '%s'", s->waldir);
	while ((de = readdir(d)) != NULL) {
		char *end;
		uint64_t v;

		if (strlen(de->d_name) != 24 ||
		    strcmp(de->d_name + 20, ".log") != 0)
			continue;
		v = strtoull(de->d_name, &end, 10);
		if (end != de->d_name + 20)
			continue;
		if (!any || v > newest)
			newest = v;
		any = 1;
	}
	closedir(d);
	if (wal_open_seg(s, newest, err) != CKPT_OK)
		return CKPT_FAILED;
	/* cut a torn last line left by a crash mid-append */
	seg_path(s, newest, p, sizeof(p));
	fd = open(p, O_RDWR);
	if (fd < 0 || fstat(fd, &sb) != 0) {
		if (fd >= 0)
			close(fd);
		return wal_fail(s, newest, "open write-ahead log", err);
	}
	if (sb.st_size > 0) {
		off_t end = sb.st_size;
		char c[4096];

		while (end > 0) {
			size_t n = end > (off_t)sizeof(c) ? sizeof(c) :
			    (size_t)end;
			ssize_t got = pread(fd, c, n, end - (off_t)n);
			char *nl;
			size_t i;

			if (got != (ssize_t)n) {
				close(fd);
				return wal_fail(s, newest,
				    "read write-ahead log", err);
			}
			nl = NULL;
			for (i = n; i > 0; i--)
				if (c[i - 1] == '\n') {
					nl = &c[i - 1];
					break;
				}
			if (nl != NULL) {
				end = end - (off_t)n + (off_t)i;
				break;
			}
			end -= (off_t)n;
		}
		if (end != sb.st_size && (ftruncate(fd, end) != 0 ||
		    fsync(fd) != 0)) {
			close(fd);
			return wal_fail(s, newest, "repair write-ahead log",
			    err);
		}
		s->wsize = (uint64_t)end;
	}
	close(fd);
	s->keep_prev = 0;
	return CKPT_OK;
}

int
eng_source_socket_open(struct ckpt_ctx *ctx, const char *hostport,
    const char *dir, uint64_t seg_bytes, struct eng_source **out,
    struct ckpt_error *err)
{
	struct ssrc *s;
	const char *colon = strrchr(hostport, ':');
	size_t hl;

	*out = NULL;
	if (strncmp(dir, "file://", 7) == 0)
		dir += 7;
	if (colon == NULL || colon == hostport || colon[1] == '\0' ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
	    strlen(colon + 1) > 5 || (size_t)(colon - hostport) >= 256)
		return ckpt_error_set(err, CKPT_E_USAGE,
		    "bad socket address '%s': want HOST:PORT", hostport);
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot open the socket source: out of memory");
	s->base.ops = &ssrc_ops;
	s->base.ctx = ctx;
	s->base.wall_clock = 1;
	s->sock = s->wfd = s->rfd = -1;
	s->backoff = BACKOFF_MIN;
	s->seg_bytes = seg_bytes ? seg_bytes : SEG_ROTATE;
	hl = (size_t)(colon - hostport);
	if (hostport[0] == '[' && hl > 2 && hostport[hl - 1] == ']')
		snprintf(s->host, sizeof(s->host), "%.*s", (int)(hl - 2),
		    hostport + 1);
	else
		snprintf(s->host, sizeof(s->host), "%.*s", (int)hl, hostport);
	snprintf(s->port, sizeof(s->port), "%s", colon + 1);
	s->partial = malloc(ENG_LINE_MAX + 2);
	s->buf = malloc(RBUF + ENG_LINE_MAX + 2);
	s->waldir = malloc(strlen(dir) + 5);
	if (s->partial == NULL || s->buf == NULL || s->waldir == NULL) {
		ssrc_close(&s->base);
		return ckpt_error_set(err, CKPT_E_NOMEM,
		    "cannot open the socket source: out of memory");
	}
	sprintf(s->waldir, "%s/wal", dir);
	if (wal_recover(s, err) != CKPT_OK ||
	    ssrc_seek(&s->base, &s->base.pos, err) != CKPT_OK) {
		ssrc_close(&s->base);
		return CKPT_FAILED;
	}
	*out = &s->base;
	return CKPT_OK;
}
