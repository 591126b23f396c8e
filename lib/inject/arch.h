/* SPDX-License-Identifier: MIT */
/*
 * Everything register- and ABI-specific behind one interface: saving a
 * thread's context, building the self-restoring call (a kernel signal
 * frame that rt_sigreturn consumes when the called function returns into
 * libc's signal-return stub), recognising that return, and finding the
 * stub.  One file per architecture implements it (arch/x86_64.c).
 */
#ifndef MUPPY_INJECT_ARCH_H
#define MUPPY_INJECT_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "muppy.h"

#if defined(__x86_64__)
#include "inject/arch/x86_64.h"
#else
#error "muppy-snap's injector supports x86-64 only so far"
#endif

/* A thread's full user context (general registers + FPU/vector state). */
struct muppy__arch_ctx;
/* One prepared remote call. */
struct muppy__arch_call {
	uint64_t mem_addr;    /* lowest byte of the region written */
	size_t mem_len;
	unsigned char *mem;   /* the bytes: frame, scratch, fpstate */
	uint64_t scratch;     /* target address of the scratch area */
	size_t scratch_off;   /* its offset in mem */
	uint64_t entry_sp;    /* stack pointer at function entry */
	struct muppy__arch_regs regs; /* registers to run the call with */
	struct muppy__arch_ctx *ctx;  /* the context the frame restores */
};

int muppy__arch_ctx_get(pid_t tid, struct muppy__arch_ctx **out,
			struct muppy_error *err) MUPPY_MUST_CHECK;
/* Puts a saved context back (used only when a call went wrong). */
int muppy__arch_ctx_set(pid_t tid, const struct muppy__arch_ctx *c)
	MUPPY_MUST_CHECK;
void muppy__arch_ctx_free(struct muppy__arch_ctx *c);
uint64_t muppy__arch_ctx_sp(const struct muppy__arch_ctx *c);
uint64_t muppy__arch_ctx_pc(const struct muppy__arch_ctx *c);
uint64_t muppy__arch_ctx_tp(const struct muppy__arch_ctx *c);
/* Bytes below the stack pointer the call needs, besides the callee's. */
size_t muppy__arch_call_size(const struct muppy__arch_ctx *c,
			     size_t scratch_len);

/* Builds call (takes ownership of nothing; free with _call_free). */
int muppy__arch_call_prepare(struct muppy__arch_ctx *c, uint64_t stub,
			     uint64_t sigmask, uint64_t func,
			     const uint64_t *args, size_t nargs,
			     size_t scratch_len, struct muppy__arch_call *call,
			     struct muppy_error *err) MUPPY_MUST_CHECK;
void muppy__arch_call_free(struct muppy__arch_call *call);
/* Sets the call's registers; the caller has written call->mem. */
int muppy__arch_call_start(pid_t tid, const struct muppy__arch_call *call)
	MUPPY_MUST_CHECK;
/* At a syscall stop: 1 if it is the entry of our rt_sigreturn. */
int muppy__arch_call_returned(pid_t tid, const struct muppy__arch_call *call,
			      uint64_t stub) MUPPY_MUST_CHECK;

/*
 * At the entry of our rt_sigreturn: does its work in its place (the
 * context's FPU/vector state, then the registers the frame holds, with
 * the rt_sigreturn skipped), for rt_sigreturn would also discard the
 * thread's restart_block: a relative sleep, poll or futex wait that was
 * interrupted would return EINTR instead of resuming.  Until the
 * registers are set the frame is untouched, so if we die the real
 * rt_sigreturn still restores the thread.  The caller sets the signal
 * mask first.
 */
int muppy__arch_call_finish(pid_t tid, const struct muppy__arch_call *call);

/* Whether a saved context was taken inside a system call. */
bool muppy__arch_ctx_in_syscall(const struct muppy__arch_ctx *c);
/* 1 if the thread (in an interrupt stop) is inside a system call. */
int muppy__arch_in_syscall(pid_t tid) MUPPY_MUST_CHECK;

/* Offset of the signal-return stub in code, or -1. */
long muppy__arch_find_stub(const unsigned char *code, size_t len);

#endif
