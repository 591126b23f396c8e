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

/* Caps on walks of the target's own data: link map entries (linkmap.c),
 * and steps along one symbol hash chain (dynsym.c). */
#define MUPPY__LINK_MAPS_MAX 65536
#define MUPPY__SYM_CHAIN_MAX 4096u

/*
 * Who calls whom inside lib/inject/ (no cycle; tests/build/layers.test):
 *   ptrace.c, mem.c, arch/  <-  remote.c  <-  libcall.c
 *   linkmap.c  <-  dynsym.c  <-  unload.c  <-  sweep.c  <-  load.c
 *   safepoint.c, linkmap.c, ptrace.c  <-  attach.c
 * (each also uses those left of it on the lines above it).
 */

/* --- ptrace.c: stops and detaching ----------------------------------- */
/* PTRACE_DETACH; a tracee that is being killed is reaped instead. */
void muppy__detach(pid_t tid, int sig);
/* Remembers a thread seized but not stopped, for muppy__inject_reap(). */
void muppy__leave(pid_t tid);
int muppy__wait_stop(pid_t tid, int *status, uint64_t deadline_us)
	MUPPY_MUST_CHECK;

/* --- mem.c (the reads and writes: inject.h) ------------------------- */
/* From pin to unpin, every read and write of pid's memory goes to the
 * address space it has now (its /proc/PID/mem), never to a program it
 * executes later.  Counted; -errno. */
int muppy__mem_pin(pid_t pid) MUPPY_MUST_CHECK;
void muppy__mem_unpin(pid_t pid);
/* Writes the mark muppy__target_claim() armed, if any (0 or -errno). */
int muppy__claim_flush(struct muppy__target *t);

/* --- linkmap.c: the target's link maps -------------------------------- */
/* struct link_map's public head (link.h) */
#define LM_ADDR 0
#define LM_NAME 8
#define LM_LD 16
#define LM_NEXT 24
/*
 * Calls visit for each link map entry of the target (its address, and its
 * first fields: l_addr, l_name, l_ld, l_next) until visit returns true:
 * then 0; -ENOENT at the end of the list, -ENOEXEC without _r_debug.
 */
typedef bool muppy__link_map_visit(struct muppy__target *t, uint64_t lm,
				   const uint64_t f[4], void *arg);
int muppy__link_maps_walk(struct muppy__target *t, muppy__link_map_visit *visit,
			  void *arg);
/* The link map entry whose l_name is name, or whose address is handle,
 * or (both unset) libc's, by its load bias. */
int muppy__link_map_find(struct muppy__target *t, const char *name,
			 uint64_t handle, uint64_t *found, uint64_t *l_addr,
			 struct muppy_error *err) MUPPY_MUST_CHECK;

/* --- safepoint.c ----------------------------------------------------- */
int muppy__safepoint_init(struct muppy__target *t, struct muppy_error *err)
	MUPPY_MUST_CHECK;
void muppy__safepoint_fini(struct muppy__target *t);
/* Finds the object that provides the process's malloc (the first in
 * link-map order that defines it), when it is not libc. */
void muppy__safepoint_find_allocator(struct muppy__target *t);
/* 1 if the seized thread t->tid may run libc's dlopen now, 0 if not
 * (reason in t->why), -errno on error. */
int muppy__safepoint_check(struct muppy__target *t);

/* --- libcall.c: calls of the target's C library (remote.c) ------------ */
int muppy__libc_call(struct muppy__target *t, const char *fn,
		     const uint64_t *args, size_t nargs, const void *in,
		     size_t inlen, struct muppy_error *err);
/* Closes the target's fd n, a memfd called name (checked by its name,
 * when name is not NULL). */
int muppy__remote_close(struct muppy__target *t, int n, const char *name,
			struct muppy_error *err);
int muppy__remote_dlclose(struct muppy__target *t, uint64_t handle,
			  struct muppy_error *err);

/* --- sweep.c: what killed injectors left ---------------------------- */
/* The owner part of our memfd names: "<pid namespace>.<pid>.<start>";
 * "0.0.0" (never judged) when /proc cannot tell. */
void muppy__owner_id(char *buf, size_t len);
/* Closes the memfds and unloads the libraries whose owners are gone. */
void muppy__sweep(struct muppy__target *t);

#endif
