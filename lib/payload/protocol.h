/* SPDX-License-Identifier: MIT */
/*
 * What muppy-snap and its payload say to each other.
 *
 * 1. The injector calls muppy_payload_start(struct muppy_start_out *) on a
 *    seized thread.  It creates a socketpair and a detached thread, and
 *    leaves the tracer's end of the pair and the thread's id in *out.  It
 *    returns by tail-calling pthread_create, so that thread never runs our
 *    code again.
 *    If no thread started (pthread_create stores the thread's id before its
 *    clone fails: muppy-snap sees no new task), muppy-snap calls
 *    muppy_payload_unstart() to close what this step opened.
 * 2. muppy-snap takes its end of the pair out of the target (pidfd_getfd),
 *    detaches, and sends one struct muppy_request.
 * 3. The payload thread closes the target's copy of that end, takes the
 *    interpreter, walks the heap, releases it, and sends one
 *    struct muppy_reply followed by `ntypes` records:
 *        uint64_t count; uint64_t bytes; uint32_t len; char name[len];
 *    then, when the request asked for owners, one owners section per type
 *    asked for, in the order asked (see struct muppy_owners_req),
 *    then closes its end and unloads the library it runs from.
 * All integers are in the host's byte order: both sides run on one machine.
 *
 * Through the holder.  Before that, muppy-snap calls
 * muppy_payload_here(struct muppy_here_io *) on the seized thread.  If
 * that thread holds the GIL while stopped in a system call (C code that
 * blocks without releasing it: uWSGI's default setup, a C extension, a
 * ctypes.PyDLL call), no thread of ours could ever get the interpreter:
 * the payload walks the heap right there, inside that thread's own GIL,
 * and leaves the reply and the records in its own memory for muppy-snap
 * to read; muppy-snap then calls muppy_payload_here_done() and unloads
 * the library.  Otherwise it says what it found and does nothing.
 */
#ifndef MUPPY_PROTOCOL_H
#define MUPPY_PROTOCOL_H

#include <stdint.h>

#define MUPPY_PAYLOAD_START "muppy_payload_start"
#define MUPPY_PAYLOAD_INIT_THREADS "muppy_payload_init_threads"
#define MUPPY_PAYLOAD_HERE "muppy_payload_here"
#define MUPPY_PAYLOAD_HERE_DONE "muppy_payload_here_done"
#define MUPPY_PAYLOAD_UNSTART "muppy_payload_unstart"
#define MUPPY_PROTO_MAGIC 0x6d757070u /* "mupp" */
#define MUPPY_PROTO_VERSION 3u

/*
 * The target is untrusted: it can answer anything.  muppy-snap takes at
 * most this many records, names of this many bytes, and this many bytes
 * of records in all (headers and names), whichever path they come by; it
 * refuses an answer that claims more before it allocates or reads any of
 * it, and one with a count or byte total above 2^63 - 1.  CPython's type
 * names are far shorter (the tests use one of 100 kB), and a heap with a
 * million types would take gigabytes.
 */
#define MUPPY_ANSWER_TYPES_MAX 1000000u
#define MUPPY_ANSWER_NAME_MAX (1u << 20)
#define MUPPY_ANSWER_BYTES_MAX (64u << 20)

struct muppy_start_out {
	int32_t status; /* 0, or an errno value from the setup */
	int32_t sock;   /* the tracer's end of the socketpair, in the target */
	uint64_t thread; /* pthread_t of the payload thread; 0 if none */
};

/*
 * Python 3.6 creates its GIL only when a program starts its first thread
 * (bpo-20891).  In such a process muppy-snap first calls
 * muppy_payload_init_threads(struct muppy_threads_io *) on the seized
 * thread, which creates the GIL the way starting a thread would, if that
 * thread is the Python thread and is either running Python (it holds the
 * interpreter) or blocked in a system call (in_syscall, from registers).
 */
struct muppy_threads_io {
	int32_t in_syscall; /* in: the thread was stopped in a system call */
	int32_t status;     /* out: 0 done or not needed, EAGAIN not now,
			       ENOENT not the Python thread */
};

enum {
	MUPPY_REQ_GC = 1u << 0, /* run a full collection before the walk */
};

enum muppy_here {
	MUPPY_HERE_NOT_HOLDER = 0, /* this thread does not hold the GIL */
	MUPPY_HERE_DONE,           /* walked here: read reply and records */
	MUPPY_HERE_RUNNING,        /* holds it outside a system call, in the
				      interpreter's own code: it lets go of
				      it when another thread asks */
	MUPPY_HERE_IN_C,           /* holds it outside a system call, in
				      code outside the interpreter: a C loop
				      that may keep it for long */
	MUPPY_HERE_UNUSABLE,       /* no usable interpreter: let the payload
				      thread say why */
};

