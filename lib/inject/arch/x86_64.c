/* SPDX-License-Identifier: MIT */
/*
 * x86-64: registers, the kernel's rt_sigframe, the call convention and
 * syscall-restart fix-ups.
 *
 * A call runs the function with rsp pointing at a kernel rt_sigframe whose
 * first word (pretcode) is the return address: libc's __restore_rt stub
 * (mov $15,%rax; syscall).  When the function returns, rt_sigreturn
 * reloads everything from the frame: general registers, the XSAVE area
 * (fpstate, with the software-reserved bytes a signal frame has), the
 * signal mask and (if the frame says so) the alternate signal stack.
 *
 * Layout below the thread's stack pointer, from high to low addresses:
 *     red zone (128 bytes, untouched)
 *     fpstate: XSAVE area + magic2, 64-byte aligned
 *     scratch area (caller's in/out data), 16-byte aligned
 *     rt_sigframe { pretcode; struct ucontext uc; siginfo }  <- rsp at entry
 * so that rsp = &pretcode is 8 mod 16 as after a call instruction.
 */
#include <cpuid.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <elf.h>

#include "inject/arch.h"
#include "inject/inject.h"

#define RED_ZONE 128
#define NR_RT_SIGRETURN 15
#define NR_RESTART_SYSCALL 219
#define ERESTARTSYS 512
#define ERESTARTNOINTR 513
#define ERESTARTNOHAND 514
#define ERESTART_RESTARTBLOCK 516

#define UC_FP_XSTATE 0x1
#define UC_SIGCONTEXT_SS 0x2
#define UC_STRICT_RESTORE_SS 0x4

#define FP_XSTATE_MAGIC1 0x46505853U
#define FP_XSTATE_MAGIC2 0x46505845U
#define SW_RESERVED_OFF 464 /* fxsave's software-reserved bytes */
#define XSTATE_MAX (64 * 1024)
#define XFEATURE_XTILEDATA (UINT64_C(1) << 18) /* AMX tiles, on request */

/* The kernel's (not glibc's) structures, arch/x86/include/uapi/asm. */
struct k_sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2;
	uint64_t fpstate;
	uint64_t reserved1[8];
};

struct k_stack {
	uint64_t ss_sp;
	int32_t ss_flags;
	int32_t pad;
	uint64_t ss_size;
};

struct k_ucontext {
	uint64_t uc_flags;
	uint64_t uc_link;
	struct k_stack uc_stack;
	struct k_sigcontext uc_mcontext;
	uint64_t uc_sigmask;
};

struct k_rt_sigframe {
	uint64_t pretcode;
	struct k_ucontext uc;
	unsigned char info[128];
};

struct fpx_sw_bytes {
	uint32_t magic1;
	uint32_t extended_size;
	uint64_t xfeatures;
	uint32_t xstate_size;
	uint32_t padding[7];
};

_Static_assert(sizeof(struct k_sigcontext) == 256, "sigcontext");
_Static_assert(sizeof(struct k_ucontext) == 304, "ucontext");
_Static_assert(sizeof(struct k_rt_sigframe) == 440, "rt_sigframe");
_Static_assert(sizeof(struct fpx_sw_bytes) == 48, "fpx_sw_bytes");

struct muppy__arch_ctx {
	struct user_regs_struct regs;
	size_t xsize;
	unsigned char *xstate; /* as PTRACE_GETREGSET NT_X86_XSTATE gives it */
};

int muppy__arch_ctx_get(pid_t tid, struct muppy__arch_ctx **out,
			struct muppy_error *err)
{
	struct muppy__arch_ctx *c;
	struct iovec iov;
	int ret;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->xstate = malloc(XSTATE_MAX);
	if (!c->xstate) {
		ret = -ENOMEM;
		goto out_free;
	}
	if (ptrace(PTRACE_GETREGS, tid, 0, &c->regs) < 0) {
		ret = -errno;
		muppy__error_errno(err, errno, "cannot read the registers of thread %d",
				   tid);
		goto out_free;
	}
	iov.iov_base = c->xstate;
	iov.iov_len = XSTATE_MAX;
	if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_X86_XSTATE, &iov) < 0) {
		ret = -errno;
		muppy_error_set(err, "cannot read the XSAVE state of thread %d: %s (a CPU without XSAVE is not supported)",
				tid, strerror(errno));
		goto out_free;
	}
	if (iov.iov_len < 576) {
		ret = -ENOEXEC;
		muppy_error_set(err, "XSAVE area of thread %d too small (%zu bytes)",
				tid, iov.iov_len);
		goto out_free;
	}
	c->xsize = iov.iov_len;
	*out = c;
	return 0;

