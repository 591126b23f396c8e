/* SPDX-License-Identifier: MIT */
/* The target's memory: reads and writes (process_vm_*, /proc/PID/mem),
 * and the write of the entry mark armed by muppy__target_claim(). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "inject/inject_int.h"

/*
 * Pinned address spaces: once the attach has stopped a thread,
 * /proc/PID/mem is opened and every read and write of that process goes
 * through it.  The descriptor keeps to the address space it was opened
 * on: if another thread executes a new program afterwards, reads and
 * writes fail instead of reaching the new program under the same pid.
 * Counted, so that nested attaches of one process share it.
 */
static struct pin {
	pid_t pid;
	int fd;
	unsigned refs;
} pins[8];

static struct pin *pin_of(pid_t pid)
{
	for (size_t i = 0; i < sizeof(pins) / sizeof(pins[0]); i++)
		if (pins[i].refs && pins[i].pid == pid)
			return &pins[i];
	return NULL;
}

int muppy__mem_pin(pid_t pid)
{
	struct pin *p = pin_of(pid);
	char path[64];

	if (p) {
		p->refs++;
		return 0;
	}
	for (size_t i = 0; i < sizeof(pins) / sizeof(pins[0]); i++) {
		if (pins[i].refs)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
		pins[i].fd = open(path, O_RDWR | O_CLOEXEC);
		if (pins[i].fd < 0)
			return -errno;
		pins[i].pid = pid;
		pins[i].refs = 1;
		return 0;
	}
	return -EMFILE;
}

void muppy__mem_unpin(pid_t pid)
{
	struct pin *p = pin_of(pid);

	if (p && --p->refs == 0) {
		close(p->fd);
		p->fd = -1;
	}
}

/* Through a /proc/PID/mem descriptor; short (0 when the address space
 * is gone: an exec or an exit) is -EIO. */
static int fd_rw(int fd, uint64_t addr, void *buf, size_t len, bool wr)
{
	ssize_t n = wr ? pwrite(fd, buf, len, (off_t)addr)
		       : pread(fd, buf, len, (off_t)addr);

	if (n < 0)
		return -errno;
	return n == (ssize_t)len ? 0 : -EIO;
}

static int mem_rw(pid_t pid, uint64_t addr, void *buf, size_t len, bool wr)
{
	struct iovec l = { buf, len }, r = { (void *)(uintptr_t)addr, len };
	struct pin *p = pin_of(pid);
	char path[64];
	ssize_t n;
	int fd, ret;

	if (p)
		return fd_rw(p->fd, addr, buf, len, wr);
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
	ret = fd_rw(fd, addr, buf, len, wr);
	close(fd);
	return ret;
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

int muppy__claim_flush(struct muppy__target *t)
{
	static const int32_t one = 1;
	uint64_t addr = t->claim_addr;

	t->claim_addr = 0;
	return addr ? muppy__mem_write(t->pid, addr, &one, sizeof(one)) : 0;
}
