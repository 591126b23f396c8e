/* SPDX-License-Identifier: MIT */
/*
 * Safe points.  The only deadlock a remote dlopen can cause is
 * self-deadlock: the seized thread already holding a non-recursive libc
 * lock (malloc arenas, the stack cache, dl_load_write_lock, ...).  So the
 * thread's stack is unwound (libunwind-ptrace) and every frame's IP is
 * classified as libc (or libpthread), ld.so or other.  For each run of
 * consecutive libc/ld.so frames, the OUTERMOST frame of the run is the
 * function non-libc code called (static helpers are not in .dynsym; the
 * entry point is): it must be a blocking call known to hold no lock.  The
 * run at the bottom of the stack (__libc_start_main, start_thread, clone)
 * is always fine; ld.so anywhere else is not; an incomplete unwind is not.
 *
 * Mount namespaces: libunwind-ptrace's own find_proc_info opens each
 * object by the path in /proc/PID/maps, which may not exist (or be another
 * file) in our namespace.  We replace it: the .eh_frame_hdr binary search
 * table is found through the ELF program headers in the TARGET's memory
 * and handed to libunwind as a remote table, so no file is opened at all.
 */
#include <errno.h>
#include <stdarg.h>
#include <libunwind-ptrace.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>

#include "inject/inject_int.h"

/* In libunwind but not in its public headers. */
extern int UNW_OBJ(dwarf_search_unwind_table)(unw_addr_space_t as,
					      unw_word_t ip,
					      unw_dyn_info_t *di,
					      unw_proc_info_t *pi,
					      int need_unwind_info, void *arg);

#define MAX_FRAMES 512
#define MIN_STACK_ROOM (96 * 1024)

/* Blocking libc entry points that hold no libc lock while they block. */
static const char *const allowed[] = {
	"read", "write", "readv", "writev", "pread64", "pwrite64", "pread",
	"pwrite", "preadv", "pwritev", "preadv2", "pwritev2",
	"recv", "recvfrom", "recvmsg", "recvmmsg", "send", "sendto",
	"sendmsg", "sendmmsg", "accept", "accept4", "connect",
	"poll", "ppoll", "select", "pselect", "pselect6",
	"epoll_wait", "epoll_pwait", "epoll_pwait2",
	"nanosleep", "clock_nanosleep", "usleep", "sleep", "pause",
	"sigsuspend", "sigwait", "sigwaitinfo", "sigtimedwait",
	"wait", "waitpid", "wait3", "wait4", "waitid",
	"pthread_cond_wait", "pthread_cond_timedwait",
	"pthread_cond_clockwait", "sem_wait", "sem_timedwait",
	"sem_clockwait", "pthread_join", "pthread_timedjoin_np",
	"pthread_clockjoin_np", "pthread_mutex_lock",
	"pthread_mutex_timedlock", "pthread_mutex_clocklock",
	"pthread_rwlock_rdlock", "pthread_rwlock_wrlock",
	"pthread_rwlock_timedrdlock", "pthread_rwlock_timedwrlock",
	"pthread_rwlock_clockrdlock", "pthread_rwlock_clockwrlock",
	"flock", "lockf", "lockf64", "fcntl", "fcntl64", "ioctl", "syscall",
	"getrandom", "open", "open64", "openat", "openat64", "close",
	"msgrcv", "msgsnd", "semop", "semtimedop", "mq_receive",
	"mq_timedreceive", "mq_send", "mq_timedsend", "futex",
	"__libc_read", "__libc_write", "__read", "__write",
	"__nanosleep", "__clock_nanosleep", "__pthread_cond_wait",
	"__pthread_cond_timedwait", "__pthread_mutex_lock", "__poll",
	"__select", "__sigsuspend", "__wait", "__waitpid", "__wait4",
	"__libc_recv", "__libc_send", "__close", "__open", "__open64",
	"__sleep", "__usleep", "__syscall",
};

/* The outermost libc frames of a thread. */
static const char *const bottoms[] = {
	"__libc_start_main", "__libc_start_call_main", "start_thread",
	"clone", "__clone", "clone3", "__clone3", "__clone_internal",
};