out_free:
	muppy__arch_ctx_free(c);
	return ret;
}

int muppy__arch_ctx_set(pid_t tid, const struct muppy__arch_ctx *c)
{
	struct iovec iov = { c->xstate, c->xsize };

	if (ptrace(PTRACE_SETREGS, tid, 0, &c->regs) < 0)
		return -errno;
	if (ptrace(PTRACE_SETREGSET, tid, (void *)NT_X86_XSTATE, &iov) < 0)
		return -errno;
	return 0;
}

void muppy__arch_ctx_free(struct muppy__arch_ctx *c)
{
	if (!c)
		return;
	free(c->xstate);
	free(c);
}

uint64_t muppy__arch_ctx_sp(const struct muppy__arch_ctx *c)
{
	return c->regs.rsp;
}

uint64_t muppy__arch_ctx_pc(const struct muppy__arch_ctx *c)
{
	return c->regs.rip;
}

bool muppy__arch_ctx_in_syscall(const struct muppy__arch_ctx *c)
{
	return (int64_t)c->regs.orig_rax >= 0;
}

uint64_t muppy__arch_ctx_tp(const struct muppy__arch_ctx *c)
{
	return c->regs.fs_base;
}

size_t muppy__arch_call_size(const struct muppy__arch_ctx *c,
			     size_t scratch_len)
{
	return RED_ZONE + c->xsize + 4 + 64 + scratch_len + 16 +
	       sizeof(struct k_rt_sigframe) + 16;
}

/*
 * Where the thread resumes after rt_sigreturn.  A thread interrupted in a
 * restartable system call shows rax = -ERESTART* and rip after the
 * syscall instruction; the kernel would restart it when resuming, but we
 * set orig_rax = -1 for the call, so the frame must do the restart (as the
 * kernel's own signal delivery does): back to the syscall instruction with
 * the call number in rax.
 */
static void restart_fixup(const struct user_regs_struct *r, uint64_t *rax,
			  uint64_t *rip)
{
	*rax = r->rax;
	*rip = r->rip;
	if ((int64_t)r->orig_rax < 0)
		return;
	switch ((int64_t)r->rax) {
	case -ERESTARTSYS:
	case -ERESTARTNOINTR:
	case -ERESTARTNOHAND:
		*rax = r->orig_rax;
		*rip -= 2;
		break;
	case -ERESTART_RESTARTBLOCK:
		*rax = NR_RESTART_SYSCALL;
		*rip -= 2;
		break;
	}
}

static void fill_sigcontext(struct k_sigcontext *sc,
			    const struct user_regs_struct *r, uint64_t fp)
{
	sc->r8 = r->r8;
	sc->r9 = r->r9;
	sc->r10 = r->r10;
	sc->r11 = r->r11;
	sc->r12 = r->r12;
	sc->r13 = r->r13;
	sc->r14 = r->r14;
	sc->r15 = r->r15;
	sc->rdi = r->rdi;
	sc->rsi = r->rsi;
	sc->rbp = r->rbp;
	sc->rbx = r->rbx;
	sc->rdx = r->rdx;
	sc->rcx = r->rcx;
	sc->rsp = r->rsp;
	sc->eflags = r->eflags;
	sc->cs = (uint16_t)r->cs;
	sc->ss = (uint16_t)r->ss;
	sc->fpstate = fp;
	restart_fixup(r, &sc->rax, &sc->rip);
}

/*
 * The signal frame's XSAVE size for the thread.  ptrace gives the area
 * for every feature the CPU has, but rt_sigreturn takes only up to the
 * thread's own size (AMX tile data counts only for a process that asked
 * for it) and otherwise restores the legacy part alone, zeroing AVX.  So
 * the frame holds the features the thread may use: all of XCR0 but the
 * tile data unless its state is in use, sized from CPUID leaf 0xD (the
 * standard format ptrace uses).
 */
