/* SPDX-License-Identifier: MIT */
/* Internals shared by the files of lib/inject/; its interface to the
 * layer above is inject.h. */
#ifndef MUPPY_INJECT_INT_H
#define MUPPY_INJECT_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "inject/arch.h"
#include "inject/inject.h"
#include "proc/proc.h"

/* --- mem.c: pinning (the reads and writes are in inject.h) ------------ */
/* From pin to unpin, every read and write of pid's memory goes to the
 * address space it has now (its /proc/PID/mem), never to a program it
 * executes later.  Counted; -errno. */
int muppy__mem_pin(pid_t pid) MUPPY_MUST_CHECK;
void muppy__mem_unpin(pid_t pid);

/* --- the target ------------------------------------------------------ */
enum muppy__stop {
	STOP_NONE,      /* not attached */
	STOP_INTERRUPT, /* PTRACE_INTERRUPT stop, registers untouched */
	STOP_SIGRETURN, /* exit of our rt_sigreturn: registers are the
			   thread's own again */
};

#define MUPPY__ELF_CACHE 8

struct muppy__target {
	pid_t pid, tid;
	enum muppy__stop stop;
	bool broken;            /* a call went wrong; only detach is left */
	uint64_t sigmask;       /* the thread's own blocked mask */
	struct muppy__arch_ctx *orig; /* its context at the interrupt stop */
	uint64_t stub;          /* address of __restore_rt */
	uint64_t errno_addr;    /* the thread's errno, 0 if unknown */
	uint64_t claim_addr;    /* a library's muppy_inject_entered, set to 1
				   right before the next call starts */
	int saved_errno;
	struct muppy__maps maps;
	struct muppy__elf *libc, *ld;
	struct muppy__elf *cache[MUPPY__ELF_CACHE]; /* libc-kind objects */
	void *unw_as;           /* libunwind address space */
	/* a malloc other than libc's (jemalloc, tcmalloc, a preload): the
	 * object [start, end) that defines it; when that is the executable,
	 * only its malloc-family functions count (exe_alloc: its symbols) */
	uint64_t alloc_start, alloc_end;
	struct muppy__elf *exe_alloc;
	char alloc_name[64];
	uint64_t t_stopped;     /* when the safe stop began (us) */
	const pid_t *skip;      /* threads not to seize (attach_other) */
	size_t nskip;
	int call_timeout_ms;    /* limit on one remote call */
	struct muppy__stats st;
	char why[160];          /* what the last unsafe thread was doing */
	uint64_t eperm_us;      /* first unexplained EPERM (exec, exit) */
	int pidfd;              /* the process, pinned from the attach on */
	bool mem_pinned;        /* muppy__mem_pin() holds its address space */
	uint64_t deadline_us;   /* end of the caller's --timeout */
	bool late;              /* a walk of the target's data hit it */
};

/* Caps on walks of the target's own data (load.c): link map entries, and
 * steps along one symbol hash chain. */
#define MUPPY__LINK_MAPS_MAX 65536
#define MUPPY__SYM_CHAIN_MAX 4096u

/* attach.c */
/* PTRACE_DETACH; a tracee that is being killed is reaped instead. */
void muppy__detach(pid_t tid, int sig);
/* Remembers a thread seized but not stopped, for muppy__inject_reap(). */
void muppy__leave(pid_t tid);
int muppy__wait_stop(pid_t tid, int *status, uint64_t deadline_us)
	MUPPY_MUST_CHECK;
/* safepoint.c */
int muppy__safepoint_init(struct muppy__target *t, struct muppy_error *err)
	MUPPY_MUST_CHECK;
void muppy__safepoint_fini(struct muppy__target *t);
/* Finds the object that provides the process's malloc (the first in
 * link-map order that defines it), when it is not libc. */
void muppy__safepoint_find_allocator(struct muppy__target *t);
/* 1 if the seized thread t->tid may run libc's dlopen now, 0 if not
 * (reason in t->why), -errno on error. */
int muppy__safepoint_check(struct muppy__target *t);
/* load.c */
int muppy__link_map_find(struct muppy__target *t, const char *name,
			 uint64_t handle, uint64_t *found, uint64_t *l_addr,
			 struct muppy_error *err) MUPPY_MUST_CHECK;
/* Writes the mark muppy__target_claim() armed, if any (0 or -errno). */
int muppy__claim_flush(struct muppy__target *t);

#endif