/* Pages of read-only mappings (unwind tables, code), read once per
 * unwind: unwinding reads thousands of words. */
#define NPAGES 32

struct page {
	uint64_t addr;
	unsigned char data[4096];
};

struct wrap {
	void *upt;
	struct muppy__target *t;
	struct page *pages; /* NPAGES, addr 0 = empty */
	unsigned next;
};

static int read_word(struct wrap *w, uint64_t addr, unw_word_t *val)
{
	const struct muppy__map *m;
	uint64_t base = addr & ~UINT64_C(4095);
	struct page *p;
	unsigned i;

	if ((addr & 4095) > 4096 - sizeof(*val) || !w->pages ||
	    !(m = muppy__maps_find(&w->t->maps, addr)) || m->perms[1] == 'w')
		return muppy__mem_read(w->t->pid, addr, val, sizeof(*val));
	for (i = 0; i < NPAGES; i++)
		if (w->pages[i].addr == base)
			goto hit;
	i = w->next++ % NPAGES;
	if (muppy__mem_read(w->t->pid, base, w->pages[i].data, 4096)) {
		w->pages[i].addr = 0;
		return muppy__mem_read(w->t->pid, addr, val, sizeof(*val));
	}
	w->pages[i].addr = base;
hit:
	p = &w->pages[i];
	memcpy(val, p->data + (addr - base), sizeof(*val));
	return 0;
}

static int in_list(const char *name, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(name, list[i]))
			return 1;
	return 0;
}

static int is_allowed(const char *name, void *arg)
{
	(void)arg;
	return in_list(name, allowed, ARRAY_SIZE(allowed));
}

static int is_bottom(const char *name, void *arg)
{
	(void)arg;
	return in_list(name, bottoms, ARRAY_SIZE(bottoms));
}

static int first_name(const char *name, void *arg)
{
	snprintf(arg, 64, "%s", name);
	return 1;
}

static int find_proc_info(unw_addr_space_t as, unw_word_t ip,
			  unw_proc_info_t *pi, int need_unwind_info, void *arg)
{
	struct wrap *w = arg;
	pid_t pid = w->t->pid;
	const struct muppy__map *m, *obj;
	Elf64_Ehdr eh;
	Elf64_Phdr ph[64];
	uint64_t bias = 0, hdr = 0, lowest = UINT64_MAX;
	unsigned char h[12];
	uint32_t count;
	unw_dyn_info_t di;
	int i;

	m = muppy__maps_find(&w->t->maps, ip);
	if (!m)
		return -UNW_ENOINFO;
	obj = m->inode ? muppy__maps_object(&w->t->maps, m)
		       : !strcmp(m->path, "[vdso]") ? m : NULL;
	if (!obj || muppy__mem_read(pid, obj->start, &eh, sizeof(eh)) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_phnum > 64 ||
	    eh.e_phentsize != sizeof(Elf64_Phdr) ||
	    muppy__mem_read(pid, obj->start + eh.e_phoff, ph,
			    eh.e_phnum * sizeof(Elf64_Phdr)))
		return -UNW_ENOINFO;
	for (i = 0; i < eh.e_phnum; i++)
		if (ph[i].p_type == PT_LOAD && ph[i].p_vaddr < lowest)
			lowest = ph[i].p_vaddr;
	if (lowest == UINT64_MAX)
		return -UNW_ENOINFO;
	bias = obj->start - (lowest & ~UINT64_C(4095));
	for (i = 0; i < eh.e_phnum; i++)
		if (ph[i].p_type == PT_GNU_EH_FRAME)
			hdr = bias + ph[i].p_vaddr;
	/* version 1, udata4 count (0x03), table of datarel|sdata4 (0x3b) */
	if (!hdr || muppy__mem_read(pid, hdr, h, sizeof(h)) || h[0] != 1 ||
	    h[2] != 0x03 || h[3] != 0x3b)
		return -UNW_ENOINFO;
	memcpy(&count, h + 8, 4);
	memset(&di, 0, sizeof(di));
	di.format = UNW_INFO_FORMAT_REMOTE_TABLE;
	di.start_ip = obj->start;
	di.end_ip = obj == m ? m->end : muppy__maps_object_end(&w->t->maps, obj);
	di.u.rti.segbase = hdr;
	di.u.rti.table_len = (uint64_t)count * 8 / sizeof(unw_word_t);
	di.u.rti.table_data = hdr + 12;
	return UNW_OBJ(dwarf_search_unwind_table)(as, ip, &di, pi,
						  need_unwind_info, arg);
}

