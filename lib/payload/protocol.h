/* SPDX-License-Identifier: MIT */
/*
 * What muppy-snap and its payload say to each other.
 *
 * 1. The injector calls muppy_payload_start(struct muppy_start_out *) on a
 *    seized thread.  It creates a socketpair and a detached thread, and
 *    leaves the tracer's end of the pair and the thread's id in *out.  It
 *    returns by tail-calling pthread_create, so that thread never runs our
 *    code again.
 * 2. muppy-snap takes its end of the pair out of the target (pidfd_getfd),
 *    detaches, and sends one struct muppy_request.
 * 3. The payload thread closes the target's copy of that end, takes the
 *    interpreter, walks the heap, releases it, and sends one
 *    struct muppy_reply followed by `ntypes` records:
 *        uint64_t count; uint64_t bytes; uint32_t len; char name[len];
 *    then closes its end and unloads the library it runs from.
 * All integers are in the host's byte order: both sides run on one machine.
 */
#ifndef MUPPY_PROTOCOL_H
#define MUPPY_PROTOCOL_H

#include <stdint.h>

#define MUPPY_PAYLOAD_START "muppy_payload_start"
#define MUPPY_PAYLOAD_INIT_THREADS "muppy_payload_init_threads"
#define MUPPY_PROTO_MAGIC 0x6d757070u /* "mupp" */
#define MUPPY_PROTO_VERSION 2u

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

struct muppy_request {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t pad;
	uint64_t timeout_ns;  /* give up this long after receiving this; a
				 duration, since the target's CLOCK_MONOTONIC
				 differs from ours in another time namespace */
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
};

#endif
