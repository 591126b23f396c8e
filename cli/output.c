/* SPDX-License-Identifier: MIT */
/* Where muppy-snap writes a snapshot, and the writing; see snapcli.h. */
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "snapcli.h"

bool cli_is_dir(const char *path)
{
	struct stat st;
	size_t len = strlen(path);

	if (len && path[len - 1] == '/')
		return true;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Appends s to buf at *n; false when it does not fit. */
static bool put(char *buf, size_t size, size_t *n, const char *s)
{
	size_t len = strlen(s);

	if (*n + len >= size)
		return false;
	memcpy(buf + *n, s, len + 1);
	*n += len;
	return true;
}

int cli_output_path(const char *tmpl, int pid, int64_t time_ms,
		    enum muppy_format fmt, char *buf, size_t size)
{
	char expanded[PATH_MAX], dir[PATH_MAX], num[32];
	time_t secs = (time_t)(time_ms / 1000);
	size_t n = 0;
	struct tm tm;

	if (cli_is_dir(tmpl)) {
		size_t len = strlen(tmpl);

		while (len > 1 && tmpl[len - 1] == '/')
			len--;
		if (snprintf(dir, sizeof(dir), "%.*s/%s", (int)len, tmpl,
			     fmt == MUPPY_FORMAT_PROMETHEUS ?
			     "muppy-{pid}.prom" :
			     "{pid}-%Y%m%dT%H%M%S.{ms}.snap") >=
		    (int)sizeof(dir))
			return -ENAMETOOLONG;
		tmpl = dir;
	}
	expanded[0] = '\0';
	for (const char *p = tmpl; *p; p++) {
		char c[2] = { *p, '\0' };

		if (!strncmp(p, "{pid}", 5)) {
			snprintf(num, sizeof(num), "%d", pid);
			p += 4;
		} else if (!strncmp(p, "{ms}", 4)) {
			snprintf(num, sizeof(num), "%03d",
				 (int)(((time_ms % 1000) + 1000) % 1000));
			p += 3;
		} else {
			memcpy(num, c, sizeof(c));
		}
		if (!put(expanded, sizeof(expanded), &n, num))
			return -ENAMETOOLONG;
	}
	localtime_r(&secs, &tm);
	/* The template is the user's own format string, as for date(1). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	if (strftime(buf, size, expanded, &tm) == 0 && *expanded)
		return -ENAMETOOLONG;
#pragma GCC diagnostic pop
	return 0;
}

static int print_any(FILE *f, const struct muppy_snapshot *s,
		     const struct muppy_print_opts *po, enum muppy_sort sort)
{
	if (po->format == MUPPY_FORMAT_PROMETHEUS)
		return muppy_prom_print(f, s, po);
	return muppy_snapshot_print(f, s, po, sort);
}

/* 0 when path may be written: a new name, or a regular file (a symbolic
 * link, a FIFO, a device or a directory there is refused). */
static int writable_name(const char *path)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -errno;
	return S_ISREG(st.st_mode) ? 0 : -EEXIST;
}

static int refuse(const char *path, int r)
{
	if (r == -EEXIST)
		cli_error("%s: not a regular file (-o writes only regular "
			  "files and new names)", path);
	else if (r == -ENOENT || r == -ENOTDIR)
		cli_error("%s: its folder does not exist", path);
	else
		cli_perror(-r, "%s", path);
	return MUPPY_EXIT_ERROR;
}

/*
 * Why another user could redirect what is written into folder dir, or
 * NULL: it and every folder above it, as named and as resolved, must be
 * root's or ours and writable by no one else, unless sticky (as /tmp:
 * there no one may rename or remove our files).
 */
static const char *unsafe_chain(const char *dir, char *why, size_t size)
{
	char p[PATH_MAX], up[PATH_MAX];
	struct stat st;

	snprintf(p, sizeof(p), "%s", dir);
	for (;;) {
		if (stat(p, &st) != 0) {
			snprintf(why, size, "%s: %s", p, strerror(errno));
			return why;
		}
		if (st.st_uid != 0 && st.st_uid != geteuid()) {
			snprintf(why, size, "%s: owned by uid %u, neither root "
				 "nor uid %u", p, (unsigned)st.st_uid,
				 (unsigned)geteuid());
			return why;
		}
		if ((st.st_mode & 022) && !(st.st_mode & S_ISVTX)) {
			snprintf(why, size, "%s: writable by group or others "
				 "(mode %o)", p, (unsigned)(st.st_mode & 07777));
			return why;
		}
		if (!strcmp(p, "/") || !strcmp(p, "."))
			return NULL;
		snprintf(up, sizeof(up), "%s", dirname(p));
		snprintf(p, sizeof(p), "%s", up);
	}
}

/* The folder of path exists and is safe; shown names it in messages. */
static int safe_folder(const char *path, const char *shown)
{
	char buf[PATH_MAX], dir[PATH_MAX], real[PATH_MAX];
	char why[PATH_MAX + 96];

	snprintf(buf, sizeof(buf), "%s", path);
	snprintf(dir, sizeof(dir), "%s", dirname(buf));
	if (!cli_is_dir(dir))
		return refuse(shown, errno == ENOTDIR ? -ENOTDIR : -ENOENT);
	if (unsafe_chain(dir, why, sizeof(why)) ||
	    (realpath(dir, real) && unsafe_chain(real, why, sizeof(why)))) {
		cli_error("%s; refusing to write there (another user could "
			  "put a link in its place)", why);
		return MUPPY_EXIT_ERROR;
	}
	return MUPPY_EXIT_OK;
}

/* The first n bytes of a -o template hold no {pid}, {ms} nor time. */
static bool fixed(const char *tmpl, size_t n)
{
	return !memchr(tmpl, '{', n) && !memchr(tmpl, '%', n);
}

int cli_output_check(const char *tmpl, enum muppy_format fmt)
{
	char path[PATH_MAX];
	const char *slash = strrchr(tmpl, '/');
	int r;

	r = cli_output_path(tmpl, 0, 0, fmt, path, sizeof(path));
	if (r < 0) {
		cli_error("%s: file name too long", tmpl);
		return MUPPY_EXIT_ERROR;
	}
	/* the folder, unless its name depends on the pid or the time */
	if (fixed(tmpl, slash ? (size_t)(slash - tmpl) : 0) &&
	    (r = safe_folder(path, tmpl)))
		return r;
	/* A fixed name (no {pid}, time or directory): that very file. */
	if (fixed(tmpl, strlen(tmpl)) && !cli_is_dir(tmpl) &&
	    (r = writable_name(tmpl)) < 0)
		return refuse(tmpl, r);
	return MUPPY_EXIT_OK;
}

int cli_print_snapshot(const char *path, const struct muppy_snapshot *s,
		       const struct muppy_print_opts *po, enum muppy_sort sort)
{
	char tmp[PATH_MAX + 16];
	FILE *f;
	int r;

	if (!path) {
		r = print_any(stdout, s, po, sort);
		if (r < 0) {
			cli_perror(-r, "write error");
			return MUPPY_EXIT_ERROR;
		}
		return fflush(stdout) == 0 ? MUPPY_EXIT_OK : MUPPY_EXIT_ERROR;
	}
	/* Write beside, then rename: a reader never sees half a file (and
	 * node_exporter reads only *.prom, never the temporary file). */
	r = safe_folder(path, path);
	if (r)
		return r;
	r = writable_name(path);
	if (r < 0)
		return refuse(path, r);
	snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid());
	f = fopen(tmp, "wex");
	if (!f)
		return refuse(path, -errno);
	r = print_any(f, s, po, sort);
	/* On disk before it has the name: a crash leaves the old file. */
	if (r == 0 && (fflush(f) != 0 || fsync(fileno(f)) != 0))
		r = -errno;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) != 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		cli_perror(-r, "%s", path);
		return MUPPY_EXIT_ERROR;
	}
	return MUPPY_EXIT_OK;
}

/* Whether process pid exists (of any user). */
static bool alive(int pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

int cli_prom_sweep(const char *dir)
{
	struct dirent *d;
	int removed = 0;
	DIR *dp = opendir(dir);

	if (!dp)
		return 0;
	while ((d = readdir(dp))) {
		int pid = 0, owner = 0, n = 0;
		char path[PATH_MAX];

		/* exactly muppy-PID.prom, or muppy-PID.prom.tmpOWNER, as
		 * written here (not muppy--1.prom nor muppy-+5.prom) */
		if (sscanf(d->d_name, "muppy-%d.prom%n", &pid, &n) != 1 ||
		    !n || pid <= 0 ||
		    snprintf(path, sizeof(path), "muppy-%d.prom", pid) != n ||
		    strncmp(d->d_name, path, (size_t)n))
			continue;
		if (d->d_name[n] == '\0' ? alive(pid) :
		    sscanf(d->d_name + n, ".tmp%d", &owner) != 1 ||
		    owner <= 0 || alive(owner))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, d->d_name) <
		    (int)sizeof(path) && unlink(path) == 0)
			removed++;
	}
	closedir(dp);
	return removed;
}
