/* SPDX-License-Identifier: MIT */
/*
 * Test driver for the injector:
 *   injtool [-n COUNT] [-i MS] [-t TIMEOUT_MS] [-m exact|files] [-k] [-c] [-x]
 *           [-F] [-w MS] PID LIB.so FUNC
 * COUNT times (MS milliseconds apart): attach, load LIB.so, call FUNC(scratch) and check what it
 * wrote (struct testlib_io), unload, detach; -k detaches and attaches again
 * between load and unload; -c calls muppy_test_crash first (must fail with
 * EFAULT and leave the process alive).  Compares /proc/PID/maps (all of it,
 * or -m files: file-backed lines only), /proc/PID/fd and /proc/PID/task
 * before and after each injection.  Prints the thread each injection used
 * and min/median/max microseconds the
 * thread was away from its own code per injection.
 * -w: before exiting, stay MS milliseconds, calling muppy__inject_reap()
 * every 50 ms as watch mode does between snapshots.
 * -x: load LIB.so and detach, leaving it loaded and unclaimed, as an
 * injector killed right after loading would (no call, no check); with -w
 * its owner stays alive that long.  Prints how many leftovers of dead
 * injectors each attach removed.
 * -F: every call returns through its signal frame's rt_sigreturn (what
 * happens when the injector dies during a call), not through ptrace.
 * Exit: 0 ok, 10 ESRCH, 11 EPERM, 12 ENOEXEC, 13 ETIMEDOUT, 14 EAGAIN
 * (stopped), 15 EBUSY, 16 EFAULT, 20 leftovers, 21 wrong result, 1 other,
 * 64 usage.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inject/inject.h"

struct testlib_io {
	uint64_t nonce, magic, echo;
	int32_t pid, tid, ctor, calls, malloc_ok, pad;
};
#define TESTLIB_MAGIC UINT64_C(0x6d75707079746c31)

static int code_of(int err)
{
	switch (-err) {
	case ESRCH: return 10;
	case EPERM: return 11;
	case ENOEXEC: return 12;
	case ETIMEDOUT: return 13;
	case EAGAIN: return 14;
	case EBUSY: return 15;
	case EFAULT: return 16;
	default: return 1;
	}
}

static char *slurp(const char *path)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	FILE *f = fopen(path, "re");
	size_t n;

	if (!buf || !f) {
		free(buf);
		if (f)
			fclose(f);
		return strdup("");
	}
	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len < 2) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
	}
	buf[len] = '\0';
	fclose(f);
	return buf;
}

/* Keeps the lines of s that keep() accepts. */
static void filter_lines(char *s, bool (*keep)(const char *line, size_t len,
					       const char *arg),
			 const char *arg)
{
	char *out = s, *line = s, *nl;

	while (*line) {
		nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line + 1) : strlen(line);
		if (keep(line, len, arg)) {
			memmove(out, line, len);
			out += len;
		}
		line += len;
	}
	*out = '\0';
}

/* Lines of file-backed mappings (and memfds). */
static bool is_file(const char *line, size_t len, const char *unused)
{
	(void)unused;
	return memchr(line, '/', len) != NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *list_dir(pid_t pid, const char *sub, int links)
{
	char path[300], link[512], *names[4096], *out;
	size_t n = 0, i, len = 1;
	struct dirent *d;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, sub);
	dir = opendir(path);
	if (!dir)
		return strdup("");
	while ((d = readdir(dir)) && n < 4096) {
		ssize_t l = 0;

		if (d->d_name[0] == '.')
			continue;
		if (links) {
			snprintf(path, sizeof(path), "/proc/%d/%s/%s", (int)pid, sub, d->d_name);
			l = readlink(path, link, sizeof(link) - 1);
		}
		link[l > 0 ? l : 0] = '\0';
		if (asprintf(&names[n], "%s %s\n", d->d_name, link) < 0)
			break;
		len += strlen(names[n++]);
	}
	closedir(dir);
	qsort(names, n, sizeof(*names), cmp_str);
	out = calloc(1, len);
	for (i = 0; i < n; i++) {
		strcat(out, names[i]);
		free(names[i]);
	}
	return out;
}

struct snap {
	char *maps, *fd, *task;
};

/*
 * Lines other than other injectors' memfds and libraries: this injection
 * may remove those of dead ones (the tests check that apart).  Ours are
 * named "muppy-snap:<pid namespace>.<our pid>." (mine).
 */
static bool not_foreign(const char *line, size_t len, const char *mine)
{
	return !memmem(line, len, "memfd:muppy-snap:", 17) ||
	       memmem(line, len, mine, strlen(mine));
}

