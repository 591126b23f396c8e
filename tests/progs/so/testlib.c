/* SPDX-License-Identifier: MIT */
/*
 * Library injected by the injector's tests.  muppy_test_call() gets a
 * pointer to the call's scratch area (struct testlib_io, see injtool.c),
 * reads the nonce there and writes its answers back.  It creates no
 * thread and keeps nothing allocated, so the target's mappings are the
 * same after it is unloaded.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

struct testlib_io {
	uint64_t nonce;       /* in */
	uint64_t magic;       /* out: TESTLIB_MAGIC */
	uint64_t echo;        /* out: ~nonce */
	int32_t pid, tid;     /* out: getpid(), gettid() in the target */
	int32_t ctor, calls;  /* out: constructor ran, calls so far */
	int32_t malloc_ok, pad;
};

#define TESTLIB_MAGIC UINT64_C(0x6d75707079746c31)

static int ctor_ran;
/* set by the injector before any call (lib/inject/inject.h) */
__attribute__((visibility("default"))) int muppy_inject_entered;
static int ncalls;

__attribute__((constructor)) static void testlib_init(void)
{
	ctor_ran = 1;
}

__attribute__((visibility("default"))) void muppy_test_call(struct testlib_io *io);

void muppy_test_call(struct testlib_io *io)
{
	char *p = malloc(200);

	io->magic = TESTLIB_MAGIC;
	io->echo = ~io->nonce;
	io->pid = (int32_t)getpid();
	io->tid = (int32_t)syscall(SYS_gettid);
	io->ctor = ctor_ran;
	io->calls = ++ncalls;
	io->malloc_ok = p != NULL;
	errno = ENOTRECOVERABLE; /* the injector must put the thread's back */
	if (p) {
		memset(p, 0x5a, 200);
		io->malloc_ok = p[199] == 0x5a;
		free(p);
	}
}

/* Crashes on purpose (tests that a crash in a call is survived). */
__attribute__((visibility("default"))) void muppy_test_crash(struct testlib_io *io);

void muppy_test_crash(struct testlib_io *io)
{
	static volatile int *volatile nowhere;

	(void)io;
	*nowhere = 1;
}

/*
 * As muppy_test_call, and sends the calling thread a signal: it arrives
 * while the thread is seized (signals are blocked during a call), as one
 * sent by anyone during an injection would.
 */
__attribute__((visibility("default"))) void muppy_test_call_usr1(struct testlib_io *io);
__attribute__((visibility("default"))) void muppy_test_call_sigint(struct testlib_io *io);

void muppy_test_call_usr1(struct testlib_io *io)
{
	muppy_test_call(io);
	syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1);
}

void muppy_test_call_sigint(struct testlib_io *io)
{
	muppy_test_call(io);
	syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGINT);
}
