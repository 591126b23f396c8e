/* SPDX-License-Identifier: MIT */
/* Target memory access, small /proc readers and permission diagnostics. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "inject/inject_int.h"

static int mem_rw(pid_t pid, uint64_t addr, void *buf, size_t len, bool wr)
{
	struct iovec l = { buf, len }, r = { (void *)(uintptr_t)addr, len };
	char path[64];
	ssize_t n;
	int fd;

	n = wr ? process_vm_writev(pid, &l, 1, &r, 1, 0)
	       : process_vm_readv(pid, &l, 1, &r, 1, 0);
	if (n == (ssize_t)len)
		return 0;
	/* Partial, or a page without the permission: /proc/PID/mem
	 * ignores page protections, as a debugger does. */
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	fd = open(path, (wr ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = wr ? pwrite(fd, buf, len, (off_t)addr) : pread(fd, buf, len, (off_t)addr);
	close(fd);
	if (n < 0)
		return -errno;
	return n == (ssize_t)len ? 0 : -EIO;
}

int muppy__mem_read(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	return mem_rw(pid, addr, buf, len, false);
}

int muppy__mem_write(pid_t pid, uint64_t addr, const void *buf, size_t len)
{
	return mem_rw(pid, addr, (void *)buf, len, true);
}

int muppy__mem_read_str(pid_t pid, uint64_t addr, char *buf, size_t size)
{
	size_t got = 0, chunk;
	int ret;

	while (got + 1 < size) {
		/* never cross a page in one read */
		chunk = 4096 - ((addr + got) & 4095);
		if (chunk > size - 1 - got)
			chunk = size - 1 - got;
		ret = muppy__mem_read(pid, addr + got, buf + got, chunk);
		if (ret)
			return ret;
		if (memchr(buf + got, '\0', chunk))
			return 0;
		got += chunk;
	}
	buf[size - 1] = '\0';
	return -ENAMETOOLONG;
}

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
	char path[64], buf[4096], *p;
	size_t kl = strlen(key);

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (muppy__proc_read(path, buf, sizeof(buf)))
		return -1;
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, kl) && p[kl] == ':')
			return strtol(p + kl + 1, NULL, 10);
	return -1;
}

static bool have_cap(int cap)
{
	char buf[4096], *p;
	unsigned long long eff;

	if (muppy__proc_read("/proc/self/status", buf, sizeof(buf)))
		return false;
	p = strstr(buf, "CapEff:");
	if (!p)
		return false;
	eff = strtoull(p + 7, NULL, 16);
	return (eff >> cap) & 1;
}

int muppy__explain_eperm(pid_t pid, const char *what, struct muppy_error *err)
{
	char buf[64];
	long tracer = muppy__status_field(pid, "TracerPid");
	long uid = muppy__status_field(pid, "Uid");
	int yama = -1;

	if (!muppy__proc_read("/proc/sys/kernel/yama/ptrace_scope", buf,
			      sizeof(buf)))
		yama = atoi(buf);
	if (tracer > 0) {
		char comm[64] = "?", path[64];

		snprintf(path, sizeof(path), "/proc/%ld/comm", tracer);
		if (!muppy__proc_read(path, comm, sizeof(comm)))
			comm[strcspn(comm, "\n")] = '\0';
		muppy_error_set(err, "cannot %s process %d: it is already traced by process %ld (%s); detach that debugger first",
				what, (int)pid, tracer, comm);
		return -EBUSY;
	}
	if (uid >= 0 && (uid_t)uid != geteuid() && !have_cap(19)) {
		muppy_error_set(err, "cannot %s process %d: it belongs to uid %ld and we run as uid %d without CAP_SYS_PTRACE; run as that user or as root",
				what, (int)pid, uid, (int)geteuid());
		return -EPERM;
	}
	if (yama > 0) {
		muppy_error_set(err, "cannot %s process %d: kernel.yama.ptrace_scope = %d forbids it; run as root or set it to 0",
				what, (int)pid, yama);
		return -EPERM;
	}
	muppy_error_set(err, "cannot %s process %d: permission denied (setuid program, other gid, or a security module); run as root",
			what, (int)pid);
	return -EPERM;
}

uint64_t muppy__now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}
