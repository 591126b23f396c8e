/* SPDX-License-Identifier: MIT */
/*
 * Attaching: checks on the process, PTRACE_SEIZE + PTRACE_INTERRUPT of one
 * thread at a time until one is at a safe point, and detaching.  Only the
 * chosen thread is traced; the others keep running throughout.
 */
#include <dirent.h>
#include <pthread.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/kcmp.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "inject/inject_int.h"

#define MAX_TASKS 4096
/* How long one thread may take to reach its interrupt stop. */
#define SEIZE_WAIT_US 200000

/* State letter, flags and parent from /proc/PID[/task/TID]/stat. */
/*
 * System calls that fail with EINTR whenever the thread is interrupted,
 * even by a stop it never sees (they are not restarted): interrupting
 * such a thread shows the program an EINTR.  Read before seizing.
 */
static bool in_eintr_syscall(pid_t pid, pid_t tid)
{
	static const long nrs[] = {
		232, 281, 441, /* epoll_wait, epoll_pwait, epoll_pwait2 */
		128,           /* rt_sigtimedwait */
		65, 220,       /* semop, semtimedop */
		208, 333,      /* io_getevents, io_pgetevents */
		70, 69,        /* msgrcv, msgsnd */
	};
	char path[64], buf[256];
	long nr;
	size_t i;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", (int)pid, (int)tid);
	if (muppy__proc_read(path, buf, sizeof(buf)) || sscanf(buf, "%ld", &nr) != 1)
		return false; /* "running", or unreadable */
	for (i = 0; i < ARRAY_SIZE(nrs); i++)
		if (nr == nrs[i])
			return true;
	return false;
}

/*
 * True when the stopped thread has a signal to handle (pending, not
 * blocked): it was stopped on its way to the handler.  Used now, it would
 * hold that signal back for the whole injection, and another of the same
 * number sent meanwhile would merge into it.  Let it handle it first.
 */
static bool signal_due(pid_t pid, pid_t tid)
{
	static const char *const keys[] = { "\nSigPnd:", "\nShdPnd:", "\nSigBlk:" };
	unsigned long long v[3] = { 0, 0, 0 };
	char path[64], buf[4096], *p;
	size_t i;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid, (int)tid);
	if (muppy__proc_read(path, buf, sizeof(buf)))
		return false;
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		p = strstr(buf, keys[i]);
		if (p)
			v[i] = strtoull(p + strlen(keys[i]), NULL, 16);
	}
	return ((v[0] | v[1]) & ~v[2]) != 0;
}

/* True when the tracer is another muppy-snap (its attachment is brief). */
static bool traced_by_muppy(long tracer)
{
	char path[64], comm[32];

	snprintf(path, sizeof(path), "/proc/%ld/comm", tracer);
	if (muppy__proc_read(path, comm, sizeof(comm)))
		return false;
	return !strcmp(comm, "muppy-snap\n");
}

