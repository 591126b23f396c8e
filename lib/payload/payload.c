/* SPDX-License-Identifier: MIT */
/*
 * The payload: loaded into the target by the injector, it starts one
 * thread that takes the interpreter, summarizes the heap, sends the
 * summary to muppy-snap and unloads the library it runs from.  See
 * protocol.h for the conversation.
 *
 * Rules: the seized thread only runs payload_prepare() and then leaves
 * through pthread_create (a tail call), so it never returns into this
 * library; the payload thread never runs Python code while it holds
 * borrowed pointers; it writes with MSG_NOSIGNAL (no SIGPIPE in the
 * target); the thread's start routine ends by jumping to dlclose() with
 * its own return address, glibc's start_thread: the thread then exits as
 * any thread whose routine returned, and no code of ours runs again.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "payload.h"
#include "protocol.h"

HIDDEN struct payload_state {
	int sock;            /* our end of the socketpair */
	int peer;            /* muppy-snap's end, in this process */
	int tracer;          /* pidfd of muppy-snap, or -1 */
	struct pyapi api;
	struct muppy_request req;
	uint64_t deadline_ns; /* CLOCK_MONOTONIC, from req.timeout_ns */
	struct muppy_reply reply;
	struct sbuf out;     /* records sent after the reply */
	bool here;           /* walking on the GIL holder's thread */
} muppy_p;
#define P muppy_p

HIDDEN int payload_prepare(struct muppy_start_out *out);
HIDDEN void *payload_main(void *arg);
HIDDEN void *payload_work(void);

/*
 * muppy_payload_start(struct muppy_start_out *out): runs on the seized
 * thread.  After payload_prepare() it tail-calls
 * pthread_create(&out->thread, NULL, payload_main, NULL), whose return
 * goes straight to our caller.  Nothing pthread_create reads may be in
 * this library: the new thread may unload it before pthread_create
 * returns (when muppy-snap was killed meanwhile, it leaves at once), so
 * the attributes are the default ones and the thread detaches itself.
 */
__asm__(
	".text\n"
	".globl muppy_payload_start\n"
	".type muppy_payload_start, @function\n"
	"muppy_payload_start:\n"
	"	.cfi_startproc\n"
	"	push %rbx\n"
	"	.cfi_def_cfa_offset 16\n"
	"	.cfi_offset %rbx, -16\n"
	"	mov %rdi, %rbx\n"
	"	call payload_prepare\n"
	"	test %eax, %eax\n"
	"	jnz 1f\n"
	"	lea 8(%rbx), %rdi\n"
	"	xor %esi, %esi\n"
	"	lea payload_main(%rip), %rdx\n"
	"	xor %ecx, %ecx\n"
	"	pop %rbx\n"
	"	.cfi_remember_state\n"
	"	.cfi_def_cfa_offset 8\n"
	"	.cfi_restore %rbx\n"
	"	jmp *pthread_create@GOTPCREL(%rip)\n"
	"	.cfi_restore_state\n"
	"1:	pop %rbx\n"
	"	.cfi_def_cfa_offset 8\n"
	"	.cfi_restore %rbx\n"
	"	ret\n"
	"	.cfi_endproc\n"
	".size muppy_payload_start, .-muppy_payload_start\n"
	/*
	 * payload_main(arg), the payload thread's start routine: does the
	 * work, then tail-calls dlclose(handle of this library), so that
	 * dlclose returns straight into glibc's start_thread, with 0 as the
	 * thread's result.  The thread then exits the normal way (no forced
	 * unwind, so no libgcc_s to load), and nothing of ours is on its
	 * stack or runs once the library is unmapped.  The stack is as at
	 * entry when jumping: rsp = 8 mod 16, as dlclose expects.
	 */
	".globl payload_main\n"
	".hidden payload_main\n"
	".type payload_main, @function\n"
	"payload_main:\n"
	"	.cfi_startproc\n"
	"	sub $8, %rsp\n"
	"	.cfi_def_cfa_offset 16\n"
	"	call payload_work\n"
	"	add $8, %rsp\n"
	"	.cfi_def_cfa_offset 8\n"
	"	mov %rax, %rdi\n"
	"	jmp *dlclose@GOTPCREL(%rip)\n"
	"	.cfi_endproc\n"
	".size payload_main, .-payload_main\n");

_Static_assert(offsetof(struct muppy_start_out, thread) == 8,
	       "muppy_payload_start stores the thread at out + 8");