static void frame_xstate(const struct muppy__arch_ctx *c, uint64_t *features,
			 size_t *size)
{
	unsigned eax, ebx, ecx, edx, i;
	uint64_t xcr0, bv;
	size_t end = 576; /* legacy area and XSAVE header */

	memcpy(&xcr0, c->xstate + SW_RESERVED_OFF, sizeof(xcr0));
	memcpy(&bv, c->xstate + 512, sizeof(bv));
	if (!(bv & XFEATURE_XTILEDATA))
		xcr0 &= ~XFEATURE_XTILEDATA;
	for (i = 2; i < 64; i++)
		if ((xcr0 >> i & 1) && __get_cpuid_count(0xd, i, &eax, &ebx, &ecx, &edx) &&
		    ebx + eax > end)
			end = ebx + eax; /* size, offset */
	*features = xcr0;
	*size = end < c->xsize ? end : c->xsize;
}

int muppy__arch_call_prepare(struct muppy__arch_ctx *c, uint64_t stub,
			     uint64_t sigmask, uint64_t func,
			     const uint64_t *args, size_t nargs,
			     size_t scratch_len, struct muppy__arch_call *call,
			     struct muppy_error *err)
{
	struct k_rt_sigframe f;
	struct fpx_sw_bytes sw;
	uint64_t top, fp, scratch, frame, features, a;
	size_t xsize;
	uint32_t magic2 = FP_XSTATE_MAGIC2;
	struct user_regs_struct *r;
	size_t i;

	memset(call, 0, sizeof(*call));
	if (nargs > 6) {
		muppy_error_set(err, "remote call: at most 6 arguments");
		return -EINVAL;
	}
	top = c->regs.rsp - RED_ZONE;
	fp = (top - (c->xsize + 4)) & ~UINT64_C(63);
	scratch = (fp - scratch_len) & ~UINT64_C(15);
	frame = ((scratch - sizeof(f)) & ~UINT64_C(15)) - 8;

	call->mem_addr = frame;
	call->mem_len = top - frame;
	call->mem = calloc(1, call->mem_len);
	if (!call->mem)
		return -ENOMEM;
	call->scratch = scratch;
	call->scratch_off = scratch - frame;
	call->entry_sp = frame;
	call->ctx = c;

	/* fpstate: the ptrace XSAVE image, with a signal frame's software
	 * bytes where ptrace keeps XCR0, and magic2 after the area. */
	frame_xstate(c, &features, &xsize);
	memcpy(call->mem + (fp - frame), c->xstate, xsize);
	memset(&sw, 0, sizeof(sw));
	sw.magic1 = FP_XSTATE_MAGIC1;
	sw.extended_size = (uint32_t)xsize + 4;
	sw.xfeatures = features;
	sw.xstate_size = (uint32_t)xsize;
	memcpy(call->mem + (fp - frame) + SW_RESERVED_OFF, &sw, sizeof(sw));
	memcpy(call->mem + (fp - frame) + xsize, &magic2, sizeof(magic2));

	memset(&f, 0, sizeof(f));
	f.pretcode = stub;
	f.uc.uc_flags = UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
	/*
	 * rt_sigreturn also sets the alternate signal stack from uc_stack,
	 * ignoring errors.  An invalid ss_flags value (3: both SS_ONSTACK and
	 * SS_DISABLE) makes do_sigaltstack() fail with EINVAL before it
	 * changes anything, so the thread keeps whatever alternate stack it
	 * has, without our having to find out what that is.
	 */
	f.uc.uc_stack.ss_flags = 3;
	f.uc.uc_sigmask = sigmask;
	fill_sigcontext(&f.uc.uc_mcontext, &c->regs, fp);
	memcpy(call->mem, &f, sizeof(f));