static void take(pid_t pid, struct snap *s, int files)
{
	char path[64], mine[96];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	s->maps = slurp(path);
	if (files)
		filter_lines(s->maps, is_file, NULL);
	s->fd = list_dir(pid, "fd", 1);
	s->task = list_dir(pid, "task", 0);
	if (!stat("/proc/self/ns/pid", &st)) {
		snprintf(mine, sizeof(mine), "memfd:muppy-snap:%llu.%d.",
			 (unsigned long long)st.st_ino, (int)getpid());
		filter_lines(s->maps, not_foreign, mine);
		filter_lines(s->fd, not_foreign, mine);
	}
}

static void drop(struct snap *s)
{
	free(s->maps);
	free(s->fd);
	free(s->task);
}

static void show_diff(const char *what, const char *a, const char *b)
{
	FILE *f;
	char pa[] = "/tmp/injtool-a.XXXXXX", pb[] = "/tmp/injtool-b.XXXXXX", cmd[256];
	int fa = mkstemp(pa), fb = mkstemp(pb);

	fprintf(stderr, "injtool: %s differ after injection:\n", what);
	if (fa < 0 || fb < 0)
		return;
	f = fdopen(fa, "w");
	fputs(a, f);
	fclose(f);
	f = fdopen(fb, "w");
	fputs(b, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "diff -u %s %s >&2", pa, pb);
	if (system(cmd) < 0)
		perror("system");
	unlink(pa);
	unlink(pb);
}

static int same(const struct snap *a, const struct snap *b)
{
	int ok = 1;

	if (strcmp(a->maps, b->maps)) {
		show_diff("mappings", a->maps, b->maps);
		ok = 0;
	}
	if (strcmp(a->fd, b->fd)) {
		show_diff("file descriptors", a->fd, b->fd);
		ok = 0;
	}
	if (strcmp(a->task, b->task)) {
		show_diff("threads", a->task, b->task);
		ok = 0;
	}
	return ok;
}

