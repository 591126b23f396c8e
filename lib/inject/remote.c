/* SPDX-License-Identifier: MIT */
/*
 * The remote call engine.  See arch.h and inject.h for the design: the
 * call returns into libc's rt_sigreturn stub through a kernel signal
 * frame, so the thread restores itself even if we are killed.  We run it
 * under PTRACE_SYSCALL and stop at the entry of that rt_sigreturn (the
 * frame is still there, the function's writes are done) to copy results
 * back, then do the sigreturn's work in its place and skip it (which
 * keeps the thread's restart_block), and keep the thread at its exit
 * stop, where it has its own registers again, ready for the next call or
 * for detaching.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include "inject/inject_int.h"

#define CALLEE_STACK (48 * 1024) /* what the function itself may use */

bool muppy__sigreturn_by_frame;

static const char *signame(int sig)
{
	const char *s = sigabbrev_np(sig);

	return s ? s : "?";
}

/* Room for the frame (and the callee) below the stack pointer. */
static int check_stack(struct muppy__target *t, uint64_t sp, size_t need,
		       struct muppy_error *err)
{
	const struct muppy__map *m = muppy__maps_find(&t->maps, sp);
	struct muppy__maps fresh;

	if (!m && !muppy__maps_read(t->pid, &fresh, NULL)) {
		muppy__maps_free(&t->maps);
		t->maps = fresh;
		m = muppy__maps_find(&t->maps, sp);
	}
	if (!m) {
		muppy_error_set(err, "thread %d: stack pointer %#llx outside any mapping",
				(int)t->tid, (unsigned long long)sp);
		return -EFAULT;
	}
	/* the main stack grows on demand, but not through ptrace writes */
	if (!strcmp(m->path, "[stack]") && sp - m->start >= need - CALLEE_STACK)
		return 0;
	if (sp - m->start < need) {
		muppy_error_set(err, "thread %d: only %llu bytes of stack left, %zu needed",
				(int)t->tid, (unsigned long long)(sp - m->start), need);
		return -ENOSPC;
	}
	return 0;
}

/* Gives up on a call that does not return: the thread will still
 * restore itself whenever the function returns. */
static void abandon(struct muppy__target *t)
{
	int status;

	t->broken = true;
	if (ptrace(PTRACE_INTERRUPT, t->tid, 0, 0) < 0) {
		if (errno != ESRCH)
			muppy__leave(t->tid);
	} else if (muppy__wait_stop(t->tid, &status, muppy__now_us() + 1000000) == 0) {
		if (WIFSTOPPED(status)) {
			int sig = WSTOPSIG(status);

			if (status >> 16 || sig == (SIGTRAP | 0x80))
				sig = 0;
			muppy__detach(t->tid, sig);
		}
	} else {
		/* not stopped (uninterruptible?): detached once it stops */
		muppy__leave(t->tid);
	}
	t->st.away_us += muppy__now_us() - t->t_stopped;
	t->stop = STOP_NONE;
}

/* The function crashed: put the thread back as it was, drop the signal. */
static int crashed(struct muppy__target *t, struct muppy__arch_ctx *ctx,
		   uint64_t func, int sig, struct muppy_error *err)
{
	siginfo_t si;
	int ret;

	memset(&si, 0, sizeof(si));
	ptrace(PTRACE_GETSIGINFO, t->tid, 0, &si);
	t->broken = true;
	ret = muppy__arch_ctx_set(t->tid, ctx);
	if (!ret && ptrace(PTRACE_SETSIGMASK, t->tid, (void *)sizeof(t->sigmask),
			   &t->sigmask) < 0)
		ret = -errno;
	if (!ret && t->errno_addr)
		ret = muppy__mem_write(t->pid, t->errno_addr, &t->saved_errno,
				       sizeof(t->saved_errno));
	muppy_error_set(err, "the function at %#llx crashed in thread %d of process %d with SIG%s (address %p)%s",
			(unsigned long long)func, (int)t->tid, (int)t->pid,
			signame(sig), si.si_addr,
			ret ? "; the thread could not be restored" : "; the thread was restored");
	/* stays in this stop; detach drops the signal */
	return -EFAULT;
}

int muppy__target_call(struct muppy__target *t, uint64_t func,
		       const uint64_t *args, size_t nargs, const void *in,
		       size_t inlen, void *out, size_t outlen,
		       struct muppy_error *err)
{
	struct muppy__arch_ctx *ctx = NULL;
	struct muppy__arch_call call;
	uint64_t all = ~UINT64_C(0), t0, deadline;
	size_t slen = inlen > outlen ? inlen : outlen;
	bool returned = false;
	int ret, status, sig;