static void put_unwind_info(unw_addr_space_t as, unw_proc_info_t *pi, void *arg)
{
	_UPT_put_unwind_info(as, pi, ((struct wrap *)arg)->upt);
}

static int get_dyn_info_list_addr(unw_addr_space_t as, unw_word_t *addr,
				  void *arg)
{
	(void)as;
	(void)addr;
	(void)arg;
	return -UNW_ENOINFO;
}

static int access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val,
		      int write, void *arg)
{
	struct wrap *w = arg;

	if (!write)
		return read_word(w, addr, val) ? -UNW_EINVAL : 0;
	return _UPT_access_mem(as, addr, val, write, w->upt);
}

static int access_reg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t *val,
		      int write, void *arg)
{
	return _UPT_access_reg(as, reg, val, write, ((struct wrap *)arg)->upt);
}

static int access_fpreg(unw_addr_space_t as, unw_regnum_t reg,
			unw_fpreg_t *val, int write, void *arg)
{
	return _UPT_access_fpreg(as, reg, val, write, ((struct wrap *)arg)->upt);
}

static int resume(unw_addr_space_t as, unw_cursor_t *c, void *arg)
{
	(void)as;
	(void)c;
	(void)arg;
	return -UNW_EINVAL; /* never resume through libunwind */
}

static int get_proc_name(unw_addr_space_t as, unw_word_t addr, char *buf,
			 size_t len, unw_word_t *off, void *arg)
{
	(void)as;
	(void)addr;
	(void)buf;
	(void)len;
	(void)off;
	(void)arg;
	return -UNW_ENOINFO;
}

static unw_accessors_t accessors = {
	.find_proc_info = find_proc_info,
	.put_unwind_info = put_unwind_info,
	.get_dyn_info_list_addr = get_dyn_info_list_addr,
	.access_mem = access_mem,
	.access_reg = access_reg,
	.access_fpreg = access_fpreg,
	.resume = resume,
	.get_proc_name = get_proc_name,
};

int muppy__safepoint_init(struct muppy__target *t, struct muppy_error *err)
{
	unw_addr_space_t as = unw_create_addr_space(&accessors, 0);

	if (!as) {
		muppy_error_set(err, "libunwind: cannot create an address space");
		return -ENOMEM;
	}
	unw_set_caching_policy(as, UNW_CACHE_NONE);
	t->unw_as = as;
	return 0;
}

static const char *const alloc_funcs[] = {
	"malloc", "free", "calloc", "realloc", "reallocarray", "memalign",
	"posix_memalign", "aligned_alloc", "valloc", "pvalloc",
	"malloc_usable_size", "cfree", "free_sized", "free_aligned_sized",
};

static int is_alloc_func(const char *name, void *arg)
{
	(void)arg;
	return in_list(name, alloc_funcs, ARRAY_SIZE(alloc_funcs));
}