enum muppy_gil {
	MUPPY_GIL_UNKNOWN = 0, /* 3.12+: the current thread state is per thread */
	MUPPY_GIL_FREE,        /* no thread holds it (3.6 to 3.11) */
	MUPPY_GIL_ELSEWHERE,   /* another thread holds it (3.6 to 3.11) */
};

/*
 * Who holds the objects of some types (muppy-snap --owners).  The reply's
 * type records are then followed, per type asked for, by
 *     struct muppy_owners_rec;
 *     nholders x { uint64_t count; uint64_t bytes; uint32_t len;
 *                  char name[len]; }
 *     npaths x { uint64_t id; uint32_t nsteps;
 *                nsteps x { uint32_t len; char text[len]; } }
 * with the same limits as the type records (their bytes count towards
 * MUPPY_ANSWER_BYTES_MAX), and at most MUPPY_OWNERS_HOLDERS_MAX holders,
 * paths as asked, MUPPY_OWNERS_STEPS_MAX steps a path and
 * MUPPY_OWNERS_ALL_STEPS_MAX steps in all the paths of the answer (each
 * step is a string muppy-snap keeps: 64 MiB of empty steps would cost it
 * ten times as much; the payload leaves out the paths beyond).
 */
#define MUPPY_OWNERS_TYPES_MAX 16u
#define MUPPY_OWNERS_NAMES_MAX 4096u
#define MUPPY_OWNERS_PATHS_MAX 100u
#define MUPPY_OWNERS_HOLDERS_MAX 100000u
#define MUPPY_OWNERS_STEPS_MAX 10000u
#define MUPPY_OWNERS_ALL_STEPS_MAX 200000u

struct muppy_owners_req {
	uint32_t ntypes;  /* 0: no owners asked for */
	uint32_t paths;   /* sample paths a type, at most ..._PATHS_MAX */
	char names[MUPPY_OWNERS_NAMES_MAX]; /* ntypes names, each ended by a
					       NUL, as the rows name them
					       (raw bytes, not escaped) */
};

struct muppy_owners_rec {
	uint64_t count;        /* objects of the type */
	uint64_t bytes;
	uint64_t shared;       /* of them, with more than one holder */
	uint64_t unreachable;  /* of them, with no path from a module */
	uint32_t nholders;
	uint32_t npaths;
};

struct muppy_here_io {
	int32_t in_syscall;   /* in: stopped inside a system call */
	uint32_t flags;       /* in: MUPPY_REQ_* */
	uint64_t timeout_ns;  /* in: as in struct muppy_request */
	uint64_t pc;          /* in: where the thread was stopped */
	int32_t state;        /* out: enum muppy_here */
	int32_t gil;          /* out (NOT_HOLDER): enum muppy_gil */
	uint64_t reply;       /* out (DONE): address of a struct muppy_reply */
	uint64_t records;     /* out (DONE): address of the records */
	uint64_t records_len; /* out (DONE): their length in bytes */
	struct muppy_owners_req owners; /* in: as in struct muppy_request */
};

struct muppy_request {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t pad;
	uint64_t timeout_ns;  /* give up this long after receiving this; a
				 duration, since the target's CLOCK_MONOTONIC
				 differs from ours in another time namespace */
	struct muppy_owners_req owners;
};

enum muppy_status {
	MUPPY_ST_OK = 0,
	MUPPY_ST_NOT_PYTHON,    /* the C API is missing from the process */
	MUPPY_ST_NOT_READY,     /* not initialized, or finalizing */
	MUPPY_ST_UNSUPPORTED,   /* e.g. a free-threaded build */
	MUPPY_ST_TIMEOUT,       /* the interpreter was not free in time */
	MUPPY_ST_NOMEM,
	MUPPY_ST_INTERNAL,
	MUPPY_ST_BUSY,          /* another muppy-snap payload is active */
};

enum {
	MUPPY_RF_GENERIC = 1u << 0,   /* a version newer than those verified:
					 only what the checks proved was used */
	MUPPY_RF_FROZEN_MISSED = 1u << 1, /* the permanent generation was not
					 found: frozen objects not walked */
};

struct muppy_reply {
	uint32_t magic;
	uint32_t status;      /* enum muppy_status */
	uint64_t objects;
	uint64_t bytes;
	uint64_t gc_freed;
	uint64_t hold_ns;     /* time the interpreter was held */
	uint64_t walk_ns;     /* of which the walk itself */
	uint64_t mem_peak;    /* bookkeeping bytes the payload used at most */
	uint32_t ntypes;
	uint32_t gc_ran;
	int32_t tid;          /* the payload thread, to wait for its exit */
	uint32_t pad;
	char version[32];     /* "3.11.2" */
	char message[160];    /* detail for a status other than OK */
	uint64_t frozen;      /* gc.get_freeze_count() */
	uint32_t flags;       /* MUPPY_RF_* */
	uint32_t interpreters; /* interpreters in the process; 0 unknown */
	char failed[96];      /* layout checks that failed, comma-separated */
	uint32_t nowners;     /* owners sections after the type records */
	uint32_t pad2;
};

#endif