static int check_process(pid_t pid, struct muppy_error *err)
{
	struct muppy__stat st;
	char path[64];
	long tracer;
	int ret;

	if (pid <= 0) {
		muppy_error_set(err, "invalid process id %d", (int)pid);
		return -EINVAL;
	}
	if (pid == getpid()) {
		muppy_error_set(err, "process %d is muppy-snap itself", (int)pid);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	ret = muppy__stat_read(path, &st);
	if (ret == -ENOENT || ret == -ESRCH) {
		muppy_error_set(err, "no process %d", (int)pid);
		return -ESRCH;
	}
	if (ret) {
		muppy__error_errno(err, -ret, "cannot read %s", path);
		return ret;
	}
	if (st.flags & PF_KTHREAD) {
		muppy_error_set(err, "process %d is a kernel thread, not a program", (int)pid);
		return -ENOEXEC;
	}
	if (st.state == 'Z' || st.state == 'X') {
		muppy_error_set(err, "process %d has exited (zombie)", (int)pid);
		return -ESRCH;
	}
	/* Another muppy-snap attached: wait for it (choose_thread); a
	 * thread an earlier attach of ours left traced (not stopped in time,
	 * see muppy__inject_reap) is ours too, whatever our name */
	tracer = muppy__status_field(pid, "TracerPid");
	if (tracer > 0 && tracer != getpid() && !traced_by_muppy(tracer))
		return muppy__explain_eperm(pid, 0, "attach to", err);
	/* a vfork child runs in its parent's memory, which the parent's
	 * own threads may not touch: nothing may be loaded there */
	if (st.ppid > 0 && syscall(SYS_kcmp, pid, (pid_t)st.ppid, KCMP_VM, 0, 0) == 0) {
		muppy_error_set(err, "process %d is a vfork child sharing memory with %ld",
				(int)pid, st.ppid);
		return -EBUSY;
	}
	if (st.state == 'T') {
		muppy_error_set(err, "process %d is stopped (Ctrl-Z or SIGSTOP); resume it with kill -CONT %d",
				(int)pid, (int)pid);
		return -EAGAIN;
	}
	return 0;
}

/* Threads, those blocked in the kernel (state S) first, in an order that
 * varies between calls so no one thread always takes the injections. */
static int list_threads(pid_t pid, pid_t *tids, size_t max, size_t *n,
			pid_t *skipped)
{
	struct muppy__stat st;
	char path[64];
	struct dirent *d;
	size_t ns = 0, i;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return errno == ENOENT ? -ESRCH : -errno;
	*n = 0;
	while ((d = readdir(dir)) && *n < max) {
		pid_t tid = (pid_t)atoi(d->d_name);

		if (tid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
		if (muppy__stat_read(path, &st))
			continue;
		/* uninterruptible: it would not stop, and could not be left */
		if (st.state == 'D') {
			*skipped = tid;
			continue;
		}
		if (st.state == 'S') {
			for (i = *n; i > ns; i--)
				tids[i] = tids[i - 1];
			tids[ns++] = tid;
		} else {
			tids[*n] = tid;
		}
		(*n)++;
	}
	closedir(dir);
	if (ns > 1) {
		size_t r = (size_t)muppy__now_us() % ns;
		pid_t tmp[64];

		if (r && r <= 64) {
			memcpy(tmp, tids, r * sizeof(*tids));
			memmove(tids, tids + r, (ns - r) * sizeof(*tids));
			memcpy(tids + ns - r, tmp, r * sizeof(*tids));
		}
	}
	return 0;
}

/*
 * Seizes tid and waits for its interrupt stop.  1 when stopped, 0 when the
 * thread vanished, -errno otherwise (thread left detached).
 */
static int seize_thread(struct muppy__target *t, pid_t tid,
			uint64_t deadline, struct muppy_error *err)
{
	struct muppy__stat st;
	int status, ret, sig;

	if (ptrace(PTRACE_SEIZE, tid, 0, (void *)(long)PTRACE_O_TRACESYSGOOD) < 0) {
		if (errno == ESRCH)
			return 0;
		if (errno == EPERM) {
			char sub[64];
			long tracer;

			snprintf(sub, sizeof(sub), "%d/task/%d", (int)t->pid, (int)tid);
			tracer = muppy__status_field_at(sub, "TracerPid");
			/* an exiting thread (exit, exec) refuses with EPERM */
			snprintf(sub, sizeof(sub), "/proc/%d/task/%d/stat", (int)t->pid, (int)tid);
			if (muppy__stat_read(sub, &st) || st.state == 'Z' || st.state == 'X' ||
			    muppy__proc_state(t->pid, NULL) == 'Z')
				return 0;
			snprintf(sub, sizeof(sub), "%d/task/%d", (int)t->pid, (int)tid);
			if (tracer > 0 && traced_by_muppy(tracer)) {
				snprintf(t->why, sizeof(t->why), "thread %d is traced by another muppy-snap, process %ld",
					 (int)tid, tracer);
				return 0; /* busy for now: try again */
			}
			if (muppy__eperm_unexplained(t->pid, tid)) {
				uint64_t now = muppy__now_us();

				if (!t->eperm_us)
					t->eperm_us = now;
				if (now - t->eperm_us < 300000) {
					snprintf(t->why, sizeof(t->why), "thread %d refused to be traced", (int)tid);
					return 0;
				}
			}
			return muppy__explain_eperm(t->pid, tid, "attach to", err);
		}
		ret = -errno;
		muppy__error_errno(err, errno, "cannot attach to thread %d of process %d",
				   (int)tid, (int)t->pid);
		return ret;
	}
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0) {
		ret = errno == ESRCH ? 0 : -errno;
		goto out_detach;
	}
	/* a short wait of its own: a thread that can stop does so at once */
	if (deadline > muppy__now_us() + SEIZE_WAIT_US)
		deadline = muppy__now_us() + SEIZE_WAIT_US;
	for (;;) {
		ret = muppy__wait_stop(tid, &status, deadline);
		if (ret == -ESRCH)
			return 0;
		if (ret == -ETIMEDOUT) {
			/* e.g. uninterruptible sleep: give up on this one;
			 * it cannot be detached before it stops */
			snprintf(t->why, sizeof(t->why), "thread %d did not stop (uninterruptible sleep?)", (int)tid);
			if (ptrace(PTRACE_DETACH, tid, 0, 0) < 0 && errno == ESRCH)
				muppy__leave(tid);
			return 0;
		}
		if (ret)
			goto out_detach;
		if (WIFEXITED(status) || WIFSIGNALED(status))
			return 0;
		sig = WSTOPSIG(status);
		if (status >> 16 == PTRACE_EVENT_STOP) {
			if (sig == SIGTRAP)
				return 1; /* our interrupt */
			/* group-stop: the process is being stopped */
			muppy__detach(tid, 0);
			muppy_error_set(err, "process %d is stopped (Ctrl-Z or SIGSTOP); resume it with kill -CONT %d",
					(int)t->pid, (int)t->pid);
			return -EAGAIN;
		}
		/* A signal arrived first: deliver it, keep waiting. */
		if (ptrace(PTRACE_CONT, tid, 0, (void *)(long)sig) < 0) {
			if (errno == ESRCH)
				return 0;
			ret = -errno;
			goto out_detach;
		}
	}

out_detach:
	muppy__detach(tid, 0);
	return ret;
}

/* The address of the seized thread's errno (glibc: TLS of libc). */
static void find_errno(struct muppy__target *t, uint64_t tp)
{
	uint32_t desc[3];
	uint64_t sym, off, lm, tlsoff;
	int ret;

	if (muppy__elf_tls_sym(t->libc, "errno", &off) ||
	    muppy__elf_sym(t->libc, "_thread_db_link_map_l_tls_offset", &sym) ||
	    muppy__mem_read(t->pid, sym, desc, sizeof(desc)) ||
	    desc[0] != 64 || desc[1] != 1)
		return;
	ret = muppy__link_map_find(t, NULL, 0, &lm, NULL, NULL);
	if (ret || muppy__mem_read(t->pid, lm + desc[2], &tlsoff, sizeof(tlsoff)))
		return;
	t->errno_addr = tp - tlsoff + off; /* TLS variant II */
	if (muppy__mem_read(t->pid, t->errno_addr, &t->saved_errno,
			    sizeof(t->saved_errno)))
		t->errno_addr = 0;
}

/*
 * Finds __restore_rt in libc's executable mappings, read a chunk at a
 * time (the mappings are the target's: as large as it likes) and at most
 * MUPPY__ELF_FILE_MAX of them, within the deadline.
 */
#define STUB_CHUNK (1u << 20)
#define STUB_OVERLAP 64u
static int find_stub(struct muppy__target *t, struct muppy_error *err)
{
	const struct muppy__map *m;
	unsigned char *buf;
	uint64_t at, end, total = 0;
	size_t i, len;
	long off;
	char q[256];

	buf = malloc(STUB_CHUNK);
	if (!buf)
		return -ENOMEM;
	for (i = 0; i < t->maps.n; i++) {
		m = &t->maps.v[i];
		if (m->kind != OBJ_LIBC || m->perms[2] != 'x' ||
		    strcmp(m->path, muppy__elf_map(t->libc)->path))
			continue;
		for (at = m->start; at < m->end; at += len - STUB_OVERLAP) {
			end = m->end - at > STUB_CHUNK ? at + STUB_CHUNK : m->end;
			len = (size_t)(end - at);
			total += len;
			if (total > MUPPY__ELF_FILE_MAX ||
			    muppy__now_us() > t->deadline_us ||
			    muppy__mem_read(t->pid, at, buf, len))
				break;
			off = muppy__arch_find_stub(buf, len);
			if (off >= 0) {
				t->stub = at + (uint64_t)off;
				free(buf);
				return 0;
			}
			if (end == m->end)
				break;
		}
	}
	free(buf);
	muppy_error_set(err, "no signal-return stub found in %s of process %d",
			muppy__shown(muppy__elf_map(t->libc)->path, q, sizeof(q)),
			(int)t->pid);
	return -ENOEXEC;
}

static int choose_thread(struct muppy__target *t, int timeout_ms,
			 struct muppy_error *err)
{
	uint64_t start = muppy__now_us();
	uint64_t deadline = start + (uint64_t)timeout_ms * 1000;
	/* threads in calls that EINTR ends, or with a signal to handle,
	 * only after this */
	uint64_t relaxed = start + (uint64_t)timeout_ms * 1000 / 10;
	pid_t *tids, skipped = 0;
	size_t n = 0, i;
	int ret;

	tids = malloc(MAX_TASKS * sizeof(*tids));
	if (!tids)
		return -ENOMEM;
	for (;;) {
		ret = list_threads(t->pid, tids, MAX_TASKS, &n, &skipped);
		if (!ret && n && t->nskip) {
			size_t m = 0, k;

			for (i = 0; i < n; i++) {
				for (k = 0; k < t->nskip && t->skip[k] != tids[i]; k++)
					;
				if (k == t->nskip)
					tids[m++] = tids[i];
			}
			if (m == 0) {
				muppy_error_set(err, "every thread of process %d was tried",
						(int)t->pid);
				ret = -ECHILD;
				goto out;
			}
			n = m;
		}
		if (!ret && n == 0 && skipped) {
			snprintf(t->why, sizeof(t->why), "thread %d is in an uninterruptible sleep (state D)",
				 (int)skipped);
		} else if (ret || n == 0) {
			muppy_error_set(err, "process %d exited", (int)t->pid);
			ret = -ESRCH;
			goto out;
		}
		for (i = 0; i < n; i++) {
			if (muppy__now_us() < relaxed && in_eintr_syscall(t->pid, tids[i])) {
				snprintf(t->why, sizeof(t->why), "thread %d in a call that an interrupt ends with EINTR",
					 (int)tids[i]);
				continue;
			}
			ret = seize_thread(t, tids[i], deadline, err);
			if (ret < 0)
				goto out;
			if (ret == 0)
				continue;
			t->tid = tids[i];
			t->t_stopped = muppy__now_us();
			t->st.tries++;
			if (muppy__now_us() < relaxed && signal_due(t->pid, t->tid)) {
				snprintf(t->why, sizeof(t->why), "thread %d has a signal to handle",
					 (int)t->tid);
				ret = 0;
			} else {
				ret = muppy__safepoint_check(t);
			}
			if (ret > 0) {
				ret = 0;
				goto out;
			}
			muppy__detach(tids[i], 0);
			t->tid = 0;
			if (ret < 0 && ret != -ESRCH) {
				muppy__error_errno(err, -ret, "cannot inspect thread %d of process %d",
						   (int)tids[i], (int)t->pid);
				goto out;
			}
		}
		if (muppy__stop_pending()) {
			muppy_error_set(err, "interrupted");
			ret = -EINTR;
			goto out;
		}
		if (muppy__now_us() >= deadline) {
			muppy_error_set(err, "no thread of process %d reached a safe point in %d ms (%s)",
					(int)t->pid, timeout_ms,
					t->why[0] ? t->why : "no thread could be stopped");
			ret = -ETIMEDOUT;
			goto out;
		}
		{
			struct timespec ts = { 0, 1000000 };

			nanosleep(&ts, NULL);
		}
	}
out:
	free(tids);
	return ret;
}

/*
 * With a thread stopped, the process can no longer execute another
 * program without killing that thread; but it may have done so since its
 * mappings were read, and then every address we hold is stale.
 */
static int same_program(struct muppy__target *t, struct muppy_error *err)
{
	const struct muppy__map *a, *b;
	struct muppy__maps now;
	bool same;
	int ret;

	ret = muppy__maps_read(t->pid, &now, err);
	if (ret)
		return ret == -ENOENT ? -ESRCH : ret;
	a = muppy__maps_by_kind(&t->maps, OBJ_LIBC);
	b = muppy__maps_by_kind(&now, OBJ_LIBC);
	same = now.n && t->maps.n && now.v[0].start == t->maps.v[0].start &&
	       now.v[0].inode == t->maps.v[0].inode && a && b &&
	       a->start == b->start && a->inode == b->inode;
	/* a program still starting: ld.so may not have made libc
	 * executable yet */
	a = muppy__maps_find(&now, t->stub);
	if (same && (!a || a->perms[2] != 'x')) {
		muppy__maps_free(&now);
		muppy_error_set(err, "process %d is starting up (its C library is not ready yet)",
				(int)t->pid);
		return -EAGAIN;
	}
	muppy__maps_free(&now);
	if (same)
		return 0;
	muppy_error_set(err, "process %d executed another program while muppy-snap attached",
			(int)t->pid);
	return -ESRCH;
}

int muppy__target_attach(struct muppy__target **out, pid_t pid,
			 int timeout_ms, struct muppy_error *err)
{
	return muppy__target_attach_other(out, pid, timeout_ms, NULL, 0, err);
}

void muppy__target_set_deadline(struct muppy__target *t, uint64_t us)
{
	t->deadline_us = us;
}

void muppy__target_set_call_timeout(struct muppy__target *t, int ms)
{
	t->call_timeout_ms = ms > 0 ? ms : MUPPY__CALL_TIMEOUT_MS;
}

int muppy__target_attach_other(struct muppy__target **out, pid_t pid,
			       int timeout_ms, const pid_t *skip, size_t nskip,
			       struct muppy_error *err)
{
	struct muppy__target *t;
	const struct muppy__map *m;
	struct muppy__arch_ctx *ctx;
	int ret;

	*out = NULL;
	muppy__inject_reap();
	ret = check_process(pid, err);
	if (ret)
		return ret;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->pid = pid;
	t->skip = skip;
	t->nskip = nskip;
	t->call_timeout_ms = MUPPY__CALL_TIMEOUT_MS;
	t->deadline_us = muppy__now_us() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000;
	/* pinned: whatever is found out from now on is of this process */
	t->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (t->pidfd < 0) {
		ret = -errno;
		if (ret == -ENOSYS)
			muppy_error_set(err, "this kernel has no pidfd_open (Linux 5.6 or later needed)");
		else if (ret == -ESRCH)
			muppy_error_set(err, "no process %d", (int)pid);
		else
			muppy__error_errno(err, -ret, "pidfd_open of process %d",
					   (int)pid);
		goto out_free;
	}
	ret = muppy__maps_read(pid, &t->maps, err);
	if (ret)
		goto out_free;
	m = muppy__maps_by_kind(&t->maps, OBJ_LIBC);
	if (!m && muppy__maps_by_kind(&t->maps, OBJ_LD)) {
		/* glibc's loader is there, not yet the C library */
		muppy_error_set(err, "process %d is starting (its C library is not loaded yet); try again in a moment",
				(int)pid);
		ret = -EBUSY;
		goto out_free;
	}
	if (!m) {
		muppy_error_set(err, "no glibc found in process %d (statically linked, or another C library)",
				(int)pid);
		ret = -ENOEXEC;
		goto out_free;
	}
	ret = muppy__elf_open(pid, &t->maps, m, &t->libc, err);
	if (ret)
		goto out_free;
	m = muppy__maps_by_kind(&t->maps, OBJ_LD);
	if (!m) {
		muppy_error_set(err, "no dynamic linker found in process %d", (int)pid);
		ret = -ENOEXEC;
		goto out_free;
	}
	ret = muppy__elf_open(pid, &t->maps, m, &t->ld, err);
	if (ret)
		goto out_free;
	ret = find_stub(t, err);
	if (ret)
		goto out_free;
	ret = muppy__safepoint_init(t, err);
	if (ret)
		goto out_free;
	muppy__safepoint_find_allocator(t);

	/* All preparation done: now stop a thread. */
	ret = choose_thread(t, timeout_ms, err);
	t->skip = NULL; /* the caller's, valid during the attach only */
	t->nskip = 0;
	if (ret)
		goto out_free;
	t->stop = STOP_INTERRUPT;
	/*
	 * Pinned before the check: what it proves holds for every access.
	 * Without CAP_DAC_OVERRIDE (CAP_SYS_PTRACE only, another user's
	 * process) /proc/PID/mem cannot be opened for writing: accesses then
	 * go by pid, as process_vm_writev does (see SECURITY in the manual).
	 */
	ret = muppy__mem_pin(pid);
	if (ret && ret != -EACCES && ret != -EPERM) {
		muppy__error_errno(err, -ret, "cannot open the memory of process %d",
				   (int)pid);
		goto out_detach;
	}
	t->mem_pinned = ret == 0;
	ret = same_program(t, err);
	if (ret)
		goto out_detach;
	/* the pid is still the process the pidfd was opened for */
	if (muppy__pidfd_exited(t->pidfd)) {
		muppy_error_set(err, "process %d exited while muppy-snap attached",
				(int)pid);
		ret = -ESRCH;
		goto out_detach;
	}
	t->st.tid = t->tid;
	t->st.in_syscall = muppy__arch_in_syscall(t->tid) > 0;
	if (ptrace(PTRACE_GETSIGMASK, t->tid, (void *)sizeof(t->sigmask), &t->sigmask) < 0) {
		ret = -errno;
		muppy__error_errno(err, errno, "cannot read the signal mask of thread %d",
				   (int)t->tid);
		goto out_detach;
	}
	ret = muppy__arch_ctx_get(t->tid, &ctx, err);
	if (ret)
		goto out_detach;
	find_errno(t, muppy__arch_ctx_tp(ctx));
	t->st.pc = muppy__arch_ctx_pc(ctx);
	t->orig = ctx;
	*out = t;
	return 0;

out_detach:
	muppy__target_detach(t);
	return ret;
out_free:
	muppy__target_detach(t);
	return ret;
}

/*
 * Detaching after remote calls from a thread that was stopped inside a
 * system call.  The thread is at the exit stop of our rt_sigreturn, with
 * its registers as the frame restored them: the restart already done
 * (rip back on the syscall instruction, orig_rax -1).  Detached like
 * that, a signal that arrived meanwhile runs its handler but the call is
 * restarted anyway: pause() never returns, Ctrl-C waits for time.sleep()
 * to end.  So the thread is put back into the state of its interrupt
 * stop instead, inside get_signal(), where the kernel itself then
 * chooses between EINTR and restarting, by SA_RESTART:
 *   1. PTRACE_INTERRUPT: a trap pending, and TIF_SIGPENDING set (it is
 *      never cleared before the thread passes through get_signal);
 *   2. the interrupt stop's registers (orig_rax = the call, rax =
 *      -ERESTART*, rip after the syscall instruction), xstate and mask;
 *   3. PTRACE_CONT: the thread leaves the syscall exit, takes the signal
 *      path because of 1 and stops for the trap (PTRACE_EVENT_STOP)
 *      before it dequeues any signal;
 *   4. PTRACE_DETACH: get_signal() goes on, as after the first stop.
 * If muppy-snap dies at any point, exit_ptrace() detaches the thread and
 * clears the trap: before 1 or between 1 and 2 the thread restarts its
 * call as the frame said (as before); from 2 on it is in exactly the
 * state of its first stop, with TIF_SIGPENDING set, so the kernel's
 * signal path decides.  A call interrupted with -ERESTART_RESTARTBLOCK
 * (relative sleeps, poll, futex waits) resumes through restart_syscall:
 * its restart_block is intact, for the calls skipped their rt_sigreturn.
 */
static void detach_in_signal_path(struct muppy__target *t)
{
	int status, sig;

	if (ptrace(PTRACE_INTERRUPT, t->tid, 0, 0) < 0 ||
	    muppy__arch_ctx_set(t->tid, t->orig) ||
	    ptrace(PTRACE_SETSIGMASK, t->tid, (void *)sizeof(t->sigmask), &t->sigmask) < 0 ||
	    ptrace(PTRACE_CONT, t->tid, 0, 0) < 0) {
		/* still stopped (safe either way, see above), or gone */
		muppy__detach(t->tid, 0);
		return;
	}
	switch (muppy__wait_stop(t->tid, &status, muppy__now_us() + 1000000)) {
	case 0:
		break;
	case -ETIMEDOUT:
		muppy__leave(t->tid); /* detached once it stops */
		return;
	default:
		return; /* gone */
	}
	if (!WIFSTOPPED(status))
		return;
	/* our trap, or a group stop (which detaching keeps); a signal
	 * stop (unexpected: the trap comes first) keeps its signal */
	sig = status >> 16 ? 0 : WSTOPSIG(status);
	if (sig == (SIGTRAP | 0x80))
		sig = 0;
	muppy__detach(t->tid, sig);
}

void muppy__target_detach(struct muppy__target *t)
{
	size_t i;

	if (!t)
		return;
	/* a claim no call wrote; it fails only if the process is gone */
	(void)muppy__claim_flush(t);
	if (t->stop == STOP_SIGRETURN && !t->broken && t->orig &&
	    muppy__arch_ctx_in_syscall(t->orig)) {
		detach_in_signal_path(t);
		t->st.away_us += muppy__now_us() - t->t_stopped;
		t->stop = STOP_NONE;
	} else if (t->stop != STOP_NONE) {
		muppy__detach(t->tid, 0);
		t->st.away_us += muppy__now_us() - t->t_stopped;
		t->stop = STOP_NONE;
	}
	muppy__arch_ctx_free(t->orig);
	muppy__safepoint_fini(t);
	for (i = 0; i < MUPPY__ELF_CACHE; i++)
		muppy__elf_close(t->cache[i]);
	muppy__elf_close(t->libc);
	muppy__elf_close(t->ld);
	muppy__maps_free(&t->maps);
	if (t->mem_pinned)
		muppy__mem_unpin(t->pid);
	if (t->pidfd > 0)
		close(t->pidfd);
	free(t);
}

void muppy__target_stats(const struct muppy__target *t, struct muppy__stats *st)
{
	*st = t->st;
	if (t->stop != STOP_NONE)
		st->away_us = muppy__now_us() - t->t_stopped;
}

pid_t muppy__target_pid(const struct muppy__target *t)
{
	return t->pid;
}

int muppy__target_libsym(struct muppy__target *t, const char *soname,
			 const char *name, uint64_t *addr,
			 struct muppy_error *err)
{
	const struct muppy__map *m;
	struct muppy__elf *e;
	int ret;

	if (!strcmp(soname, "libc.so.6"))
		e = t->libc;
	else if (!strcmp(soname, muppy__elf_map(t->ld)->path) ||
		 strstr(soname, "ld-linux"))
		e = t->ld;
	else
		e = NULL;
	if (e)
		ret = muppy__elf_sym(e, name, addr);
	else {
		m = muppy__maps_by_name(&t->maps, soname);
		if (!m) {
			muppy_error_set(err, "process %d has no %s loaded", (int)t->pid, soname);
			return -ENOENT;
		}
		ret = muppy__elf_open(t->pid, &t->maps, m, &e, err);
		if (ret)
			return ret;
		ret = muppy__elf_sym(e, name, addr);
		muppy__elf_close(e);
	}
	if (ret)
		muppy_error_set(err, "no symbol %s in %s of process %d", name, soname, (int)t->pid);
	return ret;
}