void muppy__safepoint_find_allocator(struct muppy__target *t)
{
	const struct muppy__map *m, *obj;
	struct muppy__elf *e;
	uint64_t rd, lm, f[4], addr;
	int i;

	if (muppy__elf_sym(t->ld, "_r_debug", &rd) ||
	    muppy__mem_read(t->pid, rd + 8, &lm, sizeof(lm)))
		return;
	/* the executable, preloads, then dependencies: the first object
	 * defining malloc is the one every call goes to */
	for (i = 0; lm && i < 4096; i++, lm = f[3]) {
		/* the list is the target's: as long as it likes */
		if (muppy__now_us() > t->deadline_us ||
		    muppy__mem_read(t->pid, lm, f, sizeof(f)))
			return;
		m = muppy__maps_find(&t->maps, f[2]); /* l_ld */
		if (!m || !m->inode || !(obj = muppy__maps_object(&t->maps, m)))
			continue;
		if (obj->kind == OBJ_LD)
			continue;
		if (obj->kind == OBJ_LIBC)
			return; /* libc's own: its frames are checked already */
		if (muppy__elf_open(t->pid, &t->maps, obj, &e, NULL))
			continue;
		if (muppy__elf_sym(e, "malloc", &addr)) {
			muppy__elf_close(e);
			continue;
		}
		muppy__shown(strrchr(obj->path, '/') ? strrchr(obj->path, '/') + 1 : obj->path,
			     t->alloc_name, sizeof(t->alloc_name));
		t->alloc_start = obj->start;
		t->alloc_end = muppy__maps_object_end(&t->maps, obj);
		if (i == 0)
			t->exe_alloc = e; /* the executable: not all its code */
		else
			muppy__elf_close(e);
		return;
	}
}

/* True when frame pc is code of the process's own malloc. */
static bool in_allocator(const struct muppy__target *t, uint64_t pc)
{
	if (pc < t->alloc_start || pc >= t->alloc_end)
		return false;
	return !t->exe_alloc ||
	       muppy__elf_names_at(t->exe_alloc, pc, is_alloc_func, NULL);
}

void muppy__safepoint_fini(struct muppy__target *t)
{
	muppy__elf_close(t->exe_alloc);
	t->exe_alloc = NULL;
	if (t->unw_as)
		unw_destroy_addr_space(t->unw_as);
	t->unw_as = NULL;
}

/* The ELF symbols of a libc-kind object, cached by mapping start. */
static struct muppy__elf *elf_for(struct muppy__target *t,
				  const struct muppy__map *m)
{
	const struct muppy__map *obj = muppy__maps_object(&t->maps, m);
	size_t i;

	if (!obj)
		return NULL;
	if (muppy__elf_map(t->libc)->start == obj->start)
		return t->libc;
	for (i = 0; i < MUPPY__ELF_CACHE && t->cache[i]; i++)
		if (muppy__elf_map(t->cache[i])->start == obj->start)
			return t->cache[i];
	if (i == MUPPY__ELF_CACHE ||
	    muppy__elf_open(t->pid, &t->maps, obj, &t->cache[i], NULL))
		return NULL;
	return t->cache[i];
}

struct frame {
	uint64_t pc; /* an address inside the function */
	enum muppy__objkind kind;
	const struct muppy__map *map;
};

static int unwind(struct muppy__target *t, struct frame *f, size_t *n,
		  bool *complete, bool *sigframe, uint64_t *sp)
{
	struct wrap w = { NULL, t, NULL, 0 };
	unw_cursor_t c;
	unw_word_t ip, s;
	bool exact = true;
	int ret;

	w.upt = _UPT_create(t->tid);
	if (!w.upt)
		return -ENOMEM;
	w.pages = calloc(NPAGES, sizeof(*w.pages)); /* optional */
	unw_flush_cache(t->unw_as, 0, 0);
	*n = 0;
	*complete = false;
	*sigframe = false;
	ret = unw_init_remote(&c, t->unw_as, &w);
	if (ret < 0)
		goto out;
	if (unw_get_reg(&c, UNW_REG_SP, &s) < 0)
		goto out;
	*sp = s;
	while (*n < MAX_FRAMES) {
		if (unw_get_reg(&c, UNW_REG_IP, &ip) < 0 || !ip)
			break;
		f[*n].pc = exact ? ip : ip - 1;
		f[*n].map = muppy__maps_find(&t->maps, f[*n].pc);
		f[*n].kind = f[*n].map ? f[*n].map->kind : OBJ_OTHER;
		(*n)++;
		exact = unw_is_signal_frame(&c) > 0;
		if (exact)
			*sigframe = true;
		ret = unw_step(&c);
		if (ret == 0) {
			*complete = true;
			break;
		}
		if (ret < 0)
			break;
	}
	ret = 0;
out:
	free(w.pages);
	_UPT_destroy(w.upt);
	return ret;
}

