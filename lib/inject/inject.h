/* SPDX-License-Identifier: MIT */
/*
 * The injector: runs functions of a shared object inside a live process
 * and leaves the process as it was.  It knows nothing about Python.
 *
 * Model.  muppy__target_attach() seizes ONE thread of the process (the
 * others keep running) at a safe point: a moment when that thread holds no
 * libc or ld.so lock (see safepoint.c).  Every remote call then makes that
 * thread run a function with a kernel signal frame below its stack's red
 * zone; the function returns into glibc's rt_sigreturn stub, so the kernel
 * itself puts back the thread's registers, extended FPU state, signal mask
 * and restartable system call, whether or not the caller is still alive
 * (muppy-snap may be SIGKILLed at any moment).
 *
 * Results.  The function's return value is lost (the stub overwrites rax).
 * A called function returns its results through memory: `in` is copied
 * into a scratch area on the thread's stack before the call and `outlen`
 * bytes of that same area are copied back into `out` after the function
 * returned and before the thread resumes its own code.  Pass the scratch
 * address as an argument with MUPPY__SCRATCH (or MUPPY__SCRATCH + n for a
 * pointer n bytes into the area).  Functions of an injected library should
 * therefore look like  void f(struct request_and_result *r).
 *
 * Between muppy__target_load() and muppy__target_unload() the caller may
 * detach and attach again later: struct muppy__lib holds all it needs.
 *
 * Leftovers.  An injector SIGKILLed at the wrong moment leaves the
 * library's memfd open, or the library loaded.  The memfd is named after
 * its owner ("muppy-snap:<pid namespace>.<pid>.<start time>.<random>"),
 * and muppy__target_load() first removes what owners that are gone left:
 * such memfds, and such libraries that no thread can have entered.  For
 * that a library exports `int muppy_inject_entered`, and the caller runs
 * muppy__target_claim() before its first call into the library (the
 * call, or the detach, sets it); a library without it is never removed.
 *
 * Errors: 0 or -errno, with a one-line message in err:
 *   -ESRCH     no such process, or it exited
 *   -EPERM     not permitted (traced by another, other uid, yama)
 *   -EBUSY     already traced by another process; library still in use
 *   -EAGAIN    process stopped by job control (SIGSTOP, Ctrl-Z)
 *   -ETIMEDOUT no thread reached a safe point, or a call did not return
 *   -ENOEXEC   unsupported target (kernel thread, not x86-64, no glibc)
 *   -EINVAL    our own pid, bad arguments, untrusted library file
 *   -EFAULT    the called function crashed (the thread was restored)
 *   -EIO       a remote operation failed (e.g. dlopen refused the image)
 *   -ENOSYS    the kernel lacks pidfd_open or pidfd_getfd (Linux 5.6)
 *   -EBADF     the target swapped the memfd for another file
 *
 * Hostile targets.  The target's memory, link maps, mappings and the
 * files it maps are untrusted: every walk of them is bounded by the
 * object's real mapping or file size and a cap (MUPPY__LINK_MAPS_MAX,
 * MUPPY__SYM_CHAIN_MAX, MUPPY__ELF_*), and by the deadline; its files are
 * opened by one rule (proc/elf.c); its memfd is taken by pidfd only; the
 * process is pinned by a pidfd from the attach on; text of it in a
 * message is escaped (muppy__shown()).
 */
#ifndef MUPPY_INJECT_H
#define MUPPY_INJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proc/proc.h"

/* Argument value replaced by the address of the call's scratch area. */
#define MUPPY__SCRATCH UINT64_C(0x4d55505059000000)
#define MUPPY__SCRATCH_SPAN UINT64_C(0x1000000)
/* Largest scratch area (it lives on the thread's own stack). */
#define MUPPY__SCRATCH_MAX (64 * 1024)
/* Default limit on one remote call. */
#define MUPPY__CALL_TIMEOUT_MS 5000

/* For tests: every call returns through the frame's own rt_sigreturn, as
 * it does when the injector dies during the call (default false). */
extern bool muppy__sigreturn_by_frame;

struct muppy__target; /* one seized thread of one process */

/* A library loaded into the target. */
struct muppy__lib {
	uint64_t handle;  /* dlopen handle == glibc struct link_map * */
	uint64_t base;    /* load bias (l_addr) */
	char path[64];    /* l_name: "/proc/self/fd/N" */
	char name[96];    /* memfd name: "muppy-snap:<owner>.<random>" */
	int memfd;        /* N, the target's fd while loading (now closed) */
};

