/* SPDX-License-Identifier: MIT */
/* --pidof and --pgrep (with --user): the processes a name or a pattern
 * finds. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "snapcli.h"

#define MAX_ANCESTORS 64

static size_t read_file(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return 0;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	return n;
}

static int parent_of(int pid)
{
	char path[64], buf[4096], *p;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (!read_file(path, buf, sizeof(buf)))
		return 0;
	p = strstr(buf, "\nPPid:");
	return p ? atoi(p + 6) : 0;
}

/* Our own pid and every ancestor's: pgrep -f would find the shell or the
 * cron helper whose command line holds the pattern. */
static size_t ancestors(int *a)
{
	size_t n = 0;
	int pid = getpid();

	while (pid > 1 && n < MAX_ANCESTORS) {
		a[n++] = pid;
		pid = parent_of(pid);
	}
	return n;
}

static const char *base(const char *s)
{
	const char *slash = strrchr(s, '/');

	return slash ? slash + 1 : s;
}

/* True when the process's effective uid is uid (as pgrep -u tells). */
static bool owned_by(int pid, uid_t uid)
{
	char path[64], buf[4096], *p;
	unsigned long real, eff;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (!read_file(path, buf, sizeof(buf)))
		return false;
	p = strstr(buf, "\nUid:");
	return p && sscanf(p + 5, "%lu %lu", &real, &eff) == 2 &&
	       eff == (unsigned long)uid;
}

static bool matches(int pid, const char *name, const regex_t *re)
{
	char path[64], cmd[8192], comm[64];
	size_t len, i;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	len = read_file(path, cmd, sizeof(cmd));
	if (!len)
		return false; /* kernel thread, zombie or gone */
	if (re) {
		while (len && !cmd[len - 1])
			len--;
		for (i = 0; i < len; i++)
			if (!cmd[i])
				cmd[i] = ' ';
		cmd[len] = '\0';
		return regexec(re, cmd, 0, NULL, 0) == 0;
	}
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	if (read_file(path, comm, sizeof(comm))) {
		comm[strcspn(comm, "\n")] = '\0';
		if (!strcmp(comm, name))
			return true;
	}
	for (i = 0; i < len; i += strlen(cmd + i) + 1)
		if (!strcmp(base(cmd + i), name))
			return true;
	return false;
}

bool cli_parse_user(const char *s, uid_t *uid)
{
	struct passwd *pw = *s ? getpwnam(s) : NULL;
	unsigned long v = 0;

	if (pw) {
		*uid = pw->pw_uid;
		return true;
	}
	if (!*s || strlen(s) > 10)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v >= (unsigned long)CLI_ANY_UID)
		return false;
	*uid = (uid_t)v;
	return true;
}

/*
 * False for a process that runs no Python at all (a shell whose command
 * line names the script, tail -f app.py, cron's sh -c line), said on
 * standard error; any other process is kept, so that taking its snapshot
 * says what is wrong with it.
 */
static bool python(int pid)
{
	/* said once a process: watch mode looks again every 200 ms while
	 * it waits for a successor */
	static int said[64];
	static size_t nsaid;
	char path[64], comm[64];
	struct muppy_error err;
	char *shown;

	muppy_error_clear(&err);
	if (muppy_snap_probe(pid, 2000, &err) != -ENOEXEC)
		return true;
	for (size_t i = 0; i < nsaid && i < 64; i++)
		if (said[i] == pid)
			return false;
	said[nsaid++ % 64] = pid;
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	if (!read_file(path, comm, sizeof(comm)))
		return false; /* gone */
	comm[strcspn(comm, "\n")] = '\0';
	shown = muppy_escape(comm, strlen(comm));
	cli_warn("skipping process %d (%s): not a Python process", pid,
		 shown ? shown : "?");
	free(shown);
	return false;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

int cli_find_pids(const char *name, bool regex, uid_t uid, int *pids,
		  size_t max)
{
	int skip[MAX_ANCESTORS];
	size_t nskip = ancestors(skip), found = 0, i;
	struct dirent *d;
	regex_t re;
	DIR *dir;

	if (regex && regcomp(&re, name, REG_EXTENDED | REG_NOSUB) != 0)
		return -EINVAL;
	dir = opendir("/proc");
	if (!dir) {
		int e = errno;

		if (regex)
			regfree(&re);
		return -e;
	}
	while ((d = readdir(dir))) {
		int pid;
		bool ours = false;

		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		pid = atoi(d->d_name);
		for (i = 0; i < nskip; i++)
			ours = ours || skip[i] == pid;
		if (ours || (uid != CLI_ANY_UID && !owned_by(pid, uid)) ||
		    !matches(pid, name, regex ? &re : NULL) || !python(pid))
			continue;
		if (found < max)
			pids[found] = pid;
		found++;
	}
	closedir(dir);
	if (regex)
		regfree(&re);
	qsort(pids, found < max ? found : max, sizeof(*pids), cmp_int);
	return (int)found;
}
