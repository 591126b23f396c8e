/* SPDX-License-Identifier: MIT */
/* Internals shared by the files of lib/inject/. */
#ifndef MUPPY_INJECT_INT_H
#define MUPPY_INJECT_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "inject/arch.h"
#include "inject/inject.h"
#include "base/base.h"

/* --- maps.c: /proc/PID/maps ----------------------------------------- */
enum muppy__objkind { OBJ_OTHER, OBJ_LIBC, OBJ_LD };

struct muppy__map {
	uint64_t start, end, offset;
	uint64_t inode;
	unsigned dev_major, dev_minor;
	char perms[5];
	char *path; /* "" for anonymous */
	enum muppy__objkind kind;
};

struct muppy__maps {
	struct muppy__map *v;
	size_t n;
};

int muppy__maps_read(pid_t pid, struct muppy__maps *m,
		     struct muppy_error *err) MUPPY_MUST_CHECK;
void muppy__maps_free(struct muppy__maps *m);
const struct muppy__map *muppy__maps_find(const struct muppy__maps *m,
					  uint64_t addr);
/* First mapping (offset 0) of the object a mapping belongs to. */
const struct muppy__map *muppy__maps_object(const struct muppy__maps *m,
					    const struct muppy__map *any);
/* End of the last mapping of the same object. */
uint64_t muppy__maps_object_end(const struct muppy__maps *m,
				const struct muppy__map *first);
/* First mapping of the object with this file name (basename match). */
const struct muppy__map *muppy__maps_by_name(const struct muppy__maps *m,
					     const char *base);
const struct muppy__map *muppy__maps_by_kind(const struct muppy__maps *m,
					     enum muppy__objkind kind);
bool muppy__maps_has_substr(const struct muppy__maps *m, const char *s);

/* --- mem.c: target memory, /proc helpers, permissions ---------------- */
/* From pin to unpin, every read and write of pid's memory goes to the
 * address space it has now (its /proc/PID/mem), never to a program it
 * executes later.  Counted; -errno. */
int muppy__mem_pin(pid_t pid) MUPPY_MUST_CHECK;
void muppy__mem_unpin(pid_t pid);
int muppy__mem_read(pid_t pid, uint64_t addr, void *buf, size_t len)
	MUPPY_MUST_CHECK;
int muppy__mem_write(pid_t pid, uint64_t addr, const void *buf, size_t len)
	MUPPY_MUST_CHECK;
int muppy__mem_read_str(pid_t pid, uint64_t addr, char *buf, size_t size)
	MUPPY_MUST_CHECK;
/* Reads a /proc file into buf (NUL-terminated); -errno. */
int muppy__proc_read(const char *path, char *buf, size_t size)
	MUPPY_MUST_CHECK;
/* Value of a "Key:\t..." line of /proc/PID/status, or -1. */
long muppy__status_field(pid_t pid, const char *key);
/* Value of a "Key:\t..." line of /proc/SUB/status ("PID/task/TID"). */
long muppy__status_field_at(const char *sub, const char *key);
/* Explains an EPERM/EACCES for pid (thread tid, or 0) into err; returns
 * -EPERM, or -EBUSY when another tracer is the cause. */
int muppy__explain_eperm(pid_t pid, pid_t tid, const char *what,
			 struct muppy_error *err);
/* What the explanation is made of; muppy__eperm_message() words it. */
struct muppy__eperm_facts {
	pid_t tid;              /* the thread we tried, 0 for the process */
	long tracer;            /* its TracerPid, 0 if none */
	char tracer_comm[32];   /* the tracer's name */
	long uid;               /* the process's real uid, -1 if unknown */
	uid_t euid;             /* ours */
	bool cap_sys_ptrace;    /* ours */
	int yama;               /* kernel.yama.ptrace_scope, -1 if absent */
};
int muppy__eperm_message(struct muppy_error *err, const char *what,
			 pid_t pid, const struct muppy__eperm_facts *f);
/* True when nothing explains an EPERM (no tracer, uid, yama): a thread
 * exiting or a process executing a program refuses for a moment too. */
bool muppy__eperm_unexplained(pid_t pid, pid_t tid);
/* Fields of a /proc/.../stat file (a process's or a thread's). */
struct muppy__stat {
	char state;               /* R, S, D, T, t, Z, X, ... */
	long ppid;
	unsigned long flags;      /* PF_* */
	unsigned long long start; /* start time, clock ticks after boot */
};
int muppy__stat_read(const char *path, struct muppy__stat *s)
	MUPPY_MUST_CHECK;
/* The state letter of /proc/PID/stat, and its flags (PF_*) when FLAGS is
 * not NULL; 0 when it cannot be read. */
char muppy__proc_state(pid_t pid, unsigned long *flags);
#define PF_KTHREAD 0x00200000UL
/* True when a signal that should end muppy-snap (SIGINT, SIGTERM,
 * SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, not ignored) is pending,
 * held back because muppy_snap_take() blocks them while attached. */
bool muppy__stop_pending(void);
uint64_t muppy__now_us(void);
/* True when the process of a pidfd has exited (its pid may be another
 * process's now). */
bool muppy__pidfd_exited(int pidfd);
/* Text of the target (a file name, a symbol name) for a message: escaped
 * by muppy_escape() into buf, cut to fit; returns buf. */
const char *muppy__shown(const char *text, char *buf, size_t size);

/* --- symbols.c: ELF .dynsym of the target's own files ---------------- */
struct muppy__elf;

/* Caps on what is read of a file the target maps (symbols.c): its size,
 * its sections and program headers, and each table (symbols, their
 * versions, their names). */
#define MUPPY__ELF_FILE_MAX (UINT64_C(4) << 30)
#define MUPPY__ELF_SECTIONS 65535u
#define MUPPY__ELF_TABLE_MAX (64u << 20)

int muppy__elf_open(pid_t pid, const struct muppy__maps *m,
		    const struct muppy__map *obj, struct muppy__elf **out,
		    struct muppy_error *err) MUPPY_MUST_CHECK;
void muppy__elf_close(struct muppy__elf *e);
/* Address in the target of a defined symbol (default version first). */
int muppy__elf_sym(const struct muppy__elf *e, const char *name,
		   uint64_t *addr) MUPPY_MUST_CHECK;
/* Offset (st_value) of a TLS symbol. */
int muppy__elf_tls_sym(const struct muppy__elf *e, const char *name,
		       uint64_t *off) MUPPY_MUST_CHECK;
/* Calls fn for each function symbol whose range holds addr; stops at
 * the first nonzero return, which it returns. */
int muppy__elf_names_at(const struct muppy__elf *e, uint64_t addr,
			int (*fn)(const char *name, void *arg), void *arg);
uint64_t muppy__elf_bias(const struct muppy__elf *e);
const struct muppy__map *muppy__elf_map(const struct muppy__elf *e);

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