static bool maps_cover(const struct muppy__target *t, const struct frame *f,
		       size_t n, uint64_t sp)
{
	size_t i;

	if (!muppy__maps_find(&t->maps, sp))
		return false;
	for (i = 0; i < n; i++)
		if (!f[i].map)
			return false;
	return true;
}

#ifndef PTRACE_GET_RSEQ_CONFIGURATION
#define PTRACE_GET_RSEQ_CONFIGURATION 0x420f
#endif

struct rseq_config {
	uint64_t rseq_abi_pointer;
	uint32_t rseq_abi_size, signature, flags, pad;
};

/*
 * 1 when the thread is inside a restartable sequence (rseq_cs, at offset
 * 8 of its struct rseq, is set): a call run from there would leave the
 * sequence without the kernel aborting it.  0 when not or unknown.
 */
static int in_rseq_cs(struct muppy__target *t)
{
	struct rseq_config rc;
	uint64_t cs;

	memset(&rc, 0, sizeof(rc));
	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, t->tid, (void *)sizeof(rc), &rc) <= 0 ||
	    !rc.rseq_abi_pointer)
		return 0;
	if (muppy__mem_read(t->pid, rc.rseq_abi_pointer + 8, &cs, sizeof(cs)))
		return 0;
	return cs != 0;
}

/* --- the checks on the seized thread ----------------------------------- */

/* What the unwinder saw of the seized thread. */
struct stack {
	struct frame *f;   /* innermost first */
	size_t n;
	bool complete;     /* unwound down to its first frame */
	bool sigframe;     /* a signal handler's frame among them */
	uint64_t sp;
	size_t last_run;   /* first frame of the bottom libc run (bottom_ok) */
};

/* Each check: true when the thread passes it; false when it is not safe,
 * the reason (the format's "%d" is the thread) in t->why. */
typedef bool stack_check(struct muppy__target *t, struct stack *s);

static bool MUPPY_PRINTF(2, 3) unsafe(struct muppy__target *t,
				      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->why, sizeof(t->why), fmt, ap);
	va_end(ap);
	return false;
}

/* The stack pointer is in a mapping, with room for our calls. */
static bool stack_room_ok(struct muppy__target *t, struct stack *s)
{
	const struct muppy__map *sm = muppy__maps_find(&t->maps, s->sp);

	if (!sm)
		return unsafe(t, "thread %d: stack pointer outside any mapping", (int)t->tid);
	if (strcmp(sm->path, "[stack]") && s->sp - sm->start < MIN_STACK_ROOM)
		return unsafe(t, "thread %d has only %llu bytes of stack left",
			      (int)t->tid, (unsigned long long)(s->sp - sm->start));
	return true;
}

static bool unwound_ok(struct muppy__target *t, struct stack *s)
{
	if (!s->complete)
		return unsafe(t, "thread %d: its stack could not be unwound", (int)t->tid);
	return true;
}

/* A malloc of its own (jemalloc, tcmalloc, a preload) holds its own locks,
 * and dlopen and pthread_create call it. */
static bool allocator_ok(struct muppy__target *t, struct stack *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (in_allocator(t, s->f[i].pc))
			return unsafe(t, "thread %d inside the memory allocator (%s)",
				      (int)t->tid, t->alloc_name);
	return true;
}

/* A handler may run on a small alternate stack, and may have interrupted
 * anything, locks held included. */
static bool signal_handler_ok(struct muppy__target *t, struct stack *s)
{
	if (s->sigframe)
		return unsafe(t, "thread %d is running a signal handler", (int)t->tid);
	return true;
}

/*
 * The bottom run: the last libc/ld.so run, followed by at most one frame
 * of the program (_start).  A thread's stack begins in libc
 * (__libc_start_main, clone, ...): anything else is a program starting
 * up, before libc is ready; and libc code all the way down is thread
 * start-up or exit (exit handlers, stack cache), not user code.  Sets
 * s->last_run.
 */
