/* SPDX-License-Identifier: MIT */
/* Small readers of /proc: a whole file, fields of status and stat, the
 * state of a process; whether a pidfd's process has exited. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc/proc.h"

int muppy__proc_read(const char *path, char *buf, size_t size)
{
	ssize_t n;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while (got + 1 < size) {
		n = read(fd, buf + got, size - 1 - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = -errno;
			close(fd);
			return (int)n;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	close(fd);
	return 0;
}

long muppy__status_field(pid_t pid, const char *key)
{
	char sub[32];

	snprintf(sub, sizeof(sub), "%d", (int)pid);
	return muppy__status_field_at(sub, key);
}

long muppy__status_field_at(const char *sub, const char *key)
{
	char path[96], buf[4096], *p;
	size_t kl = strlen(key);

	snprintf(path, sizeof(path), "/proc/%s/status", sub);
	if (muppy__proc_read(path, buf, sizeof(buf)))
		return -1;
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, kl) && p[kl] == ':')
			return strtol(p + kl + 1, NULL, 10);
	return -1;
}

int muppy__stat_read(const char *path, struct muppy__stat *s)
{
	char buf[1024], *p;
	int ret = muppy__proc_read(path, buf, sizeof(buf));

	if (ret)
		return ret;
	memset(s, 0, sizeof(*s));
	p = strrchr(buf, ')'); /* the command name may hold anything */
	/* fields 3 (state), 4 (ppid), 9 (flags) and 22 (start time) */
	if (!p || sscanf(p + 1, " %c %ld %*d %*d %*d %*d %lu %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
			 &s->state, &s->ppid, &s->flags, &s->start) != 4)
		return -EIO;
	return 0;
}

char muppy__proc_state(pid_t pid, unsigned long *flags)
{
	struct muppy__stat s;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (muppy__stat_read(path, &s))
		return 0;
	if (flags)
		*flags = s.flags;
	return s.state;
}

bool muppy__pidfd_exited(int pidfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	/* readable once the process has exited: asks for no permission */
	return poll(&p, 1, 0) != 0;
}