/* The pid as the target sees itself (innermost pid namespace). */
static long inner_pid(pid_t pid)
{
	char path[64], *s, *p, *line;
	long v = pid;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	s = slurp(path);
	line = strstr(s, "NSpid:");
	if (line) {
		for (p = line + 6; *p && *p != '\n';) {
			char *end;
			long x = strtol(p, &end, 10);

			if (end == p)
				break;
			v = x;
			p = end;
		}
	}
	free(s);
	return v;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int one(pid_t pid, const void *image, size_t len, const char *func,
	       int timeout, int keep, int crash, int leave,
	       struct muppy__stats *st, struct muppy_error *err)
{
	struct muppy__target *t = NULL;
	struct muppy__lib lib;
	struct muppy__stats s2;
	struct testlib_io io;
	uint64_t fn, args[1] = { MUPPY__SCRATCH };
	int ret;

	memset(st, 0, sizeof(*st));
	ret = muppy__target_attach(&t, pid, timeout, err);
	if (ret)
		return ret;
	ret = muppy__target_load(t, image, len, &lib, err);
	if (ret)
		goto out_detach;
	if (leave) /* as if killed right after loading */
		goto out_detach;
	ret = muppy__target_claim(t, &lib, err);
	if (ret)
		goto out_unload;
	if (crash) {
		struct muppy_error e2;

		muppy_error_clear(&e2);
		ret = muppy__target_sym(t, &lib, "muppy_test_crash", &fn, err);
		if (ret)
			goto out_unload;
		ret = muppy__target_call(t, fn, args, 1, &io, sizeof(io), &io, sizeof(io), &e2);
		if (ret != -EFAULT) {
			muppy_error_set(err, "crashing call returned %d, want -EFAULT", ret);
			ret = -EINVAL;
			goto out_unload;
		}
		fprintf(stderr, "injtool: as expected: %s\n", e2.msg);
		keep = 1; /* the attachment is spent: attach again */
	}
	if (keep) {
		muppy__target_stats(t, st);
		muppy__target_detach(t);
		t = NULL;
		ret = muppy__target_attach(&t, pid, timeout, err);
		if (ret)
			return ret;
	}
	ret = muppy__target_sym(t, &lib, func, &fn, err);
	if (ret)
		goto out_unload;
	memset(&io, 0, sizeof(io));
	if (getrandom(&io.nonce, sizeof(io.nonce), 0) != sizeof(io.nonce))
		io.nonce = 12345;
	ret = muppy__target_call(t, fn, args, 1, &io, sizeof(io), &io, sizeof(io), err);
	if (ret)
		goto out_unload;
	if (io.magic != TESTLIB_MAGIC || io.echo != ~io.nonce ||
	    io.pid != inner_pid(pid) || !io.ctor || !io.malloc_ok ||
	    io.calls != 1) {
		muppy_error_set(err, "wrong result: magic %#llx echo ok %d pid %d (want %ld) tid %d ctor %d calls %d malloc %d",
				(unsigned long long)io.magic, io.echo == ~io.nonce,
				io.pid, inner_pid(pid), io.tid, io.ctor, io.calls,
				io.malloc_ok);
		ret = -EDOM;
	}
out_unload:
	{
		int r2 = muppy__target_unload(t, &lib, err);

		if (!ret)
			ret = r2;
	}
out_detach:
	muppy__target_stats(t, &s2);
	st->away_us += s2.away_us;
	st->calls += s2.calls;
	st->call_us += s2.call_us;
	st->sigreturns_skipped += s2.sigreturns_skipped;
	st->swept += s2.swept;
	st->tries += s2.tries;
	st->tid = s2.tid;
	muppy__target_detach(t);
	return ret;
}

int main(int argc, char **argv)
{
	int count = 1, timeout = 10000, files = 0, keep = 0, crash = 0, opt, i, ret = 0;
	int interval = 0, linger = 0;
	struct muppy_error err;
	struct muppy__stats st;
	pid_t *tids;
	uint64_t *away, tries = 0, calls = 0, call_us = 0, skipped = 0, swept = 0;
	int leave = 0;
	void *image;
	size_t len;
	pid_t pid;

	while ((opt = getopt(argc, argv, "n:t:m:kcxFi:w:")) != -1) {
		switch (opt) {
		case 'i': interval = atoi(optarg); break;
		case 'w': linger = atoi(optarg); break;
		case 'n': count = atoi(optarg); break;
		case 't': timeout = atoi(optarg); break;
		case 'm': files = !strcmp(optarg, "files"); break;
		case 'k': keep = 1; break;
		case 'c': crash = 1; break;
		case 'x': leave = 1; break;
		case 'F': muppy__sigreturn_by_frame = true; break;
		default: goto usage;
		}
	}
	if (argc - optind != 3 || count < 1)
		goto usage;
	pid = (pid_t)atoi(argv[optind]);
	muppy_error_clear(&err);
	ret = muppy__read_image(argv[optind + 1], &image, &len, &err);
	if (ret) {
		fprintf(stderr, "injtool: %s\n", err.msg);
		return 1;
	}
	away = calloc((size_t)count, sizeof(*away));
	tids = calloc((size_t)count, sizeof(*tids));
	for (i = 0; i < count; i++) {
		struct snap before, after;

		take(pid, &before, files);
		muppy_error_clear(&err);
		ret = one(pid, image, len, argv[optind + 2], timeout, keep, crash, leave,
			  &st, &err);
		if (ret) {
			fprintf(stderr, "injtool: injection %d: %s\n", i + 1, err.msg);
			drop(&before);
			fflush(stderr);
			ret = ret == -EDOM ? 21 : code_of(ret);
			goto out;
		}
		away[i] = st.away_us;
		tids[i] = st.tid;
		tries += st.tries;
		calls += st.calls;
		call_us += st.call_us;
		skipped += st.sigreturns_skipped;
		swept += st.swept;
		take(pid, &after, files);
		if (!leave && !same(&before, &after)) {
			fprintf(stderr, "injtool: injection %d left changes behind\n", i + 1);
			drop(&before);
			drop(&after);
			ret = 20;
			goto out;
		}
		drop(&before);
		drop(&after);
		if (interval)
			usleep((useconds_t)interval * 1000);
	}
	qsort(away, (size_t)count, sizeof(*away), cmp_u64);
	printf("threads used:");
	for (i = 0; i < count; i++)
		printf(" %d", (int)tids[i]);
	printf("\n");
	printf("injections %d, remote calls %llu (%llu without rt_sigreturn), interrupts %llu\n",
	       count, (unsigned long long)calls, (unsigned long long)skipped,
	       (unsigned long long)tries);
	printf("leftovers of dead injectors removed: %llu\n", (unsigned long long)swept);
	printf("away us min %llu median %llu max %llu (of which in calls: %llu avg per injection)\n",
	       (unsigned long long)away[0], (unsigned long long)away[count / 2],
	       (unsigned long long)away[count - 1],
	       (unsigned long long)(call_us / (uint64_t)count));
out:
	free(tids);
	for (i = 0; i < linger / 50; i++) {
		muppy__inject_reap();
		usleep(50000);
	}
	free(away);
	free(image);
	return ret;
usage:
	fprintf(stderr, "usage: injtool [-n COUNT] [-i MS] [-t TIMEOUT_MS] [-m exact|files] [-k] [-c] [-x] [-F] [-w MS] PID LIB.so FUNC\n");
	return 64;
}