static bool bottom_ok(struct muppy__target *t, struct stack *s)
{
	const struct frame *f = s->f;
	size_t i, n = s->n, last_run = SIZE_MAX;
	struct muppy__elf *e;
	char name[64];

	for (i = n; i-- > 0;)
		if (f[i].kind != OBJ_OTHER) {
			if (n - 1 - i <= 1)
				last_run = i;
			break;
		}
	if (last_run == SIZE_MAX)
		return unsafe(t, "thread %d: its stack does not begin in the C library (starting up?)",
			      (int)t->tid);
	/* Names are checked where known; clone3 and start_thread are not
	 * exported. */
	e = f[last_run].kind == OBJ_LIBC ? elf_for(t, f[last_run].map) : NULL;
	if (e && muppy__elf_names_at(e, f[last_run].pc, first_name, name) &&
	    !muppy__elf_names_at(e, f[last_run].pc, is_bottom, NULL))
		return unsafe(t, "thread %d: stack ends in %s", (int)t->tid, name);
	while (last_run > 0 && f[last_run - 1].kind != OBJ_OTHER)
		last_run--;
	if (last_run == 0)
		return unsafe(t, "thread %d is starting or exiting", (int)t->tid);
	s->last_run = last_run;
	return true;
}

/* Every run of libc frames above the bottom one was entered through a
 * function that takes no lock (allowed[]), and none is in ld.so. */
static bool libc_runs_ok(struct muppy__target *t, struct stack *s)
{
	const struct frame *f = s->f;
	size_t i, j, n = s->n, last_run = s->last_run;
	struct muppy__elf *e;
	char name[64];

	for (i = 0; i < n && i < last_run; i++) {
		if (f[i].kind == OBJ_OTHER)
			continue;
		for (j = i; j + 1 < n && j + 1 < last_run && f[j + 1].kind != OBJ_OTHER; j++)
			;
		/* run i..j; j is its outermost frame */
		for (; i <= j; i++)
			if (f[i].kind == OBJ_LD)
				return unsafe(t, "thread %d inside the dynamic linker", (int)t->tid);
		i = j;
		e = elf_for(t, f[j].map);
		if (!e)
			return unsafe(t, "thread %d inside %s", (int)t->tid, f[j].map->path);
		if (!muppy__elf_names_at(e, f[j].pc, is_allowed, NULL)) {
			if (!muppy__elf_names_at(e, f[j].pc, first_name, name))
				snprintf(name, sizeof(name), "an internal libc function");
			return unsafe(t, "thread %d inside %s", (int)t->tid, name);
		}
	}
	return true;
}

/* In the order they run: each may rely on those before it. */
static stack_check *const checks[] = {
	stack_room_ok, unwound_ok, allocator_ok, signal_handler_ok,
	bottom_ok, libc_runs_ok,
};

/*
 * Unwinds the thread into s (1), unless it is inside a restartable
 * sequence (0, the reason in t->why), or -errno.  When a frame or the
 * stack pointer is outside the maps read at the attach (a new thread
 * stack or library since), reads them again and starts over, once.
 */
static int read_stack(struct muppy__target *t, struct stack *s)
{
	struct muppy__maps m;
	int ret;

	for (int tries = 0;; tries++) {
		ret = in_rseq_cs(t);
		if (ret > 0)
			unsafe(t, "thread %d in a restartable sequence", (int)t->tid);
		if (ret)
			return ret > 0 ? 0 : ret;
		ret = unwind(t, s->f, &s->n, &s->complete, &s->sigframe, &s->sp);
		if (ret)
			return ret;
		if (tries > 0 || maps_cover(t, s->f, s->n, s->sp))
			return 1;
		if (!muppy__maps_read(t->pid, &m, NULL)) {
			muppy__maps_free(&t->maps);
			t->maps = m;
		}
	}
}

int muppy__safepoint_check(struct muppy__target *t)
{
	struct stack s = { .last_run = SIZE_MAX };
	int ret;

	s.f = malloc(MAX_FRAMES * sizeof(*s.f));
	if (!s.f)
		return -ENOMEM;
	ret = read_stack(t, &s);
	for (size_t i = 0; ret == 1 && i < ARRAY_SIZE(checks); i++)
		if (!checks[i](t, &s))
			ret = 0;
	free(s.f);
	return ret;
}