/* Timing of one attachment, for the curious and for tests. */
struct muppy__stats {
	uint64_t away_us;   /* thread away from its own code (stop + calls) */
	uint64_t calls;     /* remote calls run */
	uint64_t call_us;   /* of which inside remote calls */
	uint64_t sigreturns_skipped; /* calls that ended without the real
					rt_sigreturn (its work done by us) */
	uint64_t swept;     /* leftovers of dead injectors removed */
	uint64_t tries;     /* interrupts until a safe point was found */
	pid_t tid;          /* the seized thread */
	bool in_syscall;    /* it was stopped inside a system call */
	uint64_t pc;        /* where it was stopped */
};

int muppy__target_attach(struct muppy__target **out, pid_t pid,
			 int timeout_ms, struct muppy_error *err)
	MUPPY_MUST_CHECK;
/* The same, seizing none of the threads in skip[]: -ECHILD when no other
 * thread is left. */
int muppy__target_attach_other(struct muppy__target **out, pid_t pid,
			       int timeout_ms, const pid_t *skip, size_t nskip,
			       struct muppy_error *err) MUPPY_MUST_CHECK;
/* When walks of the target's own data (its link maps, a leftover's
 * symbols) give up: CLOCK_MONOTONIC microseconds (muppy__now_us());
 * attaching sets it to the attach's own timeout. */
void muppy__target_set_deadline(struct muppy__target *t, uint64_t us);
/* The limit on each later remote call (default MUPPY__CALL_TIMEOUT_MS). */
void muppy__target_set_call_timeout(struct muppy__target *t, int ms);
/*
 * Detaches the threads an earlier attach or call had to leave traced
 * because they did not stop in time (uninterruptible sleep) and have
 * stopped since.  Attaching does it too; a caller that stays alive
 * between attachments (watch mode) calls it now and then.  When the
 * caller exits the kernel detaches them and clears our pending interrupt.
 */
void muppy__inject_reap(void);
/* Always safe (NULL too); the thread resumes its own code. */
void muppy__target_detach(struct muppy__target *t);
void muppy__target_stats(const struct muppy__target *t,
			 struct muppy__stats *st);
pid_t muppy__target_pid(const struct muppy__target *t);

/* Address of a symbol exported by a library the process has loaded
 * (by file name, e.g. "libc.so.6"); default symbol version preferred. */
int muppy__target_libsym(struct muppy__target *t, const char *soname,
			 const char *name, uint64_t *addr,
			 struct muppy_error *err) MUPPY_MUST_CHECK;

int muppy__target_call(struct muppy__target *t, uint64_t func,
		       const uint64_t *args, size_t nargs, const void *in,
		       size_t inlen, void *out, size_t outlen,
		       struct muppy_error *err) MUPPY_MUST_CHECK;

/* Loads an ELF shared object image (bytes) through a sealed memfd. */
int muppy__target_load(struct muppy__target *t, const void *image,
		       size_t len, struct muppy__lib *lib,
		       struct muppy_error *err) MUPPY_MUST_CHECK;
/* Address of a dynamic symbol of a loaded library (read from the target). */
int muppy__target_sym(struct muppy__target *t, const struct muppy__lib *lib,
		      const char *name, uint64_t *addr,
		      struct muppy_error *err) MUPPY_MUST_CHECK;
/* Marks the library as entered (see Leftovers): the next remote call
 * sets muppy_inject_entered right before it starts, so call this before
 * the first call into the library.  A library without it needs none. */
int muppy__target_claim(struct muppy__target *t, const struct muppy__lib *lib,
			struct muppy_error *err) MUPPY_MUST_CHECK;
/* Marks the library as not entered again, after calls that all returned
 * (no thread is in it): a muppy-snap killed from now on leaves it to the
 * next one to remove, until the next claim. */
int muppy__target_unclaim(struct muppy__target *t,
			  const struct muppy__lib *lib,
			  struct muppy_error *err) MUPPY_MUST_CHECK;
/* dlclose (claiming first); checks that no mapping of the memfd remains
 * (-EBUSY if so). */
int muppy__target_unload(struct muppy__target *t, struct muppy__lib *lib,
			 struct muppy_error *err) MUPPY_MUST_CHECK;

/* Reads a library file, refusing one that users other than root or the
 * caller could have written.  *image is malloc'ed. */
int muppy__read_image(const char *path, void **image, size_t *len,
		      struct muppy_error *err) MUPPY_MUST_CHECK;

/* mem.c: the target's memory, by process_vm_* or /proc/PID/mem. */
int muppy__mem_read(pid_t pid, uint64_t addr, void *buf, size_t len)
	MUPPY_MUST_CHECK;
int muppy__mem_write(pid_t pid, uint64_t addr, const void *buf, size_t len)
	MUPPY_MUST_CHECK;
int muppy__mem_read_str(pid_t pid, uint64_t addr, char *buf, size_t size)
	MUPPY_MUST_CHECK;

#endif
