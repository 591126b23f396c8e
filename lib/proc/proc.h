/* SPDX-License-Identifier: MIT */
/*
 * lib/proc/: reading a process from the outside, without tracing it --
 * its mappings (maps.c), small /proc files (procfs.c), its file
 * descriptors (fds.c), why ptrace is refused (eperm.c), and the ELF
 * dynamic symbols of the files it maps (elf.c).  Uses lib/base/.
 */
#ifndef MUPPY_PROC_H
#define MUPPY_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

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

/* --- procfs.c: small /proc readers ----------------------------------- */
/* Reads a /proc file into buf (NUL-terminated); -errno. */
int muppy__proc_read(const char *path, char *buf, size_t size)
	MUPPY_MUST_CHECK;
/* Value of a "Key:\t..." line of /proc/PID/status, or -1. */
long muppy__status_field(pid_t pid, const char *key);
/* Value of a "Key:\t..." line of /proc/SUB/status ("PID/task/TID"). */
long muppy__status_field_at(const char *sub, const char *key);
/* --- eperm.c: why ptrace was refused ------------------------------- */
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
/* True when the process of a pidfd has exited (its pid may be another
 * process's now). */
bool muppy__pidfd_exited(int pidfd);

/* --- elf.c: ELF .dynsym of the target's own files ---------------- */
struct muppy__elf;

/* Caps on what is read of a file the target maps (elf.c): its size,
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

/* --- fds.c: /proc/PID/fd ------------------------------------------- */
/* The link of the target's fd N into link; false if there is none. */
bool muppy__fd_link(pid_t pid, int n, char *link, size_t size);
/* The target's fds (at most max) whose link accept takes; their count,
 * or -errno. */
int muppy__fds_scan(pid_t pid,
		    bool (*accept)(const char *link, const void *arg),
		    const void *arg, int *fds, int max);
/* The target's fd whose link is "/memfd:NAME (deleted)", or -ENOENT. */
int muppy__find_memfd(pid_t pid, const char *name);

#endif
