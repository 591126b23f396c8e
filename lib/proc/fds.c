/* SPDX-License-Identifier: MIT */
/* The target's file descriptors, as /proc/PID/fd shows them. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc/proc.h"

static bool link_is(const char *link, const void *want)
{
	return !strcmp(link, want);
}

/* The link of the target's fd N into link; false if there is none. */
bool muppy__fd_link(pid_t pid, int n, char *link, size_t size)
{
	char path[64];
	ssize_t len;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, n);
	len = readlink(path, link, size - 1);
	if (len <= 0)
		return false;
	link[len] = '\0';
	return true;
}

/* The target's fds (at most max) whose link accept takes; their count,
 * or -errno. */
int muppy__fds_scan(pid_t pid,
		     bool (*accept)(const char *link, const void *arg),
		     const void *arg, int *fds, int max)
{
	char path[64], link[256];
	struct dirent *d;
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while (n < max && (d = readdir(dir))) {
		int fd = atoi(d->d_name);

		if (d->d_name[0] != '.' && muppy__fd_link(pid, fd, link, sizeof(link)) &&
		    accept(link, arg))
			fds[n++] = fd;
	}
	closedir(dir);
	return n;
}

/* The target's fd whose link is "/memfd:NAME (deleted)", or -ENOENT. */
int muppy__find_memfd(pid_t pid, const char *name)
{
	char want[160];
	int fd, n;

	snprintf(want, sizeof(want), "/memfd:%s (deleted)", name);
	n = muppy__fds_scan(pid, link_is, want, &fd, 1);
	return n < 0 ? n : n ? fd : -ENOENT;
}
