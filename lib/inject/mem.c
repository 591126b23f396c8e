/* SPDX-License-Identifier: MIT */
/* Target memory access, small /proc readers and permission diagnostics. */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
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

static int mem_rw(pid_t pid, uint64_t addr, void *buf, size_t len, bool wr)
{
	struct iovec l = { buf, len }, r = { (void *)(uintptr_t)addr, len };
	struct pin *p = pin_of(pid);
	char path[64];
	ssize_t n;
	int fd;

	if (p) {
		n = wr ? pwrite(p->fd, buf, len, (off_t)addr)
		       : pread(p->fd, buf, len, (off_t)addr);
		if (n < 0)
			return -errno;
		/* 0: the address space is gone (an exec or an exit) */
		return n == (ssize_t)len ? 0 : -EIO;
	}
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

int muppy__eperm_message(struct muppy_error *err, const char *what,
			 pid_t pid, const struct muppy__eperm_facts *f)
{
	if (f->tracer > 0) {
		char thr[48] = "it is", comm[sizeof(f->tracer_comm) * 4 + 1];

		if (f->tid > 0 && f->tid != pid)
			snprintf(thr, sizeof(thr), "its thread %d is", (int)f->tid);
		muppy_error_set(err, "cannot %s process %d: %s already traced by process %ld (%s); %s",
				what, (int)pid, thr, f->tracer,
				f->tracer_comm[0] ? muppy__shown(f->tracer_comm, comm,
								 sizeof(comm)) : "?",
				!strcmp(f->tracer_comm, "muppy-snap") ?
				"another snapshot is being taken, try again" :
				"detach that debugger first");
		return -EBUSY;
	}
	if (f->uid >= 0 && f->uid != (long)f->euid && !f->cap_sys_ptrace) {
		muppy_error_set(err, "cannot %s process %d: it belongs to uid %ld and we run as uid %d without CAP_SYS_PTRACE; run as that user or as root (sudo)",
				what, (int)pid, f->uid, (int)f->euid);
		return -EPERM;
	}
	switch (f->yama) {
	case 1:
		muppy_error_set(err, "cannot %s process %d: kernel.yama.ptrace_scope = 1 lets a process trace only its own descendants; run as root (sudo) or with CAP_SYS_PTRACE, or set it to 0 (sysctl kernel.yama.ptrace_scope=0)",
				what, (int)pid);
		return -EPERM;
	case 2:
		muppy_error_set(err, "cannot %s process %d: kernel.yama.ptrace_scope = 2 lets only CAP_SYS_PTRACE trace; run as root (sudo) or grant CAP_SYS_PTRACE",
				what, (int)pid);
		return -EPERM;
	case 3:
		muppy_error_set(err, "cannot %s process %d: kernel.yama.ptrace_scope = 3 forbids all tracing until the next reboot",
				what, (int)pid);
		return -EPERM;
	}
	muppy_error_set(err, "cannot %s process %d: permission denied (setuid program, other gid, or a security module); run as root (sudo)",
			what, (int)pid);
	return -EPERM;
}

static void eperm_facts(pid_t pid, pid_t tid, struct muppy__eperm_facts *f);

bool muppy__eperm_unexplained(pid_t pid, pid_t tid)
{
	struct muppy__eperm_facts f;
	struct muppy_error e = { "" };

	eperm_facts(pid, tid, &f);
	return muppy__eperm_message(&e, "", pid, &f) == -EPERM &&
	       strstr(e.msg, "(setuid program") != NULL;
}

int muppy__explain_eperm(pid_t pid, pid_t tid, const char *what,
			 struct muppy_error *err)
{
	struct muppy__eperm_facts f;

	eperm_facts(pid, tid, &f);
	return muppy__eperm_message(err, what, pid, &f);
}

static void eperm_facts(pid_t pid, pid_t tid, struct muppy__eperm_facts *out)
{
	struct muppy__eperm_facts f = { .tid = tid, .yama = -1 };
	char buf[64], path[64];


	f.tracer = muppy__status_field(pid, "TracerPid");
	if (f.tracer <= 0 && tid > 0 && tid != pid) {
		snprintf(path, sizeof(path), "%d/task/%d", (int)pid, (int)tid);
		f.tracer = muppy__status_field_at(path, "TracerPid");
	} else {
		f.tid = pid;
	}
	f.uid = muppy__status_field(pid, "Uid");
	f.euid = geteuid();
	f.cap_sys_ptrace = have_cap(19);
	if (!muppy__proc_read("/proc/sys/kernel/yama/ptrace_scope", buf,
			      sizeof(buf)))
		f.yama = atoi(buf);
	if (f.tracer > 0) {
		snprintf(path, sizeof(path), "/proc/%ld/comm", f.tracer);
		if (!muppy__proc_read(path, f.tracer_comm,
				      sizeof(f.tracer_comm)))
			f.tracer_comm[strcspn(f.tracer_comm, "\n")] = '\0';
	}
	*out = f;
}

bool muppy__stop_pending(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT,
				    SIGUSR1, SIGUSR2, SIGALRM };
	sigset_t pend;

	if (sigpending(&pend))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
		struct sigaction sa;

		if (sigismember(&pend, sigs[i]) &&
		    !sigaction(sigs[i], NULL, &sa) && sa.sa_handler != SIG_IGN)
			return true;
	}
	return false;
}

bool muppy__pidfd_exited(int pidfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	/* readable once the process has exited: asks for no permission */
	return poll(&p, 1, 0) != 0;
}

const char *muppy__shown(const char *text, char *buf, size_t size)
{
	char *e = muppy_escape(text, strlen(text));

	snprintf(buf, size, "%s", e ? e : "?");
	free(e);
	return buf;
}

uint64_t muppy__now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
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