	/* The registers of the call. */
	r = &call->regs.r;
	*r = c->regs;
	r->rip = func;
	r->rsp = frame;
	r->rax = 0; /* no vector registers used by varargs */
	r->orig_rax = (uint64_t)-1;
	r->eflags &= ~(UINT64_C(0x400) | UINT64_C(0x100)); /* DF, TF */
	for (i = 0; i < nargs; i++) {
		a = args[i];
		if (a >= MUPPY__SCRATCH &&
		    a < MUPPY__SCRATCH + MUPPY__SCRATCH_SPAN)
			a = scratch + (a - MUPPY__SCRATCH);
		switch (i) {
		case 0: r->rdi = a; break;
		case 1: r->rsi = a; break;
		case 2: r->rdx = a; break;
		case 3: r->rcx = a; break;
		case 4: r->r8 = a; break;
		case 5: r->r9 = a; break;
		}
	}
	return 0;
}

void muppy__arch_call_free(struct muppy__arch_call *call)
{
	free(call->mem);
	call->mem = NULL;
}

int muppy__arch_call_start(pid_t tid, const struct muppy__arch_call *call)
{
	const struct muppy__arch_ctx *c = call->ctx;
	unsigned char *x;
	struct iovec iov;
	uint64_t bv;
	uint32_t mxcsr = 0x1f80;
	uint16_t fcw = 0x37f, zero16 = 0;
	int ret = 0;

	/*
	 * Registers first: from here on the frame restores everything, so
	 * even if we die before the next step the thread comes back whole.
	 */
	if (ptrace(PTRACE_SETREGS, tid, 0, &call->regs.r) < 0)
		return -errno;

	/* A clean x87/SSE control state for the callee (the ABI's): empty
	 * x87 stack, default control words.  The frame has the original. */
	x = malloc(c->xsize);
	if (!x)
		return 0; /* the callee runs with the thread's own state */
	memcpy(x, c->xstate, c->xsize);
	memcpy(x + 0, &fcw, 2);
	memcpy(x + 2, &zero16, 2);
	x[4] = 0; /* abridged tag word: all empty */
	memcpy(x + 24, &mxcsr, 4);
	memcpy(&bv, x + 512, 8);
	bv |= 3; /* x87 and SSE state present, as just written */
	memcpy(x + 512, &bv, 8);
	iov.iov_base = x;
	iov.iov_len = c->xsize;
	if (ptrace(PTRACE_SETREGSET, tid, (void *)NT_X86_XSTATE, &iov) < 0)
		ret = -errno;
	free(x);
	return ret;
}

int muppy__arch_call_returned(pid_t tid, const struct muppy__arch_call *call,
			      uint64_t stub)
{
	struct user_regs_struct r;

	if (ptrace(PTRACE_GETREGS, tid, 0, &r) < 0)
		return -errno;
	return r.orig_rax == NR_RT_SIGRETURN && r.rip == stub + 9 &&
	       r.rsp == call->entry_sp + 8 && (int64_t)r.rax == -ENOSYS;
}

int muppy__arch_call_finish(pid_t tid, const struct muppy__arch_call *call)
{
	const struct muppy__arch_ctx *c = call->ctx;
	struct iovec iov = { c->xstate, c->xsize };
	struct user_regs_struct r = c->regs;
	uint64_t rax, rip;

	if (ptrace(PTRACE_SETREGSET, tid, (void *)NT_X86_XSTATE, &iov) < 0)
		return -errno;
	/* what rt_sigreturn would load from the frame; orig_rax -1 skips
	 * the rt_sigreturn itself */
	restart_fixup(&c->regs, &rax, &rip);
	r.rax = rax;
	r.rip = rip;
	r.orig_rax = (unsigned long long)-1;
	if (ptrace(PTRACE_SETREGS, tid, 0, &r) < 0)
		return -errno;
	return 0;
}

int muppy__arch_in_syscall(pid_t tid)
{
	struct user_regs_struct r;

	if (ptrace(PTRACE_GETREGS, tid, 0, &r) < 0)
		return -errno;
	return (int64_t)r.orig_rax >= 0;
}

long muppy__arch_find_stub(const unsigned char *code, size_t len)
{
	static const unsigned char pat[] = {
		0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, /* mov $15,%rax */
		0x0f, 0x05,                               /* syscall */
	};
	const unsigned char *p = memmem(code, len, pat, sizeof(pat));

	return p ? p - code : -1;
}