	memset(&call, 0, sizeof(call));
	if (!t || t->stop == STOP_NONE || t->broken) {
		muppy_error_set(err, "remote call: not attached");
		return -EINVAL;
	}
	if (slen > MUPPY__SCRATCH_MAX) {
		muppy_error_set(err, "remote call: %zu bytes of scratch, at most %d",
				slen, MUPPY__SCRATCH_MAX);
		return -EINVAL;
	}
	ret = muppy__arch_ctx_get(t->tid, &ctx, err);
	if (ret)
		return ret;
	ret = check_stack(t, muppy__arch_ctx_sp(ctx),
			  muppy__arch_call_size(ctx, slen) + CALLEE_STACK, err);
	if (ret)
		goto out_free;
	ret = muppy__arch_call_prepare(ctx, t->stub, t->sigmask, func, args,
				       nargs, slen, &call, err);
	if (ret)
		goto out_free;
	if (inlen)
		memcpy(call.mem + call.scratch_off, in, inlen);
	/* Order matters for surviving our own death: memory first, then
	 * the registers (from then on the frame restores everything), and
	 * only then the call's own FPU state and signal mask. */
	ret = muppy__mem_write(t->pid, call.mem_addr, call.mem, call.mem_len);
	if (ret) {
		muppy__error_errno(err, -ret, "cannot write the call frame on the stack of thread %d",
				   (int)t->tid);
		goto out_free;
	}
	/* as late as it can be: killed before the call starts, we leave
	 * the library marked but never entered (inject.h, "Leftovers") */
	ret = muppy__claim_flush(t);
	if (ret) {
		muppy__error_errno(err, -ret, "cannot mark the library as entered in process %d",
				   (int)t->pid);
		goto out_free;
	}
	ret = muppy__arch_call_start(t->tid, &call);
	if (ret)
		goto out_restore;
	if (ptrace(PTRACE_SETSIGMASK, t->tid, (void *)sizeof(all), &all) < 0) {
		ret = -errno;
		goto out_restore;
	}
	t0 = muppy__now_us();
	deadline = t0 + (uint64_t)t->call_timeout_ms * 1000;
	sig = 0;
	for (;;) {
		if (ptrace(PTRACE_SYSCALL, t->tid, 0, (void *)(long)sig) < 0) {
			ret = -errno;
			break;
		}
		sig = 0;
		ret = muppy__wait_stop(t->tid, &status, deadline);
		if (ret == -ETIMEDOUT) {
			abandon(t);
			muppy_error_set(err, "the function at %#llx did not return within %d ms in thread %d of process %d; left it running (the thread resumes its own code when it returns)",
					(unsigned long long)func, t->call_timeout_ms,
					(int)t->tid, (int)t->pid);
			goto out_free;
		}
		if (ret)
			break;
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			ret = -ESRCH;
			break;
		}
		sig = WSTOPSIG(status);
		if (sig == (SIGTRAP | 0x80)) {
			sig = 0;
			if (returned) {
				t->stop = STOP_SIGRETURN; /* exit of rt_sigreturn */
				ret = 0;
				break;
			}
			ret = muppy__arch_call_returned(t->tid, &call, t->stub);
			if (ret < 0)
				break;
			if (ret == 0)
				continue;
			returned = true;
			if (outlen) {
				ret = muppy__mem_read(t->pid, call.scratch, out, outlen);
				if (ret)
					muppy__error_errno(err, -ret, "cannot read the call's results");
			}
			if (t->errno_addr &&
			    muppy__mem_write(t->pid, t->errno_addr, &t->saved_errno,
					     sizeof(t->saved_errno)))
				t->errno_addr = 0;
			/* on failure the real rt_sigreturn restores it all */
			if (!muppy__sigreturn_by_frame &&
			    ptrace(PTRACE_SETSIGMASK, t->tid, (void *)sizeof(t->sigmask),
				   &t->sigmask) == 0 &&
			    muppy__arch_call_finish(t->tid, &call) == 0)
				t->st.sigreturns_skipped++;
			continue;
		}
		if (status >> 16) {
			sig = 0; /* group-stop or event: run on; detaching
				    re-enters a group stop still in force */
			continue;
		}
		if (!returned && (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL ||
				  sig == SIGFPE || sig == SIGTRAP || sig == SIGSYS)) {
			ret = crashed(t, ctx, func, sig, err);
			goto out_free;
		}
		/* any other signal: deliver it as it would have been */
	}
	t->st.calls++;
	t->st.call_us += muppy__now_us() - t0;
	if (ret == -ESRCH) {
		muppy_error_set(err, "process %d exited during a remote call", (int)t->pid);
		t->stop = STOP_NONE;
		t->broken = true;
	} else if (ret < 0) {
		muppy__error_errno(err, -ret, "remote call in thread %d", (int)t->tid);
		t->broken = true;
	}
	goto out_free;

out_restore:
	/* registers half set: put everything back as it was */
	if (muppy__arch_ctx_set(t->tid, ctx))
		t->broken = true;
	muppy__error_errno(err, -ret, "cannot set up the call in thread %d",
			   (int)t->tid);
out_free:
	muppy__arch_call_free(&call);
	muppy__arch_ctx_free(ctx);
	return ret;
}