/*
 * A pidfd of muppy-snap, which traces this (seized) thread now, or -1
 * when it is not visible from here (another pid namespace).  Until the
 * request arrives this process holds a copy of muppy-snap's end of the
 * socket pair, so the socket cannot tell when muppy-snap dies; the pidfd
 * can.  Only system calls: this runs on the seized thread.
 */
static int tracer_pidfd(void)
{
	char buf[2048], *p;
	ssize_t n;
	long pid;
	int fd;

	fd = open("/proc/thread-self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strstr(buf, "\nTracerPid:");
	pid = p ? strtol(p + 11, NULL, 10) : 0;
	if (pid <= 0)
		return -1;
	return (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
}

int payload_prepare(struct muppy_start_out *out)
{
	int sv[2];

	out->thread = 0;
	out->sock = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		out->status = errno;
		return -1;
	}
	P.sock = sv[0];
	P.peer = sv[1];
	P.tracer = tracer_pidfd();
	out->sock = sv[1];
	out->status = 0;
	return 0;
}

/*
 * Runs on the seized thread of a Python 3.6 process that never started a
 * thread.  PyEval_InitThreads() creates the GIL, takes it for the current
 * thread state and records the caller as the main thread: exactly what
 * the program's first threading.Thread.start() would do.  If the thread
 * holds the interpreter (its state is current), that is all.  If it is
 * blocked in a system call between Py_BEGIN_ALLOW_THREADS and
 * Py_END_ALLOW_THREADS (no state current), it takes its state back first
 * and gives it up again after, leaving the new GIL free, as if it had
 * existed when the thread began to wait.  Anywhere else (half-way through
 * taking or dropping its state) it must not be touched: EAGAIN.
 */
#define EXPORT __attribute__((visibility("default")))

/* Set by muppy-snap before it calls into this library: while it is 0, a
 * later muppy-snap may unload a copy whose muppy-snap was killed (see
 * lib/inject/inject.h, "Leftovers"). */
EXPORT int muppy_inject_entered;
EXPORT void muppy_payload_init_threads(struct muppy_threads_io *io);
void muppy_payload_init_threads(struct muppy_threads_io *io)
{
	struct pyapi *api = &P.api;
	void *mine, *current;
	char why[128];

	io->status = 0;
	if (!pyapi_resolve(api, why, sizeof(why)) ||
	    !api->PyEval_ThreadsInitialized || api->PyEval_ThreadsInitialized())
		return;
	if (!api->PyEval_InitThreads || !api->PyEval_SaveThread ||
	    !api->PyEval_RestoreThread || !api->PyGILState_GetThisThreadState ||
	    !api->PyThreadState_UncheckedGet) {
		io->status = ENOSYS;
		return;
	}
	mine = api->PyGILState_GetThisThreadState();
	current = api->PyThreadState_UncheckedGet();
	if (!mine) {
		io->status = ENOENT;
	} else if (current == mine) {
		api->PyEval_InitThreads();
	} else if (current == NULL && io->in_syscall) {
		api->PyEval_RestoreThread(mine);
		api->PyEval_InitThreads();
		api->PyEval_SaveThread();
	} else {
		io->status = EAGAIN;
	}
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool finalizing(const struct pyapi *api);
static void summarize(const struct pyapi *api);
static void hostile_reply(void);

static void set_version(const struct pyapi *api);

/*
 * Runs on the seized thread (see protocol.h, "Through the holder").  The
 * thread holds the GIL when its own thread state is the current one.
 * Stopped inside a system call, its C code is at rest: walking there is
 * as if that code had called into Python.  The request's full collection
 * is not run there: finalizers (Python code of the process) would run in
 * the middle of that C code.
 */
EXPORT void muppy_payload_here(struct muppy_here_io *io);
void muppy_payload_here(struct muppy_here_io *io)
{
	struct pyapi *api = &P.api;
	void *mine, *current;
	char why[128];
	uint64_t t0;

	io->state = MUPPY_HERE_UNUSABLE;
	if (!pyapi_resolve(api, why, sizeof(why)) || api->free_threaded ||
	    !api->PyGILState_GetThisThreadState ||
	    !api->PyThreadState_UncheckedGet || !api->Py_IsInitialized() ||
	    finalizing(api) ||
	    (api->PyEval_ThreadsInitialized && !api->PyEval_ThreadsInitialized()))
		return;
	mine = api->PyGILState_GetThisThreadState();
	current = api->PyThreadState_UncheckedGet();
	if (!mine || current != mine) {
		io->state = MUPPY_HERE_NOT_HOLDER;
		/* to 3.11 the current thread state is the process's: the
		 * holder's; from 3.12 it is this thread's own */
		int micro, minor = pyapi_version(api->Py_GetVersion(), &micro);

		if (minor >= 6 && minor <= 11)
			io->gil = current ? MUPPY_GIL_ELSEWHERE : MUPPY_GIL_FREE;
		return;
	}
	if (!io->in_syscall) {
		io->state = io->pc >= api->core_lo && io->pc < api->core_hi
			    ? MUPPY_HERE_RUNNING : MUPPY_HERE_IN_C;
		return;
	}
	memset(&P.reply, 0, sizeof(P.reply));
	P.reply.magic = MUPPY_PROTO_MAGIC;
	P.reply.tid = (int32_t)gettid();
	P.req.flags = io->flags & ~(uint32_t)MUPPY_REQ_GC;
	P.req.owners = io->owners;
	P.here = true;
	P.deadline_ns = now_ns() + io->timeout_ns;
	set_version(api);
	t0 = now_ns();
	summarize(api);
	P.reply.hold_ns = now_ns() - t0;
	hostile_reply();
	io->reply = (uint64_t)(uintptr_t)&P.reply;
	io->records = (uint64_t)(uintptr_t)P.out.v;
	io->records_len = P.reply.status == MUPPY_ST_OK ? P.out.len : 0;
	io->state = MUPPY_HERE_DONE;
}

/* The payload thread did not start (pthread_create's clone failed):
 * what muppy_payload_start() opened is closed again. */
EXPORT void muppy_payload_unstart(void);
void muppy_payload_unstart(void)
{
	close(P.sock);
	close(P.peer);
	if (P.tracer >= 0)
		close(P.tracer);
	P.sock = P.peer = P.tracer = -1;
}

/* After muppy_payload_here(): muppy-snap has read the records. */
EXPORT void muppy_payload_here_done(void);
void muppy_payload_here_done(void)
{
	sbuf_free(&P.out);
}

/* Waits for the request; false when muppy-snap went away or took too long. */
static bool read_request(void)
{
	size_t got = 0;
	uint64_t end = now_ns() + 10ull * 1000000000u;

	while (got < sizeof(P.req)) {
		struct pollfd pfd[2] = {
			{ .fd = P.sock, .events = POLLIN },
			{ .fd = P.tracer, .events = POLLIN }, /* ignored if -1 */
		};
		uint64_t now = now_ns();
		ssize_t n;

		if (now >= end)
			return false;
		if (poll(pfd, 2, (int)((end - now) / 1000000u) + 1) <= 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		if (pfd[1].revents && !(pfd[0].revents & POLLIN))
			return false; /* muppy-snap exited before asking */
		n = recv(P.sock, (char *)&P.req + got, sizeof(P.req) - got,
			 MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			return false;
		if (n > 0)
			got += (size_t)n;
	}
	P.deadline_ns = now_ns() + P.req.timeout_ns;
	return P.req.magic == MUPPY_PROTO_MAGIC &&
	       P.req.version == MUPPY_PROTO_VERSION;
}

/* True when muppy-snap closed its end or the deadline passed. */
static bool abandoned(void)
{
	struct pollfd pfd = { .fd = P.sock, .events = POLLRDHUP };

	if (now_ns() > P.deadline_ns)
		return true;
	return poll(&pfd, 1, 0) > 0;
}

static bool send_all(const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(P.sock, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static void fail(enum muppy_status st, const char *msg)
{
	P.reply.status = st;
	snprintf(P.reply.message, sizeof(P.reply.message), "%s", msg);
}

static bool names_put(const void *data, size_t len)
{
	return sbuf_put(&P.out, data, len);
}

#ifdef MUPPY_PAYLOAD_CHECK
/*
 * The check build plays a hostile target when the target's environment
 * variable MUPPY_PAYLOAD_HOSTILE says how (tests/reliability/
 * hostile-reply.test and hostile-text.test):
 *   rows     the reply claims 4294967295 types;
 *   name     the first type's name is 128 MiB long, and all there;
 *   flood    (own thread) 1000 types of 1 MiB names each, streamed;
 *   message  a refusal whose text has terminal escapes, bidi and
 *            zero-width characters;
 * and, when owners were asked for (tests/reliability/hostile-owners.test),
 * the owners sections are replaced by a first one that claims
 *   holders       4294967295 holders;
 *   steps         one path of 4294967295 steps;
 *   holder-count  one holder of 2 objects, of a type that has 1;
 *   holder-name   one holder whose name is 128 MiB long, and all there;
 *   sections      (the real sections) one section fewer than types asked;
 *   paths         (every section) the paths asked for, each of 10000
 *                 empty steps: 64 MiB with 16 types and --paths=100.
 */
static bool hostile(const char *how)
{
	const char *v = getenv("MUPPY_PAYLOAD_HOSTILE");

	return v && strcmp(v, how) == 0;
}

static void hostile_reply(void)
{
	if (hostile("rows"))
		P.reply.ntypes = UINT32_MAX;
	if (hostile("message"))
		fail(MUPPY_ST_INTERNAL, "\033]0;owned\007\033[2J\033[31mred "
		     "rlo\xe2\x80\xae zwsp\xe2\x80\x8b bad\xff\r\n "
		     "back\\slash");
}

/* A record whose name is len bytes of 'x'. */
static bool hostile_record(bool (*put)(const void *, size_t), size_t len)
{
	static char xs[65536];
	uint64_t one = 1;
	uint32_t n = (uint32_t)len;

	memset(xs, 'x', sizeof(xs));
	if (!put(&one, 8) || !put(&one, 8) || !put(&n, 4))
		return false;
	for (; len; len -= n) {
		n = len < sizeof(xs) ? (uint32_t)len : (uint32_t)sizeof(xs);
		if (!put(xs, n))
			return false;
	}
	return true;
}

/* flood: sends the reply and the records itself; true when it did. */
static bool hostile_flood(void)
{
	if (!hostile("flood") || P.reply.status != MUPPY_ST_OK)
		return false;
	P.reply.ntypes = 1000;
	if (send_all(&P.reply, sizeof(P.reply)))
		for (int i = 0; i < 1000 && hostile_record(send_all, 1u << 20);
		     i++)
			;
	return true;
}
#define HOSTILE_NAME(st) (hostile("name") && P.reply.ntypes == 0 && \
			  hostile_record(names_put, 128u << 20))

/* The owners sections, from offset at of P.out on, made hostile. */
static void hostile_owners(size_t at)
{
	struct muppy_owners_rec rec = { .count = 1, .bytes = 8 };
	struct __attribute__((packed)) { uint64_t id; uint32_t n; } path = {
		1, UINT32_MAX };
	bool ok = true;

	if (hostile("sections") && P.reply.nowners) {
		P.reply.nowners--;
		return;
	}
	if (hostile("paths")) { /* every path as asked, 10000 empty steps */
		rec.npaths = P.req.owners.paths;
		path.n = MUPPY_OWNERS_STEPS_MAX;
		P.out.len = at;
		for (uint32_t k = 0; ok && k < P.reply.nowners; k++) {
			ok = names_put(&rec, sizeof(rec));
			for (uint32_t i = 0; ok && i < rec.npaths; i++) {
				static const char zeros[4 * MUPPY_OWNERS_STEPS_MAX];

				ok = names_put(&path, sizeof(path)) &&
				     names_put(zeros, sizeof(zeros));
			}
		}
		if (!ok)
			fail(MUPPY_ST_NOMEM, "out of memory");
		return;
	}
	if (hostile("holders"))
		rec.nholders = UINT32_MAX;
	else if (hostile("steps"))
		rec.npaths = 1;
	else if (hostile("holder-count") || hostile("holder-name"))
		rec.nholders = 1;
	else
		return;
	P.out.len = at;
	ok = names_put(&rec, sizeof(rec));
	if (hostile("steps"))
		ok = ok && names_put(&path, sizeof(path));
	if (hostile("holder-count")) {
		uint64_t two = 2, bytes = 8;
		uint32_t len = 1;

		ok = ok && names_put(&two, 8) && names_put(&bytes, 8) &&
		     names_put(&len, 4) && names_put("x", 1);
	}
	if (hostile("holder-name"))
		ok = ok && hostile_record(names_put, 128u << 20);
	if (!ok)
		fail(MUPPY_ST_NOMEM, "out of memory");
}
#else
#define hostile_owners(at) ((void)(at))
static void hostile_reply(void)
{
}
#define hostile_flood() false
#define HOSTILE_NAME(st) false
#endif

/* Appends one record: count, bytes, name as the rows show it. */
static bool put_type(const struct pyapi *api, const struct type_stat *st)
{
	size_t at = P.out.len;
	uint32_t len;

	if (HOSTILE_NAME(st))
		return true;
	if (!names_put(&st->count, 8) || !names_put(&st->bytes, 8) ||
	    !names_put(&len, 4) || !names_type(api, &P.out, st->type))
		return false;
	len = (uint32_t)(P.out.len - at - 20);
	memcpy(P.out.v + at + 16, &len, 4);
	return true;
}

/* gc.collect(), as Pympler's muppy does (also when gc is disabled). */
static void collect(const struct pyapi *api)
{
	PyObject *r = pyapi_gc_call(api, "collect");
	Py_ssize_t n;

	if (!r)
		return;
	n = api->PyLong_AsSsize_t(r);
	api->PyErr_Clear();
	api->Py_DecRef(r);
	P.reply.gc_freed = n > 0 ? (uint64_t)n : 0;
	P.reply.gc_ran = 1;
}

/* Whether [p, p + len) is mapped and readable, asked of the kernel. */
static bool readable(uintptr_t p, size_t len)
{
	char buf[8];

	for (uintptr_t a = p; a < p + len; a = (a | 4095) + 1) {
		struct iovec local = { buf, sizeof(buf) };
		struct iovec remote = { (void *)a, sizeof(buf) };

		if (process_vm_readv(getpid(), &local, 1, &remote, 1, 0) !=
		    (ssize_t)sizeof(buf))
			return false;
	}
	return true;
}

/*
 * How many interpreters the process has (3.12+ can run several; the walk
 * counts the main one's objects, the one PyGILState_Ensure takes).  The
 * list may change meanwhile (an interpreter with a GIL of its own ends):
 * each state is checked readable before PyInterpreterState_Next reads its
 * link (somewhere in its first 16 KiB in 3.6 to 3.15), and the count is
 * bounded.  0 when not known.
 */
static uint32_t count_interpreters(const struct pyapi *api)
{
	void *p = api->PyInterpreterState_Head ?
		  api->PyInterpreterState_Head() : NULL;
	uint32_t n = 0;

	if (!api->PyInterpreterState_Next)
		return 0;
	while (p && n < 4096) {
		n++;
		if (!readable((uintptr_t)p, 16384))
			return 0;
		p = api->PyInterpreterState_Next(p);
	}
	return p ? 0 : n;
}

/* Proves the layout (layout.c); false when the walk must not run. */
static bool prove(const struct pyapi *api, struct layout *lay)
{
	PyObject *name = api->PyUnicode_InternFromString("__sizeof__");
	char why[sizeof(P.reply.message)];
	bool ok;

	if (!name) {
		api->PyErr_Clear();
		fail(MUPPY_ST_NOMEM, "out of memory");
		return false;
	}
	ok = layout_prove(api, name, lay, why, sizeof(why));
	api->Py_DecRef(name);
	snprintf(P.reply.failed, sizeof(P.reply.failed), "%s", lay->failed);
	if (!lay->verified)
		P.reply.flags |= MUPPY_RF_GENERIC;
	if (!ok)
		fail(MUPPY_ST_UNSUPPORTED, why);
	return ok;
}

/* Everything done while holding the interpreter. */
static void summarize(const struct pyapi *api)
{
	struct walk_result res;
	struct gc_roots roots;
	struct owners *own = NULL;
	struct layout lay;
	bool nomem;
	uint64_t t0;
	int r;

	pmem_limit();
	if (!prove(api, &lay))
		return;
	if (P.req.owners.ntypes) {
		own = owners_open(api, &lay, &P.req.owners, P.here, &nomem);
		if (!own) {
			fail(nomem ? MUPPY_ST_NOMEM : MUPPY_ST_UNSUPPORTED,
			     nomem ? "out of memory" : "--owners needs parts "
			     "of the C API that this Python lacks");
			return;
		}
	}
	if (P.req.flags & MUPPY_REQ_GC)
		collect(api);
	t0 = now_ns();
	if (gcroots_open(api, &lay, &roots) < 0) {
		fail(MUPPY_ST_INTERNAL, "gc.get_objects() failed");
		owners_close(own);
		return;
	}
	P.reply.frozen = roots.frozen;
	P.reply.interpreters = count_interpreters(api);
	if (roots.frozen && !roots.frozen_walked)
		P.reply.flags |= MUPPY_RF_FROZEN_MISSED;
	r = walk_heap(api, &lay, &roots, own, abandoned, &res);
	gcroots_close(api, &roots);
	P.reply.walk_ns = now_ns() - t0;
	if (r < 0) {
		owners_close(own);
		if (r == -EFAULT)
			fail(MUPPY_ST_INTERNAL, "gc.get_objects() returned a "
			     "list that could not be read");
		else if (r == -ETIMEDOUT)
			fail(MUPPY_ST_TIMEOUT, "muppy-snap stopped waiting");
		else
			fail(MUPPY_ST_NOMEM, own ?
			     "out of memory for the walk's bookkeeping: it "
			     "keeps below a quarter of the memory available, "
			     "and --owners needs about 12 bytes an object" :
			     "out of memory for the walk's bookkeeping");
		return;
	}
	P.reply.objects = res.objects;
	P.reply.bytes = res.bytes;
	P.reply.mem_peak = res.mem_peak;
	for (size_t i = 0; i < res.nstats; i++) {
		if (!put_type(api, &res.stats[i])) {
			fail(MUPPY_ST_NOMEM, "out of memory for type names");
			break;
		}
		P.reply.ntypes++;
	}
	walk_result_free(&res);
	if (own && P.reply.status == MUPPY_ST_OK) {
		size_t at = P.out.len;

		r = owners_put(own, &P.out);
		if (r < 0)
			fail(MUPPY_ST_NOMEM, "out of memory for the owners");
		else
			P.reply.nowners = (uint32_t)r;
		if (r >= 0)
			hostile_owners(at);
	}
	owners_close(own);
}

static void set_version(const struct pyapi *api)
{
	snprintf(P.reply.version, sizeof(P.reply.version), "%.*s",
		 (int)strcspn(api->Py_GetVersion(), " "), api->Py_GetVersion());
}

static bool finalizing(const struct pyapi *api)
{
	if (api->Py_IsFinalizing)
		return api->Py_IsFinalizing();
	return api->Py_Finalizing && *api->Py_Finalizing;
}

/* Why the interpreter cannot be taken now; NULL when it can. */
static const char *not_ready(const struct pyapi *api, enum muppy_status *st)
{
	*st = MUPPY_ST_UNSUPPORTED;
	if (api->free_threaded)
		return "free-threaded CPython build";
	if (api->PyEval_ThreadsInitialized &&
	    !api->PyEval_ThreadsInitialized())
		return "this Python 3.6 process never started a thread, so it "
		       "has no GIL to take";
	*st = MUPPY_ST_NOT_READY;
	if (!api->Py_IsInitialized() || finalizing(api))
		return "the interpreter is not running (starting or shutting "
		       "down)";
	return NULL;
}

static void run(void)
{
	const struct pyapi *api = &P.api;
	enum muppy_status st;
	const char *why_not;
	char why[128];
	uint64_t t0;
	int g;

	if (!pyapi_resolve(&P.api, why, sizeof(why))) {
		fail(MUPPY_ST_NOT_PYTHON, why);
		return;
	}
	why_not = not_ready(api, &st);
	if (why_not) {
		fail(st, why_not);
		return;
	}
	set_version(api);
	g = api->PyGILState_Ensure();
	t0 = now_ns();
	if (abandoned() || finalizing(api))
		fail(MUPPY_ST_TIMEOUT, "muppy-snap stopped waiting");
	else
		summarize(api);
	P.reply.hold_ns = now_ns() - t0;
	api->PyGILState_Release(g);
}

/* The payload thread's work; returns the handle of this library. */
void *payload_work(void)
{
	void *handle = NULL;
	sigset_t all;
	Dl_info info;
	bool go;

	pthread_detach(pthread_self()); /* see muppy_payload_start */
	/* Signals are for the target's own threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);

	go = read_request();
	close(P.peer); /* muppy-snap has its own copy by now, or is gone */
	P.reply.magic = MUPPY_PROTO_MAGIC;
	P.reply.tid = (int32_t)gettid();
	if (go) {
		run();
		hostile_reply();
		if (!hostile_flood() && send_all(&P.reply, sizeof(P.reply)) &&
		    P.reply.status == MUPPY_ST_OK)
			send_all(P.out.v, P.out.len);
	}
	close(P.sock);
	if (P.tracer >= 0)
		close(P.tracer);
	sbuf_free(&P.out);

	dladdr1((void *)payload_work, &info, &handle, RTLD_DL_LINKMAP);
	return handle;
}
