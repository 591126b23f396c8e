/* SPDX-License-Identifier: MIT */
/* Why ptrace was refused: another tracer, another uid without
 * CAP_SYS_PTRACE, kernel.yama.ptrace_scope (strace's attach diagnostics). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc/proc.h"

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
